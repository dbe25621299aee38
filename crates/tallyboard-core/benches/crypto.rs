//! Signing, strict verification, batch verification and checkpoint opening.
//!
//! `cargo bench -p tallyboard-core --bench crypto`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, open_checkpoint, sign_checkpoint};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::{
    BatchVerifier, Context, PublicKey, SecretKey, Signature, strict_precheck,
};
use tallyboard_core::note::{KeyKind, SignerKey};

fn signed(n: usize) -> Vec<(PublicKey, Vec<u8>, Signature)> {
    (0..n)
        .map(|i| {
            // A few hundred distinct keys, as in a real election's count centres.
            let sk = SecretKey::from_seed(&[(i % 251) as u8; 32]);
            let body = format!("tally body {i} with some more bytes to look like a real tally")
                .into_bytes();
            let sig = sk.sign(Context::Tally, &body);
            (sk.public_key(), body, sig)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let sk = SecretKey::from_seed(&[1; 32]);
    let body = vec![0x5a; 214];
    c.bench_function("sign", |b| {
        b.iter(|| sk.sign(Context::Tally, black_box(&body)))
    });
    let pk = sk.public_key();
    let sig = sk.sign(Context::Tally, &body);
    c.bench_function("verify_strict", |b| {
        b.iter(|| pk.verify(Context::Tally, black_box(&body), &sig))
    });

    for n in [64usize, 1024] {
        let items = signed(n);
        let mut g = c.benchmark_group(format!("batch_{n}"));
        g.throughput(Throughput::Elements(n as u64));
        let mut bv = BatchVerifier::new();
        g.bench_function("bulk_verify", |b| {
            b.iter(|| {
                for (k, m, s) in &items {
                    bv.push(k, Context::Tally, m, s);
                }
                bv.verify()
            })
        });
        g.bench_function("batch_equation_verify", |b| {
            b.iter(|| {
                for (k, m, s) in &items {
                    bv.push(k, Context::Tally, m, s);
                }
                bv.verify_with_batch_equation()
            })
        });
        // The two halves of batch_verify: the per-signature precheck that
        // makes the verdict equal verify_strict, and the bare batch equation.
        g.bench_function("precheck_only", |b| {
            b.iter(|| items.iter().all(|(_, _, s)| strict_precheck(s)))
        });
        let raw_msgs: Vec<Vec<u8>> = items
            .iter()
            .map(|(_, m, _)| Context::Tally.message(m))
            .collect();
        let raw_refs: Vec<&[u8]> = raw_msgs.iter().map(Vec::as_slice).collect();
        let raw_sigs: Vec<ed25519_dalek::Signature> = items
            .iter()
            .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
            .collect();
        let raw_keys: Vec<ed25519_dalek::VerifyingKey> = items
            .iter()
            .map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(k.as_bytes()).unwrap())
            .collect();
        g.bench_function("dalek_batch_equation_only", |b| {
            b.iter(|| ed25519_dalek::verify_batch(&raw_refs, &raw_sigs, &raw_keys))
        });
        g.bench_function("one_by_one", |b| {
            b.iter(|| {
                items
                    .iter()
                    .all(|(k, m, s)| k.verify(Context::Tally, m, s).is_ok())
            })
        });
        g.finish();
    }

    let log = SignerKey::new(
        "vote.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[2; 32]),
    )
    .unwrap();
    let witnesses: Vec<SignerKey> = (0..3u8)
        .map(|i| {
            SignerKey::new(
                &format!("w{i}.example"),
                KeyKind::CosignatureV1,
                SecretKey::from_seed(&[10 + i; 32]),
            )
            .unwrap()
        })
        .collect();
    let cp = Checkpoint::new("vote.example/log", 4_194_304, Hash::sha256(b"root"));
    let mut note = sign_checkpoint(&cp, &log).unwrap();
    for w in &witnesses {
        note = add_cosignature(&note, w, 1_700_000_000).unwrap();
    }
    let wv: Vec<_> = witnesses.iter().map(|w| w.verifier().clone()).collect();
    c.bench_function("open_checkpoint_3_witnesses", |b| {
        b.iter(|| open_checkpoint(black_box(&note), log.verifier(), &wv, 2))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(10);
    targets = bench
}
criterion_main!(benches);
