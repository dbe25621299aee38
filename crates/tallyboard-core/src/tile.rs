//! C2SP tlog-tiles: tile coordinates and paths, hash tiles, entry bundles,
//! and a [`HashReader`] that reads (and authenticates) stored hashes from
//! tiles.
//!
//! tallyboard serves its log as C2SP `tlog-tiles` with tile height 8: every
//! tile holds up to [`TILE_WIDTH`] = 256 hashes. A level-0 tile holds leaf
//! hashes (RFC 6962 `SHA-256(0x00 || entry)`), a level-`L` tile (`L >= 1`)
//! holds the roots of the full level-`(L-1)` tiles, so that hash `i` of tile
//! `N` at level `L` is the Merkle Tree Hash of the leaves
//! `[(N·256 + i)·256^L, (N·256 + i + 1)·256^L)`.
//!
//! The rightmost tile of each level of a tree may be *partial* (1 to 255
//! hashes); it is never hashed into the level above. Entry bundles hold the
//! entries of one level-0 tile, each as a 16-bit big-endian length and the
//! entry bytes.
//!
//! Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, where `<N>`
//! is written in groups of three digits, all but the last prefixed with `x`
//! (`1234067` → `x001/x234/067`). Parsing is strict: exactly the canonical
//! form that [`TilePath::to_string`](std::string::ToString) produces is
//! accepted.
//!
//! No I/O: fetching tiles is the caller's job, through a [`TileFetcher`].

use core::fmt;
use std::collections::BTreeMap;

use crate::hash::{HASH_LEN, Hash, leaf_hash, node_hash};
use crate::limits::{MAX_ENTRY_BUNDLE, MAX_TILE_PATH, MAX_TREE_SIZE};
use crate::merkle::{
    HashReader, TreeError, split_stored_hash_index, stored_hash_index, sub_tree_indexes, tree_hash,
};

/// Tile height: each tile spans 8 levels of the tree.
pub const TILE_HEIGHT: u32 = 8;

/// Number of hashes in a full tile (and entries in a full bundle): 2^8.
pub const TILE_WIDTH: u16 = 256;

/// Largest tile level a path may name (C2SP tlog-tiles).
pub const MAX_TILE_LEVEL: u8 = 63;

/// Byte length of a full hash tile: 256 hashes of 32 bytes.
pub const FULL_TILE_LEN: usize = TILE_WIDTH as usize * HASH_LEN;

/// Largest entry an entry bundle can hold: its length is a 16-bit prefix.
pub const MAX_BUNDLE_ENTRY: usize = u16::MAX as usize;

/// Why a tile path, tile, or entry bundle was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileError {
    /// A path longer than [`MAX_TILE_PATH`] bytes is rejected before parsing.
    #[error("tile path is longer than {MAX_TILE_PATH} bytes")]
    PathTooLong,
    /// A tile path starts with `tile/`.
    #[error("tile path does not start with \"tile/\"")]
    NotATilePath,
    /// The level is a decimal number 0..=63 without leading zeros.
    #[error("tile level is not a decimal number from 0 to 63 without leading zeros")]
    BadLevel,
    /// Every index element is three digits; all but the last start with `x`.
    #[error("tile index is not written as x-prefixed three-digit groups")]
    BadIndexElement,
    /// The first index group of a multi-group index is not `x000`.
    #[error("tile index has a leading zero group")]
    NonCanonicalIndex,
    /// The index does not fit in 64 bits.
    #[error("tile index does not fit in 64 bits")]
    IndexTooLarge,
    /// A partial width is a decimal number 1..=255 without leading zeros
    /// (a full tile has no `.p/` suffix).
    #[error("partial tile width is not a decimal number from 1 to 255 without leading zeros")]
    BadWidth,
    /// A tile has 1 to 256 hashes and a bundle 1 to 256 entries.
    #[error("tile width {0} is not between 1 and 256")]
    WidthOutOfRange(u32),
    /// A tile of width `W` is exactly `32·W` bytes.
    #[error("tile has {got} bytes, width {width} needs exactly {expected}")]
    WrongTileLength {
        /// The tile width.
        width: u16,
        /// Required length in bytes.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// An entry bundle larger than [`MAX_ENTRY_BUNDLE`] is rejected before parsing.
    #[error("entry bundle has {0} bytes, more than the cap of {MAX_ENTRY_BUNDLE}")]
    BundleTooLarge(usize),
    /// An entry in a bundle is at most 65535 bytes (its length is 16 bits).
    #[error("entry of {0} bytes does not fit a 16-bit length prefix")]
    EntryTooLarge(usize),
    /// The bundle ends inside a 2-byte length prefix.
    #[error("entry bundle ends inside the length prefix of entry {0}")]
    TruncatedLengthPrefix(u16),
    /// The bundle ends inside an entry.
    #[error("entry bundle ends inside entry {0}")]
    TruncatedEntry(u16),
    /// Bytes remain after the expected number of entries.
    #[error("entry bundle has {0} bytes after its last entry")]
    TrailingBytes(usize),
    /// An entry's leaf hash differs from the corresponding level-0 tile hash.
    #[error("entry {0} does not hash to its level-0 tile hash")]
    EntryHashMismatch(u16),
    /// A bundle and its level-0 tile have the same width.
    #[error("bundle has {bundle} entries but its tile has {tile} hashes")]
    BundleTileWidthMismatch {
        /// Entries in the bundle.
        bundle: u16,
        /// Hashes in the tile.
        tile: u16,
    },
}

impl TileError {
    /// A stable, kebab-case code for the error (test vectors, JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            TileError::PathTooLong => "path-too-long",
            TileError::NotATilePath => "not-a-tile-path",
            TileError::BadLevel => "bad-level",
            TileError::BadIndexElement => "bad-index-element",
            TileError::NonCanonicalIndex => "non-canonical-index",
            TileError::IndexTooLarge => "index-too-large",
            TileError::BadWidth => "bad-width",
            TileError::WidthOutOfRange(_) => "width-out-of-range",
            TileError::WrongTileLength { .. } => "wrong-tile-length",
            TileError::BundleTooLarge(_) => "bundle-too-large",
            TileError::EntryTooLarge(_) => "entry-too-large",
            TileError::TruncatedLengthPrefix(_) => "truncated-length-prefix",
            TileError::TruncatedEntry(_) => "truncated-entry",
            TileError::TrailingBytes(_) => "trailing-bytes",
            TileError::EntryHashMismatch(_) => "entry-hash-mismatch",
            TileError::BundleTileWidthMismatch { .. } => "bundle-tile-width-mismatch",
        }
    }
}

fn check_width(width: u16) -> Result<(), TileError> {
    if width == 0 || width > TILE_WIDTH {
        return Err(TileError::WidthOutOfRange(u32::from(width)));
    }
    Ok(())
}

/// Coordinates of a hash tile: level, index within the level, and width
/// (number of hashes, 1..=256; 256 is a full tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    level: u8,
    index: u64,
    width: u16,
}

impl TileId {
    /// A tile; `level <= 63` and `1 <= width <= 256`.
    pub fn new(level: u8, index: u64, width: u16) -> Result<TileId, TileError> {
        if level > MAX_TILE_LEVEL {
            return Err(TileError::BadLevel);
        }
        check_width(width)?;
        Ok(TileId {
            level,
            index,
            width,
        })
    }

    /// The full tile (`width` 256) at `level` and `index`; `level <= 63`.
    pub fn full(level: u8, index: u64) -> Result<TileId, TileError> {
        TileId::new(level, index, TILE_WIDTH)
    }

    /// The tile at `level` and `index` as it is in the tree of `tree_size`
    /// leaves: full, or partial with the width the tree gives it. `None` if
    /// the tree has no such tile (or `tree_size` is above [`MAX_TREE_SIZE`]).
    pub fn in_tree(level: u8, index: u64, tree_size: u64) -> Option<TileId> {
        if level > MAX_TILE_LEVEL || tree_size > MAX_TREE_SIZE {
            return None;
        }
        // Number of hashes the tree has at tree level 8·level.
        let count = tree_size
            .checked_shr(TILE_HEIGHT * u32::from(level))
            .unwrap_or(0);
        let start = index.checked_mul(u64::from(TILE_WIDTH))?;
        if start >= count {
            return None;
        }
        let width = (count - start).min(u64::from(TILE_WIDTH)) as u16;
        Some(TileId {
            level,
            index,
            width,
        })
    }

    /// The level (0 holds leaf hashes).
    pub fn level(&self) -> u8 {
        self.level
    }

    /// The index within the level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of hashes, 1..=256.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The leaves `[start, end)` that the tile's hashes span, or `None` when
    /// they do not fit in 64 bits (no tree has this tile).
    pub fn leaf_range(&self) -> Option<(u64, u64)> {
        let shift = TILE_HEIGHT * u32::from(self.level);
        let span = 1u64.checked_shl(shift)?; // leaves per hash
        let first = self.index.checked_mul(u64::from(TILE_WIDTH))?;
        let start = first.checked_mul(span)?;
        let end = first
            .checked_add(u64::from(self.width))?
            .checked_mul(span)?;
        Some((start, end))
    }

    /// The `tile/<L>/<N>[.p/<W>]` path.
    pub fn path(&self) -> String {
        let mut s = format!("tile/{}/", self.level);
        push_index_and_width(&mut s, self.index, self.width);
        s
    }

    /// Parses a `tile/<L>/<N>[.p/<W>]` path (strict, canonical form only).
    pub fn parse(path: &str) -> Result<TileId, TileError> {
        match TilePath::parse(path)? {
            TilePath::Hashes(t) => Ok(t),
            TilePath::Entries(_) => Err(TileError::BadLevel),
        }
    }

    /// The tile `k` levels above that contains this tile's hashes, as it is in
    /// the tree of `tree_size` leaves; `None` if there is none.
    fn ancestor(&self, k: u8, tree_size: u64) -> Option<TileId> {
        let level = self.level.checked_add(k)?;
        let index = self.index.checked_shr(TILE_HEIGHT * u32::from(k))?;
        TileId::in_tree(level, index, tree_size)
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Coordinates of an entry bundle: the index of its level-0 tile and its
/// width (number of entries, 1..=256; 256 is a full bundle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleId {
    index: u64,
    width: u16,
}

impl BundleId {
    /// A bundle; `1 <= width <= 256`.
    pub fn new(index: u64, width: u16) -> Result<BundleId, TileError> {
        check_width(width)?;
        Ok(BundleId { index, width })
    }

    /// The bundle with entries `[index·256, index·256 + width)` as it is in
    /// the tree of `tree_size` leaves; `None` if there is none.
    pub fn in_tree(index: u64, tree_size: u64) -> Option<BundleId> {
        TileId::in_tree(0, index, tree_size).map(|t| t.bundle())
    }

    /// The index (the same as its level-0 tile's).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of entries, 1..=256.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the bundle holds all 256 entries.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The level-0 tile holding the leaf hashes of this bundle's entries.
    pub fn tile(&self) -> TileId {
        TileId {
            level: 0,
            index: self.index,
            width: self.width,
        }
    }

    /// Index of the first entry, or `None` if it does not fit in 64 bits.
    pub fn first_entry(&self) -> Option<u64> {
        self.index.checked_mul(u64::from(TILE_WIDTH))
    }

    /// The `tile/entries/<N>[.p/<W>]` path.
    pub fn path(&self) -> String {
        let mut s = String::from("tile/entries/");
        push_index_and_width(&mut s, self.index, self.width);
        s
    }

    /// Parses a `tile/entries/<N>[.p/<W>]` path (strict, canonical form only).
    pub fn parse(path: &str) -> Result<BundleId, TileError> {
        match TilePath::parse(path)? {
            TilePath::Entries(b) => Ok(b),
            TilePath::Hashes(_) => Err(TileError::BadLevel),
        }
    }
}

impl TileId {
    /// The entry bundle of a level-0 tile (same index and width). For a tile
    /// of another level this is the bundle with the same index and width,
    /// which is rarely what is wanted; use it on level-0 tiles.
    pub fn bundle(&self) -> BundleId {
        BundleId {
            index: self.index,
            width: self.width,
        }
    }
}

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Either kind of tlog-tiles resource path (for routing a request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`
    Hashes(TileId),
    /// `tile/entries/<N>[.p/<W>]`
    Entries(BundleId),
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TilePath::Hashes(t) => t.fmt(f),
            TilePath::Entries(b) => b.fmt(f),
        }
    }
}

/// Appends `<N>[.p/<W>]`.
fn push_index_and_width(out: &mut String, index: u64, width: u16) {
    // u64::MAX has 20 digits: at most 7 groups of three.
    let mut groups = [0u64; 7];
    let mut count = 0;
    let mut n = index;
    loop {
        groups[count] = n % 1000;
        count += 1;
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    for (i, g) in groups[..count].iter().enumerate().rev() {
        if i > 0 {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    if width != TILE_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
}

/// A decimal number without sign or leading zeros ("0" itself is allowed).
fn parse_canonical_decimal(s: &str, max: u64) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let v = b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    (v <= max).then_some(v)
}

fn three_digits(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
}

impl TilePath {
    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. Only the
    /// canonical form is accepted, so `parse(p)?.to_string() == p`.
    pub fn parse(path: &str) -> Result<TilePath, TileError> {
        if path.len() > MAX_TILE_PATH {
            return Err(TileError::PathTooLong);
        }
        let rest = path.strip_prefix("tile/").ok_or(TileError::NotATilePath)?;
        let (kind, rest) = rest.split_once('/').ok_or(TileError::BadIndexElement)?;
        let level = if kind == "entries" {
            None
        } else {
            let l = parse_canonical_decimal(kind, u64::from(MAX_TILE_LEVEL))
                .ok_or(TileError::BadLevel)?;
            Some(l as u8)
        };
        let (index, width) = parse_index_and_width(rest)?;
        Ok(match level {
            Some(level) => TilePath::Hashes(TileId {
                level,
                index,
                width,
            }),
            None => TilePath::Entries(BundleId { index, width }),
        })
    }

    /// The path of a request, as [`TilePath::parse`] accepts it.
    pub fn path(&self) -> String {
        match self {
            TilePath::Hashes(t) => t.path(),
            TilePath::Entries(b) => b.path(),
        }
    }
}

/// Parses `<N>[.p/<W>]`.
fn parse_index_and_width(s: &str) -> Result<(u64, u16), TileError> {
    let (n, width) = match s.split_once(".p/") {
        Some((n, w)) => {
            let w = parse_canonical_decimal(w, u64::from(TILE_WIDTH) - 1)
                .filter(|&w| w >= 1)
                .ok_or(TileError::BadWidth)?;
            (n, w as u16)
        }
        None => (s, TILE_WIDTH),
    };
    let elements: Vec<&str> = n.split('/').collect();
    let Some((last, groups)) = elements.split_last() else {
        return Err(TileError::BadIndexElement);
    };
    if groups.len() > 6 {
        return Err(TileError::IndexTooLarge);
    }
    let mut index: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let v = g
            .strip_prefix('x')
            .and_then(three_digits)
            .ok_or(TileError::BadIndexElement)?;
        if i == 0 && v == 0 {
            return Err(TileError::NonCanonicalIndex);
        }
        index = index
            .checked_mul(1000)
            .and_then(|x| x.checked_add(v))
            .ok_or(TileError::IndexTooLarge)?;
    }
    let v = three_digits(last).ok_or(TileError::BadIndexElement)?;
    index = index
        .checked_mul(1000)
        .and_then(|x| x.checked_add(v))
        .ok_or(TileError::IndexTooLarge)?;
    Ok((index, width))
}

/// The tiles that change when a tree grows from `old_size` to `new_size`
/// leaves: at each level, every full tile completed by the growth and the
/// new partial tile if there is one. `tiles_between(0, n)` is every tile
/// of the tree of `n` leaves. Empty if `old_size >= new_size` or
/// `new_size > MAX_TREE_SIZE`.
///
/// The entry bundles to publish are the [`TileId::bundle`]s of the level-0
/// tiles.
pub fn tiles_between(old_size: u64, new_size: u64) -> Tiles {
    let valid = old_size < new_size && new_size <= MAX_TREE_SIZE;
    let mut t = Tiles {
        old_size,
        new_size: if valid { new_size } else { 0 },
        level: 0,
        next: 0,
        end: 0,
        partial: None,
        done: !valid,
    };
    if valid {
        t.start_level();
    }
    t
}

/// Every tile of the tree of `tree_size` leaves, level by level, full tiles
/// first then the partial tile of each level.
pub fn tiles_for_size(tree_size: u64) -> Tiles {
    tiles_between(0, tree_size)
}

/// The partial tile of each level of the tree of `tree_size` leaves (at
/// most one per level, none where the level's hash count is a multiple of
/// 256), lowest level first.
pub fn partial_tiles(tree_size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    if tree_size > MAX_TREE_SIZE {
        return out;
    }
    let mut level = 0u8;
    loop {
        let count = tree_size
            .checked_shr(TILE_HEIGHT * u32::from(level))
            .unwrap_or(0);
        if count == 0 {
            break;
        }
        let width = (count % u64::from(TILE_WIDTH)) as u16;
        if width > 0 {
            out.push(TileId {
                level,
                index: count / u64::from(TILE_WIDTH),
                width,
            });
        }
        level += 1;
    }
    out
}

/// Iterator over tiles, from [`tiles_between`] or [`tiles_for_size`].
#[derive(Clone, Debug)]
pub struct Tiles {
    old_size: u64,
    new_size: u64,
    level: u8,
    next: u64,
    end: u64,
    partial: Option<TileId>,
    done: bool,
}

impl Tiles {
    /// Sets up the current level, moving up past levels the growth does not
    /// touch; marks the iterator done above the top level.
    fn start_level(&mut self) {
        loop {
            let shift = TILE_HEIGHT * u32::from(self.level);
            let new_n = self.new_size.checked_shr(shift).unwrap_or(0);
            if new_n == 0 {
                self.done = true;
                return;
            }
            let old_n = self.old_size.checked_shr(shift).unwrap_or(0);
            if old_n != new_n {
                let w = u64::from(TILE_WIDTH);
                self.next = old_n / w;
                self.end = new_n / w;
                let width = (new_n % w) as u16;
                self.partial = (width > 0).then_some(TileId {
                    level: self.level,
                    index: self.end,
                    width,
                });
                return;
            }
            self.level += 1;
        }
    }
}

impl Iterator for Tiles {
    type Item = TileId;

    fn next(&mut self) -> Option<TileId> {
        while !self.done {
            if self.next < self.end {
                let t = TileId {
                    level: self.level,
                    index: self.next,
                    width: TILE_WIDTH,
                };
                self.next += 1;
                return Some(t);
            }
            if let Some(p) = self.partial.take() {
                return Some(p);
            }
            self.level += 1;
            self.start_level();
        }
        None
    }
}

/// The hashes of one tile: 1 to 256 consecutive hashes of one tree level
/// (`8·L` for a level-`L` tile). On the wire: the hashes concatenated, with
/// nothing else (`32·W` bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashTile {
    hashes: Vec<Hash>,
}

impl HashTile {
    /// A tile of the given hashes (1 to 256 of them).
    pub fn new(hashes: Vec<Hash>) -> Result<HashTile, TileError> {
        if hashes.is_empty() || hashes.len() > usize::from(TILE_WIDTH) {
            return Err(TileError::WidthOutOfRange(
                u32::try_from(hashes.len()).unwrap_or(u32::MAX),
            ));
        }
        Ok(HashTile { hashes })
    }

    /// Parses the bytes of a tile of `width` hashes: exactly `32·width` bytes.
    pub fn from_bytes(bytes: &[u8], width: u16) -> Result<HashTile, TileError> {
        check_width(width)?;
        let expected = usize::from(width) * HASH_LEN;
        if bytes.len() != expected {
            return Err(TileError::WrongTileLength {
                width,
                expected,
                got: bytes.len(),
            });
        }
        let hashes = bytes
            .chunks_exact(HASH_LEN)
            .map(|c| {
                let mut h = [0u8; HASH_LEN];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect();
        Ok(HashTile { hashes })
    }

    /// The wire bytes: the hashes concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.hashes.len() * HASH_LEN);
        for h in &self.hashes {
            out.extend_from_slice(&h.0);
        }
        out
    }

    /// The hashes, in tree order.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Number of hashes.
    pub fn width(&self) -> u16 {
        // At most 256 by construction.
        self.hashes.len() as u16
    }

    /// The Merkle Tree Hash of the tile's hashes taken as leaves. For a full
    /// tile this is the hash that the tile's parent holds for it.
    pub fn root(&self) -> Hash {
        tree_hash(&self.hashes)
    }

    /// Reads the tile `id` from stored hashes (for a log writer serving its
    /// own tiles). Hash `i` is at `stored_hash_index(8·L, N·256 + i)`.
    pub fn from_reader<R: HashReader + ?Sized>(
        id: TileId,
        reader: &R,
    ) -> Result<HashTile, TreeError<R::Error>> {
        match id.leaf_range() {
            Some((_, end)) if end <= MAX_TREE_SIZE => {}
            other => {
                return Err(TreeError::TreeTooLarge(other.map_or(u64::MAX, |(_, e)| e)));
            }
        }
        // A tile within MAX_TREE_SIZE has level <= 7, so 8·level fits in u8.
        let tree_level = (TILE_HEIGHT * u32::from(id.level)) as u8;
        let first = id.index * u64::from(TILE_WIDTH);
        let indexes: Vec<u64> = (0..u64::from(id.width))
            .map(|i| stored_hash_index(tree_level, first + i))
            .collect();
        let hashes = reader.read_hashes(&indexes).map_err(TreeError::Read)?;
        if hashes.len() != indexes.len() {
            return Err(TreeError::WrongHashCount {
                requested: indexes.len(),
                got: hashes.len(),
            });
        }
        Ok(HashTile { hashes })
    }

    /// Computes the tile `id` from the leaf hashes of the tree, held in
    /// memory (`leaf_hashes[i]` is leaf `i`); `None` if the leaves do not
    /// cover the tile.
    pub fn from_leaf_hashes(id: TileId, leaf_hashes: &[Hash]) -> Option<HashTile> {
        let (start, end) = id.leaf_range()?;
        let start = usize::try_from(start).ok()?;
        let end = usize::try_from(end).ok()?;
        let leaves = leaf_hashes.get(start..end)?;
        let span = 1usize.checked_shl(TILE_HEIGHT * u32::from(id.level))?;
        let hashes = leaves.chunks(span).map(tree_hash).collect();
        Some(HashTile { hashes })
    }
}

/// Streaming tile construction in bounded memory (at most 255 pending
/// hashes per level, 8 levels below [`MAX_TREE_SIZE`]): feed leaf hashes in
/// log order and receive every full tile as it completes, at any level.
///
/// A log writer publishes what [`TileBuilder::push`] returns plus
/// [`TileBuilder::partial_tiles`] at each checkpoint; a verifier recomputes
/// every tile of a log from its entry bundles and compares, without holding
/// the log in memory. [`TileBuilder::root`] is the RFC 6962 root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TileBuilder {
    size: u64,
    /// `pending[L]`: the hashes of the partial tile at level `L` (< 256).
    pending: Vec<Vec<Hash>>,
}

impl TileBuilder {
    /// An empty tree.
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// Resumes the tree of `size` leaves from its partial tiles (as
    /// [`TileBuilder::partial_tiles`] or [`partial_tiles`] list them, in
    /// any order). Each must be exactly the partial tile the tree of `size`
    /// has at its level; `None` otherwise. The hashes are trusted: take them
    /// from your own storage or from tiles authenticated against a
    /// checkpoint.
    pub fn from_partial_tiles(size: u64, tiles: &[(TileId, HashTile)]) -> Option<TileBuilder> {
        if size > MAX_TREE_SIZE {
            return None;
        }
        let expected = partial_tiles(size);
        if tiles.len() != expected.len() {
            return None;
        }
        let levels = expected.last().map_or(0, |t| usize::from(t.level) + 1);
        let mut pending = vec![Vec::new(); levels];
        for id in expected {
            let (_, tile) = tiles.iter().find(|(t, _)| *t == id)?;
            if tile.width() != id.width {
                return None;
            }
            pending[usize::from(id.level)] = tile.hashes.clone();
        }
        Some(TileBuilder { size, pending })
    }

    /// Number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the full tiles it completes, lowest
    /// level first (usually none, one in 256 pushes a level-0 tile, one in
    /// 65536 also a level-1 tile, ...). `None` at [`MAX_TREE_SIZE`].
    pub fn push(&mut self, leaf: Hash) -> Option<Vec<(TileId, HashTile)>> {
        if self.size >= MAX_TREE_SIZE {
            return None;
        }
        self.size += 1;
        let mut done = Vec::new();
        let mut hash = leaf;
        let mut level = 0u8;
        loop {
            let l = usize::from(level);
            if self.pending.len() <= l {
                self.pending
                    .push(Vec::with_capacity(usize::from(TILE_WIDTH)));
            }
            self.pending[l].push(hash);
            if self.pending[l].len() < usize::from(TILE_WIDTH) {
                break;
            }
            let hashes = core::mem::replace(
                &mut self.pending[l],
                Vec::with_capacity(usize::from(TILE_WIDTH)),
            );
            // The tile just completed is the last full one of its level.
            let shift = TILE_HEIGHT * (u32::from(level) + 1);
            let index = (self.size >> shift) - 1;
            let tile = HashTile { hashes };
            hash = tile.root();
            done.push((
                TileId {
                    level,
                    index,
                    width: TILE_WIDTH,
                },
                tile,
            ));
            level += 1;
        }
        Some(done)
    }

    /// The partial tiles of the current tree, lowest level first (the
    /// same tiles as [`partial_tiles`] of [`TileBuilder::size`]).
    pub fn partial_tiles(&self) -> Vec<(TileId, HashTile)> {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(l, h)| {
                let level = l as u8;
                let count = self.size >> (TILE_HEIGHT * u32::from(level));
                (
                    TileId {
                        level,
                        index: count / u64::from(TILE_WIDTH),
                        width: h.len() as u16,
                    },
                    HashTile { hashes: h.clone() },
                )
            })
            .collect()
    }

    /// The RFC 6962 root of the current tree: the right-to-left fold of its
    /// complete subtrees, all of which lie in the partial tiles.
    pub fn root(&self) -> Hash {
        let mut subtrees = Vec::new();
        for hashes in self.pending.iter().rev() {
            // Split the partial tile's hashes into complete subtrees,
            // largest first (the binary decomposition of its width).
            let mut start = 0usize;
            let mut rest = hashes.len();
            while rest > 0 {
                let k = 1usize << (usize::BITS - 1 - rest.leading_zeros());
                subtrees.push(tree_hash(&hashes[start..start + k]));
                start += k;
                rest -= k;
            }
        }
        match subtrees.split_last() {
            Some((last, rest)) => rest
                .iter()
                .rev()
                .fold(*last, |acc, left| node_hash(left, &acc)),
            None => Hash::EMPTY_TREE,
        }
    }
}

/// The entries of one level-0 tile. On the wire each entry is a 16-bit
/// big-endian length followed by the entry bytes, entries concatenated in
/// order with nothing before, between or after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryBundle {
    entries: Vec<Vec<u8>>,
}

impl EntryBundle {
    /// A bundle of 1 to 256 entries, each at most 65535 bytes, whose
    /// encoding is at most [`MAX_ENTRY_BUNDLE`] bytes.
    pub fn new(entries: Vec<Vec<u8>>) -> Result<EntryBundle, TileError> {
        if entries.is_empty() || entries.len() > usize::from(TILE_WIDTH) {
            return Err(TileError::WidthOutOfRange(
                u32::try_from(entries.len()).unwrap_or(u32::MAX),
            ));
        }
        let mut total = 0usize;
        for e in &entries {
            if e.len() > MAX_BUNDLE_ENTRY {
                return Err(TileError::EntryTooLarge(e.len()));
            }
            total += 2 + e.len();
        }
        if total > MAX_ENTRY_BUNDLE {
            return Err(TileError::BundleTooLarge(total));
        }
        Ok(EntryBundle { entries })
    }

    /// Parses a bundle that must hold exactly `width` entries (the width of
    /// its path). Rejects input over [`MAX_ENTRY_BUNDLE`] bytes before
    /// parsing, a truncated length prefix or entry, and trailing bytes.
    pub fn from_bytes(bytes: &[u8], width: u16) -> Result<EntryBundle, TileError> {
        check_width(width)?;
        if bytes.len() > MAX_ENTRY_BUNDLE {
            return Err(TileError::BundleTooLarge(bytes.len()));
        }
        let mut entries = Vec::with_capacity(usize::from(width));
        let mut rest = bytes;
        for i in 0..width {
            let Some((len, tail)) = rest.split_first_chunk::<2>() else {
                return Err(TileError::TruncatedLengthPrefix(i));
            };
            let len = usize::from(u16::from_be_bytes(*len));
            if tail.len() < len {
                return Err(TileError::TruncatedEntry(i));
            }
            let (entry, tail) = tail.split_at(len);
            entries.push(entry.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(TileError::TrailingBytes(rest.len()));
        }
        Ok(EntryBundle { entries })
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.iter().map(|e| 2 + e.len()).sum::<usize>());
        for e in &self.entries {
            // Each entry is at most 65535 bytes by construction.
            out.extend_from_slice(&(e.len() as u16).to_be_bytes());
            out.extend_from_slice(e);
        }
        out
    }

    /// The entries, in log order.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// Number of entries.
    pub fn width(&self) -> u16 {
        // At most 256 by construction.
        self.entries.len() as u16
    }

    /// The RFC 6962 leaf hash of each entry: the level-0 tile of this bundle.
    pub fn leaf_hashes(&self) -> Vec<Hash> {
        self.entries.iter().map(|e| leaf_hash(e)).collect()
    }

    /// Checks that the bundle's entries hash to the hashes of its level-0
    /// tile (same width, and entry `i` has leaf hash `tile[i]`).
    pub fn check_against_tile(&self, tile: &HashTile) -> Result<(), TileError> {
        if self.width() != tile.width() {
            return Err(TileError::BundleTileWidthMismatch {
                bundle: self.width(),
                tile: tile.width(),
            });
        }
        for (i, (e, h)) in self.entries.iter().zip(tile.hashes()).enumerate() {
            if leaf_hash(e) != *h {
                return Err(TileError::EntryHashMismatch(i as u16));
            }
        }
        Ok(())
    }
}

/// Fetches tile bytes for a [`TileHashReader`] (from a server, a mirror, a
/// cache or disk: the caller decides).
///
/// Any `Fn(TileId) -> Result<Vec<u8>, E>` closure is a fetcher.
pub trait TileFetcher {
    /// The error of a failed fetch.
    type Error: core::error::Error + 'static;

    /// Returns the bytes of `tile` (exactly `32·width` bytes are expected;
    /// anything else is rejected by the reader).
    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, Self::Error>;

    /// Returns the bytes of every tile, in order. Override to fetch in
    /// parallel; the default fetches one after the other.
    fn fetch_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, Self::Error> {
        tiles.iter().map(|t| self.fetch_tile(*t)).collect()
    }
}

impl<F, E> TileFetcher for F
where
    F: Fn(TileId) -> Result<Vec<u8>, E>,
    E: core::error::Error + 'static,
{
    type Error = E;

    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, E> {
        self(tile)
    }
}

/// Why a [`TileHashReader`] could not return hashes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileReadError<E: core::error::Error + 'static> {
    /// The fetcher failed.
    #[error("fetching tiles: {0}")]
    Fetch(#[source] E),
    /// Tree sizes above [`MAX_TREE_SIZE`] are not supported.
    #[error("tree size {0} is above the supported maximum")]
    TreeTooLarge(u64),
    /// Only hashes of nodes inside the tree can be read.
    #[error("stored hash index {index} is not in the tree of size {tree_size}")]
    IndexNotInTree {
        /// The stored hash index requested.
        index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// The fetcher returns one byte string per requested tile.
    #[error("fetcher returned {got} tiles for {requested} requested")]
    WrongTileCount {
        /// Tiles requested.
        requested: usize,
        /// Tiles returned.
        got: usize,
    },
    /// A fetched tile is malformed (wrong length).
    #[error("tile {tile}: {source}")]
    BadTile {
        /// The tile.
        tile: TileId,
        /// What is wrong with it.
        source: TileError,
    },
    /// The tiles on the right edge of the tree do not hash to the trusted root.
    #[error("tiles do not hash to the trusted root of the tree of size {tree_size}")]
    RootMismatch {
        /// The tree size.
        tree_size: u64,
    },
    /// A full tile does not hash to the hash its (authenticated) parent holds for it.
    #[error("tile {0} does not match its parent tile")]
    InconsistentTile(TileId),
}

impl<E: core::error::Error + 'static> TileReadError<E> {
    /// A stable, kebab-case code for the error (JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            TileReadError::Fetch(_) => "fetch",
            TileReadError::TreeTooLarge(_) => "tree-too-large",
            TileReadError::IndexNotInTree { .. } => "index-not-in-tree",
            TileReadError::WrongTileCount { .. } => "wrong-tile-count",
            TileReadError::BadTile { source, .. } => source.code(),
            TileReadError::RootMismatch { .. } => "root-mismatch",
            TileReadError::InconsistentTile(_) => "inconsistent-tile",
        }
    }
}

/// Reads stored hashes of the tree `(tree_size, root)` from tiles, and
/// trusts a tile only after authenticating it: the tiles on the tree's right
/// edge must hash to `root`, and every other tile must hash to the entry its
/// parent tile holds for it (parents are authenticated first).
///
/// Use it with [`crate::merkle::prove_inclusion`],
/// [`crate::merkle::prove_consistency`] and
/// [`crate::merkle::tree_hash_from_reader`] to compute proofs from a tiled
/// log without trusting the server that serves the tiles. Each call fetches
/// the tiles it needs; put a cache in the fetcher to avoid refetching.
pub struct TileHashReader<F: TileFetcher> {
    tree_size: u64,
    root: Hash,
    fetcher: F,
}

impl<F: TileFetcher> TileHashReader<F> {
    /// A reader for the tree of `tree_size` leaves with root `root` (taken
    /// from a verified checkpoint).
    pub fn new(tree_size: u64, root: Hash, fetcher: F) -> TileHashReader<F> {
        TileHashReader {
            tree_size,
            root,
            fetcher,
        }
    }

    /// The tree size.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The trusted root.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The fetcher (for example to read its cache).
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }
}

/// The tile of least width holding stored hash `index`, and the range of its
/// hashes whose Merkle Tree Hash is that stored hash.
fn tile_for_index(index: u64) -> (TileId, usize, usize) {
    let (level, n) = split_stored_hash_index(index);
    let tile_level = level / TILE_HEIGHT as u8;
    let sub = u32::from(level % TILE_HEIGHT as u8);
    // Position of the node's first descendant at the tile's tree level.
    let first = n << sub;
    let tile_index = first >> TILE_HEIGHT;
    let start = (first - (tile_index << TILE_HEIGHT)) as usize;
    let end = start + (1usize << sub);
    let tile = TileId {
        level: tile_level,
        index: tile_index,
        width: end as u16,
    };
    (tile, start, end)
}

/// The stored hash `index` from the hashes of `tile`, if the tile holds it.
fn hash_from_tile(tile: &TileId, hashes: &[Hash], index: u64) -> Option<Hash> {
    let (t, start, end) = tile_for_index(index);
    if t.level != tile.level || t.index != tile.index || t.width > tile.width {
        return None;
    }
    hashes.get(start..end).map(tree_hash)
}

impl<F: TileFetcher> HashReader for TileHashReader<F> {
    type Error = TileReadError<F::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        let n = self.tree_size;
        if n > MAX_TREE_SIZE {
            return Err(TileReadError::TreeTooLarge(n));
        }
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        // Every stored hash below the index of leaf n is a node inside the tree.
        let limit = stored_hash_index(0, n);
        if let Some(&index) = indexes.iter().find(|&&x| x >= limit) {
            return Err(TileReadError::IndexNotInTree {
                index,
                tree_size: n,
            });
        }
        let not_in_tree = |index| TileReadError::IndexNotInTree {
            index,
            tree_size: n,
        };

        // Tiles holding the complete subtrees of the tree: they hash to the root.
        let mut order: BTreeMap<TileId, usize> = BTreeMap::new();
        let mut tiles: Vec<TileId> = Vec::new();
        let stx = sub_tree_indexes(n);
        let mut stx_tile = Vec::with_capacity(stx.len());
        for &x in &stx {
            let t = tile_for_index(x)
                .0
                .ancestor(0, n)
                .ok_or_else(|| not_in_tree(x))?;
            let j = *order.entry(t).or_insert_with(|| {
                tiles.push(t);
                tiles.len() - 1
            });
            stx_tile.push(j);
        }
        let edge_tiles = tiles.len();

        // Tiles holding the requested hashes, with the chain of full tiles
        // between each of them and an already planned ancestor.
        let mut index_tile = Vec::with_capacity(indexes.len());
        for &x in indexes {
            let t = tile_for_index(x).0;
            let mut k = 0u8;
            let found = loop {
                let p = t.ancestor(k, n).ok_or_else(|| not_in_tree(x))?;
                if let Some(&j) = order.get(&p) {
                    break j;
                }
                if k >= MAX_TILE_LEVEL {
                    return Err(not_in_tree(x));
                }
                k += 1;
            };
            let mut j = found;
            for k in (0..k).rev() {
                let p = t.ancestor(k, n).ok_or_else(|| not_in_tree(x))?;
                // A tile with a parent tile is full; this holds for every
                // tile below the edge tiles.
                if !p.is_full() {
                    return Err(not_in_tree(x));
                }
                tiles.push(p);
                j = tiles.len() - 1;
                order.insert(p, j);
            }
            index_tile.push(j);
        }

        let data = self
            .fetcher
            .fetch_tiles(&tiles)
            .map_err(TileReadError::Fetch)?;
        if data.len() != tiles.len() {
            return Err(TileReadError::WrongTileCount {
                requested: tiles.len(),
                got: data.len(),
            });
        }
        let mut parsed = Vec::with_capacity(tiles.len());
        for (t, bytes) in tiles.iter().zip(&data) {
            let tile = HashTile::from_bytes(bytes, t.width)
                .map_err(|source| TileReadError::BadTile { tile: *t, source })?;
            parsed.push(tile.hashes);
        }

        // Authenticate the edge tiles against the root.
        let mut subtree_roots = Vec::with_capacity(stx.len());
        for (&x, &j) in stx.iter().zip(&stx_tile) {
            let h = hash_from_tile(&tiles[j], &parsed[j], x).ok_or_else(|| not_in_tree(x))?;
            subtree_roots.push(h);
        }
        let computed = match subtree_roots.split_last() {
            Some((last, rest)) => rest
                .iter()
                .rev()
                .fold(*last, |acc, left| node_hash(left, &acc)),
            None => Hash::EMPTY_TREE,
        };
        if computed != self.root {
            return Err(TileReadError::RootMismatch { tree_size: n });
        }

        // Authenticate every other tile against its parent; parents were
        // planned (and so are checked) before their children.
        for i in edge_tiles..tiles.len() {
            let t = tiles[i];
            let p = t.ancestor(1, n).ok_or(TileReadError::InconsistentTile(t))?;
            let j = *order.get(&p).ok_or(TileReadError::InconsistentTile(t))?;
            if j >= i {
                return Err(TileReadError::InconsistentTile(t));
            }
            let parent_level = (TILE_HEIGHT * u32::from(p.level)) as u8;
            let want = hash_from_tile(&p, &parsed[j], stored_hash_index(parent_level, t.index))
                .ok_or(TileReadError::InconsistentTile(t))?;
            if tree_hash(&parsed[i]) != want {
                return Err(TileReadError::InconsistentTile(t));
            }
        }

        indexes
            .iter()
            .zip(&index_tile)
            .map(|(&x, &j)| hash_from_tile(&tiles[j], &parsed[j], x).ok_or_else(|| not_in_tree(x)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_grouping_matches_the_spec_example() {
        let t = TileId::new(1, 1_234_067, 5).unwrap();
        assert_eq!(t.path(), "tile/1/x001/x234/067.p/5");
        assert_eq!(TileId::full(0, 5).unwrap().path(), "tile/0/005");
        assert_eq!(
            BundleId::new(1000, 256).unwrap().path(),
            "tile/entries/x001/000"
        );
    }

    #[test]
    fn spec_example_tree_of_70000() {
        let tiles: Vec<TileId> = tiles_for_size(70_000).collect();
        let full0 = tiles.iter().filter(|t| t.level == 0 && t.is_full()).count();
        assert_eq!(full0, 273);
        assert!(tiles.contains(&TileId::new(0, 273, 112).unwrap()));
        assert!(tiles.contains(&TileId::full(1, 0).unwrap()));
        assert!(tiles.contains(&TileId::new(1, 1, 17).unwrap()));
        assert!(tiles.contains(&TileId::new(2, 0, 1).unwrap()));
        assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
        assert_eq!(
            partial_tiles(256),
            vec![TileId::new(1, 0, 1).unwrap()],
            "a tree of 256 has one full level-0 tile and a level-1 partial of width 1"
        );
    }

    #[test]
    fn rejects_non_canonical_paths() {
        let cases = [
            ("tile/0/x000/005", TileError::NonCanonicalIndex),
            ("tile/00/005", TileError::BadLevel),
            ("tile/64/005", TileError::BadLevel),
            ("tile/+1/005", TileError::BadLevel),
            ("tile/0/5", TileError::BadIndexElement),
            ("tile/0/0005", TileError::BadIndexElement),
            ("tile/0/x005", TileError::BadIndexElement),
            ("tile/0/001/002", TileError::BadIndexElement),
            ("tile/0/x1/002", TileError::BadIndexElement),
            ("tile/0/005/", TileError::BadIndexElement),
            ("tile/0/", TileError::BadIndexElement),
            ("tile/0", TileError::BadIndexElement),
            ("tile/0/005.p/256", TileError::BadWidth),
            ("tile/0/005.p/0", TileError::BadWidth),
            ("tile/0/005.p/07", TileError::BadWidth),
            ("tile/0/005.p/", TileError::BadWidth),
            ("tile/0/005.p/1/2", TileError::BadWidth),
            ("tile/entries/005.p/300", TileError::BadWidth),
            ("tiles/0/005", TileError::NotATilePath),
            ("/tile/0/005", TileError::NotATilePath),
            ("tile/data/005", TileError::BadLevel),
            (
                "tile/0/x018/x446/x744/x073/x709/x551/616",
                TileError::IndexTooLarge,
            ),
            (
                "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
                TileError::IndexTooLarge,
            ),
        ];
        for (path, err) in cases {
            assert_eq!(TilePath::parse(path), Err(err), "{path}");
        }
        let long = format!("tile/0/{}", "x001/".repeat(20));
        assert_eq!(TilePath::parse(&long), Err(TileError::PathTooLong));
        // The largest index is accepted and round-trips.
        let max = "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255";
        assert_eq!(TilePath::parse(max).unwrap().to_string(), max);
        assert_eq!(TileId::new(64, 0, 1), Err(TileError::BadLevel));
        assert_eq!(TileId::new(0, 0, 0), Err(TileError::WidthOutOfRange(0)));
        assert_eq!(TileId::new(0, 0, 257), Err(TileError::WidthOutOfRange(257)));
    }

    #[test]
    fn entry_bundles_round_trip_and_reject_malformed_input() {
        let b = EntryBundle::new(vec![b"a".to_vec(), Vec::new(), vec![7; 300]]).unwrap();
        let bytes = b.to_bytes();
        assert_eq!(&bytes[..5], &[0, 1, b'a', 0, 0]);
        assert_eq!(EntryBundle::from_bytes(&bytes, 3).unwrap(), b);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            EntryBundle::from_bytes(&trailing, 3),
            Err(TileError::TrailingBytes(1))
        );
        assert_eq!(
            EntryBundle::from_bytes(&bytes, 2),
            Err(TileError::TrailingBytes(302))
        );
        assert_eq!(
            EntryBundle::from_bytes(&bytes, 4),
            Err(TileError::TruncatedLengthPrefix(3))
        );
        assert_eq!(
            EntryBundle::from_bytes(&bytes[..bytes.len() - 1], 3),
            Err(TileError::TruncatedEntry(2))
        );
        assert_eq!(
            EntryBundle::from_bytes(&bytes[..6], 4),
            Err(TileError::TruncatedLengthPrefix(2))
        );
        assert_eq!(
            EntryBundle::new(vec![vec![0; 65_536]]),
            Err(TileError::EntryTooLarge(65_536))
        );
        assert!(EntryBundle::new(vec![vec![0; 65_535]]).is_ok());
        assert_eq!(
            EntryBundle::new(Vec::new()),
            Err(TileError::WidthOutOfRange(0))
        );
        assert_eq!(
            EntryBundle::new(vec![Vec::new(); 257]),
            Err(TileError::WidthOutOfRange(257))
        );
        assert_eq!(
            EntryBundle::new(vec![vec![0; 65_535]; 256]),
            Err(TileError::BundleTooLarge(256 * 65_537))
        );
        let huge = vec![0u8; MAX_ENTRY_BUNDLE + 1];
        assert_eq!(
            EntryBundle::from_bytes(&huge, 256),
            Err(TileError::BundleTooLarge(MAX_ENTRY_BUNDLE + 1))
        );
    }

    #[test]
    fn hash_tiles_need_exactly_32_bytes_per_hash() {
        let t = HashTile::new(vec![Hash::EMPTY_TREE; 3]).unwrap();
        let bytes = t.to_bytes();
        assert_eq!(HashTile::from_bytes(&bytes, 3).unwrap(), t);
        assert!(matches!(
            HashTile::from_bytes(&bytes[1..], 3),
            Err(TileError::WrongTileLength {
                expected: 96,
                got: 95,
                ..
            })
        ));
        assert!(HashTile::from_bytes(&bytes, 2).is_err());
        assert!(HashTile::from_bytes(&[], 0).is_err());
        assert!(HashTile::new(Vec::new()).is_err());
    }
}
