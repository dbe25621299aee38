//! The printed sheet read back by independent tools: each PDF is rendered
//! as a 150-dpi scan by poppler's `pdftoppm`, its codes decoded by zbar's
//! `zbarimg` (and by this crate's own `decode_image`), reassembled and
//! compared with the signed tally's exact bytes. `scripts/test.sh`
//! installs the tools (`scripts/install-paper-tools.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use tallyboard_core::SignedTally;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::paper::reassemble;
use tallyboard_core::tally::Tally;
use tallyboard_paper::{PaperSize, decode_image, describe, render_pdf};
use tallyboard_testkit::example::{Figures, sign_every_tally, signed_manifest};

fn tool(name: &str) {
    let ok = Command::new(name)
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !ok {
        let _ = Command::new("scripts/install-paper-tools.sh")
            .current_dir(tallyboard_testkit::repo_root())
            .status();
    }
    assert!(
        Command::new(name).arg("-h").output().is_ok(),
        "{name} is not installed and scripts/install-paper-tools.sh could not install it: \
         run the tests with scripts/test.sh (as root on a fresh machine)"
    );
}

/// Renders every page of `pdf` at 150 dpi; returns the PNGs' paths.
fn scan(pdf: &[u8], dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    tool("pdftoppm");
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let out = dir.join(name);
    let st = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(&file)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("{name}-")) && n.ends_with(".png")
        })
        .collect();
    pages.sort();
    assert!(!pages.is_empty());
    pages
}

/// The texts zbar reads off `png`, one per code.
fn zbar(png: &Path) -> Vec<String> {
    tool("zbarimg");
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sbinary", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .unwrap();
    // Status 4: no code on this page.
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "zbarimg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // With -Sbinary zbar writes each code's bytes exactly, one code after
    // another; every part starts with TBT1:.
    let text = String::from_utf8(out.stdout).unwrap();
    text.split("TBT1:")
        .skip(1)
        .map(|p| format!("TBT1:{}", p.trim_end_matches(['\n', '\r'])))
        .collect()
}

fn check_round_trip(signed: &SignedTally, size: PaperSize, dir: &Path, name: &str) -> usize {
    let m = signed_manifest();
    let pdf = render_pdf(signed, Some(m.manifest()), size).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        render_pdf(signed, Some(m.manifest()), size).unwrap(),
        pdf,
        "the same tally gives the same PDF"
    );
    let pages = scan(&pdf, dir, name);
    if let Ok(keep) = std::env::var("PAPER_DEBUG_DIR") {
        for p in &pages {
            std::fs::copy(p, Path::new(&keep).join(p.file_name().unwrap())).unwrap();
        }
    }
    let by_zbar: Vec<String> = pages.iter().flat_map(|p| zbar(p)).collect();
    let bytes = reassemble(by_zbar.iter().map(String::as_str)).unwrap();
    assert_eq!(bytes, signed.as_bytes(), "zbar: {name}");
    let by_rqrr: Vec<String> = pages
        .iter()
        .flat_map(|p| decode_image(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    let bytes = reassemble(by_rqrr.iter().map(String::as_str))
        .unwrap_or_else(|e| panic!("rqrr, {name}: {e}"));
    assert_eq!(bytes, signed.as_bytes(), "rqrr: {name}");
    by_zbar.len()
}

#[test]
fn every_example_sheet_reads_back_from_a_150_dpi_scan() {
    let m = signed_manifest();
    let all = sign_every_tally(m.manifest(), |_, c, ck| Figures::base(c, ck, 1234));
    let dir = tempfile::tempdir().unwrap();
    // One tally of each contest, on A4 and on Letter.
    let mut seen = std::collections::BTreeSet::new();
    for t in all
        .iter()
        .filter(|t| seen.insert(t.tally().contest.clone()))
    {
        for (size, label) in [(PaperSize::A4, "a4"), (PaperSize::Letter, "letter")] {
            let name = format!("{}-{}-{label}", t.tally().unit, t.tally().contest);
            check_round_trip(t, size, dir.path(), &name);
        }
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_tally_of_many_choices_spreads_over_several_codes_that_read_back() {
    let key = SecretKey::from_seed(&[0x42; 32]);
    let choices: Vec<(String, u64)> = (0..60)
        .map(|i| (format!("candidate-{i:02}"), 1000 + i))
        .collect();
    let cast: u64 = choices.iter().map(|(_, v)| v).sum::<u64>() + 3;
    let t = Tally::new(
        "EXAMPLE-ONLY-2026-municipal",
        "long-ballot",
        "P-001",
        choices,
        2,
        1,
        cast,
        1_778_443_260,
        key.public_key(),
    )
    .sign(&key);
    let dir = tempfile::tempdir().unwrap();
    let n = check_round_trip(&t, PaperSize::A4, dir.path(), "long");
    assert!(n >= 5, "{n} codes");
}

#[test]
fn the_words_show_every_figure_with_thousands_separators() {
    let m = signed_manifest();
    let all = sign_every_tally(m.manifest(), |_, c, ck| Figures::base(c, ck, 1234));
    let d = describe(&all[0], Some(m.manifest()));
    let text = d.to_string();
    for needle in [
        "Unit",
        "Region",
        "Ballots cast",
        "1,235",
        "Counted at",
        "Count centre",
        "Fingerprint",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    assert_eq!(d.fingerprint.len(), 19);
}

#[test]
fn an_image_that_is_not_png_or_jpeg_is_refused() {
    assert!(decode_image(b"GIF89a....").is_err());
    assert!(decode_image(b"not an image").is_err());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0; 64]);
    assert!(decode_image(&png).is_err());
}
