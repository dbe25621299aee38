//! `tallyboard verify` end to end, driving the real binary: a clean log
//! exits 0; every kind of fault of issue 5 is found, named in the report and
//! the JSON, proved in the evidence directory, and exits 1; unreachable
//! sources and bad arguments exit 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use crate::common::{copy_dir, key, repo_root, tallyboard_in};
use serde_json::Value;
use tallyboard_core::checkpoint::add_cosignature;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::rules::check_all;
use tallyboard_core::{RevisionIndex, SignedTally, TotalsBuilder};
use tallyboard_log::{Log, Options};
use tallyboard_testkit::example::manifest_bytes;

pub(crate) fn authority() -> String {
    repo_root()
        .join("keys-example/keys/EXAMPLE-ONLY.authority.key.pub")
        .display()
        .to_string()
}

pub(crate) fn manifest() -> SignedManifest {
    SignedManifest::from_bytes(&manifest_bytes(), None).unwrap()
}

/// The example election's signed tallies (every sheet, signed by `sign`).
pub(crate) fn example_tallies(work: &Path) -> Vec<Vec<u8>> {
    let out = work.join("signed");
    for (centre, keyfile) in [
        ("C-NORTH", "EXAMPLE-ONLY.centre-C-NORTH.key"),
        ("C-COAST", "EXAMPLE-ONLY.centre-C-COAST.key"),
        ("C-VALLEY", "EXAMPLE-ONLY.centre-C-VALLEY.key"),
    ] {
        let r = tallyboard_in(
            repo_root(),
            &[
                "sign",
                "--manifest",
                "keys-example/manifest.signed",
                "--key",
                &format!("keys-example/keys/{keyfile}"),
                "--sheet",
                &format!("keys-example/sheets/{centre}.csv"),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A source directory holding a log of `entries`, cosigned by witness 1,
/// with the manifest and totals computed from the entries that pass the
/// rules (changed by `tamper_totals` first).
pub(crate) fn build_source(
    dir: &Path,
    entries: &[Vec<u8>],
    tamper_totals: impl FnOnce(&mut tallyboard_core::TotalsBody),
) -> PathBuf {
    let log_key = key("EXAMPLE-ONLY.log.key");
    let mut log = Log::open(dir, log_key.clone(), Options::default()).unwrap();
    let b = log.append(entries).unwrap();
    drop(log);
    let public = dir.join("public");
    let witness = key("EXAMPLE-ONLY.witness-1.key");
    let cosigned = add_cosignature(&b.checkpoint.note, &witness, 1_778_443_200).unwrap();
    std::fs::write(public.join("checkpoint"), &cosigned).unwrap();
    // A receipt for every entry, beside a copy of the tally (as `submit`
    // keeps them), under the cosigned checkpoint.
    let receipts = dir.join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    for (e, a) in entries.iter().zip(&b.entries) {
        let r = tallyboard_core::receipt::Receipt::new(a.index, a.proof.clone(), cosigned.clone())
            .unwrap();
        std::fs::write(receipts.join(format!("{}.tally", a.index)), e).unwrap();
        std::fs::write(
            receipts.join(format!("{}.tally.tlog-proof", a.index)),
            r.to_bytes(),
        )
        .unwrap();
    }
    std::fs::write(public.join("manifest"), manifest_bytes()).unwrap();
    let m = manifest();
    let mut revisions = RevisionIndex::new();
    let mut totals = TotalsBuilder::new(m.manifest());
    for e in entries {
        let Ok(t) = SignedTally::from_bytes_in(e, m.manifest()) else {
            continue;
        };
        let leaf = t.leaf_hash();
        if check_all(m.manifest(), &revisions, t.tally(), &leaf).is_empty() {
            revisions.apply(t.tally(), leaf).unwrap();
            totals.add(t.tally()).unwrap();
        }
    }
    let mut body = totals.finish(log_key.name(), b.checkpoint.size, b.checkpoint.root);
    tamper_totals(&mut body);
    std::fs::write(
        public.join("totals"),
        body.sign(log_key.secret()).to_bytes(),
    )
    .unwrap();
    public
}

pub(crate) struct Outcome {
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) json: Value,
    pub(crate) evidence: PathBuf,
}

impl Outcome {
    pub(crate) fn codes(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) fn finding(&self, code: &str) -> &Value {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code} finding in {}", self.stdout))
    }

    /// The finding's evidence files exist; JSON ones re-check as proven.
    pub(crate) fn proved(&self, code: &str) {
        let f = self.finding(code);
        let files = f["evidence"]
            .as_array()
            .unwrap_or_else(|| panic!("{code} has no evidence: {f}"));
        assert!(!files.is_empty(), "{code} has no evidence");
        for name in files {
            let path = self.evidence.join(name.as_str().unwrap());
            assert!(path.is_file(), "{}", path.display());
            if path.extension().is_some_and(|e| e == "json") {
                let r = tallyboard_in(
                    repo_root(),
                    &[
                        "verify",
                        "--authority",
                        &authority(),
                        "--manifest",
                        "keys-example/manifest.signed",
                        "--recheck",
                        path.to_str().unwrap(),
                    ],
                );
                assert_eq!(
                    r.status,
                    0,
                    "recheck of {}: {}{}",
                    path.display(),
                    r.stdout,
                    r.stderr
                );
                assert!(r.stdout.starts_with("PROVEN"), "{}", r.stdout);
            }
        }
    }
}

pub(crate) fn verify(work: &Path, sources: &[&Path], extra: &[&str]) -> Outcome {
    let json = work.join("report.json");
    let evidence = work.join("evidence");
    let _ = std::fs::remove_dir_all(&evidence);
    let _ = std::fs::remove_file(&json);
    let mut args: Vec<String> = vec!["verify".into(), "--authority".into(), authority()];
    for s in sources {
        args.push("--source".into());
        args.push(s.display().to_string());
    }
    args.extend(["--json".into(), json.display().to_string()]);
    args.extend(["--evidence".into(), evidence.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = tallyboard_in(work, &refs);
    let json = std::fs::read(&json)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    Outcome {
        status: r.status,
        stdout: format!("{}{}", r.stdout, r.stderr),
        json,
        evidence,
    }
}

pub(crate) fn resign(
    bytes: &[u8],
    with: &str,
    change: impl FnOnce(&mut tallyboard_core::Tally),
) -> Vec<u8> {
    let m = manifest();
    let t = SignedTally::from_bytes_in(bytes, m.manifest()).unwrap();
    let mut body = t.tally().clone();
    let k = key(with);
    body.signer = *k.verifier().public_key();
    change(&mut body);
    body.sign(k.secret()).to_bytes()
}

pub(crate) fn find<'a>(entries: &'a [Vec<u8>], unit: &str, contest: &str) -> (usize, &'a Vec<u8>) {
    let m = manifest();
    entries
        .iter()
        .enumerate()
        .find(|(_, e)| {
            let t = SignedTally::from_bytes_in(e, m.manifest()).unwrap();
            t.tally().unit == unit && t.tally().contest == contest
        })
        .unwrap()
}

#[test]
fn a_clean_log_passes_and_every_fault_is_found() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let entries = example_tallies(w);
    assert!(entries.len() > 50, "{}", entries.len());

    // Clean: exit 0, verdict pass, every entry checked, every receipt in the log.
    let clean = build_source(&w.join("clean"), &entries, |_| {});
    let clean_receipts = w.join("clean/receipts");
    let o = verify(
        w,
        &[&clean],
        &["--receipts", clean_receipts.to_str().unwrap()],
    );
    assert_eq!(o.status, 0, "{}", o.stdout);
    assert_eq!(o.json["verdict"], "pass");
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
    assert!(
        o.stdout.starts_with("VERDICT: ALL CHECKS PASSED"),
        "{}",
        o.stdout
    );
    assert!(o.codes().is_empty());
    // The last units to report, latest time of count first.
    let late = o.json["completeness"]["last_to_report"].as_array().unwrap();
    assert_eq!(late.len(), 20);
    let times: Vec<&str> = late
        .iter()
        .map(|l| l["counted_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(o.stdout.contains("Last to report: "), "{}", o.stdout);
    // Requiring both witnesses: the checkpoint (cosigned by one) falls short,
    // and the log is still checked in full.
    // No checkpoint meets the quorum: the tree checked is reported as not
    // witnessed (spec/verify.md §4.3).
    let o = verify(w, &[&clean], &["--quorum", "2"]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["not-witnessed", "quorum-not-met"]);
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
    assert_eq!(o.json["log"]["witnessed"], false);

    // A genuine correction: still clean, listed with its reason, and only
    // the corrected figures count.
    let (_, p1) = find(&entries, "P-001", "mayor");
    let m = manifest();
    let orig = SignedTally::from_bytes_in(p1, m.manifest()).unwrap();
    let mut fix = orig
        .tally()
        .correction(orig.leaf_hash(), "recount of ballot box 2");
    fix.blank -= 1;
    fix.invalid += 1;
    fix.counted_at += 3600;
    let north_key = key("EXAMPLE-ONLY.centre-C-NORTH.key");
    let mut corrected = entries.clone();
    corrected.push(fix.sign(north_key.secret()).to_bytes());
    let csrc = build_source(&w.join("corrected"), &corrected, |_| {});
    let o = verify(w, &[&csrc], &[]);
    assert_eq!(o.status, 0, "{}", o.stdout);
    let c = &o.json["completeness"]["corrections"];
    assert_eq!(c.as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c[0]["unit"], "P-001");
    assert_eq!(c[0]["revision"], 2);
    assert_eq!(c[0]["reason"], "recount of ballot box 2");
    assert!(
        o.stdout.contains("Corrections in the log: 1"),
        "{}",
        o.stdout
    );

    // A tampered entry in the served copy.
    let tampered = w.join("tampered");
    copy_dir(&clean, &tampered);
    assert!(entries.len() < 256);
    let bname = format!("tile/entries/000.p/{}", entries.len());
    let bpath = tampered.join(&bname);
    let mut b = std::fs::read(&bpath).unwrap();
    let n = b.len();
    b[n / 2] ^= 1;
    std::fs::write(&bpath, &b).unwrap();
    let o = verify(w, &[&tampered], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert!(
        o.codes().contains(&"source-bad-data".to_owned()),
        "{:?}",
        o.codes()
    );
    assert!(o.stdout.contains(&bname), "{bname}: {}", o.stdout);
    o.proved("source-bad-data");
    // With an honest mirror beside it, the log is still fully checked.
    let o = verify(w, &[&tampered, &clean], &[]);
    assert_eq!(o.status, 1);
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
    assert_eq!(o.codes(), ["source-bad-data"], "{}", o.stdout);
    assert_eq!(
        o.finding("source-bad-data")["source"],
        tampered.display().to_string()
    );

    // Tallies signed with the wrong key, outside responsibility, broken
    // arithmetic, a forged correction.
    let (_, north) = find(&entries, "P-001", "mayor");
    // The signature of a copy of P-001's tally altered (the body still decodes).
    let mut forged_sig = resign(north, "EXAMPLE-ONLY.centre-C-NORTH.key", |t| {
        t.counted_at += 30
    });
    let last = forged_sig.len() - 1;
    forged_sig[last] ^= 0x01;
    let wrong_centre = resign(north, "EXAMPLE-ONLY.centre-C-COAST.key", |t| {
        t.counted_at += 60;
    });
    let arithmetic = resign(north, "EXAMPLE-ONLY.centre-C-NORTH.key", |t| {
        t.blank += 5;
        t.counted_at += 120;
    });
    let forged_correction = resign(north, "EXAMPLE-ONLY.centre-C-NORTH.key", |t| {
        t.revision = 1;
        t.supersedes = Some(tallyboard_core::Hash::sha256(b"no such entry"));
        t.reason = Some("recount".to_owned());
    });
    let mut bad = entries.clone();
    bad.extend([wrong_centre, arithmetic, forged_correction, forged_sig]);
    let rules = build_source(&w.join("rules"), &bad, |_| {});
    let o = verify(w, &[&rules], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    for code in [
        "signer-not-responsible",
        "arithmetic-mismatch",
        "supersedes-unknown-entry",
        "bad-signature",
    ] {
        assert!(
            o.codes().contains(&code.to_owned()),
            "{code} not in {:?}",
            o.codes()
        );
        let f = o.finding(code);
        assert_eq!(f["unit"], "P-001", "{f}");
        assert_eq!(f["contest"], "mayor");
        o.proved(code);
    }
    assert!(o.stdout.contains("P-001"), "{}", o.stdout);

    // Published totals that differ from the entries.
    let totals = build_source(&w.join("totals"), &entries, |b| {
        let row = b
            .rows
            .iter_mut()
            .find(|r| r.contest == "mayor" && r.region.is_none())
            .unwrap();
        *row.choices.get_mut("ada").unwrap() += 100;
    });
    let o = verify(w, &[&totals], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    let f = o.finding("totals-mismatch");
    assert_eq!(f["contest"], "mayor");
    assert_eq!(f["figure"], "choice ada");
    assert_eq!(
        f["published"].as_u64().unwrap(),
        f["recomputed"].as_u64().unwrap() + 100
    );
    o.proved("totals-mismatch");

    // Totals that cannot be read as signed totals, undecodable or over the
    // cap, are one finding, totals-signature, naming the code.
    let limit = tallyboard_core::limits::MAX_SIGNED_TOTALS as u64;
    for (why, code) in [("undecodable", "wrong-type"), ("oversized", "oversized")] {
        let f = std::fs::File::create(totals.join("totals")).unwrap();
        if why == "oversized" {
            f.set_len(limit + 1).unwrap();
        } else {
            use std::io::Write as _;
            (&f).write_all(&[0x00]).unwrap();
        }
        drop(f);
        let o = verify(w, &[&totals], &[]);
        assert_eq!(o.status, 1, "{why}: {}", o.stdout);
        let f = o.finding("totals-signature");
        assert!(f["message"].as_str().unwrap().contains(code), "{why}: {f}");
        assert!(!o.codes().contains(&"totals-mismatch".to_owned()), "{why}");
    }

    // A mirror with a forked checkpoint, and a stale mirror.
    let mut forked_entries = entries.clone();
    forked_entries.swap(0, 1);
    let forked = build_source(&w.join("forked"), &forked_entries, |_| {});
    let o = verify(w, &[&clean, &forked], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes()[0], "split-view", "{}", o.stdout);
    assert!(o.stdout.contains("SPLIT VIEW"), "{}", o.stdout);
    o.proved("split-view");
    // Receipts from the forked log: their signed checkpoint conflicts with
    // the log verified.
    let forked_receipts = w.join("forked/receipts");
    let o = verify(
        w,
        &[&clean],
        &["--receipts", forked_receipts.to_str().unwrap()],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert!(
        o.codes().contains(&"receipt-not-in-log".to_owned()),
        "{:?}",
        o.codes()
    );
    assert_eq!(o.codes()[0], "split-view", "{}", o.stdout);
    o.proved("split-view");
    // A receipt that does not verify for the tally beside it.
    let bad_receipts = w.join("bad-receipts");
    std::fs::create_dir_all(&bad_receipts).unwrap();
    std::fs::copy(
        clean_receipts.join("0.tally.tlog-proof"),
        bad_receipts.join("1.tally.tlog-proof"),
    )
    .unwrap();
    std::fs::copy(clean_receipts.join("1.tally"), bad_receipts.join("1.tally")).unwrap();
    let o = verify(
        w,
        &[&clean],
        &["--receipts", bad_receipts.to_str().unwrap()],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["receipt-invalid"], "{}", o.stdout);
    let stale = build_source(&w.join("stale"), &entries[..entries.len() - 10], |_| {});
    let o = verify(w, &[&clean, &stale], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    let f = o.finding("source-stale");
    assert_eq!(f["source"], stale.display().to_string());
    assert!(
        f["message"].as_str().unwrap().contains("10 entries behind"),
        "{f}"
    );

    // A backup tally the log contradicts, an observer CSV with mismatches.
    let backups = w.join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let (_, p2) = find(&entries, "P-002", "mayor");
    let contradicting = resign(p2, "EXAMPLE-ONLY.centre-C-NORTH.key", |t| {
        *t.choices.get_mut("ada").unwrap() -= 7;
        t.blank += 7;
    });
    std::fs::write(backups.join("P-002.mayor.tally"), &contradicting).unwrap();
    std::fs::write(backups.join("P-001.mayor.tally"), north).unwrap();
    let csv = w.join("observers.csv");
    std::fs::write(
        &csv,
        "unit,contest,choice,count\nP-001,mayor,blank,8\nP-001,mayor,invalid,6\nP-002,mayor,ada,250\nP-002,mayor,blank,5\n",
    )
    .unwrap();
    let o = verify(
        w,
        &[&clean],
        &[
            "--backup-tallies",
            backups.to_str().unwrap(),
            "--observer-csv",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    let f = o.finding("backup-contradicts-log");
    assert_eq!(f["unit"], "P-002");
    o.proved("backup-contradicts-log");
    let f = o.finding("observer-mismatch");
    assert_eq!(f["unit"], "P-002");
    assert_eq!(f["figure"], "ada");
    assert_eq!(f["published"], 257);
    assert_eq!(f["recomputed"], 250);
    o.proved("observer-mismatch");
    assert_eq!(o.json["observers"]["rows"], 4);
    assert_eq!(o.json["observers"]["matched"], 3);
    assert!(o.stdout.contains("3 of 4 figures match"), "{}", o.stdout);
    assert_eq!(o.codes().len(), 2, "{:?}", o.codes());

    // A source serving another manifest signed by the authority.
    let other = w.join("other-manifest");
    copy_dir(&clean, &other);
    let mut body = manifest().into_manifest().into_body();
    body.title.push_str(" (second edition)");
    let authority_key = key("EXAMPLE-ONLY.authority.key");
    let resigned = tallyboard_core::Manifest::new(body)
        .unwrap()
        .sign(authority_key.secret());
    std::fs::write(other.join("manifest"), resigned.as_bytes()).unwrap();
    let manifest_file = repo_root().join("keys-example/manifest.signed");
    let o = verify(
        w,
        &[&other],
        &["--manifest", manifest_file.to_str().unwrap()],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["manifest-mismatch"], "{}", o.stdout);
    let f = o.finding("manifest-mismatch");
    assert_eq!(f["evidence"].as_array().unwrap().len(), 2, "{f}");
    o.proved("manifest-mismatch");

    // A missing unit.
    let m = manifest();
    let without: Vec<Vec<u8>> = entries
        .iter()
        .filter(|e| {
            SignedTally::from_bytes_in(e, m.manifest())
                .unwrap()
                .tally()
                .unit
                != "P-003"
        })
        .cloned()
        .collect();
    let missing = build_source(&w.join("missing"), &without, |_| {});
    let o = verify(w, &[&missing], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    let f = o.finding("units-missing");
    assert!(
        f["units"].as_array().unwrap().iter().any(|u| u == "P-003"),
        "{f}"
    );
    assert!(
        o.json["completeness"]["missing"]["mayor"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "P-003")
    );
}

#[test]
fn unreachable_sources_and_bad_arguments_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // A port nothing listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let o = verify(
        w,
        &[Path::new(&url)],
        &[
            "--manifest",
            repo_root()
                .join("keys-example/manifest.signed")
                .to_str()
                .unwrap(),
            "--timeout",
            "5",
        ],
    );
    assert_eq!(o.status, 2, "{}", o.stdout);
    assert_eq!(o.json["verdict"], "could-not-verify");
    assert!(
        o.stdout.contains("VERDICT: COULD NOT VERIFY"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains(&url), "{}", o.stdout);

    for args in [
        vec!["verify", "--authority", "nonsense"],
        vec!["verify", "--authority", &authority()],
        vec!["verify", "--authority", &authority(), "--source", "ftp://x"],
        vec![
            "verify",
            "--authority",
            &authority(),
            "--source",
            ".",
            "--observer-csv",
            "/no/such.csv",
        ],
        vec!["verify", "--bogus-flag"],
    ] {
        let r = tallyboard_in(w, &args);
        assert_eq!(r.status, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty());
    }
}

/// The checkpoint note of `public` with the signature line of the witness
/// (the line not named after the origin) changed by `change`.
fn rewrite_witness_line(public: &Path, change: impl FnOnce(&str) -> Vec<String>) -> String {
    let path = public.join("checkpoint");
    let text = std::fs::read_to_string(&path).unwrap();
    let origin = text.lines().next().unwrap().to_owned();
    let mut out = Vec::new();
    let mut witness = String::new();
    let mut change = Some(change);
    for line in text.lines() {
        let is_witness =
            line.starts_with("\u{2014} ") && !line.starts_with(&format!("\u{2014} {origin} "));
        if is_witness && let Some(c) = change.take() {
            witness = line.split(' ').nth(1).unwrap().to_owned();
            out.extend(c(line));
        } else {
            out.push(line.to_owned());
        }
    }
    assert!(!witness.is_empty(), "no witness line in {text}");
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    witness
}

#[test]
fn altered_tiles_bad_cosignatures_and_no_quorum() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let entries = example_tallies(w);
    assert!(entries.len() < 256);
    let clean = build_source(&w.join("clean"), &entries, |_| {});

    // A level-0 tile altered, its bundle honest: the bundles hash to the
    // checkpoint, but clients building proofs from the tile are misled.
    let tiles = w.join("tiles");
    copy_dir(&clean, &tiles);
    let name = format!("tile/0/000.p/{}", entries.len());
    let mut b = std::fs::read(tiles.join(&name)).unwrap();
    b[32 * 3 + 7] ^= 1;
    std::fs::write(tiles.join(&name), &b).unwrap();
    let o = verify(w, &[&tiles], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["source-bad-data"], "{}", o.stdout);
    assert!(o.stdout.contains(&name), "{name}: {}", o.stdout);
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
    assert_eq!(o.json["sources"][0]["data_verified"], false);
    o.proved("source-bad-data");
    // Beside an honest mirror: the same finding, naming the altered source.
    let o = verify(w, &[&clean, &tiles], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["source-bad-data"], "{}", o.stdout);
    assert_eq!(
        o.finding("source-bad-data")["source"],
        tiles.display().to_string()
    );
    o.proved("source-bad-data");

    // A corrupted witness cosignature: the witness is named, the log's
    // signature holds, the data is checked, and nothing else meets the
    // quorum: the tree checked is not witnessed.
    let cosig = w.join("cosig");
    copy_dir(&clean, &cosig);
    let witness = rewrite_witness_line(&cosig, |line| {
        let mut l = line.to_owned();
        let last = l.pop().unwrap();
        l.push(if last == 'A' { 'B' } else { 'A' });
        vec![l]
    });
    let o = verify(w, &[&cosig], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    let codes = o.codes();
    assert!(
        codes.contains(&"witness-cosignature".to_owned()),
        "{codes:?}"
    );
    assert!(codes.contains(&"not-witnessed".to_owned()), "{codes:?}");
    assert!(codes.contains(&"quorum-not-met".to_owned()), "{codes:?}");
    assert!(
        !codes.contains(&"checkpoint-signature".to_owned()),
        "{codes:?}"
    );
    let f = o.finding("witness-cosignature");
    assert!(f["message"].as_str().unwrap().contains(&witness), "{f}");
    assert_eq!(f["source"], cosig.display().to_string());
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
    assert_eq!(o.json["log"]["witnessed"], false);
    assert!(o.json["sources"][0]["data_verified"].as_bool().unwrap());

    // The same cosignature line twice, beside a source with the quorum:
    // the witness is named, the tree checked is witnessed.
    let twice = w.join("twice");
    copy_dir(&clean, &twice);
    rewrite_witness_line(&twice, |line| vec![line.to_owned(), line.to_owned()]);
    let o = verify(w, &[&clean, &twice], &[]);
    assert_eq!(o.status, 1, "{}", o.stdout);
    let codes = o.codes();
    assert!(
        codes.contains(&"witness-cosignature".to_owned()),
        "{codes:?}"
    );
    assert!(!codes.contains(&"not-witnessed".to_owned()), "{codes:?}");
    assert_eq!(o.json["log"]["witnessed"], true);
    assert!(o.json["sources"][1]["data_verified"].as_bool().unwrap());
    // The clean source alone is witnessed and passes.
    let o = verify(w, &[&clean], &[]);
    assert_eq!(o.status, 0, "{}", o.stdout);
    assert_eq!(o.json["log"]["witnessed"], true);

    // With --manifest, a source's manifest is read only up to twice the
    // given one's length and 64 KiB more: a huge body is named, not read.
    let huge = w.join("huge-manifest");
    copy_dir(&clean, &huge);
    std::fs::write(huge.join("manifest"), vec![b'x'; 1 << 20]).unwrap();
    let manifest_file = repo_root().join("keys-example/manifest.signed");
    let o = verify(
        w,
        &[&huge],
        &["--manifest", manifest_file.to_str().unwrap()],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    assert_eq!(o.codes(), ["manifest-mismatch"], "{}", o.stdout);
    let msg = o.finding("manifest-mismatch")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("not read further"), "{msg}");
    assert_eq!(o.json["sources"][0]["manifest"], "different");
    assert_eq!(o.json["log"]["entries_checked"], entries.len() as u64);
}
