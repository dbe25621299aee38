//! `tallyboard manifest build`, `check` and `show` on keys-example.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::common::{repo_root, tallyboard_in};

fn example() -> PathBuf {
    repo_root().join("keys-example")
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

const AUTHORITY_KEY: &str = "keys/EXAMPLE-ONLY.authority.key";

/// Copies the example's manifest input into a fresh directory.
fn input_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("input")).unwrap();
    for f in std::fs::read_dir(example().join("input")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.path().join("input").join(f.file_name())).unwrap();
    }
    dir
}

#[test]
fn build_reproduces_the_example_manifest_and_check_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.signed");
    let r = tallyboard_in(
        dir.path(),
        &[
            "manifest",
            "build",
            "--input",
            &s(&example().join("input")),
            "--authority-key",
            &s(&example().join(AUTHORITY_KEY)),
            "--out",
            &s(&out),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(example().join("manifest.signed")).unwrap()
    );

    let pub_key = s(&example().join("keys/EXAMPLE-ONLY.authority.key.pub"));
    let r = tallyboard_in(
        dir.path(),
        &["manifest", "check", &s(&out), "--authority", &pub_key],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("OK "), "{}", r.stdout);
    assert!(r.stdout.contains("36 units"), "{}", r.stdout);
}

#[test]
fn check_refuses_a_manifest_signed_by_another_authority() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = s(&example().join("keys/EXAMPLE-ONLY.log.key.pub"));
    let m = s(&example().join("manifest.signed"));
    let r = tallyboard_in(
        dir.path(),
        &["manifest", "check", &m, "--authority", &wrong],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("unexpected-authority"), "{}", r.stderr);
}

#[test]
fn check_refuses_a_tampered_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(example().join("manifest.signed")).unwrap();
    // Flip a bit in the last byte of the signature.
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.path().join("m"), &bytes).unwrap();
    let r = tallyboard_in(dir.path(), &["manifest", "check", "m"]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("bad-signature"), "{}", r.stderr);
}

#[test]
fn check_of_a_missing_file_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(dir.path(), &["manifest", "check", "no-such-file"]);
    assert_eq!(r.status, 2);
}

#[test]
fn show_prints_a_summary_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let m = s(&example().join("manifest.signed"));
    let r = tallyboard_in(dir.path(), &["manifest", "show", &m]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.contains("EXAMPLE-ONLY-2026-municipal"));
    assert!(
        r.stdout.contains("REVOKED at 2026-05-01T00:00:00Z"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("north — Northern Province (EXAMPLE): 18 units"),
        "{}",
        r.stdout
    );

    let r = tallyboard_in(dir.path(), &["manifest", "show", &m, "--json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["election"], "EXAMPLE-ONLY-2026-municipal");
    assert_eq!(v["units"].as_array().unwrap().len(), 36);
    assert_eq!(v["contests"].as_array().unwrap().len(), 3);
    assert_eq!(v["quorum"], 1);
}

#[test]
fn build_names_file_line_and_column_of_every_input_error() {
    let dir = input_copy();
    let units = dir.path().join("input/units.csv");
    let mut text = std::fs::read_to_string(&units).unwrap();
    text = text.replacen(",north-hills,929,", ",north-hilss,929,", 1);
    text = text.replacen(",1301,", ",13O1,", 1);
    std::fs::write(&units, text).unwrap();
    let keys = dir.path().join("input/centre-keys.csv");
    let text =
        std::fs::read_to_string(&keys)
            .unwrap()
            .replacen("2027-01-01T00:00:00Z", "2027-01-01", 1);
    std::fs::write(&keys, text).unwrap();

    let r = tallyboard_in(
        dir.path(),
        &[
            "manifest",
            "build",
            "--input",
            "input",
            "--authority-key",
            &s(&example().join(AUTHORITY_KEY)),
            "--out",
            "m.signed",
        ],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("units.csv, line 2, column 'region': unit P-001: region north-hilss is not in regions.csv"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("units.csv, line 3, column 'registered'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("centre-keys.csv, line 2, column 'valid_until'"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("m.signed").exists());
}

#[test]
fn build_reports_election_json_errors_with_position_or_field() {
    let dir = input_copy();
    let path = dir.path().join("input/election.json");
    let good = std::fs::read_to_string(&path).unwrap();
    let run = |dir: &Path| {
        tallyboard_in(
            dir,
            &[
                "manifest",
                "build",
                "--input",
                "input",
                "--authority-key",
                &s(&example().join(AUTHORITY_KEY)),
                "--out",
                "m.signed",
            ],
        )
    };

    std::fs::write(
        &path,
        good.replacen("\"quorum\": 1", "\"quorum\": \"one\"", 1),
    )
    .unwrap();
    let r = run(dir.path());
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("election.json, line 11, column"),
        "{}",
        r.stderr
    );

    std::fs::write(
        &path,
        good.replacen("\"id\": \"ada\"", "\"id\": \"blank\"", 1),
    )
    .unwrap();
    let r = run(dir.path());
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("election.json, field 'contests[0].choices[0].id'"),
        "{}",
        r.stderr
    );
}

#[test]
fn build_reports_a_region_cycle_found_by_the_core_validation() {
    let dir = input_copy();
    let regions = dir.path().join("input/regions.csv");
    let text = std::fs::read_to_string(&regions).unwrap().replacen(
        "north,Northern Province (EXAMPLE),\n",
        "north,Northern Province (EXAMPLE),north-hills\n",
        1,
    );
    std::fs::write(&regions, text).unwrap();
    let r = tallyboard_in(
        dir.path(),
        &[
            "manifest",
            "build",
            "--input",
            "input",
            "--authority-key",
            &s(&example().join(AUTHORITY_KEY)),
            "--out",
            "m.signed",
        ],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("[region-cycle]"), "{}", r.stderr);
    assert!(!dir.path().join("m.signed").exists());
}
