//! Witness cosignatures on the published checkpoint.
//!
//! The commit point of a batch is the log-signed checkpoint (see the crate
//! documentation). Cosignatures are added after it: a [`Cosigner`] set in
//! [`crate::Options::cosigner`] is asked, once the checkpoint is durable and
//! before it is published to readers and submitters, for signature lines to
//! add (waiting a bounded time for its witnesses); the note with those lines
//! replaces `public/checkpoint` (temporary file, fsync, rename, directory
//! fsync) and is what readers and receipts get. Cosignatures that arrive
//! later are added with [`CheckpointPublisher::add_cosignatures`], only
//! while the checkpoint they cosign is still the published one. The note's
//! text, and the log's signature on it, never change: only signature lines
//! are added.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tallyboard_core::Hash;
use tallyboard_core::note::{Note, NoteSignature};

use crate::LogError;
use crate::fsio::{DurableWriter, IoError, Step};
use crate::reader::{LogReader, SignedCheckpoint};

/// Gathers witness cosignatures for a newly committed checkpoint.
pub trait Cosigner: Send + Sync {
    /// Called on the sequencer's thread right after `checkpoint` is durable
    /// (the commit point), before anyone is answered. `reader` reads the log
    /// as of `checkpoint` (for consistency proofs). Returns the cosignature
    /// lines to add, already verified; it must return within its own bound,
    /// since the batch's submitters wait for it.
    fn cosign(&self, checkpoint: &SignedCheckpoint, reader: &LogReader) -> Vec<NoteSignature>;
}

/// Adds signature lines to a signed checkpoint note, keeping its text and
/// existing signatures (a line from the same key name and id is replaced).
pub(crate) fn with_lines(note: &[u8], lines: &[NoteSignature]) -> Option<Vec<u8>> {
    let mut n = Note::parse(note).ok()?;
    for l in lines {
        n.add_signature(l.clone()).ok()?;
    }
    n.to_bytes().ok()
}

/// Shared between the [`crate::Log`] and its publishers: held while the
/// checkpoint file is replaced and published; `false` once the log is gone.
pub(crate) type PublishLock = Arc<Mutex<bool>>;

/// Writes `note` over `public/checkpoint` durably.
pub(crate) fn write_checkpoint(
    public: &std::path::Path,
    tmp: &std::path::Path,
    note: &[u8],
) -> Result<(), IoError> {
    DurableWriter {
        root: public,
        tmp,
        hook: None,
    }
    .write_all(
        &[("checkpoint".to_owned(), note.to_vec())],
        Step::CheckpointWritten,
        Step::CheckpointRenamed,
        Step::CheckpointDurable,
    )
}

/// Adds late cosignatures to the published checkpoint (see the module
/// documentation). Obtained from [`crate::Log::publisher`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct CheckpointPublisher {
    pub(crate) public: PathBuf,
    pub(crate) tmp: PathBuf,
    pub(crate) reader: LogReader,
    pub(crate) lock: PublishLock,
    /// The log in object storage (the state is swapped, not the file).
    pub(crate) object: Option<crate::storage::ObjectLog>,
}

impl CheckpointPublisher {
    /// Adds `lines` to the published checkpoint if it is still the one of
    /// `size` and `root`: the new note is written durably, then published.
    /// Returns `false` (and changes nothing) if the log has moved on, the
    /// lines are already there, or the log is closed. Blocks (file I/O).
    pub fn add_cosignatures(
        &self,
        size: u64,
        root: Hash,
        lines: &[NoteSignature],
    ) -> Result<bool, LogError> {
        let alive = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        if !*alive {
            return Ok(false);
        }
        let cur = self.reader.checkpoint();
        if cur.size != size || cur.root != root {
            return Ok(false);
        }
        let Some(note) = with_lines(&cur.note, lines) else {
            return Ok(false);
        };
        if note == cur.note {
            return Ok(false);
        }
        match &self.object {
            Some(o) => o.publish(&note)?,
            None => write_checkpoint(&self.public, &self.tmp, &note)?,
        }
        self.reader
            .publish(Arc::new(SignedCheckpoint { size, root, note }));
        Ok(true)
    }
}
