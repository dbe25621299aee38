//! `tallyboard serve`: the publication server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tallyboard_log::SequencerConfig;
use tallyboard_server::{Config, Server, shutdown_signal};

use crate::keyfile::{read_manifest, read_signer};
use crate::serving::ConnArgs;

/// Run the publication server.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signed election manifest.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The authority key the manifest must be signed by (verifier key
    /// string, .pub file or 64 hex digits). Without it the manifest is only
    /// checked against the key it names itself.
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
    /// The log's private key file (its name must be the manifest's log origin).
    #[arg(long, value_name = "FILE")]
    log_key: PathBuf,
    /// Data directory of the log (created if missing; `public/` inside it is
    /// the C2SP tlog-tiles tree, servable as static files).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Sequencing interval in milliseconds: under load, submissions are
    /// committed in batches this far apart.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    interval_ms: u64,
    /// Most submissions waiting for a batch; beyond, submissions get 503
    /// with Retry-After (reads keep working).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    max_pending: usize,
    /// Refused submissions per second allowed per client address
    /// (sustained): those refused before they reach the log (wrong
    /// Content-Type, too large, malformed, bad signature, a manifest rule
    /// broken). An address over it gets 429 before its body is read.
    #[arg(long, value_name = "N", default_value_t = 50.0)]
    rate: f64,
    /// Refused submissions a client address may send in a burst.
    #[arg(long, value_name = "N", default_value_t = 200.0)]
    burst: f64,
    /// Valid, signed submissions per second allowed per count centre key
    /// (sustained), whatever address they come from (many centres may share
    /// one address).
    #[arg(long, value_name = "N", default_value_t = 200.0)]
    key_rate: f64,
    /// Valid, signed submissions a count centre key may send in a burst.
    #[arg(long, value_name = "N", default_value_t = 2000.0)]
    key_burst: f64,
    /// Base URL of a witness (`tallyboard witness`, or any C2SP
    /// tlog-witness) to ask for a cosignature after each commit. Repeatable.
    /// Only cosignatures from the manifest's witness keys are kept.
    #[arg(long = "witness", value_name = "URL")]
    witnesses: Vec<String>,
    /// How long each commit waits for the witnesses' cosignatures, in
    /// milliseconds; then the checkpoint is published with those gathered
    /// and later ones are added to it. A witness that is down or slow never
    /// holds sequencing up longer than this.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    witness_wait_ms: u64,
    #[command(flatten)]
    connections: ConnArgs,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let limits = args.connections.start();
    let manifest = read_manifest(&args.manifest, args.authority.as_deref())?;
    let log_key = read_signer(&args.log_key)?;
    let mut config = Config::new(args.data.clone());
    config.sequencer = SequencerConfig {
        interval: Duration::from_millis(args.interval_ms),
        max_pending: args.max_pending,
        max_batch: args.max_pending.max(1),
    };
    config.rate_per_client = args.rate;
    config.burst_per_client = args.burst;
    config.rate_per_key = args.key_rate;
    config.burst_per_key = args.key_burst;
    config.witnesses = args.witnesses.clone();
    config.witness_wait = Duration::from_millis(args.witness_wait_ms);
    config.site.authority = args
        .authority
        .as_deref()
        .map(|a| crate::keyfile::verifier_arg(a).map(|v| v.to_string()))
        .transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let server = Server::start(manifest, log_key, config)
            .with_context(|| format!("opening the log in {}", args.data.display()))?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("listening address")?;
        tracing::info!(%addr, size = server.reader().checkpoint().size, "serving");
        // The bound address on stdout, for scripts that asked for port 0.
        println!("listening on http://{addr}");
        let read = server.read_api().clone();
        server
            .serve_with(listener, &limits, shutdown_signal())
            .await
            .context("serving")?;
        crate::serving::finish_pages(&read).await;
        anyhow::Ok(())
    })
}
