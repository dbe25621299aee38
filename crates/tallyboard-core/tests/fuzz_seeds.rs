#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fuzz seed corpora (`fuzz/seeds/<target>/`) are the inputs of the test
//! vectors (`spec/vectors/<area>/*.json`), so every fuzz run starts from
//! every rule the spec tests, valid and invalid.
//!
//! This test extracts them and fails if the committed seeds drift from the
//! vectors; `TALLYBOARD_BLESS=1 cargo test --test fuzz_seeds` rewrites them.
//! An input is every string field of a vector (at any depth) except its
//! description and expected outcome; a field whose name ends in `hex` is
//! hex-decoded, any other is taken as UTF-8 text.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Fuzz target => the vector areas (directories under `spec/vectors/`) whose
/// inputs seed it. An area a target lists that does not exist yet is skipped.
const TARGETS: &[(&str, &[&str])] = &[
    ("note", &["notes", "checkpoints", "cosignatures"]),
    ("checkpoint", &["checkpoints", "notes", "cosignatures"]),
    ("cosignature", &["cosignatures", "checkpoints"]),
    ("verifier_key", &["keys", "notes"]),
    ("merkle_proof", &["merkle"]),
    ("receipt", &["receipts"]),
    ("signed_tally", &["tallies", "tally"]),
    ("signed_manifest", &["manifests", "manifest"]),
    ("signed_totals", &["totals"]),
    ("tile_path", &["tiles", "tile"]),
    ("entry_bundle", &["tiles", "tile", "bundles"]),
];

/// Fields that are never inputs.
const NOT_INPUTS: &[&str] = &["description", "expect", "error", "rule", "spec"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every input string under `v`: (`path` naming it, bytes). `key` is the
/// nearest object key above `v`, which decides whether it is an input and
/// whether it is hex.
fn collect(path: &str, key: &str, v: &Value, out: &mut Vec<(String, Vec<u8>)>) {
    match v {
        Value::String(s) if !NOT_INPUTS.contains(&key) => {
            let bytes = if key.ends_with("hex") {
                match hex::decode(s) {
                    Ok(b) => b,
                    Err(_) => return,
                }
            } else {
                s.as_bytes().to_vec()
            };
            out.push((path.to_owned(), bytes));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(&format!("{path}{i}"), key, item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                collect(&p, k, item, out);
            }
        }
        _ => {}
    }
}

/// The seed files a target should have: file name => contents.
fn expected_seeds(areas: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut seeds = BTreeMap::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for area in areas {
        let dir = root().join("spec/vectors").join(area);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "json"))
        {
            let case = file.file_stem().unwrap().to_string_lossy().into_owned();
            let v: Value =
                serde_json::from_slice(&fs::read(file).unwrap()).expect("vector files are JSON");
            let mut inputs = Vec::new();
            collect("", "", &v, &mut inputs);
            for (field, bytes) in inputs {
                if bytes.is_empty() || seen.contains(&bytes) {
                    continue;
                }
                seen.push(bytes.clone());
                let name: String = format!("{area}-{case}-{field}")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                seeds.insert(name, bytes);
            }
        }
    }
    seeds
}

fn committed_seeds(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn fuzz_seeds_match_the_vectors() {
    let bless = std::env::var("TALLYBOARD_BLESS").is_ok_and(|v| v == "1");
    for (target, areas) in TARGETS {
        let dir = root().join("fuzz/seeds").join(target);
        let want = expected_seeds(areas);
        if bless {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in &want {
                fs::write(dir.join(name), bytes).unwrap();
            }
        }
        let have = committed_seeds(&dir);
        let missing: Vec<&String> = want.keys().filter(|k| !have.contains_key(*k)).collect();
        let extra: Vec<&String> = have.keys().filter(|k| !want.contains_key(*k)).collect();
        let changed: Vec<&String> = want
            .iter()
            .filter(|(k, v)| have.get(*k).is_some_and(|h| h != *v))
            .map(|(k, _)| k)
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty() && changed.is_empty(),
            "fuzz/seeds/{target} drifted from spec/vectors (run with TALLYBOARD_BLESS=1): \
             missing {missing:?}, extra {extra:?}, changed {changed:?}"
        );
    }
}
