//! Test fixtures: logs built with tallyboard-log and the example keys; the
//! keys, directory copies and the static file server come from the test kit.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::Path;

use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::note::VerifierKey;
use tallyboard_log::{Log, Options};
pub use tallyboard_testkit::example::{log_signer, signer};
pub use tallyboard_testkit::fs::copy_dir;
pub use tallyboard_testkit::serve::StaticServer;

pub fn log_key() -> VerifierKey {
    log_signer().verifier().clone()
}

/// Entry `i` of test logs: distinct, of varying length; `salt` makes a
/// different log.
pub fn entry(i: u64, salt: &str) -> Vec<u8> {
    format!("entry {i} {salt} {}", "x".repeat((i % 37) as usize)).into_bytes()
}

/// A log in `dir` grown in batches to each size of `sizes`; returns the
/// signed checkpoint note after each batch.
pub fn build_log(dir: &Path, sizes: &[u64], salt: &str) -> Vec<Vec<u8>> {
    let mut log = Log::open(dir, log_signer(), Options::default()).unwrap();
    let mut notes = Vec::new();
    let mut have = 0;
    for &s in sizes {
        let batch: Vec<Vec<u8>> = (have..s).map(|i| entry(i, salt)).collect();
        let b = log.append(&batch).unwrap();
        assert_eq!(b.checkpoint.size, s);
        notes.push(b.checkpoint.note.clone());
        have = s;
    }
    notes
}

pub fn open(note: &[u8]) -> OpenedCheckpoint {
    open_checkpoint(note, &log_key(), &[], 0).unwrap()
}

/// Follows `source` from the empty tree to `note` (which must succeed: the
/// bundles are honest) and checks its tiles, with the older sizes `older`.
pub async fn tile_check(
    source: &tallyboard_verify::source::Source,
    note: &[u8],
    older: &[u64],
) -> tallyboard_verify::tiles::TileCheck {
    let cp = open(note);
    let mut recomputed = tallyboard_verify::tiles::Recomputed::new();
    tallyboard_verify::follow::follow(
        source,
        &log_key(),
        &tallyboard_verify::follow::Trusted::empty(),
        &cp,
        &tallyboard_verify::follow::FollowOptions::default(),
        |item| {
            if let tallyboard_verify::follow::Item::Tile { id, tile } = item {
                recomputed.add(id, tile);
            }
            Ok::<(), std::convert::Infallible>(())
        },
    )
    .await
    .unwrap();
    let older: std::collections::BTreeSet<u64> = older.iter().copied().collect();
    tallyboard_verify::tiles::check_served_tiles(source, &log_key(), &cp, &recomputed, &older, 4)
        .await
}
