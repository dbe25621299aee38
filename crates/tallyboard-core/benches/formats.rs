//! Signed tally encoding, decoding and verification, one at a time and in
//! batches (what the verifier does for every log entry).
//!
//! `cargo bench -p tallyboard-core --bench formats`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tallyboard_core::keys::{BatchVerifier, SecretKey};
use tallyboard_core::tally::{SignedTally, Tally, UnverifiedTally};

/// A tally of the size a real one has: five choices, short ids.
fn tally(i: u64, key: &SecretKey) -> Tally {
    let choices = [
        ("alvarez", 812 + i % 7),
        ("brennan", 455),
        ("chowdhury", 301),
        ("dubois", 97),
        ("eze", 12),
    ];
    let sum: u64 = choices.iter().map(|c| c.1).sum();
    Tally::new(
        "2026-general",
        "mayor",
        &format!("P-{i:05}"),
        choices,
        9,
        4,
        sum + 13,
        1_790_000_000 + i,
        key.public_key(),
    )
}

fn bench(c: &mut Criterion) {
    let key = SecretKey::from_seed(&[7; 32]);
    let t = tally(17, &key);
    let signed = t.sign(&key);
    let bytes = signed.to_bytes();
    eprintln!("signed tally: {} bytes", bytes.len());

    let mut g = c.benchmark_group("tally");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_body", |b| b.iter(|| black_box(&t).to_body_bytes()));
    g.bench_function("sign", |b| b.iter(|| black_box(&t).sign(&key)));
    g.bench_function("decode", |b| {
        b.iter(|| UnverifiedTally::from_bytes(black_box(&bytes)).unwrap())
    });
    g.bench_function("decode_and_verify", |b| {
        b.iter(|| SignedTally::from_bytes(black_box(&bytes)).unwrap())
    });
    g.finish();

    // A verifier reading the log: decode every entry, verify the signatures
    // in batches. A few hundred count-centre keys, as in a real election.
    for n in [64usize, 1024] {
        let entries: Vec<Vec<u8>> = (0..n as u64)
            .map(|i| {
                let k = SecretKey::from_seed(&[(i % 251) as u8; 32]);
                tally(i, &k).sign(&k).into_bytes()
            })
            .collect();
        let mut g = c.benchmark_group(format!("tally_batch_{n}"));
        g.throughput(Throughput::Elements(n as u64));
        let mut bv = BatchVerifier::new();
        g.bench_function("decode_and_batch_verify", |b| {
            b.iter(|| {
                let parsed: Vec<UnverifiedTally> = entries
                    .iter()
                    .map(|e| UnverifiedTally::from_bytes(e).unwrap())
                    .collect();
                for u in &parsed {
                    let (k, body, sig) = u.signature_parts();
                    bv.push(k, tallyboard_core::keys::Context::Tally, body, sig);
                }
                bv.verify().unwrap();
                parsed
            })
        });
        g.finish();
    }
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
