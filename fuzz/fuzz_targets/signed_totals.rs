//! `SignedTotals::from_bytes` and `TotalsBody::from_body_bytes` on arbitrary
//! bytes (the same bytes taken as a signed envelope and as a bare body).
//!
//! Asserts: an accepted body re-encodes to exactly the input bytes, its rows
//! are strictly sorted, and `diff` finds nothing between it and itself but
//! names the figure when one changes; accepted signed totals are their
//! canonical envelope, `ciborium` reads the same parts, and they verify only
//! under their own log key; totals we sign parse back to the same body and
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::cbor;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::totals::{SignedTotals, TotalsBody, diff};

fuzz_target!(|data: &[u8]| {
    signed(data);
    if let Ok(t) = TotalsBody::from_body_bytes(data) {
        body(data, &t);
    }
});

fn signed(data: &[u8]) {
    let Ok(env) = cbor::parse_envelope(data, usize::MAX) else {
        return;
    };
    let Some(body_bytes) = data.get(env.body.clone()) else {
        return;
    };
    let Ok(t) = TotalsBody::from_body_bytes(body_bytes) else {
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
    assert_eq!(
        items[1].as_bytes().map(Vec::as_slice),
        Some(&env.signature.0[..])
    );

    // The vectors' log key (seed 0x11) and another key.
    for seed in [0x11u8, 0x12] {
        let key = SecretKey::from_seed(&[seed; 32]).public_key();
        let ok = key
            .verify(
                tallyboard_core::keys::Context::Totals,
                body_bytes,
                &env.signature,
            )
            .is_ok();
        let parsed = SignedTotals::from_bytes(data, &key);
        assert_eq!(parsed.is_ok(), ok);
        if let Ok(s) = parsed {
            assert_eq!(s.as_bytes(), data);
            assert_eq!(s.body_bytes(), body_bytes);
            assert_eq!(s.totals(), &t);
        }
    }
}

fn body(data: &[u8], t: &TotalsBody) {
    assert_eq!(t.to_body_bytes(), data, "body not canonical");
    assert!(diff(t, t).is_empty());
    if let Some(first) = t.rows.first() {
        let mut changed = t.clone();
        changed.rows[0].blank = first.blank.wrapping_add(1);
        let d = diff(t, &changed);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].figure, "blank");
        assert_eq!(d[0].contest, first.contest);
        assert_eq!(d[0].region, first.region);
    }
    let key = SecretKey::from_seed(&[0x11; 32]);
    let signed = t.sign(&key);
    let back = SignedTotals::from_bytes(signed.as_bytes(), &key.public_key())
        .expect("totals we sign parse back");
    assert_eq!(back.totals(), t);
    assert_eq!(back.body_bytes(), data);
    let other = SecretKey::from_seed(&[0x12; 32]).public_key();
    assert!(SignedTotals::from_bytes(signed.as_bytes(), &other).is_err());
}
