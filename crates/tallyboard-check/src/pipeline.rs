//! Checking many entries on every core: worker threads decode and verify a
//! chunk at a time; the results come back in log order.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use tallyboard_core::keys::BatchVerifier;
use tallyboard_core::manifest::Manifest;

use crate::entry::{Checked, Signatures, check_chunk};

/// Entries per chunk handed to a worker.
pub const CHUNK: usize = 512;

/// The threads worth using on this machine for checking entries.
pub fn available_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8)
}

/// A chunk of entries: its sequence number and (index, bytes) pairs.
type Chunk<B> = (u64, Vec<(u64, B)>);

/// Where the entries to check go, in log order: buffered into chunks for
/// the workers of [`run_pipeline`]. `B` is how an entry's bytes are held:
/// `Vec<u8>` (copied on the way in) or `&[u8]` (borrowed for the run).
pub struct EntrySender<B> {
    tx: Option<SyncSender<Chunk<B>>>,
    buf: Vec<(u64, B)>,
    seq: u64,
}

/// The checking threads stopped (a worker or the applier panicked).
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("the entry-checking threads stopped")]
pub struct PipelineStopped;

impl<B> EntrySender<B> {
    /// Queues one entry (the next in log order, at leaf index `index`).
    pub fn push(&mut self, index: u64, bytes: impl Into<B>) -> Result<(), PipelineStopped> {
        self.buf.push((index, bytes.into()));
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), PipelineStopped> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let tx = self.tx.as_ref().ok_or(PipelineStopped)?;
        tx.send((self.seq, chunk)).map_err(|_| PipelineStopped)?;
        self.seq += 1;
        Ok(())
    }
}

/// Runs `drive`, which feeds entries in log order to the sender it is
/// given, while `threads` workers check them ([`Checked`]) and one thread
/// hands each result to `apply`, in log order, with its leaf index.
/// Returns what `drive` returns, once every entry it fed went to `apply`.
pub fn run_pipeline<B, R>(
    manifest: &Manifest,
    signatures: Signatures,
    threads: usize,
    mut apply: impl FnMut(u64, Checked) + Send,
    drive: impl FnOnce(&mut EntrySender<B>) -> R,
) -> R
where
    B: AsRef<[u8]> + Send,
{
    let threads = threads.max(1);
    std::thread::scope(|s| {
        let (chunk_tx, chunk_rx) = sync_channel::<Chunk<B>>(threads * 2);
        let chunk_rx = Arc::new(Mutex::new(chunk_rx));
        let (res_tx, res_rx) = sync_channel::<(u64, Vec<(u64, Checked)>)>(threads * 2);
        for _ in 0..threads {
            let rx = Arc::clone(&chunk_rx);
            let tx = res_tx.clone();
            s.spawn(move || {
                let mut verifier = BatchVerifier::new();
                loop {
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, chunk)) = next else { return };
                    let out = check_chunk(manifest, &mut verifier, signatures, chunk);
                    if tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(res_tx);
        let applier = s.spawn(move || in_order(res_rx, &mut apply));
        let mut sender = EntrySender {
            tx: Some(chunk_tx),
            buf: Vec::with_capacity(CHUNK),
            seq: 0,
        };
        let r = drive(&mut sender);
        let _ = sender.flush();
        drop(sender);
        let _ = applier.join();
        r
    })
}

/// Hands the workers' results to `apply` in sequence order.
fn in_order(rx: Receiver<(u64, Vec<(u64, Checked)>)>, apply: &mut impl FnMut(u64, Checked)) {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Vec<(u64, Checked)>> = BTreeMap::new();
    while let Ok((seq, out)) = rx.recv() {
        waiting.insert(seq, out);
        while let Some(out) = waiting.remove(&next) {
            for (index, c) in out {
                apply(index, c);
            }
            next += 1;
        }
    }
}

/// Checks `entries`, the log's entries from leaf index `first` on, on up
/// to `threads` threads; the results are in log order. A few entries are
/// checked on the calling thread.
pub fn check_entries<B: AsRef<[u8]> + Sync>(
    manifest: &Manifest,
    first: u64,
    entries: &[B],
    signatures: Signatures,
    threads: usize,
) -> Result<Vec<Checked>, PipelineStopped> {
    let indexed = || (first..).zip(entries.iter().map(AsRef::as_ref));
    if entries.len() <= CHUNK || threads <= 1 {
        let mut verifier = BatchVerifier::new();
        let chunk: Vec<(u64, &[u8])> = indexed().collect();
        let out = check_chunk(manifest, &mut verifier, signatures, chunk);
        return Ok(out.into_iter().map(|(_, c)| c).collect());
    }
    let mut out = Vec::with_capacity(entries.len());
    let fed = run_pipeline::<&[u8], _>(
        manifest,
        signatures,
        threads,
        |_, c| out.push(c),
        |sender| indexed().try_for_each(|(index, bytes)| sender.push(index, bytes)),
    );
    fed?;
    if out.len() == entries.len() {
        Ok(out)
    } else {
        Err(PipelineStopped)
    }
}
