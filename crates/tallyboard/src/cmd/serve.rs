//! `tallyboard serve`: the publication server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::note::SignerKey;
use tallyboard_http::serve::{ConnStats, Limits};
use tallyboard_log::{
    LogError, LogReader, ObjectOptions, ObjectStorage, SequencerConfig, StaleState,
};
use tallyboard_server::{Config, Server, Standby, StartError, shutdown_signal};

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
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "storage",
        conflicts_with = "storage"
    )]
    data: Option<PathBuf>,
    /// Keep the log in object storage instead of a data directory:
    /// `s3://BUCKET/PREFIX` (endpoint, region and credentials from the
    /// AWS_* environment variables: AWS_ENDPOINT, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP=true for a
    /// local http:// endpoint). The store must enforce conditional writes
    /// (If-None-Match, If-Match): this is checked at start-up. The bucket
    /// holds a complete static copy (checkpoint, tiles, manifest, totals,
    /// results exports, pages, search index, certification).
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
    /// With --storage: start as a standby. Serves reads from the bucket,
    /// answers submissions with 503 naming the active sequencer, and takes
    /// the log over when the active one has not advanced the sequencer
    /// state for --takeover-ms. Without --standby, a server takes the log
    /// over at once from whoever holds it.
    #[arg(long, requires = "storage")]
    standby: bool,
    /// With --storage: this server's name in the sequencer state (shown to
    /// clients by a standby). Default: its URL, http://LISTEN.
    #[arg(long, value_name = "NAME", requires = "storage")]
    node_name: Option<String>,
    /// With --storage: how often an idle sequencer rewrites the state to
    /// show it is alive, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    heartbeat_ms: u64,
    /// With --standby: how long the state must stay unchanged (no commit,
    /// no heartbeat), on this machine's clock, before the standby takes
    /// over, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    takeover_ms: u64,
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
    let mut config = Config::new(args.data.clone().unwrap_or_default());
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
        let (server, listener) = match &args.storage {
            None => {
                let data = args.data.clone().unwrap_or_default();
                let server = Server::start(manifest, log_key, config)
                    .with_context(|| format!("opening the log in {}", data.display()))?;
                let listener = tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("listening on {}", args.listen))?;
                (server, listener)
            }
            Some(url) => {
                let Some(started) =
                    start_on_object_storage(url, &args, &limits, manifest, log_key, config).await?
                else {
                    return anyhow::Ok(());
                };
                started
            }
        };
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

/// Opens the log in object storage: as a standby first if asked (serving
/// reads, refusing submissions, waiting for the active sequencer to go
/// quiet), then as the sequencer. `None` if a shutdown signal came while
/// standing by.
async fn start_on_object_storage(
    url: &str,
    args: &Args,
    limits: &Limits,
    manifest: SignedManifest,
    log_key: SignerKey,
    mut config: Config,
) -> Result<Option<(Server, tokio::net::TcpListener)>> {
    let storage = Arc::new(ObjectStorage::from_url(url)?);
    let store = storage.clone();
    tokio::task::spawn_blocking(move || store.check_conditions())
        .await
        .context("checking the object store")??;
    let holder = args
        .node_name
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.store(true, Ordering::SeqCst);
    });
    loop {
        let takeover = if args.standby {
            match stand_by(&storage, args, limits, &manifest, &log_key, &stop).await? {
                Some(stale) => Some(stale),
                None => return Ok(None),
            }
        } else {
            None
        };
        config.object = Some((
            storage.clone(),
            ObjectOptions {
                holder: holder.clone(),
                heartbeat: Duration::from_millis(args.heartbeat_ms),
                takeover,
            },
        ));
        let (m, k, c) = (manifest.clone(), log_key.clone(), config.clone());
        let started = tokio::task::spawn_blocking(move || Server::start(m, k, c))
            .await
            .context("starting the server")?;
        match started {
            Ok(server) => {
                let listener = tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("listening on {}", args.listen))?;
                tracing::info!(store = %storage.base_url(), "sequencing the log in object storage");
                return Ok(Some((server, listener)));
            }
            Err(StartError::Log(LogError::Superseded { holder })) if args.standby => {
                tracing::warn!(%holder, "another server took the log over first; standing by again");
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("opening the log in {}", storage.base_url()));
            }
        }
    }
}

/// Serves the standby's routes until the sequencer state has been stale
/// for the takeover time; returns the stale state to take over, or `None`
/// after a shutdown signal.
async fn stand_by(
    storage: &Arc<ObjectStorage>,
    args: &Args,
    limits: &Limits,
    manifest: &SignedManifest,
    log_key: &SignerKey,
    stop: &Arc<AtomicBool>,
) -> Result<Option<StaleState>> {
    let (s, key) = (storage.clone(), log_key.verifier().clone());
    let reader = tokio::task::spawn_blocking(move || LogReader::open_object(s, &key))
        .await
        .context("reading the log")??;
    let standby = Standby::new(manifest.clone(), reader);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("listening address")?;
    println!("standby on http://{addr}");
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let (router, limits) = (standby.router(), limits.clone());
    let http = tokio::spawn(async move {
        tallyboard_http::serve::serve(listener, router, &limits, ConnStats::new(), async move {
            let _ = done_rx.await;
        })
        .await
    });
    let (s, sb, stop2, key) = (
        storage.clone(),
        standby.clone(),
        stop.clone(),
        log_key.verifier().clone(),
    );
    let stale_after = Duration::from_millis(args.takeover_ms);
    let poll = Duration::from_millis((args.heartbeat_ms / 2).clamp(20, 1000));
    let waited = tokio::task::spawn_blocking(move || {
        s.wait_until_stale(stale_after, poll, &mut |holder| {
            sb.set_active(holder);
            if let Err(e) = sb.reader().refresh(&key) {
                tracing::warn!(error = %e, "reading the checkpoint from the bucket");
            }
            !stop2.load(Ordering::SeqCst)
        })
    })
    .await
    .context("waiting as a standby")?;
    let _ = done_tx.send(());
    let _ = http.await;
    let stale = waited?;
    if let Some(s) = &stale {
        tracing::warn!(
            previous = %s.holder,
            "the active sequencer stopped advancing the log; taking over"
        );
    }
    if stop.load(Ordering::SeqCst) {
        return Ok(None);
    }
    Ok(stale)
}
