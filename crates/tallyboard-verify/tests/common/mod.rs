//! Test fixtures: logs built with tallyboard-log and the example keys, and a
//! tiny static HTTP server over a directory (127.0.0.1, port 0).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::note::{SignerKey, VerifierKey};
use tallyboard_log::{Log, Options};

pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys-example/keys")
}

pub fn signer(name: &str) -> SignerKey {
    let text = std::fs::read_to_string(keys_dir().join(name)).unwrap();
    SignerKey::parse(text.trim_end()).unwrap()
}

pub fn log_signer() -> SignerKey {
    signer("EXAMPLE-ONLY.log.key")
}

pub fn log_key() -> VerifierKey {
    log_signer().verifier().clone()
}

/// Entry `i` of test logs: distinct, of varying length; `salt` makes a
/// different log.
pub fn entry(i: u64, salt: &str) -> Vec<u8> {
    format!("entry {i} {salt} {}", "x".repeat((i % 37) as usize)).into_bytes()
}

/// A log in `dir` grown in batches to each size of `sizes`; returns the
/// signed checkpoint note after each batch.
pub fn build_log(dir: &Path, sizes: &[u64], salt: &str) -> Vec<Vec<u8>> {
    let mut log = Log::open(dir, log_signer(), Options::default()).unwrap();
    let mut notes = Vec::new();
    let mut have = 0;
    for &s in sizes {
        let batch: Vec<Vec<u8>> = (have..s).map(|i| entry(i, salt)).collect();
        let b = log.append(&batch).unwrap();
        assert_eq!(b.checkpoint.size, s);
        notes.push(b.checkpoint.note.clone());
        have = s;
    }
    notes
}

pub fn open(note: &[u8]) -> OpenedCheckpoint {
    open_checkpoint(note, &log_key(), &[], 0).unwrap()
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// A static file server over `root` on 127.0.0.1 (port 0). Dropping the
/// handle stops it.
pub struct StaticServer {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl StaticServer {
    pub async fn start(root: PathBuf) -> StaticServer {
        use axum::extract::{Path as AxPath, State};
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        async fn file(
            State(root): State<PathBuf>,
            AxPath(p): AxPath<String>,
        ) -> axum::response::Response {
            if p.split('/').any(|c| c == ".." || c.is_empty()) {
                return StatusCode::BAD_REQUEST.into_response();
            }
            match tokio::fs::read(root.join(&p)).await {
                Ok(b) => b.into_response(),
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::get(file))
            .with_state(root);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        StatusServerUrl::wait(&addr).await;
        StaticServer {
            url: format!("http://{addr}"),
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }
}

struct StatusServerUrl;
impl StatusServerUrl {
    async fn wait(addr: &std::net::SocketAddr) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("test server did not start");
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
