//! `SignedManifest::from_bytes` and `ManifestBody::from_body_bytes` on
//! arbitrary bytes (the same bytes taken as a signed envelope and as a bare
//! body).
//!
//! Asserts: an accepted signed manifest or body re-encodes to exactly the
//! input bytes, and `ciborium` reads the same envelope parts; the expected
//! authority check accepts the manifest's own key and refuses another;
//! `problems()` is empty exactly when `validate()` succeeds; a valid body we
//! sign parses back to the same manifest and bytes.
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

fn body(data: &[u8]) {
    let Ok(b) = ManifestBody::from_body_bytes(data) else {
        return;
    };
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
