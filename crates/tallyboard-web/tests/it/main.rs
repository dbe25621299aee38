//! The browser verifier's logic, natively: a log built here from the
//! example election (a scaled copy, so that it has full and partial tiles),
//! checked step by step as `verify.js` drives it, and altered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::Value;
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, sign_checkpoint};
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::tally::SignedTally;
use tallyboard_core::tile::{BundleId, EntryBundle, TILE_WIDTH, TileBuilder};
use tallyboard_core::totals::TotalsBuilder;
use tallyboard_testkit::example::{
    Figures, keys_dir, log_signer, scaled_example, sign_every_tally, signer,
};
use tallyboard_web::{Step, Verifier, WebError};

fn authority() -> String {
    std::fs::read_to_string(keys_dir().join("EXAMPLE-ONLY.authority.key.pub")).unwrap()
}

/// A published log: its files by path, as a site serves them.
struct Log {
    manifest: SignedManifest,
    files: BTreeMap<String, Vec<u8>>,
    tallies: Vec<SignedTally>,
}

/// The log of the first `n` tallies of `tallies` (`base` votes each),
/// checkpoint cosigned by both example witnesses, totals at `totals_at`.
fn log(manifest: &SignedManifest, tallies: &[SignedTally], n: usize, totals_at: usize) -> Log {
    let m = manifest.manifest();
    let mut files = BTreeMap::new();
    let mut tb = TileBuilder::new();
    let mut totals = TotalsBuilder::new(m);
    let mut totals_body = None;
    let origin = m.log.origin.clone();
    for (i, t) in tallies[..n].iter().enumerate() {
        if i == totals_at {
            totals_body = Some(totals.finish(&origin, i as u64, tb.root()));
        }
        for (id, tile) in tb.push(t.leaf_hash()).unwrap_or_default() {
            files.insert(id.path(), tile.to_bytes());
        }
        totals.add(t.tally()).unwrap();
    }
    for (id, tile) in tb.partial_tiles() {
        files.insert(id.path(), tile.to_bytes());
    }
    let size = n as u64;
    for (b, chunk) in tallies[..n].chunks(usize::from(TILE_WIDTH)).enumerate() {
        let id = BundleId::in_tree(b as u64, size).unwrap();
        let bundle = EntryBundle::new(chunk.iter().map(|t| t.to_bytes()).collect()).unwrap();
        files.insert(id.path(), bundle.to_bytes());
    }
    let body = totals_body.unwrap_or_else(|| totals.finish(&origin, size, tb.root()));
    files.insert("totals".into(), body.sign(log_signer().secret()).to_bytes());
    let cp = Checkpoint::new(&origin, size, tb.root());
    let mut note = sign_checkpoint(&cp, &log_signer()).unwrap();
    for w in ["EXAMPLE-ONLY.witness-1.key", "EXAMPLE-ONLY.witness-2.key"] {
        note = add_cosignature(&note, &signer(w), 1_778_443_300).unwrap();
    }
    files.insert("checkpoint".into(), note);
    files.insert("manifest".into(), manifest.to_bytes());
    Log {
        manifest: manifest.clone(),
        files,
        tallies: tallies[..n].to_vec(),
    }
}

fn election() -> (SignedManifest, Vec<SignedTally>) {
    let manifest = scaled_example(200);
    let tallies = sign_every_tally(manifest.manifest(), |_, c, ck| Figures::base(c, ck, 10));
    assert!(
        tallies.len() > 300,
        "{} tallies: more than one full tile",
        tallies.len()
    );
    (manifest, tallies)
}

/// Runs a step, adding the tiles it asks for from `log` (or `other` for
/// paths after `from:other`), as verify.js does.
fn drive(
    v: &mut Verifier,
    log: &Log,
    other: Option<&Log>,
    mut f: impl FnMut(&mut Verifier) -> Result<Step<Value>, WebError>,
) -> Result<Value, WebError> {
    for _ in 0..32 {
        match f(v)? {
            Step::Done(x) => return Ok(x),
            Step::Need(mut paths) => {
                let from_other = paths.first().is_some_and(|p| p == "from:other");
                if paths.first().is_some_and(|p| p.starts_with("from:")) {
                    paths.remove(0);
                }
                let src = if from_other { other.unwrap() } else { log };
                for p in paths {
                    let bytes = src.files.get(&p).unwrap_or_else(|| panic!("no {p}"));
                    let set = if from_other {
                        &mut v.other_tiles
                    } else {
                        &mut v.tiles
                    };
                    set.add(&p, bytes)?;
                }
            }
        }
    }
    panic!("too many rounds");
}

fn open(log: &Log) -> Verifier {
    let mut v = Verifier::open(
        &authority(),
        &log.files["manifest"],
        &log.manifest.hash().to_hex(),
    )
    .unwrap();
    v.open_checkpoint(&log.files["checkpoint"]).unwrap();
    let totals = log.files["totals"].clone();
    drive(&mut v, log, None, |v| v.verify_totals(&totals)).unwrap();
    v
}

fn entry(v: &mut Verifier, log: &Log, index: u64) -> Result<Value, WebError> {
    let bundle = log.files[&v.bundle_path(index).unwrap()].clone();
    drive(v, log, None, |v| v.verify_entry(index, &bundle))
}

#[test]
fn a_clean_log_verifies_figure_by_figure_and_entry_by_entry() {
    let (manifest, tallies) = election();
    let n = tallies.len();
    let log = log(&manifest, &tallies, n, n);
    let mut v = open(&log);
    let contest = &tallies[0].tally().contest;
    let choice = tallies[0].tally().choices.keys().next().unwrap();
    let region = &manifest.manifest().units[0].region;
    let figs = serde_json::json!([
        [format!("{contest}|*|units_reporting"), "200"],
        [format!("{contest}|*|units_expected"), "200"],
        [format!("{contest}|*|choice:{choice}"), "2,200"],
        [format!("{contest}|*|choice:{choice}"), "2,201"],
        [format!("{contest}|{region}|blank"), "400"],
        [format!("{contest}|nowhere|blank"), "1"],
        [format!("{contest}|*|blank"), "three hundred"],
    ]);
    let verdicts = v.check_figures(&figs.to_string()).unwrap();
    let ok: Vec<bool> = verdicts
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(
        ok,
        [true, true, true, false, true, false, false],
        "{verdicts}"
    );
    assert!(
        verdicts[3]["problem"].as_str().unwrap().contains("2,200"),
        "{verdicts}"
    );

    for index in [0u64, 1, 255, 256, n as u64 - 1] {
        let e = entry(&mut v, &log, index).unwrap();
        let t = tallies[index as usize].tally();
        assert_eq!(e["leaf_hash"], tallies[index as usize].leaf_hash().to_hex());
        assert_eq!(e["unit"], t.unit.as_str());
        assert!(e["violations"].as_array().unwrap().is_empty());
        let figs = serde_json::json!([
            [
                format!("{}|ballots_cast", t.contest),
                t.ballots_cast.to_string()
            ],
            [format!("{}|blank", t.contest), "3"],
        ]);
        let r = v.check_entry_figures(index, &figs.to_string()).unwrap();
        assert_eq!(r[0]["ok"], true, "{r}");
        assert_eq!(r[1]["ok"], false, "{r}");
    }
    assert!(matches!(
        v.bundle_path(n as u64),
        Err(WebError::NotInLog { .. })
    ));
}

#[test]
fn a_region_recount_matches_and_finds_an_inflated_figure() {
    let (manifest, tallies) = election();
    let n = tallies.len();
    let log = log(&manifest, &tallies, n, n);
    let mut v = open(&log);
    let m = manifest.manifest();
    let region = m.units[0].region.clone();
    let units = v.region_units(&region).unwrap();
    assert!(!units.is_empty());
    for (i, t) in tallies.iter().enumerate() {
        if units.contains(&t.tally().unit) {
            entry(&mut v, &log, i as u64).unwrap();
        }
    }
    let r = v.recount(&region).unwrap();
    assert_eq!(r["differences"].as_array().unwrap().len(), 0, "{r}");
    assert!(r["rows"].as_u64().unwrap() > 0, "{r}");
    // A recount that misses a unit's tally (a page that hid it) differs.
    let mut v2 = open(&log);
    let mut skipped = false;
    for (i, t) in tallies.iter().enumerate() {
        if units.contains(&t.tally().unit) {
            if !skipped {
                skipped = true;
                continue;
            }
            entry(&mut v2, &log, i as u64).unwrap();
        }
    }
    let r = v2.recount(&region).unwrap();
    assert!(!r["differences"].as_array().unwrap().is_empty(), "{r}");
}

#[test]
fn totals_of_an_earlier_tree_are_bound_by_a_consistency_proof() {
    let (manifest, tallies) = election();
    let n = tallies.len();
    let log = log(&manifest, &tallies, n, 200);
    let mut v = Verifier::open(&authority(), &log.files["manifest"], "").unwrap();
    v.open_checkpoint(&log.files["checkpoint"]).unwrap();
    let totals = log.files["totals"].clone();
    // The proof needs tiles: the first answer asks for them.
    assert!(matches!(v.verify_totals(&totals).unwrap(), Step::Need(p) if !p.is_empty()));
    let r = drive(&mut v, &log, None, |v| v.verify_totals(&totals)).unwrap();
    assert_eq!(r["size"], 200);
    // Totals naming another root at that size are refused.
    let other = log_with_root_mismatch(&log, &manifest);
    let mut v = Verifier::open(&authority(), &log.files["manifest"], "").unwrap();
    v.open_checkpoint(&log.files["checkpoint"]).unwrap();
    let r = drive(&mut v, &log, None, |v| v.verify_totals(&other));
    assert!(matches!(r, Err(WebError::TotalsBinding(_))), "{r:?}");
}

/// Totals at size 200 with a root that is not the tree's.
fn log_with_root_mismatch(log: &Log, manifest: &SignedManifest) -> Vec<u8> {
    let mut totals = TotalsBuilder::new(manifest.manifest());
    for t in &log.tallies[..200] {
        totals.add(t.tally()).unwrap();
    }
    let body = totals.finish(
        &manifest.manifest().log.origin,
        200,
        tallyboard_core::Hash::sha256(b"not the root"),
    );
    body.sign(log_signer().secret()).to_bytes()
}

#[test]
fn altered_files_are_named() {
    let (manifest, tallies) = election();
    let n = tallies.len();
    let clean = log(&manifest, &tallies, n, n);
    // Another authority key, another manifest hash.
    let log_key = std::fs::read_to_string(keys_dir().join("EXAMPLE-ONLY.log.key.pub")).unwrap();
    assert!(matches!(
        Verifier::open(&log_key, &clean.files["manifest"], ""),
        Err(WebError::Manifest(_))
    ));
    assert!(matches!(
        Verifier::open(&authority(), &clean.files["manifest"], &"0".repeat(64)),
        Err(WebError::ManifestHash { .. })
    ));
    // The totals altered.
    let mut v = Verifier::open(&authority(), &clean.files["manifest"], "").unwrap();
    v.open_checkpoint(&clean.files["checkpoint"]).unwrap();
    let mut totals = clean.files["totals"].clone();
    let mid = totals.len() / 2;
    totals[mid] ^= 1;
    assert!(v.verify_totals(&totals).is_err());
    // A checkpoint without the witnesses' quorum.
    let cp = Checkpoint::parse(
        std::str::from_utf8(&clean.files["checkpoint"])
            .unwrap()
            .split("\n\n")
            .next()
            .map(|t| format!("{t}\n"))
            .unwrap()
            .as_str(),
    )
    .unwrap();
    let bare = sign_checkpoint(&cp, &log_signer()).unwrap();
    assert!(matches!(
        v.open_checkpoint(&bare),
        Err(WebError::Checkpoint(_))
    ));
    // A hash tile altered: no inclusion proof.
    let mut bad = log(&manifest, &tallies, n, n);
    let tile = bad
        .files
        .keys()
        .find(|k| k.starts_with("tile/0/000"))
        .unwrap()
        .clone();
    bad.files.get_mut(&tile).unwrap()[40] ^= 1;
    let mut v = open(&clean);
    assert!(
        matches!(entry(&mut v, &bad, 1), Err(WebError::Tiles(_))),
        "tile"
    );
    // An entry altered in its bundle.
    let mut bad = log(&manifest, &tallies, n, n);
    let path = BundleId::in_tree(0, n as u64).unwrap().path();
    let b = EntryBundle::from_bytes(&bad.files[&path], TILE_WIDTH).unwrap();
    let at = 2 + b.entries()[0].len() / 2;
    bad.files.get_mut(&path).unwrap()[at] ^= 1;
    let mut v = open(&clean);
    assert!(
        matches!(entry(&mut v, &bad, 0), Err(WebError::Inclusion { .. })),
        "bundle"
    );
    assert!(entry(&mut v, &clean, 0).is_ok());
}

#[test]
fn two_mirrors_compare_and_a_split_view_is_named() {
    let (manifest, tallies) = election();
    let n = tallies.len();
    let full = log(&manifest, &tallies, n, n);
    let prefix = log(&manifest, &tallies, 300, 300);
    let v = open(&full);
    let mut v = v;
    let same = drive(&mut v, &full, Some(&full), |v| {
        v.compare(&full.files["checkpoint"])
    })
    .unwrap();
    assert_eq!(same["relation"], "same");
    let behind = drive(&mut v, &full, Some(&prefix), |v| {
        v.compare(&prefix.files["checkpoint"])
    })
    .unwrap();
    assert_eq!(behind["relation"], "ahead");
    let mut p = open(&prefix);
    let ahead = drive(&mut p, &prefix, Some(&full), |v| {
        v.compare(&full.files["checkpoint"])
    })
    .unwrap();
    assert_eq!(ahead["relation"], "behind");
    // Another history of the same size: one tally left out, another in.
    let mut other: Vec<SignedTally> = tallies.clone();
    other.swap(3, n - 1);
    let fork = log(&manifest, &other, 300, 300);
    let r = drive(&mut v, &full, Some(&fork), |v| {
        v.compare(&fork.files["checkpoint"])
    });
    assert!(matches!(r, Err(WebError::SplitView(_))), "{r:?}");
    let r = drive(&mut p, &prefix, Some(&fork), |v| {
        v.compare(&fork.files["checkpoint"])
    });
    assert!(matches!(r, Err(WebError::SplitView(_))), "{r:?}");
    let _ = full.tallies.len();
}

/// The example key that signed `t`.
fn key_of(t: &SignedTally) -> tallyboard_core::note::SignerKey {
    for e in std::fs::read_dir(keys_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".key") && name.contains("centre") {
            let k = signer(&name);
            if k.verifier().public_key() == &t.tally().signer {
                return k;
            }
        }
    }
    panic!("no example key signed the tally");
}

/// The paper check: a sheet's codes (pasted text) against the unit's
/// proven entries, for each verdict.
#[test]
fn a_printed_sheet_matches_is_superseded_differs_or_is_not_genuine() {
    use tallyboard_core::paper::encode;
    let (manifest, mut tallies) = election();
    let n = 300;
    // A correction of the first tally, logged last.
    let first = tallies[0].clone();
    let key = key_of(&first);
    let mut body = first.tally().clone();
    body.revision = 2;
    body.supersedes = Some(first.leaf_hash());
    body.reason = Some("recount, ordered by the board".into());
    body.counted_at += 3600;
    body.ballots_cast += 5;
    body.blank += 5;
    let correction = body.sign(key.secret());
    // A tally of another unit, signed by its centre, with other figures
    // than the log's.
    let other = tallies[1].clone();
    let mut body = other.tally().clone();
    body.invalid += 7;
    body.ballots_cast += 7;
    let rival = body.sign(key_of(&other).secret());
    let mut logged: Vec<SignedTally> = tallies.drain(..n).collect();
    logged.push(correction.clone());
    let unlogged = tallies[0].clone();
    let log = log(&manifest, &logged, logged.len(), logged.len());
    let mut v = open(&log);

    let sheet = |v: &mut Verifier, bytes: &[u8]| -> Value {
        let text = encode(bytes).join("\n");
        let texts = tallyboard_web::paper::read_text(&format!("\n  {text}\n\n")).unwrap();
        let sheets = v
            .paper_sheets(&serde_json::json!([["photo.jpg", texts]]).to_string())
            .unwrap();
        assert_eq!(sheets.as_array().unwrap().len(), 1, "{sheets}");
        sheets[0].clone()
    };
    // Prove the entries of a unit, as the script does from its page.
    let prove_unit = |v: &mut Verifier, unit: &str| {
        for (i, t) in logged.iter().enumerate() {
            if t.tally().unit == unit {
                entry(v, &log, i as u64).unwrap();
            }
        }
    };

    // The correction: the revision that counts.
    let s = sheet(&mut v, correction.as_bytes());
    assert_eq!(s["state"], "genuine", "{s}");
    prove_unit(&mut v, &correction.tally().unit);
    let r = v.paper_verdict(0).unwrap();
    assert_eq!(r["verdict"], "match", "{r}");
    assert_eq!(r["index"], n as u64, "{r}");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("the revision that counts")
    );

    // The first revision: superseded, by the correction, figures named.
    sheet(&mut v, first.as_bytes());
    let r = v.paper_verdict(0).unwrap();
    assert_eq!(r["verdict"], "superseded", "{r}");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("reason: recount, ordered by the board"),
        "{r}"
    );
    let figures: Vec<&str> = r["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["figure"].as_str().unwrap())
        .collect();
    assert_eq!(figures, ["blank", "ballots_cast"], "{r}");

    // Signed by the centre, but not what the log holds.
    let s = sheet(&mut v, rival.as_bytes());
    assert_eq!(s["state"], "genuine", "{s}");
    prove_unit(&mut v, &rival.tally().unit);
    let r = v.paper_verdict(0).unwrap();
    assert_eq!(r["verdict"], "differs", "{r}");
    assert!(
        r["differences"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("invalid ballots: the paper says"),
        "{r}"
    );

    // A unit the log has no tally of yet.
    sheet(&mut v, unlogged.as_bytes());
    let r = v.paper_verdict(0).unwrap();
    assert_eq!(r["verdict"], "not-in-log", "{r}");

    // Altered bytes: not genuine; no code at all: unreadable.
    let mut altered = first.to_bytes();
    let i = altered.len() / 2;
    altered[i] ^= 1;
    let s = sheet(&mut v, &altered);
    assert_eq!(s["state"], "not-genuine", "{s}");
    assert!(v.paper_verdict(0).is_err());
    let s = v
        .paper_sheets(&serde_json::json!([["photo.jpg", ["hello"]]]).to_string())
        .unwrap();
    assert_eq!(s[0]["state"], "unreadable", "{s}");
    // Not an image.
    assert!(tallyboard_web::paper::read_image(b"GIF89a").is_err());
}
