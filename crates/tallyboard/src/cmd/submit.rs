//! `tallyboard submit`: send signed tallies to a publication server and keep
//! the checked receipts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use futures_util::StreamExt as _;
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::receipt::Receipt;
use tallyboard_exercise::client::{AsyncHttp, Outcome, ReceiptChecker, submit_one_async};

use tallyboard_fs::Access;

use crate::fsutil::read_capped;
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
    /// Tallies in flight at the same time, on one thread (async I/O): each
    /// waits for a sequencing batch, so a centre with many units needs
    /// enough in flight to fill a batch at the server's pace.
    #[arg(long, value_name = "N", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(1..=16384))]
    parallel: u32,
    /// Signed tally files, or directories of `*.tally` files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Time allowed for one submission's answer (a batch, its witnesses).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

#[derive(Clone, Copy)]
enum Counted {
    Accepted,
    Refused,
    Pending,
}

/// What is known of one tally file before it is sent.
enum Prepared {
    /// Its receipt is already there and verifies.
    Done(Counted),
    /// To send: the file name, the signed tally, where its receipt goes.
    Send(String, Vec<u8>, PathBuf),
}

/// Reads one tally file and its receipt, if there is one that verifies
/// (then it is not sent again).
fn prepare(checker: &ReceiptChecker, receipts: &Path, file: &Path) -> Result<Prepared> {
    let entry = read_capped(file, MAX_SIGNED_TALLY)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let receipt_path = receipts.join(format!("{name}.tlog-proof"));
    if let Ok(old) = std::fs::read(&receipt_path)
        && let Ok(r) = Receipt::parse(&old)
        && checker.check(&r, &entry).is_ok()
    {
        println!("{name}: accepted earlier (index {}, receipt kept)", r.index);
        return Ok(Prepared::Done(Counted::Accepted));
    }
    Ok(Prepared::Send(name, entry, receipt_path))
}

/// Sends one tally and stores its checked receipt; prints what happened to
/// it on one line.
async fn send(
    http: &AsyncHttp,
    checker: &ReceiptChecker,
    attempts: u32,
    (name, entry, receipt_path): (String, Vec<u8>, PathBuf),
) -> Result<Counted> {
    Ok(
        match submit_one_async(http, checker, &entry, attempts).await {
            Outcome::Accepted(r) => {
                // Atomic now, durable with the others at the end (one syncfs):
                // a receipt lost in a crash before it is just sent again (the
                // server answers a tally it holds with its place in the log).
                tallyboard_fs::replace_unsynced(&receipt_path, &r.to_bytes(), Access::Shared)?;
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
        },
    )
}

pub(crate) fn run(args: Args) -> Result<()> {
    let manifest = read_manifest(&args.manifest, args.authority.as_deref())?;
    let m = manifest.manifest();
    let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
        .map_err(|e| anyhow!("the manifest's log key: {e}"))?;
    let checker = ReceiptChecker::new(log);
    // Each submission in flight holds a connection: raise the soft
    // descriptor limit to the hard one and stay under it.
    let fds = tallyboard_http::serve::raise_descriptor_limit();
    let in_flight = fds.map_or(args.parallel as usize, |n| {
        (args.parallel as usize).min(
            usize::try_from(n.saturating_sub(64))
                .unwrap_or(usize::MAX)
                .max(1),
        )
    });
    let http = AsyncHttp::parse(&args.server, REQUEST_TIMEOUT, in_flight)?;
    std::fs::create_dir_all(&args.receipts)
        .with_context(|| format!("creating {}", args.receipts.display()))?;
    let files = tally_files(&args.paths)?;
    // One thread runs every request (async I/O); receipts are written on
    // the blocking pool.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let counts = rt.block_on(async {
        let mut counts = [0usize; 3];
        let (receipts, attempts) = (&args.receipts, args.attempts);
        let mut stream = futures_util::stream::iter(files.iter().map(|file| {
            let (http, checker) = (&http, &checker);
            async move {
                match prepare(checker, receipts, file)? {
                    Prepared::Done(c) => Ok(c),
                    Prepared::Send(name, entry, path) => {
                        send(http, checker, attempts, (name, entry, path)).await
                    }
                }
            }
        }))
        .buffer_unordered(in_flight);
        while let Some(r) = stream.next().await {
            counts[r? as usize] += 1;
        }
        Ok::<_, anyhow::Error>(counts)
    })?;
    tallyboard_fs::sync_filesystem(&args.receipts)?;
    let [accepted, refused, pending] = counts;
    println!("{accepted} accepted, {refused} refused, {pending} pending");
    if refused > 0 {
        return Err(Refused::new(format!("{refused} tallies refused")).into());
    }
    if pending > 0 {
        bail!("{pending} tallies not acknowledged; run the same command again later");
    }
    Ok(())
}
