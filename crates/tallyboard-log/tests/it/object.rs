//! The log in object storage, on object_store's in-memory store (which
//! enforces both conditional writes atomically): commits, recovery,
//! racing sequencers, a batch written but not committed, and a store that
//! ignores the conditions. The same code against a real S3 server is
//! tested in the binary crate (`tests/it/s3.rs`, moto).

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use crate::common::*;
use tallyboard_core::merkle::verify_consistency;
use tallyboard_log::{
    Log, LogError, ObjectOptions, ObjectStorage, Options, Sequencer, SequencerConfig,
    SignedCheckpoint,
};

fn storage(store: Arc<dyn ObjectStore>) -> Arc<ObjectStorage> {
    Arc::new(ObjectStorage::new(store, "elections/test", "memory://bucket").unwrap())
}

fn open(s: &Arc<ObjectStorage>, holder: &str) -> Result<Log, LogError> {
    Log::open_object(
        s.clone(),
        signer(),
        Options::default(),
        ObjectOptions {
            holder: holder.to_owned(),
            ..ObjectOptions::default()
        },
    )
}

#[test]
fn commits_recover_and_read_back_from_object_storage() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let s = storage(mem.clone());
    let mut expected = Vec::new();
    let mut history: Vec<SignedCheckpoint> = Vec::new();
    {
        let mut log = open(&s, "a").unwrap();
        assert_eq!(log.checkpoint().size, 0);
        for round in 0..6u64 {
            let batch: Vec<Vec<u8>> = (round * 100..round * 100 + 100).map(entry).collect();
            let b = log.append(&batch).unwrap();
            expected.extend(batch.iter().cloned());
            let reader = log.reader();
            check_checkpoint(&reader, &b.checkpoint, &history, &expected);
            for (e, a) in batch.iter().zip(&b.entries) {
                check_receipt(&reader, a.index, &a.proof, &b.checkpoint, e);
            }
            history.push((*b.checkpoint).clone());
        }
        // The same bytes again: the same index, nothing stored.
        let again = log.append(&[entry(5)]).unwrap();
        assert!(again.entries[0].duplicate);
        assert_eq!(again.entries[0].index, 5);
    }
    // Another sequencer takes over and resumes from the bucket alone.
    let mut log = open(&s, "b").unwrap();
    assert_eq!(*log.checkpoint(), *history.last().unwrap());
    let dup = log.append(&[entry(250)]).unwrap();
    assert_eq!(dup.entries[0].index, 250);
    assert!(dup.entries[0].duplicate);
    // A standby's reader follows the public copy.
    let r = tallyboard_log::LogReader::open_object(s.clone(), signer().verifier()).unwrap();
    assert_eq!(r.checkpoint().size, 600);
    log.append(&[entry(1000)]).unwrap();
    assert!(r.refresh(signer().verifier()).unwrap());
    assert_eq!(r.checkpoint().size, 601);
    assert_eq!(r.entry(600).unwrap(), entry(1000));
}

#[test]
fn the_old_sequencer_loses_its_next_swap_and_stops() {
    let s = storage(Arc::new(InMemory::new()));
    let mut a = open(&s, "a").unwrap();
    a.append(&[entry(1)]).unwrap();
    let mut b = open(&s, "b").unwrap();
    let err = a.append(&[entry(2)]).unwrap_err();
    assert!(matches!(err, LogError::Superseded { .. }), "{err}");
    assert!(err.to_string().contains("b#"), "{err}");
    // It stays stopped: recovery refuses too.
    assert!(matches!(a.recover(), Err(LogError::Superseded { .. })));
    assert!(a.heartbeat().is_err());
    // The loser had created the staging object of size 1 before its swap
    // failed: the winner's own staging write meets it, and after recovery
    // the winner commits the loser's batch first (it was never
    // acknowledged, and its tiles are the loser's bytes), then its own.
    let err = b.append(&[entry(3)]).unwrap_err();
    assert!(matches!(err, LogError::ObjectConflict { .. }), "{err}");
    assert!(err.to_string().contains("private/staging/1"), "{err}");
    b.recover().unwrap();
    let got = b.append(&[entry(3)]).unwrap();
    assert_eq!(got.checkpoint.size, 3);
    assert_eq!(got.entries[0].index, 2);
    let reader = b.reader();
    check_checkpoint(
        &reader,
        &got.checkpoint,
        &[],
        &[entry(1), entry(2), entry(3)],
    );
}

/// Two sequencers race on one bucket, each taking the log over at random
/// moments and appending its own entries: every checkpoint either one
/// got acknowledged is consistent with the final one (no fork), each
/// size was won by exactly one root, and every acknowledged entry is in
/// the final log at its index.
#[test]
fn two_sequencers_racing_on_one_bucket_never_fork() {
    let s = storage(Arc::new(InMemory::new()));
    open(&s, "init").unwrap();
    type Ack = (SignedCheckpoint, u64, Vec<u8>);
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let mut threads = Vec::new();
    for t in 0..2u64 {
        let s = s.clone();
        let acks = acks.clone();
        threads.push(std::thread::spawn(move || {
            let mut won = 0;
            let mut lost = 0;
            for round in 0..30u64 {
                let Ok(mut log) = open(&s, &format!("racer-{t}")) else {
                    lost += 1;
                    continue;
                };
                for k in 0..3u64 {
                    let e = entry(10_000 * (t + 1) + round * 10 + k);
                    match log.append(std::slice::from_ref(&e)) {
                        Ok(b) => {
                            won += 1;
                            acks.lock().unwrap().push((
                                (*b.checkpoint).clone(),
                                b.entries[0].index,
                                e,
                            ));
                        }
                        Err(LogError::Superseded { .. } | LogError::ObjectConflict { .. }) => {
                            lost += 1;
                            break;
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            }
            (won, lost)
        }));
    }
    let mut won = 0;
    let mut lost = 0;
    for t in threads {
        let (w, l) = t.join().unwrap();
        won += w;
        lost += l;
    }
    assert!(won > 0);
    let last = open(&s, "checker").unwrap();
    let reader = last.reader();
    let fin = last.checkpoint();
    let acks = acks.lock().unwrap();
    let mut by_size = std::collections::HashMap::new();
    for (cp, index, e) in acks.iter() {
        assert_eq!(
            *by_size.entry(cp.size).or_insert(cp.root),
            cp.root,
            "fork at {}",
            cp.size
        );
        assert_eq!(
            reader.entry(*index).unwrap(),
            *e,
            "acknowledged entry {index} lost"
        );
        let proof = reader.prove_consistency(cp.size, fin.size).unwrap();
        verify_consistency(cp.size, fin.size, &cp.root, &fin.root, &proof).unwrap();
        let incl = reader.prove_inclusion(*index, fin.size).unwrap();
        tallyboard_core::merkle::verify_inclusion(
            &tallyboard_core::leaf_hash(e),
            *index,
            fin.size,
            &incl,
            &fin.root,
        )
        .unwrap();
    }
    eprintln!(
        "racing sequencers: {won} commits won, {lost} swaps lost, {} acknowledged, forks 0",
        acks.len()
    );
}

/// An in-memory store with two switches: `ignore` turns every
/// conditional write into a plain overwrite (as some S3-compatible stores
/// do), `fail_state` makes writes of the sequencer state fail (a crash
/// between the tiles and the commit point).
#[derive(Debug, Default)]
struct Fake {
    inner: InMemory,
    ignore: AtomicBool,
    fail_state: AtomicBool,
}

impl fmt::Display for Fake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fake")
    }
}

#[async_trait]
impl ObjectStore for Fake {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        mut opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        if self.ignore.load(Ordering::SeqCst) {
            opts.mode = PutMode::Overwrite;
        }
        if self.fail_state.load(Ordering::SeqCst)
            && location.as_ref().ends_with("private/sequencer")
        {
            return Err(object_store::Error::Generic {
                store: "Fake",
                source: "injected failure".into(),
            });
        }
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }
    async fn get_range(
        &self,
        location: &ObjectPath,
        range: Range<u64>,
    ) -> object_store::Result<Bytes> {
        self.inner.get_range(location, range).await
    }
    async fn delete(&self, location: &ObjectPath) -> object_store::Result<()> {
        self.inner.delete(location).await
    }
    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy(&self, from: &ObjectPath, to: &ObjectPath) -> object_store::Result<()> {
        self.inner.copy(from, to).await
    }
    async fn copy_if_not_exists(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
    ) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await
    }
}

#[test]
fn a_store_that_ignores_conditional_writes_is_refused_at_start() {
    let fake = Arc::new(Fake::default());
    fake.ignore.store(true, Ordering::SeqCst);
    let s = Arc::new(ObjectStorage::new(fake.clone(), "log", "s3://lax-bucket").unwrap());
    let err = open(&s, "a").unwrap_err();
    assert!(matches!(err, LogError::ConditionsIgnored { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("s3://lax-bucket/log"), "{msg}");
    assert!(msg.contains("If-None-Match"), "{msg}");
    assert!(s.check_conditions().is_err());
    // Nothing of the log was written; the probe was removed.
    let listed = tallyboard_testkit_list(&fake);
    assert!(listed.is_empty(), "{listed:?}");
    // The same store enforcing them is accepted.
    fake.ignore.store(false, Ordering::SeqCst);
    open(&s, "a").unwrap();
}

fn tallyboard_testkit_list(store: &Arc<Fake>) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        use futures_util::StreamExt as _;
        store
            .list(None)
            .map(|m| m.unwrap().location.to_string())
            .collect::<Vec<_>>()
            .await
    })
}

/// A batch whose tiles and staging object were written but whose
/// compare-and-swap never happened (the sequencer died there) is
/// committed by the next sequencer first, byte for byte as it was
/// written, so that no create-only write ever meets other bytes.
#[test]
fn a_batch_written_but_not_committed_is_committed_by_the_next_sequencer() {
    let fake = Arc::new(Fake::default());
    let s = Arc::new(ObjectStorage::new(fake.clone(), "", "memory://b").unwrap());
    let mut a = open(&s, "a").unwrap();
    let first: Vec<Vec<u8>> = (0..300).map(entry).collect();
    a.append(&first).unwrap();
    fake.fail_state.store(true, Ordering::SeqCst);
    let crashed: Vec<Vec<u8>> = (300..420).map(entry).collect();
    assert!(a.append(&crashed).is_err());
    drop(a);
    fake.fail_state.store(false, Ordering::SeqCst);
    let mut b = open(&s, "b").unwrap();
    assert_eq!(b.checkpoint().size, 300);
    let got = b.append(&[entry(5000)]).unwrap();
    assert_eq!(got.checkpoint.size, 421);
    assert_eq!(got.entries[0].index, 420);
    let mut all = first.clone();
    all.extend(crashed.iter().cloned());
    all.push(entry(5000));
    check_checkpoint(&b.reader(), &got.checkpoint, &[], &all);
}

/// The sequencer keeps an idle log's state alive with heartbeats, and
/// stops (answering `Stopped`) once another sequencer has taken over.
#[test]
fn sequencer_heartbeats_and_stops_when_superseded() {
    let s = storage(Arc::new(InMemory::new()));
    let log = Log::open_object(
        s.clone(),
        signer(),
        Options::default(),
        ObjectOptions {
            holder: "a".into(),
            heartbeat: Duration::from_millis(20),
            takeover: None,
        },
    )
    .unwrap();
    let seq = Sequencer::start(
        log,
        SequencerConfig {
            interval: Duration::from_millis(10),
            ..SequencerConfig::default()
        },
    )
    .unwrap();
    seq.submit(entry(1)).unwrap().wait().unwrap();
    // A standby sees the state change while the log is idle.
    let mut polls = 0;
    let stale = s
        .wait_until_stale(
            Duration::from_millis(300),
            Duration::from_millis(10),
            &mut |_| {
                polls += 1;
                polls < 20
            },
        )
        .unwrap();
    assert!(stale.is_none(), "an alive sequencer looked stale");
    // Another one takes over: the first stops within a few heartbeats.
    let _b = open(&s, "b").unwrap();
    for _ in 0..200 {
        if !seq.is_running() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!seq.is_running());
    assert!(seq.submit(entry(2)).is_err());
}
