//! Sustained submissions with durable acknowledgements, through the
//! sequencer into a log on local disk.
//!
//!     cargo run --release -p tallyboard-log --example bench_sequencer -- [SECONDS] [SUBMITTERS] [INTERVAL_MS]
//!
//! Each submitter thread sends 300-byte entries one after the other and
//! waits for each receipt (so SUBMITTERS is the number of requests in
//! flight). Prints submissions per second, p50/p99/max submit-to-receipt
//! latency and the tree size reached.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tallyboard_core::SecretKey;
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_log::{Log, Options, Sequencer, SequencerConfig};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let secs = args.first().copied().unwrap_or(10);
    let submitters = args.get(1).copied().unwrap_or(2000);
    let interval = args.get(2).copied().unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let key = SignerKey::new(
        "bench.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[1; 32]),
    )
    .unwrap();
    let log = Log::open(dir.path(), key, Options::default()).unwrap();
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
    let latencies = rt.block_on(async {
        let mut tasks = Vec::new();
        let local = tokio::task::LocalSet::new();
        for t in 0..submitters {
            let seq = seq.clone();
            let stop = stop.clone();
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
    let mut l = latencies;
    l.sort_unstable();
    let q = |p: f64| l[((l.len() as f64 - 1.0) * p) as usize];
    println!(
        "{} durable submissions in {elapsed:.1} s = {:.0}/s; latency p50 {:?} p99 {:?} max {:?}; tree size {}; {} batches",
        l.len(),
        l.len() as f64 / elapsed,
        q(0.5),
        q(0.99),
        l[l.len() - 1],
        seq.checkpoint().size,
        seq.stats().batches
    );
}
