//! End-to-end verification of a local copy of a log of signed tallies.
//!
//!     cargo run --release -p tallyboard-verify --example bench_verify -- [TALLIES] [THREADS]
//!
//! Builds (once; cached under `target/bench-verify-<TALLIES>/`) a national-
//! scale election (TALLIES / 4 reporting units, 4 contests of 5 choices, 500
//! regions, 50 count centres), signs every tally in parallel threads, and
//! writes the log with tallyboard-log's store directly, plus the manifest,
//! the signed totals and a witness-cosigned checkpoint. Then runs the whole
//! verifier on that directory (every bundle, tile and root; every
//! signature, rule and correction chain; the totals compared with the
//! signed ones), and measures in the same process the Ed25519 limit: strict
//! verification of the same tallies' signatures on THREADS threads with
//! core's `BatchVerifier` (one by one, and with the batch equation).
//!
//! Prints tallies per second, peak memory (VmHWM) and the ratio to the
//! signature limit. Peak memory includes the generation when the log was
//! not cached: run it twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use tallyboard_core::checkpoint::add_cosignature;
use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, Region, Unit, Witness,
};
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::tile::EntryBundle;
use tallyboard_core::{Manifest, SecretKey, SignedManifest, Tally, TotalsBuilder, UnverifiedTally};
use tallyboard_log::{Log, Options};
use tallyboard_verify::{Config, Verdict};

// The allocator of the `tallyboard` binary, which this measures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONTESTS: usize = 4;
const CHOICES: usize = 5;
const REGIONS: usize = 500;
const CENTRES: usize = 50;
const T0: u64 = 1_778_400_000; // 2026-05-10

fn seed(label: &str) -> SecretKey {
    let h = tallyboard_core::Hash::sha256(format!("bench_verify {label}").as_bytes());
    SecretKey::from_seed(&h.0)
}

fn log_signer() -> SignerKey {
    SignerKey::new("bench.example/log", KeyKind::Ed25519, seed("log")).unwrap()
}

fn witness_signer() -> SignerKey {
    SignerKey::new(
        "bench.example/witness",
        KeyKind::CosignatureV1,
        seed("witness"),
    )
    .unwrap()
}

fn manifest(units: usize) -> SignedManifest {
    let authority = seed("authority");
    let body = ManifestBody {
        election: "BENCH-national".to_owned(),
        title: "Benchmark election (not real)".to_owned(),
        authority: authority.public_key(),
        log: LogInfo {
            origin: "bench.example/log".to_owned(),
            key: *log_signer().verifier().public_key(),
        },
        witnesses: vec![Witness {
            name: "bench.example/witness".to_owned(),
            key: *witness_signer().verifier().public_key(),
        }],
        quorum: 1,
        mirrors: Vec::new(),
        contests: (0..CONTESTS)
            .map(|c| Contest {
                id: format!("c{c}"),
                title: format!("Contest {c}"),
                choices: (0..CHOICES)
                    .map(|k| Choice {
                        id: format!("k{k}"),
                        name: format!("Choice {k}"),
                    })
                    .collect(),
            })
            .collect(),
        regions: (0..REGIONS)
            .map(|r| Region {
                id: format!("r{r:03}"),
                name: format!("Region {r}"),
                parent: None,
            })
            .collect(),
        centres: (0..CENTRES)
            .map(|c| Centre {
                id: format!("C{c:02}"),
                name: format!("Centre {c}"),
                keys: vec![CentreKey {
                    key: seed(&format!("centre {c}")).public_key(),
                    valid_from: T0 - 86_400,
                    valid_until: T0 + 30 * 86_400,
                    revoked_at: None,
                }],
            })
            .collect(),
        units: (0..units)
            .map(|u| Unit {
                id: format!("U{u:07}"),
                name: format!("Unit {u}"),
                region: format!("r{:03}", u % REGIONS),
                registered: 2000,
                contests: (0..CONTESTS).map(|c| format!("c{c}")).collect(),
                centre: format!("C{:02}", u % CENTRES),
            })
            .collect(),
        polls_close: None,
        results_due: None,
    };
    Manifest::new(body).unwrap().sign(&authority)
}

/// The signed tally of entry `i`: unit i / 4, contest i % 4.
fn tally(i: usize, keys: &[SecretKey]) -> Vec<u8> {
    let (u, c) = (i / CONTESTS, i % CONTESTS);
    let centre = u % CENTRES;
    let votes: Vec<(String, u64)> = (0..CHOICES)
        .map(|k| (format!("k{k}"), ((i * 7 + k * 13) % 300) as u64))
        .collect();
    let sum: u64 = votes.iter().map(|v| v.1).sum();
    let t = Tally::new(
        "BENCH-national",
        &format!("c{c}"),
        &format!("U{u:07}"),
        votes,
        3,
        2,
        sum + 5,
        T0 + (i % 3600) as u64,
        keys[centre].public_key(),
    );
    t.sign(&keys[centre]).to_bytes()
}

fn generate(dir: &Path, n: usize, threads: usize) {
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let units = n.div_ceil(CONTESTS);
    let m = manifest(units);
    let keys: Vec<SecretKey> = (0..CENTRES).map(|c| seed(&format!("centre {c}"))).collect();
    let mut log = Log::open(dir, log_signer(), Options::default()).unwrap();
    let batch = 65_536usize;
    let mut totals = TotalsBuilder::new(m.manifest());
    let mut last = None;
    let mut start = 0usize;
    while start < n {
        let end = (start + batch).min(n);
        let chunk = (end - start).div_ceil(threads);
        let entries: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let keys = &keys;
                    s.spawn(move || {
                        let a = start + t * chunk;
                        let b = (a + chunk).min(end);
                        (a..b).map(|i| tally(i, keys)).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        for e in &entries {
            totals
                .add(UnverifiedTally::from_bytes(e).unwrap().tally())
                .unwrap();
        }
        last = Some(log.append(&entries).unwrap());
        start = end;
        eprint!("\rgenerated {end} of {n} tallies");
    }
    eprintln!();
    let b = last.unwrap();
    let public = dir.join("public");
    let cosigned = add_cosignature(&b.checkpoint.note, &witness_signer(), T0 + 7200).unwrap();
    std::fs::write(public.join("checkpoint"), cosigned).unwrap();
    std::fs::write(public.join("manifest"), m.as_bytes()).unwrap();
    let body = totals.finish("bench.example/log", b.checkpoint.size, b.checkpoint.root);
    std::fs::write(
        public.join("totals"),
        body.sign(log_signer().secret()).to_bytes(),
    )
    .unwrap();
    std::fs::write(dir.join("complete"), n.to_string()).unwrap();
    eprintln!(
        "generation: {n} tallies in {:.1} s (cached in {})",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Strict verification of the signatures of the first `n` entries on
/// `threads` threads, with `BatchVerifier` (`equation`: the batch
/// equation). Returns signatures per second.
fn signature_limit(public: &Path, n: usize, threads: usize, equation: bool) -> f64 {
    let mut tallies = Vec::with_capacity(n);
    let mut index = 0u64;
    while tallies.len() < n {
        let path = public.join(
            tallyboard_core::tile::BundleId::new(index, 256)
                .unwrap()
                .path(),
        );
        let Ok(bytes) = std::fs::read(&path) else {
            break;
        };
        let b = EntryBundle::from_bytes(&bytes, 256).unwrap();
        for e in b.entries() {
            tallies.push(UnverifiedTally::from_bytes(e).unwrap());
        }
        index += 1;
    }
    tallies.truncate(n);
    let per = tallies.len().div_ceil(threads);
    let started = Instant::now();
    std::thread::scope(|s| {
        for part in tallies.chunks(per) {
            s.spawn(move || {
                let mut v = BatchVerifier::new();
                for batch in part.chunks(512) {
                    for t in batch {
                        let (k, body, sig) = t.signature_parts();
                        v.push(k, Context::Tally, body, sig);
                    }
                    let r = if equation {
                        v.verify_with_batch_equation()
                    } else {
                        v.verify()
                    };
                    assert!(r.is_ok());
                }
            });
        }
    });
    tallies.len() as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("TALLIES and THREADS are numbers"))
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let threads = args
        .get(1)
        .copied()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |t| t.get()));
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(format!("bench-verify-{n}"));
    let cached = std::fs::read_to_string(dir.join("complete")).is_ok_and(|s| s == n.to_string());
    if !cached {
        generate(&dir, n, threads);
    } else {
        eprintln!("using the cached log in {}", dir.display());
    }
    let public = dir.join("public");
    let m = std::fs::read(public.join("manifest")).unwrap();
    let authority = SignedManifest::from_bytes(&m, None)
        .unwrap()
        .manifest()
        .authority;

    let mut config = Config::new(authority, vec![public.display().to_string()]);
    config.threads = threads;
    let started = Instant::now();
    // The library is asynchronous: the caller owns the runtime.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(tallyboard_verify::verify(&config));
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.to_text());
    assert_eq!(report.log.entries_checked, n as u64);
    let rate = n as f64 / secs;
    let hwm = vm_hwm_kib();
    let pass_rate = n as f64 / report.log.check_seconds;

    let sample = n.min(200_000);
    let one_by_one = signature_limit(&public, sample, threads, false);
    let equation = signature_limit(&public, sample, threads, true);
    let limit = one_by_one.max(equation);
    println!("tallies verified:        {n}");
    println!("threads:                 {threads}");
    println!(
        "verification time:       {secs:.1} s (of which the entry-by-entry pass {:.1} s)",
        report.log.check_seconds
    );
    println!("tallies per second:      {rate:.0}");
    println!(
        "peak memory (VmHWM):     {:.0} MiB{}",
        hwm as f64 / 1024.0,
        if cached {
            ""
        } else {
            " (includes generation: run again)"
        }
    );
    println!(
        "Ed25519 strict, BatchVerifier::verify:                     {one_by_one:.0} signatures/s"
    );
    println!(
        "Ed25519 strict, BatchVerifier::verify_with_batch_equation: {equation:.0} signatures/s"
    );
    tallyboard_testkit::bench::report(
        &format!("verifier: {n} tallies from a local copy"),
        &format!("{rate:.0}/s; peak RSS {:.0} MiB", hwm as f64 / 1024.0),
        limit,
        rate / limit,
        &format!(
            "{secs:.1} s; entry pass alone {:.2}{}",
            pass_rate / limit,
            if cached {
                ""
            } else {
                "; RSS includes the generation: run again"
            }
        ),
    );
    println!(
        "ratio to the signature limit: {:.2} end to end (verifier {rate:.0}/s, limit {limit:.0}/s); entry pass alone {:.2} ({pass_rate:.0}/s)",
        rate / limit,
        pass_rate / limit
    );
}
