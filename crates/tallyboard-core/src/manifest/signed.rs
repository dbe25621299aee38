//! The signed envelope of a manifest.

use crate::cbor::{self, CborError};
use crate::hash::Hash;
use crate::keys::{Context, PublicKey, SecretKey, Signature};
use crate::limits::MAX_SIGNED_MANIFEST;

use super::{Manifest, ManifestBody, ManifestError};

impl Manifest {
    /// Signs the manifest with `key` (the election authority). The body's
    /// `authority` field is set to `key`'s public key.
    pub fn sign(mut self, key: &SecretKey) -> SignedManifest {
        self.body.authority = key.public_key();
        let body = self.body.to_body_bytes();
        let signature = key.sign(Context::Manifest, &body);
        let bytes = cbor::encode_envelope(&body, &signature);
        let start = bytes.len() - body.len() - 2 - crate::keys::SIGNATURE_LEN;
        SignedManifest {
            body: start..start + body.len(),
            bytes,
            signature,
            manifest: self,
        }
    }
}

/// A signed manifest: exact bytes, signature verified under its authority
/// key, structurally valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedManifest {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    manifest: Manifest,
}

impl SignedManifest {
    /// Parses, verifies and validates a signed manifest: size cap
    /// [`MAX_SIGNED_MANIFEST`], envelope, canonical body; if
    /// `expected_authority` is given the body's `authority` must equal it;
    /// the signature must verify under `authority` with the manifest
    /// context; then every structural rule (all problems reported).
    pub fn from_bytes(
        bytes: &[u8],
        expected_authority: Option<&PublicKey>,
    ) -> Result<SignedManifest, ManifestError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_MANIFEST)?;
        let body_bytes = bytes.get(env.body.clone()).ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
        let body = ManifestBody::from_body_bytes(body_bytes)?;
        if let Some(expected) = expected_authority
            && *expected != body.authority
        {
            return Err(ManifestError::UnexpectedAuthority {
                expected: expected.to_hex(),
                got: body.authority.to_hex(),
            });
        }
        body.authority
            .verify(Context::Manifest, body_bytes, &env.signature)
            .map_err(|_| ManifestError::BadSignature)?;
        let manifest = Manifest::new(body)?;
        Ok(SignedManifest {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            manifest,
        })
    }

    /// The exact bytes (served at `/manifest`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The exact bytes, copied.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The body bytes as signed.
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// SHA-256 of the exact bytes: compares manifests from several sources.
    pub fn hash(&self) -> Hash {
        Hash::sha256(&self.bytes)
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Takes the manifest out.
    pub fn into_manifest(self) -> Manifest {
        self.manifest
    }
}
