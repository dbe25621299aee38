//! `tallyboard print`: the printable sheet (PDF with the figures in words
//! and the QR codes, `spec/paper.md`) of already signed tallies; also what
//! `sign --print` writes.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::SignedTally;
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::manifest::Manifest;
use tallyboard_paper::{PaperSize, render_pdf};

use crate::cmd::manifest::{authority_arg, load};
use crate::fsutil::{read_capped, write_atomic};

/// Paper size of a printed sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PaperArg {
    /// ISO A4 (210 x 297 mm).
    A4,
    /// US Letter (8.5 x 11 in).
    Letter,
}

impl PaperArg {
    pub(crate) fn size(self) -> PaperSize {
        match self {
            PaperArg::A4 => PaperSize::A4,
            PaperArg::Letter => PaperSize::Letter,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            PaperArg::A4 => "A4",
            PaperArg::Letter => "Letter",
        }
    }
}

/// Write the printable sheet of signed tallies: one PDF per tally.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signed election manifest (names of the election, units, regions,
    /// choices and count centres).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The authority key the manifest must be signed by.
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
    /// Directory for the sheets (created if missing), one
    /// `<unit>.<contest>.r<revision>.pdf` per tally.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Paper size.
    #[arg(long, value_enum, default_value = "a4")]
    paper: PaperArg,
    /// Signed tally files, or directories of `*.tally` files.
    #[arg(value_name = "SIGNED", required = true)]
    signed: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let expected = args.authority.as_deref().map(authority_arg).transpose()?;
    let signed_manifest = load(&args.manifest, expected.as_ref())?;
    let tallies = read_signed(&args.signed)?;
    for (path, t) in &tallies {
        if t.tally().election != signed_manifest.manifest().election {
            return Err(anyhow!(
                "{} is a tally of election {}, not of the manifest's {}",
                path.display(),
                t.tally().election,
                signed_manifest.manifest().election
            ));
        }
    }
    let refs: Vec<&SignedTally> = tallies.iter().map(|(_, t)| t).collect();
    let n = write_sheets(&args.out, &refs, signed_manifest.manifest(), args.paper)?;
    println!(
        "{n} printable sheet{} ({}) in {}",
        if n == 1 { "" } else { "s" },
        args.paper.label(),
        args.out.display()
    );
    Ok(())
}

/// Reads signed tallies from files and directories (their `*.tally`
/// files, sorted), verifying each signature.
pub(crate) fn read_signed(paths: &[PathBuf]) -> Result<Vec<(PathBuf, SignedTally)>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "tally"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p.clone());
        }
    }
    files
        .into_iter()
        .map(|f| {
            let bytes = read_capped(&f, MAX_SIGNED_TALLY)?;
            let t = SignedTally::from_bytes(&bytes)
                .map_err(|e| anyhow!("{} is not a validly signed tally: {e}", f.display()))?;
            Ok((f, t))
        })
        .collect()
}

/// Writes the sheet of each tally to `dir` as `<unit>.<contest>.r<rev>.pdf`
/// (replacing an older copy: the same tally always gives the same bytes).
pub(crate) fn write_sheets(
    dir: &Path,
    tallies: &[&SignedTally],
    manifest: &Manifest,
    paper: PaperArg,
) -> Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for t in tallies {
        let pdf = render_pdf(t, Some(manifest), paper.size())?;
        let x = t.tally();
        let path = dir.join(format!("{}.{}.r{}.pdf", x.unit, x.contest, x.revision));
        write_atomic(&path, &pdf, false)?;
    }
    Ok(tallies.len())
}
