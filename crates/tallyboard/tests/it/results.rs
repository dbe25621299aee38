//! The verified results (issue 13): `verify` prints them and its JSON
//! report carries them (valid against spec/results.schema.json), equal to
//! the signed totals and to figures recomputed here from the entries;
//! `export` writes csv, json and NIST ERR (valid against the NIST schema),
//! byte for byte the same on every run, and refuses a log whose published
//! totals are inflated.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tallyboard_core::SignedTally;
use tallyboard_core::totals::SignedTotals;

use tallyboard_testkit::results::{levels, sums};

use crate::common::{repo_root, tallyboard_in};
use crate::verify::{Outcome, authority, build_source, example_tallies, manifest, verify};

/// Validates `instance` against the JSON Schema `schema` (optionally one
/// of its `$defs`) with Python's `jsonschema`, an implementation
/// independent of this project; scripts/test.sh installs it.
fn validate(schema: &Path, def: Option<&str>, instance: &Path) {
    let script = r##"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit("Python jsonschema is missing: run scripts/test.sh (scripts/install-jsonschema.sh) first")
schema = json.load(open(sys.argv[1]))
if sys.argv[2]:
    schema = dict(schema, **{"$ref": "#/$defs/" + sys.argv[2]})
    for k in ("required", "properties", "type"):
        schema.pop(k, None)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema).iter_errors(json.load(open(sys.argv[3]))), key=lambda e: list(e.path))
for e in errors[:10]:
    print(list(e.absolute_path), e.message[:300])
sys.exit(1 if errors else 0)
"##;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(schema)
        .arg(def.unwrap_or(""))
        .arg(instance)
        .output()
        .expect("python3 (scripts/test.sh installs it with jsonschema)");
    assert!(
        out.status.success(),
        "{} is not valid against {}: {}{}",
        instance.display(),
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn export(
    work: &Path,
    source: &Path,
    format: &str,
    out: &Path,
    extra: &[&str],
) -> crate::common::Run {
    let mut args = vec![
        "export",
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
        "--authority",
        Box::leak(authority().into_boxed_str()),
        "--source",
        source.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    tallyboard_in(work, &args)
}

#[test]
fn verify_prints_and_reports_the_results_equal_to_the_entries_and_the_signed_totals() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let entries = example_tallies(w);
    let src = build_source(&w.join("clean"), &entries, |_| {});
    let o: Outcome = verify(w, &[&src], &["--region", "north-hills", "--unit", "P-001"]);
    assert_eq!(o.status, 0, "{}", o.stdout);
    // The JSON report is valid against the schema in spec/.
    validate(
        &repo_root().join("spec/results.schema.json"),
        None,
        &w.join("report.json"),
    );
    let results = &o.json["results"];
    assert_eq!(results["status"], "provisional");
    assert_eq!(results["checkpoint"]["size"], entries.len() as u64);
    assert_eq!(results["checkpoint"]["root"], o.json["log"]["root"]);
    // Every level equals the sums recomputed here and the signed totals.
    let m = manifest();
    let tallies: Vec<tallyboard_core::Tally> = entries
        .iter()
        .map(|e| {
            SignedTally::from_bytes_in(e, m.manifest())
                .unwrap()
                .tally()
                .clone()
        })
        .collect();
    let want = sums(m.manifest(), &tallies);
    let signed = SignedTotals::from_bytes(
        &std::fs::read(src.join("totals")).unwrap(),
        &m.manifest().log.key,
    )
    .unwrap();
    let mut n = 0;
    for (contest, region, got) in levels(results) {
        let key = (contest.clone(), region.clone());
        assert_eq!(got, want[&key], "{key:?}");
        let row = signed.totals().row(&contest, region.as_deref()).unwrap();
        for (k, v) in &got {
            if let Some(c) = k.strip_prefix("choice ") {
                assert_eq!(row.choices[c], *v, "{key:?} {k}");
            }
        }
        assert_eq!(row.ballots_cast, got["ballots_cast"]);
        assert_eq!(row.units_reporting, got["units_reporting"]);
        n += 1;
    }
    assert_eq!(n, signed.totals().rows.len());
    // The text: the results after the verdict, with thousands separators,
    // the region and the unit asked for.
    assert!(
        o.stdout.starts_with("VERDICT: ALL CHECKS PASSED"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("PROVISIONAL RESULTS"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("region Hills District (north > north-hills)"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Unit P-001, "), "{}", o.stdout);
    let mayor = &results["contests"][0]["election"];
    let leader = mayor["outlook"]["leader"].as_str().unwrap();
    let name = mayor["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["choice"] == leader)
        .unwrap()["name"]
        .as_str()
        .unwrap();
    assert!(
        o.stdout.contains(&format!("Leader: {name}")),
        "{}",
        o.stdout
    );
    let cast = mayor["ballots_cast"].as_u64().unwrap();
    assert!(cast >= 1000, "{cast}");
    let grouped = format!("{},{:03}", cast / 1000, cast % 1000);
    assert!(o.stdout.contains(&grouped), "{grouped}: {}", o.stdout);
}

#[test]
fn exports_are_valid_reproducible_and_refused_on_inflated_totals() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let entries = example_tallies(w);
    let src = build_source(&w.join("clean"), &entries, |_| {});
    // Two runs of each format and level: the same bytes.
    for (format, level) in [
        ("csv", "unit"),
        ("csv", "region"),
        ("json", "unit"),
        ("json", "region"),
        ("err", "unit"),
        ("err", "region"),
    ] {
        let a = w.join(format!("a.{format}.{level}"));
        let b = w.join(format!("b.{format}.{level}"));
        for out in [&a, &b] {
            let r = export(w, &src, format, out, &["--level", level, "--quiet"]);
            assert_eq!(r.status, 0, "{format} {level}: {}{}", r.stdout, r.stderr);
        }
        let (a_bytes, b_bytes) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(
            a_bytes, b_bytes,
            "{format} {level} differs between two runs"
        );
        let text = String::from_utf8(a_bytes).unwrap();
        // Each names the origin, the checkpoint and the version.
        assert!(
            text.contains("log.example.invalid/EXAMPLE-ONLY-2026-municipal"),
            "{format}"
        );
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{format}");
        match format {
            "err" => validate(
                &repo_root().join("spec/nist-err/NIST_V2_election_results_reporting.json"),
                None,
                &a,
            ),
            "json" => validate(
                &repo_root().join("spec/results.schema.json"),
                Some("results"),
                &{
                    let v: Value = serde_json::from_str(&text).unwrap();
                    let p = w.join("results-only.json");
                    std::fs::write(&p, serde_json::to_vec(&v["results"]).unwrap()).unwrap();
                    p
                },
            ),
            _ => {}
        }
    }
    // The unit CSV: one row per unit, contest and choice plus four, with
    // the figures of the entries.
    let csv = std::fs::read_to_string(w.join("a.csv.unit")).unwrap();
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next().unwrap(),
        "county,precinct,office,district,party,candidate,votes,unit_id,region_id,region_path,contest_id,choice_id,revision,counted_at,leaf_index"
    );
    let m = manifest();
    let expected_rows: usize = entries
        .iter()
        .map(|e| {
            let t = SignedTally::from_bytes_in(e, m.manifest()).unwrap();
            t.tally().choices.len() + 4
        })
        .sum();
    assert_eq!(lines.count(), expected_rows);

    // Inflated totals: refused, nothing written; with --allow-findings
    // written and saying so; the text shows both values.
    let bad = build_source(&w.join("inflated"), &entries, |t| {
        let row = t.rows.iter_mut().find(|r| r.region.is_none()).unwrap();
        let first = row.choices.keys().next().unwrap().clone();
        *row.choices.get_mut(&first).unwrap() += 5000;
    });
    let out = w.join("refused.csv");
    let r = export(w, &bad, "csv", &out, &[]);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    assert!(!out.exists(), "an export of inflated totals was written");
    assert!(r.stdout.contains("PUBLISHED"), "{}", r.stdout);
    let r = export(w, &bad, "csv", &out, &["--allow-findings"]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("FINDINGS, exported on request despite them: totals-mismatch"),
        "{text}"
    );
}

/// The origin and every mirror publish the results files next to the
/// tiles, equal everywhere, and `/totals.json` carries the signed totals
/// a script can check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_and_its_mirrors_publish_the_results_files() {
    use crate::mirror_fixtures::{
        all_tallies, get, log_verifier, open_mirror, serve_mirror, start_origin, submit,
    };
    use base64::Engine as _;
    let origin = start_origin().await;
    let dir = tempfile::tempdir().unwrap();
    let m = open_mirror(&origin.running.url, dir.path(), 0);
    let http = serve_mirror(&m).await;
    let tallies = all_tallies(5);
    let half = tallies.len() / 2;
    let origin_public = origin.dir.path().join("public");
    let mut before = None;
    for round in [&tallies[..half], &tallies[half..]] {
        submit(&origin.running.url, round).await;
        assert!(matches!(
            m.sync_once().await,
            tallyboard_mirror::Outcome::Synced { .. }
        ));
        // The results files are written by the site's background writer.
        let site = origin.server.read_api().site().unwrap().clone();
        let done = tokio::task::spawn_blocking(move || site.wait(Duration::from_secs(60)))
            .await
            .unwrap();
        assert!(done, "the origin's results files were written");
        let json = std::fs::read(origin_public.join("results.json")).unwrap();
        if let Some(b) = &before {
            assert_ne!(b, &json, "results.json follows the checkpoint");
        }
        before = Some(json);
    }
    let sent = tallies.len() as u64;
    for public in [origin_public.as_path(), m.public_dir()] {
        let r: Value =
            serde_json::from_slice(&std::fs::read(public.join("results.json")).unwrap()).unwrap();
        assert_eq!(r["checkpoint"]["size"], sent, "{}", public.display());
        let csv = std::fs::read_to_string(public.join("results.csv")).unwrap();
        assert!(
            csv.contains(&format!("# checkpoint: size {sent} ")),
            "{csv}"
        );
        validate(
            &repo_root().join("spec/nist-err/NIST_V2_election_results_reporting.json"),
            None,
            &public.join("results.err.json"),
        );
        validate(
            &repo_root().join("spec/results.schema.json"),
            Some("results"),
            &public.join("results.json"),
        );
    }
    assert_eq!(
        std::fs::read(origin_public.join("results.json")).unwrap(),
        std::fs::read(m.public_dir().join("results.json")).unwrap(),
        "the mirror publishes the origin's results"
    );
    // /totals.json: the signed bytes are the signed totals, which verify
    // under the log key; the figures are theirs.
    for url in [&origin.running.url, &http.url] {
        let (s, body) = get(&format!("{url}/totals.json")).await;
        assert_eq!(s, 200);
        let v: Value = serde_json::from_slice(&body).unwrap();
        let signed = base64::engine::general_purpose::STANDARD
            .decode(v["signed_base64"].as_str().unwrap())
            .unwrap();
        let (_, raw) = get(&format!("{url}/totals")).await;
        assert_eq!(signed, raw);
        let t = SignedTotals::from_bytes(&signed, log_verifier().public_key()).unwrap();
        assert_eq!(v["checkpoint"]["size"], t.totals().checkpoint.size);
        assert_eq!(v["rows"].as_array().unwrap().len(), t.totals().rows.len());
        assert_eq!(v["signature_context"], "tallyboard/v1/totals\n");
        assert!(
            v["checkpoint"]["signed"]
                .as_str()
                .unwrap()
                .contains(&format!("\n{sent}\n"))
        );
    }
    assert!(
        std::fs::read(origin_public.join("totals.json"))
            .unwrap()
            .len()
            > 100
    );
}
