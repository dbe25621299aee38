//! Tests of the manifest: round trips, lookups, every structural rule.

use super::*;
use crate::cbor;
use crate::keys::{Context, SecretKey};

pub(crate) fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// Election general-2026: contest mayor (alice, bob); regions north >
/// north-1; centre C1 (key 1, valid [1000, 2000)); units P-017
/// (north-1, 1000 registered) and P-001 (north, 800).
pub(crate) fn sample() -> ManifestBody {
    let ck = |n: u8| CentreKey {
        key: key(n).public_key(),
        valid_from: 1_000,
        valid_until: 2_000,
        revoked_at: None,
    };
    ManifestBody {
        election: "general-2026".into(),
        title: "General election 2026 (example)".into(),
        authority: key(100).public_key(),
        log: LogInfo {
            origin: "tallyboard.example/general-2026".into(),
            key: key(101).public_key(),
        },
        witnesses: vec![Witness {
            name: "witness.example".into(),
            key: key(102).public_key(),
        }],
        quorum: 1,
        mirrors: vec!["https://mirror.example/".into()],
        contests: vec![Contest {
            id: "mayor".into(),
            title: "Mayor".into(),
            choices: vec![
                Choice {
                    id: "alice".into(),
                    name: "Alice".into(),
                },
                Choice {
                    id: "bob".into(),
                    name: "Bob".into(),
                },
            ],
        }],
        regions: vec![
            Region {
                id: "north".into(),
                name: "North".into(),
                parent: None,
            },
            Region {
                id: "north-1".into(),
                name: "North district 1".into(),
                parent: Some("north".into()),
            },
        ],
        centres: vec![Centre {
            id: "C1".into(),
            name: "Centre 1".into(),
            keys: vec![ck(1)],
        }],
        units: vec![
            Unit {
                id: "P-017".into(),
                name: "School 17".into(),
                region: "north-1".into(),
                registered: 1000,
                contests: vec!["mayor".into()],
                centre: "C1".into(),
            },
            Unit {
                id: "P-001".into(),
                name: "Town hall".into(),
                region: "north".into(),
                registered: 800,
                contests: vec!["mayor".into()],
                centre: "C1".into(),
            },
        ],
        polls_close: None,
        results_due: None,
    }
}

fn codes(b: ManifestBody) -> Vec<&'static str> {
    b.problems().iter().map(ManifestProblem::code).collect()
}

#[test]
fn round_trip_and_lookups() {
    let m = sample().validate().unwrap();
    let s = m.clone().sign(&key(100));
    let p = SignedManifest::from_bytes(s.as_bytes(), Some(&key(100).public_key())).unwrap();
    assert_eq!(p.manifest(), &m);
    assert_eq!(p.as_bytes(), s.as_bytes());
    assert_eq!(p.body_bytes(), m.to_body_bytes().as_slice());
    assert!(SignedManifest::from_bytes(s.as_bytes(), None).is_ok());

    assert_eq!(m.unit("P-001").map(|u| u.registered), Some(800));
    assert_eq!(m.unit_index("P-017"), Some(0));
    assert_eq!(m.unit("P-999"), None);
    let c = m.contest_index("mayor").unwrap();
    assert_eq!(m.choice_index(c, "bob"), Some(1));
    assert_eq!(m.choice_index(c, "carol"), None);
    let (centre, k) = m.key(&key(1).public_key()).unwrap();
    assert_eq!((centre.id.as_str(), k.valid_from), ("C1", 1_000));
    assert!(m.key(&key(2).public_key()).is_none());
    // P-017 counts in north-1 and north, in that order.
    let regions: Vec<&str> = m
        .unit_regions(0)
        .iter()
        .map(|&r| m.regions[r as usize].id.as_str())
        .collect();
    assert_eq!(regions, ["north-1", "north"]);
    assert_eq!(m.unit_regions(1).len(), 1);
}

#[test]
fn tally_decoding_with_manifest_keys_gives_the_same_result() {
    use crate::tally::{SignedTally, Tally};
    let m = sample().validate().unwrap();
    for signer in [1, 2] {
        let t = Tally::new(
            "general-2026",
            "mayor",
            "P-017",
            [("alice", 1u64)],
            0,
            0,
            1,
            1_500,
            key(signer).public_key(),
        );
        let s = t.sign(&key(signer));
        let a = SignedTally::from_bytes(s.as_bytes()).unwrap();
        let b = SignedTally::from_bytes_in(s.as_bytes(), &m).unwrap();
        assert_eq!(a, b);
        let mut bad = s.to_bytes();
        let n = bad.len();
        bad[n - 1] ^= 4;
        assert_eq!(
            SignedTally::from_bytes_in(&bad, &m).unwrap_err().code(),
            "bad-signature"
        );
    }
}

#[test]
fn sign_sets_authority_to_the_signing_key() {
    let s = sample().validate().unwrap().sign(&key(7));
    assert_eq!(s.manifest().authority, key(7).public_key());
    assert!(SignedManifest::from_bytes(s.as_bytes(), Some(&key(7).public_key())).is_ok());
}

#[test]
fn rejects_unexpected_authority_and_bad_signature() {
    let s = sample().validate().unwrap().sign(&key(100));
    let e = SignedManifest::from_bytes(s.as_bytes(), Some(&key(5).public_key())).unwrap_err();
    assert_eq!(e.code(), "unexpected-authority");
    let mut b = s.to_bytes();
    let n = b.len();
    b[n - 1] ^= 1;
    assert_eq!(
        SignedManifest::from_bytes(&b, None).unwrap_err(),
        ManifestError::BadSignature
    );
    // Signed by another key than the body's authority.
    let body = s.body_bytes();
    let forged = cbor::encode_envelope(body, &key(5).sign(Context::Manifest, body));
    assert_eq!(
        SignedManifest::from_bytes(&forged, None).unwrap_err(),
        ManifestError::BadSignature
    );
}

#[test]
fn rejects_trailing_bytes_and_non_canonical_bodies() {
    let s = sample().validate().unwrap().sign(&key(100));
    let mut b = s.to_bytes();
    b.push(0);
    assert_eq!(
        SignedManifest::from_bytes(&b, None).unwrap_err().code(),
        "trailing-bytes"
    );
    // quorum 1 written as 0x18 0x01.
    let body = sample().to_body_bytes();
    let pos = body.windows(2).position(|w| w == [0x06, 0x01]).unwrap();
    let mut nc = body[..pos + 1].to_vec();
    nc.extend_from_slice(&[0x18, 0x01]);
    nc.extend_from_slice(&body[pos + 2..]);
    let env = cbor::encode_envelope(&nc, &key(100).sign(Context::Manifest, &nc));
    assert_eq!(
        SignedManifest::from_bytes(&env, None).unwrap_err().code(),
        "non-canonical"
    );
}

#[test]
fn returns_every_structural_problem() {
    let mut b = sample();
    b.quorum = 3;
    b.units[1].id = "P-017".into();
    b.units[0].region = "south".into();
    b.units[0].centre = "C9".into();
    b.units[0].contests.push("senate".into());
    b.units[1].contests.push("mayor".into());
    b.regions[0].parent = Some("atlantis".into());
    b.contests[0].choices[1].id = "alice".into();
    b.centres[0].keys[0].valid_until = 1_000;
    b.centres.push(Centre {
        id: "C2".into(),
        name: "Centre 2".into(),
        keys: vec![b.centres[0].keys[0].clone()],
    });
    let mut got = codes(b);
    got.sort_unstable();
    let mut want = vec![
        "quorum-too-large",
        "duplicate-id",
        "unit-unknown-region",
        "unit-unknown-centre",
        "unit-unknown-contest",
        "unit-duplicate-contest",
        "region-unknown-parent",
        "duplicate-choice-id",
        "empty-key-window",
        "empty-key-window",
        "key-in-two-centres",
    ];
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn rejects_empty_manifests_and_contests() {
    let mut b = sample();
    b.contests[0].choices.clear();
    assert_eq!(codes(b), ["contest-without-choices"]);
    let mut b = sample();
    b.units.clear();
    b.contests.clear();
    assert_eq!(codes(b), ["no-contests", "no-units"]);
}

#[test]
fn detects_region_cycles() {
    let mut b = sample();
    b.regions[0].parent = Some("north-1".into());
    assert_eq!(codes(b.clone()), ["region-cycle"]);
    b.regions[0].parent = Some("north".into());
    assert_eq!(codes(b), ["region-cycle"]);
}

#[test]
fn builder_checks_ids_and_texts() {
    let mut b = sample();
    b.units[0].id = "../etc".into();
    b.contests[0].title = "tab\there".into();
    b.log.origin = "has space".into();
    let got = codes(b);
    assert_eq!(got, ["invalid-text", "invalid-text", "invalid-id"]);
    let mut b = sample();
    b.log.origin = "tallyboard/v1/tally".into();
    assert_eq!(codes(b), ["origin-is-context-label"]);
}

#[test]
fn validation_errors_surface_on_parse() {
    let mut b = sample();
    b.quorum = 2;
    let body = b.to_body_bytes();
    let env = cbor::encode_envelope(&body, &key(100).sign(Context::Manifest, &body));
    let e = SignedManifest::from_bytes(&env, None).unwrap_err();
    assert_eq!(e.code(), "quorum-too-large");
    assert!(e.to_string().contains("quorum 2"));
}
