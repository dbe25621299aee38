//! Fixtures of the mirror library's tests (`mirror_sync`,
//! `mirror_static_nginx`): the example election, an origin server on
//! loopback, mirrors served on loopback, static copies.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::tally::SignedTally;
use tallyboard_log::SequencerConfig;
use tallyboard_mirror::{Config as MirrorConfig, Mirror};
use tallyboard_server::{Config, Server};
use tallyboard_testkit::example::{Figures, sign_every_tally};
pub use tallyboard_testkit::example::{example, log_signer, log_verifier, signed_manifest, signer};
pub use tallyboard_testkit::fs::{files, replace_dir};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every valid first tally of the example election (one per unit and
/// contest), signed by the unit's count centre, `base` votes per choice.
pub fn all_tallies(base: u64) -> Vec<SignedTally> {
    let m: Manifest = signed_manifest().into_manifest();
    let out = sign_every_tally(&m, |_, c, ck| Figures::base(c, ck, base));
    assert!(out.len() > 40, "the example has {} tallies", out.len());
    out
}

/// A server (origin or mirror) on a loopback port, stopped on drop.
pub struct Running {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

pub struct Origin {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub running: Running,
}

/// Starts the publication server of the example election on loopback.
pub async fn start_origin() -> Origin {
    start_origin_with(Vec::new()).await
}

/// A witness of the example log (`EXAMPLE-ONLY.witness-<i>.key`) on loopback.
pub async fn start_witness(i: u32, dir: &Path) -> Running {
    let key = signer(&format!("EXAMPLE-ONLY.witness-{i}.key"));
    let w = tallyboard_witness::Witness::open(dir, key, &[log_verifier()]).unwrap();
    serve_router(tallyboard_witness::router(std::sync::Arc::new(w))).await
}

/// Starts the publication server, asking `witnesses` for cosignatures.
pub async fn start_origin_with(witnesses: Vec<String>) -> Origin {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::new(dir.path().to_path_buf());
    c.witnesses = witnesses;
    c.sequencer = SequencerConfig {
        interval: Duration::from_millis(20),
        ..SequencerConfig::default()
    };
    c.rate_per_client = 1e6;
    c.burst_per_client = 1e6;
    let server = Server::start(signed_manifest(), log_signer(), c).unwrap();
    let (l, url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let s = server.clone();
    let task = tokio::spawn(async move {
        let _ = s
            .serve(l, async move {
                let _ = rx.await;
            })
            .await;
    });
    Origin {
        dir,
        server,
        running: Running {
            url,
            stop: Some(tx),
            task: Some(task),
        },
    }
}

/// Submits tallies to `url`, all at once, and checks each is accepted.
pub async fn submit(url: &str, tallies: &[SignedTally]) {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for t in tallies {
        let c = client.clone();
        let u = format!("{url}/submit");
        let body = t.to_bytes();
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(u)
                .header("content-type", "application/cbor")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(status.is_success(), "submit: {status} {text}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

pub async fn get(url: &str) -> (u16, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.bytes().await.unwrap().to_vec())
}

/// Opens a mirror of `upstream` in `dir`, requiring `quorum` cosignatures.
pub fn open_mirror(upstream: &str, dir: &Path, quorum: usize) -> Mirror {
    let mut c = MirrorConfig::new(upstream, dir.to_path_buf());
    c.quorum = Some(quorum);
    c.poll_interval = Duration::from_millis(50);
    Mirror::open(signed_manifest(), c).unwrap()
}

/// Serves a mirror's routes on loopback.
pub async fn serve_mirror(m: &Mirror) -> Running {
    serve_router(m.router()).await
}

/// Serves `app` on a loopback port until the [`Running`] is stopped.
pub async fn serve_router(app: axum::Router) -> Running {
    let (l, url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Running {
        url,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Waits until the static pages of `read` show what it serves.
pub async fn pages_written(read: &tallyboard_server::ReadApi) {
    let site = read.site().expect("the site's writer runs").clone();
    let done = tokio::task::spawn_blocking(move || site.wait(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(done, "the pages were written");
}

/// The tiles and checkpoint of a `public/` directory (not manifest,
/// totals, evidence).
pub fn log_files(public: &Path) -> BTreeMap<String, Vec<u8>> {
    // Only tile/ is walked: the static pages are written next to it by a
    // background writer (whose temporary files come and go).
    let mut out: BTreeMap<String, Vec<u8>> = files(&public.join("tile"))
        .into_iter()
        .map(|(p, b)| (format!("tile/{p}"), b))
        .collect();
    if let Ok(cp) = std::fs::read(public.join("checkpoint")) {
        out.insert("checkpoint".into(), cp);
    }
    out
}
