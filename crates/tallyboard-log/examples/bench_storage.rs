//! Durable sequencing throughput on object storage against the local data
//! directory, in the same run, and the time a standby needs to take over.
//!
//!     cargo run --release -p tallyboard-log --example bench_storage -- [SECONDS] [SUBMITTERS] [INTERVAL_MS] [TAKEOVER_MS]
//!
//! Back-ends: the local directory (fsync, rename), object_store's
//! in-memory store (the protocol's cost without a network), and a real S3
//! server: the one at `AWS_ENDPOINT` (bucket from `BENCH_BUCKET`, default
//! `bench`, which must exist) or, if unset, a `moto_server` this example
//! starts on 127.0.0.1 and stops. Each submitter sends 300-byte entries one
//! after the other and waits for each receipt. Then the takeover: a
//! sequencer stops (its last heartbeat is the start of the clock), a
//! standby polls the state, finds it unchanged for TAKEOVER_MS, takes it
//! over by compare-and-swap and recovers; printed is the time until it
//! could commit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tallyboard_core::SecretKey;
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_log::{Log, ObjectOptions, ObjectStorage, Options, Sequencer, SequencerConfig};

fn key() -> SignerKey {
    SignerKey::new(
        "bench.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[1; 32]),
    )
    .unwrap()
}

/// Runs `submitters` closed-loop submitters for `secs`; (submissions/s,
/// p50, p99, tree size).
fn run(log: Log, secs: u64, submitters: u64, interval: u64) -> (f64, Duration, Duration, u64) {
    let cfg = SequencerConfig {
        interval: Duration::from_millis(interval),
        max_pending: 100_000,
        max_batch: 100_000,
    };
    let seq = Arc::new(Sequencer::start(log, cfg).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut lat = rt.block_on(async {
        let local = tokio::task::LocalSet::new();
        let mut tasks = Vec::new();
        for t in 0..submitters {
            let (seq, stop) = (seq.clone(), stop.clone());
            tasks.push(local.spawn_local(async move {
                let mut lat = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut e = format!("submitter {t} entry {i} ").into_bytes();
                    e.resize(300, b'.');
                    let t0 = Instant::now();
                    seq.submit(e).unwrap().await.unwrap();
                    lat.push(t0.elapsed());
                    i += 1;
                }
                lat
            }));
        }
        let stopper = stop.clone();
        local
            .run_until(async move {
                tokio::task::spawn_blocking(move || {
                    std::thread::sleep(Duration::from_secs(secs));
                    stopper.store(true, Ordering::Relaxed);
                })
                .await
                .unwrap();
                let mut all = Vec::new();
                for t in tasks {
                    all.extend(t.await.unwrap());
                }
                all
            })
            .await
    });
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    (
        lat.len() as f64 / elapsed,
        q(0.5),
        q(0.99),
        seq.checkpoint().size,
    )
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The S3 storage to measure, starting moto if no endpoint is set.
fn s3(prefix: &str) -> (Arc<ObjectStorage>, Option<Moto>) {
    let bucket = std::env::var("BENCH_BUCKET").unwrap_or_else(|_| "bench".to_owned());
    let mut moto = None;
    if std::env::var_os("AWS_ENDPOINT").is_none() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server (scripts/install-moto.sh installs it)");
        moto = Some(Moto(child));
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(format!("http://{addr}"))
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id("bench")
            .with_secret_access_key("bench")
            .with_bucket_name(&bucket)
            .build()
            .unwrap();
        create_bucket(&addr, &bucket);
        let s = ObjectStorage::new(Arc::new(store), prefix, &format!("s3://{bucket}")).unwrap();
        return (Arc::new(s), moto);
    }
    let s = ObjectStorage::from_url(&format!("s3://{bucket}/{prefix}")).unwrap();
    (Arc::new(s), moto)
}

fn create_bucket(addr: &str, bucket: &str) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    assert!(r.starts_with("HTTP/1.1 200"), "creating the bucket: {r}");
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let secs = args.first().copied().unwrap_or(10);
    let submitters = args.get(1).copied().unwrap_or(2000);
    let interval = args.get(2).copied().unwrap_or(250);
    let takeover = Duration::from_millis(args.get(3).copied().unwrap_or(1000));
    let obj = |holder: &str| ObjectOptions {
        holder: holder.to_owned(),
        heartbeat: Duration::from_millis(100),
        takeover: None,
    };
    println!(
        "{secs} s per back-end, {submitters} submitters, {interval} ms interval, 300-byte entries"
    );
    let report = |name: &str, (rate, p50, p99, size): (f64, Duration, Duration, u64), base: f64| {
        println!(
            "{name:<28} {rate:>9.0}/s  ({:>5.1}% of local)  p50 {p50:>10.2?}  p99 {p99:>10.2?}  tree size {size}",
            100.0 * rate / base
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let local = run(
        Log::open(dir.path(), key(), Options::default()).unwrap(),
        secs,
        submitters,
        interval,
    );
    report("local directory (fsync)", local, local.0);
    let mem = Arc::new(
        ObjectStorage::new(
            Arc::new(object_store::memory::InMemory::new()),
            "log",
            "memory://bench",
        )
        .unwrap(),
    );
    let m = run(
        Log::open_object(mem, key(), Options::default(), obj("mem")).unwrap(),
        secs,
        submitters,
        interval,
    );
    report("object_store in-memory", m, local.0);
    let (s3, moto) = s3("log");
    let name = if moto.is_some() {
        "S3 (moto, 127.0.0.1)"
    } else {
        "S3 (AWS_ENDPOINT)"
    };
    let r = run(
        Log::open_object(s3.clone(), key(), Options::default(), obj("bench-a")).unwrap(),
        secs,
        submitters,
        interval,
    );
    report(name, r, local.0);

    // Takeover: the sequencer above has stopped; its last write of the
    // state is where the clock starts (a standby cannot tell a stop from
    // a kill). The standby polls every 50 ms.
    let mut times = Vec::new();
    for round in 0..3 {
        let log = Log::open_object(s3.clone(), key(), Options::default(), obj("old")).unwrap();
        drop(log);
        let t0 = Instant::now();
        let stale = s3
            .wait_until_stale(takeover, Duration::from_millis(50), &mut |_| true)
            .unwrap()
            .unwrap();
        let detected = t0.elapsed();
        let mut log = Log::open_object(
            s3.clone(),
            key(),
            Options::default(),
            ObjectOptions {
                takeover: Some(stale),
                ..obj("standby")
            },
        )
        .unwrap();
        let mut e = format!("takeover {round}").into_bytes();
        e.resize(300, b'.');
        log.append(&[e]).unwrap();
        let ready = t0.elapsed();
        times.push(ready);
        println!(
            "takeover {round}: stale after {detected:.2?} (threshold {takeover:?}), first commit {ready:.2?}, tree size {}",
            log.checkpoint().size
        );
    }
    drop(moto);
}
