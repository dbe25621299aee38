//! Incremental, streaming check of a log: from a trusted state (a tree size,
//! its root and right edge, as a core [`TileBuilder`]) to a newly opened
//! checkpoint, reading only the entry bundles in between.
//!
//! [`follow`] fetches the bundles between the two sizes with bounded
//! concurrency, hands each new entry (in log order), each bundle as served
//! and each recomputed tile to the caller, and checks that the recomputed
//! root equals the checkpoint's. Memory holds the right edge of the tree and
//! at most `concurrency` bundles, whatever the size of the log.
//!
//! **The caller must not publish or trust what it was handed until
//! [`follow`] returns `Ok`**: the root is known to match only at the end. A
//! mirror writes the items to temporary storage and commits them when it
//! returns; a verifier checks entries as they arrive and reports findings
//! only about a log that hashes to its checkpoint.
//!
//! When the root does not match, [`follow`] finds out why and returns the
//! evidence: a split view (the new checkpoint's tree does not extend the
//! trusted one: proved by the source's own tiles) or bad data (the first
//! bundle, or tile, that does not hash to the checkpoint, with its path).

use futures_util::StreamExt as _;
use futures_util::stream;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::OpenedCheckpoint;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::merkle::{prove_consistency, tree_hash_from_reader};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::tile::{
    BundleId, EntryBundle, HashTile, TILE_WIDTH, TileBuilder, TileId, partial_tiles,
};

use crate::evidence::{Evidence, Served};
use crate::source::{FetchError, Source, TileCache, TilesError};

/// Default number of entry bundles fetched at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The state a follow starts from: a tree the caller has verified.
#[derive(Clone, Debug, Default)]
pub struct Trusted {
    /// The right edge of the trusted tree (its size and root follow).
    pub builder: TileBuilder,
    /// The signed checkpoint of that tree, if the caller has it, and where
    /// it was read; needed to write split-view evidence.
    pub checkpoint: Option<(String, OpenedCheckpoint)>,
}

impl Trusted {
    /// The empty tree (follow from the first entry).
    pub fn empty() -> Trusted {
        Trusted::default()
    }

    /// The trusted tree size.
    pub fn size(&self) -> u64 {
        self.builder.size()
    }

    /// The trusted root.
    pub fn root(&self) -> Hash {
        self.builder.root()
    }
}

/// One thing [`follow`] hands to its caller.
#[derive(Debug)]
pub enum Item<'a> {
    /// A new entry (index at or above the trusted size), in log order.
    Entry {
        /// Leaf index.
        index: u64,
        /// The entry bytes.
        bytes: &'a [u8],
    },
    /// An entry bundle as served, after its new entries were handed over.
    Bundle {
        /// The bundle (its width is the one the new tree gives it).
        id: BundleId,
        /// The bytes as served.
        bytes: &'a [u8],
    },
    /// A tile recomputed from the entries: every full tile as it completes,
    /// then the partial tiles of the new tree once its root is checked.
    Tile {
        /// The tile.
        id: TileId,
        /// Its hashes.
        tile: &'a HashTile,
    },
}

/// Settings of [`follow`].
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// Entry bundles fetched at once (at least 1).
    pub concurrency: usize,
}

impl Default for FollowOptions {
    fn default() -> FollowOptions {
        FollowOptions {
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Why [`follow`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FollowError<E: std::error::Error + 'static> {
    /// A bundle or tile could not be fetched (the source is down, or does
    /// not have it).
    #[error("{source_label}: {error}")]
    Fetch {
        /// The source.
        source_label: String,
        /// What failed.
        error: FetchError,
    },
    /// The new checkpoint is older than the trusted one: the source is
    /// behind (check it with [`check_consistency`] against a larger tree).
    #[error("{source_label} serves a checkpoint of size {got}, behind the trusted size {trusted}")]
    Behind {
        /// The source.
        source_label: String,
        /// The trusted size.
        trusted: u64,
        /// The size of the checkpoint given.
        got: u64,
    },
    /// The new checkpoint does not extend the trusted tree: a split view.
    #[error("split view: {}", .0.summary)]
    SplitView(Box<Evidence>),
    /// The source served data that does not hash to the checkpoint.
    #[error("bad data: {}", .0.summary)]
    BadData(Box<Evidence>),
    /// The data did not hash to the checkpoint but the source's tiles could
    /// not show where (e.g. they are missing); no evidence file.
    #[error(
        "{source_label}: the entries served do not hash to the checkpoint of size {size}, and the fault could not be located: {reason}"
    )]
    Unlocated {
        /// The source.
        source_label: String,
        /// The checkpoint size.
        size: u64,
        /// Why the fault could not be pinned down.
        reason: String,
    },
    /// The caller's sink failed.
    #[error(transparent)]
    Sink(E),
}

/// The bundles of the new tree that hold entries at or after `old_size`.
fn bundles_between(old_size: u64, new_size: u64) -> impl Iterator<Item = BundleId> {
    let w = u64::from(TILE_WIDTH);
    let first = old_size / w;
    let end = new_size.div_ceil(w);
    (first..end).filter_map(move |i| BundleId::in_tree(i, new_size))
}

/// Follows `source` from `trusted` to `to` (a checkpoint opened with the
/// log key; `to.size >= trusted.size()`), handing every new entry, bundle
/// and recomputed tile to `sink`. Returns the right edge of the new tree.
pub async fn follow<E, F>(
    source: &Source,
    log_key: &VerifierKey,
    trusted: &Trusted,
    to: &OpenedCheckpoint,
    opts: &FollowOptions,
    mut sink: F,
) -> Result<TileBuilder, FollowError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut(Item<'_>) -> Result<(), E>,
{
    let (old_size, new_size) = (trusted.size(), to.checkpoint.size);
    if new_size < old_size {
        return Err(FollowError::Behind {
            source_label: source.label().to_owned(),
            trusted: old_size,
            got: new_size,
        });
    }
    if new_size == old_size {
        if trusted.root() == to.checkpoint.root {
            return Ok(trusted.builder.clone());
        }
        return Err(conflict(source, log_key, trusted, to).await);
    }
    let mut builder = trusted.builder.clone();
    // The trusted part of the first bundle, to check the source did not
    // change it.
    let old_edge: Vec<Hash> = builder
        .partial_tiles()
        .into_iter()
        .find(|(t, _)| t.level() == 0)
        .map(|(_, t)| t.hashes().to_vec())
        .unwrap_or_default();
    let concurrency = opts.concurrency.max(1);
    let mut bundles = stream::iter(bundles_between(old_size, new_size))
        .map(|id| async move { (id, source.bundle(id).await) })
        .buffered(concurrency);
    let mut diverged = false;
    while let Some((id, fetched)) = bundles.next().await {
        let bytes = fetched.map_err(|error| FollowError::Fetch {
            source_label: source.label().to_owned(),
            error,
        })?;
        let bundle = match EntryBundle::from_bytes(&bytes, id.width()) {
            Ok(b) => b,
            Err(e) => {
                let summary = format!(
                    "{} served {} that is not a well-formed bundle of {} entries ({e}).",
                    source.label(),
                    id.path(),
                    id.width()
                );
                return Err(bad_bundle(source, log_key, to, id, &bytes, summary).await);
            }
        };
        let start = id.index() * u64::from(TILE_WIDTH);
        for (i, entry) in bundle.entries().iter().enumerate() {
            let index = start + i as u64;
            if index < old_size {
                // Entries the trusted tree already holds must be unchanged.
                if old_edge.get(i) != Some(&leaf_hash(entry)) {
                    diverged = true;
                }
                continue;
            }
            if diverged {
                break;
            }
            sink(Item::Entry {
                index,
                bytes: entry,
            })
            .map_err(FollowError::Sink)?;
            // Below MAX_TREE_SIZE (checked by the checkpoint's size cap of
            // bundles_between); push only fails above it.
            let done = builder.push(leaf_hash(entry)).unwrap_or_default();
            for (tid, tile) in &done {
                sink(Item::Tile { id: *tid, tile }).map_err(FollowError::Sink)?;
            }
        }
        if diverged {
            break;
        }
        sink(Item::Bundle { id, bytes: &bytes }).map_err(FollowError::Sink)?;
    }
    drop(bundles);
    if !diverged && builder.size() == new_size && builder.root() == to.checkpoint.root {
        for (tid, tile) in builder.partial_tiles() {
            sink(Item::Tile {
                id: tid,
                tile: &tile,
            })
            .map_err(FollowError::Sink)?;
        }
        return Ok(builder);
    }
    Err(diagnose(source, log_key, trusted, to, opts).await)
}

/// The root that the tree of `cp` (read from `source`'s tiles) gives to
/// its first `size` entries, and the consistency proof from that root to
/// `cp`'s root: the material of split-view evidence.
pub async fn implied_root(
    source: &Source,
    cache: &mut TileCache,
    cp: &OpenedCheckpoint,
    size: u64,
) -> Result<(Hash, Vec<Hash>), TilesError> {
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let implied = source
        .read_tiles(cache, n, root, |r| tree_hash_from_reader(size, r))
        .await?;
    let proof = if size == 0 || size == n {
        Vec::new()
    } else {
        source
            .read_tiles(cache, n, root, |r| prove_consistency(size, n, r))
            .await?
    };
    Ok((implied, proof))
}

/// The outcome of [`check_consistency`].
#[derive(Debug)]
pub enum Consistency {
    /// The larger tree extends the smaller one.
    Consistent,
    /// It does not: evidence of the split view.
    SplitView(Box<Evidence>),
}

/// Checks that two checkpoints of one log (opened with `log_key`) are
/// consistent, using the tiles of `larger_source` (which served the larger
/// of the two, `larger`). Sizes equal: the roots must be equal.
pub async fn check_consistency(
    log_key: &VerifierKey,
    smaller: (&str, &OpenedCheckpoint),
    larger_source: &Source,
    larger: &OpenedCheckpoint,
) -> Result<Consistency, TilesError> {
    let (s, l) = (&smaller.1.checkpoint, &larger.checkpoint);
    if s.size == l.size {
        if s.root == l.root {
            return Ok(Consistency::Consistent);
        }
        return Ok(Consistency::SplitView(Box::new(Evidence::split_view(
            log_key,
            smaller,
            (larger_source.label(), larger),
            None,
        ))));
    }
    let (small_cp, large_cp, large_label) = if s.size < l.size {
        (smaller.1, larger, larger_source.label())
    } else {
        return Err(TilesError::Compute(format!(
            "the checkpoint of size {} is not the larger of the two (size {})",
            l.size, s.size
        )));
    };
    let mut cache = TileCache::new();
    let (implied, proof) = implied_root(
        larger_source,
        &mut cache,
        large_cp,
        small_cp.checkpoint.size,
    )
    .await?;
    if implied == small_cp.checkpoint.root {
        return Ok(Consistency::Consistent);
    }
    Ok(Consistency::SplitView(Box::new(Evidence::split_view(
        log_key,
        smaller,
        (large_label, large_cp),
        Some((implied, proof)),
    ))))
}

/// Same size, different roots.
async fn conflict<E: std::error::Error + 'static>(
    source: &Source,
    log_key: &VerifierKey,
    trusted: &Trusted,
    to: &OpenedCheckpoint,
) -> FollowError<E> {
    match &trusted.checkpoint {
        Some((label, cp)) if cp.checkpoint.size == trusted.size() => {
            FollowError::SplitView(Box::new(Evidence::split_view(
                log_key,
                (label, cp),
                (source.label(), to),
                None,
            )))
        }
        _ => FollowError::Unlocated {
            source_label: source.label().to_owned(),
            size: to.checkpoint.size,
            reason: format!(
                "its root differs from the trusted root {} of the same size, and the trusted checkpoint was not given",
                trusted.root()
            ),
        },
    }
}

fn tiles_failure<E: std::error::Error + 'static>(
    source: &Source,
    size: u64,
    err: TilesError,
) -> Result<(TilesError, Option<TileId>), FollowError<E>> {
    match err {
        TilesError::Fetch(error) => Err(FollowError::Fetch {
            source_label: source.label().to_owned(),
            error,
        }),
        TilesError::Compute(reason) => Err(FollowError::Unlocated {
            source_label: source.label().to_owned(),
            size,
            reason,
        }),
        e @ TilesError::Unauthentic { tile, .. } => Ok((e, tile)),
    }
}

/// Evidence that the tiles `source` served for `cp` do not authenticate.
fn bad_tiles<E: std::error::Error + 'static>(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    cache: &TileCache,
    read_tile: TileId,
    named: Option<TileId>,
    reason: &str,
) -> FollowError<E> {
    let n = cp.checkpoint.size;
    let summary = |path: &str| {
        format!(
            "{} served tiles that do not hash to its signed checkpoint of size {n} ({reason}); {path} is at fault.",
            source.label()
        )
    };
    match bad_tiles_evidence(source, log_key, cp, cache, read_tile, named, summary) {
        Some(ev) => FollowError::BadData(ev),
        None => FollowError::Unlocated {
            source_label: source.label().to_owned(),
            size: n,
            reason: reason.to_owned(),
        },
    }
}

/// Bad-data evidence from the tiles of `cache` that fail to authenticate
/// when `read_tile` is read from them: the tile `named` at fault (or else
/// `read_tile`) as the data served, the others as the tiles. `summary`
/// gives the evidence's summary from the path at fault.
pub(crate) fn bad_tiles_evidence(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    cache: &TileCache,
    read_tile: TileId,
    named: Option<TileId>,
    summary: impl FnOnce(&str) -> String,
) -> Option<Box<Evidence>> {
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let mut tiles = cache.tiles_read(n, root, |r| HashTile::from_reader(read_tile, r));
    // The tile named at fault, or else the tile that was read (the right
    // edge failed: any tile's read shows it).
    let at_fault = named
        .filter(|t| tiles.iter().any(|(u, _)| u == t))
        .unwrap_or(read_tile);
    let pos = tiles.iter().position(|(t, _)| *t == at_fault)?;
    let (_, bytes) = tiles.remove(pos);
    let path = at_fault.path();
    Some(Box::new(Evidence::bad_data(
        log_key,
        source.label(),
        cp,
        Served {
            path: &path,
            url: &source.url_of(&path),
            bytes: &bytes,
        },
        &tiles,
        summary(&path),
    )))
}

/// Bad-data evidence of what `source` served at `path` under `cp`.
fn bad_data<E: std::error::Error + 'static>(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    path: &str,
    bytes: &[u8],
    tiles: &[(TileId, Vec<u8>)],
    summary: String,
) -> FollowError<E> {
    FollowError::BadData(Box::new(Evidence::bad_data(
        log_key,
        source.label(),
        cp,
        Served {
            path,
            url: &source.url_of(path),
            bytes,
        },
        tiles,
        summary,
    )))
}

/// Evidence that bundle `id` as served (`bytes`) contradicts `cp`.
async fn bad_bundle<E: std::error::Error + 'static>(
    source: &Source,
    log_key: &VerifierKey,
    cp: &OpenedCheckpoint,
    id: BundleId,
    bytes: &[u8],
    summary: String,
) -> FollowError<E> {
    let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
    let mut cache = TileCache::new();
    let tile0 = id.tile();
    // Tiles authenticating the bundle's level-0 tile, when the source has them.
    let tiles = match source
        .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(tile0, r))
        .await
    {
        Ok(_) => cache.tiles_read(n, root, |r| HashTile::from_reader(tile0, r)),
        Err(e) => match tiles_failure::<E>(source, n, e) {
            Ok((e, named)) => {
                return bad_tiles(source, log_key, cp, &cache, tile0, named, &e.to_string());
            }
            // A malformed bundle is proved without tiles.
            Err(_) => Vec::new(),
        },
    };
    bad_data(source, log_key, cp, &id.path(), bytes, &tiles, summary)
}

/// The root did not match: a split view, or which bundle or tile is bad.
async fn diagnose<E: std::error::Error + 'static>(
    source: &Source,
    log_key: &VerifierKey,
    trusted: &Trusted,
    to: &OpenedCheckpoint,
    opts: &FollowOptions,
) -> FollowError<E> {
    let (old_size, n, root) = (trusted.size(), to.checkpoint.size, to.checkpoint.root);
    let mut cache = TileCache::new();
    if old_size > 0 {
        match implied_root(source, &mut cache, to, old_size).await {
            Ok((implied, proof)) => {
                if implied != trusted.root() {
                    return match &trusted.checkpoint {
                        Some((label, cp)) if cp.checkpoint.size == old_size => {
                            FollowError::SplitView(Box::new(Evidence::split_view(
                                log_key,
                                (label, cp),
                                (source.label(), to),
                                Some((implied, proof)),
                            )))
                        }
                        _ => FollowError::Unlocated {
                            source_label: source.label().to_owned(),
                            size: n,
                            reason: format!(
                                "its tree does not extend the trusted tree of size {old_size}, and the trusted checkpoint was not given"
                            ),
                        },
                    };
                }
            }
            Err(e) => {
                return match tiles_failure(source, n, e) {
                    Ok((e, named)) => {
                        let edge = partial_tiles(n)
                            .last()
                            .copied()
                            .or_else(|| TileId::in_tree(0, (n - 1) / 256, n));
                        match edge {
                            Some(t) => bad_tiles(
                                source,
                                log_key,
                                to,
                                &cache,
                                named.unwrap_or(t),
                                named,
                                &e.to_string(),
                            ),
                            None => FollowError::Unlocated {
                                source_label: source.label().to_owned(),
                                size: n,
                                reason: e.to_string(),
                            },
                        }
                    }
                    Err(f) => f,
                };
            }
        }
    }
    // The new tree extends the trusted one (or there was none): find the
    // first bundle whose entries differ from the authenticated tiles.
    let concurrency = opts.concurrency.max(1);
    let mut bundles = stream::iter(bundles_between(old_size, n))
        .map(|id| async move { (id, source.bundle(id).await) })
        .buffered(concurrency);
    while let Some((id, fetched)) = bundles.next().await {
        let bytes = match fetched {
            Ok(b) => b,
            Err(error) => {
                return FollowError::Fetch {
                    source_label: source.label().to_owned(),
                    error,
                };
            }
        };
        let tile0 = id.tile();
        let expected = match source
            .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(tile0, r))
            .await
        {
            Ok(t) => t,
            Err(e) => {
                return match tiles_failure(source, n, e) {
                    Ok((e, named)) => {
                        bad_tiles(source, log_key, to, &cache, tile0, named, &e.to_string())
                    }
                    Err(f) => f,
                };
            }
        };
        let bad = bundle_mismatch(&bytes, id, expected.hashes()).map(|m| match m {
            BundleMismatch::Malformed(e) => format!("it is not a well-formed bundle ({e})"),
            BundleMismatch::Entry { entry, leaf } => format!(
                "entry {entry} (leaf index {leaf}) does not hash to the leaf hash the checkpoint commits to"
            ),
        });
        if let Some(why) = bad {
            let summary = format!(
                "{} served {} that does not match its signed checkpoint of size {n}: {why}. The entry was altered or replaced after it was logged.",
                source.label(),
                id.path()
            );
            let tiles = cache.tiles_read(n, root, |r| HashTile::from_reader(tile0, r));
            return bad_data(source, log_key, to, &id.path(), &bytes, &tiles, summary);
        }
    }
    FollowError::Unlocated {
        source_label: source.label().to_owned(),
        size: n,
        reason:
            "every bundle matched the tiles on a second reading: the source serves changing data"
                .to_owned(),
    }
}

/// How a served entry bundle differs from the leaf hashes it must have.
pub(crate) enum BundleMismatch {
    /// The bytes are not a bundle of the path's width.
    Malformed(tallyboard_core::tile::TileError),
    /// The first entry whose leaf hash differs: its place in the bundle and
    /// its leaf index.
    Entry {
        /// Place in the bundle.
        entry: usize,
        /// Leaf index in the log.
        leaf: u64,
    },
}

/// Compares the bundle `bytes` served at `id` with the leaf hashes
/// `expected` (those of the tree, from its recomputed level-0 tile); `None`
/// when every entry hashes to its leaf hash.
pub(crate) fn bundle_mismatch(
    bytes: &[u8],
    id: BundleId,
    expected: &[Hash],
) -> Option<BundleMismatch> {
    match EntryBundle::from_bytes(bytes, id.width()) {
        Err(e) => Some(BundleMismatch::Malformed(e)),
        Ok(b) => b
            .entries()
            .iter()
            .zip(expected)
            .position(|(e, h)| leaf_hash(e) != *h)
            .map(|i| BundleMismatch::Entry {
                entry: i,
                leaf: id.index() * u64::from(TILE_WIDTH) + i as u64,
            }),
    }
}
