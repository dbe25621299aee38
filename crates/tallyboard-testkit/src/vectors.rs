//! The harness that regenerates the spec vectors (`spec/vectors/<area>/`)
//! and compares them with the committed files, and any other generated
//! tree with its committed copy (`keys-example/`). With
//! `TALLYBOARD_BLESS=1` the vector files are rewritten (and stale ones
//! removed) instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use serde_json::Value;

/// Whether `TALLYBOARD_BLESS=1` asks to rewrite the vector files.
pub fn bless() -> bool {
    std::env::var("TALLYBOARD_BLESS").is_ok_and(|v| v == "1")
}

/// `spec/vectors/<area>`.
pub fn spec_vectors(area: &str) -> PathBuf {
    crate::repo_root().join("spec/vectors").join(area)
}

/// A vector file's text: pretty JSON and a final newline.
pub fn encode(json: &Value) -> String {
    serde_json::to_string_pretty(json).unwrap() + "\n"
}

/// Compares `generated` (relative path → bytes) with the files under `dir`
/// that `tracked` selects: each generated file must be there with the same
/// bytes, and no other tracked file may be. With `bless`, writes the
/// generated files and removes the other tracked ones instead. Returns the
/// drift found, one line per file.
pub fn regenerate_and_compare(
    dir: &Path,
    generated: &BTreeMap<String, Vec<u8>>,
    tracked: impl Fn(&str) -> bool,
    bless: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    if bless {
        std::fs::create_dir_all(dir).unwrap();
    }
    if !dir.is_dir() {
        return vec![format!("{}: directory missing", dir.display())];
    }
    let on_disk = crate::fs::files(dir);
    for rel in on_disk.keys().filter(|r| tracked(r)) {
        if !generated.contains_key(rel) {
            if bless {
                std::fs::remove_file(dir.join(rel)).unwrap();
            } else {
                problems.push(format!("{rel}: stale (no generator)"));
            }
        }
    }
    for (rel, bytes) in generated {
        if bless {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(&path, bytes).unwrap();
        } else {
            match on_disk.get(rel) {
                None => problems.push(format!("{rel}: missing")),
                Some(b) if b != bytes => problems.push(format!("{rel}: differs from generator")),
                Some(_) => {}
            }
        }
    }
    problems
}

/// Compares every generated case `(area, name, json)` of `areas` with
/// `spec/vectors/<area>/<name>.json` (or, blessed, writes them); returns
/// the drift found. Case names must be unique within an area.
pub fn sync<'a>(
    areas: &[&str],
    cases: impl IntoIterator<Item = (&'a str, &'a str, &'a Value)>,
) -> Vec<String> {
    let mut by_area: BTreeMap<&str, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for (area, name, json) in cases {
        assert!(areas.contains(&area), "case {name}: unknown area {area}");
        let file = format!("{name}.json");
        let old = by_area
            .entry(area)
            .or_default()
            .insert(file, encode(json).into_bytes());
        assert!(old.is_none(), "duplicate case name {name} in {area}");
    }
    let bless = bless();
    let mut problems = Vec::new();
    for area in areas {
        let generated = by_area.remove(area).unwrap_or_default();
        for p in regenerate_and_compare(
            &spec_vectors(area),
            &generated,
            |rel| rel.ends_with(".json") && !rel.contains('/'),
            bless,
        ) {
            problems.push(format!("{area}/{p}"));
        }
    }
    problems
}

/// Fails the test if `problems` (from [`sync`]) is not empty.
pub fn assert_no_drift(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "vector drift (run with TALLYBOARD_BLESS=1 to rewrite):\n{}",
        problems.join("\n")
    );
}

/// Every area has at least 3 positive cases (`"expect": "ok"`) and more
/// than twice as many negative ones.
pub fn assert_more_negative_than_positive<'a>(
    areas: &[&str],
    cases: impl IntoIterator<Item = (&'a str, &'a Value)>,
) {
    let cases: Vec<(&str, &Value)> = cases.into_iter().collect();
    for area in areas {
        let in_area = || cases.iter().filter(|(a, _)| a == area);
        let ok = in_area().filter(|(_, j)| j["expect"] == "ok").count();
        let bad = in_area().filter(|(_, j)| j["expect"] != "ok").count();
        assert!(ok >= 3 && bad > 2 * ok, "{area}: {ok} ok, {bad} negative");
    }
}

/// A check's outcome as vector files state it: `ok`, or the error code.
pub fn outcome_of(result: Result<(), String>) -> String {
    result.err().unwrap_or_else(|| "ok".to_owned())
}

/// Runs every vector file of `area` (in name order) through `run`, which
/// returns the outcome (`"ok"` or an error code), and checks it is the one
/// the file states in `expect`; returns how many files it ran.
pub fn check_files(area: &str, mut run: impl FnMut(&Value) -> String) -> usize {
    let dir = spec_vectors(area);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {area}");
    for path in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(run(&v), v["expect"].as_str().unwrap(), "{}", path.display());
    }
    files.len()
}

/// The three tests of a spec-vector file, for generated cases (values with
/// `area: &str`, `name: String` and `json: Value` fields) of `areas`:
/// `vector_files_match_their_generator` (no drift; `TALLYBOARD_BLESS=1`
/// rewrites), `more_negative_than_positive_cases_in_each_area`, and
/// `every_vector_file_gives_its_expected_outcome` (`run(area, json)` gives
/// the outcome each file must state).
#[macro_export]
macro_rules! spec_vector_tests {
    (areas: $areas:expr, cases: $cases:path, run: $run:expr $(,)?) => {
        /// The drift between the generated cases and the files, computed
        /// (or, blessed, written) once per test process.
        fn sync_files() -> &'static [String] {
            static SYNC: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
            SYNC.get_or_init(|| {
                let cases = $cases();
                $crate::vectors::sync(
                    &$areas,
                    cases.iter().map(|c| (c.area, c.name.as_str(), &c.json)),
                )
            })
        }

        #[test]
        fn vector_files_match_their_generator() {
            $crate::vectors::assert_no_drift(sync_files());
        }

        #[test]
        fn more_negative_than_positive_cases_in_each_area() {
            let cases = $cases();
            $crate::vectors::assert_more_negative_than_positive(
                &$areas,
                cases.iter().map(|c| (c.area, &c.json)),
            );
        }

        #[test]
        fn every_vector_file_gives_its_expected_outcome() {
            sync_files();
            let run: fn(&str, &$crate::vectors::Value) -> String = $run;
            let mut seen = 0;
            for area in $areas {
                seen += $crate::vectors::check_files(area, |v| run(area, v));
            }
            assert_eq!(seen, $cases().len());
        }
    };
}
