//! Tiles against `tlog_tiles` (a Rust port of Go's
//! `golang.org/x/mod/sumdb/tlog`, whose tile layout C2SP tlog-tiles adopts
//! with height 8): tile paths, the tiles of each tree size, tile contents,
//! and proofs read through `TileHashReader`, for every tree size up to 1100
//! and sampled sizes up to 70,000 (three tile levels).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use tallyboard_core::merkle::{
    TreeBuilder, TreeError, prove_consistency, prove_inclusion, tree_hash_from_reader,
    verify_consistency, verify_inclusion,
};
use tallyboard_core::tile::{
    BundleId, EntryBundle, HashTile, TILE_WIDTH, TileBuilder, TileHashReader, TileId, TilePath,
    TileReadError, partial_tiles, tiles_between, tiles_for_size,
};
use tallyboard_core::{Hash, leaf_hash};

fn entry(i: u64) -> Vec<u8> {
    format!("tally entry {i}").into_bytes()
}

/// Our stored hashes and leaf hashes for a tree of `n` leaves.
fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
    let mut b = TreeBuilder::new();
    let mut stored = Vec::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let h = leaf_hash(&entry(i));
        leaves.push(h);
        stored.extend_from_slice(b.push(h).unwrap());
    }
    (stored, leaves)
}

struct TlogStore(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TlogStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

fn tlog_store(n: u64) -> TlogStore {
    let mut s = TlogStore(Vec::new());
    for i in 0..n {
        let added = tlog_tiles::stored_hashes(i, &entry(i), &s).unwrap();
        s.0.extend(added);
    }
    s
}

fn to_tlog(t: &TileId) -> tlog_tiles::Tile {
    tlog_tiles::Tile::new(8, t.level(), t.index(), u32::from(t.width()), false)
}

/// tlog_tiles writes `tile/<H>/<L>/...` and `tile/<H>/data/...`; C2SP
/// tlog-tiles drops the height and names data tiles `entries`.
fn c2sp_path(t: &tlog_tiles::Tile) -> String {
    let p = t.path();
    let rest = p.strip_prefix("tile/8/").unwrap();
    match rest.strip_prefix("data/") {
        Some(r) => format!("tile/entries/{r}"),
        None => format!("tile/{rest}"),
    }
}

#[test]
fn tile_paths_agree_with_tlog_tiles_and_round_trip() {
    let mut indexes = vec![0u64, 1, 9, 10, 99, 100, 999, 1000, 1001, 1_234_067, 999_999];
    let mut x = 1u64;
    while let Some(y) = x.checked_mul(7) {
        indexes.push(y);
        indexes.push(y - 1);
        x = y;
    }
    indexes.push(u64::MAX);
    indexes.push(u64::MAX - 1);
    let mut checked = 0;
    for &n in &indexes {
        for level in [0u8, 1, 2, 7, 8, 63] {
            for width in [1u16, 2, 17, 255, 256] {
                let t = TileId::new(level, n, width).unwrap();
                let mut theirs = to_tlog(&t);
                assert_eq!(t.path(), c2sp_path(&theirs), "{t:?}");
                assert_eq!(TileId::parse(&t.path()).unwrap(), t);
                assert_eq!(TilePath::parse(&t.path()).unwrap(), TilePath::Hashes(t));
                let parsed_by_them = tlog_tiles::Tile::from_path(&theirs.path()).unwrap();
                assert_eq!(parsed_by_them, theirs);
                if level == 0 {
                    let b = t.bundle();
                    theirs.set_is_data();
                    assert_eq!(b.path(), c2sp_path(&theirs));
                    assert_eq!(BundleId::parse(&b.path()).unwrap(), b);
                    assert_eq!(TilePath::parse(&b.path()).unwrap(), TilePath::Entries(b));
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1500);
}

#[test]
fn tiles_of_every_growth_agree_with_tlog_tiles_new_tiles() {
    let mut sizes: Vec<u64> = (0..=1100).collect();
    sizes.extend([
        65_535, 65_536, 65_537, 70_000, 16_777_215, 16_777_216, 16_777_217,
    ]);
    sizes.extend([4_000_000, 1 << 40, (1 << 40) + 257]);
    let mut pairs = 0;
    for (i, &new) in sizes.iter().enumerate() {
        let olds: Vec<u64> = if new <= 300 {
            sizes[..i].to_vec()
        } else if new <= 70_000 {
            vec![0, new / 2, new - 1, new - 256, new - 257]
        } else {
            // Growths of at most a few hundred tiles.
            vec![new - 1, new - 256, new - 257, new - 65_537]
        };
        for old in olds {
            if old >= new {
                continue;
            }
            let ours: Vec<TileId> = tiles_between(old, new).collect();
            let theirs: Vec<tlog_tiles::Tile> = tlog_tiles::Tile::new_tiles(8, old, new);
            let theirs: Vec<TileId> = theirs
                .iter()
                .map(|t| TileId::new(t.level(), t.level_index(), t.width() as u16).unwrap())
                .collect();
            assert_eq!(ours, theirs, "tiles from {old} to {new}");
            pairs += 1;
        }
    }
    assert!(pairs > 45_000, "{pairs}");
    // Every tile of a tree is either full or that level's partial tile.
    for n in [1u64, 255, 256, 257, 65_536, 70_000] {
        let partial: Vec<TileId> = tiles_for_size(n).filter(|t| !t.is_full()).collect();
        assert_eq!(partial, partial_tiles(n), "{n}");
    }
    assert_eq!(tiles_for_size(0).count(), 0);
    assert_eq!(tiles_between(5, 5).count(), 0);
    assert_eq!(tiles_between(6, 5).count(), 0);
    assert_eq!(tiles_for_size(u64::MAX).count(), 0);
}

#[test]
fn tile_contents_agree_with_tlog_tiles() {
    const N: u64 = 70_000;
    let (stored, leaves) = build(N);
    let theirs = tlog_store(N);
    assert_eq!(stored.len(), theirs.0.len());
    let mut sizes: Vec<u64> = (1..=600).collect();
    sizes.extend([1023, 1024, 1100, 65_535, 65_536, 65_537, N]);
    let mut tiles_checked = 0;
    for n in sizes {
        // The partial tiles of every size, and every full tile of the largest.
        let tiles: Vec<TileId> = if n == N {
            tiles_for_size(n).collect()
        } else {
            partial_tiles(n)
        };
        for t in tiles {
            let ours = HashTile::from_reader(t, &stored).unwrap();
            assert_eq!(ours.width(), t.width());
            let data = to_tlog(&t).read_data(&theirs).unwrap();
            assert_eq!(ours.to_bytes(), data, "tile {t}");
            assert_eq!(HashTile::from_leaf_hashes(t, &leaves).unwrap(), ours);
            assert_eq!(HashTile::from_bytes(&data, t.width()).unwrap(), ours);
            if t.level() == 0 {
                let start = (t.index() * 256) as usize;
                let entries: Vec<Vec<u8>> = (start..start + usize::from(t.width()))
                    .map(|i| entry(i as u64))
                    .collect();
                let bundle = EntryBundle::new(entries).unwrap();
                bundle.check_against_tile(&ours).unwrap();
                assert_eq!(bundle.leaf_hashes(), ours.hashes());
            }
            tiles_checked += 1;
        }
    }
    assert!(tiles_checked > 1000, "{tiles_checked}");
    // A full tile's root is the hash its parent holds for it.
    let parent = HashTile::from_reader(TileId::in_tree(1, 0, N).unwrap(), &stored).unwrap();
    for i in 0..usize::from(TILE_WIDTH) {
        let child = HashTile::from_reader(TileId::full(0, i as u64).unwrap(), &stored).unwrap();
        assert_eq!(child.root(), parent.hashes()[i]);
    }
}

/// A fetcher serving tiles computed from our stored hashes, counting fetches
/// and optionally tampering with one tile.
struct Server<'a> {
    stored: &'a [Hash],
    tamper: Option<TileId>,
    fetched: RefCell<BTreeMap<TileId, usize>>,
}

#[derive(Debug, thiserror::Error)]
#[error("no such tile {0}")]
struct NoTile(TileId);

impl tallyboard_core::tile::TileFetcher for Server<'_> {
    type Error = NoTile;
    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, NoTile> {
        *self.fetched.borrow_mut().entry(tile).or_default() += 1;
        let mut bytes = HashTile::from_reader(tile, self.stored)
            .map_err(|_| NoTile(tile))?
            .to_bytes();
        if self.tamper == Some(tile) {
            bytes[0] ^= 1;
        }
        Ok(bytes)
    }
}

fn server(stored: &[Hash], tamper: Option<TileId>) -> Server<'_> {
    Server {
        stored,
        tamper,
        fetched: RefCell::new(BTreeMap::new()),
    }
}

#[test]
fn proofs_through_tile_hash_reader_equal_proofs_from_stored_hashes() {
    const N: u64 = 70_000;
    let (stored, leaves) = build(N);
    let mut sizes: Vec<u64> = (1..=1100).collect();
    sizes.extend([65_535, 65_536, 65_537, N]);
    let mut proofs = 0;
    let mut roots = BTreeMap::new();
    for &n in &sizes {
        roots.insert(n, tree_hash_from_reader(n, &stored).unwrap());
    }
    for &n in &sizes {
        let root = roots[&n];
        let reader = TileHashReader::new(n, root, server(&stored, None));
        assert_eq!(tree_hash_from_reader(n, &reader).unwrap(), root);
        let indexes = if n <= 300 {
            (0..n).collect()
        } else {
            vec![0, 1, 255, 256, n / 2, n - 257, n - 256, n - 2, n - 1]
        };
        for i in indexes {
            let p = prove_inclusion(n, i, &reader).unwrap();
            assert_eq!(p, prove_inclusion(n, i, &stored).unwrap(), "{i} in {n}");
            verify_inclusion(&leaves[i as usize], i, n, &p, &root).unwrap();
            proofs += 1;
        }
        for m in [1, n / 3, n / 2, n - 1, n].into_iter().filter(|&m| m >= 1) {
            let old_root = *roots
                .get(&m)
                .unwrap_or(&tree_hash_from_reader(m, &stored).unwrap());
            let p = prove_consistency(m, n, &reader).unwrap();
            assert_eq!(p, prove_consistency(m, n, &stored).unwrap(), "{m} -> {n}");
            verify_consistency(m, n, &old_root, &root, &p).unwrap();
            proofs += 1;
        }
    }
    assert!(proofs > 50_000, "{proofs}");
}

#[test]
fn tile_hash_reader_rejects_every_tampered_tile_it_reads() {
    // For each size, tamper in turn with every tile an inclusion proof of
    // several leaves reads: the read must fail, never return a proof.
    let (stored, _) = build(70_000);
    let mut rejections = 0;
    for n in [2u64, 255, 256, 257, 300, 513, 1100, 65_536, 70_000] {
        let root = tree_hash_from_reader(n, &stored).unwrap();
        for i in [0, 5, n / 2, n - 1].into_iter().filter(|&i| i < n) {
            let honest = server(&stored, None);
            let reader = TileHashReader::new(n, root, honest);
            prove_inclusion(n, i, &reader).unwrap();
            let used: Vec<TileId> = reader_fetched(&reader);
            assert!(!used.is_empty());
            for t in used {
                let bad = TileHashReader::new(n, root, server(&stored, Some(t)));
                match prove_inclusion(n, i, &bad) {
                    Err(TreeError::Read(
                        TileReadError::RootMismatch { .. } | TileReadError::InconsistentTile(_),
                    )) => rejections += 1,
                    other => panic!("tampered {t} for leaf {i} of {n}: {other:?}"),
                }
            }
        }
    }
    assert!(rejections > 50, "{rejections}");
}

fn reader_fetched(r: &TileHashReader<Server<'_>>) -> Vec<TileId> {
    r.fetcher().fetched.borrow().keys().copied().collect()
}

#[test]
fn tile_builder_streams_exactly_the_tiles_of_the_tree() {
    const N: u64 = 70_000;
    let (stored, leaves) = build(N);
    let mut b = TileBuilder::new();
    assert_eq!(b.root(), Hash::EMPTY_TREE);
    assert!(b.partial_tiles().is_empty());
    let mut emitted = Vec::new();
    let mut prev = 0u64;
    for (i, h) in leaves.iter().enumerate() {
        let n = i as u64 + 1;
        let done = b.push(*h).unwrap();
        // Full tiles arrive exactly when the tree grows past them.
        let want: Vec<TileId> = tiles_between(prev, n).filter(|t| t.is_full()).collect();
        let got: Vec<TileId> = done.iter().map(|(t, _)| *t).collect();
        assert_eq!(got, want, "size {n}");
        emitted.extend(done);
        prev = n;
        if n <= 1100 || n.is_multiple_of(997) || n == N || n.is_multiple_of(256) {
            assert_eq!(
                b.root(),
                tree_hash_from_reader(n, &stored).unwrap(),
                "root at {n}"
            );
            let partial = b.partial_tiles();
            let ids: Vec<TileId> = partial.iter().map(|(t, _)| *t).collect();
            assert_eq!(ids, partial_tiles(n));
            for (t, tile) in &partial {
                assert_eq!(tile, &HashTile::from_reader(*t, &stored).unwrap());
            }
            // Resuming from the partial tiles continues identically.
            let mut resumed = TileBuilder::from_partial_tiles(n, &partial).unwrap();
            assert_eq!(resumed.root(), b.root());
            if (n as usize) < leaves.len() {
                let next = leaves[n as usize];
                assert_eq!(resumed.push(next), b.clone().push(next));
            }
        }
    }
    let all_full: Vec<TileId> = tiles_for_size(N).filter(|t| t.is_full()).collect();
    assert_eq!(emitted.len(), all_full.len());
    for (t, tile) in &emitted {
        assert_eq!(tile, &HashTile::from_reader(*t, &stored).unwrap(), "{t}");
    }
    // Wrong partial tiles are refused.
    let partial = b.partial_tiles();
    assert!(TileBuilder::from_partial_tiles(N + 1, &partial).is_none());
    assert!(TileBuilder::from_partial_tiles(N, &partial[1..]).is_none());
    assert!(TileBuilder::from_partial_tiles(u64::MAX, &[]).is_none());
    assert_eq!(
        TileBuilder::from_partial_tiles(0, &[]),
        Some(TileBuilder::new())
    );
    // A tree of 65536 has one partial tile (level 2, width 1): none is not enough.
    assert!(TileBuilder::from_partial_tiles(65_536, &[]).is_none());
}
