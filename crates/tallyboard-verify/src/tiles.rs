//! The check of the hash tiles a source serves (spec/verify.md §2.2).
//!
//! C2SP clients build their proofs from a source's tiles, not from its
//! entries, so a source whose bundles are right but whose tiles are altered
//! misleads every client but the one that recomputes. [`check_served_tiles`]
//! compares each tile a source serves for a checked tree, at every level,
//! full and partial, with the tile recomputed from the entries (the
//! [`crate::follow::Item::Tile`] items of a successful follow), and the
//! older partial tiles and bundles kept for clients holding older
//! checkpoints with the prefix of the current ones. Tiles are fetched
//! `concurrency` at a time; only a digest of each recomputed tile is kept.
//!
//! A tile that differs is bad data with evidence (spec/verify.md §3.2):
//! the signed checkpoint, the tile as served and the source's tiles that
//! show it does not hash to the checkpoint's root (a tile that differs from
//! the recomputed one cannot authenticate against it), or, for an older
//! partial tile or bundle, the source's tiles that authenticate the current
//! tile of which it must be a prefix.

use std::collections::{BTreeSet, HashMap};

use futures_util::StreamExt as _;
use futures_util::stream;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::OpenedCheckpoint;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::tile::{BundleId, HashTile, TileId, partial_tiles};

use crate::evidence::{Evidence, Served};
use crate::follow::{BundleMismatch, bad_tiles_evidence, bundle_mismatch};
use crate::source::{FetchError, Source, TileCache, TilesError};

/// The digests of the tiles recomputed from the entries during a follow:
/// what the source's tiles are compared with.
#[derive(Clone, Debug, Default)]
pub struct Recomputed {
    tiles: Vec<(TileId, Hash)>,
}

impl Recomputed {
    /// No tiles.
    pub fn new() -> Recomputed {
        Recomputed::default()
    }

    /// Records a recomputed tile (keeps the SHA-256 of its bytes).
    pub fn add(&mut self, id: TileId, tile: &HashTile) {
        self.tiles.push((id, Hash::sha256(&tile.to_bytes())));
    }

    /// Number of tiles recorded.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether no tile was recorded.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

/// A served tile or bundle that contradicts the checked tree.
#[derive(Debug)]
pub struct TileFault {
    /// The read-API path at fault.
    pub path: String,
    /// What is wrong, in plain words (names the source and the path).
    pub message: String,
    /// Evidence that re-checks, when the source's tiles allowed writing it.
    pub evidence: Option<Box<Evidence>>,
}

/// What [`check_served_tiles`] found.
#[derive(Debug, Default)]
pub struct TileCheck {
    /// Tiles and bundles that contradict the checked tree.
    pub faults: Vec<TileFault>,
    /// A tile or bundle that could not be fetched (the first one), when the
    /// source did not serve everything.
    pub fetch_error: Option<FetchError>,
    /// Tiles compared (current and older).
    pub compared: u64,
}

/// Compares the tiles `source` serves for the tree of `cp` (which the
/// source's entries were verified to hash to) with `recomputed`, and the
/// older partial tiles and bundles of each size of `older` (sizes of
/// checkpoints signed by the log key that the verifier knows of, smaller
/// than `cp`'s) with the prefix of the current ones.
pub async fn check_served_tiles(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    recomputed: &Recomputed,
    older: &BTreeSet<u64>,
    concurrency: usize,
) -> TileCheck {
    let n = cp.checkpoint.size;
    let mut out = TileCheck::default();
    // Current tiles the older partial tiles and bundles are prefixes of.
    let mut prefixes: Vec<(TilePathOf, TileId)> = Vec::new();
    for &m in older.iter().filter(|&&m| m > 0 && m < n) {
        for t in partial_tiles(m) {
            if let Some(cur) = TileId::in_tree(t.level(), t.index(), n)
                && cur.width() > t.width()
            {
                prefixes.push((TilePathOf::Tile(t), cur));
            }
        }
        if let Some(b) = BundleId::in_tree(m / 256, m)
            && !b.is_full()
            && let Some(cur) = TileId::in_tree(0, b.index(), n)
            && cur.width() > b.width()
        {
            prefixes.push((TilePathOf::Bundle(b), cur));
        }
    }
    let needed: BTreeSet<TileId> = prefixes.iter().map(|(_, c)| *c).collect();
    let mut kept: HashMap<TileId, Vec<u8>> = HashMap::new();
    let concurrency = concurrency.max(1) * 2;
    let mut fetches = stream::iter(recomputed.tiles.iter().copied())
        .map(|(id, digest)| async move { (id, digest, source.tile(id).await) })
        .buffer_unordered(concurrency);
    let mut differ: Vec<(TileId, Vec<u8>)> = Vec::new();
    while let Some((id, digest, fetched)) = fetches.next().await {
        let bytes = match fetched {
            Ok(b) => b,
            Err(e) => {
                out.fetch_error.get_or_insert(e);
                continue;
            }
        };
        out.compared += 1;
        if Hash::sha256(&bytes) != digest {
            differ.push((id, bytes));
        } else if needed.contains(&id) {
            kept.insert(id, bytes);
        }
    }
    drop(fetches);
    differ.sort_by_key(|(id, _)| *id);
    for (id, bytes) in differ {
        out.faults
            .push(current_tile_fault(source, log_key, cp, id, bytes).await);
    }
    for (old, cur) in prefixes {
        let cur_bytes = match kept.get(&cur) {
            Some(b) => b.clone(),
            // Checked in an earlier follow (or differing: already reported).
            None if out.faults.iter().any(|f| f.path == cur.path()) => continue,
            None => match source.tile(cur).await {
                Ok(b) => b,
                Err(e) => {
                    out.fetch_error.get_or_insert(e);
                    continue;
                }
            },
        };
        let Ok(cur_tile) = HashTile::from_bytes(&cur_bytes, cur.width()) else {
            continue;
        };
        out.compared += 1;
        let fault = match old {
            TilePathOf::Tile(t) => match source.tile(t).await {
                Err(FetchError::NotFound { .. }) => None,
                Err(e) => {
                    out.fetch_error.get_or_insert(e);
                    None
                }
                Ok(bytes) => {
                    let want: Vec<u8> = cur_bytes
                        .get(..usize::from(t.width()) * 32)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default();
                    (bytes != want).then(|| {
                        let msg = format!(
                            "{} serves the older partial tile {} that is not the first {} hashes of its tile {} of the tree of size {n}: clients holding the older checkpoint get false proofs.",
                            source.label(),
                            t.path(),
                            t.width(),
                            cur.path()
                        );
                        (t.path(), bytes, msg)
                    })
                }
            },
            TilePathOf::Bundle(b) => match source.bundle(b).await {
                Err(FetchError::NotFound { .. }) => None,
                Err(e) => {
                    out.fetch_error.get_or_insert(e);
                    None
                }
                Ok(bytes) => {
                    let why = bundle_mismatch(&bytes, b, cur_tile.hashes()).map(|m| match m {
                        BundleMismatch::Malformed(e) => format!("is not a well-formed bundle ({e})"),
                        BundleMismatch::Entry { entry, leaf } => format!(
                            "holds at entry {entry} (leaf index {leaf}) an entry that is not the one the tree of size {n} has"
                        ),
                    });
                    why.map(|why| {
                        let msg = format!(
                            "{} serves the older partial bundle {} that {why}: clients holding the older checkpoint are served altered entries.",
                            source.label(),
                            b.path()
                        );
                        (b.path(), bytes, msg)
                    })
                }
            },
        };
        if let Some((path, bytes, message)) = fault {
            let evidence = prefix_evidence(source, log_key, cp, cur, &path, &bytes, &message).await;
            out.faults.push(TileFault {
                path,
                message,
                evidence,
            });
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum TilePathOf {
    Tile(TileId),
    Bundle(BundleId),
}

/// A current tile that differs from the recomputed one: the source's own
/// tiles, with the served one, fail to authenticate against the root.
async fn current_tile_fault(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    id: TileId,
    bytes: Vec<u8>,
) -> TileFault {
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let path = id.path();
    let kind = if id.is_full() { "full" } else { "partial" };
    let message = format!(
        "{} serves the {kind} tile {path} (level {}) with hashes that differ from the tile recomputed from the log's entries under its signed checkpoint of size {n}: clients that build proofs from it get false proofs.",
        source.label(),
        id.level()
    );
    let mut cache = TileCache::new();
    cache.insert(id, bytes);
    let evidence = match source
        .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(id, r))
        .await
    {
        Err(TilesError::Unauthentic { reason, tile }) => {
            bad_tiles_evidence(source, log_key, cp, &cache, id, tile, |at| {
                format!(
                    "{message} The tiles as served do not hash to the checkpoint ({reason}); {at} is at fault."
                )
            })
        }
        _ => None,
    };
    TileFault {
        path,
        message,
        evidence,
    }
}

/// Evidence that `bytes` served at `path` (an older partial tile or bundle)
/// is not a prefix of the current tile `cur`, authenticated by the source's
/// tiles.
async fn prefix_evidence(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    cur: TileId,
    path: &str,
    bytes: &[u8],
    message: &str,
) -> Option<Box<Evidence>> {
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let mut cache = TileCache::new();
    source
        .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(cur, r))
        .await
        .ok()?;
    let tiles = cache.tiles_read(n, root, |r| HashTile::from_reader(cur, r));
    Some(Box::new(Evidence::bad_data(
        log_key,
        source.label(),
        cp,
        Served {
            path,
            url: &source.url_of(path),
            bytes,
        },
        &tiles,
        message.to_owned(),
    )))
}
