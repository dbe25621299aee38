//! How fast a mirror syncs a large log from a loopback upstream, and where
//! the time goes.
//!
//!     cargo run --release -p tallyboard --example bench_mirror -- [TALLIES] [CONCURRENCY]
//!
//! Builds (once, cached under `target/bench-mirror/<TALLIES>/`) an election
//! of the example's shape scaled to TALLIES tallies (default 1,000,000),
//! signs them on every core and writes them to an origin log with
//! `tallyboard-log` directly; starts the publication server on it on
//! 127.0.0.1; syncs a fresh mirror from it (`Mirror::sync_once`) and prints
//! entries per second. Then measures the parts of a sync one by one on the
//! same entries: fetching every bundle and recomputing the tree (`follow`
//! with an empty sink), leaf hashing and tile building alone, decoding and
//! signature checks (on every core), the tally rules and totals (in log
//! order), and the disk (staging every entry and publishing the checkpoint
//! in a mirror-mode log).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::leaf_hash;
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::rules::{RevisionIndex, check_tally};
use tallyboard_core::tally::UnverifiedTally;
use tallyboard_core::tile::TileBuilder;
use tallyboard_core::totals::TotalsBuilder;
use tallyboard_log::{Log, Options, SequencerConfig};
use tallyboard_mirror::{Config as MirrorConfig, Mirror, Outcome};
use tallyboard_server::{Config, Server};
use tallyboard_testkit::bench::{
    cpu_time_by_thread, cpu_time_by_thread_since, report, run_dir, strict_limit, threads,
};
use tallyboard_testkit::example::{scaled_tallies, signer as key};

// The allocator of the `tallyboard` binary, which this measures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tallyboard_verify::follow::{FollowOptions, Trusted, follow};
use tallyboard_verify::source::{HttpOptions, Source, http_client};

/// The cached upstream: manifest file and origin data directory.
fn upstream(n: u64) -> (PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/bench-mirror")
        .join(n.to_string());
    let manifest_path = root.join("manifest.signed");
    let data = root.join("origin");
    let done = root.join("complete");
    if done.exists() {
        return (manifest_path, data);
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let t = Instant::now();
    let (signed, entries) = scaled_tallies(n);
    std::fs::write(&manifest_path, signed.to_bytes()).unwrap();
    eprintln!(
        "generated and signed {} tallies in {:.1} s",
        entries.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut log = Log::open(&data, key("EXAMPLE-ONLY.log.key"), Options::default()).unwrap();
    for batch in entries.chunks(65_536) {
        log.append(batch).unwrap();
    }
    drop(log);
    eprintln!("wrote the origin log in {:.1} s", t.elapsed().as_secs_f64());
    std::fs::write(&done, b"").unwrap();
    (manifest_path, data)
}

fn rate(n: u64, d: Duration) -> String {
    format!(
        "{:>8.2} s  {:>10.0} entries/s",
        d.as_secs_f64(),
        n as f64 / d.as_secs_f64()
    )
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let concurrency = args.get(1).copied().unwrap_or(8) as usize;
    let (manifest_path, data) = upstream(n);
    let signed = SignedManifest::from_bytes(&std::fs::read(&manifest_path).unwrap(), None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let t = Instant::now();
        let mut c = Config::new(data.clone());
        c.sequencer = SequencerConfig::default();
        let server = Server::start(signed.clone(), key("EXAMPLE-ONLY.log.key"), c).unwrap();
        let size = server.reader().checkpoint().size;
        eprintln!(
            "origin started on a log of {size} entries in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        // An origin that has been up: its pages written (here compared
        // with those of the last run) before the mirror starts.
        let t = Instant::now();
        if let Some(site) = server.read_api().site() {
            let site = site.clone();
            tokio::task::spawn_blocking(move || site.wait(Duration::from_secs(1800)))
                .await
                .unwrap();
        }
        eprintln!(
            "origin's pages up to date in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let origin = tokio::spawn(server.clone().serve(l, async move {
            let _ = rx.await;
        }));

        // Fetch every bundle and recompute the tree, nothing else.
        let client = http_client(&HttpOptions::default()).unwrap();
        let source = Source::http(&url, &client).unwrap();
        let m = signed.manifest();
        let log_key = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key).unwrap();
        let cp = open_checkpoint(&source.checkpoint().await.unwrap(), &log_key, &[], 0).unwrap();
        let t = Instant::now();
        follow(
            &source,
            &log_key,
            &Trusted::empty(),
            &cp,
            &FollowOptions { concurrency },
            |_| Ok::<(), std::io::Error>(()),
        )
        .await
        .unwrap();
        println!("  fetch bundles + recompute tree (follow)            {}", rate(size, t.elapsed()));

        // The other parts, on the entries in memory.
        let reader = server.reader();
        let entries: Vec<Vec<u8>> = (0..size.div_ceil(256))
            .flat_map(|b| reader.bundle(b).unwrap())
            .collect();
        let t = Instant::now();
        let mut tb = TileBuilder::new();
        for e in &entries {
            tb.push(leaf_hash(e)).unwrap();
        }
        assert_eq!(tb.root(), cp.checkpoint.root);
        println!("  leaf hashes + tiles alone (1 core)                 {}", rate(size, t.elapsed()));

        let owned: Manifest = signed.clone().into_manifest();
        let manifest = &owned;
        let t = Instant::now();
        let per = entries.len().div_ceil(threads());
        let decoded: Vec<UnverifiedTally> = std::thread::scope(|s| {
            let hs: Vec<_> = entries
                .chunks(per)
                .map(|chunk| {
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(chunk.len());
                        let mut b = BatchVerifier::new();
                        for part in chunk.chunks(4096) {
                            for e in part {
                                let u = UnverifiedTally::from_bytes_in(e, manifest).unwrap();
                                let (k, body, sig) = u.signature_parts();
                                b.push(k, Context::Tally, body, sig);
                                out.push(u);
                            }
                            b.verify().unwrap();
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        println!(
            "  decode + signature checks ({} cores)                {}",
            threads(),
            rate(size, t.elapsed())
        );
        let limit = strict_limit(&decoded[..decoded.len().min(100_000)], threads());
        println!("  strict-verification limit ({} cores)             {limit:>10.0} signatures/s", threads());
        let t = Instant::now();
        let mut idx = RevisionIndex::new();
        let mut totals = TotalsBuilder::new(manifest);
        for u in decoded {
            let st = u.verified_by_batch();
            assert!(check_tally(manifest, st.tally()).is_empty());
            idx.apply(st.tally(), st.leaf_hash()).unwrap();
            totals.add(st.tally()).unwrap();
        }
        println!("  tally rules + totals, log order (1 core)           {}", rate(size, t.elapsed()));

        let dir = run_dir("mirror-disk");
        let t = Instant::now();
        let mut log = Log::open_mirror(&dir, log_key.clone(), Options::default()).unwrap();
        for c in entries.chunks(4096) {
            log.stage(c).unwrap();
        }
        log.publish_verified(&cp.note).unwrap();
        println!("  disk: stage tiles + publish (mirror-mode log)      {}", rate(size, t.elapsed()));

        // Last, the whole sync (the mirror's site writer, started with it,
        // would still be writing pages during any measurement after it).
        let mirror_dir = run_dir("mirror-sync");
        let mut mc = MirrorConfig::new(&url, mirror_dir.clone());
        mc.quorum = Some(0);
        mc.concurrency = concurrency;
        let mirror = Mirror::open(signed.clone(), mc).unwrap();
        let t = Instant::now();
        let threads0 = cpu_time_by_thread();
        let outcome = mirror.sync_once().await;
        let total = t.elapsed();
        let site_cpu: f64 = cpu_time_by_thread_since(&threads0)
            .iter()
            .filter(|(n, _)| n.starts_with("site-"))
            .map(|(_, c)| *c)
            .sum::<Duration>()
            .as_secs_f64();
        assert_eq!(outcome, Outcome::Synced { size }, "{outcome:?}");
        assert_eq!(mirror.status().totals_size, Some(size));
        println!(
            "mirror sync of {size} tallies from http://127.0.0.1 (concurrency {concurrency}, {} cores):",
            threads()
        );
        println!("  whole sync (fetch, check, store, publish, totals)  {}", rate(size, total));
        println!(
            "  of which the site's threads (nice 10) took         {site_cpu:.2} s of CPU (the pages of its {size} units follow the sync)"
        );
        // Its pages are measured by bench_site: not waited for here.
        std::mem::forget(mirror);

        report(
            &format!("mirror: full sync of {size} tallies from loopback"),
            &format!("{:.0}/s", size as f64 / total.as_secs_f64()),
            limit,
            size as f64 / total.as_secs_f64() / limit,
            &format!("concurrency {concurrency}; {:.1} s", total.as_secs_f64()),
        );
        let _ = tx.send(());
        let _ = origin.await;
    });
}
