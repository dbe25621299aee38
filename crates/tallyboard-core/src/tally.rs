//! The signed tally: one reporting unit's count for one contest, signed by
//! the responsible count centre. A signed tally is exactly one log entry.
//!
//! Body (canonical CBOR map, `spec/tally-and-manifest.md`):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint = 1 |
//! | 1 | election | id |
//! | 2 | contest | id |
//! | 3 | unit | id |
//! | 4 | choices | map { id => uint } |
//! | 5 | blank | uint |
//! | 6 | invalid | uint |
//! | 7 | ballots_cast | uint |
//! | 8 | counted_at | uint (POSIX seconds) |
//! | 9 | revision | uint |
//! | 10 | supersedes | bstr(32), optional |
//! | 11 | reason | tstr 1..=1024 bytes, optional |
//! | 12 | signer | bstr(32) |
//!
//! Signed envelope: `[body: bstr, signature: bstr(64)]`, the signature over
//! `"tallyboard/v1/tally\n" || body` under `signer`.

use std::collections::BTreeMap;

use crate::cbor::{self, CborError, Encoder, Fields};
use crate::hash::{Hash, leaf_hash};
use crate::keys::{Context, KeyError, PublicKey, SecretKey, Signature};
use crate::limits::{MAX_REASON_LEN, MAX_SIGNED_TALLY};

/// Errors from parsing, signing or verifying a signed tally. The rules a
/// well-formed tally must satisfy against the manifest are not errors but
/// [`crate::rules::Violation`]s.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum TallyError {
    /// The bytes are not a canonical signed tally.
    #[error("tally: {0}")]
    Decode(#[from] CborError),
    /// The signature does not verify under the tally's `signer` key with
    /// the tally context.
    #[error("tally signature does not verify under its signer key")]
    BadSignature,
    /// Signing was asked with a key other than the tally's `signer`.
    #[error("the signing key is not the tally's signer key")]
    SignerMismatch,
}

impl TallyError {
    /// Stable kebab-case code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            TallyError::Decode(e) => e.code(),
            TallyError::BadSignature => "bad-signature",
            TallyError::SignerMismatch => "signer-mismatch",
        }
    }
}

/// The body of a tally: what a count-centre official reads off the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Election id (must equal the manifest's).
    pub election: String,
    /// Contest id.
    pub contest: String,
    /// Reporting unit id.
    pub unit: String,
    /// Votes per choice id. Every choice of the contest must be present.
    pub choices: BTreeMap<String, u64>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid (spoilt) ballots.
    pub invalid: u64,
    /// Ballots cast: must equal the sum of choices, blank and invalid.
    pub ballots_cast: u64,
    /// Time of the count, POSIX seconds.
    pub counted_at: u64,
    /// Revision number, 1 for the first publication.
    pub revision: u64,
    /// Leaf hash of the entry this one corrects (revision > 1 only).
    pub supersedes: Option<Hash>,
    /// Why the correction was made (revision > 1 only).
    pub reason: Option<String>,
    /// The count-centre key that signs the tally.
    pub signer: PublicKey,
}

impl Tally {
    /// A first publication (revision 1) with the given figures. Choices are
    /// `(choice id, votes)` pairs.
    #[allow(clippy::too_many_arguments)]
    pub fn new<I, S>(
        election: &str,
        contest: &str,
        unit: &str,
        choices: I,
        blank: u64,
        invalid: u64,
        ballots_cast: u64,
        counted_at: u64,
        signer: PublicKey,
    ) -> Tally
    where
        I: IntoIterator<Item = (S, u64)>,
        S: Into<String>,
    {
        Tally {
            election: election.to_string(),
            contest: contest.to_string(),
            unit: unit.to_string(),
            choices: choices.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            blank,
            invalid,
            ballots_cast,
            counted_at,
            revision: 1,
            supersedes: None,
            reason: None,
            signer,
        }
    }

    /// A correction of `self` (whose entry has leaf hash `leaf`): same
    /// election, contest and unit, revision + 1, `supersedes = leaf`, the
    /// given reason. The caller then changes the figures, `counted_at` and
    /// possibly `signer`.
    pub fn correction(&self, leaf: Hash, reason: &str) -> Tally {
        Tally {
            revision: self.revision.saturating_add(1),
            supersedes: Some(leaf),
            reason: Some(reason.to_string()),
            ..self.clone()
        }
    }

    /// The canonical CBOR body.
    pub fn to_body_bytes(&self) -> Vec<u8> {
        let n = 11 + usize::from(self.supersedes.is_some()) + usize::from(self.reason.is_some());
        let mut e = Encoder::with_capacity(160 + 16 * self.choices.len());
        e.map(n);
        e.uint(0);
        e.uint(1);
        e.uint(1);
        e.text(&self.election);
        e.uint(2);
        e.text(&self.contest);
        e.uint(3);
        e.text(&self.unit);
        e.uint(4);
        e.text_uint_map(&self.choices);
        e.uint(5);
        e.uint(self.blank);
        e.uint(6);
        e.uint(self.invalid);
        e.uint(7);
        e.uint(self.ballots_cast);
        e.uint(8);
        e.uint(self.counted_at);
        e.uint(9);
        e.uint(self.revision);
        if let Some(h) = &self.supersedes {
            e.uint(10);
            e.bytes(&h.0);
        }
        if let Some(r) = &self.reason {
            e.uint(11);
            e.text(r);
        }
        e.uint(12);
        e.bytes(self.signer.as_bytes());
        e.into_bytes()
    }

    /// Parses a canonical tally body (no signature check).
    pub fn from_body_bytes(body: &[u8]) -> Result<Tally, TallyError> {
        let v = cbor::decode(body, MAX_SIGNED_TALLY)?;
        let mut f = Fields::new(v, "tally", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])?;
        f.version("tally.version")?;
        let t = Tally {
            election: cbor::as_id(f.required(1, "tally.election")?, "tally.election")?,
            contest: cbor::as_id(f.required(2, "tally.contest")?, "tally.contest")?,
            unit: cbor::as_id(f.required(3, "tally.unit")?, "tally.unit")?,
            choices: cbor::as_id_uint_map(f.required(4, "tally.choices")?, "tally.choices")?,
            blank: cbor::as_uint(f.required(5, "tally.blank")?, "tally.blank")?,
            invalid: cbor::as_uint(f.required(6, "tally.invalid")?, "tally.invalid")?,
            ballots_cast: cbor::as_uint(f.required(7, "tally.ballots_cast")?, "tally.ballots_cast")?,
            counted_at: cbor::as_uint(f.required(8, "tally.counted_at")?, "tally.counted_at")?,
            revision: cbor::as_uint(f.required(9, "tally.revision")?, "tally.revision")?,
            supersedes: f
                .optional(10)
                .map(|v| cbor::as_hash(v, "tally.supersedes"))
                .transpose()?,
            reason: f
                .optional(11)
                .map(|v| reason_text(v))
                .transpose()?,
            signer: cbor::as_key(f.required(12, "tally.signer")?, "tally.signer")?,
        };
        cbor::require_canonical(body, &t.to_body_bytes())?;
        Ok(t)
    }

    /// Signs the tally with `key`, which must be the tally's `signer`.
    /// The result is re-parsed, so an invalid identifier or text is reported
    /// here rather than by the server.
    pub fn sign(&self, key: &SecretKey) -> Result<SignedTally, TallyError> {
        if key.public_key() != self.signer {
            return Err(TallyError::SignerMismatch);
        }
        let body = self.to_body_bytes();
        let sig = key.sign(Context::Tally, &body);
        SignedTally::from_bytes(&cbor::encode_envelope(&body, &sig))
    }
}

/// A correction reason: UTF-8, 1..=1024 bytes. Line breaks and tabs are
/// allowed; other control characters are not.
fn reason_text(v: ciborium::Value) -> Result<String, CborError> {
    const FIELD: &str = "tally.reason";
    let t = cbor::as_text(v, FIELD)?;
    let ok = !t.is_empty()
        && t.len() <= MAX_REASON_LEN
        && !t
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t');
    if ok {
        Ok(t)
    } else {
        Err(CborError::InvalidText { field: FIELD })
    }
}

/// A parsed signed tally, kept with its exact bytes (the log entry).
/// [`SignedTally::from_bytes`] checks the encoding but not the signature,
/// so that a verifier can check signatures in batches; call
/// [`SignedTally::verify_signature`] (or [`SignedTally::verify`]) before
/// trusting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTally {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    tally: Tally,
    leaf: Hash,
}

impl SignedTally {
    /// Parses a signed tally: size cap [`MAX_SIGNED_TALLY`], envelope,
    /// canonical body. The signature is not checked here.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTally, TallyError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_TALLY)?;
        let tally = Tally::from_body_bytes(&bytes[env.body.clone()])?;
        Ok(SignedTally {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            tally,
            leaf: leaf_hash(bytes),
        })
    }

    /// The exact bytes (the log entry).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The exact bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parsed body.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The body bytes as received (what the signature covers, after the
    /// context label).
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// RFC 6962 leaf hash of the entry: its identifier in the log.
    pub fn leaf_hash(&self) -> Hash {
        self.leaf
    }

    /// What batch verification needs, borrowed: the key, the body (to be
    /// prefixed with [`Context::Tally`]'s label) and the signature.
    pub fn signature_parts(&self) -> (&PublicKey, &[u8], &Signature) {
        (&self.tally.signer, self.body_bytes(), &self.signature)
    }

    /// The full signed message, `"tallyboard/v1/tally\n" || body`.
    pub fn signed_message(&self) -> Vec<u8> {
        Context::Tally.message(self.body_bytes())
    }

    /// Checks the signature under the tally's own `signer` key, with the
    /// tally context, over the body bytes as received.
    pub fn verify_signature(&self) -> Result<(), TallyError> {
        self.tally
            .signer
            .verify(Context::Tally, self.body_bytes(), &self.signature)
            .map_err(|e| match e {
                KeyError::BadSignature => TallyError::BadSignature,
                _ => TallyError::BadSignature,
            })
    }

    /// Checks the signature and returns the verified tally.
    pub fn verify(&self) -> Result<&Tally, TallyError> {
        self.verify_signature()?;
        Ok(&self.tally)
    }

    /// Signs `tally` with `key` (which must be its signer).
    pub fn sign(tally: &Tally, key: &SecretKey) -> Result<SignedTally, TallyError> {
        tally.sign(key)
    }

    /// Takes the parsed tally out.
    pub fn into_tally(self) -> Tally {
        self.tally
    }
}
