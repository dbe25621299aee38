//! Cosignatures per second of one witness: sequential add-checkpoint
//! requests for one log, each extending the tree by `STEP` leaves with its
//! consistency proof, through `Witness::add_checkpoint` (parse, log
//! signature, consistency proof, cosignature, durable state write with
//! fsync of the file and its directory), and the same requests with the
//! state write's fsyncs measured apart.
//!
//!     cargo run --release -p tallyboard-witness --example bench_witness [N] [DIR]
//!
//! N requests (default 500); DIR the state directory's parent (default a
//! temporary directory: put it on the disk the witness will use).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{Checkpoint, sign_checkpoint};
use tallyboard_core::keys::SecretKey;
use tallyboard_core::merkle::TreeBuilder;
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::witness::AddCheckpointRequest;
use tallyboard_witness::Witness;

const STEP: u64 = 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(500, |s| s.parse().unwrap());
    let parent = args.next().map(std::path::PathBuf::from);
    let tmp = match &parent {
        Some(p) => tempfile::tempdir_in(p).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let log = SignerKey::new(
        "bench.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[1; 32]),
    )
    .unwrap();
    let wkey = SignerKey::new(
        "bench.example/witness",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[2; 32]),
    )
    .unwrap();

    // The requests, built beforehand (the log's side is not measured).
    let total = n as u64 * STEP;
    let leaves: Vec<Hash> = (0..total).map(|i| Hash::sha256(&i.to_be_bytes())).collect();
    let mut tree = TreeBuilder::new();
    let mut bodies = Vec::with_capacity(n);
    let mut old = 0u64;
    for k in 1..=n as u64 {
        for l in &leaves[((k - 1) * STEP) as usize..(k * STEP) as usize] {
            tree.push(*l).unwrap();
        }
        let size = k * STEP;
        let proof = if old == 0 {
            vec![]
        } else {
            tallyboard_core::merkle::consistency_proof(&leaves[..size as usize], old).unwrap()
        };
        let note = sign_checkpoint(&Checkpoint::new(log.name(), size, tree.root()), &log).unwrap();
        bodies.push(
            AddCheckpointRequest {
                old_size: old,
                proof,
                checkpoint: note,
            }
            .to_bytes()
            .unwrap(),
        );
        old = size;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let w = Witness::open(tmp.path(), wkey, &[log.verifier().clone()]).unwrap();
    let started = Instant::now();
    rt.block_on(async {
        for b in &bodies {
            w.add_checkpoint(b).await.unwrap();
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} cosignatures (tree of {total} leaves, {STEP} per checkpoint) in {secs:.2} s: {:.0} cosignatures/s, {:.2} ms each",
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );

    // Where the time goes: the same checks without the durable write.
    let started = Instant::now();
    for b in &bodies {
        let r = AddCheckpointRequest::parse(b).unwrap();
        let cp =
            tallyboard_core::checkpoint::open_checkpoint(&r.checkpoint, log.verifier(), &[], 0)
                .unwrap();
        std::hint::black_box(cp);
    }
    let parse_verify = started.elapsed().as_secs_f64() / n as f64;
    let text = "bench.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let wk = SignerKey::new(
        "bench.example/witness",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[2; 32]),
    )
    .unwrap();
    let started = Instant::now();
    for t in 0..n as u64 {
        std::hint::black_box(
            tallyboard_core::cosignature::cosign(text, &wk, 1_700_000_000 + t).unwrap(),
        );
    }
    let sign = started.elapsed().as_secs_f64() / n as f64;
    println!(
        "per request: parse + log signature {:.3} ms, cosign {:.3} ms, the rest (consistency proof, state write with 2 fsyncs) {:.3} ms",
        parse_verify * 1000.0,
        sign * 1000.0,
        (secs / n as f64 - parse_verify - sign) * 1000.0
    );
}
