//! Reading the published log: tiles, entry bundles, entries and proofs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, PoisonError, RwLock};

use tallyboard_core::Hash;
use tallyboard_core::limits::MAX_ENTRY_BUNDLE;
use tallyboard_core::merkle::{self, HashReader, TreeError};
use tallyboard_core::tile::{BundleId, EntryBundle, FULL_TILE_LEN, HashTile, TileId, TilePath};

use crate::LogError;
use crate::storage::Storage;

/// Hashes in a full tile, entries in a full bundle.
pub(crate) const TILE_WIDTH: u64 = tallyboard_core::tile::TILE_WIDTH as u64;

/// A checkpoint that the log has signed and published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    pub root: Hash,
    /// The signed note (C2SP tlog-checkpoint), byte for byte as published.
    pub note: Vec<u8>,
}

/// Read access to the published part of a log, safe to share between
/// threads and to use while the sequencer appends.
///
/// Every read is relative to a published checkpoint: nothing beyond the
/// latest published tree size is ever returned, even if the sequencer has
/// already written the tiles of the next batch.
#[derive(Clone, Debug)]
pub struct LogReader {
    storage: Storage,
    current: Arc<RwLock<Arc<SignedCheckpoint>>>,
}

/// How many hashes of tile `(level, index)` a tree of `size` leaves has
/// (0 if none, 256 if the tile is full).
pub(crate) fn tile_width_at(level: u8, index: u64, size: u64) -> u64 {
    TileId::in_tree(level, index, size).map_or(0, |t| u64::from(t.width()))
}

/// Reads tile `(level, index)` as published for tree size `size`.
pub(crate) fn read_tile_file(
    public: &Storage,
    level: u8,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    let id = TileId::in_tree(level, index, size).ok_or(LogError::NotPublished {
        index,
        size,
        what: "tile",
    })?;
    let rel = id.path();
    let bytes = public
        .read(&rel, FULL_TILE_LEN)?
        .ok_or_else(|| LogError::MissingFile {
            path: public.name(&rel),
        })?;
    match HashTile::from_bytes(&bytes, id.width()) {
        Ok(t) => Ok(t.hashes().to_vec()),
        Err(source) => Err(LogError::CorruptFile {
            path: public.name(&rel),
            source,
        }),
    }
}

/// Reads entry bundle `index` as published for tree size `size`.
pub(crate) fn read_bundle_file(
    public: &Storage,
    index: u64,
    size: u64,
) -> Result<Vec<Vec<u8>>, LogError> {
    let id = BundleId::in_tree(index, size).ok_or(LogError::NotPublished {
        index,
        size,
        what: "entry bundle",
    })?;
    let rel = id.path();
    let bytes = public
        .read(&rel, MAX_ENTRY_BUNDLE)?
        .ok_or_else(|| LogError::MissingFile {
            path: public.name(&rel),
        })?;
    match EntryBundle::from_bytes(&bytes, id.width()) {
        Ok(b) => Ok(b.entries().to_vec()),
        Err(source) => Err(LogError::CorruptFile {
            path: public.name(&rel),
            source,
        }),
    }
}

impl LogReader {
    pub(crate) fn new(storage: Storage, current: SignedCheckpoint) -> LogReader {
        LogReader {
            storage,
            current: Arc::new(RwLock::new(Arc::new(current))),
        }
    }

    pub(crate) fn publish(&self, cp: Arc<SignedCheckpoint>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = cp;
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Arc<SignedCheckpoint> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The `public/` directory: the C2SP read paths, servable as static
    /// files (an empty path for a log in object storage: see
    /// [`LogReader::storage`]).
    pub fn public_dir(&self) -> &Path {
        match &self.storage {
            Storage::Dir(d) => d,
            Storage::Object(_) => Path::new(""),
        }
    }

    /// Where the log's public files are.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A reader of the log kept in object storage (a standby's view),
    /// starting at its published checkpoint, which must verify under
    /// `key`; [`LogReader::refresh`] follows it.
    pub fn open_object(
        storage: Arc<crate::ObjectStorage>,
        key: &tallyboard_core::note::VerifierKey,
    ) -> Result<LogReader, LogError> {
        let r = LogReader::new(
            Storage::Object(storage),
            SignedCheckpoint {
                size: 0,
                root: Hash::EMPTY_TREE,
                note: Vec::new(),
            },
        );
        r.refresh(key)?;
        Ok(r)
    }

    /// Reads the published checkpoint again (object storage: another
    /// process sequences); it must verify under `key`. A checkpoint smaller
    /// than the one held is ignored. Returns whether it advanced.
    pub fn refresh(&self, key: &tallyboard_core::note::VerifierKey) -> Result<bool, LogError> {
        let Some(note) = self
            .storage
            .read("checkpoint", tallyboard_core::limits::MAX_NOTE)?
        else {
            return Ok(false);
        };
        let opened = tallyboard_core::checkpoint::open_checkpoint(&note, key, &[], 0)
            .map_err(LogError::BadCheckpoint)?;
        let cur = self.checkpoint();
        if opened.checkpoint.size < cur.size || (cur.note == note) {
            return Ok(false);
        }
        self.publish(Arc::new(SignedCheckpoint {
            size: opened.checkpoint.size,
            root: opened.checkpoint.root,
            note,
        }));
        Ok(true)
    }

    /// The bytes of a tile or entry bundle, if the latest published
    /// checkpoint covers it (`None` otherwise, and for a partial tile of a
    /// width no checkpoint had). Files written for a batch that is not
    /// published yet are never returned.
    pub fn read_path(&self, p: &TilePath) -> Result<Option<Vec<u8>>, LogError> {
        let size = self.checkpoint().size;
        let (tile, cap) = match p {
            TilePath::Hashes(t) => (*t, FULL_TILE_LEN),
            TilePath::Entries(b) => (b.tile(), MAX_ENTRY_BUNDLE),
        };
        if tile_width_at(tile.level(), tile.index(), size) < u64::from(tile.width()) {
            return Ok(None);
        }
        self.storage.read(&p.path(), cap)
    }

    /// The hashes of tile `(level, index)` in the tree of `size` leaves
    /// (`size` at most the published size): 256 for a full tile, fewer for
    /// the right edge.
    pub fn tile(&self, level: u8, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        let published = self.checkpoint().size;
        check_size(size, published)?;
        let want = tile_width_at(level, index, size);
        if want == 0 {
            return Err(LogError::NotPublished {
                index,
                size,
                what: "tile",
            });
        }
        let mut t = read_tile_file(&self.storage, level, index, published)?;
        t.truncate(want as usize);
        Ok(t)
    }

    /// The entry at `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let size = self.checkpoint().size;
        if index >= size {
            return Err(LogError::NotPublished {
                index,
                size,
                what: "entry",
            });
        }
        let bundle = read_bundle_file(&self.storage, index / TILE_WIDTH, size)?;
        bundle
            .into_iter()
            .nth((index % TILE_WIDTH) as usize)
            .ok_or(LogError::NotPublished {
                index,
                size,
                what: "entry",
            })
    }

    /// The entries of bundle `index` (up to 256), as of the latest
    /// published checkpoint.
    pub fn bundle(&self, index: u64) -> Result<Vec<Vec<u8>>, LogError> {
        read_bundle_file(&self.storage, index, self.checkpoint().size)
    }

    /// RFC 6962 inclusion proof of leaf `index` in the tree of `size`
    /// leaves (`index < size <=` the published size).
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        let published = self.checkpoint().size;
        check_size(size, published)?;
        let r = TileHashes::new(&self.storage, published, size);
        prove_inclusion_with(&r, index, size)
    }

    /// RFC 6962 consistency proof from the tree of `old_size` leaves to the
    /// tree of `new_size` leaves (`0 < old_size <= new_size <=` the
    /// published size).
    pub fn prove_consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, LogError> {
        let published = self.checkpoint().size;
        check_size(new_size, published)?;
        let r = TileHashes::new(&self.storage, published, new_size);
        merkle::prove_consistency(old_size, new_size, &r).map_err(tree_error)
    }

    /// The RFC 6962 root of the tree of `size` leaves (at most the
    /// published size), recomputed from the tiles.
    pub fn tree_hash(&self, size: u64) -> Result<Hash, LogError> {
        let published = self.checkpoint().size;
        check_size(size, published)?;
        let r = TileHashes::new(&self.storage, published, size);
        merkle::tree_hash_from_reader(size, &r).map_err(tree_error)
    }
}

fn check_size(size: u64, published: u64) -> Result<(), LogError> {
    if size > published {
        return Err(LogError::NotPublished {
            index: size,
            size: published,
            what: "tree size",
        });
    }
    Ok(())
}

pub(crate) fn prove_inclusion_with(
    r: &TileHashes<'_>,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    if index >= size {
        return Err(LogError::NotPublished {
            index,
            size,
            what: "entry",
        });
    }
    merkle::prove_inclusion(size, index, r).map_err(tree_error)
}

pub(crate) fn tree_error(e: TreeError<LogError>) -> LogError {
    match e {
        TreeError::Read(e) => e,
        other => LogError::Tree(Box::new(other)),
    }
}

/// The hashes of one tile and of every complete subtree inside it:
/// `levels[r]` holds the roots of the aligned groups of `2^r` tile hashes.
struct TileTree {
    levels: Vec<Vec<Hash>>,
}

impl TileTree {
    fn new(hashes: Vec<Hash>) -> TileTree {
        let mut levels = vec![hashes];
        while let Some(last) = levels.last() {
            if last.len() < 2 {
                break;
            }
            let next: Vec<Hash> = last
                .chunks_exact(2)
                .map(|p| tallyboard_core::node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        TileTree { levels }
    }
}

/// A [`HashReader`] over the tiles of a published tree: the stored hash of
/// node `(h, n)` is taken from the tile at level `h / 8`, hashing the
/// `2^(h % 8)` tile hashes below it. Tiles are read once and cached.
pub(crate) struct TileHashes<'a> {
    public: &'a Storage,
    /// A published size whose tiles are on disk.
    read_size: u64,
    /// The tree size the proof is about (at most `read_size`).
    limit: u64,
    cache: RefCell<HashMap<(u8, u64), Rc<TileTree>>>,
}

impl<'a> TileHashes<'a> {
    pub(crate) fn new(public: &'a Storage, read_size: u64, limit: u64) -> TileHashes<'a> {
        TileHashes {
            public,
            read_size,
            limit,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// Supplies a tile from memory (the hashes it holds at `read_size`).
    pub(crate) fn seed(&self, level: u8, index: u64, hashes: Vec<Hash>) {
        self.cache
            .borrow_mut()
            .insert((level, index), Rc::new(TileTree::new(hashes)));
    }

    fn tile_tree(&self, level: u8, index: u64) -> Result<Rc<TileTree>, LogError> {
        if let Some(t) = self.cache.borrow().get(&(level, index)) {
            return Ok(t.clone());
        }
        let hashes = read_tile_file(self.public, level, index, self.read_size)?;
        let t = Rc::new(TileTree::new(hashes));
        self.cache.borrow_mut().insert((level, index), t.clone());
        Ok(t)
    }

    fn stored_hash(&self, stored_index: u64) -> Result<Hash, LogError> {
        let (h, n) = merkle::split_stored_hash_index(stored_index);
        let not_in_tree = LogError::NotPublished {
            index: stored_index,
            size: self.limit,
            what: "stored hash",
        };
        // The node covers leaves [n·2^h, (n+1)·2^h); it must be complete.
        let end = n
            .checked_add(1)
            .and_then(|m| m.checked_shl(u32::from(h)))
            .filter(|&e| e >> h == n + 1);
        match end {
            Some(e) if e <= self.limit => {}
            _ => return Err(not_in_tree),
        }
        let level = h / 8;
        let r = u32::from(h % 8);
        let start = n << r; // index among the level's tile hashes
        let tile = start / TILE_WIDTH;
        let within = (start % TILE_WIDTH) >> r;
        let t = self.tile_tree(level, tile)?;
        t.levels
            .get(r as usize)
            .and_then(|l| l.get(within as usize))
            .copied()
            .ok_or(not_in_tree)
    }
}

impl HashReader for TileHashes<'_> {
    type Error = LogError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError> {
        indexes.iter().map(|&i| self.stored_hash(i)).collect()
    }
}
