//! `UnverifiedTally::from_bytes` / `SignedTally::from_bytes` on arbitrary
//! bytes, and sign-then-parse round trips of arbitrary tallies.
//!
//! Asserts: an accepted signed tally is exactly its canonical envelope
//! around its canonical body (re-encoding gives the input bytes back), its
//! fields pass `check_fields`, and the independent `ciborium` decoder reads
//! the same body and signature; strict verification, batch verification
//! and `SignedTally::from_bytes` give the same verdict; decoding with the
//! manifest's key index gives the same tally as decoding alone;
//! `rules::check_tally` finds no violation only when an independent
//! re-statement of the rules (election, unit, contest, exact choice set,
//! checked arithmetic, registered voters, listed signer) holds; a tally we
//! sign parses back to the same tally and bytes exactly when its fields are
//! valid and it fits the size cap.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::cbor;
use tallyboard_core::hash::{Hash, leaf_hash};
use tallyboard_core::keys::{BatchVerifier, Context, SecretKey};
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::check_tally;
use tallyboard_core::tally::{SignedTally, Tally, UnverifiedTally};
use tallyboard_fuzz::vector_manifest;

fuzz_target!(|data: &[u8]| {
    parse(data);
    let _ = round_trip(&mut Unstructured::new(data));
});

fn parse(data: &[u8]) {
    let Ok(u) = UnverifiedTally::from_bytes(data) else {
        assert!(SignedTally::from_bytes(data).is_err());
        return;
    };
    assert_eq!(u.as_bytes(), data);
    let (key, body, sig) = u.signature_parts();
    assert_eq!(
        cbor::encode_envelope(body, sig),
        data,
        "envelope not canonical"
    );
    assert_eq!(u.tally().to_body_bytes(), body, "body not canonical");
    assert_eq!(Tally::from_body_bytes(body).as_ref(), Ok(u.tally()));
    assert_eq!(u.tally().check_fields(), Ok(()));

    let v: ciborium::Value = ciborium::from_reader(data).expect("ciborium reads what we accept");
    let items = v.into_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_bytes().map(Vec::as_slice), Some(body));
    assert_eq!(items[1].as_bytes().map(Vec::as_slice), Some(&sig.0[..]));

    // Strict, batch (next to a good signature, so the batch equation runs)
    // and from_bytes agree.
    let strict = key.verify(Context::Tally, body, sig).is_ok();
    let good_key = SecretKey::from_seed(&[0x5a; 32]);
    let good_sig = good_key.sign(Context::Tally, b"good");
    let mut batch = BatchVerifier::new();
    batch.push(&good_key.public_key(), Context::Tally, b"good", &good_sig);
    batch.push(key, Context::Tally, body, sig);
    let batch_verdict = batch.verify();
    assert_eq!(batch_verdict.is_ok(), strict, "batch and strict differ");
    if let Err(f) = batch_verdict {
        assert_eq!(f.bad, vec![1]);
    }
    if let Some(m) = vector_manifest() {
        let with_index = UnverifiedTally::from_bytes_in(data, m).expect("decodes alone");
        assert_eq!(with_index.tally(), u.tally());
        rules(m, u.tally());
    }
    let signed = SignedTally::from_bytes(data);
    assert_eq!(signed.is_ok(), strict);
    if let Ok(s) = signed {
        assert_eq!(s.as_bytes(), data);
        assert_eq!(s.leaf_hash(), leaf_hash(data));
        assert_eq!(s.tally(), u.tally());
    }
}

/// `check_tally` passes only if the rules, written out again here, hold.
fn rules(m: &Manifest, t: &Tally) {
    let violations = check_tally(m, t);
    let codes: Vec<&str> = violations.iter().map(|v| v.code()).collect();
    let sum = t
        .choices
        .values()
        .try_fold(0u64, |a, &n| a.checked_add(n))
        .and_then(|s| s.checked_add(t.blank))
        .and_then(|s| s.checked_add(t.invalid));
    match sum {
        None => assert!(codes.contains(&"count-overflow"), "{codes:?}"),
        Some(s) if s != t.ballots_cast => {
            assert!(codes.contains(&"arithmetic-mismatch"), "{codes:?}")
        }
        Some(_) => {}
    }
    if !violations.is_empty() {
        return;
    }
    assert_eq!(t.election, m.election);
    let unit = m.unit(&t.unit).expect("unit in the manifest");
    assert!(unit.contests.contains(&t.contest));
    let contest = m.contest(&t.contest).expect("contest in the manifest");
    let mut want: Vec<&str> = contest.choices.iter().map(|c| c.id.as_str()).collect();
    want.sort_unstable();
    let got: Vec<&str> = t.choices.keys().map(String::as_str).collect();
    assert_eq!(got, want, "choice set");
    assert!(t.ballots_cast <= unit.registered);
    let (centre, key) = m.key(&t.signer).expect("signer listed");
    assert_eq!(centre.id, unit.centre);
    assert!(key.valid_from <= t.counted_at && t.counted_at < key.valid_until);
    assert!(key.revoked_at.is_none_or(|r| t.counted_at < r));
}

/// An id: usually from the allowed alphabet, sometimes anything.
fn id(u: &mut Unstructured) -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    if u.ratio(1, 8)? {
        return u.arbitrary();
    }
    let len = u.int_in_range(0..=66)?;
    (0..len)
        .map(|_| Ok(char::from(ALPHABET[u.choose_index(ALPHABET.len())?])))
        .collect()
}

fn round_trip(u: &mut Unstructured) -> Result<()> {
    let seed: [u8; 32] = u.arbitrary()?;
    let key = SecretKey::from_seed(&seed);
    let n = u.int_in_range(0..=5)?;
    let mut choices = BTreeMap::new();
    for _ in 0..n {
        choices.insert(id(u)?, u.arbitrary()?);
    }
    let mut t = Tally::new(
        &id(u)?,
        &id(u)?,
        &id(u)?,
        choices,
        u.arbitrary()?,
        u.arbitrary()?,
        u.arbitrary()?,
        u.arbitrary()?,
        key.public_key(),
    );
    if u.arbitrary()? {
        let reason: String = u.arbitrary()?;
        t = t.correction(Hash(u.arbitrary()?), &reason);
        t.revision = u.arbitrary()?;
    }
    let signed = t.sign(&key);
    let parsed = SignedTally::from_bytes(signed.as_bytes());
    let valid = t.check_fields().is_ok() && signed.as_bytes().len() <= MAX_SIGNED_TALLY;
    match parsed {
        Ok(p) => {
            assert!(valid, "parsed a tally with invalid fields");
            assert_eq!(p.tally(), &t);
            assert_eq!(p.as_bytes(), signed.as_bytes());
            assert_eq!(p.leaf_hash(), signed.leaf_hash());
        }
        Err(e) => assert!(!valid, "our own valid tally does not parse: {e:?}"),
    }
    Ok(())
}
