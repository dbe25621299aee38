//! The results pages check themselves in a real browser: `tallyboard
//! exercise --data DIR` leaves the origin's `public/`; nginx serves a copy
//! of it as a static site (with the pages' CSP and the read paths' CORS
//! header); headless Chromium (Debian's `chromium`, installed by
//! `scripts/install-chromium.sh`, which `scripts/test.sh` runs) loads the
//! front page, a region page and a unit page and runs their `verify.js`.
//! On the clean copy every figure must be marked verified and every unit
//! tally proven; after a figure on a page, the totals, a tile or an entry
//! bundle is altered on disk, the page must show the failure. Screenshots
//! at 1280 and 390 pixels wide go to `target/screenshots/`; the test fails
//! on horizontal overflow. The verification times Chromium measured are
//! written to `target/screenshots/timings.txt`.
//!
//! Driven over the DevTools protocol ([`crate::cdp`]): the paper page
//! reads a 150-dpi scan of a printed sheet of the night (through its real
//! file input) and its pasted codes, and says the paper matches; a forged
//! sheet and altered codes are refused in words. The front page checks
//! `results.json` against the signed totals (an altered figure is named).
//! The search page finds a unit by its id and by its name and its result
//! leads to the unit page.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cdp::{Browser, HEADLESS};
use crate::common::{copy_dir, repo_root, tallyboard_in};
use tallyboard_core::tile::{BundleId, EntryBundle, TileId};
use tallyboard_testkit::nginx::{Nginx, nginx_binary, start_nginx_with};
use tallyboard_testkit::process::run_with_timeout;

/// The pages' `Content-Security-Policy` and the read paths' CORS header,
/// as a static mirror's web server sends them (README, "Serving a static
/// copy").
fn nginx_headers() -> String {
    format!(
        "add_header Content-Security-Policy \"{}\" always; add_header Access-Control-Allow-Origin \"*\" always; index index.html;",
        tallyboard_http::CSP
    )
}

fn chromium() -> PathBuf {
    let find = || {
        ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = find() {
        return p;
    }
    let script = repo_root().join("scripts/install-chromium.sh");
    let ok = Command::new("bash")
        .arg(&script)
        .status()
        .is_ok_and(|s| s.success());
    match (ok, find()) {
        (true, Some(p)) => p,
        _ => panic!(
            "chromium is not installed and scripts/install-chromium.sh could not install it: run the tests with scripts/test.sh (as root on a fresh machine)"
        ),
    }
}

fn screenshots_dir() -> PathBuf {
    let d = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Headless Chromium on `url` with the flags RECIPES lists; `extra` adds
/// `--dump-dom` or `--screenshot=...`. Returns stdout.
fn run_chromium(bin: &Path, url: &str, width: u32, extra: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let size = format!("--window-size={width},900");
    let user = format!("--user-data-dir={}", profile.path().display());
    let mut args: Vec<&str> = HEADLESS.to_vec();
    args.extend([
        "--enable-logging=stderr",
        "--virtual-time-budget=60000",
        &size,
        &user,
        extra,
        url,
    ]);
    let run = run_with_timeout(bin, &args, Duration::from_secs(120));
    assert_eq!(
        run.status,
        Some(0),
        "chromium on {url} failed: {}",
        run.stderr
    );
    if extra == "--dump-dom" && !run.stdout.contains("data-tb-done=\"1\"") {
        let console: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("CONSOLE"))
            .collect();
        eprintln!("chromium console on {url}:\n{}", console.join("\n"));
    }
    run.stdout
}

/// The page after its scripts ran.
fn dump_dom(bin: &Path, url: &str, width: u32) -> String {
    let dom = run_chromium(bin, &format!("{url}#tb-layout"), width, "--dump-dom");
    assert!(
        dom.contains("data-tb-done=\"1\""),
        "verify.js did not finish on {url}:\n{dom}"
    );
    dom
}

/// The opening tags of `dom` that carry attribute `attr`.
fn tags_with<'a>(dom: &'a str, attr: &str) -> Vec<&'a str> {
    dom.split('<')
        .filter_map(|t| t.split('>').next())
        .filter(|t| t.contains(&format!("{attr}=\"")))
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let k = format!(" {name}=\"");
    let start = tag.find(&k)? + k.len();
    tag[start..].split('"').next()
}

/// What the script reported on one page.
struct Verdict {
    verified: String,
    figures: usize,
    figures_ok: usize,
    figures_failed: usize,
    unit_figures: usize,
    unit_figures_ok: usize,
    unit_figures_failed: usize,
    check_ms: f64,
    dom: String,
}

fn verdict(dom: String) -> Verdict {
    let body = tags_with(&dom, "data-tb-verified");
    let body = body.first().copied().unwrap_or("");
    let count = |attr_name: &str, v: &str| {
        tags_with(&dom, attr_name)
            .iter()
            .filter(|t| attr(t, "data-tb-verdict") == Some(v))
            .count()
    };
    Verdict {
        verified: attr(body, "data-tb-verified").unwrap_or("").to_string(),
        figures: tags_with(&dom, "data-tb-fig").len(),
        figures_ok: count("data-tb-fig", "verified"),
        figures_failed: count("data-tb-fig", "failed"),
        unit_figures: tags_with(&dom, "data-tb-unitfig").len(),
        unit_figures_ok: count("data-tb-unitfig", "verified"),
        unit_figures_failed: count("data-tb-unitfig", "failed"),
        check_ms: attr(body, "data-tb-check-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN),
        dom,
    }
}

fn assert_no_overflow(dom: &str, url: &str, width: u32) {
    let html = tags_with(dom, "data-tb-scroll-width");
    let html = html.first().copied().unwrap_or("");
    let sw: u32 = attr(html, "data-tb-scroll-width")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no layout figures on {url}"));
    let iw: u32 = attr(html, "data-tb-inner-width")
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        sw <= iw,
        "{url} overflows horizontally at {width} px: scrollWidth {sw} > innerWidth {iw}"
    );
}

/// The pages the test loads, relative to the site root.
struct Pages {
    front: String,
    region: String,
    unit: String,
}

/// The site's front page, its first region page and the unit page of the
/// first unit it links, found through the pages' own links.
fn find_pages(public: &Path) -> Pages {
    let front = std::fs::read_to_string(public.join("index.html"))
        .expect("public/index.html: the site's front page");
    let link = |html: &str, marker: &str| -> Option<String> {
        html.split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains(marker))
            .map(|h| h.trim_start_matches('/').to_string())
    };
    let page_file = |p: &str| {
        let f = public.join(p);
        if p.is_empty() || p.ends_with('/') {
            f.join("index.html")
        } else {
            f
        }
    };
    let region = link(&front, "regions/").expect("a region link on the front page");
    // Down the hierarchy to a region that lists units.
    let mut at = region.clone();
    let mut unit = None;
    for _ in 0..8 {
        let html = std::fs::read_to_string(page_file(&at)).unwrap();
        if let Some(u) = link(&html, "units/") {
            unit = Some(u);
            break;
        }
        at = html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("regions/") && h.trim_start_matches('/') != at)
            .expect("a unit or sub-region link on a region page")
            .trim_start_matches('/')
            .to_string();
    }
    let unit = unit.expect("a unit link under the first region");
    Pages {
        front: String::new(),
        region,
        unit,
    }
}

struct Site {
    _dir: tempfile::TempDir,
    public: PathBuf,
    nginx: Nginx,
}

/// A copy of `public` served by nginx (so that each alteration starts from
/// the clean files).
fn serve_copy(bin: &Path, public: &Path) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("public");
    copy_dir(public, &copy);
    let work = dir.path().join("nginx");
    std::fs::create_dir_all(&work).unwrap();
    let nginx = start_nginx_with(bin, &work, &copy, &nginx_headers());
    Site {
        _dir: dir,
        public: copy,
        nginx,
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn results_pages_verify_themselves_in_chromium() {
    let chrome = chromium();
    let Some(nginx_bin) = nginx_binary() else {
        panic!(
            "nginx is not installed and scripts/install-nginx.sh could not install it: run the tests with scripts/test.sh"
        );
    };
    let data = tempfile::tempdir().unwrap();
    let d = data.path().join("night");
    let run = tallyboard_in(data.path(), &["exercise", "--data", d.to_str().unwrap()]);
    assert_eq!(
        run.status, 0,
        "exercise failed: {}\n{}",
        run.stdout, run.stderr
    );
    let public = d.join("origin/public");
    let pages = find_pages(&public);
    let shots = screenshots_dir();
    let mut timings = String::new();

    // The clean night: every figure verified, every tally proven, no
    // horizontal overflow at either width.
    let site = serve_copy(&nginx_bin, &public);
    for (name, page) in [
        ("front", &pages.front),
        ("region", &pages.region),
        ("unit", &pages.unit),
    ] {
        let url = format!("{}/{page}", site.nginx.url);
        for width in [1280u32, 390] {
            let v = verdict(dump_dom(&chrome, &url, width));
            assert_eq!(
                v.verified, "ok",
                "{name} page {url} at {width} px:\n{}",
                v.dom
            );
            assert_eq!(
                v.figures_failed + v.unit_figures_failed,
                0,
                "{url}:\n{}",
                v.dom
            );
            assert_eq!(
                v.figures_ok, v.figures,
                "a figure without its verified mark on {url}:\n{}",
                v.dom
            );
            assert_eq!(
                v.unit_figures_ok, v.unit_figures,
                "a unit figure without its proven mark on {url}:\n{}",
                v.dom
            );
            if name == "unit" {
                assert!(
                    v.unit_figures > 0,
                    "the unit page shows no tally figures:\n{}",
                    v.dom
                );
            } else {
                assert!(
                    v.figures > 0,
                    "the {name} page shows no figures:\n{}",
                    v.dom
                );
            }
            assert_no_overflow(&v.dom, &url, width);
            if width == 1280 {
                timings.push_str(&format!(
                    "{name} page: verified in {:.1} ms ({} figures, {} unit figures)\n",
                    v.check_ms, v.figures, v.unit_figures
                ));
            }
            let shot = shots.join(format!("{name}-{width}.png"));
            let _ = std::fs::remove_file(&shot);
            run_chromium(
                &chrome,
                &url,
                width,
                &format!("--screenshot={}", shot.display()),
            );
            assert!(shot.exists(), "no screenshot {}", shot.display());
        }
    }
    drop(site);

    // The paper page, the results download and the search, on a clean copy.
    let site = serve_copy(&nginx_bin, &public);
    paper_page_checks_sheets(&chrome, &site.nginx.url, &d, &shots, &mut timings);
    search_finds_units(&chrome, &site.nginx.url, &public, &pages.unit);
    let front = verdict(dump_dom(&chrome, &format!("{}/", site.nginx.url), 1280));
    let link = tags_with(&front.dom, "data-tb-download");
    assert_eq!(
        link.first().and_then(|t| attr(t, "data-tb-verdict")),
        Some("verified"),
        "results.json is not marked verified on the front page:\n{}",
        front.dom
    );
    drop(site);
    std::fs::write(shots.join("timings.txt"), &timings).unwrap();
    eprintln!("{timings}");

    // (e) A figure of results.json altered on disk: the front page names it.
    let site = serve_copy(&nginx_bin, &public);
    let path = site.public.join("results.json");
    let mut results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let contest = results["contests"][0]["contest"]
        .as_str()
        .unwrap()
        .to_owned();
    let choice = results["contests"][0]["election"]["choices"][0]["choice"]
        .as_str()
        .unwrap()
        .to_owned();
    let votes = &mut results["contests"][0]["election"]["choices"][0]["votes"];
    *votes = serde_json::json!(votes.as_u64().unwrap() + 1);
    std::fs::write(&path, serde_json::to_vec_pretty(&results).unwrap()).unwrap();
    let v = verdict(dump_dom(&chrome, &format!("{}/", site.nginx.url), 1280));
    assert_eq!(v.verified, "failed", "{}", v.dom);
    assert_eq!(
        v.figures_failed, 0,
        "the page's own figures still verify:\n{}",
        v.dom
    );
    assert!(
        v.dom
            .contains("results.json does NOT match the signed totals (1 figure differs):"),
        "{}",
        v.dom
    );
    let named = format!("contest {contest}, election, choice {choice}, votes: results.json says");
    assert!(v.dom.contains(&named), "no {named:?} in:\n{}", v.dom);
    drop(site);

    // (a) A figure altered on a page: that figure is marked as failing.
    let site = serve_copy(&nginx_bin, &public);
    let front = site.public.join(if pages.front.is_empty() {
        "index.html"
    } else {
        &pages.front
    });
    let html = std::fs::read_to_string(&front).unwrap();
    let tag_start = html.find("data-tb-fig=\"").unwrap();
    let text_start = tag_start + html[tag_start..].find('>').unwrap() + 1;
    let text_end = text_start + html[text_start..].find('<').unwrap();
    let altered = format!("{}9{}", &html[..text_start], &html[text_start..]);
    assert_ne!(&html[text_start..text_end], "", "an empty figure");
    std::fs::write(&front, altered).unwrap();
    let v = verdict(dump_dom(
        &chrome,
        &format!("{}/{}", site.nginx.url, pages.front),
        1280,
    ));
    assert_eq!(v.verified, "failed", "{}", v.dom);
    assert_eq!(
        v.figures_failed, 1,
        "only the altered figure fails:\n{}",
        v.dom
    );
    assert!(v.dom.contains("NOT VERIFIED"), "{}", v.dom);
    drop(site);

    // (b) The totals altered: no figure can be verified.
    let site = serve_copy(&nginx_bin, &public);
    let totals = site.public.join("totals");
    let len = std::fs::metadata(&totals).unwrap().len() as usize;
    flip_byte(&totals, len / 2);
    let v = verdict(dump_dom(
        &chrome,
        &format!("{}/{}", site.nginx.url, pages.front),
        1280,
    ));
    assert_eq!(v.verified, "failed", "{}", v.dom);
    assert_eq!(v.figures_ok, 0, "{}", v.dom);
    assert_eq!(v.figures_failed, v.figures, "{}", v.dom);
    assert!(v.dom.contains("signed totals"), "{}", v.dom);
    drop(site);

    // (c) The hash tile holding the unit's first tally altered: the
    // tally is not proven. (d) The tally itself altered in its entry
    // bundle: likewise.
    let unit_html = std::fs::read_to_string(public.join(&pages.unit).join("index.html")).unwrap();
    let entry_tag = tags_with(&unit_html, "data-tb-entry");
    let index: u64 = attr(entry_tag[0], "data-tb-entry")
        .unwrap()
        .parse()
        .unwrap();
    let note = std::fs::read_to_string(public.join("checkpoint")).unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let tile = TileId::in_tree(0, index / 256, size).unwrap();
    let bundle = BundleId::in_tree(index / 256, size).unwrap();
    let k = (index % 256) as usize;
    for (what, path, at) in [
        ("tile", tile.path(), 32 * k + 5),
        ("entry bundle", bundle.path(), {
            let b = std::fs::read(public.join(bundle.path())).unwrap();
            let entries = EntryBundle::from_bytes(&b, bundle.width()).unwrap();
            let before: usize = entries.entries()[..k].iter().map(|e| 2 + e.len()).sum();
            before + 2 + entries.entries()[k].len() / 2
        }),
    ] {
        let site = serve_copy(&nginx_bin, &public);
        flip_byte(&site.public.join(&path), at);
        let v = verdict(dump_dom(
            &chrome,
            &format!("{}/{}", site.nginx.url, pages.unit),
            1280,
        ));
        assert_eq!(v.verified, "failed", "{what}: {}", v.dom);
        assert!(v.unit_figures_failed > 0, "{what}: {}", v.dom);
        assert!(v.dom.contains("NOT VERIFIED"), "{what}: {}", v.dom);
        drop(site);
    }
}

/// Submits the paper form and returns the verdicts (`data-tb-paper` of
/// each sheet) and the result's text.
fn submit_paper(b: &mut Browser) -> (Vec<String>, String) {
    b.eval("document.body.removeAttribute('data-tb-paper-done'); document.getElementById('tb-paper').requestSubmit(); true");
    b.wait_for(
        "document.body.getAttribute('data-tb-paper-done') === '1'",
        120,
    );
    let verdicts = b.eval(
        "[...document.querySelectorAll('#tb-paper-result [data-tb-paper]')].map(e => e.getAttribute('data-tb-paper'))",
    );
    let verdicts = verdicts
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let text = b.eval("document.getElementById('tb-paper-result').innerText");
    (verdicts, text.as_str().unwrap_or("").to_owned())
}

/// The paper page: a 150-dpi scan of one of the night's printed sheets
/// (chosen through the file input) matches what is published; its codes
/// pasted as text too; a sheet printed from a forged tally (figures
/// changed, signed by a key that is no count centre's) and codes of
/// altered bytes are refused, in words.
fn paper_page_checks_sheets(
    chrome: &Path,
    base: &str,
    night: &Path,
    shots: &Path,
    timings: &mut String,
) {
    use tallyboard_core::{SecretKey, SignedManifest, UnverifiedTally};
    let sheets = night.join("sheets");
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(&sheets)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    pdfs.sort();
    let pdf = pdfs.first().expect("the exercise printed no sheet");
    let tally_file = sheets.join("signed").join(format!(
        "{}.tally",
        pdf.file_stem().unwrap().to_string_lossy()
    ));
    let tally =
        std::fs::read(&tally_file).unwrap_or_else(|e| panic!("{}: {e}", tally_file.display()));
    let work = tempfile::tempdir().unwrap();
    let good = crate::paper::scan(pdf, &work.path().join("sheet"));

    let manifest = std::fs::read(night.join("election/manifest.signed")).unwrap();
    let m = SignedManifest::from_bytes(&manifest, None)
        .unwrap()
        .into_manifest();
    let mut body = UnverifiedTally::from_bytes_in(&tally, &m)
        .unwrap()
        .tally()
        .clone();
    body.ballots_cast += 100;
    body.blank += 100;
    let forged = body.sign(&SecretKey::from_seed(&[7; 32]));
    let forged_pdf = work.path().join("forged.pdf");
    std::fs::write(
        &forged_pdf,
        tallyboard_paper::render_pdf(&forged, Some(&m), tallyboard_paper::PaperSize::A4).unwrap(),
    )
    .unwrap();
    let forged_png = crate::paper::scan(&forged_pdf, &work.path().join("forged"));

    let url = format!("{base}/paper/");
    let mut b = Browser::start(chrome, 1280);
    b.open(&url);
    assert_eq!(
        b.eval("document.body.getAttribute('data-tb-verified')"),
        serde_json::json!("ok"),
        "the paper page's checkpoint and totals did not verify"
    );
    // A good scan, through the file input.
    b.set_files("#tb-paper-files", &[&good]);
    let (v, text) = submit_paper(&mut b);
    assert_eq!(v, ["match"], "{text}");
    assert!(
        text.contains("This paper MATCHES what is published."),
        "{text}"
    );
    assert!(text.contains("it is the revision that counts"), "{text}");
    let ms = b.eval("document.body.getAttribute('data-tb-paper-ms')");
    timings.push_str(&format!(
        "paper page: one 150-dpi sheet image ({} KB) read and checked in {} ms\n",
        std::fs::metadata(&good).unwrap().len() / 1024,
        ms.as_str().unwrap_or("?")
    ));
    b.screenshot(&shots.join("paper-match-1280.png"));

    // A forged sheet's scan.
    b.open(&url);
    b.set_files("#tb-paper-files", &[&forged_png]);
    let (v, text) = submit_paper(&mut b);
    assert_eq!(v, ["not-genuine"], "{text}");
    assert!(
        text.contains("This paper is NOT a genuine signed tally."),
        "{text}"
    );
    b.screenshot(&shots.join("paper-forged-1280.png"));

    // The codes pasted as text: the good sheet's, then altered ones.
    let codes = tallyboard_core::paper::encode(&tally).join("\n");
    b.open(&url);
    b.eval(&format!(
        "document.getElementById('tb-paper-text').value = {}; true",
        serde_json::json!(codes)
    ));
    let (v, text) = submit_paper(&mut b);
    assert_eq!(v, ["match"], "pasted codes: {text}");
    let mut altered = tally.clone();
    let i = altered.len() / 2;
    altered[i] ^= 0x01;
    b.open(&url);
    b.eval(&format!(
        "document.getElementById('tb-paper-text').value = {}; true",
        serde_json::json!(tallyboard_core::paper::encode(&altered).join("\n"))
    ));
    let (v, text) = submit_paper(&mut b);
    assert_eq!(v, ["not-genuine"], "altered codes: {text}");
    drop(b);

    // Readable at 390 px: the verdict without horizontal overflow.
    let mut b = Browser::start(chrome, 390);
    b.open(&url);
    b.set_files("#tb-paper-files", &[&good]);
    let (v, text) = submit_paper(&mut b);
    assert_eq!(v, ["match"], "{text}");
    let (sw, iw) = (
        b.eval("document.documentElement.scrollWidth"),
        b.eval("window.innerWidth"),
    );
    assert!(
        sw.as_u64().unwrap() <= iw.as_u64().unwrap(),
        "the paper page overflows at 390 px: scrollWidth {sw} > innerWidth {iw}"
    );
    b.screenshot(&shots.join("paper-match-390.png"));
}

/// The search page finds `unit` (`units/<id>/`) by its id and by its name
/// through the sharded index, and its result leads to the unit page, which
/// verifies.
fn search_finds_units(chrome: &Path, base: &str, public: &Path, unit: &str) {
    let id = unit.trim_start_matches("units/").trim_end_matches('/');
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join(unit).join("unit.json")).unwrap())
            .unwrap();
    let name = json["name"].as_str().unwrap().to_owned();
    let mut b = Browser::start(chrome, 1280);
    for q in [id, name.as_str()] {
        b.open(&format!("{base}/search.html"));
        b.eval(&format!(
            "document.getElementById('tb-q').value = {}; document.getElementById('tb-search').requestSubmit(); true",
            serde_json::json!(q)
        ));
        b.wait_for("document.querySelector('#tb-results a, #tb-results p')", 30);
        let hrefs = b.eval(
            "[...document.querySelectorAll('#tb-results a')].map(a => a.getAttribute('href'))",
        );
        let want = format!("/units/{id}/");
        assert!(
            hrefs
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h.as_str() == Some(&want)),
            "searching {q:?} does not find {want}: {hrefs}"
        );
    }
    // Follow the result to the unit page.
    b.eval(&format!(
        "document.querySelector('#tb-results a[href=\"/units/{id}/\"]').click(); true"
    ));
    b.wait_for(
        &format!(
            "location.pathname === '/units/{id}/' && document.body && document.body.getAttribute('data-tb-done') === '1'"
        ),
        120,
    );
    assert_eq!(
        b.eval("document.body.getAttribute('data-tb-verified')"),
        serde_json::json!("ok")
    );
    assert_eq!(
        b.eval("document.body.getAttribute('data-tb-unit')"),
        serde_json::json!(id)
    );
}
