//! Ed25519 keys, domain-separated signatures and strict verification.
//!
//! Every tallyboard object that is not a C2SP signed note is signed over
//! `context || body`, where `context` is a fixed ASCII label ending in a
//! newline that names the kind of object ([`Context`]). A signature made for
//! one kind of object can therefore never be replayed as another kind.
//!
//! Verification is RFC 8032 with the strict rules of `ed25519-dalek`'s
//! `verify_strict`: non-canonical `S` is rejected, small-order public keys and
//! small-order `R` are rejected, and the cofactorless equation is used.
//! `spec/crypto.md` states the accepted edge cases; the CCTV vectors pin them.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// Length of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The kind of object a signature is for. The label is prefixed to the body
/// before signing (`spec/protocol.md`, "Signature contexts").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Context {
    /// A count centre's signed tally.
    Tally,
    /// The election authority's signed manifest.
    Manifest,
    /// The log's signed totals.
    Totals,
}

impl Context {
    /// The exact bytes prefixed to the body before signing.
    pub const fn label(self) -> &'static [u8] {
        match self {
            Context::Tally => b"tallyboard/v1/tally\n",
            Context::Manifest => b"tallyboard/v1/manifest\n",
            Context::Totals => b"tallyboard/v1/totals\n",
        }
    }

    /// `label || body`: the message that is actually signed.
    pub fn message(self, body: &[u8]) -> Vec<u8> {
        let label = self.label();
        let mut m = Vec::with_capacity(label.len() + body.len());
        m.extend_from_slice(label);
        m.extend_from_slice(body);
        m
    }
}

/// Errors from parsing keys or checking signatures.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum KeyError {
    /// The 32 bytes are not the encoding of a point on the curve.
    #[error("not a valid Ed25519 public key")]
    InvalidPublicKey,
    /// The public key has small order; no honest signer uses such a key.
    #[error("weak Ed25519 public key (small order)")]
    WeakPublicKey,
    /// Wrong length for a key or signature.
    #[error("wrong length: expected {expected} bytes, got {got}")]
    BadLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The signature does not verify under the key (opaque on purpose).
    #[error("signature does not verify")]
    BadSignature,
}

/// An Ed25519 public key. Invariant: the bytes decompress to a curve point
/// that is not of small order.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    vk: VerifyingKey,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl core::hash::Hash for PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl PublicKey {
    /// Parses and validates a public key.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<PublicKey, KeyError> {
        let vk = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPublicKey)?;
        if vk.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(PublicKey { bytes: *bytes, vk })
    }

    /// Parses a public key from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let arr: [u8; PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::BadLength {
            expected: PUBLIC_KEY_LEN,
            got: bytes.len(),
        })?;
        PublicKey::from_bytes(&arr)
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// Lower-case hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// The `ed25519-dalek` key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.vk
    }

    /// Strict verification of a domain-separated signature over `body`.
    pub fn verify(&self, ctx: Context, body: &[u8], sig: &Signature) -> Result<(), KeyError> {
        self.verify_raw(&ctx.message(body), sig)
    }

    /// Strict verification over a raw message (used for signed notes,
    /// whose message format is fixed by C2SP).
    pub fn verify_raw(&self, message: &[u8], sig: &Signature) -> Result<(), KeyError> {
        let s = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.vk
            .verify_strict(message, &s)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An Ed25519 signature (R || S).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl Signature {
    /// Reads a signature from exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Signature, KeyError> {
        let arr: [u8; SIGNATURE_LEN] = bytes.try_into().map_err(|_| KeyError::BadLength {
            expected: SIGNATURE_LEN,
            got: bytes.len(),
        })?;
        Ok(Signature(arr))
    }
}

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

/// An Ed25519 private key. The seed is wiped from memory when dropped and
/// never printed: `Debug` shows the public key only.
#[derive(Clone)]
pub struct SecretKey {
    inner: SigningKey,
}

impl SecretKey {
    /// The key for a 32-byte seed (RFC 8032 private key). The caller supplies
    /// the randomness: this crate has no access to the operating system.
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            inner: SigningKey::from_bytes(seed),
        }
    }

    /// The seed, in a buffer that is wiped when dropped. Only for writing the
    /// key to its owner-only file.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.inner.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let vk = self.inner.verifying_key();
        PublicKey {
            bytes: vk.to_bytes(),
            vk,
        }
    }

    /// Signs `context || body`.
    pub fn sign(&self, ctx: Context, body: &[u8]) -> Signature {
        self.sign_raw(&ctx.message(body))
    }

    /// Signs a raw message (signed notes and cosignatures, whose message is
    /// fixed by C2SP).
    pub fn sign_raw(&self, message: &[u8]) -> Signature {
        Signature(self.inner.sign(message).to_bytes())
    }
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_context_separation() {
        let sk = SecretKey::from_seed(&[7u8; 32]);
        let pk = sk.public_key();
        let sig = sk.sign(Context::Tally, b"body");
        assert_eq!(pk.verify(Context::Tally, b"body", &sig), Ok(()));
        assert_eq!(
            pk.verify(Context::Manifest, b"body", &sig),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            pk.verify(Context::Tally, b"bodz", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let seed = [0xabu8; 32];
        let sk = SecretKey::from_seed(&seed);
        let shown = format!("{sk:?}");
        assert!(!shown.contains(&hex::encode(seed)));
        assert!(shown.contains(&sk.public_key().to_hex()));
    }

    #[test]
    fn rejects_small_order_public_key() {
        // The identity point (y = 1) has order 1.
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(PublicKey::from_bytes(&id), Err(KeyError::WeakPublicKey));
    }
}
