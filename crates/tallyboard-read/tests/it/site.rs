//! The static site, generated from the example election: the browser
//! verifier's contract (attributes, `<meta>`s, figures), the pages a
//! reader needs, the search index, and writing only what changed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use tallyboard_core::hash::Hash;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::tally::SignedTally;
use tallyboard_core::totals::{TotalsBody, TotalsBuilder};
use tallyboard_read::site::search::{normalise, shard_file};
use tallyboard_read::site::{
    MirrorInfo, Notice, Site, SiteConfig, SiteWriter, Status, UNITS_PER_PAGE,
};
use tallyboard_testkit::example::{
    Figures, manifest_bytes, scaled_example, sign_every_tally, signed_manifest,
};

struct Built {
    dir: tempfile::TempDir,
    manifest: Arc<Manifest>,
    totals: Arc<TotalsBody>,
    tallies: Vec<SignedTally>,
    site: Site,
    shards: u32,
}

fn totals_of(m: &Arc<Manifest>, tallies: &[SignedTally]) -> Arc<TotalsBody> {
    let mut b = TotalsBuilder::new(m.clone());
    for t in tallies {
        b.add(t.tally()).unwrap();
    }
    Arc::new(b.finish(&m.log.origin, tallies.len() as u64, Hash::sha256(b"root")))
}

/// Entries of each unit, `(leaf index, bytes)`, in log order.
fn by_unit(m: &Manifest, tallies: &[SignedTally]) -> BTreeMap<usize, Vec<(u64, Vec<u8>)>> {
    let mut out: BTreeMap<usize, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
    for (i, t) in tallies.iter().enumerate() {
        let u = m.unit_index(&t.tally().unit).unwrap();
        out.entry(u).or_default().push((i as u64, t.to_bytes()));
    }
    out
}

/// Writes the whole site of the example election, every unit reporting
/// (votes 100 + unit number, so that figures reach the thousands).
fn build(config: SiteConfig, st_extra: impl FnOnce(&mut Status)) -> Built {
    let signed = signed_manifest();
    let manifest = Arc::new(signed.manifest().clone());
    let tallies = sign_every_tally(&manifest, |u, c, ck| {
        let n: u64 =
            u.id.bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| u64::from(b - b'0'))
                .sum();
        Figures::base(c, ck, 900 + 37 * n)
    });
    let totals = totals_of(&manifest, &tallies);
    let site = Site::new(manifest.clone(), &manifest_bytes(), config);
    let dir = tempfile::tempdir().unwrap();
    let mut w = SiteWriter::new(dir.path());
    let shards = site.write_fixed(&mut w).unwrap();
    let mut st = Status {
        totals: Some(totals.clone()),
        updated_at: 1_778_450_000,
        ..Status::default()
    };
    st_extra(&mut st);
    site.write_results(&mut w, &st, shards).unwrap();
    let units = by_unit(&manifest, &tallies);
    for ui in 0..manifest.units.len() {
        site.write_unit(&mut w, ui, units.get(&ui).map_or(&[][..], Vec::as_slice))
            .unwrap();
    }
    w.flush().unwrap();
    Built {
        dir,
        manifest,
        totals,
        tallies,
        site,
        shards,
    }
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn html_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html") {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn sep(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn every_page_follows_the_verifiers_contract() {
    let b = build(
        SiteConfig {
            authority: Some("EXAMPLE-ONLY.authority+abcd1234+AQID".into()),
            mirror: None,
        },
        |_| {},
    );
    let pages = html_files(b.dir.path());
    assert!(
        pages.len() > b.manifest.units.len() + b.manifest.regions.len(),
        "{pages:?}"
    );
    let mh = Hash::sha256(&manifest_bytes()).to_hex();
    for p in &pages {
        let page = read(b.dir.path(), p);
        assert!(
            page.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{p}"
        );
        assert!(page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39;;"), "{p}");
        assert!(
            page.contains(
                "<meta name=\"tb-authority\" content=\"EXAMPLE-ONLY.authority+abcd1234+AQID\">"
            ),
            "{p}"
        );
        assert!(
            page.contains(&format!(
                "<meta name=\"tb-manifest-sha256\" content=\"{mh}\">"
            )),
            "{p}"
        );
        assert!(
            page.contains(&format!(
                "<meta name=\"tb-origin\" content=\"{}\">",
                b.manifest.log.origin
            )),
            "{p}"
        );
        assert!(
            page.contains("<div id=\"tb-check\" role=\"status\" aria-live=\"polite\"></div>"),
            "{p}"
        );
        assert!(
            page.contains("<script type=\"module\" src=\"/site/verify.js\"></script>"),
            "{p}"
        );
        assert!(page.contains("<body data-tb-page=\""), "{p}");
        // The site's own files only; no inline script or style.
        assert!(!page.contains("style="), "{p}");
        assert!(!page.contains("<style"), "{p}");
        assert!(
            !page.contains("<script>") && !page.contains("<script type=\"module\">"),
            "{p}"
        );
        assert!(
            !page.contains("src=\"http") && !page.contains("href=\"http"),
            "{p}"
        );
        // The check box, with the command to copy.
        assert!(page.contains("How to check this yourself"), "{p}");
        assert!(
            page.contains(
                "tallyboard verify --authority &#39;EXAMPLE-ONLY.authority+abcd1234+AQID&#39;"
            ),
            "{p}"
        );
        assert!(page.contains(&mh), "{p}");
        // One h1; tables have headers with a scope.
        assert_eq!(page.matches("<h1>").count(), 1, "{p}");
        if page.contains("<table") {
            assert!(page.contains("<th scope=\"col\">"), "{p}");
            assert!(!page.contains("<th>"), "{p}");
        }
    }
}

#[test]
fn the_front_page_shows_every_signed_figure_in_ballot_order() {
    let b = build(SiteConfig::default(), |_| {});
    let page = read(b.dir.path(), "index.html");
    assert!(page.contains("<body data-tb-page=\"front\">"));
    for contest in &b.manifest.contests {
        let row = b.totals.row(&contest.id, None).unwrap();
        let mut at = 0;
        for ch in &contest.choices {
            let want = format!(
                "data-tb-fig=\"{}|*|choice:{}\">{}<",
                contest.id,
                ch.id,
                sep(row.choices[&ch.id])
            );
            let pos = page.find(&want).unwrap_or_else(|| panic!("{want}\n{page}"));
            assert!(pos > at, "ballot order: {}", ch.id);
            at = pos;
        }
        for (field, v) in [
            ("blank", row.blank),
            ("invalid", row.invalid),
            ("ballots_cast", row.ballots_cast),
            ("registered", row.registered),
            ("units_reporting", row.units_reporting),
            ("units_expected", row.units_expected),
        ] {
            let want = format!("data-tb-fig=\"{}|*|{field}\">{}<", contest.id, sep(v));
            assert!(page.contains(&want), "{want}");
        }
        // The leader (the first choice has one vote more in every unit).
        let first = &contest.choices[0];
        assert!(
            page.contains(&format!(
                "<tr class=\"lead\"><th scope=\"row\">{} <strong class=\"mark\">(leading)</strong>",
                first.name
            )),
            "{}",
            contest.id
        );
    }
    assert!(page.contains("Provisional results"));
    for r in b.manifest.regions.iter().filter(|r| r.parent.is_none()) {
        assert!(
            page.contains(&format!("<a href=\"/regions/{}/\">", r.id)),
            "{}",
            r.id
        );
    }
    // Thousands separators appear (figures are in the thousands).
    assert!(
        page.contains(",") && page.contains("Last update: 2026-05-10T21:53:20Z"),
        "{page}"
    );
}

#[test]
fn certified_results_name_the_winner() {
    let b = build(SiteConfig::default(), |st| st.certified = true);
    let page = read(b.dir.path(), "index.html");
    assert!(page.contains("(winner)"));
    assert!(!page.contains("(leading)"));
    assert!(page.contains("has certified these results"));
}

#[test]
fn region_pages_go_down_the_hierarchy() {
    let b = build(SiteConfig::default(), |_| {});
    for (i, r) in b.manifest.regions.iter().enumerate() {
        let page = read(b.dir.path(), &format!("regions/{}/index.html", r.id));
        assert!(page.contains(&format!(
            "<body data-tb-page=\"region\" data-tb-region=\"{}\">",
            r.id
        )));
        for row in b
            .totals
            .rows
            .iter()
            .filter(|x| x.region.as_deref() == Some(r.id.as_str()))
        {
            let want = format!(
                "data-tb-fig=\"{}|{}|ballots_cast\">{}<",
                row.contest,
                r.id,
                sep(row.ballots_cast)
            );
            assert!(page.contains(&want), "{want}");
        }
        for child in b
            .manifest
            .regions
            .iter()
            .filter(|c| c.parent.as_deref() == Some(r.id.as_str()))
        {
            assert!(page.contains(&format!("<a href=\"/regions/{}/\">", child.id)));
        }
        for u in b.manifest.units.iter().filter(|u| u.region == r.id) {
            assert!(page.contains(&format!("<a href=\"/units/{}/\">", u.id)));
        }
        if let Some(p) = &r.parent {
            assert!(
                page.contains(&format!("<li><a href=\"/regions/{p}/\">")),
                "breadcrumb of {}",
                r.id
            );
        }
        let _ = i;
    }
}

#[test]
fn unit_pages_show_every_revision_with_its_signed_tally() {
    let b = build(SiteConfig::default(), |_| {});
    // A correction of the first tally.
    let first = &b.tallies[0];
    let key = tallyboard_testkit::example::centre_signer(
        &b.manifest.unit(&first.tally().unit).unwrap().centre,
    );
    let mut c = first
        .tally()
        .correction(first.leaf_hash(), "recount: 7 ballots on the wrong pile");
    let ch = c.choices.keys().next().unwrap().clone();
    *c.choices.get_mut(&ch).unwrap() -= 7;
    c.blank += 7;
    let fix = c.sign(key.secret());
    let ui = b.manifest.unit_index(&first.tally().unit).unwrap();
    let mut entries = by_unit(&b.manifest, &b.tallies).remove(&ui).unwrap();
    let fix_index = b.tallies.len() as u64;
    entries.push((fix_index, fix.to_bytes()));
    let mut w = SiteWriter::new(b.dir.path());
    b.site.write_unit(&mut w, ui, &entries).unwrap();
    w.flush().unwrap();
    let unit = &b.manifest.units[ui];
    let page = read(b.dir.path(), &format!("units/{}/index.html", unit.id));
    assert!(page.contains(&format!(
        "<body data-tb-page=\"unit\" data-tb-unit=\"{}\" data-tb-region=\"{}\">",
        unit.id, unit.region
    )));
    for (index, bytes) in &entries {
        let t = SignedTally::from_bytes(bytes).unwrap();
        assert!(page.contains(&format!(
            "data-tb-entry=\"{index}\" data-tb-leaf-hash=\"{}\"",
            t.leaf_hash().to_hex()
        )));
        let file = format!(
            "units/{}/{}-{}.cbor",
            unit.id,
            t.tally().revision,
            t.tally().contest
        );
        assert_eq!(
            std::fs::read(b.dir.path().join(&file)).unwrap(),
            *bytes,
            "{file}"
        );
        assert!(page.contains(&format!("href=\"/{file}\" download")));
        assert!(
            page.contains(&hex::encode(t.signature().0)),
            "signature shown"
        );
        assert!(page.contains(&t.tally().signer.to_hex()), "signer shown");
    }
    assert!(
        page.contains("Superseded by revision 2; not counted."),
        "{page}"
    );
    assert!(page.contains("recount: 7 ballots on the wrong pile"));
    assert!(page.contains(&format!(
        "data-tb-unitfig=\"{}|choice:{ch}\">{}<",
        first.tally().contest,
        sep(fix.tally().choices[&ch])
    )));
    let json: serde_json::Value =
        serde_json::from_str(&read(b.dir.path(), &format!("units/{}/unit.json", unit.id))).unwrap();
    let list = json["entries"].as_array().unwrap();
    let revs: Vec<(u64, bool)> = list
        .iter()
        .filter(|e| e["contest"] == first.tally().contest.as_str())
        .map(|e| {
            (
                e["revision"].as_u64().unwrap(),
                e["latest"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(revs, [(1, false), (2, true)]);
    // A unit without a tally has a page saying so.
    let quiet = b
        .manifest
        .units
        .iter()
        .position(|u| !b.tallies.iter().any(|t| t.tally().unit == u.id));
    if let Some(q) = quiet {
        let page = read(
            b.dir.path(),
            &format!("units/{}/index.html", b.manifest.units[q].id),
        );
        assert!(page.contains("No tally of this unit has been published yet."));
    }
}

#[test]
fn a_unit_is_found_through_the_search_index() {
    let b = build(SiteConfig::default(), |_| {});
    let page = read(b.dir.path(), "search.html");
    assert!(page.contains(&format!("data-tb-shards=\"{}\"", b.shards)));
    assert!(page.contains("<script type=\"module\" src=\"/site/search.js\"></script>"));
    assert!(page.contains("<label for=\"tb-q\">"));
    // Without JavaScript: the regions.
    assert!(page.contains("Search needs JavaScript"));
    for u in &b.manifest.units {
        for q in [u.id.to_lowercase(), u.name.to_uppercase()] {
            let key = normalise(&q);
            let shard: serde_json::Value =
                serde_json::from_str(&read(b.dir.path(), &shard_file(&key, b.shards))).unwrap();
            let found = shard[&key].as_array().unwrap_or_else(|| panic!("{q}"));
            assert!(
                found
                    .iter()
                    .any(|x| x[0] == u.id.as_str() && x[1] == u.name.as_str()),
                "{q}"
            );
        }
    }
    assert!(b.dir.path().join("site/search.js").is_file());
    assert!(b.dir.path().join("site/style.css").is_file());
}

#[test]
fn many_units_are_paged_and_shards_stay_small() {
    let signed = scaled_example(1200);
    let m = Arc::new(signed.manifest().clone());
    let site = Site::new(m.clone(), &signed.to_bytes(), SiteConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let mut w = SiteWriter::new(dir.path());
    let shards = site.write_fixed(&mut w).unwrap();
    assert!(shards >= 4, "{shards}");
    site.write_results(&mut w, &Status::default(), shards)
        .unwrap();
    let region = &m.units[0].region;
    let n = m.units.iter().filter(|u| &u.region == region).count();
    let pages = n.div_ceil(UNITS_PER_PAGE);
    assert!(pages >= 4);
    let first = read(dir.path(), &format!("regions/{region}/index.html"));
    assert!(first.contains(&format!("Page 1 of {pages}")));
    assert!(first.contains(&format!(
        "href=\"/regions/{region}/page-2.html\" rel=\"next\""
    )));
    assert!(first.contains("No results yet."));
    let last = read(dir.path(), &format!("regions/{region}/page-{pages}.html"));
    assert!(last.contains(&format!(
        "<a href=\"/units/{}/\">",
        m.units.last().unwrap().id
    )));
    for e in std::fs::read_dir(dir.path().join("search")).unwrap() {
        let len = e.unwrap().metadata().unwrap().len();
        assert!(len < 200_000, "{len}");
    }
}

#[test]
fn only_what_changed_is_rewritten() {
    let b = build(SiteConfig::default(), |_| {});
    let st = Status {
        totals: Some(b.totals.clone()),
        updated_at: 1_778_450_000,
        ..Status::default()
    };
    // A new writer (a restart): everything is compared, nothing written.
    let mut w = SiteWriter::new(b.dir.path());
    b.site.write_results(&mut w, &st, b.shards).unwrap();
    let units = by_unit(&b.manifest, &b.tallies);
    for (ui, e) in &units {
        b.site.write_unit(&mut w, *ui, e).unwrap();
    }
    let c = w.take_counts();
    assert_eq!(c.written, 0, "{c:?}");
    assert!(c.unchanged > units.len());
    // Only the time changed: the front page alone.
    let later = Status {
        updated_at: st.updated_at + 60,
        ..st.clone()
    };
    b.site.write_results(&mut w, &later, b.shards).unwrap();
    assert_eq!(w.take_counts().written, 1);
    // Nothing changed at all.
    b.site.write_results(&mut w, &later, b.shards).unwrap();
    assert_eq!(w.take_counts().written, 0);
}

#[test]
fn a_mirror_says_what_it_is_and_why_it_stopped() {
    let b = build(
        SiteConfig {
            authority: None,
            mirror: Some(MirrorInfo {
                name: "mirror.example.org".into(),
            }),
        },
        |st| {
            st.checked_at = Some(1_778_450_100);
            st.notice = Some(Notice {
                text: "This mirror stopped following the log <x>: two checkpoints".into(),
                evidence: Some("split-view-1.json".into()),
            });
        },
    );
    let front = read(b.dir.path(), "index.html");
    assert!(front.contains(&format!(
        "Verified copy of {}, checked at 2026-05-10T21:55:00Z by mirror.example.org.",
        b.manifest.log.origin
    )));
    assert!(front.contains("<div role=\"alert\" class=\"notice\">"));
    assert!(front.contains("the log &lt;x&gt;"), "escaped");
    assert!(front.contains("<a href=\"/evidence/split-view-1.json\">Evidence</a>"));
    // Without the authority's key string, its key in hex.
    assert!(front.contains(&format!("content=\"{}\"", b.manifest.authority.to_hex())));
    let unit = read(
        b.dir.path(),
        &format!("units/{}/index.html", b.manifest.units[0].id),
    );
    assert!(unit.contains(&format!(
        "Verified copy of {} by mirror.example.org.",
        b.manifest.log.origin
    )));
    assert!(
        !unit.contains("checked at"),
        "unit pages do not change at every sync"
    );
}
