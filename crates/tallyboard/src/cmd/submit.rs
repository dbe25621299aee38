//! `tallyboard submit`: send signed tallies to a publication server and keep
//! the checked receipts.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use tallyboard_core::limits::{MAX_RECEIPT, MAX_SIGNED_MANIFEST, MAX_SIGNED_TALLY};
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::receipt::Receipt;

use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::verifier_arg;
use crate::status::Refused;

/// Send signed tallies to a server.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base URL of the publication server (http://HOST:PORT; put TLS in a
    /// local proxy).
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
    /// Signed tally files, or directories of `*.tally` files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Largest response read from the server.
const MAX_RESPONSE: usize = MAX_RECEIPT + 64 * 1024;

struct Http {
    host: String,
    port: u16,
    prefix: String,
}

impl Http {
    fn parse(url: &str) -> Result<Http> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("{url}: only http:// URLs are supported"))?;
        let (hostport, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().with_context(|| format!("{url}: bad port"))?),
            None => (hostport, 80),
        };
        if host.is_empty() {
            bail!("{url}: no host");
        }
        Ok(Http {
            host: host.to_owned(),
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    /// POSTs `body` to `path`; returns status, `Retry-After` and body.
    fn post(&self, path: &str, body: &[u8]) -> std::io::Result<(u16, Option<u64>, Vec<u8>)> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let full = if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("/{}{path}", self.prefix)
        };
        write!(
            s,
            "POST {full} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/cbor\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.host,
            body.len()
        )?;
        s.write_all(body)?;
        let mut resp = Vec::new();
        s.take(MAX_RESPONSE as u64).read_to_end(&mut resp)?;
        let end = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("malformed HTTP response"))?;
        let head = String::from_utf8_lossy(&resp[..end]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("malformed HTTP status"))?;
        let retry = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| v.trim().parse().ok());
        Ok((status, retry, resp[end + 4..].to_vec()))
    }
}

enum Outcome {
    Accepted(Receipt),
    Refused(String),
    Pending(String),
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

fn submit_one(http: &Http, log: &VerifierKey, entry: &[u8], attempts: u32) -> Outcome {
    let mut wait = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        match http.post("/submit", entry) {
            Ok((200, _, body)) => {
                let checked = Receipt::parse(&body)
                    .map_err(|e| e.to_string())
                    .and_then(|r| {
                        r.verify(entry, log, log.name())
                            .map(|_| r)
                            .map_err(|e| e.to_string())
                    });
                return match checked {
                    Ok(r) => Outcome::Accepted(r),
                    // A receipt that does not verify is evidence against the
                    // server, not an acknowledgement.
                    Err(e) => Outcome::Pending(format!("invalid receipt: {e}")),
                };
            }
            Ok((status, retry, body)) if status == 429 || status >= 500 => {
                last = format!("HTTP {status}: {}", String::from_utf8_lossy(&body));
                if let Some(s) = retry {
                    wait = wait.max(Duration::from_secs(s.min(60)));
                }
            }
            Ok((status, _, body)) => {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let code = v["error"].as_str().unwrap_or("refused");
                let msg = v["message"].as_str().unwrap_or_default();
                return Outcome::Refused(format!("HTTP {status} {code}: {msg}"));
            }
            Err(e) => last = e.to_string(),
        }
    }
    Outcome::Pending(last)
}

pub(crate) fn run(args: Args) -> Result<()> {
    let bytes = read_capped(&args.manifest, MAX_SIGNED_MANIFEST)?;
    let authority = args
        .authority
        .as_deref()
        .map(verifier_arg)
        .transpose()?
        .map(|v| *v.public_key());
    let manifest = SignedManifest::from_bytes(&bytes, authority.as_ref())
        .with_context(|| format!("{}: not a valid signed manifest", args.manifest.display()))?;
    let m = manifest.manifest();
    let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
        .map_err(|e| anyhow!("the manifest's log key: {e}"))?;
    let http = Http::parse(&args.server)?;
    std::fs::create_dir_all(&args.receipts)
        .with_context(|| format!("creating {}", args.receipts.display()))?;
    let (mut accepted, mut refused, mut pending) = (0, 0, 0);
    for file in tally_files(&args.paths)? {
        let entry = read_capped(&file, MAX_SIGNED_TALLY)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let receipt_path = args.receipts.join(format!("{name}.tlog-proof"));
        if let Ok(old) = std::fs::read(&receipt_path)
            && let Ok(r) = Receipt::parse(&old)
            && r.verify(&entry, &log, log.name()).is_ok()
        {
            println!("{name}: accepted earlier (index {}, receipt kept)", r.index);
            accepted += 1;
            continue;
        }
        match submit_one(&http, &log, &entry, args.attempts) {
            Outcome::Accepted(r) => {
                write_atomic(&receipt_path, &r.to_bytes(), false)?;
                println!(
                    "{name}: accepted at index {}; receipt {}",
                    r.index,
                    receipt_path.display()
                );
                accepted += 1;
            }
            Outcome::Refused(why) => {
                println!("{name}: refused: {why}");
                refused += 1;
            }
            Outcome::Pending(why) => {
                println!("{name}: pending (not acknowledged): {why}");
                pending += 1;
            }
        }
    }
    println!("{accepted} accepted, {refused} refused, {pending} pending");
    if refused > 0 {
        return Err(Refused::new(format!("{refused} tallies refused")).into());
    }
    if pending > 0 {
        bail!("{pending} tallies not acknowledged; run the same command again later");
    }
    Ok(())
}
