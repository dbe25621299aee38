#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fuzz seed corpora (`fuzz/seeds/<target>/`) are the inputs of the test
//! vectors (`spec/vectors/<area>/*.json`), so every fuzz run starts from
//! every rule the spec tests, valid and invalid.
//!
//! This test extracts them and fails if the committed seeds drift from the
//! vectors; `TALLYBOARD_BLESS=1 cargo test --test fuzz_seeds` rewrites them.
//! Each target takes the string fields with the given names (at any depth,
//! array items included) from the vectors of the given areas; a field whose
//! name ends in `hex` is hex-decoded, any other string is taken as UTF-8
//! text, and an object under a named field is taken as its compact JSON
//! (the evidence vectors hold whole evidence files that way).
//! Targets whose input is structured (`merkle_proof`) have no seeds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A fuzz target, the vector areas (directories under `spec/vectors/`) and
/// the fields of their vectors that seed it. A missing area is skipped.
struct Seeds {
    target: &'static str,
    areas: &'static [&'static str],
    fields: &'static [&'static str],
}

const TARGETS: &[Seeds] = &[
    Seeds {
        target: "note",
        areas: &["notes", "checkpoints"],
        fields: &["note", "text"],
    },
    Seeds {
        target: "checkpoint",
        areas: &["checkpoints", "notes"],
        fields: &["note", "text"],
    },
    Seeds {
        target: "cosignature",
        areas: &["checkpoints"],
        fields: &["note"],
    },
    Seeds {
        target: "verifier_key",
        areas: &["notes", "checkpoints", "receipts"],
        fields: &["verifier_keys", "log_key", "witness_keys"],
    },
    Seeds {
        target: "add_checkpoint",
        areas: &["witness"],
        fields: &["body"],
    },
    Seeds {
        target: "paper",
        areas: &["paper"],
        fields: &["parts"],
    },
    Seeds {
        target: "receipt",
        areas: &["receipts"],
        fields: &["receipt"],
    },
    Seeds {
        target: "signed_tally",
        areas: &["tally", "rules", "totals"],
        fields: &["signed_tally_hex", "log_hex"],
    },
    Seeds {
        target: "signed_manifest",
        areas: &["manifest", "rules", "totals"],
        fields: &["signed_manifest_hex"],
    },
    Seeds {
        target: "signed_totals",
        areas: &["totals"],
        fields: &["signed_totals_hex"],
    },
    Seeds {
        target: "signed_certification",
        areas: &["certification"],
        fields: &["signed_certification_hex"],
    },
    Seeds {
        target: "tile_path",
        areas: &["tiles"],
        fields: &["path", "paths"],
    },
    Seeds {
        target: "entry_bundle",
        areas: &["tiles"],
        fields: &["bundle_hex", "tile_hex"],
    },
    Seeds {
        target: "evidence",
        areas: &["evidence"],
        fields: &["evidence"],
    },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every input string under `v`: (`path` naming it, bytes). `key` is the
/// nearest object key above `v`, which decides whether it is one of
/// `fields` and whether it is hex.
fn collect(fields: &[&str], path: &str, key: &str, v: &Value, out: &mut Vec<(String, Vec<u8>)>) {
    match v {
        Value::Object(_) if fields.contains(&key) => {
            out.push((path.to_owned(), serde_json::to_vec(v).unwrap()));
        }
        Value::String(s) if fields.contains(&key) => {
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
                collect(fields, &format!("{path}{i}"), key, item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                collect(fields, &p, k, item, out);
            }
        }
        _ => {}
    }
}

/// The seed files a target should have: file name => contents.
fn expected_seeds(areas: &[&str], fields: &[&str]) -> BTreeMap<String, Vec<u8>> {
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
            collect(fields, "", "", &v, &mut inputs);
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
    // Seed directories of targets that take no seeds are stale.
    for entry in fs::read_dir(root().join("fuzz/seeds")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !TARGETS.iter().any(|t| t.target == name) {
            if bless {
                fs::remove_dir_all(&dir).unwrap();
            } else {
                panic!("fuzz/seeds/{name} is not a seeded target (run with TALLYBOARD_BLESS=1)");
            }
        }
    }
    for Seeds {
        target,
        areas,
        fields,
    } in TARGETS
    {
        let dir = root().join("fuzz/seeds").join(target);
        let want = expected_seeds(areas, fields);
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
