//! `VerifierKey::parse` and `SignerKey::parse` (C2SP / Go `sumdb/note` key
//! strings) on arbitrary text.
//!
//! Asserts: a key string we accept formats back to exactly the input; the
//! independent `signed_note` crate accepts every Ed25519 key string we accept,
//! with the same name and key id (for signer keys: the same verifier key),
//! and where it accepts one we reject, our reason is one of our documented
//! extra rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signed_note::{Signer as _, Verifier as _};
use tallyboard_core::note::{KeyKind, KeyStringError, MAX_KEY_NAME_LEN, SignerKey, VerifierKey};

fuzz_target!(|s: &str| {
    let ours = VerifierKey::parse(s);
    let theirs = signed_note::StandardVerifier::new(s);
    match (&ours, &theirs) {
        (Ok(vk), Ok(t)) => {
            assert_eq!(vk.to_string(), s, "re-encoding differs");
            assert_eq!(vk.kind(), KeyKind::Ed25519);
            assert_eq!(vk.name(), t.name());
            assert_eq!(vk.key_id(), t.key_id());
        }
        (Ok(vk), Err(e)) => {
            assert_eq!(vk.to_string(), s, "re-encoding differs");
            // signed_note knows only type 0x01.
            assert!(
                vk.kind() != KeyKind::Ed25519,
                "accepted a key signed_note rejects ({e})"
            );
        }
        (Err(e), Ok(_)) => assert!(allowed(e, s), "rejected ({e:?}) a key signed_note accepts"),
        (Err(_), Err(_)) => {}
    }

    let ours = SignerKey::parse(s);
    let theirs = signed_note::StandardSigner::new(s);
    match (&ours, &theirs) {
        (Ok(sk), Ok(t)) => {
            assert_eq!(sk.to_secret_string().as_str(), s, "re-encoding differs");
            assert_eq!(sk.name(), t.name());
            assert_eq!(sk.key_id(), t.key_id());
            let vk = sk.verifier().to_string();
            assert_eq!(VerifierKey::parse(&vk).as_ref(), Ok(sk.verifier()));
        }
        (Ok(sk), Err(e)) => {
            assert_eq!(sk.to_secret_string().as_str(), s, "re-encoding differs");
            assert!(
                sk.kind() != KeyKind::Ed25519,
                "accepted a private key signed_note rejects ({e})"
            );
        }
        (Err(e), Ok(_)) => assert!(
            allowed(e, s),
            "rejected ({e:?}) a private key signed_note accepts"
        ),
        (Err(_), Err(_)) => {}
    }
});

/// Our extra rules: key ids in lower-case hex only, names without control
/// characters and at most 256 bytes (the whole string capped accordingly),
/// no weak (small-order) or non-canonically encoded public keys.
fn allowed(e: &KeyStringError, s: &str) -> bool {
    let name = s.strip_prefix("PRIVATE+KEY+").unwrap_or(s);
    let name = name.split('+').next().unwrap_or("");
    match e {
        KeyStringError::BadKeyIdEncoding => s.bytes().any(|b| b.is_ascii_uppercase()),
        KeyStringError::InvalidName => {
            name.len() > MAX_KEY_NAME_LEN || name.chars().any(char::is_control)
        }
        KeyStringError::Malformed => s.len() > MAX_KEY_NAME_LEN + 64,
        KeyStringError::InvalidPublicKey => true,
        _ => false,
    }
}
