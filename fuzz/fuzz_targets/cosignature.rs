//! C2SP tlog-cosignature (`cosignature/v1`): verification of arbitrary
//! signature bytes, and sign/verify round trips on arbitrary texts, times
//! and keys.
//!
//! Asserts: verification never panics and accepts only 72-byte signatures
//! whose first 8 bytes are the returned time, at most 2^63 - 1; a cosignature
//! we make verifies with the right time, survives the note encoding, and
//! stops verifying when any bit of it, the time, the text or the key changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::cosignature::{self, COSIGNATURE_LEN, MAX_COSIGNATURE_TIME};
use tallyboard_core::note::{KeyKind, Note};
use tallyboard_fuzz::{known_verifiers, signer};

fuzz_target!(|input: (u8, u64, u16, &str, &[u8])| {
    let (seed, time, flip, text, raw) = input;

    // Arbitrary signature bytes against every known witness key.
    for key in known_verifiers() {
        if let Ok(t) = cosignature::verify_bytes(text, key.public_key(), raw) {
            assert_eq!(raw.len(), COSIGNATURE_LEN);
            assert_eq!(raw[..8], t.to_be_bytes());
            assert!(t <= MAX_COSIGNATURE_TIME);
        }
    }

    let Some(w) = signer("witness.example/fuzz", KeyKind::CosignatureV1, seed) else {
        return;
    };
    let line = match cosignature::cosign(text, &w, time) {
        Ok(line) => line,
        Err(e) => {
            assert!(
                time > MAX_COSIGNATURE_TIME || !text.ends_with('\n'),
                "cosign refused a valid text and time: {e:?}"
            );
            return;
        }
    };
    assert_eq!(cosignature::verify(text, w.verifier(), &line), Ok(time));

    // Through the note encoding and back, when the text is a note text.
    if let Ok(mut note) = Note::new(text) {
        if note.add_signature(line.clone()).is_ok() {
            if let Ok(bytes) = note.to_bytes() {
                let back = Note::parse(&bytes).expect("our own note parses");
                assert_eq!(back.signatures(), &[line.clone()]);
            }
        }
    }

    // Any one flipped bit of the signature bytes (time included) breaks it.
    let mut bad = line.clone();
    let bit = usize::from(flip) % (COSIGNATURE_LEN * 8);
    bad.signature[bit / 8] ^= 1 << (bit % 8);
    assert!(cosignature::verify(text, w.verifier(), &bad).is_err());

    // Another text or another key does not verify it.
    let other_text = format!("{text}x\n");
    assert!(cosignature::verify(&other_text, w.verifier(), &line).is_err());
    if let Some(other) = signer(
        "witness.example/fuzz",
        KeyKind::CosignatureV1,
        seed.wrapping_add(1),
    ) {
        assert!(
            cosignature::verify_bytes(text, other.verifier().public_key(), &line.signature)
                .is_err()
        );
    }
});
