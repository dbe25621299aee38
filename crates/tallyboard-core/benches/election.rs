//! Manifest, rules and totals at election scale: parsing a manifest with
//! 100,000 units, decoding a tally with the signer key taken from the
//! manifest, checking the rules, keeping the revision index and the totals
//! (what the server does per submission and the verifier per entry).
//!
//! `cargo bench -p tallyboard-core --bench election`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, Manifest, ManifestBody, Region, SignedManifest,
    Unit,
};
use tallyboard_core::rules::{RevisionIndex, check_tally};
use tallyboard_core::tally::{SignedTally, Tally};
use tallyboard_core::totals::TotalsBuilder;

const UNITS: usize = 100_000;
const CENTRES: usize = 500;
const T: u64 = 1_790_000_000;

fn centre_key(c: usize) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(c as u64 + 1).to_le_bytes());
    SecretKey::from_seed(&seed)
}

/// 100,000 units in 1,000 districts of 100 provinces, two contests (5 and
/// 12 choices), 500 count centres.
fn body() -> ManifestBody {
    let choices = |n: usize| {
        (0..n)
            .map(|i| Choice {
                id: format!("choice-{i:02}"),
                name: format!("Candidate {i}"),
            })
            .collect()
    };
    ManifestBody {
        election: "general-2026".into(),
        title: "Benchmark election".into(),
        authority: SecretKey::from_seed(&[1; 32]).public_key(),
        log: LogInfo {
            origin: "bench.example/log".into(),
            key: SecretKey::from_seed(&[2; 32]).public_key(),
        },
        witnesses: vec![],
        quorum: 0,
        mirrors: vec![],
        contests: vec![
            Contest {
                id: "president".into(),
                title: "President".into(),
                choices: choices(5),
            },
            Contest {
                id: "parliament".into(),
                title: "Parliament".into(),
                choices: choices(12),
            },
        ],
        regions: (0..100)
            .map(|p| Region {
                id: format!("prov-{p:03}"),
                name: format!("Province {p}"),
                parent: None,
            })
            .chain((0..1000).map(|d| Region {
                id: format!("dist-{d:04}"),
                name: format!("District {d}"),
                parent: Some(format!("prov-{:03}", d / 10)),
            }))
            .collect(),
        centres: (0..CENTRES)
            .map(|c| Centre {
                id: format!("C{c:03}"),
                name: format!("Centre {c}"),
                keys: vec![CentreKey {
                    key: centre_key(c).public_key(),
                    valid_from: T - 86_400,
                    valid_until: T + 86_400,
                    revoked_at: None,
                }],
            })
            .collect(),
        units: (0..UNITS)
            .map(|u| Unit {
                id: format!("TPS-{u:07}"),
                name: format!("Polling station {u}"),
                region: format!("dist-{:04}", u % 1000),
                registered: 300,
                contests: vec!["president".into(), "parliament".into()],
                centre: format!("C{:03}", u % CENTRES),
            })
            .collect(),
        polls_close: None,
        results_due: None,
    }
}

fn tally(u: usize) -> (Tally, SecretKey) {
    let key = centre_key(u % CENTRES);
    let t = Tally::new(
        "general-2026",
        "president",
        &format!("TPS-{u:07}"),
        (0..5).map(|i| (format!("choice-{i:02}"), 40 + i as u64)),
        3,
        2,
        5 + 40 * 5 + 10,
        T,
        key.public_key(),
    );
    (t, key)
}

fn bench(c: &mut Criterion) {
    let manifest_bytes = body()
        .validate()
        .unwrap()
        .sign(&SecretKey::from_seed(&[1; 32]))
        .to_bytes();
    eprintln!("manifest of {UNITS} units: {} bytes", manifest_bytes.len());
    let m: Manifest = SignedManifest::from_bytes(&manifest_bytes, None)
        .unwrap()
        .into_manifest();

    let mut g = c.benchmark_group("manifest_100k_units");
    g.sample_size(10);
    g.bench_function("parse_verify_validate", |b| {
        b.iter(|| SignedManifest::from_bytes(black_box(&manifest_bytes), None).unwrap())
    });
    g.finish();

    let entries: Vec<Vec<u8>> = (0..1000)
        .map(|u| {
            let (t, k) = tally(u * 97);
            t.sign(&k).into_bytes()
        })
        .collect();
    let parsed: Vec<SignedTally> = entries
        .iter()
        .map(|e| SignedTally::from_bytes_in(e, &m).unwrap())
        .collect();

    let mut g = c.benchmark_group("per_tally");
    g.throughput(Throughput::Elements(entries.len() as u64));
    g.bench_function("decode_in_manifest_unverified", |b| {
        b.iter(|| {
            for e in &entries {
                black_box(tallyboard_core::tally::UnverifiedTally::from_bytes_in(e, &m).unwrap());
            }
        })
    });
    g.bench_function("check_tally", |b| {
        b.iter(|| {
            for p in &parsed {
                assert!(check_tally(&m, p.tally()).is_empty());
            }
        })
    });
    g.bench_function("revision_index_apply", |b| {
        b.iter(|| {
            let mut ix = RevisionIndex::new();
            for p in &parsed {
                ix.apply(p.tally(), p.leaf_hash()).unwrap();
            }
            ix
        })
    });
    g.bench_function("totals_add", |b| {
        b.iter(|| {
            let mut tb = TotalsBuilder::new(&m);
            for p in &parsed {
                tb.add(p.tally()).unwrap();
            }
            tb.finish("bench.example/log", 1000, tallyboard_core::Hash::EMPTY_TREE)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10);
    targets = bench
}
criterion_main!(benches);
