//! Property tests: proofs for random tree sizes and leaves verify, and every
//! tampered variant (a flipped bit, another index, another tree size, a
//! hash added or removed, swapped roots) is rejected. Tile paths, hash
//! tiles and entry bundles parse only their canonical encodings and never
//! panic on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use tallyboard_core::merkle::{
    ProofError, TreeBuilder, prove_consistency, prove_inclusion, verify_consistency,
    verify_inclusion,
};
use tallyboard_core::tile::{BundleId, EntryBundle, HashTile, TileId, TilePath};
use tallyboard_core::{Hash, leaf_hash};

const MAX_N: u64 = 5000;

struct Tree {
    leaves: Vec<Hash>,
    stored: Vec<Hash>,
    /// roots[n] is the root of the first n leaves.
    roots: Vec<Hash>,
}

fn tree() -> &'static Tree {
    static T: OnceLock<Tree> = OnceLock::new();
    T.get_or_init(|| {
        let mut b = TreeBuilder::new();
        let mut t = Tree {
            leaves: Vec::new(),
            stored: Vec::new(),
            roots: vec![Hash::EMPTY_TREE],
        };
        for i in 0..MAX_N {
            let h = leaf_hash(format!("entry {i}").as_bytes());
            t.leaves.push(h);
            t.stored.extend_from_slice(b.push(h).unwrap());
            t.roots.push(b.root());
        }
        t
    })
}

fn wrong_len(r: Result<(), ProofError>) -> bool {
    matches!(r, Err(ProofError::WrongProofLength { .. }))
}

fn flip(proof: &mut [Hash], which: usize, bit: usize) {
    let k = which % proof.len();
    proof[k].0[(bit / 8) % 32] ^= 1 << (bit % 8);
}

/// A tree size and a leaf index inside it.
fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1..=MAX_N).prop_flat_map(|n| (Just(n), 0..n))
}

/// Two sizes `1 <= m <= n`.
fn two_sizes() -> impl Strategy<Value = (u64, u64)> {
    (1..=MAX_N).prop_flat_map(|n| (1..=n, Just(n)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_proofs_verify((n, i) in size_and_index()) {
        let t = tree();
        let p = prove_inclusion(n, i, &t.stored).unwrap();
        prop_assert_eq!(verify_inclusion(&t.leaves[i as usize], i, n, &p, &t.roots[n as usize]), Ok(()));
    }

    #[test]
    fn inclusion_rejects_a_flipped_bit((n, i) in size_and_index(), which in any::<usize>(), bit in 0usize..256) {
        let t = tree();
        let mut p = prove_inclusion(n, i, &t.stored).unwrap();
        let root = t.roots[n as usize];
        if p.is_empty() {
            // A one-leaf tree: flip the leaf itself instead.
            let mut leaf = t.leaves[i as usize];
            leaf.0[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(verify_inclusion(&leaf, i, n, &p, &root), Err(ProofError::RootMismatch));
        } else {
            flip(&mut p, which, bit);
            prop_assert_eq!(verify_inclusion(&t.leaves[i as usize], i, n, &p, &root), Err(ProofError::RootMismatch));
        }
    }

    #[test]
    fn inclusion_rejects_another_index((n, i) in size_and_index(), j in 0..MAX_N) {
        let t = tree();
        let j = j % n;
        prop_assume!(j != i);
        let p = prove_inclusion(n, i, &t.stored).unwrap();
        prop_assert!(verify_inclusion(&t.leaves[i as usize], j, n, &p, &t.roots[n as usize]).is_err());
        // Nor does another leaf verify at this index with this proof.
        prop_assert!(verify_inclusion(&t.leaves[j as usize], i, n, &p, &t.roots[n as usize]).is_err());
    }

    #[test]
    fn inclusion_rejects_another_tree_size((n, i) in size_and_index(), n2 in 1..=MAX_N) {
        let t = tree();
        prop_assume!(n2 != n && i < n2);
        let p = prove_inclusion(n, i, &t.stored).unwrap();
        // Checked against the genuine root of the other size.
        prop_assert!(verify_inclusion(&t.leaves[i as usize], i, n2, &p, &t.roots[n2 as usize]).is_err());
    }

    #[test]
    fn inclusion_rejects_an_added_or_removed_hash((n, i) in size_and_index(), pos in any::<usize>()) {
        let t = tree();
        let p = prove_inclusion(n, i, &t.stored).unwrap();
        let root = t.roots[n as usize];
        let leaf = t.leaves[i as usize];
        let mut longer = p.clone();
        longer.insert(pos % (p.len() + 1), root);
        prop_assert!(wrong_len(verify_inclusion(&leaf, i, n, &longer, &root)));
        if !p.is_empty() {
            let mut shorter = p.clone();
            shorter.remove(pos % p.len());
            prop_assert!(wrong_len(verify_inclusion(&leaf, i, n, &shorter, &root)));
        }
    }

    #[test]
    fn consistency_proofs_verify((m, n) in two_sizes()) {
        let t = tree();
        let p = prove_consistency(m, n, &t.stored).unwrap();
        prop_assert_eq!(m == n, p.is_empty());
        prop_assert_eq!(verify_consistency(m, n, &t.roots[m as usize], &t.roots[n as usize], &p), Ok(()));
    }

    #[test]
    fn consistency_rejects_a_flipped_bit((m, n) in two_sizes(), which in any::<usize>(), bit in 0usize..256) {
        let t = tree();
        prop_assume!(m < n);
        let mut p = prove_consistency(m, n, &t.stored).unwrap();
        flip(&mut p, which, bit);
        let r = verify_consistency(m, n, &t.roots[m as usize], &t.roots[n as usize], &p);
        prop_assert!(matches!(r, Err(ProofError::OldRootMismatch | ProofError::NewRootMismatch)), "{:?}", r);
    }

    #[test]
    fn consistency_rejects_other_sizes((m, n) in two_sizes(), m2 in 1..=MAX_N, n2 in 1..=MAX_N) {
        let t = tree();
        prop_assume!(m < n);
        let p = prove_consistency(m, n, &t.stored).unwrap();
        let (rm, rn) = (t.roots[m as usize], t.roots[n as usize]);
        if m2 != m && m2 <= n {
            prop_assert!(verify_consistency(m2, n, &t.roots[m2 as usize], &rn, &p).is_err());
        }
        if n2 != n && m <= n2 {
            prop_assert!(verify_consistency(m, n2, &rm, &t.roots[n2 as usize], &p).is_err());
        }
        // Swapped roots.
        prop_assert!(verify_consistency(m, n, &rn, &rm, &p).is_err());
        // Swapped sizes.
        let r = verify_consistency(n, m, &rn, &rm, &p);
        prop_assert!(m == n || matches!(r, Err(ProofError::OldSizeAboveNewSize { .. })), "{:?}", r);
    }

    #[test]
    fn consistency_rejects_an_added_or_removed_hash((m, n) in two_sizes(), pos in any::<usize>()) {
        let t = tree();
        let p = prove_consistency(m, n, &t.stored).unwrap();
        let (rm, rn) = (t.roots[m as usize], t.roots[n as usize]);
        let mut longer = p.clone();
        longer.insert(pos % (p.len() + 1), rn);
        prop_assert!(wrong_len(verify_consistency(m, n, &rm, &rn, &longer)));
        if !p.is_empty() {
            let mut shorter = p.clone();
            shorter.remove(pos % p.len());
            prop_assert!(wrong_len(verify_consistency(m, n, &rm, &rn, &shorter)));
        }
    }

    #[test]
    fn verification_never_panics(
        leaf in any::<[u8; 32]>(), index in any::<u64>(), size in any::<u64>(),
        old in any::<u64>(), proof in proptest::collection::vec(any::<[u8; 32]>(), 0..140),
    ) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
        let h = Hash(leaf);
        let _ = verify_inclusion(&h, index, size, &proof, &h);
        let _ = verify_consistency(old, size, &h, &h, &proof);
        let _ = verify_inclusion(&h, index % size.max(1), size % (1 << 20), &proof, &h);
        let _ = verify_consistency(old % (1 << 20), size % (1 << 20), &h, &h, &proof);
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256, small in 0u64..5000) {
        for index in [index, small] {
            let t = TileId::new(level, index, width).unwrap();
            prop_assert_eq!(TileId::parse(&t.path()), Ok(t));
            prop_assert_eq!(TilePath::parse(&t.to_string()), Ok(TilePath::Hashes(t)));
            let b = BundleId::new(index, width).unwrap();
            prop_assert_eq!(BundleId::parse(&b.path()), Ok(b));
        }
    }

    #[test]
    fn tile_paths_parse_only_canonical_text(s in "tile/(entries|[0-9]{1,3})/(x[0-9]{3}/){0,7}[0-9x]{1,4}(\\.p/[0-9]{1,4})?") {
        if let Ok(p) = TilePath::parse(&s) {
            prop_assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn mutated_tile_paths_parse_only_canonical_text(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256, pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = TileId::new(level, index, width).unwrap().path().into_bytes();
        let k = pos % bytes.len();
        bytes[k] = byte;
        if let Ok(s) = String::from_utf8(bytes)
            && let Ok(p) = TilePath::parse(&s)
        {
            prop_assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn bundles_and_tiles_parse_only_their_encoding(bytes in proptest::collection::vec(any::<u8>(), 0..2000), width in 0u16..=300) {
        if let Ok(b) = EntryBundle::from_bytes(&bytes, width) {
            prop_assert_eq!(b.width(), width);
            prop_assert_eq!(b.to_bytes(), bytes.clone());
        }
        if let Ok(t) = HashTile::from_bytes(&bytes, width) {
            prop_assert_eq!(t.width(), width);
            prop_assert_eq!(t.to_bytes(), bytes);
        }
    }

    #[test]
    fn bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let b = EntryBundle::new(entries.clone()).unwrap();
        let bytes = b.to_bytes();
        prop_assert_eq!(EntryBundle::from_bytes(&bytes, b.width()), Ok(b.clone()));
        prop_assert_eq!(b.entries(), entries.as_slice());
        // One byte more or less is never the same bundle.
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(EntryBundle::from_bytes(&longer, b.width()).is_err());
        prop_assert!(EntryBundle::from_bytes(&bytes[..bytes.len() - 1], b.width()).is_err());
    }
}

#[test]
fn no_other_index_verifies_with_a_proof_in_small_trees() {
    // Exhaustive over small trees: a proof for leaf i proves nothing about
    // any other index, for every pair.
    let t = tree();
    let mut checked = 0;
    for n in 1..=70u64 {
        let root = t.roots[n as usize];
        for i in 0..n {
            let p = prove_inclusion(n, i, &t.stored).unwrap();
            for j in (0..n).filter(|&j| j != i) {
                assert!(verify_inclusion(&t.leaves[i as usize], j, n, &p, &root).is_err());
                checked += 1;
            }
        }
    }
    assert!(checked > 100_000);
}
