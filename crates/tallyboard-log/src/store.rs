//! The log writer: recovery, batch commits, deduplication.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tallyboard_core::checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint};
use tallyboard_core::limits::{MAX_NOTE, MAX_SIGNED_TALLY};
use tallyboard_core::merkle::TreeBuilder;
use tallyboard_core::note::{SignerKey, VerifierKey};
use tallyboard_core::tile::{BundleId, EntryBundle, HashTile, MAX_TILE_LEVEL, TileId};
use tallyboard_core::{Hash, leaf_hash};

use crate::LogError;
use crate::cosign::{CheckpointPublisher, Cosigner, PublishLock, with_lines, write_checkpoint};
use crate::fsio::{DurableWriter, FaultHook, Step, io_err, read_optional, sync_dir};
use crate::reader::{
    LogReader, SignedCheckpoint, TILE_WIDTH, TileHashes, prove_inclusion_with, read_bundle_file,
    read_tile_file,
};
use crate::storage::{
    Lease, ObjectLog, ObjectStorage, STAGING, STATE, StaleState, StateRecord, Storage, Swap,
    decode_staging, encode_staging,
};

/// Settings of a [`Log`].
#[derive(Clone)]
pub struct Options {
    /// Largest entry accepted, in bytes (at most 65,535, the limit of the
    /// entry bundle's length prefix). Default: `limits::MAX_SIGNED_TALLY`.
    pub max_entry_size: usize,
    /// Test hook called at every durability step of a commit; see [`Step`].
    pub fault_hook: Option<FaultHook>,
    /// Gathers witness cosignatures after each commit point (see
    /// [`Cosigner`]); `None`: checkpoints carry the log's signature only.
    pub cosigner: Option<Arc<dyn Cosigner>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_entry_size: MAX_SIGNED_TALLY,
            fault_hook: None,
            cosigner: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("max_entry_size", &self.max_entry_size)
            .field("fault_hook", &self.fault_hook.is_some())
            .field("cosigner", &self.cosigner.is_some())
            .finish()
    }
}

/// Settings of a log kept in object storage ([`Log::open_object`]).
#[derive(Clone, Debug)]
pub struct ObjectOptions {
    /// Names this sequencer in the state object (and so in the answers of
    /// a standby): an operator-given name or the server's URL. A random
    /// suffix is added.
    pub holder: String,
    /// How often an idle sequencer rewrites the state (a heartbeat), so
    /// that a standby can tell it is alive.
    pub heartbeat: Duration,
    /// `None`: take the log over at once, whoever holds it (the operator
    /// starts this sequencer in place of the other). `Some`: take it over
    /// only if the state is still the stale one a standby waited for
    /// ([`ObjectStorage::wait_until_stale`]).
    pub takeover: Option<StaleState>,
}

impl Default for ObjectOptions {
    fn default() -> ObjectOptions {
        ObjectOptions {
            holder: "tallyboard".to_owned(),
            heartbeat: Duration::from_millis(500),
            takeover: None,
        }
    }
}

/// Where one submitted entry ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Leaf index of the entry.
    pub index: u64,
    /// RFC 6962 inclusion proof of the entry in the batch's checkpoint.
    pub proof: Vec<Hash>,
    /// True if the same bytes were already in the log (or earlier in the
    /// same batch): nothing new was stored for this entry.
    pub duplicate: bool,
}

/// The result of [`Log::append`]: the published checkpoint that covers
/// every entry of the batch, and one [`Appended`] per entry, in order.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The checkpoint published by this batch (or the current one if the
    /// batch held only duplicates).
    pub checkpoint: Arc<SignedCheckpoint>,
    /// One result per submitted entry, in submission order.
    pub entries: Vec<Appended>,
}

/// A file to write: path relative to `public/`, contents.
type PublicFile = (String, Vec<u8>);

/// Why an admission check refused an entry (see [`Log::append_admitted`]):
/// any error, shared by every submitter of the same entry.
pub type Refusal = Arc<dyn std::error::Error + Send + Sync>;

/// The result of [`Log::append_admitted`]: the published checkpoint and,
/// per submitted entry in order, where it is or why it was refused.
#[derive(Clone, Debug)]
pub struct AdmittedBatch {
    /// The checkpoint that covers every admitted entry.
    pub checkpoint: Arc<SignedCheckpoint>,
    /// One result per submitted entry, in submission order.
    pub entries: Vec<Result<Appended, Refusal>>,
}

/// The right edge of the tree: everything needed to extend it.
#[derive(Clone, Debug, Default)]
struct Edge {
    size: u64,
    /// `tiles[l]`: the hashes of the rightmost, partial tile at level `l`
    /// (`(size >> 8l) % 256` of them).
    tiles: Vec<Vec<Hash>>,
    /// The entries of the rightmost, partial entry bundle.
    bundle: Vec<Vec<u8>>,
}

/// The public file of bundle `index` holding `entries`.
fn bundle_file(index: u64, entries: Vec<Vec<u8>>) -> Result<PublicFile, LogError> {
    let b = EntryBundle::new(entries).map_err(LogError::Encode)?;
    let id = BundleId::new(index, b.width()).map_err(LogError::Encode)?;
    Ok((id.path(), b.to_bytes()))
}

/// The index of tile `(level, ·)` that holds the `count`-th hash of the level.
fn edge_index(size: u64, level: usize) -> (u64, u64) {
    let count = size.checked_shr(8 * level as u32).unwrap_or(0);
    (count / TILE_WIDTH, count % TILE_WIDTH)
}

impl Edge {
    /// Loads the edge of the published tree of `size` leaves from its
    /// partial tiles and bundle.
    fn load(public: &Storage, size: u64) -> Result<Edge, LogError> {
        let mut tiles = Vec::new();
        let mut level = 0usize;
        while size.checked_shr(8 * level as u32).unwrap_or(0) > 0 {
            let (n, w) = edge_index(size, level);
            if w > 0 {
                tiles.push(read_tile_file(public, level as u8, n, size)?);
            } else {
                tiles.push(Vec::new());
            }
            level += 1;
        }
        let (n, w) = edge_index(size, 0);
        let bundle = if w > 0 {
            read_bundle_file(public, n, size)?
        } else {
            Vec::new()
        };
        let hashes: Vec<Hash> = bundle.iter().map(|e| leaf_hash(e)).collect();
        if tiles.first().map(Vec::as_slice).unwrap_or(&[]) != hashes.as_slice() {
            return Err(LogError::BundleMismatch { bundle: n });
        }
        Ok(Edge {
            size,
            tiles,
            bundle,
        })
    }

    /// The RFC 6962 root of the tree, from the edge tiles: every tile level
    /// contributes the complete subtrees of its partial tile.
    fn root(&self) -> Result<Hash, LogError> {
        let mut roots = Vec::new();
        for tile in self.tiles.iter().rev() {
            let mut b = TreeBuilder::new();
            for h in tile {
                b.push(*h)
                    .map_err(|_| LogError::CorruptEdge { size: self.size })?;
            }
            roots.extend_from_slice(b.subtree_roots());
        }
        let b = TreeBuilder::from_subtree_roots(self.size, &roots)
            .map_err(|_| LogError::CorruptEdge { size: self.size })?;
        Ok(b.root())
    }

    /// The edge after appending `entries`, and the files to write: every
    /// tile and bundle that became full, and the new partial ones.
    fn extend(&self, entries: &[&[u8]]) -> Result<(Edge, Vec<PublicFile>), LogError> {
        let mut e = self.clone();
        let mut files = Vec::new();
        let mut changed = vec![false; e.tiles.len().max(1)];
        for entry in entries {
            if e.tiles.is_empty() {
                e.tiles.push(Vec::new());
            }
            e.tiles[0].push(leaf_hash(entry));
            e.bundle.push(entry.to_vec());
            e.size += 1;
            changed[0] = true;
            if e.bundle.len() as u64 == TILE_WIDTH {
                let n = e.size / TILE_WIDTH - 1;
                files.push(bundle_file(n, std::mem::take(&mut e.bundle))?);
            }
            let mut level = 0usize;
            while e.tiles[level].len() as u64 == TILE_WIDTH {
                let (n, _) = edge_index(e.size, level);
                let full =
                    HashTile::new(std::mem::take(&mut e.tiles[level])).map_err(LogError::Encode)?;
                let id = TileId::full(level as u8, n - 1).map_err(LogError::Encode)?;
                files.push((id.path(), full.to_bytes()));
                let h = full.root();
                if e.tiles.len() == level + 1 {
                    e.tiles.push(Vec::new());
                    changed.push(false);
                }
                e.tiles[level + 1].push(h);
                changed[level + 1] = true;
                level += 1;
            }
        }
        for (level, tile) in e.tiles.iter().enumerate() {
            if changed[level] && !tile.is_empty() {
                let (n, w) = edge_index(e.size, level);
                let id = TileId::new(level as u8, n, w as u16).map_err(LogError::Encode)?;
                let t = HashTile::new(tile.clone()).map_err(LogError::Encode)?;
                files.push((id.path(), t.to_bytes()));
            }
        }
        if changed[0] && !e.bundle.is_empty() {
            let (n, _) = edge_index(e.size, 0);
            files.push(bundle_file(n, e.bundle.clone())?);
        }
        Ok((e, files))
    }
}

impl Edge {
    /// The partial tiles and the partial bundle of the right edge (the
    /// files a checkpoint of exactly this size needs besides full ones).
    fn partial_files(&self) -> Result<Vec<PublicFile>, LogError> {
        let mut files = Vec::new();
        for (level, tile) in self.tiles.iter().enumerate() {
            if tile.is_empty() {
                continue;
            }
            let (n, w) = edge_index(self.size, level);
            let id = TileId::new(level as u8, n, w as u16).map_err(LogError::Encode)?;
            let t = HashTile::new(tile.clone()).map_err(LogError::Encode)?;
            files.push((id.path(), t.to_bytes()));
        }
        if !self.bundle.is_empty() {
            let (n, _) = edge_index(self.size, 0);
            files.push(bundle_file(n, self.bundle.clone())?);
        }
        Ok(files)
    }
}

/// Whether a public path names a full tile or bundle (immutable once
/// written) rather than a partial one.
fn is_full_path(path: &str) -> bool {
    !path.contains(".p/")
}

/// Leaf hash → leaf index, for every entry of the published log.
///
/// Memory: the primary map is keyed by the first 8 bytes of the leaf hash
/// (`HashMap<u64, u64>`: 16 bytes plus one control byte per bucket, at most
/// 7/8 full, bucket count a power of two), so 19 to 39 bytes per entry:
/// about 136 MiB for 4 million entries. A hit on the 8-byte prefix is
/// confirmed against the full leaf hash in the level-0 tile; entries whose
/// prefix is already taken by a different hash (expected: none below
/// billions of entries) go to a small overflow map keyed by the full hash.
/// The index is rebuilt at start-up by streaming the level-0 tiles (32 bytes
/// per entry read).
#[derive(Debug, Default)]
struct Dedup {
    primary: HashMap<u64, u64>,
    overflow: HashMap<Hash, u64>,
}

fn prefix(h: &Hash) -> u64 {
    let b = h.as_bytes();
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl Dedup {
    fn lookup(
        &self,
        h: &Hash,
        leaf_at: impl Fn(u64) -> Result<Hash, LogError>,
    ) -> Result<Option<u64>, LogError> {
        match self.primary.get(&prefix(h)) {
            None => Ok(None),
            Some(&i) if leaf_at(i)? == *h => Ok(Some(i)),
            Some(_) => Ok(self.overflow.get(h).copied()),
        }
    }

    /// Records `h` at `index`; `h` must not be recorded yet.
    fn insert_new(&mut self, h: Hash, index: u64) {
        match self.primary.entry(prefix(&h)) {
            Entry::Vacant(v) => {
                v.insert(index);
            }
            Entry::Occupied(_) => {
                self.overflow.entry(h).or_insert(index);
            }
        }
    }
}

/// An append-only log stored in a local data directory.
///
/// See the crate documentation for the layout and the durability contract.
/// One `Log` (one process) owns a data directory at a time; [`Log::open`]
/// takes an exclusive lock on `private/lock`.
pub struct Log {
    /// Where the public files are (the directory `public`, or objects).
    storage: Storage,
    /// The directory log's `public/` (empty for object storage).
    public: PathBuf,
    tmp: PathBuf,
    /// The log in object storage, with this sequencer's lease.
    object: Option<ObjectLog>,
    /// Object storage: the entries of a batch whose staging object was
    /// found at recovery, to commit before anything else.
    rollforward: Option<Vec<Vec<u8>>>,
    heartbeat: Option<Duration>,
    /// The log key, for a log that signs its own checkpoints; `None` for a
    /// mirror, which publishes checkpoints signed by the log it copies.
    signer: Option<SignerKey>,
    /// The key every published checkpoint must verify under.
    verifier: VerifierKey,
    opts: Options,
    _lock: Option<tallyboard_fs::Lock>,
    edge: Edge,
    /// A mirror's entries appended beyond the published tree, waiting for
    /// the checkpoint that covers them ([`Log::stage`]).
    staged: Option<Edge>,
    dedup: Dedup,
    reader: LogReader,
    /// Set while a commit is in progress and left set if it fails: the
    /// on-disk state may then be ahead of memory, so [`Log::recover`] must
    /// reload it before the next append.
    needs_recovery: bool,
    /// Held while `public/checkpoint` is replaced and published (commits
    /// and late cosignatures); set to `false` when the log is dropped.
    publish_lock: PublishLock,
}

impl Drop for Log {
    fn drop(&mut self) {
        *self
            .publish_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = false;
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("public", &self.public)
            .field("size", &self.edge.size)
            .field("mirror", &self.signer.is_none())
            .field("needs_recovery", &self.needs_recovery)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Opens (or creates) the log in `dir`, signing checkpoints with
    /// `signer` (the checkpoint origin is the key name).
    ///
    /// A new directory gets an empty log with a signed checkpoint of size 0.
    /// An existing one is recovered: the published checkpoint must verify
    /// under `signer`'s public key; the right edge of the tree is read back
    /// from the tiles and must hash to the checkpoint's root; files that an
    /// unfinished batch left beyond the checkpoint are removed; the
    /// deduplication index is rebuilt from the level-0 tiles.
    pub fn open(dir: &Path, signer: SignerKey, opts: Options) -> Result<Log, LogError> {
        let verifier = signer.verifier().clone();
        Log::open_with(dir, Some(signer), verifier, opts)
    }

    /// Opens (or creates) a *mirror* of the log whose checkpoints verify
    /// under `log_key`: a copy in the same layout, with the same durability
    /// contract, that never signs anything. Entries are appended with
    /// [`Log::stage`] and published with [`Log::publish_verified`], which
    /// takes a checkpoint signed by the log itself. A new directory has no
    /// checkpoint until the first one is published (the reader's checkpoint
    /// is then of size 0 with an empty note). Recovery is as for
    /// [`Log::open`], the checkpoint verifying under `log_key`. A mirror
    /// keeps no deduplication index: it copies the log entry for entry.
    pub fn open_mirror(dir: &Path, log_key: VerifierKey, opts: Options) -> Result<Log, LogError> {
        Log::open_with(dir, None, log_key, opts)
    }

    fn open_with(
        dir: &Path,
        signer: Option<SignerKey>,
        verifier: VerifierKey,
        opts: Options,
    ) -> Result<Log, LogError> {
        if opts.max_entry_size > usize::from(u16::MAX) {
            return Err(LogError::EntryTooLarge {
                len: opts.max_entry_size,
                max: usize::from(u16::MAX),
            });
        }
        let public = dir.join("public");
        let private = dir.join("private");
        let tmp = private.join("tmp");
        let lock =
            tallyboard_fs::open_locked(&[dir, &public, &private, &tmp], &private.join("lock"))
                .map_err(|e| e.or_held(|path| LogError::Locked { path }))?;
        let placeholder = SignedCheckpoint {
            size: 0,
            root: Hash::EMPTY_TREE,
            note: Vec::new(),
        };
        let storage = Storage::Dir(Arc::new(public.clone()));
        let mut log = Log {
            reader: LogReader::new(storage.clone(), placeholder),
            storage,
            public,
            tmp,
            object: None,
            rollforward: None,
            heartbeat: None,
            signer,
            verifier,
            opts,
            _lock: Some(lock),
            edge: Edge::default(),
            staged: None,
            dedup: Dedup::default(),
            needs_recovery: true,
            publish_lock: Arc::new(std::sync::Mutex::new(true)),
        };
        log.recover()?;
        Ok(log)
    }

    /// Reloads the log state from the data directory: the recovery that
    /// [`Log::open`] runs, also needed after a failed [`Log::append`].
    pub fn recover(&mut self) -> Result<(), LogError> {
        self.needs_recovery = true;
        self.staged = None;
        if let Some(o) = self.object.clone() {
            return self.recover_object(&o);
        }
        // Temporary files of an unfinished commit are garbage.
        tallyboard_fs::clear_dir(&self.tmp)?;
        let cp_path = self.public.join("checkpoint");
        let cp = match read_optional(&cp_path, MAX_NOTE)? {
            Some(note) => {
                let opened = open_checkpoint(&note, &self.verifier, &[], 0)
                    .map_err(LogError::BadCheckpoint)?;
                SignedCheckpoint {
                    size: opened.checkpoint.size,
                    root: opened.checkpoint.root,
                    note,
                }
            }
            None => {
                if self.signer.is_none() {
                    // A new mirror: nothing is published until the first
                    // checkpoint of the log it copies. Tiles without a
                    // checkpoint are what an interrupted first sync
                    // staged: unverified copies, removed.
                    self.remove_unpublished(0)?;
                    self.edge = Edge::default();
                    self.reader.publish(Arc::new(SignedCheckpoint {
                        size: 0,
                        root: Hash::EMPTY_TREE,
                        note: Vec::new(),
                    }));
                    self.dedup = Dedup::default();
                    self.needs_recovery = false;
                    return Ok(());
                }
                if self.public.join("tile").exists() {
                    return Err(LogError::MissingCheckpoint { path: cp_path });
                }
                // A new log: publish the empty tree.
                let note = self.sign(0, Hash::EMPTY_TREE)?;
                self.write_checkpoint(note.clone())?;
                SignedCheckpoint {
                    size: 0,
                    root: Hash::EMPTY_TREE,
                    note,
                }
            }
        };
        self.remove_unpublished(cp.size)?;
        self.load_published(cp)?;
        if self.signer.is_none() {
            self.needs_recovery = false;
            tracing::info!(
                size = self.edge.size,
                "mirror recovered from published checkpoint"
            );
            return Ok(());
        }
        self.rebuild_dedup()?;
        self.needs_recovery = false;
        tracing::info!(
            size = self.edge.size,
            "log recovered from published checkpoint"
        );
        Ok(())
    }

    /// Loads the right edge of the published tree `cp` from its partial
    /// tiles, checks it against the root and publishes `cp` to readers.
    fn load_published(&mut self, cp: SignedCheckpoint) -> Result<(), LogError> {
        let edge = Edge::load(&self.storage, cp.size)?;
        let root = edge.root()?;
        if root != cp.root {
            return Err(LogError::RootMismatch { size: cp.size });
        }
        self.edge = edge;
        self.reader.publish(Arc::new(cp));
        self.dedup = Dedup::default();
        Ok(())
    }

    /// Rebuilds the deduplication index from the level-0 tiles.
    fn rebuild_dedup(&mut self) -> Result<(), LogError> {
        let full_tiles = self.edge.size / TILE_WIDTH;
        for n in 0..full_tiles {
            let tile = read_tile_file(&self.storage, 0, n, self.edge.size)?;
            for (i, h) in tile.into_iter().enumerate() {
                self.rebuild_insert(h, n * TILE_WIDTH + i as u64)?;
            }
        }
        let edge_tile = self.edge.tiles.first().cloned().unwrap_or_default();
        for (i, h) in edge_tile.into_iter().enumerate() {
            self.rebuild_insert(h, full_tiles * TILE_WIDTH + i as u64)?;
        }
        Ok(())
    }

    /// Opens the log kept in object storage, signing checkpoints with
    /// `signer`, as its one sequencer.
    ///
    /// First checks that the store enforces conditional writes
    /// ([`ObjectStorage::check_conditions`]); then takes the sequencer
    /// state over by compare-and-swap (see [`ObjectOptions::takeover`]),
    /// creating it with the empty tree for a new log; then recovers as
    /// [`Log::open`] does, from the checkpoint in the state: the right
    /// edge from the partial tiles, checked against the root, the
    /// deduplication index from the level-0 tiles, and the entries of a
    /// batch that was written but not committed (its staging object),
    /// which are committed first, before anything new. Nothing is ever
    /// deleted or replaced but the state and the public checkpoint copy.
    pub fn open_object(
        storage: Arc<ObjectStorage>,
        signer: SignerKey,
        opts: Options,
        obj: ObjectOptions,
    ) -> Result<Log, LogError> {
        if opts.max_entry_size > usize::from(u16::MAX) {
            return Err(LogError::EntryTooLarge {
                len: opts.max_entry_size,
                max: usize::from(u16::MAX),
            });
        }
        storage.check_conditions()?;
        let verifier = signer.verifier().clone();
        let mut suffix = [0u8; 4];
        getrandom::fill(&mut suffix).map_err(|e| LogError::Store {
            op: "random holder name",
            object: storage.base_url().to_owned(),
            source: e.to_string().into(),
        })?;
        let holder = format!("{}#{}", holder_name(&obj.holder), hex::encode(suffix));
        let (beat, version) = match storage.read_state()? {
            None => {
                if storage.head("checkpoint")?.is_some() || storage.any_under("tile")? {
                    return Err(LogError::MissingCheckpoint {
                        path: PathBuf::from(storage.url(STATE)),
                    });
                }
                let cp = Checkpoint::new(signer.name(), 0, Hash::EMPTY_TREE);
                let note = sign_checkpoint(&cp, &signer).map_err(LogError::Sign)?;
                let record = StateRecord {
                    holder: holder.clone(),
                    beat: 0,
                    note,
                };
                match storage.swap(STATE, record.to_bytes(), None)? {
                    Swap::Done(v) => (0, v),
                    Swap::Lost => {
                        return Err(LogError::Superseded {
                            holder: String::new(),
                        });
                    }
                }
            }
            Some((record, current)) => {
                if let Some(stale) = &obj.takeover
                    && stale.version.as_ref() != Some(&current)
                {
                    return Err(LogError::Superseded {
                        holder: record.holder,
                    });
                }
                let mine = StateRecord {
                    holder: holder.clone(),
                    beat: record.beat + 1,
                    note: record.note,
                };
                match storage.swap(STATE, mine.to_bytes(), Some(current))? {
                    Swap::Done(v) => (mine.beat, v),
                    Swap::Lost => {
                        return Err(LogError::Superseded {
                            holder: String::new(),
                        });
                    }
                }
            }
        };
        tracing::info!(holder = %holder, store = %storage.base_url(), "holding the sequencer state");
        let object = ObjectLog {
            storage: storage.clone(),
            lease: Arc::new(std::sync::Mutex::new(Lease {
                holder,
                beat,
                version,
                cp_version: None,
                lost: false,
            })),
        };
        let st = Storage::Object(storage);
        let placeholder = SignedCheckpoint {
            size: 0,
            root: Hash::EMPTY_TREE,
            note: Vec::new(),
        };
        let mut log = Log {
            reader: LogReader::new(st.clone(), placeholder),
            storage: st,
            public: PathBuf::new(),
            tmp: PathBuf::new(),
            object: Some(object),
            rollforward: None,
            heartbeat: Some(obj.heartbeat),
            signer: Some(signer),
            verifier,
            opts,
            _lock: None,
            edge: Edge::default(),
            staged: None,
            dedup: Dedup::default(),
            needs_recovery: true,
            publish_lock: Arc::new(std::sync::Mutex::new(true)),
        };
        log.recover()?;
        Ok(log)
    }

    fn recover_object(&mut self, o: &ObjectLog) -> Result<(), LogError> {
        let (record, version) = o.storage.read_state()?.ok_or(LogError::MissingCheckpoint {
            path: PathBuf::from(o.storage.url(STATE)),
        })?;
        {
            let lease = o
                .lease
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if lease.lost || lease.version != version || lease.holder != record.holder {
                drop(lease);
                o.lease
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .lost = true;
                return Err(LogError::Superseded {
                    holder: record.holder,
                });
            }
        }
        let opened = open_checkpoint(&record.note, &self.verifier, &[], 0)
            .map_err(LogError::BadCheckpoint)?;
        let cp = SignedCheckpoint {
            size: opened.checkpoint.size,
            root: opened.checkpoint.root,
            note: record.note.clone(),
        };
        let size = cp.size;
        self.load_published(cp)?;
        o.sync_public_checkpoint(&record.note)?;
        self.rebuild_dedup()?;
        let staging = format!("{STAGING}/{size}");
        self.rollforward = match o.storage.get(&staging, 64 << 20)? {
            None => None,
            Some((bytes, _)) => Some(decode_staging(&bytes).ok_or_else(|| LogError::BadState {
                object: o.storage.url(&staging),
                reason: "malformed staging object".to_owned(),
            })?),
        };
        if let Some(rf) = &self.rollforward {
            tracing::warn!(
                entries = rf.len(),
                size,
                "a batch was written but not committed: committing it first"
            );
        }
        self.needs_recovery = false;
        tracing::info!(
            size,
            "log recovered from the sequencer state in object storage"
        );
        Ok(())
    }

    /// Object storage: the entries of a batch that was written but not
    /// committed before a crash, found at recovery. A caller that admits
    /// entries (the [`crate::Sequencer`]) takes them and commits them
    /// first; otherwise the next append commits them before its own.
    pub fn take_rollforward(&mut self) -> Option<Vec<Vec<u8>>> {
        self.rollforward.take()
    }

    /// Object storage: how often an idle sequencer must call
    /// [`Log::heartbeat`]; `None` for a directory.
    pub fn heartbeat_interval(&self) -> Option<Duration> {
        self.heartbeat
    }

    /// Object storage: rewrites the state (same checkpoint, next beat) by
    /// compare-and-swap, showing a standby that this sequencer is alive.
    /// [`LogError::Superseded`] if another sequencer has taken over.
    pub fn heartbeat(&mut self) -> Result<(), LogError> {
        let Some(o) = &self.object else {
            return Ok(());
        };
        let publish_lock = self.publish_lock.clone();
        let _publishing = publish_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let note = self.reader.checkpoint().note.clone();
        o.publish(&note)
    }

    /// Object storage: the name this sequencer holds the state under.
    pub fn holder(&self) -> Option<String> {
        self.object.as_ref().map(ObjectLog::holder)
    }

    /// Where the log's public files are.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    fn rebuild_insert(&mut self, h: Hash, index: u64) -> Result<(), LogError> {
        let known = self.dedup.lookup(&h, |i| self.leaf_hash_at(i))?;
        if known.is_none() {
            self.dedup.insert_new(h, index);
        }
        Ok(())
    }

    /// Removes the tiles and bundles that a batch wrote beyond the
    /// published tree of `size` leaves before it failed: the rightmost
    /// tile's wider partial versions, and every later tile, at every level.
    fn remove_unpublished(&self, size: u64) -> Result<(), LogError> {
        // (level, full path of tile n): entry bundles behave as level 0.
        type PathOf = Box<dyn Fn(u64) -> Option<String>>;
        let mut kinds: Vec<(usize, PathOf)> = vec![(
            0,
            Box::new(|n| BundleId::new(n, 256).ok().map(|b| b.path())),
        )];
        for level in 0..=MAX_TILE_LEVEL {
            if !self.public.join("tile").join(level.to_string()).is_dir() {
                break;
            }
            kinds.push((
                usize::from(level),
                Box::new(move |n| TileId::full(level, n).ok().map(|t| t.path())),
            ));
        }
        let mut touched = Vec::new();
        for (level, path_of) in kinds {
            let (edge_n, edge_w) = edge_index(size, level);
            let full = |n: u64| path_of(n).map(|p| self.public.join(p));
            let partials = |n: u64| path_of(n).map(|p| self.public.join(format!("{p}.p")));
            let exists = |p: Option<PathBuf>| p.is_some_and(|p| p.exists());
            let mut last = edge_n;
            while exists(full(last + 1)) || exists(partials(last + 1)) {
                last += 1;
            }
            for n in (edge_n..=last).rev() {
                if let Some(f) = full(n).filter(|f| f.exists()) {
                    fs::remove_file(&f).map_err(io_err("remove", &f))?;
                    touched.push(f);
                }
                let Some(p) = partials(n).filter(|p| p.is_dir()) else {
                    continue;
                };
                if n > edge_n {
                    fs::remove_dir_all(&p).map_err(io_err("remove", &p))?;
                    touched.push(p);
                    continue;
                }
                for e in fs::read_dir(&p).map_err(io_err("list", &p))? {
                    let e = e.map_err(io_err("list", &p))?;
                    let keep = e
                        .file_name()
                        .to_str()
                        .and_then(|w| w.parse::<u64>().ok())
                        .is_some_and(|w| w <= edge_w);
                    if !keep {
                        let f = e.path();
                        fs::remove_file(&f).map_err(io_err("remove", &f))?;
                        touched.push(f);
                    }
                }
            }
        }
        for t in &touched {
            tracing::warn!(path = %t.display(), "removed file beyond the published checkpoint");
            if let Some(parent) = t.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(())
    }

    /// Writes tiles and bundles durably (step 1 of the durability contract).
    fn write_tiles(&self, files: &[PublicFile]) -> Result<(), LogError> {
        if let Some(o) = &self.object {
            return o.storage.create_all(files);
        }
        self.writer()
            .write_all(
                files,
                Step::TilesWritten,
                Step::TileRenamed,
                Step::TilesDurable,
            )
            .map_err(LogError::Io)
    }

    /// Publishes a checkpoint note durably (step 2, the commit point).
    fn write_checkpoint(&self, note: Vec<u8>) -> Result<(), LogError> {
        if let Some(o) = &self.object {
            return o.publish(&note);
        }
        self.writer()
            .write_all(
                &[("checkpoint".to_owned(), note)],
                Step::CheckpointWritten,
                Step::CheckpointRenamed,
                Step::CheckpointDurable,
            )
            .map_err(LogError::Io)
    }

    /// Whether a batch may be stored now: the right mode (`mirror`), no
    /// recovery pending, every entry within the size limits.
    fn check_batch(&self, mirror: bool, entries: &[Vec<u8>]) -> Result<(), LogError> {
        match (mirror, self.signer.is_some()) {
            (true, true) => return Err(LogError::NotMirror),
            (false, false) => return Err(LogError::Mirror),
            _ => {}
        }
        if self.needs_recovery {
            return Err(LogError::NeedsRecovery);
        }
        entries.iter().try_for_each(|e| self.check_entry(e))
    }

    fn writer(&self) -> DurableWriter<'_> {
        DurableWriter {
            root: &self.public,
            tmp: &self.tmp,
            hook: self.opts.fault_hook.as_ref(),
        }
    }

    fn sign(&self, size: u64, root: Hash) -> Result<Vec<u8>, LogError> {
        let Some(signer) = &self.signer else {
            return Err(LogError::Mirror);
        };
        let cp = Checkpoint::new(signer.name(), size, root);
        sign_checkpoint(&cp, signer).map_err(LogError::Sign)
    }

    /// Whether this is a mirror ([`Log::open_mirror`]).
    pub fn is_mirror(&self) -> bool {
        self.signer.is_none()
    }

    /// The size of the tree including the entries staged by [`Log::stage`]
    /// and not yet published (the published size if none are).
    pub fn staged_size(&self) -> u64 {
        self.staged.as_ref().map_or(self.edge.size, |e| e.size)
    }

    /// The RFC 6962 root of the tree including the staged entries.
    pub fn staged_root(&self) -> Result<Hash, LogError> {
        self.staged.as_ref().unwrap_or(&self.edge).root()
    }

    /// A mirror appends `entries` beyond the published tree (and beyond
    /// earlier staged entries) without publishing them: every tile and
    /// bundle that becomes full is written durably (full tiles never
    /// change), nothing else. Readers do not see staged entries.
    /// [`Log::publish_verified`] publishes them with the checkpoint that
    /// covers them; [`Log::discard_staged`] (or a restart) forgets them
    /// and removes their files. Entries are stored as given, duplicates
    /// included: a mirror copies the log entry for entry.
    pub fn stage(&mut self, entries: &[Vec<u8>]) -> Result<(), LogError> {
        self.check_batch(true, entries)?;
        if entries.is_empty() {
            return Ok(());
        }
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let base = self.staged.as_ref().unwrap_or(&self.edge);
        let (edge, files) = base.extend(&refs)?;
        let full: Vec<PublicFile> = files.into_iter().filter(|(p, _)| is_full_path(p)).collect();
        if !full.is_empty() {
            self.needs_recovery = true;
            self.write_tiles(&full)?;
            self.needs_recovery = false;
        }
        self.staged = Some(edge);
        Ok(())
    }

    /// Forgets the staged entries and removes the files written for them
    /// (a recovery from the published checkpoint).
    pub fn discard_staged(&mut self) -> Result<(), LogError> {
        self.recover()
    }

    /// Publishes `note`, a checkpoint signed elsewhere (by the log this
    /// mirror copies, possibly with cosignatures), over the entries
    /// published and staged so far.
    ///
    /// The note must verify under the log key (cosignatures are the
    /// caller's business: it checks its quorum before calling), name
    /// exactly the staged tree size and the root that the stored entries
    /// hash to; otherwise nothing is published and the error says why.
    /// The same durability contract as [`Log::append`] holds: the partial
    /// tiles of the new size are written durably, then the checkpoint. A
    /// note for the published size and root replaces the published one
    /// (the same checkpoint with more cosignatures); a log that signs its
    /// own checkpoints may use this for that purpose too.
    pub fn publish_verified(&mut self, note: &[u8]) -> Result<Arc<SignedCheckpoint>, LogError> {
        if self.needs_recovery {
            return Err(LogError::NeedsRecovery);
        }
        let opened =
            open_checkpoint(note, &self.verifier, &[], 0).map_err(LogError::BadCheckpoint)?;
        let (size, root) = (opened.checkpoint.size, opened.checkpoint.root);
        let target = self.staged.as_ref().unwrap_or(&self.edge);
        if size != target.size {
            return Err(LogError::SizeMismatch {
                checkpoint: size,
                stored: target.size,
            });
        }
        if target.root()? != root {
            return Err(LogError::RootMismatch { size });
        }
        let published = self.reader.checkpoint();
        if published.size == size && published.note == note {
            return Ok(published);
        }
        self.needs_recovery = true;
        if size != self.edge.size {
            let files = target.partial_files()?;
            self.write_tiles(&files)?;
        }
        let publish_lock = self.publish_lock.clone();
        let _publishing = publish_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.write_checkpoint(note.to_vec())?;
        if let Some(staged) = self.staged.take() {
            self.edge = staged;
        }
        let cp = Arc::new(SignedCheckpoint {
            size,
            root,
            note: note.to_vec(),
        });
        self.reader.publish(cp.clone());
        self.needs_recovery = false;
        tracing::debug!(size, "published verified checkpoint");
        Ok(cp)
    }

    /// The leaf hash of published entry `index`.
    fn leaf_hash_at(&self, index: u64) -> Result<Hash, LogError> {
        let edge_start = self.edge.size - self.edge.size % TILE_WIDTH;
        if index >= edge_start {
            return self
                .edge
                .tiles
                .first()
                .and_then(|t| t.get((index - edge_start) as usize))
                .copied()
                .ok_or(LogError::NotPublished {
                    index,
                    size: self.edge.size,
                    what: "entry",
                });
        }
        let tile = read_tile_file(&self.storage, 0, index / TILE_WIDTH, self.edge.size)?;
        tile.get((index % TILE_WIDTH) as usize)
            .copied()
            .ok_or(LogError::NotPublished {
                index,
                size: self.edge.size,
                what: "entry",
            })
    }

    /// A reader of the published log, sharing this log's checkpoint.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }

    /// A handle that adds late witness cosignatures to the published
    /// checkpoint (see [`CheckpointPublisher`]).
    pub fn publisher(&self) -> CheckpointPublisher {
        CheckpointPublisher {
            public: self.public.clone(),
            tmp: self.tmp.clone(),
            object: self.object.clone(),
            reader: self.reader.clone(),
            lock: self.publish_lock.clone(),
        }
    }

    /// Asks the cosigner (if any) for cosignatures on `bare`, the checkpoint
    /// just made durable, and writes the cosigned note over it. Any failure
    /// here leaves the log-signed checkpoint published: it is valid alone.
    fn cosigned(&self, bare: SignedCheckpoint) -> SignedCheckpoint {
        let Some(c) = &self.opts.cosigner else {
            return bare;
        };
        let pinned = LogReader::new(self.storage.clone(), bare.clone());
        let lines = c.cosign(&bare, &pinned);
        if lines.is_empty() {
            return bare;
        }
        let Some(note) = with_lines(&bare.note, &lines) else {
            tracing::warn!(
                "the cosignatures do not fit on the checkpoint note; publishing it without them"
            );
            return bare;
        };
        let written = match &self.object {
            Some(o) => o.publish(&note),
            None => write_checkpoint(&self.public, &self.tmp, &note).map_err(LogError::Io),
        };
        match written {
            Ok(()) => SignedCheckpoint { note, ..bare },
            Err(e) => {
                tracing::error!(error = %e, "could not write the cosigned checkpoint; the log-signed one stays published");
                bare
            }
        }
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        self.reader.checkpoint()
    }

    /// The largest entry accepted, in bytes.
    pub fn max_entry_size(&self) -> usize {
        self.opts.max_entry_size
    }

    /// The index of `entry` if it is in the published log.
    pub fn find(&self, entry: &[u8]) -> Result<Option<u64>, LogError> {
        self.dedup
            .lookup(&leaf_hash(entry), |i| self.leaf_hash_at(i))
    }

    /// Checks that `entry` may be appended (size only; the log does not
    /// interpret entries).
    pub fn check_entry(&self, entry: &[u8]) -> Result<(), LogError> {
        check_entry(entry, self.opts.max_entry_size)
    }

    /// Appends a batch of entries and publishes the new checkpoint.
    ///
    /// Entries already in the log, or repeated within the batch, are not
    /// stored again: they get their existing index. The new tiles and entry
    /// bundles are made durable first, then the signed checkpoint is
    /// published (durably); only then does this return, with the inclusion
    /// proof of every entry in the published checkpoint. On error nothing
    /// may be acknowledged; call [`Log::recover`] before appending again.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<Batch, LogError> {
        let (checkpoint, results) = self.commit(entries, &mut |_| Ok(()))?;
        Ok(Batch {
            checkpoint,
            entries: results.into_iter().filter_map(Result::ok).collect(),
        })
    }

    /// As [`Log::append`], asking `admit` about every entry that is not
    /// already in the log, in log order, just before it would be given the
    /// next index; an entry it refuses is not stored and its result is the
    /// refusal. Entries already in the log are not shown to `admit`.
    pub fn append_admitted(
        &mut self,
        entries: &[Vec<u8>],
        admit: &mut dyn FnMut(&[u8]) -> Result<(), Refusal>,
    ) -> Result<AdmittedBatch, LogError> {
        let (checkpoint, entries) = self.commit(entries, admit)?;
        Ok(AdmittedBatch {
            checkpoint,
            entries,
        })
    }

    #[allow(clippy::type_complexity)]
    fn commit(
        &mut self,
        entries: &[Vec<u8>],
        admit: &mut dyn FnMut(&[u8]) -> Result<(), Refusal>,
    ) -> Result<(Arc<SignedCheckpoint>, Vec<Result<Appended, Refusal>>), LogError> {
        self.check_batch(false, entries)?;
        if let Some(rf) = self.rollforward.take() {
            self.commit(&rf, admit)?;
        }
        let mut fresh: Vec<&[u8]> = Vec::new();
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let mut slots = Vec::with_capacity(entries.len());
        for e in entries {
            let h = leaf_hash(e);
            if let Some(i) = self.dedup.lookup(&h, |i| self.leaf_hash_at(i))? {
                slots.push(Ok((i, true)));
            } else if let Some(&i) = in_batch.get(&h) {
                slots.push(Ok((i, true)));
            } else if let Err(r) = admit(e) {
                slots.push(Err(r));
            } else {
                let i = self.edge.size + fresh.len() as u64;
                in_batch.insert(h, i);
                fresh.push(e);
                slots.push(Ok((i, false)));
            }
        }
        if !fresh.is_empty() {
            self.needs_recovery = true;
            let (edge, files) = self.edge.extend(&fresh)?;
            let staging = format!("{STAGING}/{}", self.edge.size);
            if let Some(o) = &self.object {
                let bytes = encode_staging(&fresh, &o.storage.url(&staging))?;
                o.storage.create_all(&[(staging.clone(), bytes)])?;
            }
            self.write_tiles(&files)?;
            let root = edge.root()?;
            let note = self.sign(edge.size, root)?;
            let publish_lock = self.publish_lock.clone();
            let _publishing = publish_lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.write_checkpoint(note.clone())?;
            // Published and durable: memory follows the disk.
            self.edge = edge;
            for (h, i) in in_batch {
                self.dedup.insert_new(h, i);
            }
            self.needs_recovery = false;
            let published = self.cosigned(SignedCheckpoint {
                size: self.edge.size,
                root,
                note,
            });
            self.reader.publish(Arc::new(published));
            if let Some(o) = &self.object
                && let Err(e) = o.storage.delete(&staging)
            {
                tracing::warn!(error = %e, "could not delete the staging object of a committed batch");
            }
            tracing::debug!(
                size = self.edge.size,
                appended = fresh.len(),
                "published checkpoint"
            );
        }
        let checkpoint = self.reader.checkpoint();
        let hashes = TileHashes::new(&self.storage, checkpoint.size, checkpoint.size);
        for (level, tile) in self.edge.tiles.iter().enumerate() {
            let (n, _) = edge_index(self.edge.size, level);
            if !tile.is_empty() {
                hashes.seed(level as u8, n, tile.clone());
            }
        }
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            out.push(match slot {
                Ok((index, duplicate)) => Ok(Appended {
                    index,
                    proof: prove_inclusion_with(&hashes, index, checkpoint.size)?,
                    duplicate,
                }),
                Err(r) => Err(r),
            });
        }
        Ok((checkpoint, out))
    }
}

/// Checks the size of an entry: non-empty and at most `max` bytes.
pub(crate) fn check_entry(entry: &[u8], max: usize) -> Result<(), LogError> {
    if entry.is_empty() {
        return Err(LogError::EmptyEntry);
    }
    if entry.len() > max {
        return Err(LogError::EntryTooLarge {
            len: entry.len(),
            max,
        });
    }
    Ok(())
}

/// The operator's name for a holder as the state object allows it
/// (`tallyboard_core::store_objects`): control characters as spaces, at
/// most 900 bytes (the random suffix is added after it), never empty.
fn holder_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > 900 {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        out.push_str("tallyboard");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn h(prefix: u8, rest: u8) -> Hash {
        let mut b = [rest; 32];
        b[..8].copy_from_slice(&[prefix; 8]);
        Hash(b)
    }

    #[test]
    fn dedup_tells_apart_hashes_sharing_the_8_byte_prefix() {
        let stored = [h(1, 1), h(2, 2), h(1, 3)];
        let leaf_at = |i: u64| Ok(stored[i as usize]);
        let mut d = Dedup::default();
        for (i, x) in stored.iter().enumerate() {
            assert_eq!(d.lookup(x, leaf_at).unwrap(), None);
            d.insert_new(*x, i as u64);
        }
        assert_eq!(d.lookup(&h(1, 1), leaf_at).unwrap(), Some(0));
        assert_eq!(d.lookup(&h(2, 2), leaf_at).unwrap(), Some(1));
        assert_eq!(d.lookup(&h(1, 3), leaf_at).unwrap(), Some(2));
        assert_eq!(d.lookup(&h(1, 4), leaf_at).unwrap(), None);
        assert_eq!(d.lookup(&h(3, 3), leaf_at).unwrap(), None);
        assert_eq!(d.overflow.len(), 1);
    }
}
