//! `tallyboard submit`: send signed tallies to a publication server and keep
//! the checked receipts.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::{BufWriter, IsTerminal as _, LineWriter, Write};
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
fn prepare(
    checker: &ReceiptChecker,
    receipts: &Path,
    present: &HashSet<OsString>,
    out: &Out,
    file: &Path,
) -> Result<Prepared> {
    let entry = read_capped(file, MAX_SIGNED_TALLY)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let receipt_name = format!("{name}.tlog-proof");
    let receipt_path = receipts.join(&receipt_name);
    if present.contains(OsStr::new(&receipt_name))
        && let Ok(old) = std::fs::read(&receipt_path)
        && let Ok(r) = Receipt::parse(&old)
        && checker.check(&r, &entry).is_ok()
    {
        out.line(format_args!(
            "{name}: accepted earlier (index {}, receipt kept)",
            r.index
        ));
        return Ok(Prepared::Done(Counted::Accepted));
    }
    Ok(Prepared::Send(name, entry, receipt_path))
}

/// The receipts already in `dir`, by file name: one listing instead of a
/// failed open for every tally of a first run.
fn receipts_present(dir: &Path) -> Result<HashSet<OsString>> {
    let mut names = HashSet::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let e = e.with_context(|| format!("listing {}", dir.display()))?;
        names.insert(e.file_name());
    }
    Ok(names)
}

/// Where the lines of the report go: standard output, a line at a time on
/// a terminal (each tally's fate as it happens), in blocks otherwise (a
/// write per line was a twentieth of the command's CPU into a file).
struct Out(RefCell<Box<dyn Write>>);

impl Out {
    fn new() -> Out {
        let stdout = std::io::stdout();
        let w: Box<dyn Write> = if stdout.is_terminal() {
            Box::new(LineWriter::new(stdout))
        } else {
            Box::new(BufWriter::with_capacity(64 * 1024, stdout))
        };
        Out(RefCell::new(w))
    }

    fn line(&self, args: std::fmt::Arguments<'_>) {
        let mut w = self.0.borrow_mut();
        let _ = w.write_fmt(args);
        let _ = w.write_all(b"\n");
    }

    fn flush(&self) {
        let _ = self.0.borrow_mut().flush();
    }
}

/// Sends one tally and stores its checked receipt; prints what happened to
/// it on one line.
async fn send(
    http: &AsyncHttp,
    checker: &ReceiptChecker,
    out: &Out,
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
                out.line(format_args!(
                    "{name}: accepted at index {}; receipt {}",
                    r.index,
                    receipt_path.display()
                ));
                Counted::Accepted
            }
            Outcome::Refused(why) => {
                out.line(format_args!("{name}: refused: {why}"));
                Counted::Refused
            }
            Outcome::Pending(why) => {
                out.line(format_args!("{name}: pending (not acknowledged): {why}"));
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
    let present = receipts_present(&args.receipts)?;
    let out = Out::new();
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
            let (http, checker, present, out) = (&http, &checker, &present, &out);
            async move {
                match prepare(checker, receipts, present, out, file)? {
                    Prepared::Done(c) => Ok(c),
                    Prepared::Send(name, entry, path) => {
                        send(http, checker, out, attempts, (name, entry, path)).await
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
    out.flush();
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
