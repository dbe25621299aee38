//! `tallyboard verify`: the independent verifier (spec/verify.md).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use clap::Parser;
use tallyboard_core::limits::MAX_SIGNED_MANIFEST;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_verify::backup::{BackupInputs, ObserverFile};
use tallyboard_verify::evidence::{Evidence, MAX_EVIDENCE, check};
use tallyboard_verify::report::{Report, TextOptions, Verdict};
use tallyboard_verify::source::HttpOptions;
use tallyboard_verify::{Config, WatchConfig};

use crate::fsutil::read_capped;
use crate::keyfile::verifier_arg;
use crate::status::Refused;

/// Arguments of `tallyboard verify`.
#[derive(Debug, Parser)]
pub(crate) struct Args {
    /// The election authority's verifier key (key string or .pub file): the
    /// only thing trusted. The manifest must be signed by it.
    #[arg(long, value_name = "VKEY")]
    authority: String,
    /// Where to read the log: the server's or a mirror's base URL
    /// (http:// or https://), or a directory holding a copy (C2SP layout:
    /// checkpoint, tile/..., manifest, totals). Repeat for several sources.
    #[arg(long = "source", value_name = "URL|DIR")]
    sources: Vec<String>,
    /// The signed manifest, as published by the authority (otherwise read
    /// from the sources; either way it must be signed by --authority).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// A directory of signed tallies (*.tally) obtained directly from count
    /// centres: each must be in the log as its unit's latest revision.
    #[arg(long, value_name = "DIR")]
    backup_tallies: Option<PathBuf>,
    /// Observers' counts copied from the posted paper sheets: CSV with the
    /// header unit,contest,choice,count (choice: a choice id, blank, invalid
    /// or ballots_cast).
    #[arg(long, value_name = "FILE")]
    observer_csv: Option<PathBuf>,
    /// A directory of receipts (*.tlog-proof) held by count centres, each
    /// beside its tally when available.
    #[arg(long, value_name = "DIR")]
    receipts: Option<PathBuf>,
    /// Printed sheets (spec/paper.md): photos or scans (PNG, JPEG) or text
    /// files of the decoded QR codes (one code per line), or directories of
    /// them. Each sheet's signed tally must be the log's latest revision of
    /// its unit and contest; the report gives the match rate.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    paper: Vec<PathBuf>,
    /// Write the machine-readable report (JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the files proving each finding to DIR (signed checkpoints,
    /// tallies, totals, proofs).
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Follow the sources: check each new checkpoint as it appears and
    /// print findings as they are found; stop with Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// Time between polls in --watch mode.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    watch_interval_ms: u64,
    /// In --watch mode, stop once the verified log has at least N entries.
    #[arg(long, value_name = "N")]
    watch_until_size: Option<u64>,
    /// In --watch mode, append the live feed to FILE: one JSON line per
    /// event (checkpoint verified, unit reported with its figures,
    /// correction, finding, source stale or back, certification, end of
    /// round), each bound to its checkpoint (spec/feed.md).
    #[arg(long, value_name = "FILE", requires = "watch")]
    feed: Option<PathBuf>,
    /// Judge the manifest's due time as of TIME (RFC 3339) instead of this
    /// machine's clock, e.g. to re-verify a night as it stood then. Before
    /// the due time, units not reported are progress, not findings.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print only the verdict line (the JSON report and evidence are still
    /// written).
    #[arg(long)]
    quiet: bool,
    /// Witness cosignatures a checkpoint needs, instead of the manifest's
    /// quorum (for a rehearsal without witnesses: 0). Lowering it is
    /// reported as a note.
    #[arg(long, value_name = "N")]
    quorum: Option<usize>,
    /// Threads verifying signatures (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Entry bundles fetched at once from a source.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
    /// Seconds allowed for one HTTP request.
    #[arg(long, value_name = "S", default_value_t = 30)]
    timeout: u64,
    /// Re-check an evidence file (instead of verifying sources): needs
    /// --authority and --manifest, which give the log key it is checked
    /// with. Exit 0 when it proves what it claims, 1 when it does not.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["watch", "json"])]
    recheck: Option<PathBuf>,
    /// Also give the results of region ID (any level of the hierarchy).
    /// Repeat for several regions.
    #[arg(long = "region", value_name = "ID")]
    regions: Vec<String>,
    /// Also give the counted figures of unit ID and every revision of its
    /// tallies. Repeat for several units.
    #[arg(long = "unit", value_name = "ID")]
    units: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<()> {
    match report_of(&args, |_| {})? {
        Some(report) => finish(&args, &report),
        None => Ok(()),
    }
}

/// Runs the verification `args` ask for, with the configuration adjusted
/// by `tune`, and returns the report (`None`: `--recheck` was done).
pub(crate) fn report_of(args: &Args, tune: impl FnOnce(&mut Config)) -> Result<Option<Report>> {
    let authority = *verifier_arg(&args.authority)
        .context("--authority")?
        .public_key();
    let manifest = match &args.manifest {
        Some(p) => Some(read_capped(p, MAX_SIGNED_MANIFEST)?),
        None => None,
    };
    if let Some(file) = &args.recheck {
        return recheck(file, &authority, manifest.as_deref()).map(|()| None);
    }
    if args.sources.is_empty() {
        return Err(anyhow!(
            "no --source given: name the server, a mirror (URL) or a local copy (directory)"
        ));
    }
    if args.concurrency == 0 || args.threads == Some(0) {
        return Err(anyhow!("--concurrency and --threads must be at least 1"));
    }
    for (what, p) in [
        ("--backup-tallies", &args.backup_tallies),
        ("--receipts", &args.receipts),
    ] {
        if let Some(p) = p
            && !p.is_dir()
        {
            return Err(anyhow!("{what} {}: not a directory", p.display()));
        }
    }
    if let Some(p) = &args.observer_csv
        && !p.is_file()
    {
        return Err(anyhow!("--observer-csv {}: no such file", p.display()));
    }
    let mut config = Config::new(authority, args.sources.clone());
    config.manifest = manifest;
    let observer_rows = match &args.observer_csv {
        Some(p) => sheet_observers(p)?,
        None => None,
    };
    config.backups = BackupInputs {
        tallies: args.backup_tallies.clone(),
        observer_csv: args.observer_csv.clone(),
        observer_rows,
        receipts: args.receipts.clone(),
        paper: crate::cmd::paper_input::read_paper(&args.paper)?,
    };
    config.evidence_dir = args.evidence.clone();
    if let Some(t) = args.threads {
        config.threads = t;
    }
    config.concurrency = args.concurrency;
    config.quorum = args.quorum;
    if let Some(at) = &args.at {
        config.now =
            Some(tallyboard_core::time::parse_rfc3339(at).map_err(|e| anyhow!("--at {at}: {e}"))?);
    }
    config.feed = args.feed.is_some();
    config.http = HttpOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..HttpOptions::default()
    };
    config.detail_units = args.units.clone();
    config.unit_rows = !args.units.is_empty();
    tune(&mut config);
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "checking entries {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    if let Some(b) = &bar {
        let b = b.clone();
        config.progress = Some(Arc::new(move |done, total| {
            if total > 0 {
                b.set_length(total);
            }
            b.set_position(done);
        }));
    }
    // The verifier's library is asynchronous; the command owns its
    // runtime: a small multi-threaded one (the fetches), beside the
    // library's own signature-checking threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the verifier's runtime")?;
    let report = if args.watch {
        let stop = Arc::new(AtomicBool::new(false));
        stop_on_signal(Arc::clone(&stop));
        let w = WatchConfig {
            interval: Duration::from_millis(args.watch_interval_ms.max(10)),
            until_size: args.watch_until_size,
            stop,
        };
        let quiet = args.quiet;
        let mut feed = match &args.feed {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("opening the feed {}", p.display()))?,
            ),
            None => None,
        };
        let mut failed: Option<anyhow::Error> = None;
        let report = rt.block_on(tallyboard_verify::watch_rounds(&config, &w, |r| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = round_outputs(args, r, feed.as_mut(), quiet) {
                failed = Some(e);
                w.stop.store(true, Ordering::SeqCst);
            }
        }));
        if let Some(e) = failed {
            return Err(e);
        }
        report
    } else {
        rt.block_on(tallyboard_verify::verify(&config))
    };
    drop(rt);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(Some(report))
}

/// Prints the report (the verdict line alone with `--quiet`).
pub(crate) fn print_report(args: &Args, report: &Report) {
    let text = report.to_text_with(&TextOptions {
        regions: args.regions.clone(),
        units: args.units.clone(),
    });
    if args.quiet {
        if let Some(first) = text.lines().next() {
            println!("{first}");
        }
    } else {
        print!("{text}");
    }
}

/// An observers' file in the count centres' sheet format (header
/// `unit,contest,line,count`: what `tallyboard sign` reads), read with the
/// sheet reader itself. Each row that stops the reader is a malformed row
/// (a finding naming the file and line) and the sheet is read again
/// without it; the figures of every tally read become observers' rows.
/// `None`: the file is in the observers' own format (read by the
/// verifier).
fn sheet_observers(path: &std::path::Path) -> Result<Option<ObserverFile>> {
    use tallyboard_verify::backup::{MAX_MALFORMED_ROWS, MalformedRow, ObserverRow};
    let data = read_capped(path, tallyboard_core::limits::MAX_OBSERVER_CSV)?;
    if !tallyboard_sheet::is_sheet(&data) {
        return Ok(None);
    }
    let file = path.display().to_string();
    let (tallies, left_out) = tallyboard_sheet::parse_leaving_out(&file, &data, MAX_MALFORMED_ROWS);
    let malformed: Vec<MalformedRow> = left_out
        .into_iter()
        .map(|l| MalformedRow {
            line: l.line,
            message: l.message,
        })
        .collect();
    let mut rows = Vec::new();
    for t in tallies {
        let row = |choice: &str, count: u64| ObserverRow {
            line: t.first_line,
            unit: t.unit.clone(),
            contest: t.contest.clone(),
            choice: choice.to_owned(),
            count,
        };
        for (c, n) in &t.choices {
            rows.push(row(c, *n));
        }
        for (name, v) in [
            ("blank", t.blank),
            ("invalid", t.invalid),
            ("ballots_cast", t.ballots_cast),
        ] {
            if let Some(v) = v {
                rows.push(row(name, v));
            }
        }
    }
    Ok(Some(ObserverFile {
        file,
        rows,
        malformed,
    }))
}

/// After each round of --watch: the JSON report (atomically), the feed's
/// lines, and one text line: time, size, share reporting, leaders.
fn round_outputs(
    args: &Args,
    r: &tallyboard_verify::Round<'_>,
    feed: Option<&mut std::fs::File>,
    quiet: bool,
) -> Result<()> {
    use std::io::Write as _;
    if let Some(path) = &args.json {
        crate::fsutil::write_atomic(path, &r.report.to_json(), false)
            .with_context(|| format!("writing the JSON report to {}", path.display()))?;
    }
    if let Some(f) = feed {
        let lines: String = r.feed.iter().map(|l| l.to_line()).collect();
        f.write_all(lines.as_bytes())
            .and_then(|()| f.flush())
            .context("appending to the feed")?;
    }
    if quiet {
        return Ok(());
    }
    for f in r.new_findings {
        println!("NEW FINDING ({}): {} ({})", f.code, f.message, f.action);
    }
    println!("{}", round_line(r));
    Ok(())
}

/// `HH:MM:SSZ size N, M of K units reporting (P%), leaders: ..., provisional`.
fn round_line(r: &tallyboard_verify::Round<'_>) -> String {
    let st = &r.report.status;
    let now = tallyboard_core::time::format_rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let share = if st.units_expected == 0 {
        100.0
    } else {
        st.units_reporting as f64 * 100.0 / st.units_expected as f64
    };
    let leaders: Vec<String> = r
        .feed
        .iter()
        .rev()
        .find_map(|l| match &l.event {
            tallyboard_verify::feed::FeedEvent::Round { leaders, .. } => Some(leaders),
            _ => None,
        })
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    format!(
                        "{} {}{} {:.1}%",
                        l.contest,
                        l.choice,
                        if l.tied { " (tied)" } else { "" },
                        l.share * 100.0
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{now} verified size {}: {} of {} units reporting ({share:.1}%){}; {}",
        r.size,
        st.units_reporting,
        st.units_expected,
        if leaders.is_empty() {
            String::new()
        } else {
            format!(", leading: {}", leaders.join(", "))
        },
        match st.results {
            tallyboard_verify::status::Stage::Final => "final, certified results",
            tallyboard_verify::status::Stage::Provisional => "provisional results",
        }
    )
}

/// Prints the report, writes the JSON, and maps the verdict to the exit
/// status.
fn finish(args: &Args, report: &Report) -> Result<()> {
    if let Some(path) = &args.json {
        crate::fsutil::write_atomic(path, &report.to_json(), false)
            .with_context(|| format!("writing the JSON report to {}", path.display()))?;
    }
    print_report(args, report);
    match report.verdict {
        Verdict::Pass => Ok(()),
        Verdict::Findings => Err(Refused::new(format!(
            "{} problems found (see the report above{}).",
            report.findings.len() as u64 + report.findings_not_listed.values().sum::<u64>(),
            args.evidence
                .as_ref()
                .map(|d| format!("; evidence in {}", d.display()))
                .unwrap_or_default()
        ))
        .into()),
        Verdict::CouldNotVerify => Err(anyhow!(
            "could not verify: {}",
            report
                .could_not_verify
                .as_deref()
                .unwrap_or("see the report")
        )),
    }
}

/// Sets `stop` on Ctrl-C or SIGTERM.
fn stop_on_signal(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        });
        stop.store(true, Ordering::SeqCst);
    });
}

/// `--recheck FILE`: re-verifies an evidence file with the log key of the
/// manifest signed by the authority.
fn recheck(
    file: &std::path::Path,
    authority: &tallyboard_core::keys::PublicKey,
    manifest: Option<&[u8]>,
) -> Result<()> {
    let manifest = manifest.ok_or_else(|| {
        anyhow!("--recheck needs --manifest FILE (the manifest signed by the authority) to know the log key")
    })?;
    let m = SignedManifest::from_bytes(manifest, Some(authority))
        .context("the manifest is not signed by the authority key given")?;
    let m = m.manifest();
    let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
        .map_err(|e| anyhow!("the manifest's log key: {e}"))?;
    let bytes = read_capped(file, MAX_EVIDENCE)?;
    if bytes.first() != Some(&b'{') {
        // The signed objects the verifier keeps beside the JSON evidence:
        // a count centre's signed tally (backup channels), a manifest a
        // source served (manifest-mismatch).
        return recheck_signed(file, &bytes, manifest, authority, m);
    }
    let ev = Evidence::from_json(&bytes)
        .with_context(|| format!("{}: not an evidence file", file.display()))?;
    match check(&ev, &log) {
        Ok(p) => {
            println!("PROVEN ({}): {}.", p.code, p.statement);
            if let Some(entry) = ev.entry_bytes() {
                describe_entry(&entry, m);
            }
            Ok(())
        }
        Err(e) => Err(Refused::new(format!(
            "NOT PROVEN: {} does not prove what it claims: {e}",
            file.display()
        ))
        .into()),
    }
}

/// `--recheck` of a signed tally or a manifest: what its signature proves.
fn recheck_signed(
    file: &std::path::Path,
    bytes: &[u8],
    trusted: &[u8],
    authority: &tallyboard_core::keys::PublicKey,
    m: &tallyboard_core::manifest::Manifest,
) -> Result<()> {
    if let Ok(t) = tallyboard_core::SignedTally::from_bytes_in(bytes, m) {
        let tally = t.tally();
        let centre = m
            .key(&tally.signer)
            .map(|(c, _)| c.id.clone())
            .ok_or_else(|| {
                Refused::new(format!(
                    "NOT PROVEN: {} is signed by a key the manifest does not list",
                    file.display()
                ))
            })?;
        println!(
            "PROVEN (signed-tally): count centre {centre}'s key signed this tally for unit {}, contest {}, revision {} (leaf hash {}).",
            tally.unit,
            tally.contest,
            tally.revision,
            t.leaf_hash()
        );
        describe_entry(bytes, m);
        return Ok(());
    }
    if SignedManifest::from_bytes(bytes, None).is_ok() {
        return if bytes == trusted {
            println!(
                "PROVEN (manifest): this is the manifest the authority signed (the one given with --manifest)."
            );
            Ok(())
        } else if SignedManifest::from_bytes(bytes, Some(authority)).is_ok() {
            println!(
                "PROVEN (manifest-mismatch): the election authority signed this manifest and another one (the one given with --manifest): two definitions of one election."
            );
            Ok(())
        } else {
            println!(
                "PROVEN (manifest-mismatch): this manifest is not the one the election authority signed: its signature does not verify under the authority key."
            );
            Ok(())
        };
    }
    Err(Refused::new(format!(
        "NOT PROVEN: {} is neither an evidence file, a validly signed tally of this election nor a signed manifest",
        file.display()
    ))
    .into())
}

/// What a logged entry says, checked against the manifest's rules.
fn describe_entry(entry: &[u8], m: &tallyboard_core::manifest::Manifest) {
    match tallyboard_core::SignedTally::from_bytes_in(entry, m) {
        Err(e) => println!("The entry is not a validly signed tally: {e}."),
        Ok(t) => {
            let v = tallyboard_core::rules::check_tally(m, t.tally());
            println!(
                "The entry is a tally for unit {}, contest {}, revision {}, signed by key {}.",
                t.tally().unit,
                t.tally().contest,
                t.tally().revision,
                t.tally().signer.to_hex()
            );
            if v.is_empty() {
                println!("It passes every rule of the manifest checked on its own.");
            }
            for v in v {
                println!("It breaks a rule ({}): {v}.", v.code());
            }
        }
    }
}
