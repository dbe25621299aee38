#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The publication server's router, driven without a socket, on the
//! example election of `keys-example/` (EXAMPLE ONLY keys).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::note::SignerKey;
use tallyboard_core::receipt::Receipt;
use tallyboard_core::tally::{SignedTally, Tally};
use tallyboard_core::totals::SignedTotals;
use tallyboard_core::{Hash, leaf_hash};
use tallyboard_log::SequencerConfig;
use tallyboard_server::{Config, Server};
use tallyboard_testkit::example::{Figures, example, signed_manifest, signer};
use tower::ServiceExt as _;

struct Election {
    manifest: Manifest,
    north: SecretKey,
    coast: SecretKey,
    log: SignerKey,
}

fn election() -> Election {
    Election {
        manifest: signed_manifest().into_manifest(),
        north: signer("EXAMPLE-ONLY.centre-C-NORTH.key").secret().clone(),
        coast: signer("EXAMPLE-ONLY.centre-C-COAST.key").secret().clone(),
        log: signer("EXAMPLE-ONLY.log.key"),
    }
}

impl Election {
    /// The units of count centre `centre` taking part in `contest`.
    fn units(&self, centre: &str, contest: &str) -> Vec<String> {
        self.manifest
            .units
            .iter()
            .filter(|u| u.centre == centre && u.contests.iter().any(|c| c == contest))
            .map(|u| u.id.clone())
            .collect()
    }

    /// A valid first tally of `unit` for `contest`, signed by `key`, with
    /// `base` votes per choice (first choice gets one more).
    fn tally(&self, key: &SecretKey, unit: &str, contest: &str, base: u64) -> Tally {
        let c = self.manifest.contest(contest).unwrap();
        let pk = key.public_key();
        let (_, ck) = self.manifest.key(&pk).unwrap();
        Figures::base(c, ck, base).tally(&self.manifest.election, contest, unit, pk)
    }
}

struct Harness {
    dir: tempfile::TempDir,
    server: Server,
    app: Router,
}

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::new(dir.to_path_buf());
    c.sequencer = SequencerConfig {
        interval: Duration::from_millis(20),
        ..SequencerConfig::default()
    };
    c
}

fn start_in(dir: tempfile::TempDir, config: Config) -> Harness {
    let e = election();
    let server = Server::start(signed_manifest(), e.log.clone(), config).unwrap();
    let app = server
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    Harness { dir, server, app }
}

fn start() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path());
    start_in(dir, c)
}

async fn get(app: &Router, path: &str) -> (Response, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    split(r).await
}

async fn post(app: &Router, body: Vec<u8>) -> (Response, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(
            Request::post("/submit")
                .header(header::CONTENT_TYPE, "application/cbor")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    split(r).await
}

async fn split(r: Response) -> (Response, Vec<u8>) {
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (Response::from_parts(parts, Body::empty()), bytes.to_vec())
}

fn header_of(r: &Response, h: header::HeaderName) -> String {
    r.headers()
        .get(h)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Submits and checks the receipt: log signature, origin, inclusion proof.
async fn submit_ok(app: &Router, e: &Election, t: &SignedTally) -> Receipt {
    let (r, body) = post(app, t.to_bytes()).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let receipt = Receipt::parse(&body).unwrap();
    receipt
        .verify(t.as_bytes(), e.log.verifier(), &e.manifest.log.origin)
        .unwrap();
    receipt
}

async fn error_of(app: &Router, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let (r, b) = post(app, body).await;
    assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/json");
    (r.status(), serde_json::from_slice(&b).unwrap())
}

async fn tree_size(app: &Router) -> u64 {
    let (_, body) = get(app, "/checkpoint").await;
    let text = String::from_utf8(body).unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

/// Waits until the static pages show what the server has committed.
async fn pages_written(h: &Harness) {
    let site = h.server.read_api().site().unwrap().clone();
    let done = tokio::task::spawn_blocking(move || site.wait(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(done, "the pages were written");
}

async fn shutdown(h: Harness) {
    let s = h.server.clone();
    tokio::task::spawn_blocking(move || s.shutdown())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_tally_is_served_by_every_read_path() {
    let h = start();
    let e = election();
    let unit = e.units("C-NORTH", "mayor")[0].clone();
    let t = e.tally(&e.north, &unit, "mayor", 100).sign(&e.north);
    let receipt = submit_ok(&h.app, &e, &t).await;
    assert_eq!(receipt.index, 0);

    let (r, body) = get(&h.app, "/checkpoint").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header_of(&r, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "public, max-age=2");
    assert_eq!(body, receipt.checkpoint_note);

    let (r, body) = get(&h.app, "/tile/0/000.p/1").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header_of(&r, header::CONTENT_TYPE),
        "application/octet-stream"
    );
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "public, max-age=2");
    assert_eq!(body, leaf_hash(t.as_bytes()).as_bytes().to_vec());

    let (r, body) = get(&h.app, "/tile/entries/000.p/1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut bundle = (t.as_bytes().len() as u16).to_be_bytes().to_vec();
    bundle.extend_from_slice(t.as_bytes());
    assert_eq!(body, bundle);

    for missing in [
        "/tile/0/000",
        "/tile/0/000.p/2",
        "/tile/1/000.p/1",
        "/tile/0/x000/000.p/1",
    ] {
        let (r, _) = get(&h.app, missing).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    let (r, body) = get(&h.app, "/manifest").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/cbor");
    assert_eq!(body, std::fs::read(example("manifest.signed")).unwrap());

    let (r, body) = get(&h.app, "/totals").await;
    assert_eq!(r.status(), StatusCode::OK);
    let totals = SignedTotals::from_bytes(&body, &e.manifest.log.key).unwrap();
    let tb = totals.totals();
    assert_eq!(tb.checkpoint.size, 1);
    let row = tb.row("mayor", None).unwrap();
    assert_eq!(row.units_reporting, 1);
    assert_eq!(row.ballots_cast, t.tally().ballots_cast);
    assert_eq!(row.choices, t.tally().choices);

    pages_written(&h).await;
    let (r, body) = get(&h.app, &format!("/units/{unit}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/json");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["unit"], unit.as_str());
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["index"], 0);
    assert_eq!(entries[0]["latest"], true);
    assert_eq!(entries[0]["entry"], hex::encode(t.as_bytes()));

    let (r, _) = get(&h.app, "/units/no-such-unit").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let (r, body) = get(&h.app, "/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("tallyboard_submissions_accepted_total 1\n"),
        "{text}"
    );
    assert!(text.contains("tallyboard_tree_size 1\n"), "{text}");
    assert!(
        text.contains("tallyboard_submit_latency_seconds_count 1\n"),
        "{text}"
    );
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_tally_twice_gets_the_same_index() {
    let h = start();
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    let a = e.tally(&e.north, &units[0], "mayor", 10).sign(&e.north);
    let b = e.tally(&e.north, &units[1], "mayor", 20).sign(&e.north);
    assert_eq!(submit_ok(&h.app, &e, &a).await.index, 0);
    assert_eq!(submit_ok(&h.app, &e, &b).await.index, 1);
    assert_eq!(submit_ok(&h.app, &e, &a).await.index, 0);
    assert_eq!(tree_size(&h.app).await, 2);
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_names_the_problem_and_stores_nothing() {
    let h = start();
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    let first = e.tally(&e.north, &units[0], "mayor", 10).sign(&e.north);
    submit_ok(&h.app, &e, &first).await;

    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            vec![0u8; 20_000],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
        ),
        (b"not cbor".to_vec(), StatusCode::BAD_REQUEST, ""),
        (
            {
                // A flipped byte in the signature.
                let mut b = e
                    .tally(&e.north, &units[1], "mayor", 10)
                    .sign(&e.north)
                    .to_bytes();
                let n = b.len();
                b[n - 1] ^= 1;
                b
            },
            StatusCode::BAD_REQUEST,
            "bad-signature",
        ),
        (
            e.tally(&e.north, "no-such-unit", "mayor", 10)
                .sign(&e.north)
                .to_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-unit",
        ),
        (
            // C-COAST's key signing for a C-NORTH unit.
            {
                let mut t = e.tally(&e.north, &units[1], "mayor", 10);
                t.signer = e.coast.public_key();
                t.sign(&e.coast).to_bytes()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signer-not-responsible",
        ),
        (
            {
                let mut t = e.tally(&e.north, &units[1], "mayor", 10);
                t.ballots_cast += 1;
                t.sign(&e.north).to_bytes()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "arithmetic-mismatch",
        ),
        (
            // A second first revision for the same unit and contest.
            e.tally(&e.north, &units[0], "mayor", 11)
                .sign(&e.north)
                .to_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "first-revision-exists",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = error_of(&h.app, body).await;
        assert_eq!(s, status, "{v}");
        if !code.is_empty() {
            assert_eq!(v["error"], code, "{v}");
        }
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(v["violations"][0]["code"], code, "{v}");
        }
    }
    assert_eq!(tree_size(&h.app).await, 1, "nothing refused was stored");
    let (_, body) = get(&h.app, "/metrics").await;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("tallyboard_submissions_refused_total{reason=\"first-revision-exists\"} 1"),
        "{text}"
    );
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correction_replaces_the_counted_figures_and_stale_ones_are_refused() {
    let h = start();
    let e = election();
    let unit = e.units("C-NORTH", "mayor")[0].clone();
    let r1 = e.tally(&e.north, &unit, "mayor", 10).sign(&e.north);
    submit_ok(&h.app, &e, &r1).await;
    let leaf1: Hash = r1.leaf_hash();
    let mut c = r1.tally().correction(leaf1, "transcription error");
    let first_choice = c.choices.keys().next().unwrap().clone();
    *c.choices.get_mut(&first_choice).unwrap() += 5;
    c.ballots_cast += 5;
    let r2 = c.sign(&e.north);
    assert_eq!(submit_ok(&h.app, &e, &r2).await.index, 1);

    let (_, body) = get(&h.app, "/totals").await;
    let totals = SignedTotals::from_bytes(&body, &e.manifest.log.key).unwrap();
    let row = totals.totals().row("mayor", None).unwrap();
    assert_eq!(row.units_reporting, 1);
    assert_eq!(row.ballots_cast, r2.tally().ballots_cast);

    pages_written(&h).await;
    let (_, body) = get(&h.app, &format!("/units/{unit}")).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["latest"], false);
    assert_eq!(entries[1]["latest"], true);
    assert_eq!(entries[1]["supersedes"], leaf1.to_hex());
    assert_eq!(entries[1]["reason"], "transcription error");

    // Another correction of revision 1: stale.
    let mut stale = r1.tally().correction(leaf1, "again");
    stale.counted_at += 1;
    let (s, v) = error_of(&h.app, stale.sign(&e.north).to_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "supersedes-stale-revision", "{v}");
    assert_eq!(tree_size(&h.app).await, 2);
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_pool_refuses_submissions_while_reads_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.sequencer = SequencerConfig {
        interval: Duration::from_secs(30),
        max_pending: 1,
        max_batch: 10,
    };
    let h = start_in(dir, c);
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    // The idle sequencer commits the first submission at once.
    submit_ok(
        &h.app,
        &e,
        &e.tally(&e.north, &units[0], "mayor", 1).sign(&e.north),
    )
    .await;
    // The second waits for the next batch, 30 s later.
    let app = h.app.clone();
    let t2 = e.tally(&e.north, &units[1], "mayor", 2).sign(&e.north);
    let waiting = tokio::spawn(async move { post(&app, t2.to_bytes()).await });
    // Only once it is pooled is the pool full (otherwise the third tally
    // could take its place and wait for the batch itself).
    for _ in 0..500 {
        let (_, m) = get(&h.app, "/metrics").await;
        if String::from_utf8_lossy(&m).contains("\ntallyboard_pending_submissions 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut refused = None;
    for _ in 0..100 {
        let (r, b) = post(
            &h.app,
            e.tally(&e.north, &units[2], "mayor", 3)
                .sign(&e.north)
                .to_bytes(),
        )
        .await;
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some((r, b));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (r, b) = refused.expect("the pool never filled");
    assert_eq!(header_of(&r, header::RETRY_AFTER), "1");
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"], "pool-full");
    let (r, _) = get(&h.app, "/checkpoint").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Graceful shutdown commits the pooled submission and answers it.
    shutdown(h).await;
    let (r, body) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(Receipt::parse(&body).unwrap().index, 1);
}

/// The router as seen from client address 127.0.0.`last`.
fn from_address(h: &Harness, last: u8) -> Router {
    h.server.router().layer(MockConnectInfo(SocketAddr::from((
        [127, 0, 0, last],
        40000,
    ))))
}

async fn post_typed(
    app: &Router,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (Response, Vec<u8>) {
    let mut req = Request::post("/submit");
    if let Some(t) = content_type {
        req = req.header(header::CONTENT_TYPE, t);
    }
    let r = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    split(r).await
}

fn error_code(r: &Response, body: &[u8]) -> String {
    assert_eq!(header_of(r, header::CONTENT_TYPE), "application/json");
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["error"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_submissions_are_limited_per_key_not_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    // One refused submission per address at most, one valid one per key.
    c.rate_per_client = 0.01;
    c.burst_per_client = 1.0;
    c.rate_per_key = 0.01;
    c.burst_per_key = 2.0;
    let h = start_in(dir, c);
    let e = election();
    let north = e.units("C-NORTH", "mayor");
    let coast = e.units("C-COAST", "mayor");
    // Two count centres behind one address: four valid submissions, more
    // than the address's limit, all accepted.
    for u in &north[..2] {
        submit_ok(&h.app, &e, &e.tally(&e.north, u, "mayor", 1).sign(&e.north)).await;
    }
    for u in &coast[..2] {
        submit_ok(&h.app, &e, &e.tally(&e.coast, u, "mayor", 1).sign(&e.coast)).await;
    }
    // A third from C-NORTH's key is over the key's limit, from any address.
    let third = e.tally(&e.north, &north[2], "mayor", 1).sign(&e.north);
    for app in [&h.app, &from_address(&h, 2)] {
        let (r, b) = post(app, third.to_bytes()).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(!header_of(&r, header::RETRY_AFTER).is_empty());
        assert_eq!(error_code(&r, &b), "key-rate-limited");
    }
    let (_, m) = get(&h.app, "/metrics").await;
    let m = String::from_utf8(m).unwrap();
    for line in [
        "tallyboard_submissions_accepted_total 4",
        "tallyboard_submissions_refused_total{reason=\"key-rate-limited\"} 2",
        "tallyboard_submit_rate_limit_per_second{scope=\"address\"} 0.01",
        "tallyboard_submit_rate_limit_burst{scope=\"key\"} 2",
        "tallyboard_http_connections_open 0",
    ] {
        assert!(m.contains(line), "{line} missing from\n{m}");
    }
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_submissions_are_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.rate_per_client = 0.01;
    c.burst_per_client = 3.0;
    c.rate_per_key = 0.01;
    c.burst_per_key = 1.0;
    let h = start_in(dir, c);
    let e = election();
    let north = e.units("C-NORTH", "mayor");
    // Bad signatures under C-NORTH's key: refused, charged to the address
    // that sent them, not to the key.
    let mut forged = e
        .tally(&e.north, &north[0], "mayor", 1)
        .sign(&e.north)
        .to_bytes();
    let n = forged.len();
    forged[n - 1] ^= 1;
    for _ in 0..2 {
        let (r, b) = post(&h.app, forged.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&r, &b), "bad-signature");
    }
    let (r, b) = post(&h.app, b"not cbor".to_vec()).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "{}",
        error_code(&r, &b)
    );
    // The flooding address is now refused whatever it sends.
    let valid = e.tally(&e.north, &north[0], "mayor", 1).sign(&e.north);
    for body in [b"not cbor".to_vec(), valid.to_bytes()] {
        let (r, b) = post(&h.app, body).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(!header_of(&r, header::RETRY_AFTER).is_empty());
        assert_eq!(error_code(&r, &b), "rate-limited");
    }
    // Another address is not limited, and C-NORTH's key was not used up
    // by the forgeries.
    submit_ok(&from_address(&h, 2), &e, &valid).await;
    let (_, m) = get(&h.app, "/metrics").await;
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("tallyboard_submissions_refused_total{reason=\"rate-limited\"} 2"),
        "{m}"
    );
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_requires_the_cbor_content_type() {
    let h = start();
    let e = election();
    let north = e.units("C-NORTH", "mayor");
    let t = e.tally(&e.north, &north[0], "mayor", 1).sign(&e.north);
    for ct in [
        None,
        Some("text/plain"),
        Some("application/json"),
        Some("application/cbor-seq"),
    ] {
        let (r, b) = post_typed(&h.app, ct, t.to_bytes()).await;
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert_eq!(error_code(&r, &b), "unsupported-media-type");
    }
    assert_eq!(tree_size(&h.app).await, 0);
    // Case and parameters do not matter.
    let (r, b) = post_typed(&h.app, Some("Application/CBOR; q=1"), t.to_bytes()).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&b)
    );
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rebuilds_totals_units_and_revision_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    let a = e.tally(&e.north, &units[0], "mayor", 7).sign(&e.north);
    let before_totals = {
        let h = start_in(tempfile::tempdir().unwrap(), config(&path));
        submit_ok(&h.app, &e, &a).await;
        let (_, t) = get(&h.app, "/totals").await;
        shutdown(h).await;
        t
    };
    let h = start_in(dir, config(&path));
    let (_, t) = get(&h.app, "/totals").await;
    assert_eq!(t, before_totals);
    pages_written(&h).await;
    let (_, body) = get(&h.app, &format!("/units/{}", units[0])).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1, "{v}");
    // Resubmission: same index; a new first revision: refused.
    assert_eq!(submit_ok(&h.app, &e, &a).await.index, 0);
    let (s, v) = error_of(
        &h.app,
        e.tally(&e.north, &units[0], "mayor", 8)
            .sign(&e.north)
            .to_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "first-revision-exists");
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_page_and_unit_page_are_static_files() {
    let h = start();
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    let t = e.tally(&e.north, &units[0], "mayor", 40).sign(&e.north);
    submit_ok(&h.app, &e, &t).await;
    pages_written(&h).await;

    let (r, body) = get(&h.app, "/").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header_of(&r, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let page = String::from_utf8(body.clone()).unwrap();
    // The page served is the file of public/: nothing rendered per request.
    let public = h.dir.path().join("public");
    assert_eq!(std::fs::read(public.join("index.html")).unwrap(), body);
    // Only the site's own files: the stylesheet and the verifier's script,
    // no inline script or style the policy would block.
    let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(page.contains("<meta http-equiv=\"Content-Security-Policy\""));
    assert!(
        !page.contains("<style") && !page.contains("style="),
        "{page}"
    );
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/site/style.css\">"));
    assert!(page.contains("<script type=\"module\" src=\"/site/verify.js\"></script>"));
    let (css, sheet) = get(&h.app, "/site/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        header_of(&css, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    assert!(String::from_utf8(sheet).unwrap().contains(".notice"));
    let mayor = e.manifest.contest("mayor").unwrap();
    assert!(page.contains(&mayor.title), "contest title shown");
    let expected = e
        .manifest
        .units
        .iter()
        .filter(|u| u.contests.iter().any(|c| c == "mayor"))
        .count();
    assert!(
        page.contains(&format!(
            "<span data-tb-fig=\"mayor|*|units_reporting\">1</span> of \
             <span data-tb-fig=\"mayor|*|units_expected\">{expected}</span> reporting units"
        )),
        "units reporting shown: {page}"
    );
    assert!(page.contains("(log size 1)"), "checkpoint shown");

    let r = h
        .app
        .clone()
        .oneshot(
            Request::get(format!("/units/{}", units[0]))
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let (r, body) = split(r).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header_of(&r, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header_of(&r, header::VARY), "Accept");
    assert_eq!(header_of(&r, header::CONTENT_SECURITY_POLICY), csp);
    let page = String::from_utf8(body.clone()).unwrap();
    assert!(
        page.contains("Counted: this is the latest revision."),
        "{page}"
    );
    assert!(page.contains(&format!("data-tb-leaf-hash=\"{}\"", t.leaf_hash().to_hex())));
    let (r2, same) = get(&h.app, &format!("/units/{}/", units[0])).await;
    assert_eq!(r2.status(), StatusCode::OK);
    assert_eq!(same, body, "/units/<id>/ is the same page");
    // The signed tally, as logged.
    let (r3, cbor) = get(&h.app, &format!("/units/{}/1-mayor.cbor", units[0])).await;
    assert_eq!(r3.status(), StatusCode::OK);
    assert_eq!(cbor, t.to_bytes());
    // Nothing outside public/, nothing hidden.
    for bad in [
        "/../Cargo.toml",
        "/units/%2e%2e/x",
        "/.lock",
        "/regions/../../x",
    ] {
        let (r, _) = get(&h.app, bad).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    shutdown(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_dir_holds_the_served_manifest_and_totals() {
    let h = start();
    let public = h.dir.path().join("public");
    let (_, manifest) = get(&h.app, "/manifest").await;
    assert_eq!(std::fs::read(public.join("manifest")).unwrap(), manifest);
    // Totals of the empty log from the start, then after every commit.
    let (_, empty) = get(&h.app, "/totals").await;
    assert_eq!(std::fs::read(public.join("totals")).unwrap(), empty);
    let e = election();
    let units = e.units("C-NORTH", "mayor");
    let t = e.tally(&e.north, &units[0], "mayor", 40).sign(&e.north);
    submit_ok(&h.app, &e, &t).await;
    let (_, served) = get(&h.app, "/totals").await;
    assert_ne!(served, empty);
    assert_eq!(std::fs::read(public.join("totals")).unwrap(), served);
    let on_disk = SignedTotals::from_bytes(&served, &e.manifest.log.key).unwrap();
    assert_eq!(on_disk.totals().checkpoint.size, 1);
    // Nothing else but the log's own files, these two, the results files
    // derived from the totals (spec/results.md) and the pages.
    pages_written(&h).await;
    let mut names: Vec<String> = std::fs::read_dir(&public)
        .unwrap()
        .map(|d| d.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "checkpoint",
            "index.html",
            "manifest",
            "paper",
            "regions",
            "results.csv",
            "results.err.json",
            "results.json",
            "search",
            "search.html",
            "site",
            "tile",
            "totals",
            "totals.json",
            "units",
        ]
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["checkpoint"]["size"], 1);
    shutdown(h).await;
}
