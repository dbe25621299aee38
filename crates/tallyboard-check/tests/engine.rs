//! The engine on a small election: decoding, signatures (in chunks, on
//! several threads, in log order), the log-order rules and the totals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use tallyboard_check::{
    CHUNK, Checked, ElectionState, Outcome, Signatures, check_entries, run_pipeline,
};
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, Region, Unit,
};
use tallyboard_core::{Hash, Manifest, SecretKey, SignedTally, Tally, Violation};

const T0: u64 = 1_778_400_000;
const UNITS: usize = 700;

fn key(label: &str) -> SecretKey {
    SecretKey::from_seed(&Hash::sha256(label.as_bytes()).0)
}

fn manifest() -> Arc<Manifest> {
    let body = ManifestBody {
        election: "TEST-engine".to_owned(),
        title: "Engine test (not real)".to_owned(),
        authority: key("authority").public_key(),
        log: LogInfo {
            origin: "engine.example/log".to_owned(),
            key: key("log").public_key(),
        },
        witnesses: Vec::new(),
        quorum: 0,
        mirrors: Vec::new(),
        contests: vec![Contest {
            id: "c".to_owned(),
            title: "Contest".to_owned(),
            choices: ["a", "b"]
                .iter()
                .map(|k| Choice {
                    id: (*k).to_owned(),
                    name: (*k).to_owned(),
                })
                .collect(),
        }],
        regions: vec![Region {
            id: "r".to_owned(),
            name: "Region".to_owned(),
            parent: None,
        }],
        centres: vec![Centre {
            id: "C".to_owned(),
            name: "Centre".to_owned(),
            keys: vec![CentreKey {
                key: key("centre").public_key(),
                valid_from: T0 - 86_400,
                valid_until: T0 + 86_400,
                revoked_at: None,
            }],
        }],
        units: (0..UNITS)
            .map(|u| Unit {
                id: format!("U{u:04}"),
                name: format!("Unit {u}"),
                region: "r".to_owned(),
                registered: 1000,
                contests: vec!["c".to_owned()],
                centre: "C".to_owned(),
            })
            .collect(),
        polls_close: None,
        results_due: None,
    };
    Arc::new(Manifest::new(body).unwrap())
}

fn tally(unit: usize, a: u64) -> Tally {
    Tally::new(
        "TEST-engine",
        "c",
        &format!("U{unit:04}"),
        [("a", a), ("b", 10)],
        1,
        1,
        a + 12,
        T0,
        key("centre").public_key(),
    )
}

fn signed(t: &Tally) -> SignedTally {
    t.sign(&key("centre"))
}

/// The bytes of `s` with one bit of the signature flipped.
fn forged(s: &SignedTally) -> Vec<u8> {
    let mut b = s.to_bytes();
    let last = b.len() - 1;
    b[last] ^= 1;
    b
}

fn figure(state: &ElectionState, choice: &str) -> u64 {
    let t = state.totals("engine.example/log", state.applied(), Hash::EMPTY_TREE);
    t.row("c", None).unwrap().choices[choice]
}

#[test]
fn counts_corrections_and_refuses_what_breaks_the_log_rules() {
    let m = manifest();
    let mut state = ElectionState::new(Arc::clone(&m));
    let first = signed(&tally(0, 100));
    let one = |b: &[u8]| Checked::one(&m, b, Signatures::Verify);
    assert_eq!(state.apply(&one(first.as_bytes())), Outcome::Counted);
    assert_eq!(figure(&state, "a"), 100);

    // The same entry again.
    match state.apply(&one(first.as_bytes())) {
        Outcome::Broken(v) => assert!(matches!(v[..], [Violation::DuplicateEntry { .. }])),
        other => panic!("{other:?}"),
    }
    // A correction counts instead of the first publication.
    let mut fix = first.tally().correction(first.leaf_hash(), "recount");
    fix.choices.insert("a".to_owned(), 90);
    fix.ballots_cast = 102;
    let fix = signed(&fix);
    assert_eq!(state.apply(&one(fix.as_bytes())), Outcome::Counted);
    assert_eq!(figure(&state, "a"), 90);
    // A second correction of the first publication is stale.
    let mut stale = first.tally().correction(first.leaf_hash(), "again");
    stale.choices.insert("a".to_owned(), 80);
    stale.ballots_cast = 92;
    match state.apply(&one(signed(&stale).as_bytes())) {
        Outcome::Broken(v) => assert!(
            v.iter().any(|v| v.code() == "supersedes-stale-revision"),
            "{v:?}"
        ),
        other => panic!("{other:?}"),
    }
    // Manifest rules and log rules are reported together; nothing changes.
    let mut wrong = first.tally().clone();
    wrong.ballots_cast = 1;
    match state.apply(&one(signed(&wrong).as_bytes())) {
        Outcome::Broken(v) => {
            let codes: Vec<&str> = v.iter().map(Violation::code).collect();
            assert_eq!(codes, ["arithmetic-mismatch", "first-revision-exists"]);
        }
        other => panic!("{other:?}"),
    }
    // Not tallies at all.
    let bad = one(&forged(&signed(&tally(1, 5))));
    assert!(matches!(bad, Checked::BadSignature(_)));
    assert_eq!(state.apply(&bad), Outcome::NotATally);
    let junk = one(b"not a tally");
    assert!(matches!(junk, Checked::Undecodable { .. }));
    assert_eq!(junk.bytes(), b"not a tally");
    assert_eq!(state.apply(&junk), Outcome::NotATally);

    assert_eq!(state.applied(), 7);
    assert_eq!(state.revisions().len(), 2);
    assert_eq!(figure(&state, "a"), 90);
}

#[test]
fn a_clone_restores_the_state_before_a_change() {
    let m = manifest();
    let mut state = ElectionState::new(Arc::clone(&m));
    let t = signed(&tally(3, 40));
    state.apply(&Checked::one(&m, t.as_bytes(), Signatures::Verify));
    let saved = state.clone();
    let u = signed(&tally(4, 50));
    assert_eq!(
        state.apply(&Checked::one(&m, u.as_bytes(), Signatures::Verify)),
        Outcome::Counted
    );
    assert_eq!(figure(&state, "a"), 90);
    state = saved;
    assert_eq!(figure(&state, "a"), 40);
    assert_eq!(state.applied(), 1);
    // The entry undone can be applied again.
    assert_eq!(
        state.apply(&Checked::one(&m, u.as_bytes(), Signatures::Verify)),
        Outcome::Counted
    );
}

#[test]
fn trusted_entries_skip_the_signature_only() {
    let m = manifest();
    let bad = forged(&signed(&tally(0, 1)));
    assert!(matches!(
        Checked::one(&m, &bad, Signatures::Verify),
        Checked::BadSignature(_)
    ));
    match Checked::one(&m, &bad, Signatures::Trusted) {
        Checked::Signed(s) => {
            assert_eq!(s.unit, Some(0));
            assert!(s.violations.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let mut other_unit = tally(0, 1);
    other_unit.unit = "nowhere".to_owned();
    match Checked::one(&m, signed(&other_unit).as_bytes(), Signatures::Trusted) {
        Checked::Signed(s) => {
            assert_eq!(s.unit, None);
            assert_eq!(s.violations[0].code(), "unknown-unit");
        }
        other => panic!("{other:?}"),
    }
}

/// Entries of several chunks, with bad ones at known places.
fn log_entries() -> (Vec<Vec<u8>>, Vec<usize>) {
    let n = 3 * CHUNK + 17;
    let mut bad = Vec::new();
    let mut published = std::collections::HashSet::new();
    let entries = (0..n)
        .map(|i| {
            let s = signed(&tally(i % UNITS, (i % 500) as u64));
            if i % CHUNK == 5 || i == n - 1 {
                bad.push(i);
                forged(&s)
            } else if i % CHUNK == 9 {
                bad.push(i);
                b"junk".to_vec()
            } else if !published.insert(i % UNITS) {
                // A second first publication of the unit.
                bad.push(i);
                s.to_bytes()
            } else {
                s.to_bytes()
            }
        })
        .collect();
    (entries, bad)
}

#[test]
fn chunks_on_several_threads_come_back_in_log_order() {
    let m = manifest();
    let (entries, bad) = log_entries();
    for threads in [1, 2, 3] {
        let checked = check_entries(&m, 1000, &entries, Signatures::Verify, threads);
        assert_eq!(checked.len(), entries.len());
        let mut state = ElectionState::new(Arc::clone(&m));
        let mut refused = Vec::new();
        for (i, (c, e)) in checked.iter().zip(&entries).enumerate() {
            assert_eq!(c.bytes(), e.as_slice(), "entry {i}");
            if state.apply(c) != Outcome::Counted {
                refused.push(i);
            }
        }
        assert_eq!(refused, bad, "{threads} threads");
    }
}

#[test]
fn the_pipeline_applies_in_log_order() {
    let m = manifest();
    let (entries, bad) = log_entries();
    let mut state = ElectionState::new(Arc::clone(&m));
    let mut seen = Vec::new();
    let mut refused = Vec::new();
    let r = run_pipeline::<Vec<u8>, _>(
        &m,
        Signatures::Verify,
        2,
        |index, c| {
            seen.push(index);
            if state.apply(&c) != Outcome::Counted {
                refused.push(index as usize);
            }
        },
        |sender| {
            for (i, e) in entries.iter().enumerate() {
                sender.push(i as u64, e.as_slice()).unwrap();
            }
            "fed"
        },
    );
    assert_eq!(r, "fed");
    assert_eq!(seen, (0..entries.len() as u64).collect::<Vec<_>>());
    assert_eq!(refused, bad);
    assert_eq!(state.applied(), entries.len() as u64);
}
