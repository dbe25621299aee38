//! `tallyboard sign` on the example election's sheets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::common::{repo_root, tallyboard_in};
use tallyboard_core::SignedTally;
use tallyboard_core::manifest::SignedManifest;

fn example() -> PathBuf {
    repo_root().join("keys-example")
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn key(name: &str) -> String {
    s(&example().join(format!("keys/EXAMPLE-ONLY.{name}.key")))
}

fn sign(dir: &Path, key_name: &str, sheet: &str, out: &str, extra: &[&str]) -> crate::common::Run {
    let manifest = s(&example().join("manifest.signed"));
    let sheet = s(&example().join(sheet));
    let k = key(key_name);
    let mut args = vec![
        "sign",
        "--manifest",
        &manifest,
        "--key",
        &k,
        "--sheet",
        &sheet,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    tallyboard_in(dir, &args)
}

fn dir_files(p: &Path) -> Vec<String> {
    if !p.exists() {
        return Vec::new();
    }
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn signs_every_example_sheet_into_verifying_tallies() {
    let dir = tempfile::tempdir().unwrap();
    let manifest_bytes = std::fs::read(example().join("manifest.signed")).unwrap();
    let manifest = SignedManifest::from_bytes(&manifest_bytes, None).unwrap();
    let m = manifest.manifest();
    let mut total = 0;
    for centre in ["C-NORTH", "C-COAST", "C-VALLEY"] {
        let r = sign(
            dir.path(),
            &format!("centre-{centre}"),
            &format!("sheets/{centre}.csv"),
            "tallies",
            &[],
        );
        assert_eq!(r.status, 0, "{centre}: {}", r.stderr);
        assert!(r.stdout.contains("files written"), "{}", r.stdout);
        let expected: usize = m
            .units
            .iter()
            .filter(|u| u.centre == centre)
            .map(|u| u.contests.len())
            .sum();
        total += expected;
    }
    let files = dir_files(&dir.path().join("tallies"));
    assert_eq!(files.len(), total);
    for f in &files {
        let bytes = std::fs::read(dir.path().join("tallies").join(f)).unwrap();
        let t = SignedTally::from_bytes(&bytes).unwrap();
        let tally = t.tally();
        assert_eq!(
            f,
            &format!("{}.{}.r{}.tally", tally.unit, tally.contest, tally.revision)
        );
        assert_eq!(tally.election, m.election);
        assert!(
            tallyboard_core::rules::check_tally(m, tally).is_empty(),
            "{f}"
        );
    }
}

#[test]
fn signing_the_same_sheet_again_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = sign(dir.path(), "centre-C-COAST", "sheets/C-COAST.csv", "t", &[]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let before: Vec<Vec<u8>> = dir_files(&dir.path().join("t"))
        .iter()
        .map(|f| std::fs::read(dir.path().join("t").join(f)).unwrap())
        .collect();
    let again = sign(dir.path(), "centre-C-COAST", "sheets/C-COAST.csv", "t", &[]);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(again.stdout.contains("0 files written"), "{}", again.stdout);
    let after: Vec<Vec<u8>> = dir_files(&dir.path().join("t"))
        .iter()
        .map(|f| std::fs::read(dir.path().join("t").join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn refuses_the_broken_sheet_naming_unit_contest_and_rule_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let r = sign(
        dir.path(),
        "centre-C-NORTH",
        "broken/C-NORTH-does-not-add-up.csv",
        "tallies",
        &[],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("nothing was signed or written"),
        "{}",
        r.stderr
    );
    for needle in [
        "P-002",
        "mayor",
        "[arithmetic-mismatch]",
        "P-004",
        "council",
        "[unknown-choice]",
        "[missing-choice]",
        "P-006",
        "harbour-referendum",
        "[contest-not-in-unit]",
    ] {
        assert!(
            r.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            r.stderr
        );
    }
    assert!(dir_files(&dir.path().join("tallies")).is_empty());
}

#[test]
fn refuses_a_sheet_signed_with_a_revoked_key() {
    let dir = tempfile::tempdir().unwrap();
    let r = sign(
        dir.path(),
        "centre-C-VALLEY.REVOKED",
        "sheets/C-VALLEY.csv",
        "t",
        &[],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("[key-revoked]"), "{}", r.stderr);
    assert!(dir_files(&dir.path().join("t")).is_empty());
}

#[test]
fn refuses_a_sheet_signed_with_a_key_rotated_out_before_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let r = sign(
        dir.path(),
        "centre-C-COAST.rotated-out-at-noon",
        "sheets/C-COAST.csv",
        "t",
        &[],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("[key-expired]"), "{}", r.stderr);
    assert!(dir_files(&dir.path().join("t")).is_empty());
}

#[test]
fn refuses_another_centres_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let r = sign(dir.path(), "centre-C-NORTH", "sheets/C-COAST.csv", "t", &[]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("[signer-not-responsible]"),
        "{}",
        r.stderr
    );
    assert!(dir_files(&dir.path().join("t")).is_empty());
}

#[test]
fn a_malformed_sheet_cannot_run_and_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        "unit,contest,line,count\nP-001,mayor,ada,12x\n",
    )
    .unwrap();
    let manifest = s(&example().join("manifest.signed"));
    let k = key("centre-C-NORTH");
    let r = tallyboard_in(
        dir.path(),
        &[
            "sign",
            "--manifest",
            &manifest,
            "--key",
            &k,
            "--sheet",
            "bad.csv",
            "--out",
            "t",
        ],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.csv, line 2, column 'count'"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("t").exists());
}

#[test]
fn a_sheet_missing_ballots_cast_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "unit,contest,line,count\nP-001,mayor,ada,1\nP-001,mayor,bruno,0\nP-001,mayor,chen,0\n\
         P-001,mayor,dina,0\nP-001,mayor,blank,0\nP-001,mayor,invalid,0\n",
    )
    .unwrap();
    let manifest = s(&example().join("manifest.signed"));
    let k = key("centre-C-NORTH");
    let r = tallyboard_in(
        dir.path(),
        &[
            "sign",
            "--manifest",
            &manifest,
            "--key",
            &k,
            "--sheet",
            "s.csv",
            "--out",
            "t",
            "--counted-at",
            "2026-05-10T20:00:00Z",
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no 'ballots_cast' line"), "{}", r.stderr);
}

#[test]
fn a_correction_supersedes_the_signed_entry() {
    let dir = tempfile::tempdir().unwrap();
    let first = sign(dir.path(), "centre-C-NORTH", "sheets/C-NORTH.csv", "t", &[]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let original = std::fs::read(dir.path().join("t/P-001.mayor.r1.tally")).unwrap();
    let original = SignedTally::from_bytes(&original).unwrap();
    let t = original.tally();
    let mut sheet = String::from("unit,contest,line,count\n");
    let mut choices = t.choices.iter();
    let (first_choice, first_votes) = choices.next().unwrap();
    sheet.push_str(&format!("P-001,mayor,{first_choice},{}\n", first_votes - 1));
    for (c, v) in choices {
        sheet.push_str(&format!("P-001,mayor,{c},{v}\n"));
    }
    sheet.push_str(&format!(
        "P-001,mayor,blank,{}\nP-001,mayor,invalid,{}\nP-001,mayor,ballots_cast,{}\n\
         P-001,mayor,revision,2\nP-001,mayor,supersedes,{}\n\
         P-001,mayor,reason,\"recount ordered by the district board, one ballot moved to invalid\"\n",
        t.blank,
        t.invalid + 1,
        t.ballots_cast,
        original.leaf_hash().to_hex()
    ));
    std::fs::write(dir.path().join("fix.csv"), sheet).unwrap();
    let manifest = s(&example().join("manifest.signed"));
    let k = key("centre-C-NORTH");
    let r = tallyboard_in(
        dir.path(),
        &[
            "sign",
            "--manifest",
            &manifest,
            "--key",
            &k,
            "--sheet",
            "fix.csv",
            "--out",
            "t",
            "--counted-at",
            "2026-05-11T09:00:00Z",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let fixed = std::fs::read(dir.path().join("t/P-001.mayor.r2.tally")).unwrap();
    let fixed = SignedTally::from_bytes(&fixed).unwrap();
    assert_eq!(fixed.tally().revision, 2);
    assert_eq!(fixed.tally().supersedes, Some(original.leaf_hash()));
    assert_eq!(fixed.tally().invalid, t.invalid + 1);
}

#[test]
fn a_different_tally_over_an_existing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = sign(dir.path(), "centre-C-NORTH", "sheets/C-NORTH.csv", "t", &[]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let path = dir.path().join("t/P-001.mayor.r1.tally");
    let before = std::fs::read(&path).unwrap();
    let mut sheet = std::fs::read_to_string(example().join("sheets/C-NORTH.csv")).unwrap();
    sheet = sheet.replacen(
        "P-001,mayor,counted_at,2026-05-10T19:04:00Z",
        "P-001,mayor,counted_at,2026-05-10T19:05:00Z",
        1,
    );
    std::fs::write(dir.path().join("again.csv"), sheet).unwrap();
    let manifest = s(&example().join("manifest.signed"));
    let k = key("centre-C-NORTH");
    let r = tallyboard_in(
        dir.path(),
        &[
            "sign",
            "--manifest",
            &manifest,
            "--key",
            &k,
            "--sheet",
            "again.csv",
            "--out",
            "t",
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.stderr.contains("[already-signed]"), "{}", r.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn warns_when_the_key_file_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("c.key");
    std::fs::copy(example().join("keys/EXAMPLE-ONLY.centre-C-NORTH.key"), &k).unwrap();
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o644)).unwrap();
    let manifest = s(&example().join("manifest.signed"));
    let sheet = s(&example().join("sheets/C-NORTH.csv"));
    let args = [
        "sign",
        "--manifest",
        &manifest,
        "--key",
        "c.key",
        "--sheet",
        &sheet,
        "--out",
        "t",
    ];
    let r = tallyboard_in(dir.path(), &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("can be read by other users"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains('\u{1b}'),
        "no colour codes when stderr is not a terminal"
    );

    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = tallyboard_in(dir.path(), &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}
