//! `tallyboard sign`: check a tally sheet against every rule and sign it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::rules::check_tally;
use tallyboard_core::{SignedTally, Tally};

use crate::cmd::manifest::{authority_arg, load};
use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::read_signer;
use crate::sheet::{self, MAX_SHEET, SheetTally};
use crate::status::Refused;
use crate::timefmt::{format_rfc3339, now, parse_rfc3339};

/// Check a tally sheet against every rule and sign it.
///
/// Reads the sheet (CSV `unit,contest,line,count`; spec/cli.md), builds the
/// tally of each (unit, contest) and checks every rule against the manifest.
/// If any tally breaks any rule, the WHOLE sheet is refused (exit 1), every
/// problem is listed, and nothing is written. Otherwise each signed tally is
/// written to DIR as `<unit>.<contest>.r<revision>.tally`. Signing is
/// deterministic: signing the same sheet again with the same key and times
/// gives the same files; a different tally where a file exists is refused.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signed election manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The count centre's private key file (from `keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The tally sheet (CSV).
    #[arg(long, value_name = "CSV")]
    sheet: PathBuf,
    /// Directory for the signed tallies (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Time of the count for tallies whose sheet has no `counted_at` line
    /// (RFC 3339 UTC, e.g. 2026-05-10T20:15:00Z). Default: now.
    #[arg(long, value_name = "RFC3339")]
    counted_at: Option<String>,
    /// The authority key the manifest must be signed by (verifier key
    /// string, .pub file or 64 hex digits).
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
}

/// One problem of a sheet, for the refusal message.
struct Problem {
    line: u64,
    message: String,
    code: String,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let expected = args.authority.as_deref().map(authority_arg).transpose()?;
    let default_time = match &args.counted_at {
        Some(s) => parse_rfc3339(s).map_err(|e| anyhow!("--counted-at: {e}"))?,
        None => now()?,
    };
    let signed_manifest = load(&args.manifest, expected.as_ref())?;
    let manifest = signed_manifest.manifest();
    let signer = read_signer(&args.key)?;
    let secret = signer.secret();
    let public = secret.public_key();

    let sheet_name = args.sheet.display().to_string();
    let data = read_capped(&args.sheet, MAX_SHEET)?;
    let rows = sheet::parse(&sheet_name, &data).map_err(anyhow::Error::new)?;

    let mut problems: Vec<Problem> = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    for row in &rows {
        match build(row, &manifest.election, default_time, public) {
            Ok(t) => {
                if let Err(e) = t.check_fields() {
                    problems.push(Problem {
                        line: row.first_line,
                        message: format!("unit {}, contest {}: {e}", row.unit, row.contest),
                        code: e.code().to_string(),
                    });
                }
                for v in check_tally(manifest, &t) {
                    problems.push(Problem {
                        line: row.first_line,
                        message: v.to_string(),
                        code: v.code().to_string(),
                    });
                }
                tallies.push(t);
            }
            Err(missing) => problems.extend(missing),
        }
    }
    if !problems.is_empty() {
        return Err(refusal(&sheet_name, &problems));
    }

    // Sign everything in memory first; check the output directory before
    // writing anything.
    let signed: Vec<SignedTally> = tallies.iter().map(|t| t.sign(secret)).collect();
    let mut outputs: Vec<(PathBuf, &SignedTally, bool)> = Vec::new();
    let mut names: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for s in &signed {
        let t = s.tally();
        let name = format!("{}.{}.r{}.tally", t.unit, t.contest, t.revision);
        // Ids may contain '.', so two (unit, contest) pairs can share a name.
        if let Some((u, c)) = names.insert(name.clone(), (&t.unit, &t.contest)) {
            problems.push(Problem {
                line: 0,
                message: format!(
                    "unit {}, contest {}: its file name {name} is also that of unit {u}, contest {c}; \
                     sign them from separate sheets into separate directories",
                    t.unit, t.contest
                ),
                code: "file-name-clash".to_string(),
            });
        }
        let path = args.out.join(&name);
        let unchanged = match std::fs::read(&path) {
            Ok(existing) if existing == s.as_bytes() => true,
            Ok(_) => {
                problems.push(Problem {
                    line: 0,
                    message: format!(
                        "unit {}, contest {}: {} already holds a different signed tally of revision {}; \
                         a change after signing must be published as a correction (revision {}, with \
                         supersedes and reason lines)",
                        t.unit,
                        t.contest,
                        path.display(),
                        t.revision,
                        t.revision.saturating_add(1)
                    ),
                    code: "already-signed".to_string(),
                });
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
                );
            }
        };
        outputs.push((path, s, unchanged));
    }
    if !problems.is_empty() {
        return Err(refusal(&sheet_name, &problems));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut written = 0usize;
    for (path, s, unchanged) in &outputs {
        if !unchanged {
            write_atomic(path, s.as_bytes(), false)?;
            written += 1;
        }
    }
    print!(
        "{}",
        summary(
            &sheet_name,
            &outputs,
            written,
            &signer.verifier().to_string()
        )
    );
    Ok(())
}

/// The tally of one (unit, contest), or the lines missing from the sheet.
fn build(
    row: &SheetTally,
    election: &str,
    default_time: u64,
    signer: tallyboard_core::PublicKey,
) -> std::result::Result<Tally, Vec<Problem>> {
    let mut missing = Vec::new();
    let mut need = |v: Option<u64>, name: &str| {
        if v.is_none() {
            missing.push(Problem {
                line: row.first_line,
                message: format!(
                    "unit {}, contest {}: the sheet has no '{name}' line",
                    row.unit, row.contest
                ),
                code: "missing-line".to_string(),
            });
        }
        v.unwrap_or(0)
    };
    let blank = need(row.blank, "blank");
    let invalid = need(row.invalid, "invalid");
    let ballots_cast = need(row.ballots_cast, "ballots_cast");
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(Tally {
        election: election.to_string(),
        contest: row.contest.clone(),
        unit: row.unit.clone(),
        choices: row.choices.clone(),
        blank,
        invalid,
        ballots_cast,
        counted_at: row.counted_at.unwrap_or(default_time),
        revision: row.revision.unwrap_or(1),
        supersedes: row.supersedes,
        reason: row.reason.clone(),
        signer,
    })
}

fn refusal(sheet: &str, problems: &[Problem]) -> anyhow::Error {
    let mut msg = format!(
        "REFUSED: the tally sheet {sheet} has {} problem{}; nothing was signed or written.\n",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        let at = if p.line > 0 {
            format!(" (sheet line {})", p.line)
        } else {
            String::new()
        };
        let _ = writeln!(msg, "  - {} [{}]{at}", p.message, p.code);
    }
    msg.push_str("Correct the sheet and sign it again.");
    anyhow::Error::new(Refused::new(msg))
}

fn summary(
    sheet: &str,
    outputs: &[(PathBuf, &SignedTally, bool)],
    written: usize,
    key: &str,
) -> String {
    let mut s = String::new();
    let mut per_contest: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, t, unchanged) in outputs {
        let tally = t.tally();
        *per_contest.entry(tally.contest.as_str()).or_default() += 1;
        let _ = writeln!(
            s,
            "{} {} r{} counted {} leaf {} {}{}",
            tally.unit,
            tally.contest,
            tally.revision,
            format_rfc3339(tally.counted_at),
            t.leaf_hash().to_hex(),
            display(path),
            if *unchanged {
                " (already there, identical)"
            } else {
                ""
            }
        );
    }
    let contests: Vec<String> = per_contest
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let _ = writeln!(
        s,
        "signed {} tallies from {sheet} with key {key} ({}); {written} files written",
        outputs.len(),
        contests.join(", ")
    );
    s
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
