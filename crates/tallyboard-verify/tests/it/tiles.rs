//! The check of the hash tiles a source serves (spec/verify.md §2.2): a
//! tile altered at any level, full or partial, current or older partial,
//! and an altered older partial bundle, are found, with evidence that
//! `evidence::check` proves.

use std::path::Path;

use crate::common::*;
use tallyboard_verify::evidence::check;
use tallyboard_verify::source::{FetchError, Source};
use tallyboard_verify::tiles::TileCheck;

/// Flips one bit of the hash at `hash` in the file `path` of `dir`.
fn alter(dir: &Path, path: &str, hash: usize) {
    let p = dir.join(path);
    let mut b = std::fs::read(&p).unwrap();
    b[hash * 32 + 5] ^= 1;
    std::fs::write(&p, &b).unwrap();
}

/// `check` found exactly one fault, at `path`, whose evidence proves it.
fn one_fault_proved(check_result: &TileCheck, path: &str) {
    assert!(
        check_result.fetch_error.is_none(),
        "{:?}",
        check_result.fetch_error
    );
    assert_eq!(check_result.faults.len(), 1, "{:?}", check_result.faults);
    let f = &check_result.faults[0];
    assert_eq!(f.path, path);
    assert!(f.message.contains(path), "{}", f.message);
    let ev = f.evidence.as_ref().expect("evidence");
    let proven = check(ev, &log_key()).unwrap();
    assert_eq!(proven.code, "source-bad-data", "{}", proven.statement);
}

#[tokio::test]
async fn every_current_tile_is_compared_and_an_altered_one_is_proved() {
    // 600 entries: level-0 full tiles 000 and 001, partial 002.p/88;
    // level-1 partial 000.p/2.
    let d = tempfile::tempdir().unwrap();
    let notes = build_log(d.path(), &[600], "tiles");
    let public = d.path().join("public");
    let honest = tile_check(&Source::dir(&public), &notes[0], &[]).await;
    assert!(honest.faults.is_empty(), "{:?}", honest.faults);
    assert!(honest.fetch_error.is_none());
    assert_eq!(honest.compared, 4);

    for (path, hash) in [
        ("tile/0/001", 17),
        ("tile/0/002.p/88", 87),
        ("tile/1/000.p/2", 0),
    ] {
        let c = tempfile::tempdir().unwrap();
        copy_dir(&public, c.path());
        alter(c.path(), path, hash);
        let r = tile_check(&Source::dir(c.path()), &notes[0], &[]).await;
        one_fault_proved(&r, path);
    }

    // A tile that is not served at all.
    let c = tempfile::tempdir().unwrap();
    copy_dir(&public, c.path());
    std::fs::remove_file(c.path().join("tile/1/000.p/2")).unwrap();
    let r = tile_check(&Source::dir(c.path()), &notes[0], &[]).await;
    assert!(
        matches!(r.fetch_error, Some(FetchError::NotFound { .. })),
        "{:?}",
        r.fetch_error
    );
}

#[tokio::test]
async fn older_partial_tiles_and_bundles_must_be_prefixes() {
    // Sizes 300 then 700: the tree of 300 left 001.p/44 (level 0),
    // 000.p/1 (level 1) and the bundle 001.p/44, kept beside the tiles of
    // the tree of 700.
    let d = tempfile::tempdir().unwrap();
    let notes = build_log(d.path(), &[300, 700], "older");
    let public = d.path().join("public");
    let honest = tile_check(&Source::dir(&public), &notes[1], &[300]).await;
    assert!(honest.faults.is_empty(), "{:?}", honest.faults);
    assert!(honest.fetch_error.is_none(), "{:?}", honest.fetch_error);

    for (path, hash) in [("tile/0/001.p/44", 43), ("tile/1/000.p/1", 0)] {
        let c = tempfile::tempdir().unwrap();
        copy_dir(&public, c.path());
        alter(c.path(), path, hash);
        // Unseen older sizes are not checked.
        let r = tile_check(&Source::dir(c.path()), &notes[1], &[]).await;
        assert!(r.faults.is_empty(), "{:?}", r.faults);
        let r = tile_check(&Source::dir(c.path()), &notes[1], &[300]).await;
        one_fault_proved(&r, path);
    }

    // An entry of the older partial bundle replaced (well formed).
    let c = tempfile::tempdir().unwrap();
    copy_dir(&public, c.path());
    let bpath = c.path().join("tile/entries/001.p/44");
    let mut entries =
        tallyboard_core::tile::EntryBundle::from_bytes(&std::fs::read(&bpath).unwrap(), 44)
            .unwrap()
            .entries()
            .to_vec();
    entries[40] = b"a different entry".to_vec();
    let altered = tallyboard_core::tile::EntryBundle::new(entries).unwrap();
    std::fs::write(&bpath, altered.to_bytes()).unwrap();
    let r = tile_check(&Source::dir(c.path()), &notes[1], &[300]).await;
    one_fault_proved(&r, "tile/entries/001.p/44");
    assert!(
        r.faults[0].message.contains("leaf index 296"),
        "{}",
        r.faults[0].message
    );

    // An older partial file that is not kept is no finding.
    let c = tempfile::tempdir().unwrap();
    copy_dir(&public, c.path());
    std::fs::remove_file(c.path().join("tile/0/001.p/44")).unwrap();
    let r = tile_check(&Source::dir(c.path()), &notes[1], &[300]).await;
    assert!(r.faults.is_empty() && r.fetch_error.is_none(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level_one_full_tiles_are_compared() {
    // 65,536 + 300 entries: level-1 tile 000 is full, level 2 partial;
    // the tree of 300 left level-1 000.p/1.
    let n = 65_536 + 300;
    let d = tempfile::tempdir().unwrap();
    let notes = build_log(d.path(), &[300, n], "wide");
    let public = d.path().join("public");
    for (path, hash) in [
        ("tile/1/000", 200),
        ("tile/2/000.p/1", 0),
        ("tile/1/000.p/1", 0),
    ] {
        let c = tempfile::tempdir().unwrap();
        copy_dir(&public, c.path());
        alter(c.path(), path, hash);
        let r = tile_check(&Source::dir(c.path()), &notes[1], &[300]).await;
        one_fault_proved(&r, path);
    }
}
