//! `SignedManifest::from_bytes` and `ManifestBody::from_body_bytes` on
//! arbitrary bytes (the same bytes taken as a signed envelope and as a bare
//! body).
//!
//! Asserts: an accepted signed manifest or body re-encodes to exactly the
//! input bytes, and `ciborium` reads the same envelope parts; the expected
//! authority check accepts the manifest's own key and refuses another;
//! `problems()` is empty exactly when `validate()` succeeds; a valid body we
//! sign parses back to the same manifest and bytes.
//!
//! The times (`polls_close`, `results_due`: body keys 12 and 13): every
//! body decoded is also given times read from the input's first 17 bytes
//! (each present or absent, any value): the body with them encodes and
//! decodes back to itself, and its problems are the body's own (times
//! aside) plus `due-before-close` exactly when both are present and the
//! results are due before the polls close. `fuzz/dicts/signed_manifest.dict`
//! holds the CBOR heads and keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::cbor;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::{ManifestBody, SignedManifest};

fuzz_target!(|data: &[u8]| {
    signed(data);
    body(data);
});

fn signed(data: &[u8]) {
    if let Ok(env) = cbor::parse_envelope(data, usize::MAX)
        && let Some(b) = data
            .get(env.body.clone())
            .and_then(|b| ManifestBody::from_body_bytes(b).ok())
    {
        times(&b, data);
    }
    let Ok(m) = SignedManifest::from_bytes(data, None) else {
        return;
    };
    assert_eq!(m.as_bytes(), data);
    let body = m.body_bytes();
    assert_eq!(
        cbor::encode_envelope(body, m.signature()),
        data,
        "envelope not canonical"
    );
    assert_eq!(
        m.manifest().body().to_body_bytes(),
        body,
        "body not canonical"
    );
    let v: ciborium::Value = ciborium::from_reader(data).expect("ciborium reads what we accept");
    let items = v.into_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_bytes().map(Vec::as_slice), Some(body));
    assert_eq!(
        items[1].as_bytes().map(Vec::as_slice),
        Some(&m.signature().0[..])
    );

    let authority = m.manifest().authority;
    assert_eq!(
        SignedManifest::from_bytes(data, Some(&authority)).as_ref(),
        Ok(&m)
    );
    let other = SecretKey::from_seed(&[0xee; 32]).public_key();
    if other != authority {
        assert!(SignedManifest::from_bytes(data, Some(&other)).is_err());
    }
}

/// The body with the times of the recipe: both codec directions and the
/// `due-before-close` rule (spec/tally-and-manifest.md).
fn times(b: &ManifestBody, recipe: &[u8]) {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        for (k, x) in w.iter_mut().enumerate() {
            *x = recipe.get(1 + i * 8 + k).copied().unwrap_or(0);
        }
        u64::from_le_bytes(w)
    };
    let flags = recipe.first().copied().unwrap_or(0);
    let mut t = b.clone();
    t.polls_close = (flags & 1 != 0).then(|| word(0));
    t.results_due = (flags & 2 != 0).then(|| word(1));
    let bytes = t.to_body_bytes();
    let back = ManifestBody::from_body_bytes(&bytes).expect("a body with times decodes");
    assert_eq!(back, t);
    let due_before_close = |m: &ManifestBody| {
        m.problems()
            .iter()
            .filter(|p| p.code() == "due-before-close")
            .count()
    };
    let others = |m: &ManifestBody| {
        m.problems()
            .into_iter()
            .filter(|p| p.code() != "due-before-close")
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    };
    let want = match (t.polls_close, t.results_due) {
        (Some(close), Some(due)) => usize::from(due < close),
        _ => 0,
    };
    assert_eq!(due_before_close(&t), want);
    assert_eq!(others(&t), others(b));
}

fn body(data: &[u8]) {
    let Ok(b) = ManifestBody::from_body_bytes(data) else {
        return;
    };
    times(&b, data);
    assert_eq!(b.to_body_bytes(), data, "body not canonical");
    let problems = b.problems();
    let validated = b.clone().validate();
    assert_eq!(
        problems.is_empty(),
        validated.is_ok(),
        "{problems:?} vs {validated:?}"
    );
    let Ok(m) = validated else {
        return;
    };
    let key = SecretKey::from_seed(&[0x42; 32]);
    let signed = m.sign(&key);
    let back = SignedManifest::from_bytes(signed.as_bytes(), Some(&key.public_key()))
        .expect("a valid manifest we sign parses back");
    assert_eq!(back.as_bytes(), signed.as_bytes());
    assert_eq!(back.manifest(), signed.manifest());
}
