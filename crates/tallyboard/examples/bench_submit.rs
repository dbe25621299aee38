//! The count centres' client, `tallyboard submit`, against a publication
//! server on 127.0.0.1: its CPU per tally and its pace.
//!
//!     cargo build --release -p tallyboard --bin tallyboard
//!     cargo run --release -p tallyboard --example bench_submit -- [TALLIES] [INTERVAL_MS]
//!
//! Writes TALLIES (default 50,000) signed tally files of the scaled example
//! election (signed once, cached under `target/bench-tallies/`), starts the
//! server in this process (rate limits lifted, INTERVAL_MS batches, default
//! 100 ms), and runs the release `tallyboard submit` binary on the
//! directory with its default number in flight, every receipt checked and
//! stored. Prints the client's CPU time per tally (user plus system, its
//! own process), the submissions per second and the strict-verification
//! limit measured in the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tallyboard_core::manifest::SignedManifest;
use tallyboard_log::SequencerConfig;
use tallyboard_server::{Config, Server};
use tallyboard_testkit::bench::{
    cached_tallies, children_cpu_time, report, run_dir, strict_limit_of,
};
use tallyboard_testkit::example::signer as key;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let n = args.first().copied().unwrap_or(50_000).min(240_000);
    let interval = args.get(1).copied().unwrap_or(100);
    let (manifest_path, mut entries) = cached_tallies(240_000);
    entries.truncate(n as usize);
    let exe = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("tallyboard");
    assert!(
        exe.is_file(),
        "build the binary first: cargo build --release -p tallyboard --bin tallyboard"
    );
    let dir = run_dir("submit");
    let files = dir.join("tallies");
    let receipts = dir.join("receipts");
    std::fs::create_dir_all(&files).unwrap();
    for (i, e) in entries.iter().enumerate() {
        std::fs::write(files.join(format!("t{i:07}.tally")), e).unwrap();
    }
    let signed = SignedManifest::from_bytes(&std::fs::read(&manifest_path).unwrap(), None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (secs, cpu, ok) = rt.block_on(async {
        let mut c = Config::new(dir.join("origin"));
        c.sequencer = SequencerConfig {
            interval: Duration::from_millis(interval),
            max_pending: 100_000,
            max_batch: 100_000,
        };
        c.rate_per_key = 1e9;
        c.burst_per_key = 1e9;
        let server = Server::start(signed, key("EXAMPLE-ONLY.log.key"), c).unwrap();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tallyboard_http::serve::raise_descriptor_limit();
        let served = tokio::spawn(server.clone().serve(l, async move {
            let _ = rx.await;
        }));
        let cpu0 = children_cpu_time();
        let t0 = Instant::now();
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("submit")
            .arg("--server")
            .arg(&url)
            .arg("--manifest")
            .arg(&manifest_path)
            .arg("--receipts")
            .arg(&receipts)
            .arg(&files)
            .stdout(std::process::Stdio::null());
        let status = tokio::task::spawn_blocking(move || cmd.status().unwrap())
            .await
            .unwrap();
        let secs = t0.elapsed().as_secs_f64();
        let cpu = children_cpu_time() - cpu0;
        let _ = tx.send(());
        served.await.unwrap().unwrap();
        (secs, cpu, status.success())
    });
    assert!(ok, "tallyboard submit failed");
    let stored = std::fs::read_dir(&receipts).unwrap().count();
    assert_eq!(stored, n as usize, "one receipt per tally");
    let rate = n as f64 / secs;
    let per = cpu.as_secs_f64() * 1000.0 / n as f64;
    let limit = strict_limit_of(&entries);
    println!("tallyboard submit: {n} tallies in {secs:.1} s ({rate:.0}/s), {interval} ms batches");
    println!(
        "  client CPU per tally          {per:.3} ms ({:.2} cores, its own process; receipts checked and stored)",
        cpu.as_secs_f64() / secs
    );
    println!("  strict-verification limit     {limit:.0} signatures/s");
    report(
        &format!("`tallyboard submit`: {n} tallies, default in flight, {interval} ms batches"),
        &format!("{per:.3} ms CPU/tally; {rate:.0}/s"),
        limit,
        rate / limit,
        "client CPU in its own process; every receipt checked and stored durably",
    );
}
