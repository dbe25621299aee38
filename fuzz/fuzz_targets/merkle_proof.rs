//! RFC 6962 / RFC 9162 inclusion and consistency proof verification on
//! arbitrary and on mutated honest proofs.
//!
//! Asserts: `verify_inclusion` and `verify_consistency` never panic; they
//! accept exactly when `tlog_tiles`' independent `check_record` /
//! `check_tree` accept (trees above our size cap aside); an honest proof
//! (recomputed from the leaves) always verifies, and for honest sizes,
//! leaf and roots the only proof that verifies is the recomputed one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::limits::MAX_TREE_SIZE;
use tallyboard_core::merkle::{
    consistency_proof, inclusion_proof, tree_hash, verify_consistency, verify_inclusion,
};

/// Largest tree built from the leaves; bigger claimed sizes come from `a`/`b`.
const MAX_LEAVES: u64 = 300;

fn th(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

fn tp(p: &[Hash]) -> Vec<tlog_tiles::Hash> {
    p.iter().map(th).collect()
}

fn hashes(raw: &[u8]) -> Vec<Hash> {
    raw.chunks_exact(32).filter_map(Hash::from_slice).collect()
}

fuzz_target!(|input: (u16, u8, u64, u64, u8, u16, &[u8])| {
    let (n, salt, a, b, mode, flip, raw) = input;
    let size = u64::from(n) % (MAX_LEAVES + 1);
    let leaves: Vec<Hash> = (0..size)
        .map(|i| leaf_hash(&[&[salt][..], &i.to_be_bytes()].concat()))
        .collect();
    let root = tree_hash(&leaves);

    // ---- inclusion ----
    let index = if mode & 1 == 0 { a % (size + 1) } else { a };
    let claimed_size = if mode & 2 == 0 { size } else { b };
    let honest_proof = inclusion_proof(&leaves, index);
    let mut proof = match (&honest_proof, mode & 4) {
        (Some(p), 0) => p.clone(),
        _ => hashes(raw),
    };
    if mode & 8 != 0 && !proof.is_empty() {
        let bit = usize::from(flip) % (proof.len() * 256);
        proof[bit / 256].0[(bit % 256) / 8] ^= 1 << (bit % 8);
    }
    let leaf = usize::try_from(index)
        .ok()
        .and_then(|i| leaves.get(i).copied())
        .unwrap_or_else(|| leaf_hash(raw));
    let ours = verify_inclusion(&leaf, index, claimed_size, &proof, &root);
    if claimed_size <= MAX_TREE_SIZE && index < claimed_size {
        let theirs =
            tlog_tiles::check_record(&tp(&proof), claimed_size, th(&root), index, th(&leaf));
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "inclusion verdicts differ: ours {ours:?}, tlog_tiles {theirs:?}"
        );
    } else {
        assert!(ours.is_err());
    }
    if claimed_size == size && index < size {
        let honest = honest_proof.as_deref().expect("index is in the tree");
        assert_eq!(
            ours.is_ok(),
            proof == honest,
            "only the honest proof verifies"
        );
    }

    // ---- consistency ----
    let old = if mode & 16 == 0 { b % (size + 1) } else { b };
    let new = if mode & 32 == 0 { size } else { a };
    let old_leaves = usize::try_from(old).ok().and_then(|o| leaves.get(..o));
    let old_root = old_leaves.map_or_else(|| Hash::sha256(raw), tree_hash);
    let honest_proof = consistency_proof(&leaves, old);
    let mut proof = match (&honest_proof, mode & 64) {
        (Some(p), 0) => p.clone(),
        _ => hashes(raw),
    };
    if mode & 128 != 0 && !proof.is_empty() {
        let bit = usize::from(flip) % (proof.len() * 256);
        proof[bit / 256].0[(bit % 256) / 8] ^= 1 << (bit % 8);
    }
    let ours = verify_consistency(old, new, &old_root, &root, &proof);
    if new <= MAX_TREE_SIZE && old >= 1 && old <= new {
        let theirs = tlog_tiles::check_tree(&tp(&proof), new, th(&root), old, th(&old_root));
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "consistency verdicts differ: ours {ours:?}, tlog_tiles {theirs:?}"
        );
    }
    if old > new || new > MAX_TREE_SIZE {
        assert!(ours.is_err());
    }
    if new == size && old <= size && old_leaves.is_some() {
        if old == 0 {
            assert_eq!(ours.is_ok(), proof.is_empty());
        } else {
            let honest = honest_proof.as_deref().expect("0 < old <= size");
            assert_eq!(
                ours.is_ok(),
                proof == honest,
                "only the honest proof verifies"
            );
        }
    }
});
