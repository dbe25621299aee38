//! `tallyboard witness`: a C2SP tlog-witness for the election's log.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_http::serve::{ConnStats, serve};
use tallyboard_witness::{Witness, router};

use crate::keyfile::{read_manifest, read_signer, verifier_arg};
use crate::serving::ConnArgs;

/// Run a witness.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The witness's private key file (a cosignature key made with
    /// `tallyboard keygen --witness`; its name should be one of the
    /// manifest's witnesses).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The signed election manifest: the witness cosigns for the log it
    /// names (origin and log key).
    #[arg(long, value_name = "FILE", required_unless_present = "log")]
    manifest: Option<PathBuf>,
    /// The authority key the manifest must be signed by (verifier key
    /// string, .pub file or 64 hex digits). Without it the manifest is only
    /// checked against the key it names itself.
    #[arg(long, value_name = "VKEY", requires = "manifest")]
    authority: Option<String>,
    /// Also cosign for this log (its C2SP verifier key, or a .pub file;
    /// the key name is the log's origin). Repeatable.
    #[arg(long, value_name = "VKEY")]
    log: Vec<String>,
    /// State directory: the latest cosigned checkpoint of each log (created
    /// if missing; keep it: a witness that forgets its state could be made
    /// to cosign a fork).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    #[command(flatten)]
    connections: ConnArgs,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let limits = args.connections.start();
    let key = read_signer(&args.key)?;
    if key.kind() != KeyKind::CosignatureV1 {
        bail!(
            "{}: the key {} is a plain signing key, not a witness key; make one with `tallyboard keygen --witness --name <witness name>`",
            args.key.display(),
            key.name()
        );
    }
    let mut logs: Vec<VerifierKey> = Vec::new();
    if let Some(path) = &args.manifest {
        let signed = read_manifest(path, args.authority.as_deref())?;
        let m = signed.manifest();
        let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
            .map_err(|e| anyhow!("the manifest's log origin {:?}: {e}", m.log.origin))?;
        let named = m
            .witnesses
            .iter()
            .any(|w| w.name == key.name() && w.key == *key.verifier().public_key());
        if !named {
            tracing::warn!(
                "the witness key {} is not one of the manifest's witnesses: verifiers of this election will not count its cosignatures",
                key.verifier()
            );
        }
        logs.push(log);
    }
    for l in &args.log {
        let vk = verifier_arg(l).context("--log")?;
        if vk.kind() != KeyKind::Ed25519 {
            bail!("--log {l}: not a log key (a log's checkpoint key has type 0x01)");
        }
        if !logs.contains(&vk) {
            logs.push(vk);
        }
    }
    let witness = Witness::open(&args.data, key, &logs)
        .with_context(|| format!("opening the witness state in {}", args.data.display()))?;
    let witness = Arc::new(witness);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("listening address")?;
        tracing::info!(
            %addr,
            key = %witness.verifier(),
            logs = ?witness.origins().collect::<Vec<_>>(),
            "witness serving"
        );
        println!("listening on http://{addr}");
        let stats = ConnStats::new();
        let app = router(witness).merge(stats.router());
        serve(
            listener,
            app,
            &limits,
            stats,
            tallyboard_server::shutdown_signal(),
        )
        .await;
        anyhow::Ok(())
    })
}
