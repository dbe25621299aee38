#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The mirror mode of the log store: a copy that publishes checkpoints
//! signed by the log it copies, with the same layout, durability and
//! recovery as the origin.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::*;
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, sign_checkpoint};
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::{Hash, SecretKey};
use tallyboard_log::{Log, LogError, Options, SignedCheckpoint, Step};

fn open_origin(dir: &Path) -> Log {
    Log::open(dir, signer(), Options::default()).unwrap()
}

fn open_mirror(dir: &Path) -> Log {
    Log::open_mirror(dir, signer().verifier().clone(), Options::default()).unwrap()
}

/// Every file under `public/`, path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tallyboard_testkit::fs::files(&dir.join("public"))
}

/// Stages `entries` in chunks of `chunk` (a mirror fetches bundle by bundle).
fn stage_chunked(m: &mut Log, entries: &[Vec<u8>], chunk: usize) {
    for c in entries.chunks(chunk.max(1)) {
        m.stage(c).unwrap();
    }
}

#[test]
fn mirror_copy_is_byte_identical_to_the_origin() {
    let o = tempfile::tempdir().unwrap();
    let md = tempfile::tempdir().unwrap();
    let mut origin = open_origin(o.path());
    let mut mirror = open_mirror(md.path());
    assert_eq!(mirror.checkpoint().size, 0);
    assert!(mirror.checkpoint().note.is_empty());
    assert!(!md.path().join("public/checkpoint").exists());
    // The origin's empty checkpoint is published as is.
    mirror.publish_verified(&origin.checkpoint().note).unwrap();
    let mut next = 0u64;
    let mut expected = Vec::new();
    let mut history: Vec<SignedCheckpoint> = Vec::new();
    for (n, chunk) in [
        (1u64, 1usize),
        (300, 256),
        (255, 7),
        (66_000, 1000),
        (2, 256),
    ] {
        let batch: Vec<Vec<u8>> = (next..next + n).map(entry).collect();
        next += n;
        let cp = origin.append(&batch).unwrap().checkpoint;
        stage_chunked(&mut mirror, &batch, chunk);
        // Readers do not see staged entries before the checkpoint.
        assert_eq!(mirror.reader().checkpoint().size, next - n);
        assert_eq!(mirror.staged_size(), next);
        let published = mirror.publish_verified(&cp.note).unwrap();
        assert_eq!(*published, *cp);
        expected.extend(batch);
        check_checkpoint(&mirror.reader(), &published, &history, &expected);
        history.push((*published).clone());
        assert_eq!(files(md.path()), files(o.path()), "after size {next}");
    }
    // Reopening recovers the mirror at the published checkpoint.
    drop(mirror);
    let mirror = open_mirror(md.path());
    assert_eq!(*mirror.checkpoint(), *origin.checkpoint());
}

#[test]
fn refuses_checkpoints_that_do_not_cover_the_stored_entries() {
    let o = tempfile::tempdir().unwrap();
    let md = tempfile::tempdir().unwrap();
    let mut origin = open_origin(o.path());
    let mut mirror = open_mirror(md.path());
    let good: Vec<Vec<u8>> = (0..600).map(entry).collect();
    let cp = origin.append(&good).unwrap().checkpoint;

    // One altered entry: the root differs, nothing is published.
    let mut bad = good.clone();
    bad[300] = b"altered".to_vec();
    mirror.stage(&bad).unwrap();
    match mirror.publish_verified(&cp.note) {
        Err(LogError::RootMismatch { size: 600 }) => {}
        other => panic!("expected a root mismatch, got {other:?}"),
    }
    assert_eq!(mirror.checkpoint().size, 0);
    // Discarding removes the full tiles the staging wrote.
    assert!(md.path().join("public/tile/entries/000").exists());
    mirror.discard_staged().unwrap();
    check_no_unpublished_files(md.path(), 0);

    // Too few entries for the checkpoint.
    mirror.stage(&good[..599]).unwrap();
    match mirror.publish_verified(&cp.note) {
        Err(LogError::SizeMismatch {
            checkpoint: 600,
            stored: 599,
        }) => {}
        other => panic!("expected a size mismatch, got {other:?}"),
    }
    mirror.stage(&good[599..]).unwrap();

    // A checkpoint of the right tree signed by another key.
    let other = SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[9u8; 32])).unwrap();
    let forged = sign_checkpoint(&Checkpoint::new(ORIGIN, 600, cp.root), &other).unwrap();
    assert!(matches!(
        mirror.publish_verified(&forged),
        Err(LogError::BadCheckpoint(_))
    ));
    assert!(matches!(
        mirror.publish_verified(b"not a note"),
        Err(LogError::BadCheckpoint(_))
    ));
    assert_eq!(mirror.checkpoint().size, 0);
    // The right one is accepted.
    mirror.publish_verified(&cp.note).unwrap();
    assert_eq!(files(md.path()), files(o.path()));
    // A mirror never signs, and the origin never stages.
    assert!(matches!(mirror.append(&[entry(1)]), Err(LogError::Mirror)));
    assert!(matches!(
        origin.stage(&[entry(1)]),
        Err(LogError::NotMirror)
    ));
    // An older checkpoint is refused: the mirror never goes backwards.
    let old = sign_checkpoint(&Checkpoint::new(ORIGIN, 0, Hash::EMPTY_TREE), &signer()).unwrap();
    assert!(matches!(
        mirror.publish_verified(&old),
        Err(LogError::SizeMismatch { .. })
    ));
}

#[test]
fn same_checkpoint_with_a_cosignature_replaces_the_published_note() {
    let o = tempfile::tempdir().unwrap();
    let md = tempfile::tempdir().unwrap();
    let mut origin = open_origin(o.path());
    let mut mirror = open_mirror(md.path());
    let batch: Vec<Vec<u8>> = (0..10).map(entry).collect();
    let cp = origin.append(&batch).unwrap().checkpoint;
    mirror.stage(&batch).unwrap();
    mirror.publish_verified(&cp.note).unwrap();
    let witness = SignerKey::new(
        "witness.example",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[3u8; 32]),
    )
    .unwrap();
    let cosigned = add_cosignature(&cp.note, &witness, 1_700_000_000).unwrap();
    assert_ne!(cosigned, cp.note);
    let p = mirror.publish_verified(&cosigned).unwrap();
    assert_eq!(p.note, cosigned);
    assert_eq!(
        std::fs::read(md.path().join("public/checkpoint")).unwrap(),
        cosigned
    );
    drop(mirror);
    assert_eq!(open_mirror(md.path()).checkpoint().note, cosigned);
}

/// Crash the mirror at every durability step of staging and publishing;
/// after a restart it is at the old or the new checkpoint (never between,
/// never anything unpublished left in `public/`), and syncing again
/// completes it to a byte-identical copy.
#[test]
fn crash_at_every_step_resumes_from_the_published_checkpoint() {
    for (before, batch_len) in [(3u64, 5u64), (250, 300), (65_500, 100)] {
        let o = tempfile::tempdir().unwrap();
        let mut origin = open_origin(o.path());
        let first: Vec<Vec<u8>> = (0..before).map(entry).collect();
        let cp1 = origin.append(&first).unwrap().checkpoint;
        let base = tempfile::tempdir().unwrap();
        {
            let mut m = open_mirror(base.path());
            m.stage(&first).unwrap();
            m.publish_verified(&cp1.note).unwrap();
        }
        let batch: Vec<Vec<u8>> = (before..before + batch_len).map(entry).collect();
        let cp2 = origin.append(&batch).unwrap().checkpoint;
        let mut fail_at = 1;
        loop {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(base.path(), dir.path());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let opts = Options {
                fault_hook: Some(failing_hook(fail_at, seen.clone())),
                ..Options::default()
            };
            let outcome = {
                let mut m =
                    Log::open_mirror(dir.path(), signer().verifier().clone(), opts).unwrap();
                let mut r = Ok(());
                for c in batch.chunks(64) {
                    r = m.stage(c);
                    if r.is_err() {
                        break;
                    }
                }
                r.and_then(|()| m.publish_verified(&cp2.note).map(|_| ()))
            };
            let failed_at = seen.lock().unwrap().last().copied();
            let mut m = open_mirror(dir.path());
            let cp = m.checkpoint();
            let published = outcome.is_ok()
                || matches!(
                    failed_at,
                    Some(Step::CheckpointRenamed) | Some(Step::CheckpointDurable)
                );
            let want = if published { &cp2 } else { &cp1 };
            assert_eq!(*cp, **want, "crash after {failed_at:?} (call {fail_at})");
            check_no_unpublished_files(dir.path(), cp.size);
            if !published {
                m.stage(&batch).unwrap();
                m.publish_verified(&cp2.note).unwrap();
            }
            assert_eq!(files(dir.path()), files(o.path()), "call {fail_at}");
            if outcome.is_ok() {
                break;
            }
            fail_at += 1;
            assert!(fail_at < 200, "too many steps");
        }
        assert!(fail_at >= 4, "every step was exercised ({fail_at})");
    }
}
