//! C2SP tlog-cosignature (`cosignature/v1`): verification of the signature
//! lines of arbitrary (mutated checkpoint) notes against the witness keys,
//! and sign/verify round trips on arbitrary texts, times and keys.
//!
//! Asserts: verification never panics; a cosignature verifies only from
//! its own key, is 72 bytes whose first 8 are the returned time (at most
//! 2^63 - 1), and its Ed25519 signature verifies over the message written
//! out independently from the spec; `note::open` reports the same times; a
//! cosignature we make verifies with the right time, survives the note
//! encoding, and fails after any one-bit change, on another text and under
//! another key.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::cosignature::{self, COSIGNATURE_LEN, CosignatureError, MAX_COSIGNATURE_TIME};
use tallyboard_core::keys::Signature;
use tallyboard_core::note::{self, KeyKind, Note};
use tallyboard_fuzz::{known_verifiers, signer};

fuzz_target!(|data: &[u8]| {
    lines(data);
    let _ = round_trip(&mut Unstructured::new(data));
});

fn lines(data: &[u8]) {
    let Ok(n) = Note::parse(data) else {
        return;
    };
    let keys = known_verifiers();
    let witnesses = keys.iter().filter(|k| k.kind() == KeyKind::CosignatureV1);
    for key in witnesses {
        for sig in n.signatures() {
            let got = cosignature::verify(n.text(), key, sig);
            if sig.name != key.name() || sig.key_id != key.key_id() {
                assert_eq!(got, Err(CosignatureError::KeyMismatch));
                continue;
            }
            assert_eq!(
                got,
                cosignature::verify_bytes(n.text(), key.public_key(), &sig.signature)
            );
            let Ok(t) = got else {
                continue;
            };
            assert_eq!(sig.signature.len(), COSIGNATURE_LEN);
            assert_eq!(sig.signature[..8], t.to_be_bytes());
            assert!(t <= MAX_COSIGNATURE_TIME);
            let msg = format!("cosignature/v1\ntime {t}\n{}", n.text());
            let s = Signature::from_slice(&sig.signature[8..]).expect("64 bytes");
            assert!(key.public_key().verify_raw(msg.as_bytes(), &s).is_ok());
        }
    }
    if let Ok(v) = note::open(data, keys) {
        for s in &v.signed_by {
            let key = &keys[s.verifier];
            if key.kind() == KeyKind::CosignatureV1 {
                let line = n
                    .signatures()
                    .iter()
                    .find(|l| l.name == s.name && l.key_id == s.key_id)
                    .expect("the signing line");
                let t = cosignature::verify(n.text(), key, line).ok();
                assert_eq!(s.timestamp, t);
            } else {
                assert_eq!(s.timestamp, None);
            }
        }
    }
}

fn round_trip(u: &mut Unstructured) -> Result<()> {
    let seed: u8 = u.arbitrary()?;
    let time: u64 = if u.arbitrary()? {
        u.int_in_range(0..=MAX_COSIGNATURE_TIME)?
    } else {
        u.arbitrary()?
    };
    let flip: u16 = u.arbitrary()?;
    let text: String = u.arbitrary()?;
    let text = if u.arbitrary()? {
        format!("{text}\n")
    } else {
        text
    };

    let Some(w) = signer("witness.example/fuzz", KeyKind::CosignatureV1, seed) else {
        return Ok(());
    };
    let line = match cosignature::cosign(&text, &w, time) {
        Ok(line) => line,
        Err(e) => {
            assert!(
                time > MAX_COSIGNATURE_TIME || !text.ends_with('\n'),
                "cosign refused a valid text and time: {e:?}"
            );
            return Ok(());
        }
    };
    assert!(time <= MAX_COSIGNATURE_TIME && text.ends_with('\n'));
    assert_eq!(cosignature::verify(&text, w.verifier(), &line), Ok(time));

    // Through the note encoding and back, when the text is a note text.
    if let Ok(mut n) = Note::new(&text) {
        if n.add_signature(line.clone()).is_ok() {
            if let Ok(bytes) = n.to_bytes() {
                let back = Note::parse(&bytes).expect("our own note parses");
                assert_eq!(back.signatures(), &[line.clone()]);
            }
        }
    }

    // Any one flipped bit of the signature bytes (time included) breaks it.
    let mut bad = line.clone();
    let bit = usize::from(flip) % (COSIGNATURE_LEN * 8);
    bad.signature[bit / 8] ^= 1 << (bit % 8);
    assert!(cosignature::verify(&text, w.verifier(), &bad).is_err());

    // Another text or another key does not verify it.
    let other_text = format!("{text}x\n");
    assert!(cosignature::verify(&other_text, w.verifier(), &line).is_err());
    if let Some(other) = signer(
        "witness.example/fuzz",
        KeyKind::CosignatureV1,
        seed.wrapping_add(1),
    ) {
        let pk = other.verifier().public_key();
        assert!(cosignature::verify_bytes(&text, pk, &line.signature).is_err());
    }
    Ok(())
}
