#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Storage, recovery, crash and sequencer tests of tallyboard-log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::tile::{BundleId, TileId, TilePath};
use tallyboard_core::{SecretKey, leaf_hash};
use tallyboard_log::{
    FaultHook, Log, LogError, Options, Sequencer, SequencerConfig, SignedCheckpoint, Step,
    SubmitError,
};

fn open(dir: &std::path::Path) -> Log {
    Log::open(dir, signer(), Options::default()).unwrap()
}

/// Appends `batch` and checks every answer against `expected` (the entries
/// the log holds afterwards).
fn append_checked(
    log: &mut Log,
    batch: &[Vec<u8>],
    expected: &mut Vec<Vec<u8>>,
    history: &mut Vec<SignedCheckpoint>,
) {
    let b = log.append(batch).unwrap();
    for e in batch {
        if !expected.contains(e) {
            expected.push(e.clone());
        }
    }
    let reader = log.reader();
    check_checkpoint(&reader, &b.checkpoint, history, expected);
    for (e, a) in batch.iter().zip(&b.entries) {
        assert_eq!(expected[a.index as usize], *e);
        check_receipt(&reader, a.index, &a.proof, &b.checkpoint, e);
    }
    history.push((*b.checkpoint).clone());
}

#[test]
fn new_log_publishes_signed_empty_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let cp = log.checkpoint();
    assert_eq!(cp.size, 0);
    check_checkpoint(&log.reader(), &cp, &[], &[]);
    let on_disk = std::fs::read(dir.path().join("public/checkpoint")).unwrap();
    assert_eq!(on_disk, cp.note);
}

#[test]
fn root_matches_tree_hash_across_tile_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    let mut expected = Vec::new();
    let mut history = Vec::new();
    let mut next = 0u64;
    // Sizes cross level-0 and level-1 tile boundaries in many ways.
    for n in [
        1u64,
        254,
        1,
        1,
        300,
        255,
        256,
        512,
        3,
        65_536 - 1585,
        2,
        700,
    ] {
        let batch: Vec<Vec<u8>> = (next..next + n).map(entry).collect();
        next += n;
        append_checked(&mut log, &batch, &mut expected, &mut history);
    }
    let size = log.checkpoint().size;
    assert_eq!(size, next);
    assert!(size > 65_536, "reaches a level-2 tile");
    // Full tiles are exactly 8192 bytes; the level-1 tile hashes are the
    // roots of the full level-0 tiles.
    let public = dir.path().join("public");
    let t = std::fs::read(public.join("tile/0/000")).unwrap();
    assert_eq!(t.len(), 8192);
    let l1 = log.reader().tile(1, 0, size).unwrap();
    let leaves: Vec<_> = expected[..256].iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(l1[0], tallyboard_core::merkle::tree_hash(&leaves));
    assert!(public.join("tile/2/000.p/1").exists());
    // Partial tiles of earlier checkpoints stay served.
    assert!(public.join("tile/0/000.p/1").exists());
    assert!(public.join("tile/entries/000.p/255").exists());
    check_no_unpublished_files(dir.path(), size);
}

#[test]
fn reopening_resumes_from_the_published_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let mut history = Vec::new();
    let mut next = 0u64;
    for round in 0..6u64 {
        let mut log = open(dir.path());
        assert_eq!(log.checkpoint().size, next);
        let n = 97 * round + 1;
        let batch: Vec<Vec<u8>> = (next..next + n).map(entry).collect();
        next += n;
        append_checked(&mut log, &batch, &mut expected, &mut history);
    }
}

#[test]
fn same_entry_gets_same_index_and_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    let a = b"tally A".to_vec();
    let b = b"tally B".to_vec();
    let r = log.append(&[a.clone(), b.clone(), a.clone()]).unwrap();
    assert_eq!(r.checkpoint.size, 2);
    let idx: Vec<_> = r.entries.iter().map(|e| (e.index, e.duplicate)).collect();
    assert_eq!(idx, vec![(0, false), (1, false), (0, true)]);
    let r = log.append(std::slice::from_ref(&b)).unwrap();
    assert_eq!(
        r.checkpoint.size, 2,
        "a duplicate-only batch publishes nothing"
    );
    assert_eq!((r.entries[0].index, r.entries[0].duplicate), (1, true));
    check_receipt(&log.reader(), 1, &r.entries[0].proof, &r.checkpoint, &b);
    drop(log);
    let mut log = open(dir.path());
    assert_eq!(log.find(&a).unwrap(), Some(0));
    assert_eq!(log.find(b"never submitted").unwrap(), None);
    let r = log.append(&[b"tally C".to_vec(), a.clone()]).unwrap();
    assert_eq!(r.checkpoint.size, 3);
    assert_eq!(r.entries[1].index, 0);
    assert!(r.entries[1].duplicate);
}

#[test]
fn dedup_index_rebuilt_from_full_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    let batch: Vec<Vec<u8>> = (0..600).map(entry).collect();
    log.append(&batch).unwrap();
    drop(log);
    let mut log = open(dir.path());
    for i in [0u64, 255, 256, 511, 599] {
        assert_eq!(log.find(&entry(i)).unwrap(), Some(i));
    }
    let r = log.append(&[entry(3), entry(600)]).unwrap();
    assert_eq!(r.entries[0].index, 3);
    assert_eq!(r.entries[1].index, 600);
    assert_eq!(r.checkpoint.size, 601);
}

#[test]
fn refuses_empty_and_oversized_entries_storing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        max_entry_size: 10,
        ..Options::default()
    };
    let mut log = Log::open(dir.path(), signer(), opts).unwrap();
    assert!(matches!(
        log.append(&[Vec::new()]),
        Err(LogError::EmptyEntry)
    ));
    assert!(matches!(
        log.append(&[b"ok".to_vec(), vec![1; 11]]),
        Err(LogError::EntryTooLarge { len: 11, max: 10 })
    ));
    assert_eq!(log.checkpoint().size, 0);
    assert!(!dir.path().join("public/tile").exists());
    assert!(log.append(&[vec![1; 10]]).is_ok());
}

#[test]
fn second_process_cannot_open_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _log = open(dir.path());
    let err = Log::open(dir.path(), signer(), Options::default()).unwrap_err();
    assert!(matches!(err, LogError::Locked { .. }), "{err}");
}

#[test]
fn refuses_checkpoint_signed_by_another_key() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let other = SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[8u8; 32])).unwrap();
    let err = Log::open(dir.path(), other, Options::default()).unwrap_err();
    assert!(matches!(err, LogError::BadCheckpoint(_)), "{err}");
}

#[test]
fn refuses_to_start_over_tiles_without_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.append(&[b"x".to_vec()]).unwrap();
    drop(log);
    std::fs::remove_file(dir.path().join("public/checkpoint")).unwrap();
    let err = Log::open(dir.path(), signer(), Options::default()).unwrap_err();
    assert!(matches!(err, LogError::MissingCheckpoint { .. }), "{err}");
}

#[test]
fn detects_tiles_that_do_not_match_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.append(&[b"x".to_vec(), b"y".to_vec()]).unwrap();
    drop(log);
    let p = dir.path().join("public/tile/0/000.p/2");
    let mut t = std::fs::read(&p).unwrap();
    t[0] ^= 1;
    std::fs::write(&p, t).unwrap();
    let err = Log::open(dir.path(), signer(), Options::default()).unwrap_err();
    assert!(
        matches!(
            err,
            LogError::BundleMismatch { .. } | LogError::RootMismatch { .. }
        ),
        "{err}"
    );
}

#[test]
fn readers_never_see_unpublished_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.append(&(0..10).map(entry).collect::<Vec<_>>()).unwrap();
    let r = log.reader();
    let tile = |l, n, w| TilePath::Hashes(TileId::new(l, n, w).unwrap());
    let bundle = BundleId::new(0, 10).unwrap();
    assert!(r.read_path(&tile(0, 0, 10)).unwrap().is_some());
    assert!(r.read_path(&TilePath::Entries(bundle)).unwrap().is_some());
    assert!(r.read_path(&tile(0, 0, 11)).unwrap().is_none());
    assert!(r.read_path(&tile(0, 0, 256)).unwrap().is_none());
    assert!(r.read_path(&tile(1, 0, 1)).unwrap().is_none());
    assert!(matches!(r.entry(10), Err(LogError::NotPublished { .. })));
    assert!(r.prove_inclusion(3, 11).is_err());
}

/// Crash (fail, then drop the log without recovering, as a killed process
/// would) at every durability step of a commit, for batches that write many
/// files; then restart and check: nothing acknowledged is lost, the log
/// never forks, files beyond the checkpoint are gone, and appending works.
#[test]
fn crash_at_every_step_never_forks_or_loses_acknowledged_entries() {
    // Batch shapes: within a tile, completing tiles at two levels.
    let shapes: [(u64, u64); 3] = [(3, 5), (250, 300), (65_500, 100)];
    for (before, batch_len) in shapes {
        let base = tempfile::tempdir().unwrap();
        let first = {
            let mut log = open(base.path());
            let b = log
                .append(&(0..before).map(entry).collect::<Vec<_>>())
                .unwrap();
            (*b.checkpoint).clone()
        };
        let mut fail_at = 1;
        loop {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(base.path(), dir.path());
            let mut expected: Vec<Vec<u8>> = (0..before).map(entry).collect();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let opts = Options {
                fault_hook: Some(failing_hook(fail_at, seen.clone())),
                ..Options::default()
            };
            let batch: Vec<Vec<u8>> = (before..before + batch_len).map(entry).collect();
            let outcome = {
                let mut log = Log::open(dir.path(), signer(), opts).unwrap();
                log.append(&batch)
            };
            let steps = seen.lock().unwrap().clone();
            let failed_at = steps.last().copied();
            // Restart.
            let mut log = open(dir.path());
            let cp = log.checkpoint();
            let reader = log.reader();
            match &outcome {
                Ok(b) => {
                    // No failure injected: every step ran.
                    assert_eq!(failed_at, Some(Step::CheckpointDurable));
                    assert_eq!(cp.size, before + batch_len);
                    assert_eq!(*b.checkpoint, *cp);
                }
                Err(_) => {
                    // The batch is published iff the checkpoint rename happened.
                    let published = matches!(
                        failed_at,
                        Some(Step::CheckpointRenamed) | Some(Step::CheckpointDurable)
                    );
                    let want = if published {
                        before + batch_len
                    } else {
                        before
                    };
                    assert_eq!(cp.size, want, "crash after {failed_at:?}");
                }
            }
            if cp.size > before {
                expected.extend(batch.iter().cloned());
            }
            check_checkpoint(&reader, &cp, std::slice::from_ref(&first), &expected);
            check_no_unpublished_files(dir.path(), cp.size);
            // Resubmitting the batch is idempotent and completes it.
            let b = log.append(&batch).unwrap();
            assert_eq!(b.checkpoint.size, before + batch_len);
            for (i, a) in b.entries.iter().enumerate() {
                assert_eq!(a.index, before + i as u64);
                assert_eq!(a.duplicate, cp.size > before);
            }
            if outcome.is_ok() {
                break;
            }
            fail_at += 1;
            assert!(fail_at < 100, "too many steps");
        }
        assert!(fail_at >= 7, "every step was exercised ({fail_at})");
    }
}

/// The sequencer recovers in-process after a failed commit: the failed
/// submitters are told, the log stays consistent, later submissions succeed.
#[test]
fn sequencer_recovers_after_failed_commit() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(AtomicUsize::new(0));
    let f = fail.clone();
    let hook: FaultHook = Arc::new(move |step| {
        if step == Step::CheckpointWritten && f.swap(0, Ordering::SeqCst) == 1 {
            Err(std::io::Error::other("disk full"))
        } else {
            Ok(())
        }
    });
    let opts = Options {
        fault_hook: Some(hook),
        ..Options::default()
    };
    let log = Log::open(dir.path(), signer(), opts).unwrap();
    let cfg = SequencerConfig {
        interval: Duration::from_millis(10),
        ..SequencerConfig::default()
    };
    let seq = Sequencer::start(log, cfg).unwrap();
    let r0 = seq.submit(b"first".to_vec()).unwrap().wait().unwrap();
    assert_eq!(r0.index, 0);
    fail.store(1, Ordering::SeqCst);
    let err = seq.submit(b"second".to_vec()).unwrap().wait().unwrap_err();
    assert!(matches!(err, SubmitError::CommitFailed { .. }), "{err}");
    assert_eq!(seq.checkpoint().size, 1);
    let r1 = seq.submit(b"second".to_vec()).unwrap().wait().unwrap();
    assert_eq!(r1.index, 1);
    assert!(!r1.duplicate);
    let stats = seq.stats();
    assert_eq!(stats.failed_commits, 1);
    assert_eq!(stats.tree_size, 2);
    check_checkpoint(
        &seq.reader(),
        &r1.checkpoint,
        &[(*r0.checkpoint).clone()],
        &[b"first".to_vec(), b"second".to_vec()],
    );
}

#[test]
fn concurrent_submitters_get_verified_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let cfg = SequencerConfig {
        interval: Duration::from_millis(20),
        ..SequencerConfig::default()
    };
    let seq = Arc::new(Sequencer::start(log, cfg).unwrap());
    let threads = 8u64;
    let per_thread = 200u64;
    let mut handles = Vec::new();
    for t in 0..threads {
        let seq = seq.clone();
        handles.push(std::thread::spawn(move || {
            let mut out = Vec::new();
            for i in 0..per_thread {
                // Every thread also submits the shared entry 0..10 (duplicates).
                let e = if i < 10 {
                    entry(1_000_000 + i)
                } else {
                    entry(t * per_thread + i)
                };
                let pending = seq.submit(e.clone()).unwrap();
                out.push((e, pending.wait().unwrap()));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.join().unwrap());
    }
    let reader = seq.reader();
    let final_size = seq.checkpoint().size;
    let distinct = threads * (per_thread - 10) + 10;
    assert_eq!(final_size, distinct);
    let mut by_entry = std::collections::HashMap::new();
    for (e, r) in &all {
        check_receipt(&reader, r.index, &r.proof, &r.checkpoint, e);
        let prev = by_entry.insert(e.clone(), r.index);
        if let Some(p) = prev {
            assert_eq!(p, r.index, "duplicate got another index");
        }
    }
    assert_eq!(by_entry.len() as u64, distinct);
    let mut indexes: Vec<u64> = by_entry.values().copied().collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..distinct).collect::<Vec<_>>());
    let stats = seq.stats();
    assert_eq!(stats.appended, distinct);
    assert_eq!(stats.tree_size, distinct);
}

#[test]
fn full_pool_sheds_load_and_shutdown_finishes_pending_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let cfg = SequencerConfig {
        // Long enough that nothing is committed before the shutdown,
        // except the first submission (the sequencer is idle then).
        interval: Duration::from_secs(30),
        max_pending: 5,
        max_batch: 100,
    };
    let mut seq = Sequencer::start(log, cfg).unwrap();
    let first = seq.submit(entry(0)).unwrap().wait().unwrap();
    assert_eq!(first.index, 0);
    let pending: Vec<_> = (1..6).map(|i| seq.submit(entry(i)).unwrap()).collect();
    // The same entry again joins the pooled one instead of taking a slot.
    let again = seq.submit(entry(1)).unwrap();
    assert_eq!(
        seq.submit(entry(6)).unwrap_err(),
        SubmitError::PoolFull { capacity: 5 }
    );
    assert_eq!(seq.stats().pending, 5);
    seq.shutdown();
    assert!(!seq.is_running());
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap().index, i as u64 + 1);
    }
    let r = again.wait().unwrap();
    assert_eq!(r.index, 1);
    assert!(r.duplicate);
    assert_eq!(seq.submit(entry(7)).unwrap_err(), SubmitError::ShuttingDown);
    assert_eq!(seq.checkpoint().size, 6);
}

#[test]
fn receipts_can_be_awaited_in_async_code() {
    let dir = tempfile::tempdir().unwrap();
    let seq = Sequencer::start(open(dir.path()), SequencerConfig::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = rt
        .block_on(async { seq.submit(b"async".to_vec()).unwrap().await })
        .unwrap();
    assert_eq!(r.index, 0);
    assert_eq!(r.checkpoint.size, 1);
}

/// Records what the sequencer tells it; refuses entries starting with "bad"
/// and a second entry with the same first byte (a log-order rule).
#[derive(Clone, Default)]
struct Recorder {
    seen_first_bytes: Arc<Mutex<Vec<u8>>>,
    staged: Vec<u8>,
    committed: Arc<Mutex<Vec<(u64, u8)>>>,
}

#[derive(Debug)]
struct Refused(&'static str);
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Refused {}

impl tallyboard_log::Admission for Recorder {
    fn admit(&mut self, entry: &[u8]) -> Result<(), tallyboard_log::Refusal> {
        if entry.starts_with(b"bad") {
            return Err(Arc::new(Refused("bad entry")));
        }
        let first = entry[0];
        let seen = self.seen_first_bytes.lock().unwrap();
        if seen.contains(&first) || self.staged.contains(&first) {
            return Err(Arc::new(Refused("first byte taken")));
        }
        drop(seen);
        self.staged.push(first);
        Ok(())
    }
    fn committed(&mut self, first_index: u64, _cp: &Arc<SignedCheckpoint>) {
        for (i, b) in self.staged.drain(..).enumerate() {
            self.seen_first_bytes.lock().unwrap().push(b);
            self.committed
                .lock()
                .unwrap()
                .push((first_index + i as u64, b));
        }
    }
    fn discard(&mut self) {
        self.staged.clear();
    }
}

#[test]
fn admission_refuses_in_log_order_and_stores_nothing_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::default();
    let committed = rec.committed.clone();
    let cfg = SequencerConfig {
        interval: Duration::from_millis(200),
        ..SequencerConfig::default()
    };
    let mut seq = Sequencer::start_with(open(dir.path()), cfg, Box::new(rec)).unwrap();
    let a = seq.submit(b"a1".to_vec()).unwrap().wait().unwrap();
    assert_eq!(a.index, 0);
    // One batch: "b1" admitted, "bad" refused, "b2" refused (after b1), "c".
    let p: Vec<_> = [&b"b1"[..], b"bad", b"b2", b"c1"]
        .iter()
        .map(|e| seq.submit(e.to_vec()).unwrap())
        .collect();
    let r: Vec<_> = p.into_iter().map(|p| p.wait()).collect();
    assert_eq!(r[0].as_ref().unwrap().index, 1);
    assert!(matches!(&r[1], Err(SubmitError::Refused(e)) if e.to_string() == "bad entry"));
    assert!(matches!(&r[2], Err(SubmitError::Refused(e)) if e.to_string() == "first byte taken"));
    assert_eq!(r[3].as_ref().unwrap().index, 2);
    // A resubmission of a published entry is answered without admission.
    let again = seq.submit(b"a1".to_vec()).unwrap().wait().unwrap();
    assert_eq!((again.index, again.duplicate), (0, true));
    seq.shutdown();
    assert_eq!(seq.checkpoint().size, 3);
    assert_eq!(
        *committed.lock().unwrap(),
        vec![(0, b'a'), (1, b'b'), (2, b'c')]
    );
    let reader = seq.reader();
    assert_eq!(reader.entry(1).unwrap(), b"b1");
    assert_eq!(reader.entry(2).unwrap(), b"c1");
}
