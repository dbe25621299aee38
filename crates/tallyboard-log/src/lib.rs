//! # tallyboard-log: the append-only log store
//!
//! A transparency log kept in a data directory on local disk, published as
//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>) with C2SP tlog-checkpoint
//! checkpoints, and a [`Sequencer`] that pools submissions and commits them in
//! batches. Entries are opaque bytes here; the publication server validates
//! them before submitting. `spec/server.md` is the normative description.
//!
//! ## Data directory
//!
//! ```text
//! <dir>/public/checkpoint                   the signed checkpoint (C2SP signed note)
//! <dir>/public/tile/<L>/<N>[.p/<W>]         Merkle tree tiles
//! <dir>/public/tile/entries/<N>[.p/<W>]     entry bundles
//! <dir>/private/lock                        exclusive lock of the writing process
//! <dir>/private/tmp/                        temporary files of the commit in progress
//! ```
//!
//! `public/` is laid out exactly as the C2SP read paths, so any static web
//! server can serve a copy of it. Partial tiles and bundles of every
//! published tree size are kept (never deleted), as tlog-tiles requires.
//! The directory must be on one file system (files are renamed from
//! `private/tmp/` into `public/`).
//!
//! ## Durability contract
//!
//! A batch is committed in this order; every step completes before the next
//! begins:
//!
//! 1. **Tiles.** Every new full tile and bundle and every new partial tile
//!    and bundle is written to a temporary file in `private/tmp/`, which is
//!    fsynced; each is then renamed to its public path; then every
//!    directory that gained an entry (including newly created directories'
//!    parents) is fsynced. The tiles are now durable. They are not yet
//!    published: no checkpoint covers them, and [`LogReader`] does not
//!    return them.
//! 2. **Checkpoint.** The new checkpoint (origin = log key name, new size,
//!    new root) is signed and written the same way (temporary file, fsync,
//!    rename over `public/checkpoint`, fsync of `public/`). This rename is
//!    the commit point: before it the batch does not exist, after it the
//!    batch is published.
//! 3. **Cosignatures** (only with [`Options::cosigner`]). The cosigner is
//!    asked, within its bound, for witness cosignatures on the checkpoint
//!    just committed; the note with them (same text, the log's signature
//!    kept, `cosignature/v1` lines added) is written over
//!    `public/checkpoint` the same way. This is after the commit point: a
//!    crash here leaves the log-signed checkpoint, which is complete
//!    without cosignatures. Witnesses are only ever asked about durable
//!    checkpoints, so a restart can never make the log contradict what a
//!    witness cosigned.
//! 4. **Acknowledgement.** Only now is the checkpoint published to readers
//!    and are the submitters answered, each with its leaf index, inclusion
//!    proof and the (cosigned) checkpoint.
//!
//! Cosignatures arriving after the bound are added by a
//! [`CheckpointPublisher`] (same durable replacement), only while the
//! checkpoint they cosign is still the published one.
//!
//! Hence: an acknowledged entry is covered by a durable published
//! checkpoint, whose tiles were durable before it. A crash before step 2's
//! rename loses only unacknowledged entries. The published checkpoint is the
//! truth.
//!
//! ## Recovery
//!
//! [`Log::open`] (and [`Log::recover`], the same code) reads
//! `public/checkpoint`, which must verify under the log's key (cosignature
//! lines on it are kept as they are and not checked here); deletes the
//! files a failed batch may have left beyond it (wider partial tiles of the
//! rightmost tile, later tiles) and stale temporary files; reads the right
//! edge of the tree back from the partial tiles of the published size,
//! checks that it hashes to the checkpoint's root, and that the partial
//! entry bundle matches the level-0 tile; and rebuilds the deduplication
//! index by streaming the level-0 tiles. Memory holds only the right edge
//! (at most 255 hashes per tile level and 255 entries) and the
//! deduplication index, whose cost is documented on [`Log`]. Every later
//! checkpoint extends the recovered tree, so the log never forks: each
//! published checkpoint is consistent with every earlier one.
//!
//! A failed [`Log::append`] leaves the log needing recovery (the disk may be
//! ahead of memory); the [`Sequencer`] recovers at once and carries on, or
//! stops if recovery fails.
//!
//! ## Mirror mode
//!
//! [`Log::open_mirror`] opens a copy of another log with the same layout,
//! durability contract and recovery, but no log key: the mirror appends
//! entries it fetched and checked with [`Log::stage`] (full tiles and
//! bundles are written durably as they complete, nothing is published),
//! then publishes the upstream's own signed checkpoint with
//! [`Log::publish_verified`], which checks that the note verifies under the
//! log key and that the stored tree has exactly its size and root before
//! writing the partial tiles and then the checkpoint. Recovery verifies the
//! checkpoint under the log key and removes what staging left beyond it,
//! so an interrupted sync resumes from the last published checkpoint and a
//! mirror never goes backwards. The resulting `public/` is byte for byte
//! the origin's (same checkpoint note, same tiles).
//!
//! ## Idempotence
//!
//! The same entry bytes submitted twice (in one batch or in different ones)
//! get the same leaf index and are stored once. (A mirror stores what the
//! log holds, entry for entry, and keeps no deduplication index.)
//!
//! ## What's out of scope
//!
//! Interpreting entries (the server validates tallies), HTTP, asking
//! witnesses (the [`Cosigner`] does; the server's talks to them over HTTP).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cosign;
mod fsio;
mod reader;
mod sequencer;
mod storage;
mod store;

use std::path::PathBuf;

pub use cosign::{CheckpointPublisher, Cosigner};
pub use fsio::{FaultHook, IoError, Step};
pub use reader::{LogReader, SignedCheckpoint};
pub use sequencer::{
    Admission, AdmitAll, PendingReceipt, Receipt, Sequencer, SequencerConfig, Stats, SubmitError,
};
pub use storage::{ObjectStorage, StaleState, Storage, content_type};
pub use store::{AdmittedBatch, Appended, Batch, Log, ObjectOptions, Options, Refusal};

use tallyboard_core::checkpoint::CheckpointError;
use tallyboard_core::merkle::TreeError;
use tallyboard_core::tile::TileError;

/// Errors of the log store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file system operation failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Only one process may write a data directory: another one holds its lock.
    #[error("the data directory is in use by another process (lock {path})")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A data directory with tiles must have a published checkpoint; the
    /// log is not re-created over existing tiles.
    #[error("{path} is missing but tiles exist: refusing to start a new log over them")]
    MissingCheckpoint {
        /// The checkpoint path.
        path: PathBuf,
    },
    /// The published checkpoint must be signed by this log's key, with its
    /// name as origin.
    #[error("the published checkpoint does not verify under the log key: {0}")]
    BadCheckpoint(#[source] CheckpointError),
    /// Every tile and bundle a published checkpoint needs must exist.
    #[error("{path} is missing")]
    MissingFile {
        /// The missing file.
        path: PathBuf,
    },
    /// A tile must hold exactly its width of hashes; a bundle exactly its
    /// width of well-formed entries.
    #[error("{path} is malformed: {source}")]
    CorruptFile {
        /// The malformed file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: TileError,
    },
    /// A tile or bundle the log builds must be encodable (an internal
    /// invariant: widths 1..=256, entries at most 65,535 bytes).
    #[error("encoding a tile or bundle: {0}")]
    Encode(#[source] TileError),
    /// The tiles of the published tree must hash to the checkpoint's root.
    #[error("the tiles of tree size {size} do not hash to the published root")]
    RootMismatch {
        /// The published size.
        size: u64,
    },
    /// The right edge of the tree must match its size.
    #[error("the right edge of the tree of size {size} is inconsistent")]
    CorruptEdge {
        /// The tree size.
        size: u64,
    },
    /// An entry bundle's entries must hash to the level-0 tile's leaf hashes.
    #[error("entry bundle {bundle} does not match its level-0 tile")]
    BundleMismatch {
        /// Index of the bundle.
        bundle: u64,
    },
    /// Only published data can be read.
    #[error("{what} {index} is beyond the published tree of size {size}")]
    NotPublished {
        /// What was asked for.
        what: &'static str,
        /// Its index (or size).
        index: u64,
        /// The tree size it was asked against.
        size: u64,
    },
    /// An entry must not be empty.
    #[error("the entry is empty")]
    EmptyEntry,
    /// An entry must not exceed the maximum entry size.
    #[error("the entry is {len} bytes, more than the maximum of {max}")]
    EntryTooLarge {
        /// Size of the entry.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Signing the checkpoint failed (the log key must be an Ed25519 note key).
    #[error("signing the checkpoint: {0}")]
    Sign(#[source] CheckpointError),
    /// A Merkle computation over the tiles failed.
    #[error("Merkle tree: {0}")]
    Tree(#[source] Box<TreeError<LogError>>),
    /// A mirror publishes only checkpoints signed by the log it copies
    /// ([`Log::stage`], [`Log::publish_verified`]); it cannot sign.
    #[error("this is a mirror: it holds no log key and publishes only checkpoints the log signed")]
    Mirror,
    /// [`Log::stage`] is for mirrors; a log that signs its own checkpoints
    /// appends with [`Log::append`].
    #[error("this log signs its own checkpoints: entries are appended with append, not staged")]
    NotMirror,
    /// A checkpoint to publish must cover exactly the entries stored.
    #[error("the checkpoint is for tree size {checkpoint} but {stored} entries are stored")]
    SizeMismatch {
        /// The checkpoint's size.
        checkpoint: u64,
        /// Published plus staged entries.
        stored: u64,
    },
    /// After a failed append the log must be recovered before appending again.
    #[error("a previous commit failed: the log must be recovered first")]
    NeedsRecovery,
    /// An object store request failed.
    #[error("object store: {op} {object}: {source}")]
    Store {
        /// What was being done.
        op: &'static str,
        /// The object's URL.
        object: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A tile, bundle or staging object is written create-only: one with
    /// other bytes already exists (another sequencer wrote it).
    #[error(
        "{object} already exists with other bytes: another sequencer wrote to this log; stopping"
    )]
    ObjectConflict {
        /// The object's URL.
        object: String,
    },
    /// The sequencer state was replaced by another sequencer (its
    /// compare-and-swap won): this one must stop sequencing.
    #[error("another sequencer ({holder}) has taken over this log; stopping")]
    Superseded {
        /// The holder named by the state now (empty if unknown).
        holder: String,
    },
    /// The object store does not enforce conditional writes: the log
    /// cannot be kept on it without risking a fork.
    #[error(
        "the object store {store} ignores conditional writes ({what}): refusing to keep the log on it"
    )]
    ConditionsIgnored {
        /// The store's URL.
        store: String,
        /// Which condition was ignored.
        what: &'static str,
    },
    /// The sequencer state object must be in its format.
    #[error("{object} is not a sequencer state: {reason}")]
    BadState {
        /// The object's URL.
        object: String,
        /// What is wrong.
        reason: String,
    },
    /// A storage URL must name a supported store and a bucket.
    #[error("storage URL {url:?}: {reason}")]
    BadStorageUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Object storage holds a log that signs its own checkpoints; a mirror
    /// or a standby reader uses a directory or reads through HTTP.
    #[error("object storage is supported for a log that signs its own checkpoints only")]
    ObjectMirror,
}
