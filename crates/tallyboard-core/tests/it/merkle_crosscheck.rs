//! Roots and proofs for every tree size 1..=1100 agree with two independent
//! implementations: `ct-merkle` (in-memory RFC 6962 tree) and `tlog_tiles`
//! (a Rust port of Go's `golang.org/x/mod/sumdb/tlog`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use sha2::Sha256;
use tallyboard_core::merkle::{
    self, HashReader, TreeBuilder, prove_consistency, prove_inclusion, stored_hash_count,
    tree_hash_from_reader, verify_consistency, verify_inclusion,
};
use tallyboard_core::{Hash, leaf_hash};

const MAX_SIZE: u64 = 1100;

fn entry(i: u64) -> Vec<u8> {
    format!("tally entry {i}").into_bytes()
}

fn hashes_of(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks(32)
        .map(|c| Hash::from_slice(c).unwrap())
        .collect()
}

/// tlog_tiles' stored hashes, built only with tlog_tiles code.
struct TlogStore(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TlogStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

fn to_tlog(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

fn from_tlog(h: &tlog_tiles::Hash) -> Hash {
    Hash(h.0)
}

/// Inclusion proofs are checked for every index on these sizes.
fn all_indexes(n: u64) -> bool {
    n <= 130
        || n.is_multiple_of(61)
        || n.is_power_of_two()
        || (n + 1).is_power_of_two()
        || n == MAX_SIZE
}

/// Every older size for trees up to 128 leaves; a sample above.
fn sampled_old_sizes(n: u64) -> Vec<u64> {
    if n <= 128 {
        return (1..=n).collect();
    }
    let mut v = vec![1, n / 2, n - 1, n, (n * 7) / 11, (n * 3) / 5 + 1];
    let mut p = 1;
    while p < n {
        v.push(p);
        v.push(p + 1);
        p *= 2;
    }
    v.retain(|&m| m >= 1 && m <= n);
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn roots_and_proofs_agree_with_ct_merkle_and_tlog_tiles_for_every_size_up_to_1100() {
    let mut ct: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
    let mut builder = TreeBuilder::new();
    let mut ours: Vec<Hash> = Vec::new(); // our stored hashes
    let mut theirs = TlogStore(Vec::new()); // tlog_tiles' stored hashes
    let mut leaves = Vec::new();
    let mut roots = vec![Hash::EMPTY_TREE];
    let mut inclusion_checked = 0u64;
    let mut consistency_checked = 0u64;

    for n in 1..=MAX_SIZE {
        let i = n - 1;
        let e = entry(i);
        let lh = leaf_hash(&e);
        leaves.push(lh);
        ct.push(e.clone());
        ours.extend_from_slice(builder.push(lh).unwrap());
        let added = tlog_tiles::stored_hashes(i, &e, &theirs).unwrap();
        theirs.0.extend(added);

        // Stored hash layouts are identical.
        assert_eq!(ours.len() as u64, stored_hash_count(n));
        assert_eq!(theirs.0.len(), ours.len());
        assert_eq!(ours.last().map(to_tlog), theirs.0.last().copied());

        // Roots: reference recursion, streaming builder, reader, ct-merkle, tlog_tiles.
        let root = merkle::tree_hash(&leaves);
        assert_eq!(builder.root(), root, "builder root at size {n}");
        assert_eq!(tree_hash_from_reader(n, &ours).unwrap(), root);
        assert_eq!(
            ct.root().as_bytes().as_slice(),
            root.as_bytes(),
            "ct-merkle root at {n}"
        );
        assert_eq!(from_tlog(&tlog_tiles::tree_hash(n, &theirs).unwrap()), root);
        roots.push(root);

        // Inclusion proofs.
        let indexes: Vec<u64> = if all_indexes(n) {
            (0..n).collect()
        } else {
            vec![0, n / 3, n / 2, n - 1]
        };
        for idx in indexes {
            let proof = prove_inclusion(n, idx, &ours).unwrap();
            let ct_proof = hashes_of(ct.prove_inclusion(idx as usize).as_bytes());
            let tl_proof: Vec<Hash> = tlog_tiles::prove_record(n, idx, &theirs)
                .unwrap()
                .iter()
                .map(from_tlog)
                .collect();
            assert_eq!(proof, ct_proof, "inclusion {idx} in {n} vs ct-merkle");
            assert_eq!(proof, tl_proof, "inclusion {idx} in {n} vs tlog_tiles");
            assert_eq!(Some(proof.clone()), merkle::inclusion_proof(&leaves, idx));
            verify_inclusion(&leaves[idx as usize], idx, n, &proof, &root).unwrap();
            tlog_tiles::check_record(
                &to_tlog_vec(&proof),
                n,
                to_tlog(&root),
                idx,
                to_tlog(&leaves[idx as usize]),
            )
            .unwrap();
            inclusion_checked += 1;
        }

        // Consistency proofs from sampled older sizes.
        for m in sampled_old_sizes(n) {
            let proof = prove_consistency(m, n, &ours).unwrap();
            let tl_proof: Vec<Hash> = tlog_tiles::prove_tree(n, m, &theirs)
                .unwrap()
                .iter()
                .map(from_tlog)
                .collect();
            assert_eq!(proof, tl_proof, "consistency {m}->{n} vs tlog_tiles");
            if m < n {
                let ct_proof = hashes_of(ct.prove_consistency((n - m) as usize).as_bytes());
                assert_eq!(proof, ct_proof, "consistency {m}->{n} vs ct-merkle");
            }
            assert_eq!(Some(proof.clone()), merkle::consistency_proof(&leaves, m));
            let old_root = roots[m as usize];
            verify_consistency(m, n, &old_root, &root, &proof).unwrap();
            tlog_tiles::check_tree(
                &to_tlog_vec(&proof),
                n,
                to_tlog(&root),
                m,
                to_tlog(&old_root),
            )
            .unwrap();
            consistency_checked += 1;
        }
    }
    assert!(inclusion_checked > 25_000, "{inclusion_checked}");
    assert!(consistency_checked > 15_000, "{consistency_checked}");
}

fn to_tlog_vec(p: &[Hash]) -> Vec<tlog_tiles::Hash> {
    p.iter().map(to_tlog).collect()
}

#[test]
fn reader_errors_are_reported_not_panicked() {
    struct Short;
    impl HashReader for Short {
        type Error = merkle::NotStored;
        fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, merkle::NotStored> {
            Ok(vec![])
        }
    }
    assert!(matches!(
        tree_hash_from_reader(5, &Short),
        Err(merkle::TreeError::WrongHashCount {
            requested: 2,
            got: 0
        })
    ));
    let empty: Vec<Hash> = Vec::new();
    assert!(matches!(
        prove_inclusion(5, 1, &empty),
        Err(merkle::TreeError::Read(merkle::NotStored(_)))
    ));
    assert!(matches!(
        prove_inclusion(5, 5, &empty),
        Err(merkle::TreeError::IndexOutOfRange {
            index: 5,
            tree_size: 5
        })
    ));
    assert!(matches!(
        prove_consistency(0, 5, &empty),
        Err(merkle::TreeError::InvalidSizes { .. })
    ));
    assert!(matches!(
        prove_consistency(6, 5, &empty),
        Err(merkle::TreeError::InvalidSizes { .. })
    ));
}

#[test]
fn builder_resumes_from_subtree_roots_and_from_storage() {
    let mut b = TreeBuilder::new();
    let mut stored = Vec::new();
    for i in 0..1000u64 {
        stored.extend_from_slice(b.push(leaf_hash(&entry(i))).unwrap());
    }
    let mut resumed = TreeBuilder::from_subtree_roots(b.size(), b.subtree_roots()).unwrap();
    let mut from_store = TreeBuilder::from_reader(1000, &stored).unwrap();
    assert_eq!(resumed.root(), b.root());
    assert_eq!(from_store.root(), b.root());
    for i in 1000..1100u64 {
        let h = leaf_hash(&entry(i));
        let want = b.push(h).unwrap().to_vec();
        assert_eq!(resumed.push(h).unwrap(), want.as_slice());
        assert_eq!(from_store.push(h).unwrap(), want.as_slice());
    }
    assert_eq!(resumed.root(), b.root());
    assert!(TreeBuilder::from_subtree_roots(3, &[Hash::EMPTY_TREE]).is_err());
}
