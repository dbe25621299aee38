//! The byte format of C2SP tlog-cosignature `cosignature/v1`: the message
//! a witness signs and the check of a signature line's bytes. It depends on
//! the keys alone, so that note verification ([`crate::note`]) and
//! cosigning ([`crate::cosignature`], which re-exports all of it) can both
//! use it.

use crate::keys::{PublicKey, Signature};

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
