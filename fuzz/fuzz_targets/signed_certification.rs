//! `SignedCertification::from_bytes` and `CertificationBody::from_body_bytes`
//! on arbitrary bytes (the same bytes taken as a signed envelope and as a
//! bare body).
//!
//! Asserts: an accepted body re-encodes to exactly the input bytes and a
//! statement we sign parses back to it, verifying only under its own
//! authority key; accepted signed bytes are their canonical envelope,
//! `ciborium` reads the same parts, and `from_bytes` accepts exactly when
//! the strict signature check under that key does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::cbor;
use tallyboard_core::certification::{CertificationBody, SignedCertification};
use tallyboard_core::keys::{Context, SecretKey};
use tallyboard_core::limits::MAX_SIGNED_CERTIFICATION;

fuzz_target!(|data: &[u8]| {
    signed(data);
    if let Ok(c) = CertificationBody::from_body_bytes(data) {
        body(data, &c);
    }
});

fn signed(data: &[u8]) {
    let Ok(env) = cbor::parse_envelope(data, MAX_SIGNED_CERTIFICATION) else {
        assert!(SignedCertification::from_bytes(data, &key(0xa0)).is_err());
        return;
    };
    let Some(body_bytes) = data.get(env.body.clone()) else {
        return;
    };
    let Ok(c) = CertificationBody::from_body_bytes(body_bytes) else {
        assert!(SignedCertification::from_bytes(data, &key(0xa0)).is_err());
        return;
    };
    assert_eq!(
        cbor::encode_envelope(body_bytes, &env.signature),
        data,
        "envelope not canonical"
    );
    let v: ciborium::Value = ciborium::from_reader(data).expect("ciborium reads what we accept");
    let items = v.into_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_bytes().map(Vec::as_slice), Some(body_bytes));
    // The vectors' authority key (seed 0xa0) and the log key (0xa1).
    for seed in [0xa0u8, 0xa1] {
        let k = key(seed);
        let ok = k
            .verify(Context::Certification, body_bytes, &env.signature)
            .is_ok();
        let parsed = SignedCertification::from_bytes(data, &k);
        assert_eq!(parsed.is_ok(), ok);
        if let Ok(s) = parsed {
            assert_eq!(s.as_bytes(), data);
            assert_eq!(s.body_bytes(), body_bytes);
            assert_eq!(s.certification(), &c);
        }
    }
}

fn key(seed: u8) -> tallyboard_core::keys::PublicKey {
    SecretKey::from_seed(&[seed; 32]).public_key()
}

fn body(data: &[u8], c: &CertificationBody) {
    assert_eq!(c.to_body_bytes(), data, "body not canonical");
    let sk = SecretKey::from_seed(&[0xa0; 32]);
    let signed = c.sign(&sk);
    let back = SignedCertification::from_bytes(signed.as_bytes(), &sk.public_key())
        .expect("a statement we sign parses back");
    assert_eq!(back.certification(), c);
    assert_eq!(back.body_bytes(), data);
    assert!(SignedCertification::from_bytes(signed.as_bytes(), &key(0xa1)).is_err());
}
