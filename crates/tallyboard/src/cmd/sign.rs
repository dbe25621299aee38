//! `tallyboard sign`: check a tally sheet against every rule and sign it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::rules::check_tally;
use tallyboard_core::{Hash, SignedTally, Tally};

use crate::cmd::manifest::{authority_arg, load};
use crate::cmd::print::{PaperArg, write_sheets};
use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::read_signer;
use crate::status::Refused;
use crate::timefmt::{format_rfc3339, now, parse_rfc3339};
use tallyboard_sheet::{self as sheet, MAX_SHEET, SheetTally, Supersedes};

/// Check a tally sheet against every rule and sign it.
///
/// Reads the sheet (CSV `unit,contest,line,count`; spec/cli.md), builds the
/// tally of each (unit, contest) and checks every rule against the manifest.
/// If any tally breaks any rule, the WHOLE sheet is refused (exit 1), every
/// problem is listed, and nothing is written; with --sign-valid the tallies
/// that pass are signed and the others refused. Each signed tally is
/// written to DIR as `<unit>.<contest>.r<revision>.tally`. Signing is
/// deterministic: signing the same sheet again with the same key gives the
/// same files; a different tally where a file exists is refused.
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
    /// (RFC 3339 UTC, e.g. 2026-05-10T20:15:00Z). Without it every tally
    /// needs a `counted_at` line, so that signing the sheet again later
    /// gives the same signed tallies. `now` takes the clock's time
    /// (signing again later then gives different tallies).
    #[arg(long, value_name = "RFC3339")]
    counted_at: Option<String>,
    /// The authority key the manifest must be signed by (verifier key
    /// string, .pub file or 64 hex digits).
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
    /// Sign the tallies that pass every rule and refuse the others (listed
    /// with the same messages); exit 1 when anything was refused. Without
    /// it one problem refuses the whole sheet.
    #[arg(long)]
    sign_valid: bool,
    /// Also write the printable sheet of each signed tally (PDF with the
    /// figures and QR codes) to DIR as `<unit>.<contest>.r<revision>.pdf`.
    #[arg(long, value_name = "DIR")]
    print: Option<PathBuf>,
    /// Paper size of the printed sheets.
    #[arg(long, value_enum, default_value = "a4", requires = "print")]
    paper: PaperArg,
}

/// One problem of a sheet, for the refusal message.
struct Problem {
    line: u64,
    message: String,
    code: String,
    /// The (unit, contest) it belongs to, when it is one tally's.
    tally: Option<(String, String)>,
}

impl Problem {
    fn of(row: &SheetTally, message: String, code: &str) -> Problem {
        Problem {
            line: row.first_line,
            message,
            code: code.to_string(),
            tally: Some((row.unit.clone(), row.contest.clone())),
        }
    }
}

pub(crate) fn run(args: Args) -> Result<()> {
    let expected = args.authority.as_deref().map(authority_arg).transpose()?;
    let default_time = match args.counted_at.as_deref() {
        Some("now") => Some(now()?),
        Some(s) => Some(parse_rfc3339(s).map_err(|e| anyhow!("--counted-at: {e}"))?),
        None => None,
    };
    let signed_manifest = load(&args.manifest, expected.as_ref())?;
    let manifest = signed_manifest.manifest();
    let signer = read_signer(&args.key)?;
    let secret = signer.secret();
    let public = secret.public_key();

    let sheet_name = args.sheet.display().to_string();
    let data = read_capped(&args.sheet, MAX_SHEET)?;
    let rows = sheet::parse(&sheet_name, &data).map_err(|errors| {
        let mut msg = format!(
            "the tally sheet {sheet_name} cannot be read: {} problem{}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        for e in &errors {
            let _ = write!(msg, "\n  - {e}");
        }
        if errors.len() >= sheet::MAX_PROBLEMS {
            let _ = write!(msg, "\n  (stopped after {} problems)", sheet::MAX_PROBLEMS);
        }
        anyhow!(msg)
    })?;
    let sheet_dir = args.sheet.parent().unwrap_or(Path::new(""));

    let mut problems: Vec<Problem> = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    let provisional_time = rows
        .iter()
        .filter_map(|r| r.counted_at)
        .max()
        .or(default_time)
        .unwrap_or(0);
    for row in &rows {
        let ctx = Context {
            election: &manifest.election,
            default_time,
            signer: public,
            out: &args.out,
            sheet_dir,
            secret,
            provisional_time,
        };
        match build(row, &ctx) {
            Ok(t) => {
                let before = problems.len();
                let timeless = row.counted_at.is_none() && default_time.is_none();
                if timeless {
                    problems.push(Problem::of(
                        row,
                        format!(
                            "unit {}, contest {}: the sheet has no 'counted_at' line and no \
                             --counted-at was given (the time of the count is signed, so it is \
                             never taken from the clock unless asked with --counted-at now)",
                            row.unit, row.contest
                        ),
                        "missing-line",
                    ));
                }
                if let Err(e) = t.check_fields() {
                    problems.push(Problem::of(
                        row,
                        format!("unit {}, contest {}: {e}", row.unit, row.contest),
                        e.code(),
                    ));
                }
                for v in check_tally(manifest, &t) {
                    // Without a counted time the key's validity cannot be
                    // judged; every other rule is.
                    let on_time = matches!(
                        v.code(),
                        "key-not-yet-valid" | "key-expired" | "key-revoked"
                    );
                    if !(timeless && on_time) {
                        problems.push(Problem::of(row, v.to_string(), v.code()));
                    }
                }
                if problems.len() == before {
                    tallies.push(t);
                }
            }
            Err(missing) => problems.extend(missing),
        }
    }
    if !args.sign_valid && !problems.is_empty() {
        return Err(refusal(&sheet_name, &problems));
    }

    // Sign everything in memory first; check the output directory before
    // writing anything.
    let signed: Vec<SignedTally> = tallies.iter().map(|t| t.sign(secret)).collect();
    let mut outputs: Vec<(PathBuf, &SignedTally, bool)> = Vec::new();
    let mut names: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for s in &signed {
        let t = s.tally();
        let name = file_name(t);
        let at = Some((t.unit.clone(), t.contest.clone()));
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
                tally: at,
            });
            continue;
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
                    tally: at,
                });
                continue;
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
    if !args.sign_valid && !problems.is_empty() {
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
    if let Some(dir) = &args.print {
        let done: Vec<&SignedTally> = outputs.iter().map(|(_, s, _)| *s).collect();
        let n = write_sheets(dir, &done, manifest, args.paper)?;
        println!(
            "{n} printable sheet{} ({}) in {}",
            if n == 1 { "" } else { "s" },
            args.paper.label(),
            dir.display()
        );
    }
    if !problems.is_empty() {
        return Err(partial_refusal(&sheet_name, &problems, outputs.len()));
    }
    Ok(())
}

/// `<unit>.<contest>.r<revision>.tally`.
fn file_name(t: &Tally) -> String {
    format!("{}.{}.r{}.tally", t.unit, t.contest, t.revision)
}

/// What building a tally from a sheet row needs besides the row.
struct Context<'a> {
    election: &'a str,
    default_time: Option<u64>,
    signer: tallyboard_core::PublicKey,
    /// The output directory, where `supersedes previous` looks.
    out: &'a Path,
    /// The sheet's directory, where a `supersedes` file is looked for first.
    sheet_dir: &'a Path,
    secret: &'a tallyboard_core::SecretKey,
    /// The time the other rules are checked at for a tally without a
    /// counted time (which is refused anyway): the sheet's latest one.
    provisional_time: u64,
}

/// The tally of one (unit, contest), or its problems.
fn build(row: &SheetTally, ctx: &Context<'_>) -> std::result::Result<Tally, Vec<Problem>> {
    let mut missing = Vec::new();
    let mut need = |v: Option<u64>, name: &str| {
        if v.is_none() {
            missing.push(Problem::of(
                row,
                format!(
                    "unit {}, contest {}: the sheet has no '{name}' line",
                    row.unit, row.contest
                ),
                "missing-line",
            ));
        }
        v.unwrap_or(0)
    };
    let blank = need(row.blank, "blank");
    let invalid = need(row.invalid, "invalid");
    let ballots_cast = need(row.ballots_cast, "ballots_cast");
    if !missing.is_empty() {
        return Err(missing);
    }
    let counted_at = row.counted_at.or(ctx.default_time);
    let mut t = Tally {
        election: ctx.election.to_string(),
        contest: row.contest.clone(),
        unit: row.unit.clone(),
        choices: row.choices.clone(),
        blank,
        invalid,
        ballots_cast,
        counted_at: counted_at.unwrap_or(ctx.provisional_time),
        revision: row.revision.unwrap_or(1),
        supersedes: None,
        reason: row.reason.clone(),
        signer: ctx.signer,
    };
    let fail = |message: String| vec![Problem::of(row, message, "bad-supersedes")];
    let at = format!("unit {}, contest {}", row.unit, row.contest);
    match &row.supersedes {
        None => {}
        Some(Supersedes::Leaf(h)) => t.supersedes = Some(*h),
        Some(Supersedes::File(f)) => {
            let old = read_superseded(f, ctx.sheet_dir).map_err(|e| fail(format!("{at}: {e}")))?;
            let o = old.tally();
            if (o.unit.as_str(), o.contest.as_str()) != (row.unit.as_str(), row.contest.as_str()) {
                return Err(fail(format!(
                    "{at}: supersedes {f}, which is the tally of unit {}, contest {}: a correction \
                     corrects its own unit and contest",
                    o.unit, o.contest
                )));
            }
            t.supersedes = Some(old.leaf_hash());
            if row.revision.is_none() {
                t.revision = o.revision.saturating_add(1);
            }
        }
        Some(Supersedes::Previous) => {
            let (leaf, revision) =
                previous(row, &t, ctx).map_err(|e| fail(format!("{at}: {e}")))?;
            t.supersedes = Some(leaf);
            t.revision = revision;
        }
    }
    Ok(t)
}

/// Reads the signed tally a correction names by file: beside the sheet
/// first, then from the current directory.
fn read_superseded(f: &str, sheet_dir: &Path) -> Result<SignedTally> {
    let beside = sheet_dir.join(f);
    let path = if beside.is_file() {
        beside
    } else {
        PathBuf::from(f)
    };
    let bytes = read_capped(&path, MAX_SIGNED_TALLY)?;
    SignedTally::from_bytes(&bytes)
        .map_err(|e| anyhow!("{} is not a validly signed tally: {e}", path.display()))
}

/// The signed tallies of `unit.contest` in the output directory, by
/// revision.
fn revisions_in(out: &Path, unit: &str, contest: &str) -> Result<BTreeMap<u64, SignedTally>> {
    let mut found = BTreeMap::new();
    let prefix = format!("{unit}.{contest}.r");
    let rd = match std::fs::read_dir(out) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot read {}", out.display())));
        }
    };
    for e in rd {
        let e = e.with_context(|| format!("cannot read {}", out.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rev) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tally"))
            .and_then(|r| r.parse::<u64>().ok())
        else {
            continue;
        };
        let bytes = read_capped(&e.path(), MAX_SIGNED_TALLY)?;
        if let Ok(s) = SignedTally::from_bytes(&bytes)
            && s.tally().unit == unit
            && s.tally().contest == contest
        {
            found.insert(rev, s);
        }
    }
    Ok(found)
}

/// `supersedes previous`: the latest revision of the unit and contest in
/// the output directory, or, when this very correction was signed there
/// before, the one it corrected (so that signing the sheet again gives the
/// same file).
fn previous(row: &SheetTally, t: &Tally, ctx: &Context<'_>) -> Result<(Hash, u64)> {
    let found = revisions_in(ctx.out, &row.unit, &row.contest)?;
    if let Some(rev) = row.revision {
        let below = rev
            .checked_sub(1)
            .and_then(|r| found.get(&r))
            .ok_or_else(|| {
                anyhow!(
                    "supersedes previous: {} has no revision {} of this unit and contest",
                    ctx.out.display(),
                    rev.saturating_sub(1)
                )
            })?;
        return Ok((below.leaf_hash(), rev));
    }
    let Some((&latest, latest_tally)) = found.iter().next_back() else {
        return Err(anyhow!(
            "supersedes previous: {} has no signed tally of this unit and contest to correct",
            ctx.out.display()
        ));
    };
    if let Some(before) = latest.checked_sub(1).and_then(|r| found.get(&r)) {
        let mut again = t.clone();
        again.supersedes = Some(before.leaf_hash());
        again.revision = latest;
        if again.sign(ctx.secret).as_bytes() == latest_tally.as_bytes() {
            return Ok((before.leaf_hash(), latest));
        }
    }
    Ok((latest_tally.leaf_hash(), latest.saturating_add(1)))
}

fn problem_lines(msg: &mut String, problems: &[Problem]) {
    for p in problems {
        let at = if p.line > 0 {
            format!(" (sheet line {})", p.line)
        } else {
            String::new()
        };
        let _ = writeln!(msg, "  - {} [{}]{at}", p.message, p.code);
    }
}

fn refusal(sheet: &str, problems: &[Problem]) -> anyhow::Error {
    let mut msg = format!(
        "REFUSED: the tally sheet {sheet} has {} problem{}; nothing was signed or written.\n",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    problem_lines(&mut msg, problems);
    msg.push_str(
        "Correct the sheet and sign it again (or sign the tallies that pass with --sign-valid).",
    );
    anyhow::Error::new(Refused::new(msg))
}

/// With `--sign-valid`: what was not signed, after the valid ones were.
fn partial_refusal(sheet: &str, problems: &[Problem], signed: usize) -> anyhow::Error {
    let refused: BTreeSet<&(String, String)> =
        problems.iter().filter_map(|p| p.tally.as_ref()).collect();
    let mut msg = format!(
        "REFUSED IN PART: {signed} tall{} of {sheet} signed (listed above); {} NOT signed, \
         with {} problem{}:\n",
        if signed == 1 { "y" } else { "ies" },
        refused.len(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    problem_lines(&mut msg, problems);
    let names: Vec<String> = refused.iter().map(|(u, c)| format!("{u} {c}")).collect();
    let _ = write!(
        msg,
        "Not signed: {}.\nCorrect these units on the sheet and sign it again: the tallies \
         already signed stay as they are.",
        names.join(", ")
    );
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
            path.display(),
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
