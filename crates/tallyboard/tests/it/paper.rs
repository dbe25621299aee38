//! The paper channel and the count centre's desk, end to end through the
//! binary: `sign --print`, `print`, `show`, corrections named by file or
//! as `previous`, `--sign-valid`, and `verify --paper` on 150-dpi scans of
//! printed sheets (rendered by poppler's `pdftoppm`, installed by
//! `scripts/test.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tallyboard_core::SignedTally;
use tallyboard_core::hash::leaf_hash;

use crate::common::{repo_root, tallyboard_in};
use crate::verify::{build_source, example_tallies, find, resign, verify};

fn sign_in(dir: &Path, centre: &str, sheet: &Path, extra: &[&str]) -> crate::common::Run {
    let root = repo_root();
    let manifest = root.join("keys-example/manifest.signed");
    let key = root.join(format!(
        "keys-example/keys/EXAMPLE-ONLY.centre-{centre}.key"
    ));
    let mut args = vec![
        "sign",
        "--manifest",
        manifest.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--sheet",
        sheet.to_str().unwrap(),
        "--out",
        "t",
    ];
    args.extend_from_slice(extra);
    tallyboard_in(dir, &args)
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Renders the first page of `pdf` as a 150-dpi PNG (also the browser
/// test's scans).
pub(crate) fn scan(pdf: &Path, out: &Path) -> PathBuf {
    let st = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(pdf)
        .arg(out)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "pdftoppm cannot run ({e}): run the tests with scripts/test.sh, which installs it"
            )
        });
    assert!(st.success());
    out.with_extension("png")
}

#[test]
fn sign_print_show_and_a_correction_named_by_file_and_by_previous() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sheet = repo_root().join("keys-example/sheets/C-COAST.csv");
    let r = sign_in(
        d,
        "C-COAST",
        &sheet,
        &["--print", "sheets", "--paper", "letter"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("printable sheets (Letter) in sheets"),
        "{}",
        r.stdout
    );
    let tallies = files(&d.join("t"));
    let pdfs = files(&d.join("sheets"));
    assert_eq!(tallies.len(), pdfs.len());
    assert!(pdfs.iter().all(|p| p.ends_with(".pdf")));
    let first_pdf = std::fs::read(d.join("sheets").join(&pdfs[0])).unwrap();
    // `print` of the signed files gives the same sheets.
    let manifest = repo_root().join("keys-example/manifest.signed");
    let r = tallyboard_in(
        d,
        &[
            "print",
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            "again",
            "--paper",
            "letter",
            "t",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(d.join("again").join(&pdfs[0])).unwrap(),
        first_pdf
    );

    // `show` names the leaf hash, the signer and the revision.
    let one = d.join("t/P-019.mayor.r1.tally");
    let leaf = leaf_hash(&std::fs::read(&one).unwrap()).to_hex();
    let r = tallyboard_in(
        d,
        &[
            "show",
            "--manifest",
            manifest.to_str().unwrap(),
            one.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    for needle in [
        leaf.as_str(),
        "Revision",
        "Signer key",
        "Ballots cast",
        "Counted at",
        "C-COAST",
    ] {
        assert!(r.stdout.contains(needle), "{needle} in {}", r.stdout);
    }

    // A correction naming the tally by its file, with an unquoted reason
    // full of commas, no revision line (the next one is taken).
    let original = SignedTally::from_bytes(&std::fs::read(&one).unwrap()).unwrap();
    let t = original.tally();
    let mut fix = String::from("unit,contest,line,count\n");
    for (c, v) in &t.choices {
        fix.push_str(&format!("P-019,mayor,{c},{v}\n"));
    }
    fix.push_str(&format!(
        "P-019,mayor,blank,{}\nP-019,mayor,invalid,{}\nP-019,mayor,ballots_cast,{}\n\
         P-019,mayor,counted_at,2026-05-11T09:00:00Z\nP-019,mayor,supersedes,t/P-019.mayor.r1.tally\n\
         P-019,mayor,reason,recount ordered by the board, 11 May, in public\n",
        t.blank, t.invalid, t.ballots_cast
    ));
    std::fs::write(d.join("fix.csv"), &fix).unwrap();
    let r = sign_in(d, "C-COAST", &d.join("fix.csv"), &[]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let fixed =
        SignedTally::from_bytes(&std::fs::read(d.join("t/P-019.mayor.r2.tally")).unwrap()).unwrap();
    assert_eq!(fixed.tally().supersedes, Some(original.leaf_hash()));
    assert_eq!(fixed.tally().revision, 2);
    assert_eq!(
        fixed.tally().reason.as_deref(),
        Some("recount ordered by the board, 11 May, in public")
    );
    // Signing the same correction sheet again later gives the same file.
    let r = sign_in(d, "C-COAST", &d.join("fix.csv"), &[]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0 files written"), "{}", r.stdout);

    // `supersedes previous`: the latest revision in the output directory;
    // signing it again gives the same file, not a third revision.
    let again = fix
        .replace("supersedes,t/P-019.mayor.r1.tally", "supersedes,previous")
        .replace("2026-05-11T09:00:00Z", "2026-05-12T09:00:00Z");
    std::fs::write(d.join("fix2.csv"), &again).unwrap();
    for round in 0..2 {
        let r = sign_in(d, "C-COAST", &d.join("fix2.csv"), &[]);
        assert_eq!(r.status, 0, "round {round}: {}", r.stderr);
    }
    let third =
        SignedTally::from_bytes(&std::fs::read(d.join("t/P-019.mayor.r3.tally")).unwrap()).unwrap();
    assert_eq!(third.tally().supersedes, Some(fixed.leaf_hash()));
    assert!(!d.join("t/P-019.mayor.r4.tally").exists());
}

#[test]
fn sign_valid_signs_the_good_units_and_names_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let broken = repo_root().join("keys-example/broken/C-NORTH-does-not-add-up.csv");
    let r = sign_in(d, "C-NORTH", &broken, &[]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(files(&d.join("t")).is_empty());
    let r = sign_in(d, "C-NORTH", &broken, &["--sign-valid"]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    let signed = files(&d.join("t"));
    assert!(!signed.is_empty());
    for bad in ["P-002.mayor", "P-004.council", "P-006.harbour-referendum"] {
        assert!(
            !signed.iter().any(|f| f.starts_with(bad)),
            "{bad} was signed"
        );
        let (u, c) = bad.split_once('.').unwrap();
        assert!(
            r.stderr.contains(&format!("{u} {c}")),
            "{bad} not named: {}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("REFUSED IN PART"), "{}", r.stderr);
    assert!(r.stderr.contains("[arithmetic-mismatch]"), "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("signed {} tallies", signed.len())),
        "{}",
        r.stdout
    );
}

#[test]
fn a_sheet_without_a_counted_time_is_refused_unless_one_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sheet =
        std::fs::read_to_string(repo_root().join("keys-example/sheets/C-NORTH.csv")).unwrap();
    let without: String = sheet
        .lines()
        .filter(|l| !l.contains(",counted_at,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("s.csv"), without).unwrap();
    let r = sign_in(d, "C-NORTH", &d.join("s.csv"), &[]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no 'counted_at' line and no --counted-at"),
        "{}",
        r.stderr
    );
    let r = sign_in(
        d,
        "C-NORTH",
        &d.join("s.csv"),
        &["--counted-at", "2026-05-10T21:00:00Z"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
}

#[test]
fn a_sheet_with_several_csv_mistakes_lists_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("s.csv"),
        "unit,contest,line,count\nP-001,mayor,Ada, the elder,12\nP-001,mayor,bruno,1,234\nP-001,mayor,chen\n",
    )
    .unwrap();
    let r = sign_in(d, "C-NORTH", &d.join("s.csv"), &[]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    for needle in [
        "line 2",
        "double quotes",
        "line 3",
        "thousands separator",
        "line 4",
        "'count' is missing",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    std::fs::write(
        d.join("semi.csv"),
        "unit;contest;line;count\nP-001;mayor;ada;12\n",
    )
    .unwrap();
    let r = sign_in(d, "C-NORTH", &d.join("semi.csv"), &[]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("separated by semicolons"), "{}", r.stderr);
}

#[test]
fn verify_paper_matches_printed_sheets_and_names_superseded_and_forged_ones() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut entries = example_tallies(w);
    // A correction of P-001 mayor: the printed sheet of revision 1 is then
    // superseded.
    let (_, r1) = find(&entries, "P-001", "mayor");
    let r1 = r1.clone();
    let r2 = resign(&r1, "EXAMPLE-ONLY.centre-C-NORTH.key", |t| {
        t.revision = 2;
        t.supersedes = Some(leaf_hash(&r1));
        t.reason = Some("recount, ordered by the district board".into());
        t.counted_at += 3600;
    });
    entries.push(r2);
    let public = build_source(&w.join("src"), &entries, |_| {});
    // The sheets of r1 (superseded) and of P-002 mayor (good).
    let signed = w.join("signed");
    let manifest = repo_root().join("keys-example/manifest.signed");
    let r = tallyboard_in(
        w,
        &[
            "print",
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            "pdf",
            signed.join("P-001.mayor.r1.tally").to_str().unwrap(),
            signed.join("P-002.mayor.r1.tally").to_str().unwrap(),
            signed.join("P-003.council.r1.tally").to_str().unwrap(),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let good = scan(&w.join("pdf/P-002.mayor.r1.pdf"), &w.join("good"));
    let good2 = scan(&w.join("pdf/P-003.council.r1.pdf"), &w.join("good2"));
    let old = scan(&w.join("pdf/P-001.mayor.r1.pdf"), &w.join("old"));
    // A forged sheet: P-004's figures changed and signed with a key that
    // is not the count centre's, given as decoded text.
    let (_, p4) = find(&entries, "P-004", "mayor");
    let forged = resign(p4, "EXAMPLE-ONLY.witness-1.key", |t| {
        t.ballots_cast += 100;
        t.blank += 100;
    });
    let text = tallyboard_core::paper::encode(&forged).join("\n");
    std::fs::write(w.join("forged.txt"), text + "\n").unwrap();

    let o = verify(
        w,
        &[&public],
        &["--paper", good.to_str().unwrap(), good2.to_str().unwrap()],
    );
    assert_eq!(o.status, 0, "{}", o.stdout);
    assert_eq!(o.json["paper"]["sheets"], 2);
    assert_eq!(o.json["paper"]["matched"], 2);
    assert!(
        o.stdout
            .contains("Printed sheets: 2 of 2 match the log (100.0%)"),
        "{}",
        o.stdout
    );

    let o = verify(
        w,
        &[&public],
        &[
            "--paper",
            good.to_str().unwrap(),
            old.to_str().unwrap(),
            w.join("forged.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status, 1, "{}", o.stdout);
    let f = o.finding("paper-superseded");
    assert_eq!(f["unit"], "P-001");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("recount, ordered by the district board"),
        "{f}"
    );
    o.proved("paper-superseded");
    let f = o.finding("paper-not-genuine");
    assert!(f["message"].as_str().unwrap().contains("forged.txt"), "{f}");
    o.proved("paper-not-genuine");
    assert_eq!(o.json["paper"]["matched"], 1);
    assert_eq!(o.json["paper"]["sheets"], 3);
}

/// The README's count-centre walkthrough: its commands, run as written
/// (in a directory where `keys-example/` is the repository's), against a
/// publication server on loopback.
#[test]
fn the_readme_count_centre_walkthrough_works_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- walkthrough -->")
        .expect("walkthrough start");
    let end = readme
        .find("<!-- /walkthrough -->")
        .expect("walkthrough end");
    let section = &readme[start..end];
    // Indented blocks: commands (with `\` continuations) and the sheet.
    let mut commands: Vec<String> = Vec::new();
    let mut recount = String::new();
    let mut pending = String::new();
    for line in section.lines().filter_map(|l| l.strip_prefix("    ")) {
        let line = line.trim();
        if line.starts_with("unit,contest") || line.starts_with("P-019,") {
            recount.push_str(line);
            recount.push('\n');
            continue;
        }
        pending.push_str(line.trim_end_matches('\\'));
        pending.push(' ');
        if !line.ends_with('\\') {
            commands.push(std::mem::take(&mut pending));
        }
    }
    assert_eq!(commands.len(), 5, "{commands:#?}");
    assert!(recount.lines().count() >= 10, "{recount}");

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::os::unix::fs::symlink(repo_root().join("keys-example"), d.join("keys-example")).unwrap();
    std::fs::write(d.join("recount.csv"), &recount).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--interval-ms",
            "20",
            "--manifest",
            "keys-example/manifest.signed",
            "--log-key",
            "keys-example/keys/EXAMPLE-ONLY.log.key",
            "--data",
            "origin",
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    for c in &commands {
        let c = c.replace("http://127.0.0.1:8080", &url);
        let words: Vec<&str> = c.split_whitespace().collect();
        assert_eq!(words[0], "tallyboard", "{c}");
        let r = tallyboard_in(d, &words[1..]);
        assert_eq!(r.status, 0, "{c}:\n{}{}", r.stdout, r.stderr);
    }
    let _ = server.kill();
    let _ = server.wait();
    let r1 =
        SignedTally::from_bytes(&std::fs::read(d.join("tallies/P-019.mayor.r1.tally")).unwrap())
            .unwrap();
    let r2 =
        SignedTally::from_bytes(&std::fs::read(d.join("tallies/P-019.mayor.r2.tally")).unwrap())
            .unwrap();
    assert_eq!(r2.tally().supersedes, Some(r1.leaf_hash()));
    assert!(
        r2.tally()
            .reason
            .as_deref()
            .unwrap()
            .contains("board, one ballot")
    );
    assert!(d.join("sheets/P-019.mayor.r1.pdf").is_file());
    assert!(d.join("sheets/P-019.mayor.r2.pdf").is_file());
    assert!(d.join("receipts/P-019.mayor.r2.tally.tlog-proof").is_file());
}

#[test]
fn manifest_show_prints_the_verifier_keys_keygen_printed() {
    let root = repo_root();
    let r = tallyboard_in(root, &["manifest", "show", "keys-example/manifest.signed"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    for pubfile in [
        "EXAMPLE-ONLY.log.key.pub",
        "EXAMPLE-ONLY.witness-1.key.pub",
        "EXAMPLE-ONLY.witness-2.key.pub",
    ] {
        let vkey = std::fs::read_to_string(root.join("keys-example/keys").join(pubfile)).unwrap();
        assert!(r.stdout.contains(vkey.trim()), "{pubfile}: {}", r.stdout);
    }
}

/// The texts zbar (an independent decoder) reads off `png`.
fn zbar(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sbinary"])
        .arg(png)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "zbarimg cannot run ({e}): run the tests with scripts/test.sh, which installs it"
            )
        });
    assert!(out.status.success(), "zbarimg {}", png.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .split("TBT1:")
        .skip(1)
        .map(|p| format!("TBT1:{}", p.trim_end_matches(['\n', '\r'])))
        .collect()
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_exercise_leaves_sheets_whose_codes_zbar_reads_back_to_the_log_entries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("night");
    let r = tallyboard_in(dir.path(), &["exercise", "--data", data.to_str().unwrap()]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("printable sheets of"), "{}", r.stdout);
    let pdfs: Vec<PathBuf> = files(&data.join("sheets"))
        .into_iter()
        .filter(|f| f.ends_with(".pdf"))
        .map(|f| data.join("sheets").join(f))
        .collect();
    assert_eq!(
        pdfs.len(),
        90,
        "every unit and contest of the example election"
    );
    // The origin's entry bundles: every sheet's tally is one of their entries.
    let bundles: Vec<Vec<u8>> = all_files(&data)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/tile/entries/"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(!bundles.is_empty());
    for (i, pdf) in pdfs.iter().enumerate().step_by(15) {
        let png = scan(pdf, &dir.path().join(format!("page{i}")));
        let texts = zbar(&png);
        let bytes = tallyboard_core::paper::reassemble(texts.iter().map(String::as_str)).unwrap();
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        assert!(
            bundles
                .iter()
                .any(|b| b.windows(framed.len()).any(|w| w == framed)),
            "{}: the sheet's tally is not an entry of the log",
            pdf.display()
        );
    }
}
