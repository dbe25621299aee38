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

use crate::keys::{PublicKey, Signature};
use crate::note::{KeyKind, NoteSignature, SignerKey, VerifierKey};

/// The header line that domain-separates cosignatures.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";

/// Largest cosignature timestamp: 2^63 - 1.
pub const MAX_COSIGNATURE_TIME: u64 = i64::MAX as u64;

/// Length of the signature bytes after the key id: 8-byte time + 64-byte
/// Ed25519 signature.
pub const COSIGNATURE_LEN: usize = 72;

/// Errors from making or checking a cosignature.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The timestamp is above 2^63 - 1.
    #[error("cosignature timestamp above 2^63-1")]
    TimestampOutOfRange,
    /// The signature bytes are not 72 bytes long.
    #[error("cosignature is not 72 bytes")]
    BadLength,
    /// The key is not a `cosignature/v1` (type 0x04) key.
    #[error("key is not a cosignature/v1 key")]
    WrongKeyKind,
    /// The signature line's name or key id is not the key's.
    #[error("signature line is not from this key")]
    KeyMismatch,
    /// The checkpoint text is empty or does not end with a newline.
    #[error("checkpoint text must end with a newline")]
    BadText,
    /// The Ed25519 signature does not verify.
    #[error("cosignature does not verify")]
    BadSignature,
}

/// The exact message a `cosignature/v1` signs for `checkpoint_text` at
/// `time`.
pub fn message(checkpoint_text: &str, time: u64) -> Vec<u8> {
    let time_line = format!("time {time}\n");
    let mut m =
        Vec::with_capacity(COSIGNATURE_V1_HEADER.len() + time_line.len() + checkpoint_text.len());
    m.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    m.extend_from_slice(time_line.as_bytes());
    m.extend_from_slice(checkpoint_text.as_bytes());
    m
}

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

/// Verifies the signature bytes (time || Ed25519 signature) of a
/// cosignature over `checkpoint_text`; returns the timestamp.
pub fn verify_bytes(
    checkpoint_text: &str,
    key: &PublicKey,
    sig: &[u8],
) -> Result<u64, CosignatureError> {
    if sig.len() != COSIGNATURE_LEN {
        return Err(CosignatureError::BadLength);
    }
    let mut t = [0u8; 8];
    t.copy_from_slice(&sig[..8]);
    let time = u64::from_be_bytes(t);
    if time > MAX_COSIGNATURE_TIME {
        return Err(CosignatureError::TimestampOutOfRange);
    }
    let s = Signature::from_slice(&sig[8..]).map_err(|_| CosignatureError::BadLength)?;
    key.verify_raw(&message(checkpoint_text, time), &s)
        .map_err(|_| CosignatureError::BadSignature)?;
    Ok(time)
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
