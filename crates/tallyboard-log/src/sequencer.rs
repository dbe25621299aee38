//! The sequencer: pools submissions and commits them in batches.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tallyboard_core::{Hash, leaf_hash};
use tokio::sync::oneshot;

use crate::LogError;
use crate::reader::{LogReader, SignedCheckpoint};
use crate::store::{Log, Refusal, check_entry};

/// Settings of a [`Sequencer`].
#[derive(Clone, Debug)]
pub struct SequencerConfig {
    /// Time between the starts of two batch commits under load. A
    /// submission that arrives while the sequencer is idle is committed at
    /// once; under load, submissions are pooled for about this long.
    pub interval: Duration,
    /// Most distinct entries waiting in the pool; beyond it submissions are
    /// refused with [`SubmitError::PoolFull`] (load shedding).
    pub max_pending: usize,
    /// Most entries committed in one batch.
    pub max_batch: usize,
}

impl Default for SequencerConfig {
    fn default() -> SequencerConfig {
        SequencerConfig {
            interval: Duration::from_secs(1),
            max_pending: 20_000,
            max_batch: 20_000,
        }
    }
}

/// Proof that an entry is in the log, given once it is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Leaf index of the entry.
    pub index: u64,
    /// RFC 6962 inclusion proof of the entry in `checkpoint`.
    pub proof: Vec<Hash>,
    /// The published, signed checkpoint the proof is relative to.
    pub checkpoint: Arc<SignedCheckpoint>,
    /// True if the same bytes had been submitted before: nothing new was
    /// stored, the receipt names the existing entry.
    pub duplicate: bool,
}

/// Admission control, run by the sequencer thread on every entry that is
/// not already in the log, in log order, just before it is given an index.
///
/// This is where checks that depend on the log itself belong (for
/// tallies: a correction must supersede the latest revision in the log),
/// because only the sequencer knows the order of entries. Entries admitted
/// since the last [`Admission::committed`] or [`Admission::discard`] are
/// *staged*: the commit that follows either publishes all of them or none.
pub trait Admission: Send + 'static {
    /// Whether `entry` may be appended after every entry admitted so far.
    fn admit(&mut self, entry: &[u8]) -> Result<(), Refusal>;
    /// The staged entries are published, at leaf indexes `first_index`,
    /// `first_index + 1`, … in the order they were admitted, under
    /// `checkpoint`.
    fn committed(&mut self, first_index: u64, checkpoint: &Arc<SignedCheckpoint>);
    /// The commit failed before its checkpoint was published: the staged
    /// entries are not in the log.
    fn discard(&mut self);
}

/// Admits every entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitAll;

impl Admission for AdmitAll {
    fn admit(&mut self, _entry: &[u8]) -> Result<(), Refusal> {
        Ok(())
    }
    fn committed(&mut self, _first_index: u64, _checkpoint: &Arc<SignedCheckpoint>) {}
    fn discard(&mut self) {}
}

/// Why a submission was refused or not acknowledged.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The [`Admission`] check refused the entry; nothing was stored.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// An entry must not be empty.
    #[error("the entry is empty")]
    EmptyEntry,
    /// An entry must not exceed the log's maximum entry size.
    #[error("the entry is {len} bytes, more than the maximum of {max}")]
    EntryTooLarge {
        /// Size of the entry.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The pool of pending submissions is full: retry later.
    #[error("too many submissions pending ({capacity}); retry later")]
    PoolFull {
        /// The pool's capacity.
        capacity: usize,
    },
    /// The sequencer is shutting down and accepts no new submissions.
    #[error("the sequencer is shutting down")]
    ShuttingDown,
    /// Committing the batch failed (a storage error). The entry was not
    /// acknowledged; it may or may not be in the log: submit it again, the
    /// log will give it its existing index if it is.
    #[error("committing the batch failed: {reason}")]
    CommitFailed {
        /// The storage error.
        reason: String,
    },
    /// The sequencer stopped after a storage error it could not recover
    /// from; restart the process.
    #[error("the sequencer has stopped")]
    Stopped,
}

impl PartialEq for SubmitError {
    fn eq(&self, other: &SubmitError) -> bool {
        use SubmitError::*;
        match (self, other) {
            (Refused(a), Refused(b)) => Arc::ptr_eq(a, b),
            (EmptyEntry, EmptyEntry) | (ShuttingDown, ShuttingDown) | (Stopped, Stopped) => true,
            (EntryTooLarge { len: a, max: b }, EntryTooLarge { len: c, max: d }) => {
                a == c && b == d
            }
            (PoolFull { capacity: a }, PoolFull { capacity: b }) => a == b,
            (CommitFailed { reason: a }, CommitFailed { reason: b }) => a == b,
            _ => false,
        }
    }
}

/// Counters of a running [`Sequencer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Batches committed (with at least one new entry).
    pub batches: u64,
    /// New entries appended.
    pub appended: u64,
    /// Submissions answered with an existing entry.
    pub duplicates: u64,
    /// Batch commits that failed.
    pub failed_commits: u64,
    /// Duration of the last commit (write, fsync, sign, publish, prove), in
    /// microseconds.
    pub last_commit_micros: u64,
    /// Tree size of the latest published checkpoint.
    pub tree_size: u64,
    /// Distinct entries waiting in the pool.
    pub pending: u64,
}

type Reply = oneshot::Sender<Result<Receipt, SubmitError>>;

struct Pending {
    entry: Vec<u8>,
    waiters: Vec<Reply>,
}

#[derive(Default)]
struct Pool {
    entries: Vec<Pending>,
    by_hash: HashMap<Hash, usize>,
    closing: bool,
    stopped: bool,
}

struct Shared {
    pool: Mutex<Pool>,
    wake: Condvar,
    max_entry_size: usize,
    max_pending: usize,
    batches: AtomicU64,
    appended: AtomicU64,
    duplicates: AtomicU64,
    failed_commits: AtomicU64,
    last_commit_micros: AtomicU64,
    tree_size: AtomicU64,
    running: AtomicBool,
}

impl Shared {
    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Pools submissions and commits them to a [`Log`] in batches, on a
/// dedicated thread; each submitter is answered with a [`Receipt`] once its
/// batch's checkpoint is durably published.
///
/// Submitting is cheap and never blocks on I/O: it only adds the entry to
/// the pool (or to the waiters of the same entry already pooled).
/// Dropping the sequencer shuts it down (see [`Sequencer::shutdown`]).
pub struct Sequencer {
    shared: Arc<Shared>,
    reader: LogReader,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A receipt to come: `.await` it, or [`PendingReceipt::wait`] outside an
/// async runtime.
#[derive(Debug)]
pub struct PendingReceipt(oneshot::Receiver<Result<Receipt, SubmitError>>);

impl PendingReceipt {
    /// Blocks until the receipt (or the failure) arrives. Must not be called
    /// from inside an async runtime; `.await` the value there instead.
    pub fn wait(self) -> Result<Receipt, SubmitError> {
        self.0.blocking_recv().unwrap_or(Err(SubmitError::Stopped))
    }
}

impl Future for PendingReceipt {
    type Output = Result<Receipt, SubmitError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(SubmitError::Stopped)))
    }
}

impl Sequencer {
    /// Starts sequencing into `log`, admitting every entry.
    pub fn start(log: Log, config: SequencerConfig) -> Result<Sequencer, LogError> {
        Sequencer::start_with(log, config, Box::new(AdmitAll))
    }

    /// Starts sequencing into `log`, asking `admission` about every new entry.
    pub fn start_with(
        log: Log,
        config: SequencerConfig,
        admission: Box<dyn Admission>,
    ) -> Result<Sequencer, LogError> {
        let reader = log.reader();
        let shared = Arc::new(Shared {
            pool: Mutex::new(Pool::default()),
            wake: Condvar::new(),
            max_entry_size: log.max_entry_size(),
            max_pending: config.max_pending,
            batches: AtomicU64::new(0),
            appended: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            failed_commits: AtomicU64::new(0),
            last_commit_micros: AtomicU64::new(0),
            tree_size: AtomicU64::new(log.checkpoint().size),
            running: AtomicBool::new(true),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tallyboard-sequencer".to_owned())
            .spawn(move || run(log, s, config, admission))
            .map_err(|e| {
                LogError::Io(crate::fsio::IoError {
                    op: "spawn sequencer thread",
                    path: Default::default(),
                    source: e,
                })
            })?;
        Ok(Sequencer {
            shared,
            reader,
            thread: Some(thread),
        })
    }

    /// Adds `entry` to the pool. The returned [`PendingReceipt`] resolves
    /// once the entry is durably in the log (or the commit failed).
    ///
    /// Refused at once, with nothing stored, when the entry is empty or too
    /// large, the pool is full, or the sequencer is shutting down.
    pub fn submit(&self, entry: Vec<u8>) -> Result<PendingReceipt, SubmitError> {
        check_entry(&entry, self.shared.max_entry_size).map_err(|e| match e {
            LogError::EntryTooLarge { len, max } => SubmitError::EntryTooLarge { len, max },
            _ => SubmitError::EmptyEntry,
        })?;
        let h = leaf_hash(&entry);
        let (tx, rx) = oneshot::channel();
        let mut pool = self.shared.pool();
        if pool.stopped {
            return Err(SubmitError::Stopped);
        }
        if pool.closing {
            return Err(SubmitError::ShuttingDown);
        }
        if let Some(&i) = pool.by_hash.get(&h)
            && let Some(p) = pool.entries.get_mut(i)
        {
            p.waiters.push(tx);
            return Ok(PendingReceipt(rx));
        }
        if pool.entries.len() >= self.shared.max_pending {
            return Err(SubmitError::PoolFull {
                capacity: self.shared.max_pending,
            });
        }
        let was_empty = pool.entries.is_empty();
        let i = pool.entries.len();
        pool.entries.push(Pending {
            entry,
            waiters: vec![tx],
        });
        pool.by_hash.insert(h, i);
        drop(pool);
        if was_empty {
            self.shared.wake.notify_all();
        }
        Ok(PendingReceipt(rx))
    }

    /// A reader of the published log.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        self.reader.checkpoint()
    }

    /// False once the sequencer thread has exited (after a shutdown, or
    /// after a storage error it could not recover from).
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        Stats {
            batches: s.batches.load(Ordering::Relaxed),
            appended: s.appended.load(Ordering::Relaxed),
            duplicates: s.duplicates.load(Ordering::Relaxed),
            failed_commits: s.failed_commits.load(Ordering::Relaxed),
            last_commit_micros: s.last_commit_micros.load(Ordering::Relaxed),
            tree_size: s.tree_size.load(Ordering::Relaxed),
            pending: s.pool().entries.len() as u64,
        }
    }

    /// Stops accepting submissions, commits everything already pooled
    /// (answering its submitters), and waits for the sequencer thread to
    /// exit. Blocks: call it from a blocking context.
    pub fn shutdown(&mut self) {
        self.shared.pool().closing = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("sequencer thread panicked");
        }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the sequencer thread does next.
enum Next {
    /// Commit this batch.
    Batch(Vec<Pending>),
    /// Idle until the heartbeat deadline: show the log is alive.
    Beat,
    /// Exit.
    Exit,
}

/// Takes the next batch from the pool, waiting for the next tick; or
/// [`Next::Beat`] when the pool stayed empty until `beat_at`.
fn next_batch(
    shared: &Shared,
    next_tick: Instant,
    max_batch: usize,
    beat_at: Option<Instant>,
) -> Next {
    let mut pool = shared.pool();
    loop {
        if pool.stopped || (pool.closing && pool.entries.is_empty()) {
            return Next::Exit;
        }
        let now = Instant::now();
        if !pool.entries.is_empty() && (pool.closing || now >= next_tick) {
            break;
        }
        pool = if pool.entries.is_empty() {
            match beat_at {
                Some(at) if now >= at => return Next::Beat,
                Some(at) => {
                    shared
                        .wake
                        .wait_timeout(pool, at - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => shared
                    .wake
                    .wait(pool)
                    .unwrap_or_else(PoisonError::into_inner),
            }
        } else {
            shared
                .wake
                .wait_timeout(pool, next_tick - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        };
    }
    let take = pool.entries.len().min(max_batch.max(1));
    let batch: Vec<Pending> = pool.entries.drain(..take).collect();
    let rest: Vec<Pending> = std::mem::take(&mut pool.entries);
    pool.by_hash.clear();
    for (i, p) in rest.iter().enumerate() {
        pool.by_hash.insert(leaf_hash(&p.entry), i);
    }
    pool.entries = rest;
    Next::Batch(batch)
}

/// The sequencer cannot go on: every pending submitter is told so.
fn stop(shared: &Shared) {
    let mut pool = shared.pool();
    pool.stopped = true;
    for p in pool.entries.drain(..) {
        for r in p.waiters {
            let _ = r.send(Err(SubmitError::Stopped));
        }
    }
    pool.by_hash.clear();
}

fn run(
    mut log: Log,
    shared: Arc<Shared>,
    config: SequencerConfig,
    mut admission: Box<dyn Admission>,
) {
    let mut next_tick = Instant::now();
    let heartbeat = log.heartbeat_interval();
    let mut last_write = Instant::now();
    loop {
        let batch = match next_batch(
            &shared,
            next_tick,
            config.max_batch,
            heartbeat.map(|d| last_write + d),
        ) {
            Next::Exit => break,
            Next::Beat => {
                if let Err(e) = log.heartbeat() {
                    tracing::error!(error = %e, "the sequencer stops");
                    stop(&shared);
                    break;
                }
                last_write = Instant::now();
                continue;
            }
            Next::Batch(b) => b,
        };
        let started = Instant::now();
        last_write = started;
        next_tick = started + config.interval;
        let (entries, waiters): (Vec<Vec<u8>>, Vec<Vec<Reply>>) =
            batch.into_iter().map(|p| (p.entry, p.waiters)).unzip();
        let size_before = log.checkpoint().size;
        let result = log.append_admitted(&entries, &mut |e| admission.admit(e));
        drop(entries);
        shared
            .last_commit_micros
            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        match result {
            Ok(b) => {
                shared.tree_size.store(b.checkpoint.size, Ordering::Relaxed);
                let fresh = b.checkpoint.size - size_before;
                if fresh > 0 {
                    admission.committed(size_before, &b.checkpoint);
                } else {
                    admission.discard();
                }
                let dups = b
                    .entries
                    .iter()
                    .filter(|a| matches!(a, Ok(a) if a.duplicate))
                    .count() as u64;
                if fresh > 0 {
                    shared.batches.fetch_add(1, Ordering::Relaxed);
                }
                shared.appended.fetch_add(fresh, Ordering::Relaxed);
                shared.duplicates.fetch_add(dups, Ordering::Relaxed);
                for (appended, replies) in b.entries.into_iter().zip(waiters) {
                    let appended = match appended {
                        Ok(a) => a,
                        Err(refusal) => {
                            for r in replies {
                                let _ = r.send(Err(SubmitError::Refused(refusal.clone())));
                            }
                            continue;
                        }
                    };
                    let receipt = Receipt {
                        index: appended.index,
                        proof: appended.proof,
                        checkpoint: b.checkpoint.clone(),
                        duplicate: appended.duplicate,
                    };
                    for (k, r) in replies.into_iter().enumerate() {
                        // Later waiters of the same entry submitted a duplicate.
                        let mut rc = receipt.clone();
                        rc.duplicate |= k > 0;
                        // A submitter that went away does not matter.
                        let _ = r.send(Ok(rc));
                    }
                }
            }
            Err(e) => {
                shared.failed_commits.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "batch commit failed; recovering from disk");
                let reason = e.to_string();
                for r in waiters.into_iter().flatten() {
                    let _ = r.send(Err(SubmitError::CommitFailed {
                        reason: reason.clone(),
                    }));
                }
                let recovered = log.recover();
                // The checkpoint is replaced atomically: the failed batch is
                // published either whole (the failure came after the
                // rename) or not at all.
                let cp = log.checkpoint();
                if recovered.is_ok() && cp.size > size_before {
                    admission.committed(size_before, &cp);
                } else {
                    admission.discard();
                }
                if let Err(e) = recovered {
                    tracing::error!(error = %e, "recovery failed; the sequencer stops");
                    stop(&shared);
                    break;
                }
                shared
                    .tree_size
                    .store(log.checkpoint().size, Ordering::Relaxed);
            }
        }
    }
    shared.running.store(false, Ordering::Release);
}
