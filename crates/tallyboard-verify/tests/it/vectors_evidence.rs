#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Generates and checks `spec/vectors/evidence/*.json` (spec/verify.md §3.3).
//! Fails when a file drifts from its generator; `TALLYBOARD_BLESS=1`
//! rewrites them.

use std::convert::Infallible;

use crate::common::*;
use serde_json::{Value, json};
use tallyboard_testkit::vectors;
use tallyboard_verify::evidence::{Evidence, EvidenceBody, check};
use tallyboard_verify::follow::{
    Consistency, FollowError, FollowOptions, Trusted, check_consistency, follow,
};
use tallyboard_verify::source::Source;

const MIRROR_A: &str = "https://mirror-a.example/log";
const MIRROR_B: &str = "https://mirror-b.example/log";

/// Replaces the temporary directories in an evidence file by fixed URLs.
fn fix_sources(ev: &mut Evidence, map: &[(&str, &str)]) {
    let fix = |s: &mut String| {
        for (from, to) in map {
            if s.starts_with(from) {
                *s = format!("{to}{}", &s[from.len()..]);
            }
        }
    };
    match &mut ev.body {
        EvidenceBody::SplitView(sv) => {
            fix(&mut sv.first.source);
            fix(&mut sv.second.source);
        }
        EvidenceBody::BadData(bd) => {
            fix(&mut bd.checkpoint.source);
            fix(&mut bd.served_from);
        }
        EvidenceBody::LogEntry(le) => fix(&mut le.checkpoint.source),
        EvidenceBody::Totals(te) => {
            fix(&mut te.checkpoint.source);
            fix(&mut te.served_from);
        }
    }
    for (from, to) in map {
        ev.summary = ev.summary.replace(from, to);
    }
}

async fn follow_err(source: &Source, trusted: &Trusted, note: &[u8]) -> Evidence {
    let r = follow(
        source,
        &log_key(),
        trusted,
        &open(note),
        &FollowOptions::default(),
        |_| Ok::<(), Infallible>(()),
    )
    .await;
    match r {
        Err(FollowError::BadData(e)) | Err(FollowError::SplitView(e)) => *e,
        other => panic!("expected evidence, got {other:?}"),
    }
}

/// The evidence of the one tile fault that the tile check of `source` (at
/// `note`, with the older sizes `older`) finds (spec/verify.md §2.2).
async fn tile_fault(source: &Source, note: &[u8], older: &[u64]) -> Evidence {
    let mut r = tile_check(source, note, older).await;
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
    *r.faults.remove(0).evidence.expect("evidence")
}

async fn cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let key = log_key().to_string();
    let mut push = |name: &str, description: &str, ev: &Value, expect: &str| {
        out.push((
            name.to_owned(),
            json!({"description": description, "log_key": key, "evidence": ev, "expect": expect}),
        ));
    };

    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let na = build_log(a.path(), &[5, 20], "honest");
    let nb = build_log(b.path(), &[5, 30], "forked");
    let pa = a.path().join("public");
    let pb = b.path().join("public");
    let (la, lb) = (pa.display().to_string(), pb.display().to_string());
    let map = [(la.as_str(), MIRROR_A), (lb.as_str(), MIRROR_B)];
    let sa = Source::dir(&pa);
    let sb = Source::dir(&pb);

    // The split-view evidence of A's checkpoint `i` against B's `j`.
    let split = async |i: usize, j: usize| {
        let Consistency::SplitView(mut ev) =
            check_consistency(&log_key(), (sa.label(), &open(&na[i])), &sb, &open(&nb[j]))
                .await
                .unwrap()
        else {
            panic!("checkpoints {i} and {j} are consistent")
        };
        fix_sources(&mut ev, &map);
        serde_json::to_value(&*ev).unwrap()
    };

    // Split view, different sizes.
    let v = split(1, 1).await;
    push(
        "split-view-fork",
        "the log signed a tree of 20 and a tree of 30 whose first 20 entries differ",
        &v,
        "split-view",
    );
    let mut consistent = v.clone();
    consistent["implied_root"] = json!(open(&na[1]).checkpoint.root.to_hex());
    push(
        "not-proven-implied-root-is-the-first-root",
        "implied_root equal to the first root: the trees are consistent",
        &consistent,
        "not-proven",
    );
    let mut bad_proof = v.clone();
    bad_proof["consistency_proof"][0] = json!("00".repeat(32));
    push(
        "not-proven-bad-consistency-proof",
        "the proof does not link implied_root to the second root",
        &bad_proof,
        "not-proven",
    );
    let mut short = v.clone();
    short["implied_root"] = json!("abcd");
    push(
        "malformed-implied-root",
        "implied_root is not 64 hex digits",
        &short,
        "malformed",
    );
    let mut upper = v.clone();
    upper["implied_root"] = json!(v["implied_root"].as_str().unwrap().to_uppercase());
    push(
        "malformed-upper-case-hash",
        "implied_root in upper-case hex: hashes are lower-case hex",
        &upper,
        "malformed",
    );
    let mut both = short.clone();
    let note = both["second"]["note"].as_str().unwrap().to_owned();
    both["second"]["note"] = json!(
        note.replacen("\n20\n", "\n21\n", 1)
            .replacen("\n30\n", "\n31\n", 1)
    );
    push(
        "malformed-before-bad-checkpoint",
        "implied_root is not 64 hex digits and the second checkpoint was altered: syntax is checked before any checkpoint is opened",
        &both,
        "malformed",
    );
    let mut no_root = v.clone();
    no_root.as_object_mut().unwrap().remove("implied_root");
    no_root.as_object_mut().unwrap().remove("consistency_proof");
    push(
        "not-proven-sizes-differ-without-implied-root",
        "checkpoints of sizes 20 and 30 without implied_root and consistency_proof: well-formed, proves nothing",
        &no_root,
        "not-proven",
    );

    // Split view, same size.
    let v = split(0, 0).await;
    push(
        "split-view-same-size",
        "two different roots signed for tree size 5",
        &v,
        "split-view",
    );
    let mut same = v.clone();
    same["second"] = same["first"].clone();
    push(
        "not-proven-same-checkpoint-twice",
        "the same checkpoint twice",
        &same,
        "not-proven",
    );
    let mut unsigned = v.clone();
    let note = unsigned["second"]["note"].as_str().unwrap().to_owned();
    unsigned["second"]["note"] = json!(note.replacen("\n5\n", "\n6\n", 1));
    push(
        "bad-checkpoint-altered-size",
        "a checkpoint whose text was altered after signing",
        &unsigned,
        "bad-checkpoint",
    );
    let mut fmt = v.clone();
    fmt["format"] = json!("tallyboard-evidence/v0");
    push("malformed-format", "an unknown format", &fmt, "malformed");

    // A log entry with its inclusion proof.
    {
        let cp = open(&na[1]);
        let mut cache = tallyboard_verify::source::TileCache::new();
        let proof = sa
            .read_tiles(&mut cache, 20, cp.checkpoint.root, |r| {
                tallyboard_core::merkle::prove_inclusion(20, 13, r)
            })
            .await
            .unwrap();
        let mut ev = Evidence::log_entry(
            &log_key(),
            sa.label(),
            &cp,
            13,
            &entry(13, "honest"),
            &proof,
            "the log holds entry 13".to_owned(),
        );
        fix_sources(&mut ev, &map);
        let v = serde_json::to_value(&ev).unwrap();
        push(
            "log-entry",
            "entry 13 of a log of 20, with its inclusion proof",
            &v,
            "log-entry",
        );
        let mut not_b64 = v.clone();
        not_b64["entry"] = json!("not base64!");
        push(
            "malformed-entry-not-base64",
            "the entry is not base64",
            &not_b64,
            "malformed",
        );
        let mut wrong = v.clone();
        wrong["index"] = json!(12);
        push(
            "not-proven-log-entry-wrong-index",
            "the proof does not put the entry at index 12",
            &wrong,
            "not-proven",
        );
    }

    // Totals: signed by the log key for the tree of 20, compared at the
    // checkpoint of 20 (no proof) and of 30 (consistency proof) of a log.
    {
        let t = tempfile::tempdir().unwrap();
        let nt = build_log(t.path(), &[20, 30], "totals");
        let pt = t.path().join("public");
        let lt = pt.display().to_string();
        let st = Source::dir(&pt);
        let (c20, c30) = (open(&nt[0]), open(&nt[1]));
        let body = |root: tallyboard_core::Hash| tallyboard_core::TotalsBody {
            election: "general-2026".into(),
            checkpoint: tallyboard_core::totals::CheckpointRef {
                origin: log_key().name().to_owned(),
                size: 20,
                root,
            },
            rows: vec![tallyboard_core::totals::TotalsRow {
                contest: "mayor".into(),
                region: None,
                choices: [("alice".to_owned(), 1500u64), ("bob".to_owned(), 700)]
                    .into_iter()
                    .collect(),
                blank: 10,
                invalid: 5,
                ballots_cast: 2215,
                registered: 4000,
                units_reporting: 3,
                units_expected: 3,
            }],
        };
        let signed = body(c20.checkpoint.root).sign(log_signer().secret());
        let figure = |published: u64, recomputed: u64| {
            vec![tallyboard_verify::evidence::TotalsFigure {
                contest: "mayor".into(),
                region: None,
                figure: "choice alice".into(),
                published: Some(published),
                recomputed: Some(recomputed),
            }]
        };
        let mut cache = tallyboard_verify::source::TileCache::new();
        let (implied, proof) = tallyboard_verify::follow::implied_root(&st, &mut cache, &c30, 20)
            .await
            .unwrap();
        let mut ev = Evidence::totals(
            &log_key(),
            (st.label(), &c30),
            st.label(),
            signed.as_bytes(),
            (implied, &proof),
            figure(1500, 500),
            "alice has 1000 votes too many".to_owned(),
        );
        fix_sources(&mut ev, &[(lt.as_str(), MIRROR_A)]);
        let v = serde_json::to_value(&ev).unwrap();
        push(
            "totals-mismatch",
            "totals signed by the log key for the tree of 20, which the checkpoint of 30 extends (consistency proof), publish 1500 votes for alice where 500 were recomputed",
            &v,
            "totals-mismatch",
        );
        let mut wrong_figure = v.clone();
        wrong_figure["differences"][0]["published"] = json!(1400);
        push(
            "not-proven-totals-figure-not-published",
            "the file says 1400 was published, the signed totals say 1500",
            &wrong_figure,
            "not-proven",
        );
        let mut equal = v.clone();
        equal["differences"][0]["recomputed"] = json!(1500);
        push(
            "not-proven-totals-figures-equal",
            "the published and recomputed figures are equal",
            &equal,
            "not-proven",
        );
        let mut bad_proof = v.clone();
        bad_proof["consistency_proof"][0] = json!("00".repeat(32));
        push(
            "not-proven-totals-bad-consistency-proof",
            "the consistency proof does not link the totals' size to the checkpoint",
            &bad_proof,
            "not-proven",
        );
        let mut ev = Evidence::totals(
            &log_key(),
            (st.label(), &c20),
            st.label(),
            body(tallyboard_core::Hash([0x5a; 32]))
                .sign(log_signer().secret())
                .as_bytes(),
            (c20.checkpoint.root, &[]),
            Vec::new(),
            "totals for a root the log does not have".to_owned(),
        );
        fix_sources(&mut ev, &[(lt.as_str(), MIRROR_A)]);
        push(
            "totals-unbound",
            "totals signed by the log key for size 20 with a root that is not the root the checkpoint of 20 gives",
            &serde_json::to_value(&ev).unwrap(),
            "totals-unbound",
        );
        let mut forged = v.clone();
        {
            use base64::Engine as _;
            let e = base64::engine::general_purpose::STANDARD;
            let mut raw = e.decode(forged["totals"].as_str().unwrap()).unwrap();
            let n = raw.len();
            raw[n - 1] ^= 1;
            forged["totals"] = json!(e.encode(raw));
        }
        push(
            "not-proven-totals-bad-signature",
            "the totals' signature does not verify under the log key",
            &forged,
            "not-proven",
        );
    }

    // Bad data: a tampered entry in a bundle (log of 20 in a copy of A).
    let c = tempfile::tempdir().unwrap();
    copy_dir(&pa, &c.path().join("public"));
    let pc = c.path().join("public");
    let lc = pc.display().to_string();
    let bundle = pc.join("tile/entries/000.p/20");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let needle = b"entry 7 honest";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    bytes[at + 6] = b'8';
    std::fs::write(&bundle, &bytes).unwrap();
    let mut ev = follow_err(&Source::dir(&pc), &Trusted::empty(), &na[1]).await;
    fix_sources(&mut ev, &[(lc.as_str(), MIRROR_A)]);
    let v = serde_json::to_value(&ev).unwrap();
    push(
        "bad-data-tampered-entry",
        "entry 7 of the bundle was altered: it no longer hashes to the level-0 tile the checkpoint commits to",
        &v,
        "source-bad-data",
    );
    let mut truncated = v.clone();
    {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let raw = e
            .decode(truncated["served"]["data"].as_str().unwrap())
            .unwrap();
        truncated["served"]["data"] = json!(e.encode(&raw[..raw.len() - 1]));
    }
    push(
        "bad-data-truncated-bundle",
        "a bundle that ends inside its last entry",
        &truncated,
        "source-bad-data",
    );
    let mut no_tiles = v.clone();
    no_tiles["tiles"] = json!([]);
    push(
        "not-proven-missing-tiles",
        "a well-formed altered bundle without the tiles that show what it should hash to",
        &no_tiles,
        "not-proven",
    );
    let mut twice = v.clone();
    let first_tile = twice["tiles"][0].clone();
    twice["tiles"].as_array_mut().unwrap().push(first_tile);
    push(
        "malformed-tile-twice",
        "the same tile path twice in tiles",
        &twice,
        "malformed",
    );
    let mut not_path = v.clone();
    not_path["served"]["path"] = json!("tile/entries/0.p/20");
    push(
        "malformed-served-path",
        "served.path is not a canonical tile or bundle path (index not three digits)",
        &not_path,
        "malformed",
    );
    let mut outside = v.clone();
    outside["served"]["path"] = json!("tile/entries/000.p/21");
    push(
        "not-proven-path-outside-tree",
        "a bundle width the checkpoint's tree does not have",
        &outside,
        "not-proven",
    );

    // Bad data: a tile (level-0 tile altered consistently with its bundle).
    let d = tempfile::tempdir().unwrap();
    copy_dir(&pa, &d.path().join("public"));
    let pd = d.path().join("public");
    let ld = pd.display().to_string();
    let bpath = pd.join("tile/entries/000.p/20");
    let mut entries =
        tallyboard_core::tile::EntryBundle::from_bytes(&std::fs::read(&bpath).unwrap(), 20)
            .unwrap()
            .entries()
            .to_vec();
    entries[2] = b"forged entry".to_vec();
    let nb2 = tallyboard_core::tile::EntryBundle::new(entries).unwrap();
    std::fs::write(&bpath, nb2.to_bytes()).unwrap();
    std::fs::write(
        pd.join("tile/0/000.p/20"),
        tallyboard_core::tile::HashTile::new(nb2.leaf_hashes())
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    let mut ev = follow_err(&Source::dir(&pd), &Trusted::empty(), &na[1]).await;
    fix_sources(&mut ev, &[(ld.as_str(), MIRROR_A)]);
    let v = serde_json::to_value(&ev).unwrap();
    push(
        "bad-data-tile",
        "a level-0 tile that does not hash to the checkpoint's root",
        &v,
        "source-bad-data",
    );

    // The tile check (spec/verify.md §2.2), in copies of A (sizes 5, 20).
    let copy_of_a = || {
        let e = tempfile::tempdir().unwrap();
        copy_dir(&pa, &e.path().join("public"));
        let pe = e.path().join("public");
        (e, pe)
    };
    let flip = |file: &std::path::Path, at: usize| {
        let mut b = std::fs::read(file).unwrap();
        b[at] ^= 1;
        std::fs::write(file, &b).unwrap();
    };
    // A current tile altered alone (its bundle honest).
    let (_e, pe) = copy_of_a();
    flip(&pe.join("tile/0/000.p/20"), 32 * 11 + 3);
    let mut ev = tile_fault(&Source::dir(&pe), &na[1], &[]).await;
    fix_sources(&mut ev, &[(pe.display().to_string().as_str(), MIRROR_A)]);
    push(
        "bad-data-altered-tile",
        "hash 11 of the level-0 partial tile was altered while the bundle is honest: the tile does not hash to the checkpoint's root",
        &serde_json::to_value(&ev).unwrap(),
        "source-bad-data",
    );
    // An older partial tile (of the tree of 5) altered.
    let (_e, pe) = copy_of_a();
    flip(&pe.join("tile/0/000.p/5"), 32 * 4 + 9);
    let mut ev = tile_fault(&Source::dir(&pe), &na[1], &[5]).await;
    fix_sources(&mut ev, &[(pe.display().to_string().as_str(), MIRROR_A)]);
    let v = serde_json::to_value(&ev).unwrap();
    push(
        "bad-data-older-partial-tile",
        "the partial tile kept for the checkpoint of size 5 is not the prefix of the level-0 tile of the tree of 20",
        &v,
        "source-bad-data",
    );
    let mut honest = v.clone();
    {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let good = std::fs::read(pa.join("tile/0/000.p/5")).unwrap();
        honest["served"]["data"] = json!(e.encode(good));
    }
    push(
        "not-proven-older-partial-tile-is-a-prefix",
        "an older partial tile that is the prefix of the tile the checkpoint commits to",
        &honest,
        "not-proven",
    );
    let mut wider = v.clone();
    wider["served"]["path"] = json!("tile/0/000.p/21");
    push(
        "not-proven-older-partial-tile-wider",
        "a partial tile wider than the tree's tile at its index is not an older partial tile",
        &wider,
        "not-proven",
    );
    // An older partial bundle (of the tree of 5) with an entry replaced.
    let (_e, pe) = copy_of_a();
    let bpath = pe.join("tile/entries/000.p/5");
    let mut entries =
        tallyboard_core::tile::EntryBundle::from_bytes(&std::fs::read(&bpath).unwrap(), 5)
            .unwrap()
            .entries()
            .to_vec();
    entries[3] = b"entry 3 rewritten".to_vec();
    std::fs::write(
        &bpath,
        tallyboard_core::tile::EntryBundle::new(entries)
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    let mut ev = tile_fault(&Source::dir(&pe), &na[1], &[5]).await;
    fix_sources(&mut ev, &[(pe.display().to_string().as_str(), MIRROR_A)]);
    push(
        "bad-data-older-partial-bundle",
        "entry 3 of the partial bundle kept for the checkpoint of size 5 differs from the entry the tree of 20 holds",
        &serde_json::to_value(&ev).unwrap(),
        "source-bad-data",
    );
    out
}

fn outcome(v: &Value) -> String {
    let ev: Evidence = match serde_json::from_value::<Evidence>(v["evidence"].clone()) {
        Ok(e) => match Evidence::from_json(&e.to_json()) {
            Ok(e) => e,
            Err(e) => return e.code().to_owned(),
        },
        Err(_) => return "malformed".to_owned(),
    };
    let key = tallyboard_core::note::VerifierKey::parse(v["log_key"].as_str().unwrap()).unwrap();
    match check(&ev, &key) {
        Ok(p) => p.code.to_owned(),
        Err(e) => e.code().to_owned(),
    }
}

#[tokio::test]
async fn evidence_vectors() {
    let cases = cases().await;
    for (name, v) in &cases {
        assert_eq!(outcome(v), v["expect"].as_str().unwrap(), "{name}");
    }
    vectors::assert_no_drift(&vectors::sync(
        &["evidence"],
        cases.iter().map(|(n, v)| ("evidence", n.as_str(), v)),
    ));
}
