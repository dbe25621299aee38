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

use crate::cbor::{self, CborError, Encoder, Reader, required};
use crate::hash::{Hash, leaf_hash};
use crate::keys::{Context, PublicKey, SIGNATURE_LEN, SecretKey, Signature};
use crate::limits::{MAX_REASON_LEN, MAX_SIGNED_TALLY};
use crate::manifest::Manifest;

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
}

impl TallyError {
    /// Stable kebab-case code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            TallyError::Decode(e) => e.code(),
            TallyError::BadSignature => "bad-signature",
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
        Tally::decode_body(body, None)
    }

    /// Parses a canonical tally body; a `signer` key listed in `manifest`
    /// is taken from it instead of being decompressed again (point
    /// decompression is most of the cost of decoding a tally).
    pub fn from_body_bytes_in(body: &[u8], manifest: &Manifest) -> Result<Tally, TallyError> {
        Tally::decode_body(body, Some(manifest))
    }

    fn decode_body(body: &[u8], manifest: Option<&Manifest>) -> Result<Tally, TallyError> {
        const F: &str = "tally";
        let mut r = Reader::new(body, MAX_SIGNED_TALLY)?;
        let n = r.map(F)?;
        let mut seen = 0u32;
        let (mut version, mut election, mut contest, mut unit, mut choices) =
            (None, None, None, None, None);
        let (mut blank, mut invalid, mut ballots_cast, mut counted_at, mut revision) =
            (None, None, None, None, None);
        let (mut supersedes, mut reason, mut signer) = (None, None, None);
        for _ in 0..n {
            match r.key(F, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], &mut seen)? {
                0 => version = Some(r.version("tally.version")?),
                1 => election = Some(r.id("tally.election")?),
                2 => contest = Some(r.id("tally.contest")?),
                3 => unit = Some(r.id("tally.unit")?),
                4 => choices = Some(r.id_uint_map("tally.choices")?),
                5 => blank = Some(r.uint("tally.blank")?),
                6 => invalid = Some(r.uint("tally.invalid")?),
                7 => ballots_cast = Some(r.uint("tally.ballots_cast")?),
                8 => counted_at = Some(r.uint("tally.counted_at")?),
                9 => revision = Some(r.uint("tally.revision")?),
                10 => supersedes = Some(r.hash("tally.supersedes")?),
                11 => {
                    let t = r.text("tally.reason")?;
                    if !is_valid_reason(t) {
                        return Err(CborError::InvalidText {
                            field: "tally.reason",
                        }
                        .into());
                    }
                    reason = Some(t.to_string());
                }
                _ => {
                    signer = Some(match manifest {
                        Some(m) => r.key32_with("tally.signer", |b| m.key_by_bytes(b))?,
                        None => r.key32("tally.signer")?,
                    })
                }
            }
        }
        r.finish()?;
        required(version, "tally.version")?;
        let t = Tally {
            election: required(election, "tally.election")?.to_string(),
            contest: required(contest, "tally.contest")?.to_string(),
            unit: required(unit, "tally.unit")?.to_string(),
            choices: required(choices, "tally.choices")?,
            blank: required(blank, "tally.blank")?,
            invalid: required(invalid, "tally.invalid")?,
            ballots_cast: required(ballots_cast, "tally.ballots_cast")?,
            counted_at: required(counted_at, "tally.counted_at")?,
            revision: required(revision, "tally.revision")?,
            supersedes,
            reason,
            signer: required(signer, "tally.signer")?,
        };
        cbor::require_canonical(body, &t.to_body_bytes())?;
        Ok(t)
    }

    /// Signs the tally with `key` and returns the signed tally (the log
    /// entry). The body's `signer` field is set to `key`'s public key, so
    /// the result always carries a signature that verifies; `self.signer`
    /// is ignored. Identifiers and texts are not checked here: call
    /// [`Tally::check_fields`] first (the CLI does), otherwise an invalid id
    /// yields bytes that [`SignedTally::from_bytes`] rejects.
    pub fn sign(&self, key: &SecretKey) -> SignedTally {
        let public = key.public_key();
        let signed_body;
        let tally = if public == self.signer {
            signed_body = self.to_body_bytes();
            self.clone()
        } else {
            let t = Tally {
                signer: public,
                ..self.clone()
            };
            signed_body = t.to_body_bytes();
            t
        };
        let signature = key.sign(Context::Tally, &signed_body);
        let bytes = cbor::encode_envelope(&signed_body, &signature);
        // The envelope is `0x82`, a byte-string head, the body, then the
        // signature's 2-byte head and 64 bytes.
        let body_start = bytes.len() - signed_body.len() - 2 - SIGNATURE_LEN;
        let body = body_start..body_start + signed_body.len();
        SignedTally {
            leaf: leaf_hash(&bytes),
            bytes,
            body,
            signature,
            tally,
        }
    }

    /// Checks what decoding would check on the fields alone: identifiers
    /// (1..=64 bytes of `[A-Za-z0-9._-]`, not starting with `.`), choice
    /// ids, and the reason (1..=1024 bytes, no control characters other
    /// than line feed and tab). Returns the first problem.
    pub fn check_fields(&self) -> Result<(), TallyError> {
        let id = |field: &'static str, v: &str| {
            if cbor::is_valid_id(v) {
                Ok(())
            } else {
                Err(CborError::InvalidId {
                    field,
                    value: v.chars().take(80).collect(),
                })
            }
        };
        id("tally.election", &self.election)?;
        id("tally.contest", &self.contest)?;
        id("tally.unit", &self.unit)?;
        for c in self.choices.keys() {
            id("tally.choices", c)?;
        }
        if let Some(r) = &self.reason
            && !is_valid_reason(r)
        {
            return Err(CborError::InvalidText {
                field: "tally.reason",
            }
            .into());
        }
        Ok(())
    }
}

fn is_valid_reason(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= MAX_REASON_LEN
        && !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// A signed tally whose encoding has been checked but whose signature has
/// not, for callers that verify signatures in batches (the verifier).
/// [`UnverifiedTally::verify`] checks the signature alone;
/// [`UnverifiedTally::verified_by_batch`] is for after a batch
/// verification of [`UnverifiedTally::signature_parts`] succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedTally {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    tally: Tally,
}

impl UnverifiedTally {
    /// Parses a signed tally: size cap [`MAX_SIGNED_TALLY`], envelope,
    /// canonical body. The signature is NOT checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<UnverifiedTally, TallyError> {
        UnverifiedTally::decode(bytes, None)
    }

    /// As [`UnverifiedTally::from_bytes`], taking the `signer` key from
    /// `manifest` when it is listed there (faster: no point decompression).
    pub fn from_bytes_in(bytes: &[u8], manifest: &Manifest) -> Result<UnverifiedTally, TallyError> {
        UnverifiedTally::decode(bytes, Some(manifest))
    }

    fn decode(bytes: &[u8], manifest: Option<&Manifest>) -> Result<UnverifiedTally, TallyError> {
        let env = cbor::parse_envelope(bytes, MAX_SIGNED_TALLY)?;
        let body = bytes.get(env.body.clone()).ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
        let tally = Tally::decode_body(body, manifest)?;
        Ok(UnverifiedTally {
            bytes: bytes.to_vec(),
            body: env.body,
            signature: env.signature,
            tally,
        })
    }

    /// The parsed body, not yet authenticated.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The exact bytes received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What (batch) verification needs: the tally's `signer` key, the body
    /// bytes as received and the signature. The signed message is
    /// [`Context::Tally`]'s label followed by the body.
    pub fn signature_parts(&self) -> (&PublicKey, &[u8], &Signature) {
        (
            &self.tally.signer,
            &self.bytes[self.body.clone()],
            &self.signature,
        )
    }

    /// Checks the signature under the tally's `signer` key with the tally
    /// context, over the body bytes as received.
    pub fn verify(self) -> Result<SignedTally, TallyError> {
        let (key, body, sig) = self.signature_parts();
        key.verify(Context::Tally, body, sig)
            .map_err(|_| TallyError::BadSignature)?;
        Ok(self.verified_by_batch())
    }

    /// Accepts the tally as verified. Only call this after a batch
    /// verification that included this tally's
    /// [`UnverifiedTally::signature_parts`] succeeded.
    pub fn verified_by_batch(self) -> SignedTally {
        SignedTally {
            leaf: leaf_hash(&self.bytes),
            bytes: self.bytes,
            body: self.body,
            signature: self.signature,
            tally: self.tally,
        }
    }
}

/// A signed tally whose encoding is canonical and whose signature verifies
/// under its own `signer` key, kept with its exact bytes (the log entry).
/// Whether that key may sign for the unit is a rule checked against the
/// manifest ([`crate::rules`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTally {
    bytes: Vec<u8>,
    body: core::ops::Range<usize>,
    signature: Signature,
    tally: Tally,
    leaf: Hash,
}

impl SignedTally {
    /// Parses and verifies a signed tally: size cap [`MAX_SIGNED_TALLY`],
    /// envelope `[body, signature]`, canonical body, then the Ed25519
    /// signature (strict) under the body's `signer` key over
    /// `"tallyboard/v1/tally\n" || body`.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTally, TallyError> {
        UnverifiedTally::from_bytes(bytes)?.verify()
    }

    /// As [`SignedTally::from_bytes`], taking the `signer` key from
    /// `manifest` when it is listed there (the server's and verifier's
    /// path). The result is the same; only faster.
    pub fn from_bytes_in(bytes: &[u8], manifest: &Manifest) -> Result<SignedTally, TallyError> {
        UnverifiedTally::from_bytes_in(bytes, manifest)?.verify()
    }

    /// The exact bytes (the log entry), copied.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The exact bytes (the log entry).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the exact bytes out.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The verified tally.
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

    /// RFC 6962 leaf hash of the entry, `SHA-256(0x00 || bytes)`: its
    /// identifier in the log and what a correction's `supersedes` names.
    pub fn leaf_hash(&self) -> Hash {
        self.leaf
    }

    /// Takes the verified tally out.
    pub fn into_tally(self) -> Tally {
        self.tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_SIGNED_TALLY;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn sample() -> Tally {
        Tally::new(
            "general-2026",
            "mayor",
            "P-017",
            [("alice", 500u64), ("bob", 312)],
            9,
            4,
            825,
            1_790_000_000,
            key(1).public_key(),
        )
    }

    /// The body as (key, encoded value) pairs, to be altered and
    /// reassembled by tests.
    fn fields(t: &Tally) -> Vec<(u64, Vec<u8>)> {
        let enc = |f: &dyn Fn(&mut Encoder)| {
            let mut e = Encoder::new();
            f(&mut e);
            e.into_bytes()
        };
        let mut v = vec![
            (0, enc(&|e| e.uint(1))),
            (1, enc(&|e| e.text(&t.election))),
            (2, enc(&|e| e.text(&t.contest))),
            (3, enc(&|e| e.text(&t.unit))),
            (4, enc(&|e| e.text_uint_map(&t.choices))),
            (5, enc(&|e| e.uint(t.blank))),
            (6, enc(&|e| e.uint(t.invalid))),
            (7, enc(&|e| e.uint(t.ballots_cast))),
            (8, enc(&|e| e.uint(t.counted_at))),
            (9, enc(&|e| e.uint(t.revision))),
        ];
        if let Some(h) = t.supersedes {
            v.push((10, enc(&|e| e.bytes(&h.0))));
        }
        if let Some(r) = &t.reason {
            v.push((11, enc(&|e| e.text(r))));
        }
        v.push((12, enc(&|e| e.bytes(t.signer.as_bytes()))));
        v
    }

    fn assemble(fields: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(fields.len());
        let mut out = e.into_bytes();
        for (k, v) in fields {
            let mut e = Encoder::new();
            e.uint(*k);
            out.extend(e.into_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    fn envelope(body: &[u8], k: &SecretKey) -> Vec<u8> {
        cbor::encode_envelope(body, &k.sign(Context::Tally, body))
    }

    fn code(bytes: &[u8]) -> &'static str {
        match SignedTally::from_bytes(bytes) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn round_trip_keeps_exact_bytes() {
        let t = sample();
        let s = t.sign(&key(1));
        let p = SignedTally::from_bytes(s.as_bytes()).unwrap();
        assert_eq!(p.tally(), &t);
        assert_eq!(p.as_bytes(), s.as_bytes());
        assert_eq!(p.body_bytes(), t.to_body_bytes().as_slice());
        assert_eq!(p.leaf_hash(), leaf_hash(s.as_bytes()));
        assert_eq!(p, s);
        assert_eq!(Tally::from_body_bytes(&t.to_body_bytes()).unwrap(), t);
    }

    #[test]
    fn an_independent_decoder_reads_the_same_body() {
        use ciborium::Value;
        let t = sample().correction(Hash([3; 32]), "recount");
        let s = t.sign(&key(1));
        let v: Value = ciborium::de::from_reader(s.as_bytes()).unwrap();
        let Value::Array(items) = v else {
            panic!("not an array")
        };
        let Value::Bytes(body) = &items[0] else {
            panic!("no body")
        };
        assert_eq!(body.as_slice(), s.body_bytes());
        let body: Value = ciborium::de::from_reader(body.as_slice()).unwrap();
        let Value::Map(entries) = body else {
            panic!("not a map")
        };
        let keys: Vec<u64> = entries
            .iter()
            .map(|(k, _)| u64::try_from(k.as_integer().unwrap()).unwrap())
            .collect();
        assert_eq!(keys, (0..=12).collect::<Vec<u64>>());
        assert_eq!(entries[3].1, Value::Text("P-017".into()));
        assert_eq!(entries[7].1, Value::Integer(825.into()));
    }

    #[test]
    fn correction_round_trips() {
        let first = sample().sign(&key(1));
        let mut c = first
            .tally()
            .correction(first.leaf_hash(), "recount\nof box 3");
        c.blank = 10;
        let s = c.sign(&key(1));
        let p = SignedTally::from_bytes(s.as_bytes()).unwrap();
        assert_eq!(p.tally().revision, 2);
        assert_eq!(p.tally().supersedes, Some(first.leaf_hash()));
        assert_eq!(p.tally().reason.as_deref(), Some("recount\nof box 3"));
    }

    #[test]
    fn sign_sets_signer_to_the_signing_key() {
        let s = sample().sign(&key(2));
        assert_eq!(s.tally().signer, key(2).public_key());
        assert!(SignedTally::from_bytes(s.as_bytes()).is_ok());
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut b = sample().sign(&key(1)).into_bytes();
        b.push(0);
        assert_eq!(code(&b), "trailing-bytes");
        // Trailing bytes inside the body byte string.
        let mut body = sample().to_body_bytes();
        body.push(0);
        assert_eq!(code(&envelope(&body, &key(1))), "trailing-bytes");
    }

    #[test]
    fn rejects_non_canonical_integer() {
        let t = sample();
        let mut f = fields(&t);
        f[5].1 = vec![0x18, 9]; // blank = 9 in two bytes
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "non-canonical");
        let mut f = fields(&t);
        f[7].1 = vec![0x1a, 0, 0, 0x03, 0x39]; // 825 in five bytes
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "non-canonical");
    }

    #[test]
    fn rejects_non_canonical_length() {
        let t = sample();
        let mut f = fields(&t);
        let mut unit = vec![0x78, t.unit.len() as u8];
        unit.extend_from_slice(t.unit.as_bytes());
        f[3].1 = unit;
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "non-canonical");
        // Indefinite-length map.
        let mut body = vec![0xbf];
        body.extend_from_slice(&assemble(&fields(&t))[1..]);
        body.push(0xff);
        assert_eq!(code(&envelope(&body, &key(1))), "non-canonical");
    }

    #[test]
    fn rejects_unsorted_map_keys() {
        let mut f = fields(&sample());
        f.swap(5, 6);
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "non-canonical");
        // Choice keys in plain bytewise order instead of length-first.
        let mut t = sample();
        t.choices = [("bb".to_string(), 1u64), ("c".to_string(), 2)]
            .into_iter()
            .collect();
        let mut f = fields(&t);
        f[4].1 = vec![0xa2, 0x62, b'b', b'b', 1, 0x61, b'c', 2];
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "non-canonical");
    }

    #[test]
    fn rejects_duplicate_keys() {
        let mut f = fields(&sample());
        let dup = f[5].clone();
        f.insert(6, dup);
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "duplicate-key");
        let mut f = fields(&sample());
        f[4].1 = vec![0xa2, 0x61, b'a', 1, 0x61, b'a', 2];
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "duplicate-key");
    }

    #[test]
    fn rejects_unknown_and_missing_keys() {
        let mut f = fields(&sample());
        f.push((13, vec![0]));
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "unknown-field");
        let mut f = fields(&sample());
        f.remove(6);
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "missing-field");
        assert!(matches!(
            SignedTally::from_bytes(&envelope(&assemble(&f), &key(1))),
            Err(TallyError::Decode(CborError::MissingField {
                field: "tally.invalid"
            }))
        ));
    }

    #[test]
    fn rejects_wrong_types() {
        let cases: Vec<(usize, Vec<u8>, &str)> = vec![
            (5, vec![0x20], "wrong-type"),                   // blank = -1
            (5, vec![0x61, b'9'], "wrong-type"),             // blank = "9"
            (1, vec![0x41, b'e'], "wrong-type"),             // election as bytes
            (4, vec![0x80], "wrong-type"),                   // choices as array
            (4, vec![0xa1, 0x61, b'a', 0x20], "wrong-type"), // negative votes
            (5, vec![0xf9, 0x48, 0x80], "wrong-type"),       // float
            (5, vec![0xf5], "wrong-type"),                   // true
            (5, vec![0xc2, 0x41, 9], "wrong-type"),          // bignum 9
            (10, vec![0x58, 0x20], "malformed"),             // truncated key
        ];
        for (idx, v, want) in cases {
            let mut f = fields(&sample());
            f[idx].1 = v.clone();
            let got = code(&envelope(&assemble(&f), &key(1)));
            assert_eq!(got, want, "field {idx} = {v:02x?}");
        }
        let mut f = fields(&sample());
        f[0].1 = vec![2];
        assert_eq!(
            code(&envelope(&assemble(&f), &key(1))),
            "unsupported-version"
        );
        let mut f = fields(&sample());
        f[10].1 = vec![0x50; 17]; // 16-byte signer
        assert_eq!(code(&envelope(&assemble(&f), &key(1))), "bad-length");
    }

    #[test]
    fn rejects_bad_signature() {
        let mut b = sample().sign(&key(1)).into_bytes();
        let n = b.len();
        b[n - 1] ^= 1;
        assert_eq!(code(&b), "bad-signature");
        // A flipped body bit breaks the signature too (the body stays canonical).
        let mut b = sample().sign(&key(1)).into_bytes();
        let pos = b.windows(5).position(|w| w == b"P-017").unwrap();
        b[pos + 4] = b'8';
        assert_eq!(code(&b), "bad-signature");
    }

    #[test]
    fn rejects_signature_by_another_key() {
        let body = sample().to_body_bytes(); // signer = key(1)
        assert_eq!(code(&envelope(&body, &key(2))), "bad-signature");
        // The same signature under another context is not a tally signature.
        let sig = key(1).sign(Context::Manifest, &body);
        assert_eq!(code(&cbor::encode_envelope(&body, &sig)), "bad-signature");
    }

    #[test]
    fn rejects_oversized_input() {
        let mut t = sample();
        for i in 0..2000 {
            t.choices.insert(format!("choice-{i:05}"), 0);
        }
        let b = t.sign(&key(1)).into_bytes();
        assert!(b.len() > MAX_SIGNED_TALLY);
        assert_eq!(code(&b), "oversized");
    }

    #[test]
    fn rejects_bad_ids_and_texts() {
        for bad in ["", ".x", "a/b", "a b", "é"] {
            let mut t = sample();
            t.unit = bad.to_string();
            assert!(t.check_fields().is_err(), "{bad:?}");
            assert_eq!(code(t.sign(&key(1)).as_bytes()), "invalid-id", "{bad:?}");
        }
        let mut t = sample();
        t.choices.insert("no way".to_string(), 0);
        assert_eq!(code(t.sign(&key(1)).as_bytes()), "invalid-id");
        let mut t = sample().correction(Hash([1; 32]), "bad\u{7}bell");
        assert_eq!(code(t.sign(&key(1)).as_bytes()), "invalid-text");
        t.reason = Some(String::new());
        assert_eq!(code(t.sign(&key(1)).as_bytes()), "invalid-text");
        assert!(t.check_fields().is_err());
        assert!(sample().check_fields().is_ok());
    }

    #[test]
    fn rejects_non_envelopes() {
        assert_eq!(code(&[]), "malformed");
        assert_eq!(code(&sample().to_body_bytes()), "wrong-type");
        let b = sample().sign(&key(1)).into_bytes();
        assert_eq!(code(&b[..b.len() - 10]), "malformed");
    }

    #[test]
    fn unverified_parse_then_verify() {
        let s = sample().sign(&key(1));
        let u = UnverifiedTally::from_bytes(s.as_bytes()).unwrap();
        let (k, body, sig) = u.signature_parts();
        assert_eq!(k, &key(1).public_key());
        assert_eq!(body, s.body_bytes());
        assert_eq!(sig, s.signature());
        assert_eq!(u.verify().unwrap(), s);
        let mut b = s.into_bytes();
        let n = b.len();
        b[n - 2] ^= 0x10;
        let u = UnverifiedTally::from_bytes(&b).unwrap();
        assert_eq!(u.verify(), Err(TallyError::BadSignature));
    }
}
