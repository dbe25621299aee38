//! Leaf hashing, streaming tree construction over 2^20 leaves, proof
//! generation from stored hashes, and inclusion/consistency verification.
//!
//! `cargo bench -p tallyboard-core --bench merkle`

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::merkle::{
    TreeBuilder, prove_consistency, prove_inclusion, tree_hash_from_reader, verify_consistency,
    verify_inclusion,
};
use tallyboard_core::tile::{EntryBundle, HashTile, TileBuilder, TileId};

const LEAVES: u64 = 1 << 20;

fn leaf_hashes(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn bench(c: &mut Criterion) {
    // A signed tally is a few hundred bytes.
    let entry = vec![0x5a; 300];
    let mut g = c.benchmark_group("leaf_hash");
    g.throughput(Throughput::Elements(1));
    g.bench_function("300-byte entry", |b| {
        b.iter(|| leaf_hash(black_box(&entry)))
    });
    g.finish();

    let leaves = leaf_hashes(LEAVES);
    let mut g = c.benchmark_group("tree_builder");
    g.sample_size(10);
    g.throughput(Throughput::Elements(LEAVES));
    g.bench_function("push 2^20 leaf hashes", |b| {
        b.iter(|| {
            let mut t = TreeBuilder::new();
            for h in &leaves {
                t.push(*h).unwrap();
            }
            t.root()
        })
    });
    g.bench_function("TileBuilder: push 2^20 leaf hashes, emit all tiles", |b| {
        b.iter(|| {
            let mut t = TileBuilder::new();
            let mut tiles = 0usize;
            for h in &leaves {
                tiles += t.push(*h).unwrap().len();
            }
            (tiles, t.root())
        })
    });
    g.bench_function("push 2^20 leaf hashes, keep stored hashes", |b| {
        b.iter_batched(
            || Vec::with_capacity(2 * LEAVES as usize),
            |mut stored| {
                let mut t = TreeBuilder::new();
                for h in &leaves {
                    stored.extend_from_slice(t.push(*h).unwrap());
                }
                stored
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut builder = TreeBuilder::new();
    let mut stored = Vec::new();
    for h in &leaves {
        stored.extend_from_slice(builder.push(*h).unwrap());
    }
    let n = LEAVES - 3; // not a power of two: a full-length right edge
    let root = tree_hash_from_reader(n, &stored).unwrap();
    let m = n / 3 + 7;
    let old_root = tree_hash_from_reader(m, &stored).unwrap();
    let index = n / 2 + 11;
    let incl = prove_inclusion(n, index, &stored).unwrap();
    let cons = prove_consistency(m, n, &stored).unwrap();

    let mut g = c.benchmark_group("proofs");
    g.bench_function("prove_inclusion (stored hashes, n≈2^20)", |b| {
        b.iter(|| prove_inclusion(n, black_box(index), &stored).unwrap())
    });
    g.bench_function("prove_consistency (stored hashes, n≈2^20)", |b| {
        b.iter(|| prove_consistency(black_box(m), n, &stored).unwrap())
    });
    g.bench_function("verify_inclusion (20 hashes)", |b| {
        b.iter(|| verify_inclusion(&leaves[index as usize], black_box(index), n, &incl, &root))
    });
    g.bench_function("verify_consistency", |b| {
        b.iter(|| verify_consistency(black_box(m), n, &old_root, &root, &cons))
    });
    g.finish();

    let mut g = c.benchmark_group("tiles");
    let tile = TileId::full(0, 1000).unwrap();
    let bytes = HashTile::from_reader(tile, &stored).unwrap().to_bytes();
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("parse full hash tile", |b| {
        b.iter(|| HashTile::from_bytes(black_box(&bytes), 256).unwrap())
    });
    let bundle = EntryBundle::new(vec![entry.clone(); 256])
        .unwrap()
        .to_bytes();
    g.throughput(Throughput::Bytes(bundle.len() as u64));
    g.bench_function("parse + leaf-hash full entry bundle (256 x 300 B)", |b| {
        b.iter(|| {
            EntryBundle::from_bytes(black_box(&bundle), 256)
                .unwrap()
                .leaf_hashes()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
