//! End-to-end tests: every scenario of `tallyboard exercise` through the
//! real binaries (server, witnesses, mirrors, verifier, submit), each
//! checked against the verifier's JSON report and evidence directory, in
//! bounded time. Run by `cargo test --workspace` (wired into the
//! `tallyboard` crate as `[[test]] path = "../../tests/exercise.rs"`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::tile::{BundleId, EntryBundle};
use tallyboard_core::totals::SignedTotals;
use tallyboard_core::{SignedTally, Tally};
use tallyboard_testkit::process::{Run, run_with_timeout};
use tallyboard_testkit::results::{levels, sums};

/// What a scenario must end with, restated here independently of the
/// exercise's own table: verdict, finding codes, and the codes whose
/// finding must name evidence files.
const EXPECTED: &[(&str, &str, &[&str], &[&str])] = &[
    ("clean", "pass", &[], &[]),
    ("correction", "pass", &[], &[]),
    (
        "tampered-mirror",
        "findings",
        &["source-bad-data"],
        &["source-bad-data"],
    ),
    (
        "equivocating-origin",
        "findings",
        &["split-view"],
        &["split-view"],
    ),
    ("frozen-mirror", "findings", &["source-stale"], &[]),
    (
        "stolen-key",
        "findings",
        &["signer-not-responsible"],
        &["signer-not-responsible"],
    ),
    (
        "revoked-key",
        "findings",
        &["key-revoked"],
        &["key-revoked"],
    ),
    (
        "bad-arithmetic",
        "findings",
        &["arithmetic-mismatch"],
        &["arithmetic-mismatch"],
    ),
    (
        "replay",
        "findings",
        &["supersedes-stale-revision"],
        &["supersedes-stale-revision"],
    ),
    (
        "inflated-totals",
        "findings",
        &["totals-mismatch"],
        &["totals-mismatch"],
    ),
    ("missing-units", "findings", &["units-missing"], &[]),
    (
        "backup-mismatch",
        "findings",
        &["backup-contradicts-log"],
        &["backup-contradicts-log"],
    ),
    ("observer-mismatch", "findings", &["observer-mismatch"], &[]),
    ("origin-down", "findings", &["source-unreachable"], &[]),
    ("submission-flood", "pass", &[], &[]),
];

/// Longest a scenario may take (the default election: 36 units).
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `tallyboard args`, killing it after `timeout`.
fn tallyboard(args: &[&str], timeout: Duration) -> Run {
    run_with_timeout(Path::new(env!("CARGO_BIN_EXE_tallyboard")), args, timeout)
}

/// Processes whose command line mentions `needle` (to prove nothing the
/// exercise started outlives it).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = e.path().join("cmdline");
        if let Ok(b) = std::fs::read(&cmdline) {
            let s = String::from_utf8_lossy(&b).replace('\0', " ");
            if s.contains(needle) && !s.contains("cargo") {
                found.push(format!("{}: {s}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

fn scenario(name: &str) {
    let (_, verdict, codes, evidence) = *EXPECTED.iter().find(|e| e.0 == name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("night");
    let data_s = data.to_str().unwrap();
    let r = tallyboard(
        &["exercise", "--scenario", name, "--data", data_s],
        SCENARIO_TIMEOUT,
    );
    let context = format!(
        "scenario {name}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        r.status, r.stdout, r.stderr
    );
    assert_eq!(r.status, Some(0), "{context}");
    assert!(r.stdout.contains("RESULT: as expected"), "{context}");
    assert!(
        r.stdout.contains("---- the verifier's report ----"),
        "the verifier's report is printed: {context}"
    );
    // The verifier's own JSON report, read here, not the exercise's summary.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join(format!("verify/{name}.json"))).unwrap())
            .unwrap();
    assert_eq!(report["verdict"], verdict, "{context}");
    let findings = report["findings"].as_array().unwrap();
    if verdict == "pass" {
        assert!(findings.is_empty(), "{context}");
    }
    for code in codes {
        let f: Vec<&serde_json::Value> = findings.iter().filter(|f| f["code"] == *code).collect();
        assert!(!f.is_empty(), "no {code} finding: {context}");
        assert!(
            f.iter()
                .all(|f| f["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{code} finding without a message: {context}"
        );
        if evidence.contains(code) {
            let evidence_dir = data.join(format!("verify/{name}-evidence"));
            let named: Vec<&str> = f
                .iter()
                .flat_map(|f| f["evidence"].as_array().into_iter().flatten())
                .filter_map(|n| n.as_str())
                .collect();
            assert!(!named.is_empty(), "{code} names no evidence: {context}");
            for n in named {
                let p = Path::new(n);
                assert!(
                    p.is_file() || evidence_dir.join(p).is_file(),
                    "evidence {n} of {code} does not exist: {context}"
                );
            }
        }
    }
    check_results(&data, &report, &r.stdout, verdict, &context);
    recheck_every_evidence_file(&data, &context);
    if name == "missing-units" {
        missing_units_are_progress_before_the_due_time(&data);
    }
    if name == "clean" {
        feed_rises_to_every_unit(&data);
        assert_eq!(report["status"]["results"], "final", "{context}");
    }
    let left = processes_mentioning(data_s);
    assert!(left.is_empty(), "processes left running: {left:?}");
}

/// The verified results (issue 13): the verifier prints them and its JSON
/// report carries them; on a night that passes they equal the sums of the
/// log's entries (the latest revision of each unit and contest), recomputed
/// here from the origin's entry bundles, and the origin's signed totals.
fn check_results(data: &Path, report: &Value, stdout: &str, verdict: &str, context: &str) {
    let results = &report["results"];
    if results.is_null() {
        // Only when no source's data could be verified: the verdict is then
        // "could not verify", or "findings" when a source lied (a split
        // view seen before any data was checked).
        assert!(
            report["log"]["checked_from"].is_null() && report["verdict"] != "pass",
            "no results: {context}"
        );
        return;
    }
    assert!(
        stdout.contains("PROVISIONAL RESULTS") || stdout.contains("FINAL, CERTIFIED RESULTS"),
        "results not printed: {context}"
    );
    if verdict != "pass" {
        return;
    }
    let m = SignedManifest::from_bytes(
        &std::fs::read(data.join("election/manifest.signed")).unwrap(),
        None,
    )
    .unwrap()
    .into_manifest();
    let public = data.join("origin/public");
    let size = results["checkpoint"]["size"].as_u64().unwrap();
    // The latest revision of each (unit, contest) in the tree checked.
    let mut latest: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for i in 0..size.div_ceil(256) {
        let b = BundleId::in_tree(i, size).unwrap();
        let bytes = std::fs::read(public.join(b.path())).unwrap();
        for e in EntryBundle::from_bytes(&bytes, b.width())
            .unwrap()
            .entries()
        {
            let t = SignedTally::from_bytes_in(e, &m).unwrap().tally().clone();
            let key = (t.unit.clone(), t.contest.clone());
            if latest.get(&key).is_none_or(|old| old.revision < t.revision) {
                latest.insert(key, t);
            }
        }
    }
    let want = sums(&m, latest.values());
    let signed =
        SignedTotals::from_bytes(&std::fs::read(public.join("totals")).unwrap(), &m.log.key)
            .unwrap();
    let signed = (signed.totals().checkpoint.size == size).then(|| signed.totals().clone());
    let mut compared = 0;
    for (contest, region, got) in levels(results) {
        let key = (contest.clone(), region.clone());
        let mut expected = want.get(&key).cloned().unwrap_or_default();
        for (k, v) in &got {
            expected
                .entry(k.clone())
                .or_insert(if *v == 0 { 0 } else { u64::MAX });
        }
        assert_eq!(
            got, expected,
            "results of {key:?} differ from the entries: {context}"
        );
        if let Some(t) = &signed {
            let row = t.row(&contest, region.as_deref()).unwrap();
            for (k, v) in &got {
                let published = match k.strip_prefix("choice ") {
                    Some(c) => row.choices[c],
                    None if k == "blank" => row.blank,
                    None if k == "invalid" => row.invalid,
                    None if k == "ballots_cast" => row.ballots_cast,
                    None => row.units_reporting,
                };
                assert_eq!(published, *v, "{key:?} {k}: {context}");
            }
        }
        compared += 1;
    }
    assert!(compared > 0, "{context}");
}

/// The night's kept copy verified as of a time before the manifest's
/// `results_due` (2026-05-11T06:00:00Z): the units that never reported are
/// progress (pass, exit 0); as of a time after it, `units-missing`.
fn missing_units_are_progress_before_the_due_time(data: &Path) {
    let authority = data.join("election/keys/EXAMPLE-ONLY.authority.key.pub");
    let manifest = data.join("election/manifest.signed");
    let source = data.join("origin/public");
    let json = data.join("verify/before-due.json");
    let run = |at: &str, json: &Path| {
        tallyboard(
            &[
                "verify",
                "--authority",
                authority.to_str().unwrap(),
                "--manifest",
                manifest.to_str().unwrap(),
                "--source",
                source.to_str().unwrap(),
                "--at",
                at,
                "--json",
                json.to_str().unwrap(),
            ],
            Duration::from_secs(120),
        )
    };
    let r = run("2026-05-10T23:00:00Z", &json);
    assert_eq!(r.status, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("VERDICT: PASS, 33 OF 36 UNITS REPORTING"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("RESULTS: PROVISIONAL"), "{}", r.stdout);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["status"]["due"], false);
    assert_eq!(report["status"]["units_reporting"], 33);
    assert!(
        !report["completeness"]["missing"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    let after = data.join("verify/after-due.json");
    let r = run("2026-05-11T06:00:00Z", &after);
    assert_eq!(r.status, Some(1), "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&after).unwrap()).unwrap();
    assert_eq!(report["findings"][0]["code"], "units-missing");
}

/// The live verifier's feed (`verify --watch --feed`), read line by line:
/// every line is bound to a checkpoint, the share reporting never falls
/// and reaches 100%, and the last round's leaders are those of the signed
/// totals the origin publishes.
fn feed_rises_to_every_unit(data: &Path) {
    let text = std::fs::read_to_string(data.join("verify/feed.jsonl")).unwrap();
    let mut last_share = 0.0f64;
    let mut rounds = 0;
    let mut last_leaders = serde_json::Value::Null;
    let mut reported = std::collections::BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["format"], "tallyboard-feed/v1", "{line}");
        assert!(v["checkpoint"]["size"].is_u64(), "{line}");
        assert_eq!(
            v["checkpoint"]["root"].as_str().unwrap().len(),
            64,
            "{line}"
        );
        match v["event"].as_str().unwrap() {
            "round" => {
                let share = v["share_reporting"].as_f64().unwrap();
                assert!(share >= last_share, "the share reporting fell: {line}");
                last_share = share;
                last_leaders = v["leaders"].clone();
                rounds += 1;
            }
            "unit-reported" => {
                assert!(v["ballots_cast"].is_u64(), "{line}");
                reported.insert((
                    v["unit"].as_str().unwrap().to_owned(),
                    v["contest"].as_str().unwrap().to_owned(),
                ));
            }
            _ => {}
        }
    }
    assert!(rounds >= 1, "no round in the feed:\n{text}");
    assert!(
        (last_share - 1.0).abs() < 1e-9,
        "the share reached {last_share}"
    );
    // The final leaders, recomputed here from the origin's signed totals.
    let manifest = tallyboard_core::manifest::SignedManifest::from_bytes(
        &std::fs::read(data.join("election/manifest.signed")).unwrap(),
        None,
    )
    .unwrap();
    let m = manifest.manifest();
    let totals = tallyboard_core::SignedTotals::from_bytes(
        &std::fs::read(data.join("origin/public/totals")).unwrap(),
        &m.log.key,
    )
    .unwrap();
    let mut expected = Vec::new();
    for c in &m.contests {
        let row = totals.totals().row(&c.id, None).unwrap();
        let best = c
            .choices
            .iter()
            .map(|ch| (row.choices.get(&ch.id).copied().unwrap_or(0), &ch.id))
            .fold(None::<(u64, &String)>, |b, x| match b {
                Some(b) if b.0 >= x.0 => Some(b),
                _ => Some(x),
            })
            .unwrap();
        expected.push((c.id.clone(), best.1.clone(), best.0));
    }
    let got: Vec<(String, String, u64)> = last_leaders
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["contest"].as_str().unwrap().to_owned(),
                l["choice"].as_str().unwrap().to_owned(),
                l["votes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let pairs: usize = m.units.iter().map(|u| u.contests.len()).sum();
    assert_eq!(reported.len(), pairs, "every unit's tallies were announced");
}

/// Every file of every evidence directory the night wrote (the verifier's
/// `verify/<name>-evidence/`, the mirrors' `public/evidence/`) re-checks
/// with `tallyboard verify --recheck` and the night's authority key and
/// manifest.
fn recheck_every_evidence_file(data: &Path, context: &str) {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .parent()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("evidence"))
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(data, &mut files);
    let authority = data.join("election/keys/EXAMPLE-ONLY.authority.key.pub");
    let manifest = data.join("election/manifest.signed");
    for f in files {
        let r = tallyboard(
            &[
                "verify",
                "--recheck",
                f.to_str().unwrap(),
                "--authority",
                authority.to_str().unwrap(),
                "--manifest",
                manifest.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        );
        assert_eq!(
            r.status,
            Some(0),
            "evidence {} does not re-check:\n{}\n{}\n{context}",
            f.display(),
            r.stdout,
            r.stderr
        );
        assert!(r.stdout.starts_with("PROVEN"), "{}", r.stdout);
    }
}

#[test]
fn list_names_every_scenario() {
    let r = tallyboard(&["exercise", "--list"], Duration::from_secs(30));
    assert_eq!(r.status, Some(0), "{}", r.stderr);
    for (name, ..) in EXPECTED {
        assert!(
            r.stdout.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} missing from --list:\n{}",
            r.stdout
        );
    }
}

#[test]
fn an_unknown_scenario_is_a_usage_error_naming_the_scenarios() {
    let r = tallyboard(&["exercise", "--scenario", "nope"], Duration::from_secs(30));
    assert_eq!(r.status, Some(2));
    assert!(
        r.stderr.contains("there is no scenario \"nope\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("equivocating-origin"), "{}", r.stderr);
}

#[test]
fn a_data_directory_that_is_not_empty_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), b"x").unwrap();
    let r = tallyboard(
        &["exercise", "--data", dir.path().to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(r.status, Some(2));
    assert!(r.stderr.contains("is not empty"), "{}", r.stderr);
}

#[test]
fn interrupting_the_exercise_stops_everything_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("night");
    let data_s = data.to_str().unwrap().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(["exercise", "--scenario", "clean", "--data", &data_s])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    // Wait until the servers run: the "start" phase line.
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 4096];
    while !seen.contains("] start ") {
        assert!(Instant::now() < deadline, "no start phase: {seen}");
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "exercise ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(!processes_mentioning(&data_s).is_empty());
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the exercise did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_mentioning(&data_s);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes left running: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

macro_rules! scenarios {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                scenario($name);
            }
        )*
    };
}

scenarios! {
    scenario_clean => "clean",
    scenario_correction => "correction",
    scenario_tampered_mirror => "tampered-mirror",
    scenario_equivocating_origin => "equivocating-origin",
    scenario_frozen_mirror => "frozen-mirror",
    scenario_stolen_key => "stolen-key",
    scenario_revoked_key => "revoked-key",
    scenario_bad_arithmetic => "bad-arithmetic",
    scenario_replay => "replay",
    scenario_inflated_totals => "inflated-totals",
    scenario_missing_units => "missing-units",
    scenario_backup_mismatch => "backup-mismatch",
    scenario_observer_mismatch => "observer-mismatch",
    scenario_origin_down => "origin-down",
    scenario_submission_flood => "submission-flood",
}
