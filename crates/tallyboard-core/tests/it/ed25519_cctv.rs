#![allow(clippy::unwrap_used, clippy::expect_used)]
//! C2SP CCTV Ed25519 edge-case vectors (tests/data/cctv-ed25519, BSD-style
//! licence next to the file): pin exactly which edge cases tallyboard's
//! strict verification accepts, and check that batch verification gives the
//! same verdict for every vector.

use serde::Deserialize;
use tallyboard_core::keys::{BatchFailure, BatchVerifier, PublicKey, SecretKey, Signature};

#[derive(Deserialize)]
struct Vector {
    number: usize,
    key: String,
    sig: String,
    msg: String,
    flags: Option<Vec<String>>,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cctv-ed25519/ed25519vectors.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// How tallyboard treats a vector.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Verdict {
    /// Public key refused when parsed (invalid encoding or small order).
    KeyRejected,
    /// Key accepted, signature rejected.
    SigRejected,
    /// Signature accepted.
    Accepted,
}

fn strict(v: &Vector) -> (Verdict, Option<PublicKey>, Signature) {
    let key: [u8; 32] = hex::decode(&v.key).unwrap().try_into().unwrap();
    let sig = Signature::from_slice(&hex::decode(&v.sig).unwrap()).unwrap();
    match PublicKey::from_bytes(&key) {
        Err(_) => (Verdict::KeyRejected, None, sig),
        Ok(pk) => {
            let verdict = if pk.verify_raw(v.msg.as_bytes(), &sig).is_ok() {
                Verdict::Accepted
            } else {
                Verdict::SigRejected
            };
            (verdict, Some(pk), sig)
        }
    }
}

/// The vectors strict verification accepts (numbers from the JSON file).
/// spec/crypto.md lists the same set with the reason for each.
const ACCEPTED: &[usize] = &[
    7, 29, 50, 117, 139, 161, 182, 249, 305, 411, 425, 438, 465, 473, 481, 489, 497, 511, 525, 538,
    565, 573, 581, 589, 597, 611, 625, 638, 665, 673, 681, 689, 697, 711, 725, 738, 765, 773, 781,
    789, 797, 832, 899,
];

#[test]
fn strict_verification_accepts_exactly_the_pinned_set() {
    let vs = vectors();
    assert_eq!(vs.len(), 914);
    let accepted: Vec<usize> = vs
        .iter()
        .filter(|v| strict(v).0 == Verdict::Accepted)
        .map(|v| v.number)
        .collect();
    assert_eq!(accepted, ACCEPTED);
}

/// Runs the batch one way or the other.
fn run(b: &mut BatchVerifier, with_batch_equation: bool) -> Result<(), BatchFailure> {
    if with_batch_equation {
        b.verify_with_batch_equation()
    } else {
        b.verify()
    }
}

#[test]
fn batch_verdict_equals_strict_verdict_for_every_vector() {
    let honest = SecretKey::from_seed(&[5; 32]);
    let honest_pk = honest.public_key();
    let honest_sig = honest.sign_raw(b"honest");
    let mut b = BatchVerifier::new();
    for with_batch_equation in [false, true] {
        for v in vectors() {
            let (verdict, pk, sig) = strict(&v);
            let Some(pk) = pk else {
                assert_eq!(verdict, Verdict::KeyRejected);
                continue;
            };
            // Alone.
            b.push_raw(&pk, v.msg.as_bytes(), &sig);
            let alone = run(&mut b, with_batch_equation);
            assert_eq!(
                alone.is_ok(),
                verdict == Verdict::Accepted,
                "vector {}",
                v.number
            );
            // Between two honest signatures: only this one may be named.
            b.push_raw(&honest_pk, b"honest", &honest_sig);
            b.push_raw(&pk, v.msg.as_bytes(), &sig);
            b.push_raw(&honest_pk, b"honest", &honest_sig);
            match run(&mut b, with_batch_equation) {
                Ok(()) => assert_eq!(verdict, Verdict::Accepted, "vector {}", v.number),
                Err(e) => {
                    assert_ne!(verdict, Verdict::Accepted, "vector {}", v.number);
                    assert_eq!(e.bad, vec![1], "vector {}", v.number);
                }
            }
        }
    }
}

/// The rule behind [`ACCEPTED`], in terms of the CCTV flags: a vector is
/// accepted exactly when neither point is of small order, neither encoding
/// is non-canonical, and no low-order residue is left by the cofactorless
/// equation. Points with a low-order component (but not of small order) are
/// accepted when the equation holds.
#[test]
fn accepted_set_follows_the_flag_rule() {
    const REJECTING: &[&str] = &[
        "low_order_A",
        "low_order_R",
        "non_canonical_A",
        "non_canonical_R",
        "low_order_residue",
    ];
    for v in vectors() {
        let flags = v.flags.clone().unwrap_or_default();
        let expect = !flags.iter().any(|f| REJECTING.contains(&f.as_str()));
        let (verdict, _, _) = strict(&v);
        assert_eq!(
            verdict == Verdict::Accepted,
            expect,
            "vector {} {flags:?}",
            v.number
        );
        if flags.iter().any(|f| f == "low_order_A") {
            assert_eq!(verdict, Verdict::KeyRejected, "vector {}", v.number);
        }
    }
}
