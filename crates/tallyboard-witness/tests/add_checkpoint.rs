#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The witness's `add-checkpoint` through its axum router: every status code
//! of C2SP tlog-witness, consistency with what it cosigned, durable state
//! across a restart, and serialized concurrent requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint};
use tallyboard_core::cosignature;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::merkle::{consistency_proof, tree_hash};
use tallyboard_core::note::{KeyKind, Note, SignerKey};
use tallyboard_core::witness::{AddCheckpointRequest, parse_cosignature_response};
use tallyboard_witness::{Witness, WitnessError, origin_hash, router, state_path};
use tower::ServiceExt as _;

const ORIGIN: &str = "tallyboard.example/test-log";

fn log_key() -> SignerKey {
    SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[1; 32])).unwrap()
}

fn witness_key() -> SignerKey {
    SignerKey::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[2; 32]),
    )
    .unwrap()
}

fn leaves(n: u64, fork: u8) -> Vec<Hash> {
    (0..n)
        .map(|i| Hash::sha256(&[&i.to_be_bytes()[..], &[fork]].concat()))
        .collect()
}

fn signed(key: &SignerKey, size: u64, root: Hash) -> Vec<u8> {
    sign_checkpoint(&Checkpoint::new(key.name(), size, root), key).unwrap()
}

/// A request from `old` to `new` over the tree `tree` (leaf hashes).
fn request(tree: &[Hash], old: u64, new: u64) -> Vec<u8> {
    let new_tree = &tree[..new as usize];
    let proof = if old == 0 || old == new {
        vec![]
    } else {
        consistency_proof(new_tree, old).unwrap()
    };
    AddCheckpointRequest {
        old_size: old,
        proof,
        checkpoint: signed(&log_key(), new, tree_hash(new_tree)),
    }
    .to_bytes()
    .unwrap()
}

fn open(dir: &std::path::Path) -> Arc<Witness> {
    Arc::new(
        Witness::open(dir, witness_key(), &[log_key().verifier().clone()])
            .unwrap()
            .with_clock(|| 1_780_000_000),
    )
}

async fn post(w: &Arc<Witness>, body: Vec<u8>) -> (StatusCode, Option<String>, Vec<u8>) {
    let resp = router(w.clone())
        .oneshot(
            Request::post("/add-checkpoint")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    (status, ctype, body)
}

/// The cosignature in a 200 response verifies over the checkpoint text.
fn check_cosigned(body: &[u8], req: &[u8]) {
    let req = AddCheckpointRequest::parse(req).unwrap();
    let text = Note::parse(&req.checkpoint).unwrap().text().to_owned();
    let lines = parse_cosignature_response(body).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        cosignature::verify(&text, witness_key().verifier(), &lines[0]),
        Ok(1_780_000_000)
    );
}

#[tokio::test]
async fn cosigns_a_consistent_sequence_and_answers_every_status_code() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let tree = leaves(1000, 0);

    // First contact: old 0, any checkpoint of a known log.
    let r = request(&tree, 0, 10);
    let (st, ct, body) = post(&w, r.clone()).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));
    check_cosigned(&body, &r);

    // Wrong old size: 409 with the size held, as text/x.tlog.size.
    let (st, ct, body) = post(&w, request(&tree, 0, 20)).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(ct.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, b"10\n");
    let (st, _, body) = post(&w, request(&tree, 5, 20)).await;
    assert_eq!((st, body.as_slice()), (StatusCode::CONFLICT, &b"10\n"[..]));

    // The right old size and proof: cosigned; then the same checkpoint
    // again (old == size, same root) is cosigned again.
    for (old, new) in [(10, 300), (300, 300), (300, 999)] {
        let r = request(&tree, old, new);
        let (st, _, body) = post(&w, r.clone()).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{old}->{new}: {}",
            String::from_utf8_lossy(&body)
        );
        check_cosigned(&body, &r);
    }
    assert_eq!(w.cosigned(ORIGIN).await.unwrap().size, 999);

    // A bad proof: 422, state unchanged.
    let mut bad = AddCheckpointRequest::parse(&request(&tree, 999, 1000)).unwrap();
    bad.proof[0] = Hash::sha256(b"not this");
    let (st, _, _) = post(&w, bad.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // A proof of the wrong length: 422.
    let mut short = AddCheckpointRequest::parse(&request(&tree, 999, 1000)).unwrap();
    short.proof.pop();
    let (st, _, _) = post(&w, short.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.cosigned(ORIGIN).await.unwrap().size, 999);

    // Old size above the checkpoint size: 400.
    let mut above = AddCheckpointRequest::parse(&request(&tree, 0, 5)).unwrap();
    above.old_size = 999;
    let (st, _, _) = post(&w, above.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Malformed bodies: 400, the body naming the wire error code.
    for (body, code) in [
        (&b"old 01\n\n"[..], "bad-old-line"),
        (b"hello", "bad-old-line"),
        (b"old 999\n\nnot a note\n", "missing-blank-line"),
    ] {
        let (st, _, text) = post(&w, body.to_vec()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body:?}");
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(&format!("({code})")), "{body:?}: {text}");
    }

    // Unknown origin: 404.
    let other = SignerKey::new(
        "tallyboard.example/other",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[1; 32]),
    )
    .unwrap();
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: signed(&other, 3, tree_hash(&tree[..3])),
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Known origin, signed by another key: 403 (no trusted signature).
    let impostor =
        SignerKey::new(ORIGIN, KeyKind::Ed25519, SecretKey::from_seed(&[9; 32])).unwrap();
    let req = AddCheckpointRequest {
        old_size: 999,
        proof: vec![],
        checkpoint: signed(&impostor, 999, tree_hash(&tree[..999])),
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Known key name and id, signature does not verify: 403.
    let good = AddCheckpointRequest::parse(&request(&tree, 999, 999)).unwrap();
    let mut n = Note::parse(&good.checkpoint).unwrap();
    let mut s = n.signatures()[0].clone();
    s.signature[10] ^= 1;
    n.add_signature(s).unwrap();
    let req = AddCheckpointRequest {
        checkpoint: n.to_bytes().unwrap(),
        ..good
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Oversized body: 413, before parsing.
    let (st, _, _) = post(&w, vec![b'o'; 64 * 1024]).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(w.cosigned(ORIGIN).await.unwrap().size, 999);
    let (cosigned, refused) = w.counts();
    assert_eq!(cosigned, 4);
    assert!(refused >= 10, "{refused}");
}

#[tokio::test]
async fn a_size_zero_checkpoint_needs_the_empty_root_and_old_zero_an_empty_proof() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: signed(&log_key(), 0, Hash::sha256(b"x")),
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let tree = leaves(8, 0);
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: vec![Hash::sha256(b"p")],
        checkpoint: signed(&log_key(), 8, tree_hash(&tree)),
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: signed(&log_key(), 0, Hash::EMPTY_TREE),
    };
    let (st, _, _) = post(&w, req.to_bytes().unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(w.cosigned(ORIGIN).await.is_some());
}

#[tokio::test]
async fn refuses_a_fork_signed_with_the_log_key_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let honest = leaves(600, 0);
    let (st, _, _) = post(&w, request(&honest, 0, 500)).await;
    assert_eq!(st, StatusCode::OK);

    // Same size, different root, validly signed by the log: refused.
    let fork = leaves(600, 1);
    let (st, _, body) = post(&w, request(&fork, 500, 500)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("not consistent"));
    // A larger checkpoint of the forked tree, with the forked tree's own
    // consistency proof: refused.
    let (st, _, _) = post(&w, request(&fork, 500, 600)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // A tree that shares the first 500 leaves and then diverges is fine.
    let mut extended = honest[..500].to_vec();
    extended.extend(leaves(100, 7));
    let (st, _, _) = post(&w, request(&extended, 500, 600)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w.cosigned(ORIGIN).await.unwrap().size, 600);

    // Both refused checkpoints were kept, with the cosigned one.
    let kept: Vec<_> = std::fs::read_dir(dir.path().join("refused"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(kept.len(), 2);
    let fork_cp = AddCheckpointRequest::parse(&request(&fork, 500, 500))
        .unwrap()
        .checkpoint;
    assert!(
        kept.iter()
            .any(|k| k.windows(fork_cp.len()).any(|x| x == fork_cp))
    );
}

#[tokio::test]
async fn state_survives_a_restart_and_the_monitor_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = leaves(300, 0);
    {
        let w = open(dir.path());
        // The lock keeps a second witness off the same directory.
        assert!(matches!(
            Witness::open(dir.path(), witness_key(), &[log_key().verifier().clone()]),
            Err(WitnessError::Store(_))
        ));
        let (st, _, _) = post(&w, request(&tree, 0, 200)).await;
        assert_eq!(st, StatusCode::OK);
    }
    let w = open(dir.path());
    let held = w.cosigned(ORIGIN).await.unwrap();
    assert_eq!(held.size, 200);
    // The stored note is the checkpoint, signed by the log, cosigned by us.
    let opened = open_checkpoint(
        &held.note,
        log_key().verifier(),
        &[witness_key().verifier().clone()],
        1,
    )
    .unwrap();
    assert_eq!(opened.checkpoint.size, 200);
    assert_eq!(
        std::fs::read(state_path(dir.path(), ORIGIN)).unwrap(),
        held.note
    );
    // It still refuses to go back or fork after the restart.
    let (st, _, body) = post(&w, request(&tree, 0, 100)).await;
    assert_eq!((st, body.as_slice()), (StatusCode::CONFLICT, &b"200\n"[..]));
    let (st, _, _) = post(&w, request(&leaves(300, 3), 200, 250)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _, _) = post(&w, request(&tree, 200, 250)).await;
    assert_eq!(st, StatusCode::OK);

    // Monitoring: GET /witness/<origin hash>/checkpoint.
    let resp = router(w.clone())
        .oneshot(
            Request::get(format!("/witness/{}/checkpoint", origin_hash(ORIGIN)))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let opened = open_checkpoint(
        &body,
        log_key().verifier(),
        &[witness_key().verifier().clone()],
        1,
    )
    .unwrap();
    assert_eq!(opened.checkpoint.size, 250);
    let resp = router(w)
        .oneshot(
            Request::get(format!("/witness/{}/checkpoint", origin_hash("nope")))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // A damaged state file stops the witness from starting.
    std::fs::write(state_path(dir.path(), ORIGIN), b"garbage\n").unwrap();
    let e = Witness::open(dir.path(), witness_key(), &[log_key().verifier().clone()]).unwrap_err();
    assert!(e.to_string().contains("refuses to start"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_from_one_old_size_are_serialized() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let tree = leaves(400, 0);
    let (st, _, _) = post(&w, request(&tree, 0, 100)).await;
    assert_eq!(st, StatusCode::OK);
    let mut tasks = Vec::new();
    for new in 101..=116 {
        let w = w.clone();
        let body = request(&tree, 100, new);
        tasks.push(tokio::spawn(async move { post(&w, body).await.0 }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one request from size 100 may win");
    let held = w.cosigned(ORIGIN).await.unwrap();
    assert!((101..=116).contains(&held.size));
    assert_eq!(held.root, tree_hash(&tree[..held.size as usize]));
}

#[test]
fn refuses_a_key_that_is_not_a_cosignature_key() {
    let dir = tempfile::tempdir().unwrap();
    let e = Witness::open(dir.path(), log_key(), &[log_key().verifier().clone()]).unwrap_err();
    assert!(matches!(e, WitnessError::NotACosignatureKey { .. }), "{e}");
    let e = Witness::open(
        dir.path(),
        witness_key(),
        &[witness_key().verifier().clone()],
    )
    .unwrap_err();
    assert!(matches!(e, WitnessError::NotALogKey { .. }), "{e}");
    let e = Witness::open(dir.path(), witness_key(), &[]).unwrap_err();
    assert!(matches!(e, WitnessError::NoLogs), "{e}");
}
