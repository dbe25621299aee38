//! Ed25519 keys, domain-separated signatures and strict verification.
//!
//! Every tallyboard object that is not a C2SP signed note is signed over
//! `context || body`, where `context` is a fixed ASCII label ending in a
//! newline that names the kind of object ([`Context`]). A signature made for
//! one kind of object can therefore never be replayed as another kind.
//!
//! Verification is RFC 8032 with the strict rules of `ed25519-dalek`'s
//! `verify_strict`: non-canonical `S` and `R` are rejected, small-order `R` is
//! rejected, and the cofactorless equation is used. Public keys must be the
//! canonical encoding of a point that is not of small order.
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
    /// The election authority's certification of the final results.
    Certification,
}

impl Context {
    /// The exact bytes prefixed to the body before signing.
    pub const fn label(self) -> &'static [u8] {
        match self {
            Context::Tally => b"tallyboard/v1/tally\n",
            Context::Manifest => b"tallyboard/v1/manifest\n",
            Context::Totals => b"tallyboard/v1/totals\n",
            Context::Certification => b"tallyboard/v1/certification\n",
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
    /// The 32 bytes decode to a point, but are not its canonical encoding
    /// (the y coordinate is not reduced modulo p = 2^255 - 19).
    #[error("non-canonical Ed25519 public key encoding")]
    NonCanonicalPublicKey,
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

/// An Ed25519 public key. Invariant: the bytes are the canonical encoding of
/// a curve point that is not of small order.
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
        if vk.to_edwards().compress().to_bytes() != *bytes {
            return Err(KeyError::NonCanonicalPublicKey);
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

/// The group order ℓ = 2^252 + 27742317777372353535851937790883648493,
/// little-endian: a signature's `S` must be below it.
const GROUP_ORDER_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// Whether the 32 little-endian bytes are a canonical scalar (below ℓ).
fn is_canonical_scalar(s: &[u8]) -> bool {
    for i in (0..32).rev() {
        if s[i] != GROUP_ORDER_LE[i] {
            return s[i] < GROUP_ORDER_LE[i];
        }
    }
    false
}

/// Whether a signature may go into a batch: `S` canonical, `R` the canonical
/// encoding of a curve point that is not of small order (the checks
/// `verify_strict` makes and the batch equation does not), and `R` without a
/// small-order component. The last check is what makes the batch verdict
/// equal the cofactorless `verify_strict` verdict: with a torsion-free key,
/// a signature whose `R` has a small-order component never verifies
/// strictly, but its residue could cancel in the batch equation. A signature
/// failing this check is verified on its own instead.
pub fn strict_precheck(sig: &Signature) -> bool {
    if !is_canonical_scalar(&sig.0[32..]) {
        return false;
    }
    let mut r = [0u8; 32];
    r.copy_from_slice(&sig.0[..32]);
    let Ok(point) = VerifyingKey::from_bytes(&r) else {
        return false;
    };
    if point.is_weak() {
        return false;
    }
    let r_point = point.to_edwards();
    r_point.compress().to_bytes() == r && r_point.is_torsion_free()
}

/// A batch verification failed: the indexes (in push order) of the
/// signatures that do not verify strictly.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[error("{} of the batch's signatures do not verify", bad.len())]
pub struct BatchFailure {
    /// Indexes of the bad signatures, ascending.
    pub bad: Vec<usize>,
}

/// Bulk verification of many signatures, for checks such as a verifier
/// reading millions of tallies. The verdict for every signature is exactly
/// that of strict verification ([`PublicKey::verify_raw`]), and a failure
/// names every bad signature.
///
/// Two ways to reach that verdict are offered:
///
/// - [`BatchVerifier::verify`] checks each signature strictly. It is the
///   faster one: measured with `benches/crypto.rs`, the prechecks that make
///   the batch equation's verdict equal to strict verification (above all
///   the prime-order-subgroup check of every `R`, one scalar multiplication
///   each) cost about as much as strict verification itself, so the batch
///   equation cannot pay for itself.
/// - [`BatchVerifier::verify_with_batch_equation`] uses the Ed25519 batch
///   equation (`ed25519_dalek::verify_batch`) for the signatures that pass
///   [`strict_precheck`] (and whose key is torsion-free) and strict
///   verification for the others; `spec/crypto.md` §7 explains why its
///   verdict is the same.
///
/// Messages are copied into one reusable buffer: verify, then push again.
#[derive(Default)]
pub struct BatchVerifier {
    /// Keys seen so far by [`BatchVerifier::verify_with_batch_equation`] and
    /// whether they are torsion-free (kept across batches: one scalar
    /// multiplication per distinct key).
    torsion_free: std::collections::HashMap<[u8; PUBLIC_KEY_LEN], bool>,
    msgs: Vec<u8>,
    ends: Vec<usize>,
    keys: Vec<PublicKey>,
    sigs: Vec<Signature>,
}

impl BatchVerifier {
    /// An empty batch.
    pub fn new() -> BatchVerifier {
        BatchVerifier::default()
    }

    /// Adds a domain-separated signature over `body` (message
    /// `ctx.label() || body`).
    pub fn push(&mut self, key: &PublicKey, ctx: Context, body: &[u8], sig: &Signature) {
        self.msgs.extend_from_slice(ctx.label());
        self.msgs.extend_from_slice(body);
        self.finish_push(key, sig);
    }

    /// Adds a signature over a raw message.
    pub fn push_raw(&mut self, key: &PublicKey, message: &[u8], sig: &Signature) {
        self.msgs.extend_from_slice(message);
        self.finish_push(key, sig);
    }

    fn finish_push(&mut self, key: &PublicKey, sig: &Signature) {
        self.ends.push(self.msgs.len());
        self.keys.push(*key);
        self.sigs.push(*sig);
    }

    /// Number of signatures pushed since the last [`BatchVerifier::verify`].
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing has been pushed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn message(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.msgs[start..self.ends[i]]
    }

    /// Verifies every pushed signature strictly, one by one, and empties the
    /// batch (keeping its buffers). An empty batch verifies.
    pub fn verify(&mut self) -> Result<(), BatchFailure> {
        let bad: Vec<usize> = (0..self.len())
            .filter(|&i| {
                self.keys[i]
                    .verify_raw(self.message(i), &self.sigs[i])
                    .is_err()
            })
            .collect();
        self.clear();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(BatchFailure { bad })
        }
    }

    /// Verifies every pushed signature with the batch equation where that
    /// gives the strict verdict (see [`BatchVerifier`]), and empties the
    /// batch. Same result as [`BatchVerifier::verify`].
    pub fn verify_with_batch_equation(&mut self) -> Result<(), BatchFailure> {
        let result = self.check_with_batch_equation();
        self.clear();
        result
    }

    fn clear(&mut self) {
        self.msgs.clear();
        self.ends.clear();
        self.keys.clear();
        self.sigs.clear();
    }

    fn check_with_batch_equation(&mut self) -> Result<(), BatchFailure> {
        let n = self.len();
        // A key with a small-order component is checked alone (strictly):
        // the batch equation could otherwise cancel its torsion residue.
        let mut batchable = Vec::with_capacity(n);
        for i in 0..n {
            let key = &self.keys[i];
            let key_ok = *self
                .torsion_free
                .entry(key.bytes)
                .or_insert_with(|| key.vk.to_edwards().is_torsion_free());
            batchable.push(key_ok && strict_precheck(&self.sigs[i]));
        }
        let mut msgs: Vec<&[u8]> = Vec::with_capacity(n);
        let mut sigs = Vec::with_capacity(n);
        let mut vks = Vec::with_capacity(n);
        let mut bad: Vec<usize> = Vec::new();
        for (i, &in_batch) in batchable.iter().enumerate() {
            if in_batch {
                msgs.push(self.message(i));
                sigs.push(ed25519_dalek::Signature::from_bytes(&self.sigs[i].0));
                vks.push(self.keys[i].vk);
            } else if self.keys[i]
                .verify_raw(self.message(i), &self.sigs[i])
                .is_err()
            {
                bad.push(i);
            }
        }
        let batch_ok = msgs.is_empty() || ed25519_dalek::verify_batch(&msgs, &sigs, &vks).is_ok();
        if !batch_ok {
            bad = (0..n)
                .filter(|&i| {
                    self.keys[i]
                        .verify_raw(self.message(i), &self.sigs[i])
                        .is_err()
                })
                .collect();
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(BatchFailure { bad })
        }
    }
}

/// Verifies many domain-separated signatures at once; see [`BatchVerifier`].
pub fn verify_batch(
    items: &[(&PublicKey, Context, &[u8], &Signature)],
) -> Result<(), BatchFailure> {
    let mut b = BatchVerifier::new();
    for (key, ctx, body, sig) in items {
        b.push(key, *ctx, body, sig);
    }
    b.verify()
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

    #[test]
    fn decoding_is_the_lenient_one_of_crypto_md_3_1() {
        // x = 0 with the sign bit set decodes (RFC 8032 would fail here):
        // the identity (y = 1) and (0, -1) are then weak, not invalid.
        let mut neg_zero_identity = [0u8; 32];
        neg_zero_identity[0] = 1;
        neg_zero_identity[31] = 0x80;
        assert_eq!(
            PublicKey::from_bytes(&neg_zero_identity),
            Err(KeyError::WeakPublicKey)
        );
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        assert_eq!(
            PublicKey::from_bytes(&minus_one),
            Err(KeyError::WeakPublicKey)
        );
        // y = p + 1 (unreduced 1) decodes to the identity: weak first.
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        assert_eq!(
            PublicKey::from_bytes(&p_plus_one),
            Err(KeyError::WeakPublicKey)
        );
    }

    #[test]
    fn rejects_non_canonical_public_key_encoding() {
        // y + p for small y: the same y modulo p, encoded without reduction.
        // Some of these decode to points that are not of small order; those
        // must still be refused for their encoding.
        let mut non_weak = 0;
        for k in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut b = [0xffu8; 32];
                b[0] = 0xed + k;
                b[31] = 0x7f | sign;
                if VerifyingKey::from_bytes(&b).is_ok_and(|vk| !vk.is_weak()) {
                    non_weak += 1;
                    assert_eq!(
                        PublicKey::from_bytes(&b),
                        Err(KeyError::NonCanonicalPublicKey)
                    );
                }
                assert!(PublicKey::from_bytes(&b).is_err());
            }
        }
        assert!(non_weak > 0);
    }

    #[test]
    fn batch_names_the_bad_signatures_and_is_reusable() {
        let keys: Vec<SecretKey> = (0..8u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let bodies: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 40]).collect();
        let sigs: Vec<Signature> = keys
            .iter()
            .zip(&bodies)
            .enumerate()
            .map(|(i, (k, b))| {
                let ctx = if i == 3 {
                    Context::Manifest
                } else {
                    Context::Tally
                };
                k.sign(ctx, b)
            })
            .collect();
        let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let mut bv = BatchVerifier::new();
        for i in 0..8 {
            bv.push(&pks[i], Context::Tally, &bodies[i], &sigs[i]);
        }
        assert_eq!(bv.verify(), Err(BatchFailure { bad: vec![3] }));
        assert!(bv.is_empty());
        for i in 0..8 {
            bv.push(&pks[i], Context::Tally, &bodies[i], &sigs[i]);
        }
        assert_eq!(
            bv.verify_with_batch_equation(),
            Err(BatchFailure { bad: vec![3] })
        );
        assert!(bv.is_empty());
        for i in [0usize, 1, 2, 4, 5] {
            bv.push(&pks[i], Context::Tally, &bodies[i], &sigs[i]);
        }
        assert_eq!(bv.verify(), Ok(()));
        let mut high_s = sigs[0];
        high_s.0[63] |= 0xf0;
        let items = [(&pks[0], Context::Tally, &bodies[0][..], &high_s)];
        assert_eq!(verify_batch(&items), Err(BatchFailure { bad: vec![0] }));
    }
}
