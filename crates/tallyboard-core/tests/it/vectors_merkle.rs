#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Test vectors for Merkle proofs (`spec/vectors/merkle/`) and tiles
//! (`spec/vectors/tiles/`).
//!
//! 1. Every vector is regenerated here deterministically and compared with
//!    its file: any drift fails. `TALLYBOARD_BLESS=1` rewrites the files
//!    (and removes stale ones) instead.
//! 2. Every file in the two directories is run through the verifier or
//!    parser, and the outcome must be the one the file states.
//!
//! The expected outcome of each case is written by hand below, never derived
//! from the implementation under test.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::limits::{MAX_PROOF_HASHES, MAX_TREE_SIZE};
use tallyboard_core::merkle::{
    self, TreeBuilder, prove_consistency, prove_inclusion, tree_hash_from_reader,
    verify_consistency, verify_inclusion,
};
use tallyboard_core::tile::{
    EntryBundle, HashTile, TileHashReader, TileId, TilePath, tiles_for_size,
};

const AREAS: [&str; 2] = ["merkle", "tiles"];

// ---------------------------------------------------------------------------
// Helpers.

struct Case {
    area: &'static str,
    name: String,
    json: Value,
}

fn case(area: &'static str, name: &str, description: &str, expect: &str, fields: Value) -> Case {
    let mut obj: BTreeMap<String, Value> = match fields {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    obj.insert("description".into(), json!(description));
    obj.insert("expect".into(), json!(expect));
    Case {
        area,
        name: name.to_owned(),
        json: Value::Object(obj.into_iter().collect()),
    }
}

fn hexes(hs: &[Hash]) -> Value {
    json!(hs.iter().map(Hash::to_hex).collect::<Vec<_>>())
}

fn get_hash(v: &Value, field: &str) -> Hash {
    Hash::from_hex(v[field].as_str().unwrap()).unwrap()
}

fn get_hashes(v: &Value, field: &str) -> Vec<Hash> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect()
}

fn get_u64(v: &Value, field: &str) -> u64 {
    let s = v[field].as_str().unwrap();
    let n: u64 = s.parse().unwrap();
    assert_eq!(n.to_string(), s, "sizes are canonical decimal strings");
    n
}

fn get_hex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

/// Entry `i` of the vector logs: the ASCII text `tallyboard vector entry <i>`.
fn entry(i: u64) -> Vec<u8> {
    format!("tallyboard vector entry {i}").into_bytes()
}

struct Tree {
    stored: Vec<Hash>,
    leaves: Vec<Hash>,
}

fn tree(n: u64) -> Tree {
    let mut b = TreeBuilder::new();
    let mut t = Tree {
        stored: Vec::new(),
        leaves: Vec::new(),
    };
    for i in 0..n {
        let h = leaf_hash(&entry(i));
        t.leaves.push(h);
        t.stored.extend_from_slice(b.push(h).unwrap());
    }
    t
}

impl Tree {
    fn root(&self, n: u64) -> Hash {
        tree_hash_from_reader(n, &self.stored).unwrap()
    }
    fn incl(&self, n: u64, i: u64) -> Vec<Hash> {
        prove_inclusion(n, i, &self.stored).unwrap()
    }
    fn cons(&self, m: u64, n: u64) -> Vec<Hash> {
        prove_consistency(m, n, &self.stored).unwrap()
    }
}

fn flip_bit(mut h: Hash) -> Hash {
    h.0[0] ^= 0x01;
    h
}

// ---------------------------------------------------------------------------
// Merkle vectors. Kinds:
// - `tree`: `entries_hex` → `leaf_hashes_hex`, `root_hex`.
// - `inclusion`: `leaf_hash_hex`, `index`, `tree_size`, `proof_hex`, `root_hex`.
// - `consistency`: `old_size`, `new_size`, `old_root_hex`, `new_root_hex`, `proof_hex`.

#[allow(clippy::too_many_arguments)] // one argument per JSON field
fn inclusion(
    name: &str,
    d: &str,
    expect: &str,
    leaf: Hash,
    i: u64,
    n: u64,
    p: &[Hash],
    root: Hash,
) -> Case {
    case(
        "merkle",
        name,
        d,
        expect,
        json!({
            "kind": "inclusion",
            "leaf_hash_hex": leaf.to_hex(),
            "index": i.to_string(),
            "tree_size": n.to_string(),
            "proof_hex": hexes(p),
            "root_hex": root.to_hex(),
        }),
    )
}

#[allow(clippy::too_many_arguments)] // one argument per JSON field
fn consistency(
    name: &str,
    d: &str,
    expect: &str,
    m: u64,
    n: u64,
    rm: Hash,
    rn: Hash,
    p: &[Hash],
) -> Case {
    case(
        "merkle",
        name,
        d,
        expect,
        json!({
            "kind": "consistency",
            "old_size": m.to_string(),
            "new_size": n.to_string(),
            "old_root_hex": rm.to_hex(),
            "new_root_hex": rn.to_hex(),
            "proof_hex": hexes(p),
        }),
    )
}

fn merkle_cases() -> Vec<Case> {
    let t = tree(14);
    let mut v = Vec::new();
    let entries_13: Vec<String> = (0..13).map(|i| hex::encode(entry(i))).collect();
    v.push(case(
        "merkle",
        "tree-hash-empty",
        "The tree of no entries hashes to SHA-256 of the empty string.",
        "ok",
        json!({"kind": "tree", "entries_hex": [], "leaf_hashes_hex": [], "root_hex": Hash::EMPTY_TREE.to_hex()}),
    ));
    v.push(case(
        "merkle",
        "tree-hash-13-entries",
        "Leaf hashes SHA-256(0x00 || entry) and the RFC 6962 tree hash of 13 entries (not a power of two).",
        "ok",
        json!({"kind": "tree", "entries_hex": entries_13, "leaf_hashes_hex": hexes(&t.leaves[..13]), "root_hex": t.root(13).to_hex()}),
    ));
    let (n, r13) = (13, t.root(13));
    let l = |i: usize| t.leaves[i];
    v.push(inclusion(
        "inclusion-first-leaf",
        "Inclusion proof of leaf 0 in a tree of 13.",
        "ok",
        l(0),
        0,
        n,
        &t.incl(n, 0),
        r13,
    ));
    v.push(inclusion(
        "inclusion-middle-leaf",
        "Inclusion proof of leaf 6 in a tree of 13.",
        "ok",
        l(6),
        6,
        n,
        &t.incl(n, 6),
        r13,
    ));
    v.push(inclusion("inclusion-last-leaf", "Inclusion proof of the last leaf (12) in a tree of 13: the right edge promotes nodes without siblings.", "ok", l(12), 12, n, &t.incl(n, 12), r13));
    v.push(inclusion(
        "inclusion-single-leaf-tree",
        "A tree of one leaf: the proof is empty and the root is the leaf hash.",
        "ok",
        l(0),
        0,
        1,
        &[],
        l(0),
    ));
    let p6 = t.incl(n, 6);
    let mut flipped = p6.clone();
    flipped[1] = flip_bit(flipped[1]);
    v.push(inclusion(
        "inclusion-proof-bit-flipped",
        "One bit of the second proof hash is flipped.",
        "root-mismatch",
        l(6),
        6,
        n,
        &flipped,
        r13,
    ));
    v.push(inclusion(
        "inclusion-wrong-index",
        "The proof of leaf 6 presented for index 7 (same proof length).",
        "root-mismatch",
        l(6),
        7,
        n,
        &p6,
        r13,
    ));
    v.push(inclusion(
        "inclusion-wrong-leaf",
        "The proof of leaf 6 presented for the leaf hash of leaf 7.",
        "root-mismatch",
        l(7),
        6,
        n,
        &p6,
        r13,
    ));
    v.push(inclusion(
        "inclusion-wrong-tree-size",
        "The proof of leaf 6 in the tree of 13 checked against the genuine root of the tree of 14.",
        "root-mismatch",
        l(6),
        6,
        14,
        &p6,
        t.root(14),
    ));
    v.push(inclusion(
        "inclusion-wrong-root",
        "A valid proof checked against the root of the tree of 12.",
        "root-mismatch",
        l(6),
        6,
        n,
        &p6,
        t.root(12),
    ));
    let mut swapped = p6.clone();
    swapped.swap(0, 1);
    v.push(inclusion(
        "inclusion-proof-hashes-swapped",
        "The first two proof hashes are swapped.",
        "root-mismatch",
        l(6),
        6,
        n,
        &swapped,
        r13,
    ));
    let mut extra = p6.clone();
    extra.push(r13);
    v.push(inclusion(
        "inclusion-too-many-hashes",
        "A fifth hash is appended to a proof whose sizes require exactly four.",
        "wrong-proof-length",
        l(6),
        6,
        n,
        &extra,
        r13,
    ));
    v.push(inclusion(
        "inclusion-missing-hash",
        "The last hash of the proof is removed.",
        "wrong-proof-length",
        l(6),
        6,
        n,
        &p6[..3],
        r13,
    ));
    v.push(inclusion(
        "inclusion-empty-proof-for-large-tree",
        "An empty proof for leaf 6 of 13.",
        "wrong-proof-length",
        l(6),
        6,
        n,
        &[],
        r13,
    ));
    v.push(inclusion(
        "inclusion-index-equals-size",
        "Index 13 in a tree of 13 leaves.",
        "index-out-of-range",
        l(12),
        13,
        n,
        &t.incl(n, 12),
        r13,
    ));
    v.push(inclusion(
        "inclusion-empty-tree",
        "No leaf is in the empty tree.",
        "index-out-of-range",
        l(0),
        0,
        0,
        &[],
        Hash::EMPTY_TREE,
    ));
    v.push(inclusion(
        "inclusion-tree-size-above-max",
        "A tree size of 2^62 + 1, above MAX_TREE_SIZE.",
        "tree-too-large",
        l(6),
        6,
        MAX_TREE_SIZE + 1,
        &p6,
        r13,
    ));
    v.push(inclusion(
        "inclusion-proof-over-cap",
        "A proof of 129 hashes, above MAX_PROOF_HASHES, is refused before hashing.",
        "proof-too-long",
        l(6),
        6,
        n,
        &vec![r13; MAX_PROOF_HASHES + 1],
        r13,
    ));

    let (r5, r8) = (t.root(5), t.root(8));
    let p5 = t.cons(5, n);
    let p8 = t.cons(8, n);
    v.push(consistency("consistency-5-to-13", "Consistency proof from 5 to 13 leaves (old size not a power of two: the proof starts with the old tree's rightmost subtree root).", "ok", 5, n, r5, r13, &p5));
    v.push(consistency("consistency-8-to-13", "Consistency proof from 8 to 13 leaves (old size a power of two: the old root is not in the proof).", "ok", 8, n, r8, r13, &p8));
    v.push(consistency(
        "consistency-1-to-14",
        "Consistency proof from 1 to 14 leaves.",
        "ok",
        1,
        14,
        t.root(1),
        t.root(14),
        &t.cons(1, 14),
    ));
    v.push(consistency(
        "consistency-equal-sizes",
        "Equal sizes and equal roots: the empty proof.",
        "ok",
        n,
        n,
        r13,
        r13,
        &[],
    ));
    v.push(consistency(
        "consistency-from-empty-tree",
        "Every tree extends the empty tree: empty proof, old root SHA-256 of the empty string.",
        "ok",
        0,
        n,
        Hash::EMPTY_TREE,
        r13,
        &[],
    ));
    let mut f0 = p5.clone();
    f0[0] = flip_bit(f0[0]);
    v.push(consistency(
        "consistency-first-hash-bit-flipped",
        "One bit of the first proof hash (a node of both trees) is flipped.",
        "old-root-mismatch",
        5,
        n,
        r5,
        r13,
        &f0,
    ));
    let mut fl = p5.clone();
    let last = fl.len() - 1;
    fl[last] = flip_bit(fl[last]);
    v.push(consistency(
        "consistency-last-hash-bit-flipped",
        "One bit of the last proof hash (a node of the new tree only) is flipped.",
        "new-root-mismatch",
        5,
        n,
        r5,
        r13,
        &fl,
    ));
    v.push(consistency(
        "consistency-wrong-old-root",
        "The old root is the root of the tree of 6.",
        "old-root-mismatch",
        5,
        n,
        t.root(6),
        r13,
        &p5,
    ));
    v.push(consistency(
        "consistency-wrong-new-root",
        "The new root is the root of the tree of 14.",
        "new-root-mismatch",
        5,
        n,
        r5,
        t.root(14),
        &p5,
    ));
    v.push(consistency(
        "consistency-swapped-roots",
        "Old and new roots swapped.",
        "old-root-mismatch",
        5,
        n,
        r13,
        r5,
        &p5,
    ));
    v.push(consistency(
        "consistency-old-size-above-new-size",
        "Old size 13, new size 5.",
        "old-size-above-new-size",
        n,
        5,
        r13,
        r5,
        &p5,
    ));
    let mut extra = p5.clone();
    extra.push(r13);
    v.push(consistency(
        "consistency-too-many-hashes",
        "A hash is appended to the proof from 5 to 13.",
        "wrong-proof-length",
        5,
        n,
        r5,
        r13,
        &extra,
    ));
    v.push(consistency(
        "consistency-missing-hash",
        "The last hash of the proof from 5 to 13 is removed.",
        "wrong-proof-length",
        5,
        n,
        r5,
        r13,
        &p5[..p5.len() - 1],
    ));
    v.push(consistency(
        "consistency-empty-proof-for-growth",
        "An empty proof between different non-zero sizes.",
        "wrong-proof-length",
        5,
        n,
        r5,
        r13,
        &[],
    ));
    let mut with_old = vec![r8];
    with_old.extend_from_slice(&p8);
    v.push(consistency("consistency-power-of-two-old-root-included", "The old root of 8 leaves is prepended, though a power-of-two old tree's root is never in the proof.", "wrong-proof-length", 8, n, r8, r13, &with_old));
    v.push(consistency(
        "consistency-equal-sizes-nonempty-proof",
        "Equal sizes with a non-empty proof.",
        "wrong-proof-length",
        n,
        n,
        r13,
        r13,
        &[r13],
    ));
    v.push(consistency(
        "consistency-equal-sizes-different-roots",
        "Equal sizes, different roots: a fork.",
        "equal-sizes-different-roots",
        n,
        n,
        r13,
        t.root(12),
        &[],
    ));
    v.push(consistency(
        "consistency-from-empty-nonempty-proof",
        "From the empty tree with a non-empty proof.",
        "wrong-proof-length",
        0,
        n,
        Hash::EMPTY_TREE,
        r13,
        &[r13],
    ));
    v.push(consistency(
        "consistency-from-empty-wrong-root",
        "From size 0 with an old root other than SHA-256 of the empty string.",
        "empty-tree-root-mismatch",
        0,
        n,
        r5,
        r13,
        &[],
    ));
    v.push(consistency(
        "consistency-new-size-above-max",
        "A new size of 2^62 + 1, above MAX_TREE_SIZE.",
        "tree-too-large",
        5,
        MAX_TREE_SIZE + 1,
        r5,
        r13,
        &p5,
    ));
    v.push(consistency(
        "consistency-proof-over-cap",
        "A proof of 129 hashes, above MAX_PROOF_HASHES.",
        "proof-too-long",
        5,
        n,
        r5,
        r13,
        &vec![r13; MAX_PROOF_HASHES + 1],
    ));
    v
}

fn run_merkle(v: &Value) -> Result<(), String> {
    match v["kind"].as_str().unwrap() {
        "tree" => {
            let entries: Vec<Vec<u8>> = v["entries_hex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| hex::decode(e.as_str().unwrap()).unwrap())
                .collect();
            let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
            assert_eq!(leaves, get_hashes(v, "leaf_hashes_hex"));
            let root = merkle::tree_hash(&leaves);
            let mut b = TreeBuilder::new();
            for l in &leaves {
                b.push(*l).unwrap();
            }
            assert_eq!(b.root(), root);
            if root != get_hash(v, "root_hex") {
                return Err("root-mismatch".into());
            }
            Ok(())
        }
        "inclusion" => verify_inclusion(
            &get_hash(v, "leaf_hash_hex"),
            get_u64(v, "index"),
            get_u64(v, "tree_size"),
            &get_hashes(v, "proof_hex"),
            &get_hash(v, "root_hex"),
        )
        .map_err(|e| e.code().to_owned()),
        "consistency" => verify_consistency(
            get_u64(v, "old_size"),
            get_u64(v, "new_size"),
            &get_hash(v, "old_root_hex"),
            &get_hash(v, "new_root_hex"),
            &get_hashes(v, "proof_hex"),
        )
        .map_err(|e| e.code().to_owned()),
        k => panic!("unknown kind {k}"),
    }
}

// ---------------------------------------------------------------------------
// Tile vectors. Kinds:
// - `tile_path`: `path`; on ok `resource` ("hashes" | "entries"), `level`
//   (hashes only), `index` (decimal string), `width`.
// - `entry_bundle`: `bundle_hex`, `width`; on ok `entries_hex`.
// - `hash_tile`: `tile_hex`, `width`.
// - `bundle_against_tile`: `bundle_hex`, `tile_hex`, `width`: both parse and
//   the entries hash to the tile's hashes.
// - `tiles_of_tree`: `tree_size` → `paths`, every tile of the tree in order.
// - `tiled_tree`: `tree_size`, `root_hex`, `resources` (path → hex): all the
//   tiles and bundles of a tree; they parse, bundles hash to their level-0
//   tiles, and the tiles hash to the root.

fn path_case(name: &str, d: &str, path: &str, expect: &str) -> Case {
    let mut fields = json!({"kind": "tile_path", "path": path});
    if expect == "ok" {
        let m = fields.as_object_mut().unwrap();
        match TilePath::parse(path).unwrap() {
            TilePath::Hashes(t) => {
                m.insert("resource".into(), json!("hashes"));
                m.insert("level".into(), json!(t.level()));
                m.insert("index".into(), json!(t.index().to_string()));
                m.insert("width".into(), json!(t.width()));
            }
            TilePath::Entries(b) => {
                m.insert("resource".into(), json!("entries"));
                m.insert("index".into(), json!(b.index().to_string()));
                m.insert("width".into(), json!(b.width()));
            }
        }
    }
    case("tiles", name, d, expect, fields)
}

fn bundle_case(
    name: &str,
    d: &str,
    bytes: &[u8],
    width: u16,
    expect: &str,
    entries: &[&[u8]],
) -> Case {
    let mut fields =
        json!({"kind": "entry_bundle", "bundle_hex": hex::encode(bytes), "width": width});
    if expect == "ok" {
        fields.as_object_mut().unwrap().insert(
            "entries_hex".into(),
            json!(entries.iter().map(hex::encode).collect::<Vec<_>>()),
        );
    }
    case("tiles", name, d, expect, fields)
}

/// A bundle written byte by byte (not with the encoder under test).
fn raw_bundle(entries: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.push((e.len() >> 8) as u8);
        out.push(e.len() as u8);
        out.extend_from_slice(e);
    }
    out
}

fn tile_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let p = |n: &str, d: &str, path: &str, e: &str| path_case(n, d, path, e);
    v.push(p(
        "path-full-level-0",
        "A full level-0 tile.",
        "tile/0/000",
        "ok",
    ));
    v.push(p(
        "path-partial-level-1",
        "A partial level-1 tile of width 17.",
        "tile/1/001.p/17",
        "ok",
    ));
    v.push(p(
        "path-grouped-index",
        "Index 1234067 in x-prefixed three-digit groups.",
        "tile/2/x001/x234/067",
        "ok",
    ));
    v.push(p(
        "path-entries-partial",
        "A partial entry bundle of 112 entries.",
        "tile/entries/273.p/112",
        "ok",
    ));
    v.push(p(
        "path-largest-index",
        "The largest 64-bit index, partial width 255.",
        "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255",
        "ok",
    ));
    v.push(p(
        "path-level-63",
        "Level 63 is the highest level a path may name.",
        "tile/63/000.p/1",
        "ok",
    ));
    v.push(p(
        "path-level-leading-zero",
        "Level written with a leading zero.",
        "tile/01/000",
        "bad-level",
    ));
    v.push(p(
        "path-level-64",
        "Level 64 is above the maximum of 63.",
        "tile/64/000",
        "bad-level",
    ));
    v.push(p(
        "path-level-signed",
        "Level with a plus sign.",
        "tile/+1/000",
        "bad-level",
    ));
    v.push(p(
        "path-data-instead-of-entries",
        "Go sumdb's `data` element is not a C2SP tile path.",
        "tile/data/000",
        "bad-level",
    ));
    v.push(p(
        "path-height-element",
        "A Go sumdb path with a tile height element.",
        "tile/8/0/000",
        "bad-index-element",
    ));
    v.push(p(
        "path-index-one-digit",
        "Index not zero-padded to three digits.",
        "tile/0/5",
        "bad-index-element",
    ));
    v.push(p(
        "path-index-four-digits",
        "A four-digit index element.",
        "tile/0/1000",
        "bad-index-element",
    ));
    v.push(p(
        "path-index-missing-x",
        "A non-final group without the x prefix.",
        "tile/0/001/000",
        "bad-index-element",
    ));
    v.push(p(
        "path-index-x-on-last",
        "The final group with an x prefix.",
        "tile/0/x001",
        "bad-index-element",
    ));
    v.push(p(
        "path-index-uppercase-x",
        "An upper-case X prefix.",
        "tile/0/X001/000",
        "bad-index-element",
    ));
    v.push(p(
        "path-trailing-slash",
        "A trailing slash.",
        "tile/0/000/",
        "bad-index-element",
    ));
    v.push(p(
        "path-empty-index",
        "No index.",
        "tile/0/",
        "bad-index-element",
    ));
    v.push(p(
        "path-leading-zero-group",
        "Index 5 written as x000/005.",
        "tile/0/x000/005",
        "non-canonical-index",
    ));
    v.push(p(
        "path-index-overflow",
        "Index 2^64 does not fit 64 bits.",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "index-too-large",
    ));
    v.push(p(
        "path-index-eight-groups",
        "Eight groups cannot be a 64-bit index.",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "index-too-large",
    ));
    v.push(p(
        "path-width-256",
        "A full tile has no .p/ suffix; .p/256 is refused.",
        "tile/0/000.p/256",
        "bad-width",
    ));
    v.push(p(
        "path-width-0",
        "Width 0: empty tiles are never served.",
        "tile/0/000.p/0",
        "bad-width",
    ));
    v.push(p(
        "path-width-leading-zero",
        "Width with a leading zero.",
        "tile/entries/000.p/07",
        "bad-width",
    ));
    v.push(p(
        "path-width-missing",
        "The .p/ suffix without a width.",
        "tile/0/000.p/",
        "bad-width",
    ));
    v.push(p(
        "path-width-extra-element",
        "An element after the width.",
        "tile/0/000.p/5/1",
        "bad-width",
    ));
    v.push(p(
        "path-not-tile",
        "Not under tile/.",
        "tiles/0/000",
        "not-a-tile-path",
    ));
    v.push(p(
        "path-leading-slash",
        "A leading slash (strip the URL prefix and its slash first).",
        "/tile/0/000",
        "not-a-tile-path",
    ));
    v.push(p(
        "path-too-long",
        "A path over MAX_TILE_PATH (64) bytes is refused before parsing.",
        "tile/0/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/x001/001",
        "path-too-long",
    ));

    let e: [&[u8]; 3] = [b"first entry", b"", &[0xff; 300]];
    let good = raw_bundle(&e);
    v.push(bundle_case(
        "bundle-three-entries",
        "Three entries (one empty, one of 300 bytes), each after its 16-bit big-endian length.",
        &good,
        3,
        "ok",
        &e,
    ));
    let mut trailing = good.clone();
    trailing.push(0);
    v.push(bundle_case(
        "bundle-trailing-bytes",
        "One byte after the last entry.",
        &trailing,
        3,
        "trailing-bytes",
        &[],
    ));
    v.push(bundle_case(
        "bundle-more-entries-than-width",
        "Three entries where the path's width says two.",
        &good,
        2,
        "trailing-bytes",
        &[],
    ));
    v.push(bundle_case(
        "bundle-fewer-entries-than-width",
        "Three entries where the path's width says four.",
        &good,
        4,
        "truncated-length-prefix",
        &[],
    ));
    v.push(bundle_case(
        "bundle-truncated-length-prefix",
        "The bundle ends after the first byte of a length prefix.",
        &[0x00, 0x01, b'a', 0x00],
        2,
        "truncated-length-prefix",
        &[],
    ));
    v.push(bundle_case(
        "bundle-truncated-entry",
        "A length prefix of 11 followed by only 10 bytes.",
        &good[..12],
        1,
        "truncated-entry",
        &[],
    ));
    v.push(bundle_case(
        "bundle-empty-input",
        "No bytes for a bundle of one entry.",
        &[],
        1,
        "truncated-length-prefix",
        &[],
    ));
    v.push(bundle_case(
        "bundle-width-zero",
        "Width 0: an empty bundle is never served.",
        &[],
        0,
        "width-out-of-range",
        &[],
    ));
    v.push(bundle_case(
        "bundle-width-257",
        "Width 257 is above a full bundle.",
        &good,
        257,
        "width-out-of-range",
        &[],
    ));

    let t = tree(300);
    let tile0 = HashTile::from_reader(TileId::in_tree(0, 1, 300).unwrap(), &t.stored).unwrap();
    let tb = tile0.to_bytes();
    let tile_case = |name: &str, d: &str, bytes: &[u8], width: u16, expect: &str| {
        case(
            "tiles",
            name,
            d,
            expect,
            json!({"kind": "hash_tile", "tile_hex": hex::encode(bytes), "width": width}),
        )
    };
    v.push(tile_case(
        "hash-tile-partial-44",
        "The partial level-0 tile of width 44 of the tree of 300 entries.",
        &tb,
        44,
        "ok",
    ));
    v.push(tile_case(
        "hash-tile-short",
        "One byte short of 44 hashes.",
        &tb[..tb.len() - 1],
        44,
        "wrong-tile-length",
    ));
    let mut long = tb.clone();
    long.extend_from_slice(&[0; 32]);
    v.push(tile_case(
        "hash-tile-extra-hash",
        "45 hashes where the path's width says 44.",
        &long,
        44,
        "wrong-tile-length",
    ));
    v.push(tile_case(
        "hash-tile-width-zero",
        "Width 0.",
        &[],
        0,
        "width-out-of-range",
    ));

    let entries: Vec<Vec<u8>> = (256..300).map(entry).collect();
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let bundle = raw_bundle(&refs);
    let bt = |name: &str, d: &str, bundle: &[u8], tile: &[u8], expect: &str| {
        case(
            "tiles",
            name,
            d,
            expect,
            json!({"kind": "bundle_against_tile", "bundle_hex": hex::encode(bundle), "tile_hex": hex::encode(tile), "width": 44}),
        )
    };
    v.push(bt(
        "bundle-matches-tile",
        "Entries 256..299 hash to the partial level-0 tile 1 of the tree of 300.",
        &bundle,
        &tb,
        "ok",
    ));
    let mut altered = entries.clone();
    altered[5][0] ^= 1;
    let refs: Vec<&[u8]> = altered.iter().map(Vec::as_slice).collect();
    v.push(bt(
        "bundle-entry-altered",
        "Entry 5 of the bundle has one bit flipped: it no longer hashes to tile hash 5.",
        &raw_bundle(&refs),
        &tb,
        "entry-hash-mismatch",
    ));

    for (name, n, d) in [
        (
            "tiles-of-tree-256",
            256u64,
            "A tree of 256 entries: one full level-0 tile and a level-1 partial tile of width 1.",
        ),
        (
            "tiles-of-tree-1000",
            1000,
            "A tree of 1000 entries: three full level-0 tiles, a partial of 232, a level-1 partial of 3.",
        ),
        (
            "tiles-of-tree-70000",
            70_000,
            "The C2SP example: 273 full level-0 tiles, a partial of 112, a full level-1 tile, a level-1 partial of 17, a level-2 partial of 1.",
        ),
    ] {
        let paths: Vec<String> = tiles_for_size(n).map(|t| t.path()).collect();
        v.push(case(
            "tiles",
            name,
            d,
            "ok",
            json!({"kind": "tiles_of_tree", "tree_size": n.to_string(), "paths": paths}),
        ));
    }

    let mut resources = BTreeMap::new();
    for tile in tiles_for_size(300) {
        let h = HashTile::from_reader(tile, &t.stored).unwrap();
        resources.insert(tile.path(), json!(hex::encode(h.to_bytes())));
        if tile.level() == 0 {
            let first = tile.index() * 256;
            let es: Vec<Vec<u8>> = (first..first + u64::from(tile.width()))
                .map(entry)
                .collect();
            let refs: Vec<&[u8]> = es.iter().map(Vec::as_slice).collect();
            resources.insert(tile.bundle().path(), json!(hex::encode(raw_bundle(&refs))));
        }
    }
    v.push(case(
        "tiles",
        "tiled-tree-300",
        "Every tile and entry bundle of the tree of 300 entries (entry i is the ASCII text `tallyboard vector entry <i>`), and its root.",
        "ok",
        json!({"kind": "tiled_tree", "tree_size": "300", "root_hex": t.root(300).to_hex(), "resources": resources}),
    ));
    let mut bad = resources.clone();
    let h = bad.get_mut("tile/0/000").unwrap();
    let mut b = hex::decode(h.as_str().unwrap()).unwrap();
    b[5 * 32] ^= 1;
    *h = json!(hex::encode(b));
    v.push(case(
        "tiles",
        "tiled-tree-300-altered-full-tile",
        "The tree of 300 with one bit of hash 5 of the full tile tile/0/000 flipped: the tile no longer hashes to its entry in tile/1/000.p/1.",
        "inconsistent-tile",
        json!({"kind": "tiled_tree", "tree_size": "300", "root_hex": t.root(300).to_hex(), "resources": bad}),
    ));
    let mut bad = resources;
    let h = bad.get_mut("tile/0/001.p/44").unwrap();
    let mut b = hex::decode(h.as_str().unwrap()).unwrap();
    b[0] ^= 1;
    *h = json!(hex::encode(b));
    v.push(case(
        "tiles",
        "tiled-tree-300-altered-edge-tile",
        "The tree of 300 with one bit of the partial tile tile/0/001.p/44 flipped: the edge tiles no longer hash to the root.",
        "root-mismatch",
        json!({"kind": "tiled_tree", "tree_size": "300", "root_hex": t.root(300).to_hex(), "resources": bad}),
    ));
    v
}

#[derive(Debug, thiserror::Error)]
#[error("no resource {0}")]
struct Missing(String);

fn run_tiles(v: &Value) -> Result<(), String> {
    let width = || v["width"].as_u64().unwrap() as u16;
    match v["kind"].as_str().unwrap() {
        "tile_path" => {
            let path = v["path"].as_str().unwrap();
            let parsed = TilePath::parse(path).map_err(|e| e.code().to_owned())?;
            assert_eq!(parsed.to_string(), path, "parse(format(x)) == x");
            let (resource, index, w) = match parsed {
                TilePath::Hashes(t) => {
                    assert_eq!(u64::from(t.level()), v["level"].as_u64().unwrap());
                    ("hashes", t.index(), t.width())
                }
                TilePath::Entries(b) => ("entries", b.index(), b.width()),
            };
            assert_eq!(resource, v["resource"].as_str().unwrap());
            assert_eq!(index, get_u64(v, "index"));
            assert_eq!(w, width());
            Ok(())
        }
        "entry_bundle" => {
            let b = EntryBundle::from_bytes(&get_hex(v, "bundle_hex"), width())
                .map_err(|e| e.code().to_owned())?;
            let want: Vec<Vec<u8>> = v["entries_hex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| hex::decode(e.as_str().unwrap()).unwrap())
                .collect();
            assert_eq!(b.entries(), want.as_slice());
            assert_eq!(b.to_bytes(), get_hex(v, "bundle_hex"));
            Ok(())
        }
        "hash_tile" => {
            let t = HashTile::from_bytes(&get_hex(v, "tile_hex"), width())
                .map_err(|e| e.code().to_owned())?;
            assert_eq!(t.to_bytes(), get_hex(v, "tile_hex"));
            Ok(())
        }
        "bundle_against_tile" => {
            let b = EntryBundle::from_bytes(&get_hex(v, "bundle_hex"), width())
                .map_err(|e| e.code().to_owned())?;
            let t = HashTile::from_bytes(&get_hex(v, "tile_hex"), width())
                .map_err(|e| e.code().to_owned())?;
            b.check_against_tile(&t).map_err(|e| e.code().to_owned())
        }
        "tiles_of_tree" => {
            let paths: Vec<String> = tiles_for_size(get_u64(v, "tree_size"))
                .map(|t| t.path())
                .collect();
            let want: Vec<&str> = v["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            assert_eq!(paths, want);
            Ok(())
        }
        "tiled_tree" => {
            let n = get_u64(v, "tree_size");
            let root = get_hash(v, "root_hex");
            let res = v["resources"].as_object().unwrap();
            let fetch = |t: TileId| -> Result<Vec<u8>, Missing> {
                res.get(&t.path())
                    .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
                    .ok_or_else(|| Missing(t.path()))
            };
            // Reading every leaf hash through the authenticating reader.
            let reader = TileHashReader::new(n, root, fetch);
            let indexes: Vec<u64> = (0..n).map(|i| merkle::stored_hash_index(0, i)).collect();
            let map = |e: tallyboard_core::tile::TileReadError<Missing>| e.code().to_owned();
            merkle::HashReader::read_hashes(&reader, &indexes).map_err(map)?;
            let got = tree_hash_from_reader(n, &reader).map_err(|e| match e {
                merkle::TreeError::Read(e) => e.code().to_owned(),
                other => other.to_string(),
            })?;
            assert_eq!(got, root);
            // Every resource is a canonical path of this tree; bundles hash
            // to their (now authenticated) level-0 tiles.
            let all: Vec<TileId> = tiles_for_size(n).collect();
            assert_eq!(
                res.len(),
                all.len() + all.iter().filter(|t| t.level() == 0).count()
            );
            for t in &all {
                let tile = HashTile::from_bytes(&fetch(*t).unwrap(), t.width())
                    .map_err(|e| e.code().to_owned())?;
                if t.level() == 0 {
                    let b = EntryBundle::from_bytes(
                        &hex::decode(res[&t.bundle().path()].as_str().unwrap()).unwrap(),
                        t.width(),
                    )
                    .map_err(|e| e.code().to_owned())?;
                    b.check_against_tile(&tile)
                        .map_err(|e| e.code().to_owned())?;
                }
            }
            Ok(())
        }
        k => panic!("unknown kind {k}"),
    }
}

// ---------------------------------------------------------------------------
// File sync and the two tests.

fn all_cases() -> Vec<Case> {
    let mut v = merkle_cases();
    v.extend(tile_cases());
    v
}

/// The outcome of one vector file: `ok` or the error code.
fn outcome(area: &str, v: &Value) -> String {
    tallyboard_testkit::vectors::outcome_of(match area {
        "merkle" => run_merkle(v),
        _ => run_tiles(v),
    })
}

tallyboard_testkit::spec_vector_tests! {
    areas: AREAS,
    cases: all_cases,
    run: outcome,
}
