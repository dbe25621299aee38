//! The certification: the election authority's signed statement that the
//! count is closed, binding the final checkpoint of the log and the signed
//! totals at it (`spec/tally-and-manifest.md` §10).
//!
//! Body (canonical CBOR struct map):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint = 1 |
//! | 1 | election | id |
//! | 2 | checkpoint | map { 0 origin, 1 size, 2 root } |
//! | 3 | totals | hash: SHA-256 of the signed totals at that checkpoint |
//! | 4 | manifest | hash: SHA-256 of the signed manifest |
//! | 5 | certified_at | time |
//!
//! Signed envelope `[body, signature]`, signature over
//! `"tallyboard/v1/certification\n" || body` under the manifest's
//! `authority` key.

use crate::cbor::{self, CborError, Encoder, Reader, required};
use crate::hash::Hash;
use crate::keys::{Context, PublicKey, SIGNATURE_LEN, SecretKey, Signature};
use crate::limits::MAX_SIGNED_CERTIFICATION;
use crate::totals::{CheckpointFields, CheckpointRef, encode_checkpoint, read_checkpoint};

/// What the authority certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationBody {
    /// The election id.
    pub election: String,
    /// The final checkpoint: no entry after it counts.
    pub checkpoint: CheckpointRef,
    /// SHA-256 of the exact bytes of the signed totals at `checkpoint`.
    pub totals: Hash,
    /// SHA-256 of the exact bytes of the signed manifest.
    pub manifest: Hash,
    /// When the authority certified (POSIX seconds).
    pub certified_at: u64,
}

/// Errors from parsing or verifying a certification.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum CertificationError {
    /// The bytes are not a canonical signed certification.
    #[error("certification: {0}")]
    Decode(#[from] CborError),
    /// The signature does not verify under the authority key.
    #[error("certification signature does not verify under the authority key")]
    BadSignature,
}

impl CertificationError {
    /// Stable kebab-case code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            CertificationError::Decode(e) => e.code(),
            CertificationError::BadSignature => "bad-signature",
        }
    }
}

impl CertificationBody {
    /// The canonical CBOR body.
    pub fn to_body_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256);
        e.map(6);
        e.uint(0);
        e.uint(1);
        e.uint(1);
        e.text(&self.election);
        e.uint(2);
        encode_checkpoint(&mut e, &self.checkpoint);
        e.uint(3);
        e.bytes(&self.totals.0);
        e.uint(4);
        e.bytes(&self.manifest.0);
        e.uint(5);
        e.uint(self.certified_at);
        e.into_bytes()
    }

    /// Decodes a canonical body (size cap, types, canonical form); no
    /// signature check.
    pub fn from_body_bytes(body: &[u8]) -> Result<CertificationBody, CertificationError> {
        const F: &str = "certification";
        let mut r = Reader::new(body, MAX_SIGNED_CERTIFICATION)?;
        let n = r.map(F)?;
        let mut seen = 0u32;
        let (mut version, mut election, mut checkpoint) = (None, None, None);
        let (mut totals, mut manifest, mut at) = (None, None, None);
        for _ in 0..n {
            match r.key(F, &[0, 1, 2, 3, 4, 5], &mut seen)? {
                0 => version = Some(r.version("certification.version")?),
                1 => election = Some(r.id("certification.election")?.to_string()),
                2 => checkpoint = Some(read_checkpoint(&mut r, &CERTIFICATION_CHECKPOINT)?),
                3 => totals = Some(r.hash("certification.totals")?),
                4 => manifest = Some(r.hash("certification.manifest")?),
                _ => at = Some(r.uint("certification.certified_at")?),
            }
        }
        r.finish()?;
        required(version, "certification.version")?;
        let c = CertificationBody {
            election: required(election, "certification.election")?,
            checkpoint: required(checkpoint, "certification.checkpoint")?,
            totals: required(totals, "certification.totals")?,
            manifest: required(manifest, "certification.manifest")?,
            certified_at: required(at, "certification.certified_at")?,
        };
        cbor::require_canonical(body, &c.to_body_bytes())?;
        Ok(c)
    }

    /// Signs the statement with the authority key.
    pub fn sign(&self, key: &SecretKey) -> SignedCertification {
        let body = self.to_body_bytes();
        let signature = key.sign(Context::Certification, &body);
        let bytes = cbor::encode_envelope(&body, &signature);
        let start = bytes.len() - body.len() - 2 - SIGNATURE_LEN;
        SignedCertification {
            body: start..start + body.len(),
            bytes,
            signature,
            certification: self.clone(),
        }
    }
}

/// The checkpoint reference of a certification.
const CERTIFICATION_CHECKPOINT: CheckpointFields = CheckpointFields {
    map: "certification.checkpoint",
    origin: "certification.checkpoint.origin",
    size: "certification.checkpoint.size",
    root: "certification.checkpoint.root",
};

/// A certification, verified under the authority key, kept with its exact
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertification {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    certification: CertificationBody,
}

impl SignedCertification {
    /// Parses and verifies a certification: size cap
    /// [`MAX_SIGNED_CERTIFICATION`], envelope, canonical body, signature
    /// under `authority` (the manifest's authority key) with the
    /// certification context.
    pub fn from_bytes(
        bytes: &[u8],
        authority: &PublicKey,
    ) -> Result<SignedCertification, CertificationError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_CERTIFICATION)?;
        let body = bytes.get(env.body.clone()).ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
        let certification = CertificationBody::from_body_bytes(body)?;
        authority
            .verify(Context::Certification, body, &env.signature)
            .map_err(|_| CertificationError::BadSignature)?;
        Ok(SignedCertification {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            certification,
        })
    }

    /// The exact bytes (served at `/certification`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The body bytes as signed.
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The verified statement.
    pub fn certification(&self) -> &CertificationBody {
        &self.certification
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> CertificationBody {
        CertificationBody {
            election: "general-2026".into(),
            checkpoint: CheckpointRef {
                origin: "log.example/2026".into(),
                size: 42,
                root: Hash::sha256(b"root"),
            },
            totals: Hash::sha256(b"totals"),
            manifest: Hash::sha256(b"manifest"),
            certified_at: 1_790_000_000,
        }
    }

    #[test]
    fn round_trip_and_signature() {
        let k = SecretKey::from_seed(&[7; 32]);
        let s = body().sign(&k);
        let p = SignedCertification::from_bytes(s.as_bytes(), &k.public_key()).unwrap();
        assert_eq!(p.certification(), &body());
        let other = SecretKey::from_seed(&[8; 32]).public_key();
        assert_eq!(
            SignedCertification::from_bytes(s.as_bytes(), &other).unwrap_err(),
            CertificationError::BadSignature
        );
        let mut big = s.as_bytes().to_vec();
        big.resize(MAX_SIGNED_CERTIFICATION + 1, 0);
        assert_eq!(
            SignedCertification::from_bytes(&big, &k.public_key())
                .unwrap_err()
                .code(),
            "oversized"
        );
    }
}
