//! The read path: the publication server against nginx on the same files
//! in the same run (`wrk -t2 -c64`).
//!
//!     cargo run --release -p tallyboard --example bench_read -- [SECONDS]
//!
//! Writes (once; cached under `target/bench-read/`) an origin log of 65,536
//! signed tallies, starts the publication server on it in this process and
//! nginx (one worker, access log off) over the same `public/` directory,
//! waits for the server's site writer to write the static pages, and runs
//! `wrk -t2 -c64 -dSECONDS` (default 5) against each for a full tile, a
//! full entry bundle, the checkpoint, the front page, a region page, a
//! unit page and a search shard. wrk runs on the same machine: on 2 cores it
//! takes about one of them from whichever server it measures. Prints
//! requests per second and the ratio to nginx's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use tallyboard_core::manifest::SignedManifest;
use tallyboard_log::{Log, Options};
use tallyboard_server::{Config, Server};
use tallyboard_testkit::bench::{cached_tallies, run_dir};
use tallyboard_testkit::example::signer as key;
use tallyboard_testkit::nginx::{nginx_binary, start_nginx};

// The allocator of the `tallyboard` binary, which this measures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TALLIES: usize = 65_536;

/// Requests per second from `wrk -t2 -c64 -dSECS url`.
fn wrk(url: &str, secs: u64) -> f64 {
    let out = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{secs}s"), url])
        .output()
        .expect("wrk is installed (apt-get install wrk; scripts/bench.sh does it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "{url} answered errors under load:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk's output:\n{text}"))
}

fn main() {
    let secs: u64 = std::env::args().nth(1).map_or(5, |a| a.parse().unwrap());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-read");
    let data = root.join("origin");
    let (manifest_path, mut entries) = cached_tallies(240_000);
    if !root.join("complete").exists() {
        let _ = std::fs::remove_dir_all(&root);
        entries.truncate(TALLIES);
        let mut log = Log::open(&data, key("EXAMPLE-ONLY.log.key"), Options::default()).unwrap();
        log.append(&entries).unwrap();
        std::fs::write(root.join("complete"), b"").unwrap();
    }
    drop(entries);
    let signed = SignedManifest::from_bytes(&std::fs::read(&manifest_path).unwrap(), None).unwrap();
    let bin = nginx_binary().expect("nginx: run scripts/install-nginx.sh");
    let work = run_dir("read-nginx");
    let public = data.join("public");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Server::start(signed, key("EXAMPLE-ONLY.log.key"), Config::new(data.clone()))
            .unwrap();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(server.clone().serve(l, async move {
            let _ = rx.await;
        }));
        // The static site, written by the server's site writer at start.
        let site = server.read_api().site().unwrap().clone();
        let written = tokio::task::spawn_blocking(move || {
            site.wait(std::time::Duration::from_secs(3600))
        })
        .await
        .unwrap();
        assert!(written, "the site's pages were written");
        let nginx = start_nginx(&bin, &work, &public);
        let first = |dir: &str, suffix: &str| -> String {
            let mut names: Vec<String> = std::fs::read_dir(public.join(dir))
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            format!("/{dir}/{}{suffix}", names[0])
        };
        let region = first("regions", "/");
        let unit = first("units", "/");
        let shard = first("search", "");
        let paths: Vec<(&str, &str)> = vec![
            ("a full tile", "/tile/0/000"),
            ("a full entry bundle", "/tile/entries/000"),
            ("the checkpoint", "/checkpoint"),
            ("the front page", "/"),
            ("a region page", &region),
            ("a unit page", &unit),
            ("a search shard", &shard),
        ];
        println!("read path, wrk -t2 -c64 -d{secs}s on this machine (wrk shares its cores):");
        for (what, path) in paths {
            let (u, n) = (format!("{url}{path}"), format!("{}{path}", nginx.url));
            let ours = tokio::task::spawn_blocking(move || wrk(&u, secs)).await.unwrap();
            let theirs = tokio::task::spawn_blocking(move || wrk(&n, secs)).await.unwrap();
            let ratio = ours / theirs;
            println!(
                "  {what:<22} {path:<20} server {ours:>8.0}/s  nginx {theirs:>8.0}/s  ratio {ratio:.2}"
            );
            println!(
                "BENCH|read path: {what} (`{path}`)|{ours:.0} requests/s|nginx {theirs:.0} requests/s|{ratio:.2}|wrk -t2 -c64 -d{secs}s on the same machine"
            );
        }
        drop(nginx);
        // Not waiting for the server's site writer, which may still be
        // writing the pages of the election's units.
        drop(tx);
        drop(served);
    });
    std::process::exit(0);
}
