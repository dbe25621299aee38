//! `tallyboard certify`: the election authority closes the count
//! (spec/cli.md, `spec/tally-and-manifest.md` §10, `spec/server.md`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::Hash;
use tallyboard_core::certification::CertificationBody;
use tallyboard_core::limits::{MAX_SIGNED_MANIFEST, MAX_SIGNED_TOTALS};
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::totals::{CheckpointRef, SignedTotals};
use tallyboard_exercise::client::Http;
use tallyboard_verify::Config;
use tallyboard_verify::report::Verdict;

use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::read_signer;
use crate::status::Refused;

/// Arguments of `tallyboard certify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The election authority's private key file (the key that signed the
    /// manifest).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Base URL of the publication server: verified, then sent the
    /// certification.
    #[arg(long, value_name = "URL")]
    server: String,
    /// More sources to verify against (mirrors, local copies).
    #[arg(long = "source", value_name = "URL|DIR")]
    sources: Vec<String>,
    /// The signed manifest (otherwise read from the server; either way it
    /// must be signed by --key).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Certify even though some units have not reported.
    #[arg(long)]
    allow_incomplete: bool,
    /// Witness cosignatures a checkpoint needs, instead of the manifest's
    /// quorum (as for verify).
    #[arg(long, value_name = "N")]
    quorum: Option<usize>,
    /// Also write the signed certification to FILE.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The certification time (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let signer = read_signer(&args.key).context("--key")?;
    let authority = *signer.verifier().public_key();
    let http = Http::parse(&args.server)?.with_timeout(Duration::from_secs(60))?;
    let manifest_bytes = match &args.manifest {
        Some(p) => read_capped(p, MAX_SIGNED_MANIFEST)?,
        None => get(&http, "/manifest", MAX_SIGNED_MANIFEST)?,
    };
    let manifest = SignedManifest::from_bytes(&manifest_bytes, Some(&authority))
        .context("the manifest is not signed by the key given with --key")?;
    let m = manifest.manifest();

    // Everything is verified first: only a log that passes is certified.
    let mut sources = vec![args.server.clone()];
    sources.extend(args.sources.iter().cloned());
    let mut config = Config::new(authority, sources);
    config.manifest = Some(manifest_bytes.clone());
    config.quorum = args.quorum;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the verifier's runtime")?;
    let report = rt.block_on(tallyboard_verify::verify(&config));
    drop(rt);
    if report.verdict != Verdict::Pass {
        print!("{}", report.to_text());
        return Err(Refused::new(
            "the verification did not pass (see the report above): the count is not certified",
        )
        .into());
    }
    let st = &report.status;
    if st.units_reporting < st.units_expected && !args.allow_incomplete {
        return Err(Refused::new(format!(
            "{} of {} units have reported: the count is not certified (give --allow-incomplete to certify anyway)",
            st.units_reporting, st.units_expected
        ))
        .into());
    }
    if report.sources.first().and_then(|s| s.totals.as_deref()) != Some("match") {
        return Err(Refused::new(
            "the server's totals were not compared equal to the recomputed ones at the tree verified; run again",
        )
        .into());
    }

    // The totals the server serves now must be those verified.
    let totals_bytes = get(&http, "/totals", MAX_SIGNED_TOTALS)?;
    let totals = SignedTotals::from_bytes(&totals_bytes, &m.log.key)
        .context("the server's /totals are not signed by the log key")?;
    let cp = &totals.totals().checkpoint;
    if cp.size != report.log.size || cp.root.to_hex() != report.log.root {
        return Err(Refused::new(format!(
            "the log grew while it was verified (now size {}, verified {}): run again",
            cp.size, report.log.size
        ))
        .into());
    }
    let certified_at = match &args.at {
        Some(t) => tallyboard_core::time::parse_rfc3339(t).map_err(|e| anyhow!("--at {t}: {e}"))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let body = CertificationBody {
        election: m.election.clone(),
        checkpoint: CheckpointRef {
            origin: m.log.origin.clone(),
            size: cp.size,
            root: cp.root,
        },
        totals: Hash::sha256(&totals_bytes),
        manifest: Hash::sha256(&manifest_bytes),
        certified_at,
    };
    let signed = body.sign(signer.secret());
    if let Some(out) = &args.out {
        write_atomic(out, signed.as_bytes(), false)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    let r = http
        .post("/certification", signed.as_bytes(), 64 * 1024)
        .context("sending the certification")?;
    if r.status != 200 {
        return Err(Refused::new(format!(
            "the server refused the certification (HTTP {}): {}",
            r.status,
            String::from_utf8_lossy(&r.body).trim()
        ))
        .into());
    }
    println!(
        "CERTIFIED: the results at tree size {} (root {}) are final; the server no longer accepts tallies.",
        cp.size, cp.root
    );
    Ok(())
}

fn get(http: &Http, path: &str, max: usize) -> Result<Vec<u8>> {
    let r = http.get(path, max).with_context(|| format!("GET {path}"))?;
    if r.status != 200 {
        return Err(anyhow!("GET {path}: HTTP {}", r.status));
    }
    Ok(r.body)
}
