//! Collecting witness cosignatures (C2SP tlog-witness client side).
//!
//! One async worker per configured witness URL holds the latest checkpoint
//! to have cosigned (a `watch` channel: a slow witness is asked about the
//! newest checkpoint, never a queue of old ones). After each commit the
//! sequencer thread hands the checkpoint to every idle worker and waits at
//! most the bound for their answers ([`Collector::cosign`]); answers that
//! come later are added to the published checkpoint by the log's
//! [`CheckpointPublisher`] while it is still the current one. A worker
//! whose witness failed retries the latest checkpoint with back-off, so
//! cosignatures resume when the witness is back. `spec/witness.md` §4.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tallyboard_core::Hash;
use tallyboard_core::cosignature;
use tallyboard_core::limits::MAX_ADD_CHECKPOINT_RESPONSE;
use tallyboard_core::note::{Note, NoteSignature, VerifierKey};
use tallyboard_core::witness::{AddCheckpointRequest, parse_cosignature_response, parse_size_body};
use tallyboard_http::body::{self, BodyError};
use tallyboard_http::path;
use tallyboard_log::{CheckpointPublisher, Cosigner, LogReader, SignedCheckpoint};
use tokio::sync::watch;

/// Timeout of one add-checkpoint request (connection included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout to establish a connection to a witness.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Back-off after a failed request: first retry, doubling up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Attempts per checkpoint (409 answers make the client retry from the
/// size the witness holds).
const ATTEMPTS: usize = 3;

/// A checkpoint to have cosigned.
#[derive(Clone)]
struct Target {
    seq: u64,
    size: u64,
    root: Hash,
    note: Arc<Vec<u8>>,
    text: Arc<str>,
    /// Reads the log as of this checkpoint (consistency proofs).
    reader: LogReader,
}

/// What one commit is waiting for.
#[derive(Default)]
struct Gather {
    seq: u64,
    /// Still accepting answers for `seq` (the sequencer is waiting).
    open: bool,
    /// Witnesses (indexes) the sequencer waits for.
    expected: Vec<bool>,
    lines: Vec<NoteSignature>,
}

#[derive(Default)]
struct WitnessStats {
    cosigned: AtomicU64,
    late: AtomicU64,
    failures: AtomicU64,
    /// Size of the latest checkpoint it cosigned (its state, as far as we know).
    size: AtomicU64,
    up: AtomicBool,
}

struct Endpoint {
    url: String,
    tx: watch::Sender<Option<Target>>,
    busy: AtomicBool,
    stats: WitnessStats,
}

pub(crate) struct Collector {
    keys: Vec<VerifierKey>,
    endpoints: Vec<Endpoint>,
    wait: Duration,
    gather: Mutex<Gather>,
    answered: Condvar,
    seq: AtomicU64,
    publisher: OnceLock<CheckpointPublisher>,
}

/// Why an add-checkpoint exchange failed.
#[derive(Debug, thiserror::Error)]
enum AskError {
    #[error("could not reach the witness: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the witness answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error(
        "the witness holds size {held}, beyond the log's {size}: it has cosigned another history of this log"
    )]
    Ahead { held: u64, size: u64 },
    #[error("the witness kept answering 409 Conflict")]
    Conflicts,
    #[error("the witness's answer has no valid cosignature from a manifest witness key: {0}")]
    BadAnswer(String),
    #[error("consistency proof: {0}")]
    Proof(String),
}

impl Collector {
    /// A collector for the witness base URLs `urls`, accepting cosignatures
    /// from `keys` (the manifest's witnesses), waiting at most `wait` per
    /// commit. Spawns one worker per URL on `rt`.
    pub(crate) fn start(
        urls: &[String],
        keys: Vec<VerifierKey>,
        wait: Duration,
        rt: &tokio::runtime::Handle,
    ) -> Result<Arc<Collector>, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        let mut endpoints = Vec::with_capacity(urls.len());
        let mut receivers = Vec::with_capacity(urls.len());
        for u in urls {
            let (tx, rx) = watch::channel(None);
            endpoints.push(Endpoint {
                url: u.trim_end_matches('/').to_owned(),
                tx,
                busy: AtomicBool::new(false),
                stats: WitnessStats::default(),
            });
            receivers.push(rx);
        }
        let c = Arc::new(Collector {
            keys,
            gather: Mutex::new(Gather {
                expected: vec![false; endpoints.len()],
                ..Gather::default()
            }),
            endpoints,
            wait,
            answered: Condvar::new(),
            seq: AtomicU64::new(0),
            publisher: OnceLock::new(),
        });
        for (i, rx) in receivers.into_iter().enumerate() {
            rt.spawn(worker(Arc::downgrade(&c), i, rx, client.clone()));
        }
        Ok(c)
    }

    /// Gives the collector the log's publisher (for late cosignatures) and
    /// asks every witness about the checkpoint published at start-up.
    pub(crate) fn attach(&self, publisher: CheckpointPublisher, reader: &LogReader) {
        let _ = self.publisher.set(publisher);
        let cp = reader.checkpoint();
        if let Some(t) = self.target(&cp, reader.clone()) {
            for e in &self.endpoints {
                e.tx.send_replace(Some(t.clone()));
            }
        }
    }

    fn target(&self, cp: &SignedCheckpoint, reader: LogReader) -> Option<Target> {
        let text = Note::parse(&cp.note).ok()?.text().to_owned();
        Some(Target {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            size: cp.size,
            root: cp.root,
            note: Arc::new(cp.note.clone()),
            text: text.into(),
            reader,
        })
    }

    /// An answer (or a failure, `lines` empty) of witness `i` for `t`.
    fn deliver(&self, i: usize, t: &Target, lines: Vec<NoteSignature>) {
        let mut g = self.gather.lock().unwrap_or_else(PoisonError::into_inner);
        if g.open && g.seq == t.seq {
            if let Some(e) = g.expected.get_mut(i) {
                *e = false;
            }
            g.lines.extend(lines);
            self.answered.notify_all();
            return;
        }
        drop(g);
        if lines.is_empty() {
            return;
        }
        let Some(p) = self.publisher.get() else {
            return;
        };
        match p.add_cosignatures(t.size, t.root, &lines) {
            Ok(true) => {
                if let Some(e) = self.endpoints.get(i) {
                    e.stats.late.fetch_add(1, Ordering::Relaxed);
                }
                tracing::debug!(witness = i, size = t.size, "late cosignature added");
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not add a late cosignature"),
        }
    }

    /// Checks a witness's answer: the lines that are valid cosignatures of
    /// `text` by a manifest witness key (others are ignored).
    fn valid_lines(&self, text: &str, body: &[u8]) -> Result<Vec<NoteSignature>, AskError> {
        let lines =
            parse_cosignature_response(body).map_err(|e| AskError::BadAnswer(e.to_string()))?;
        let mut ok: Vec<NoteSignature> = Vec::new();
        for l in lines {
            let Some(k) = self
                .keys
                .iter()
                .find(|k| k.name() == l.name && k.key_id() == l.key_id)
            else {
                continue;
            };
            match cosignature::verify(text, k, &l) {
                Ok(_) => {
                    if !ok.iter().any(|o| o.name == l.name && o.key_id == l.key_id) {
                        ok.push(l);
                    }
                }
                Err(e) => return Err(AskError::BadAnswer(format!("{}: {e}", l.name))),
            }
        }
        if ok.is_empty() {
            return Err(AskError::BadAnswer(
                "no line is from a witness the manifest names".to_owned(),
            ));
        }
        Ok(ok)
    }

    /// Prometheus lines for the witnesses.
    pub(crate) fn render(&self, s: &mut String) {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut family =
            |name: &str,
             kind: &str,
             help: &str,
             value: &dyn Fn(&Endpoint) -> Vec<(&'static str, u64)>| {
                let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for e in &self.endpoints {
                    for (extra, v) in value(e) {
                        let _ = writeln!(s, "{name}{{witness=\"{}\"{extra}}} {v}", e.url);
                    }
                }
            };
        family(
            "tallyboard_witness_cosignatures_total",
            "counter",
            "Cosignatures gathered, by witness URL (late: added after the wait bound).",
            &|e| {
                let late = n(&e.stats.late);
                vec![
                    (
                        ",when=\"in-time\"",
                        n(&e.stats.cosigned).saturating_sub(late),
                    ),
                    (",when=\"late\"", late),
                ]
            },
        );
        family(
            "tallyboard_witness_failures_total",
            "counter",
            "Failed add-checkpoint exchanges, by witness URL.",
            &|e| vec![("", n(&e.stats.failures))],
        );
        family(
            "tallyboard_witness_cosigned_size",
            "gauge",
            "Tree size the witness last cosigned.",
            &|e| vec![("", n(&e.stats.size))],
        );
        family(
            "tallyboard_witness_up",
            "gauge",
            "Whether the last exchange with the witness succeeded.",
            &|e| vec![("", u64::from(e.stats.up.load(Ordering::Relaxed)))],
        );
    }
}

impl Cosigner for Collector {
    fn cosign(&self, cp: &SignedCheckpoint, reader: &LogReader) -> Vec<NoteSignature> {
        let Some(t) = self.target(cp, reader.clone()) else {
            return Vec::new();
        };
        let deadline = Instant::now() + self.wait;
        let mut g = self.gather.lock().unwrap_or_else(PoisonError::into_inner);
        g.seq = t.seq;
        g.open = true;
        g.lines.clear();
        for (i, e) in self.endpoints.iter().enumerate() {
            // A witness still busy with an earlier checkpoint is not waited
            // for: it is asked about this one when it is free.
            g.expected[i] = !e.busy.load(Ordering::Acquire);
            e.tx.send_replace(Some(t.clone()));
        }
        loop {
            let now = Instant::now();
            if !g.expected.iter().any(|&e| e) || now >= deadline {
                break;
            }
            g = self
                .answered
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        g.open = false;
        std::mem::take(&mut g.lines)
    }
}

async fn worker(
    c: std::sync::Weak<Collector>,
    i: usize,
    mut rx: watch::Receiver<Option<Target>>,
    client: reqwest::Client,
) {
    let mut backoff: Option<Duration> = None;
    loop {
        match backoff {
            None => {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            Some(d) => {
                tokio::select! {
                    r = rx.changed() => if r.is_err() { return; },
                    () = tokio::time::sleep(d) => {},
                }
            }
        }
        let Some(t) = rx.borrow_and_update().clone() else {
            continue;
        };
        let Some(col) = c.upgrade() else {
            return;
        };
        let Some(e) = col.endpoints.get(i) else {
            return;
        };
        e.busy.store(true, Ordering::Release);
        let r = ask(&col, e, &client, &t).await;
        e.busy.store(false, Ordering::Release);
        match r {
            Ok(lines) => {
                e.stats.cosigned.fetch_add(1, Ordering::Relaxed);
                e.stats.size.store(t.size, Ordering::Relaxed);
                if !e.stats.up.swap(true, Ordering::Relaxed) {
                    tracing::info!(witness = %e.url, size = t.size, "witness cosigning");
                }
                backoff = None;
                let col2 = col.clone();
                // Adding a late cosignature writes a file: off the async workers.
                let _ = tokio::task::spawn_blocking(move || col2.deliver(i, &t, lines)).await;
            }
            Err(err) => {
                e.stats.failures.fetch_add(1, Ordering::Relaxed);
                if e.stats.up.swap(false, Ordering::Relaxed) || backoff.is_none() {
                    tracing::warn!(witness = %e.url, size = t.size, error = %err, "witness did not cosign; retrying with back-off");
                }
                col.deliver(i, &t, Vec::new());
                backoff = Some(backoff.map_or(RETRY_FIRST, |d| (d * 2).min(RETRY_MAX)));
            }
        }
    }
}

/// One add-checkpoint exchange (with retries on 409 Conflict).
async fn ask(
    col: &Collector,
    e: &Endpoint,
    client: &reqwest::Client,
    t: &Target,
) -> Result<Vec<NoteSignature>, AskError> {
    let url = format!("{}{}", e.url, path::ADD_CHECKPOINT);
    let mut old = e.stats.size.load(Ordering::Relaxed);
    for _ in 0..ATTEMPTS {
        if old > t.size {
            return Err(AskError::Ahead {
                held: old,
                size: t.size,
            });
        }
        let proof = if old == 0 || old == t.size {
            Vec::new()
        } else {
            let reader = t.reader.clone();
            let new = t.size;
            tokio::task::spawn_blocking(move || reader.prove_consistency(old, new))
                .await
                .map_err(|e| AskError::Proof(e.to_string()))?
                .map_err(|e| AskError::Proof(e.to_string()))?
        };
        let body = AddCheckpointRequest {
            old_size: old,
            proof,
            checkpoint: t.note.as_ref().clone(),
        }
        .to_bytes()
        .map_err(|e| AskError::Proof(e.to_string()))?;
        let resp = client.post(&url).body(body).send().await?;
        let status = resp.status().as_u16();
        let bytes = body::read_response(resp, MAX_ADD_CHECKPOINT_RESPONSE)
            .await
            .map_err(|e| match e {
                BodyError::Read(e) => AskError::Http(e),
                BodyError::TooLarge(e) => AskError::BadAnswer(format!("answer {e}")),
            })?;
        match status {
            200 => return col.valid_lines(&t.text, &bytes),
            409 => {
                old = parse_size_body(&bytes).map_err(|_| AskError::Status {
                    status,
                    body: shown(&bytes),
                })?;
                e.stats.size.store(old, Ordering::Relaxed);
            }
            _ => {
                return Err(AskError::Status {
                    status,
                    body: shown(&bytes),
                });
            }
        }
    }
    Err(AskError::Conflicts)
}

fn shown(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let s = s.trim();
    s.chars().take(300).collect()
}
