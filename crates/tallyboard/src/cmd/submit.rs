//! `tallyboard submit`: send signed tallies to a publication server and keep
//! the checked receipts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context as _, Result, anyhow, bail};
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::receipt::Receipt;
use tallyboard_exercise::client::{Http, Outcome, submit_one};

use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::read_manifest;
use crate::status::Refused;

/// Send signed tallies to a server.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base URL of the publication server (https://HOST[:PORT][/PREFIX], or
    /// http:// on a trusted network).
    #[arg(long, value_name = "URL")]
    server: String,
    /// The signed election manifest (gives the log key the receipts must
    /// verify under).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The authority key the manifest must be signed by.
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
    /// Directory for the receipts (`<tally file name>.tlog-proof`).
    #[arg(long, value_name = "DIR")]
    receipts: PathBuf,
    /// Attempts per tally while the server is unreachable or busy.
    #[arg(long, value_name = "N", default_value_t = 6)]
    attempts: u32,
    /// Tallies sent at the same time (each waits for a sequencing batch, so
    /// a centre with many units needs several in flight).
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    parallel: u32,
    /// Signed tally files, or directories of `*.tally` files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

fn tally_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("listing {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "tally"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

enum Counted {
    Accepted,
    Refused,
    Pending,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends one tally file (unless its receipt is already there and verifies)
/// and prints what happened to it on one line.
fn submit_file(http: &Http, log: &VerifierKey, args: &Args, file: &Path) -> Result<Counted> {
    let entry = read_capped(file, MAX_SIGNED_TALLY)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let receipt_path = args.receipts.join(format!("{name}.tlog-proof"));
    if let Ok(old) = std::fs::read(&receipt_path)
        && let Ok(r) = Receipt::parse(&old)
        && r.verify(&entry, log, log.name()).is_ok()
    {
        println!("{name}: accepted earlier (index {}, receipt kept)", r.index);
        return Ok(Counted::Accepted);
    }
    Ok(match submit_one(http, log, &entry, args.attempts) {
        Outcome::Accepted(r) => {
            write_atomic(&receipt_path, &r.to_bytes(), false)?;
            println!(
                "{name}: accepted at index {}; receipt {}",
                r.index,
                receipt_path.display()
            );
            Counted::Accepted
        }
        Outcome::Refused(why) => {
            println!("{name}: refused: {why}");
            Counted::Refused
        }
        Outcome::Pending(why) => {
            println!("{name}: pending (not acknowledged): {why}");
            Counted::Pending
        }
    })
}

pub(crate) fn run(args: Args) -> Result<()> {
    let manifest = read_manifest(&args.manifest, args.authority.as_deref())?;
    let m = manifest.manifest();
    let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
        .map_err(|e| anyhow!("the manifest's log key: {e}"))?;
    let http = Http::parse(&args.server)?;
    std::fs::create_dir_all(&args.receipts)
        .with_context(|| format!("creating {}", args.receipts.display()))?;
    let files = tally_files(&args.paths)?;
    let next = AtomicUsize::new(0);
    let counts = Mutex::new((0usize, 0usize, 0usize));
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let workers = (args.parallel as usize).min(files.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if lock(&failure).is_some() {
                        break;
                    }
                    match submit_file(&http, &log, &args, file) {
                        Ok(outcome) => {
                            let mut c = lock(&counts);
                            match outcome {
                                Counted::Accepted => c.0 += 1,
                                Counted::Refused => c.1 += 1,
                                Counted::Pending => c.2 += 1,
                            }
                        }
                        Err(e) => {
                            lock(&failure).get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = lock(&failure).take() {
        return Err(e);
    }
    let (accepted, refused, pending) = *lock(&counts);
    println!("{accepted} accepted, {refused} refused, {pending} pending");
    if refused > 0 {
        return Err(Refused::new(format!("{refused} tallies refused")).into());
    }
    if pending > 0 {
        bail!("{pending} tallies not acknowledged; run the same command again later");
    }
    Ok(())
}
