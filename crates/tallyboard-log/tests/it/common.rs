#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::merkle::{self, verify_consistency, verify_inclusion};
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::tile::TilePath;
use tallyboard_core::{Hash, SecretKey, leaf_hash};
use tallyboard_log::{FaultHook, LogReader, SignedCheckpoint, Step};
/// Copies a data directory (without its lock holder: the copy is unlocked).
pub use tallyboard_testkit::fs::copy_dir;

pub const ORIGIN: &str = "example.com/tallyboard-test-log";

pub fn signer() -> SignerKey {
    SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[7u8; 32])).unwrap()
}

pub fn entry(i: u64) -> Vec<u8> {
    format!("entry number {i} {}", "x".repeat((i % 13) as usize)).into_bytes()
}

/// Checks a published checkpoint: signed by the log key, consistent with
/// the previous one (proof computed from the tiles), root equal to the
/// RFC 6962 hash of `expected` (the entries the log must hold).
pub fn check_checkpoint(
    reader: &LogReader,
    cp: &SignedCheckpoint,
    earlier: &[SignedCheckpoint],
    expected: &[Vec<u8>],
) {
    let opened = open_checkpoint(&cp.note, signer().verifier(), &[], 0).unwrap();
    assert_eq!(opened.checkpoint.size, cp.size);
    assert_eq!(opened.checkpoint.root, cp.root);
    assert_eq!(cp.size, expected.len() as u64);
    let leaves: Vec<Hash> = expected.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(
        cp.root,
        merkle::tree_hash(&leaves),
        "root of size {}",
        cp.size
    );
    assert_eq!(reader.tree_hash(cp.size).unwrap(), cp.root);
    for old in earlier {
        assert!(
            old.size <= cp.size,
            "tree shrank from {} to {}",
            old.size,
            cp.size
        );
        if old.size == 0 {
            continue;
        }
        let proof = reader.prove_consistency(old.size, cp.size).unwrap();
        verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof)
            .unwrap_or_else(|e| panic!("{} -> {} inconsistent: {e}", old.size, cp.size));
    }
}

/// Checks that entry `index` is `bytes` and that `proof` proves it in `cp`.
pub fn check_receipt(
    reader: &LogReader,
    index: u64,
    proof: &[Hash],
    cp: &SignedCheckpoint,
    bytes: &[u8],
) {
    assert_eq!(reader.entry(index).unwrap(), bytes, "entry {index}");
    verify_inclusion(&leaf_hash(bytes), index, cp.size, proof, &cp.root).unwrap();
}

/// Every tile and bundle file under `public/` is within the published tree
/// of `size` leaves (nothing an unfinished batch wrote is left behind), and
/// `private/tmp` is empty.
pub fn check_no_unpublished_files(dir: &Path, size: u64) {
    let public = dir.join("public");
    let mut stack = vec![public.join("tile")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&public)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let tile = match TilePath::parse(&rel).unwrap() {
                TilePath::Hashes(t) => t,
                TilePath::Entries(b) => b.tile(),
            };
            let count = size >> (8 * u32::from(tile.level()));
            assert!(
                tile.index() * 256 + u64::from(tile.width()) <= count,
                "{rel} is beyond the published size {size}"
            );
        }
    }
    let tmp: Vec<_> = std::fs::read_dir(dir.join("private/tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "stale temporary files");
}

/// A hook that fails the `fail_at`-th call (counting from 1), recording the step.
pub fn failing_hook(fail_at: usize, seen: Arc<Mutex<Vec<Step>>>) -> FaultHook {
    let calls = AtomicUsize::new(0);
    Arc::new(move |step| {
        seen.lock().unwrap().push(step);
        if calls.fetch_add(1, Ordering::SeqCst) + 1 == fail_at {
            Err(std::io::Error::other("injected crash"))
        } else {
            Ok(())
        }
    })
}
