//! Every inclusion and consistency case of the transparency-dev/merkle test
//! data (tests/data/merkle-testdata, Apache-2.0) through `verify_inclusion`
//! and `verify_consistency`, asserting `wantErr`.
//!
//! Hashes in the data are base64. Some negative cases use values that are
//! not 32 bytes long; our API takes `Hash` (exactly 32 bytes), so such a
//! case is rejected when decoding, which is the expected outcome for all of
//! them but the few listed in `DECODE_REJECTS_POSITIVE`.
//!
//! The `subtreeinclusion` / `subtreeconsistency` folders test proofs for
//! arbitrary subtrees `[start, end)`. A subtree starting at 0 is the tree of
//! `end` leaves, so those cases are run through the same two functions;
//! cases with `start > 0` test a different proof kind that tallyboard does
//! not use and are counted as skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tallyboard_core::Hash;
use tallyboard_core::merkle::{verify_consistency, verify_inclusion};

/// Positive cases whose roots are 12-byte placeholders ("don't care"): the
/// Go verifier compares byte strings, a `Hash` cannot hold them. We assert
/// they are rejected at decoding.
const DECODE_REJECTS_POSITIVE: &[&str] = &[
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
];
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/merkle-testdata")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn hash(v: &Value) -> Option<Hash> {
    Hash::from_slice(&STANDARD.decode(v.as_str()?).ok()?)
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    match v {
        Value::Null => Some(vec![]),
        Value::Array(a) => a.iter().map(hash).collect(),
        _ => None,
    }
}

/// Runs one case. `None` when it is a subtree case not rooted at 0; else
/// `Some(ok)`, where decoding failures count as rejection.
fn run(kind: &str, c: &Value) -> Option<bool> {
    let u = |k: &str| c[k].as_u64().unwrap();
    match kind {
        "inclusion" | "subtreeinclusion" => {
            let (index, size) = if kind == "inclusion" {
                (u("leafIdx"), u("treeSize"))
            } else {
                if u("start") != 0 {
                    return None;
                }
                (u("leafIdx"), u("end"))
            };
            let (Some(leaf), Some(root), Some(p)) =
                (hash(&c["leafHash"]), hash(&c["root"]), proof(&c["proof"]))
            else {
                return Some(false);
            };
            Some(verify_inclusion(&leaf, index, size, &p, &root).is_ok())
        }
        "consistency" | "subtreeconsistency" => {
            let (old, new) = if kind == "consistency" {
                (u("size1"), u("size2"))
            } else {
                if u("start") != 0 {
                    return None;
                }
                (u("end"), u("size"))
            };
            let (Some(r1), Some(r2), Some(p)) =
                (hash(&c["root1"]), hash(&c["root2"]), proof(&c["proof"]))
            else {
                return Some(false);
            };
            Some(verify_consistency(old, new, &r1, &r2, &p).is_ok())
        }
        other => panic!("unknown folder {other}"),
    }
}

#[test]
fn every_inclusion_and_consistency_case_matches_want_err() {
    let dir = data_dir();
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    assert!(all.len() >= 500, "test data missing: {} files", all.len());
    let (mut ran, mut skipped, mut positive, mut negative) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &all {
        let rel = f
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let kind = rel.split('/').next().unwrap().to_string();
        let c: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let want_err = c["wantErr"].as_bool().unwrap();
        let Some(ok) = run(&kind, &c) else {
            skipped += 1;
            continue;
        };
        ran += 1;
        let expected_ok = !want_err && !DECODE_REJECTS_POSITIVE.contains(&rel.as_str());
        if expected_ok {
            positive += 1;
        } else {
            negative += 1;
        }
        if ok != expected_ok {
            failures.push(format!("{rel}: wantErr={want_err} but verify ok={ok}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // All 196 inclusion/consistency cases plus the subtree cases rooted at 0.
    assert!(ran >= 196, "ran {ran}, skipped {skipped}");
    assert!(
        positive >= 20 && negative >= 150,
        "{positive} positive, {negative} negative"
    );
}
