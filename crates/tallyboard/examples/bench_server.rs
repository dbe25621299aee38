//! Sustained, durable, signature-checked submissions to the publication
//! server, from a load generator in its own process.
//!
//!     cargo run --release -p tallyboard --example bench_server -- [SECONDS] [IN_FLIGHT] [INTERVAL_MS]
//!
//! Signs (once; cached under `target/bench-tallies/<N>/`) enough tallies of
//! the example election scaled up, starts the server in this process on
//! 127.0.0.1 (rate limits lifted, `INTERVAL_MS` batches, default 100 ms)
//! on a fresh log under `target/`, and starts this example again as the
//! load generator (`bench_server loadgen ...`): one async reqwest client
//! with IN_FLIGHT submissions in flight (default 4,000), each waiting for
//! its receipt. Runs for SECONDS (default 10) after a one-second warm-up.
//!
//! Prints submissions per second, p50/p99 submit-to-receipt latency, the
//! CPU time of the server process and of the load generator per tally, the
//! strict-verification limit measured in the same run (the same tallies'
//! signatures on every core with core's `BatchVerifier`), and the server's
//! CPU per tally beyond its signature check. The last lines (`BENCH|...`)
//! are for `scripts/bench.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tallyboard_core::manifest::SignedManifest;
use tallyboard_log::SequencerConfig;
use tallyboard_server::{Config, Server};
use tallyboard_testkit::bench::{
    cached_tallies, cpu_time, cpu_time_by_thread, cpu_time_by_thread_since, read_tallies, report,
    run_dir, strict_limit_and_cost, tallies_file, threads,
};
use tallyboard_testkit::example::signer as key;

// The allocator of the `tallyboard` binary, which this measures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The load generator (its own process): `loadgen URL FILE SECONDS
/// IN_FLIGHT`. Prints one line: `sent accepted other p50_us p99_us
/// max_us cpu_ms seconds`.
fn loadgen(args: &[String]) {
    let url = format!("{}/submit", args[0]);
    let entries = Arc::new(read_tallies(Path::new(&args[1])));
    let secs: u64 = args[2].parse().unwrap();
    let in_flight: usize = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(in_flight)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        let warmup = Duration::from_secs(1);
        let begun = Instant::now();
        let deadline = begun + warmup + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for _ in 0..in_flight {
            let (client, entries, next, url) =
                (client.clone(), entries.clone(), next.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let (mut ok, mut other) = (0u64, 0u64);
                loop {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(e) = entries.get(i) else { break };
                    let r = client
                        .post(&url)
                        .header("content-type", "application/cbor")
                        .body(e.clone())
                        .send()
                        .await;
                    let good = match r {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    // Only requests sent after the warm-up count.
                    if now >= begun + warmup {
                        if good {
                            ok += 1;
                            lat.push(now.elapsed());
                        } else {
                            other += 1;
                        }
                    }
                }
                (lat, ok, other)
            }));
        }
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        let mut lat = Vec::new();
        let (mut ok, mut other) = (0, 0);
        for t in tasks {
            let (l, a, b) = t.await.unwrap();
            lat.extend(l);
            ok += a;
            other += b;
        }
        let cpu = cpu_time() - cpu0;
        let elapsed = t0.elapsed().as_secs_f64() - warmup.as_secs_f64();
        lat.sort();
        let q = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map_or(0, |d| d.as_micros())
        };
        let sent = next.load(Ordering::Relaxed);
        println!(
            "{sent} {ok} {other} {} {} {} {} {elapsed:.3}",
            q(0.5),
            q(0.99),
            lat.last().map_or(0, |d| d.as_micros()),
            cpu.as_millis()
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("loadgen") {
        return loadgen(&args[1..]);
    }
    let num = |i: usize, d: u64| args.get(i).map_or(d, |a| a.parse().unwrap());
    let secs = num(0, 10);
    let in_flight = num(1, 4000);
    let interval = num(2, 100);
    // Enough tallies for 20,000 a second (the same set as bench_submit's).
    let n = ((secs + 2) * 20_000).max(240_000);
    let (manifest_path, entries) = cached_tallies(n);
    let file = tallies_file(n);
    let signed = SignedManifest::from_bytes(&std::fs::read(&manifest_path).unwrap(), None).unwrap();
    let data = run_dir("server");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (server_cpu, by_thread, wall, gen_line) = rt.block_on(async {
        let mut c = Config::new(data.clone());
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
        let mut limits = tallyboard_http::serve::Limits::default();
        limits.max_connections = limits.max_connections.max(in_flight as usize + 64);
        tallyboard_http::serve::raise_descriptor_limit();
        let srv = server.clone();
        let served = tokio::spawn(async move {
            srv.serve_with(l, &limits, async move {
                let _ = rx.await;
            })
            .await
        });
        let exe = std::env::current_exe().unwrap();
        let mut child = std::process::Command::new(exe)
            .args(["loadgen", &url, file.to_str().unwrap()])
            .arg(secs.to_string())
            .arg(in_flight.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The measured window starts after the load generator's warm-up.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let cpu0 = cpu_time();
        let threads0 = cpu_time_by_thread();
        let t0 = Instant::now();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .unwrap();
            line
        })
        .await
        .unwrap();
        let cpu = cpu_time() - cpu0;
        let by_thread = cpu_time_by_thread_since(&threads0);
        let wall = t0.elapsed();
        child.wait().unwrap();
        let metrics = reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for l in metrics.lines().filter(|l| {
            l.starts_with("tallyboard_batches_total") || l.starts_with("tallyboard_last_commit")
        }) {
            eprintln!("{l}");
        }
        // Not waiting for the server to stop: its site writer is still
        // writing the pages of every unit of the election (see below).
        drop(tx);
        drop(served);
        (cpu, by_thread, wall, line)
    });
    let f: Vec<f64> = gen_line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (accepted, other, p50, p99, max, gen_cpu_ms, secs_run) =
        (f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
    let rate = accepted / secs_run;
    let (limit, sig_cpu) = strict_limit_and_cost(&entries);
    let sig_ms = sig_cpu.as_secs_f64() * 1000.0;
    // The server's CPU over the measured window (it also includes the
    // tail of the run, where fewer submissions arrive: an upper bound).
    let server_ms = server_cpu.as_secs_f64() * 1000.0 / accepted;
    let gen_ms = gen_cpu_ms / accepted;
    // The server's threads: the submission path (HTTP on tokio's workers,
    // the checkers, the sequencer) and the rest (the site writer and its
    // renderers at a lower priority, threads that ended).
    let per = |prefix: &str| -> f64 {
        by_thread
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, c)| c.as_secs_f64())
            .sum::<f64>()
            * 1000.0
            / accepted
    };
    let (http_ms, check_ms, seq_ms) = (
        per("tokio-rt-worker"),
        per("tallyboard-chec"),
        per("tallyboard-sequ"),
    );
    let path_ms = http_ms + check_ms + seq_ms;
    let site_ms = per("site-");
    let rest_ms = server_ms - path_ms - site_ms;
    let beyond = path_ms - sig_ms;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "server: {accepted:.0} submissions accepted in {secs_run:.1} s ({other:.0} other answers), {in_flight} in flight, {interval} ms batches, {} cores",
        threads()
    )
    .unwrap();
    writeln!(
        out,
        "  sustained                     {rate:.0} submissions/s"
    )
    .unwrap();
    writeln!(
        out,
        "  submit to receipt             p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({:.2} intervals at p99)",
        p50 / 1000.0,
        p99 / 1000.0,
        max / 1000.0,
        p99 / 1000.0 / interval as f64
    )
    .unwrap();
    writeln!(
        out,
        "  server CPU per tally          {server_ms:.3} ms ({:.2} cores over {:.1} s)",
        server_cpu.as_secs_f64() / wall.as_secs_f64(),
        wall.as_secs_f64()
    )
    .unwrap();
    writeln!(
        out,
        "  submission path               {path_ms:.3} ms: HTTP and decoding (tokio's workers) {http_ms:.3}, checkers {check_ms:.3}, sequencer {seq_ms:.3}"
    )
    .unwrap();
    writeln!(
        out,
        "  the site's pages              {site_ms:.3} ms (writer and remover at nice 10; here mostly the first pages of the election's {n} units, which a server writes once, before the night)"
    )
    .unwrap();
    writeln!(
        out,
        "  other threads                 {rest_ms:.3} ms (threads that ended, the page renderers among them; timers)"
    )
    .unwrap();
    writeln!(
        out,
        "  of which the signature check  {sig_ms:.3} ms (CPU of one strict check, measured below)"
    )
    .unwrap();
    writeln!(
        out,
        "  submission path beyond the check {beyond:.3} ms per tally"
    )
    .unwrap();
    writeln!(
        out,
        "  load generator CPU per tally  {gen_ms:.3} ms ({:.2} cores, its own process)",
        gen_cpu_ms / 1000.0 / secs_run
    )
    .unwrap();
    writeln!(
        out,
        "  strict-verification limit     {limit:.0} signatures/s on {} threads",
        threads()
    )
    .unwrap();
    drop(out);
    report(
        &format!(
            "server: durable signature-checked submissions ({in_flight} in flight, {interval} ms batches)"
        ),
        &format!("{rate:.0}/s"),
        limit,
        rate / limit,
        &format!(
            "p99 {:.0} ms ({:.1} intervals); submission path beyond the check {beyond:.3} ms/tally (whole server {:.3}, its pages included); load generator {gen_ms:.3} ms/tally",
            p99 / 1000.0,
            p99 / 1000.0 / interval as f64,
            server_ms - sig_ms
        ),
    );
    // The data directory is left to the next run (which moves it to the
    // trash): the site writer is still writing into it.
    std::process::exit(0);
}
