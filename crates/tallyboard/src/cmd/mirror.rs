//! `tallyboard mirror`: a verified copy of the log, served with the same
//! read API as the origin.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_http::serve::{ConnStats, serve};
use tallyboard_mirror::{Config, Mirror, Outcome};

use crate::keyfile::{read_signer, verifier_arg};
use crate::serving::ConnArgs;
use crate::status::Refused;

/// Run a mirror.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The upstream to follow: the publication server's base URL, another
    /// mirror's, or a local directory in the C2SP layout (a copy of a
    /// `public/` directory).
    #[arg(long, value_name = "URL|DIR")]
    upstream: String,
    /// The signed election manifest: the mirror follows the log it names
    /// (origin and log key) and counts the cosignatures of its witnesses.
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The authority key the manifest must be signed by (verifier key
    /// string, .pub file or 64 hex digits). Without it the manifest is only
    /// checked against the key it names itself.
    #[arg(long, value_name = "VKEY")]
    authority: Option<String>,
    /// Data directory of the copy (created if missing). `DIR/public/` is a
    /// static C2SP tlog-tiles copy (with `manifest`, `totals` and
    /// `evidence/`) that any web server can serve.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Also write the verified copy to object storage after every sync:
    /// `s3://BUCKET/PREFIX` (endpoint, region and credentials from the
    /// AWS_* environment variables, as for `serve --storage`). The bucket
    /// then holds a complete static copy (tiles, bundles, checkpoint,
    /// manifest, totals, results exports, pages, search index,
    /// certification, evidence), servable by any web server or CDN: tiles,
    /// bundles and evidence written create-only, the checkpoint last. The
    /// store must enforce create-only writes (checked at start-up).
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// How the mirror names itself on its pages ("verified copy of ORIGIN,
    /// checked at TIME by NAME"): its operator or public address.
    #[arg(long, value_name = "NAME", default_value = "a tallyboard mirror")]
    name: String,
    /// Milliseconds between two polls of the upstream's checkpoint.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    poll_ms: u64,
    /// Witness cosignatures a checkpoint must carry before the mirror
    /// serves it (default: the manifest's quorum).
    #[arg(long, value_name = "N")]
    quorum: Option<usize>,
    /// Entry bundles and tiles fetched from the upstream at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
    /// Also run as a witness (C2SP tlog-witness POST /add-checkpoint) for
    /// the manifest's log, with this cosignature key (`tallyboard keygen
    /// --witness`); its state is kept in DIR/witness/.
    #[arg(long, value_name = "FILE")]
    witness_key: Option<PathBuf>,
    /// Sync once and exit, without serving: 0 synced, 1 the upstream
    /// misbehaved (evidence written), 2 could not sync.
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    connections: ConnArgs,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let authority_vkey = args
        .authority
        .as_deref()
        .map(|a| verifier_arg(a).context("--authority"))
        .transpose()?;
    let authority = authority_vkey.as_ref().map(|v| *v.public_key());
    // A manifest that does not verify means the mirror cannot run (exit 2;
    // exit 1 is kept for an upstream that misbehaved).
    let manifest = crate::cmd::manifest::load(&args.manifest, authority.as_ref())
        .map_err(|e| anyhow!("{e:#}"))?;
    let log_key = {
        let m = manifest.manifest();
        VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
            .map_err(|e| anyhow!("the manifest's log origin {:?}: {e}", m.log.origin))?
    };
    let witness = match &args.witness_key {
        None => None,
        Some(path) => {
            let key = read_signer(path)?;
            if key.kind() != KeyKind::CosignatureV1 {
                bail!(
                    "{}: the key {} is a plain signing key, not a witness key; make one with `tallyboard keygen --witness --name <witness name>`",
                    path.display(),
                    key.name()
                );
            }
            let dir = args.data.join("witness");
            let w = tallyboard_witness::Witness::open(&dir, key, std::slice::from_ref(&log_key))
                .with_context(|| format!("opening the witness state in {}", dir.display()))?;
            Some(Arc::new(w))
        }
    };
    let mut config = Config::new(&args.upstream, args.data.clone());
    config.poll_interval = Duration::from_millis(args.poll_ms.max(10));
    config.quorum = args.quorum;
    config.concurrency = args.concurrency.max(1);
    if let Some(url) = &args.storage {
        let storage = Arc::new(tallyboard_log::ObjectStorage::from_url(url)?);
        storage
            .check_conditions()
            .with_context(|| format!("checking the object store {url}"))?;
        config.storage = Some(storage);
    }
    config.site = tallyboard_read::site::SiteConfig {
        authority: authority_vkey.map(|v| v.to_string()),
        mirror: Some(tallyboard_read::site::MirrorInfo {
            name: args.name.clone(),
        }),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let mirror = Mirror::open(manifest, config)
            .with_context(|| format!("opening the mirror in {}", args.data.display()))?;
        if args.once {
            return once(&mirror).await;
        }
        let limits = args.connections.start();
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("listening address")?;
        let stats = ConnStats::new();
        let mut app = mirror.router().merge(stats.router());
        if let Some(w) = witness {
            app = app.merge(tallyboard_witness::router(w));
        }
        tracing::info!(%addr, upstream = %args.upstream, size = mirror.status().size, "mirror serving");
        println!("listening on http://{addr}");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let follower = {
            let m = mirror.clone();
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                m.run(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
            })
        };
        serve(
            listener,
            app,
            &limits,
            stats,
            tallyboard_server::shutdown_signal(),
        )
        .await;
        let _ = stop_tx.send(true);
        let _ = follower.await;
        crate::serving::finish_pages(mirror.read_api()).await;
        anyhow::Ok(())
    })
}

/// `--once`: one sync, reported on stdout.
async fn once(mirror: &Mirror) -> Result<()> {
    let outcome = mirror.sync_once().await;
    crate::serving::finish_pages(mirror.read_api()).await;
    match outcome {
        Outcome::Synced { size } => {
            let st = mirror.status();
            println!(
                "synced: tree size {size}, root {}, cosigned by {}; totals {}",
                st.root,
                if st.cosignatures.is_empty() {
                    "no witness".to_owned()
                } else {
                    st.cosignatures.join(", ")
                },
                st.totals_size
                    .map_or("not served (none verified yet)".to_owned(), |s| format!(
                        "verified at size {s}"
                    ))
            );
            Ok(())
        }
        Outcome::Misbehaved(p) => Err(Refused::new(format!(
            "the upstream misbehaved ({}): {}{}",
            p.code,
            p.message,
            p.evidence
                .map(|e| format!(
                    "\nevidence: {}",
                    mirror.public_dir().join("evidence").join(e).display()
                ))
                .unwrap_or_default()
        ))
        .into()),
        Outcome::CouldNotSync(p) => bail!("could not sync ({}): {}", p.code, p.message),
        other => bail!("unexpected outcome {other:?}"),
    }
}
