//! C2SP tlog-cosignature, Ed25519 `cosignature/v1` (signature type 0x04).
//!
//! A witness signs
//!
//! ```text
//! "cosignature/v1\n" || "time " || decimal(t) || "\n" || checkpoint note text
//! ```
//!
//! and the signature bytes of its note signature line are
//! `u64 big-endian t || 64-byte Ed25519 signature`. `t` is a POSIX time in
//! seconds, at most 2^63 - 1. The key id uses type byte 0x04
//! ([`crate::note::SIG_TYPE_COSIGNATURE_V1`]).

pub use crate::cosignature_v1::{
    COSIGNATURE_LEN, COSIGNATURE_V1_HEADER, CosignatureError, MAX_COSIGNATURE_TIME, message,
    verify_bytes,
};
use crate::note::{KeyKind, NoteSignature, SignerKey, VerifierKey};

/// Cosigns `checkpoint_text` (the note text, with its final newline) at
/// `time` with a [`KeyKind::CosignatureV1`] key; returns the signature line
/// to append to the checkpoint note.
pub fn cosign(
    checkpoint_text: &str,
    key: &SignerKey,
    time: u64,
) -> Result<NoteSignature, CosignatureError> {
    if key.kind() != KeyKind::CosignatureV1 {
        return Err(CosignatureError::WrongKeyKind);
    }
    if time > MAX_COSIGNATURE_TIME {
        return Err(CosignatureError::TimestampOutOfRange);
    }
    if !checkpoint_text.ends_with('\n') {
        return Err(CosignatureError::BadText);
    }
    let sig = key.secret().sign_raw(&message(checkpoint_text, time));
    let mut bytes = Vec::with_capacity(COSIGNATURE_LEN);
    bytes.extend_from_slice(&time.to_be_bytes());
    bytes.extend_from_slice(&sig.0);
    Ok(NoteSignature {
        name: key.name().to_owned(),
        key_id: key.key_id(),
        signature: bytes,
    })
}

/// Verifies a cosignature line from `key` over `checkpoint_text`; returns
/// the timestamp.
pub fn verify(
    checkpoint_text: &str,
    key: &VerifierKey,
    sig: &NoteSignature,
) -> Result<u64, CosignatureError> {
    if key.kind() != KeyKind::CosignatureV1 {
        return Err(CosignatureError::WrongKeyKind);
    }
    if sig.name != key.name() || sig.key_id != key.key_id() {
        return Err(CosignatureError::KeyMismatch);
    }
    verify_bytes(checkpoint_text, key.public_key(), &sig.signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn message_matches_the_c2sp_example_layout() {
        let m = message("example.com/behind-the-sofa\n20852163\nroot=\n", 1679315147);
        assert_eq!(
            m,
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nroot=\n"
        );
    }

    #[test]
    fn cosign_verify_and_time_is_bound() {
        let k = SignerKey::new(
            "w.example",
            KeyKind::CosignatureV1,
            SecretKey::from_seed(&[1; 32]),
        )
        .unwrap();
        let text = "log\n1\nAAAA\n";
        let line = cosign(text, &k, 1_700_000_000).unwrap();
        assert_eq!(verify(text, k.verifier(), &line), Ok(1_700_000_000));
        let mut moved = line.clone();
        moved.signature[7] ^= 1;
        assert_eq!(
            verify(text, k.verifier(), &moved),
            Err(CosignatureError::BadSignature)
        );
        assert_eq!(
            cosign(text, &k, MAX_COSIGNATURE_TIME + 1),
            Err(CosignatureError::TimestampOutOfRange)
        );
    }
}
