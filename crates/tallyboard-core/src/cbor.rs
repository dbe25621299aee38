//! The canonical CBOR subset shared by tallies, manifests and totals.
//!
//! Every tallyboard object is CBOR (RFC 8949) in the core deterministic
//! encoding of RFC 8949 §4.2.1: definite lengths only, shortest-form
//! integers and lengths, map keys unique and sorted by the bytewise order of
//! their encodings, no floats, no tags, no simple values. Struct-like maps
//! use unsigned-integer keys 0..=23, so each key is one byte.
//!
//! Decoding works in three steps, shared by every object kind:
//!
//! 1. the input is checked against its size cap before anything else;
//! 2. it is decoded by a strict pull decoder ([`Reader`]) straight into the
//!    domain type, without building an intermediate value tree (wrong
//!    types, missing keys, unknown keys and duplicate keys are named errors;
//!    indefinite lengths and non-shortest heads are non-canonical);
//! 3. the domain type is encoded again with [`Encoder`] and the result must
//!    equal the input exactly ([`require_canonical`]). This one rule rejects
//!    every non-canonical form that step 2 lets through (unsorted map keys
//!    in particular).
//!
//! Trailing bytes after the top-level item are rejected
//! ([`CborError::TrailingBytes`]).
//!
//! The signed envelope `[body: bstr, signature: bstr(64)]` is parsed by hand
//! ([`parse_envelope`]) so that the body is kept verbatim, without copying,
//! and signatures are always checked over the bytes received.

use std::collections::BTreeMap;

use crate::hash::Hash;
use crate::keys::{PublicKey, SIGNATURE_LEN, Signature};
use crate::limits::{MAX_ID_LEN, MAX_NAME_LEN};

/// Errors from decoding canonical CBOR. Every variant names the rule broken;
/// [`CborError::code`] gives the stable kebab-case code used in vectors and
/// HTTP error bodies.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum CborError {
    /// The input is larger than the cap for its kind; nothing was parsed.
    #[error("input is {got} bytes, more than the limit of {max}")]
    Oversized {
        /// The cap, in bytes.
        max: usize,
        /// The input length.
        got: usize,
    },
    /// The bytes are not well-formed CBOR (truncated, reserved values, ...).
    #[error("not well-formed CBOR: {reason}")]
    Malformed {
        /// What the decoder reported.
        reason: String,
    },
    /// Bytes follow the top-level CBOR item.
    #[error("{count} bytes follow the CBOR item")]
    TrailingBytes {
        /// Number of extra bytes.
        count: usize,
    },
    /// The input decodes, but is not in the canonical encoding (re-encoding
    /// the decoded value gives different bytes).
    #[error("CBOR is not in canonical form")]
    NonCanonical,
    /// A value has the wrong CBOR type (including negative integers, floats,
    /// tags and simple values, which never appear in tallyboard objects).
    #[error("{field}: expected {expected}")]
    WrongType {
        /// Where the value is.
        field: &'static str,
        /// The type required there.
        expected: &'static str,
    },
    /// A required map key is absent.
    #[error("{field}: required field is missing")]
    MissingField {
        /// The missing field.
        field: &'static str,
    },
    /// A map has a key that this version does not define.
    #[error("{field}: unknown key {key}")]
    UnknownField {
        /// The map.
        field: &'static str,
        /// The key, in CBOR diagnostic-like notation.
        key: String,
    },
    /// A map has the same key twice.
    #[error("{field}: key {key} appears twice")]
    DuplicateKey {
        /// The map.
        field: &'static str,
        /// The repeated key.
        key: String,
    },
    /// A byte string has the wrong length.
    #[error("{field}: expected {expected} bytes, got {got}")]
    BadLength {
        /// Where the value is.
        field: &'static str,
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An identifier is not 1..=64 bytes of `[A-Za-z0-9._-]` not starting
    /// with `.`.
    #[error("{field}: {value:?} is not a valid identifier")]
    InvalidId {
        /// Where the value is.
        field: &'static str,
        /// The rejected value (truncated to 80 characters).
        value: String,
    },
    /// A name or text is empty, too long or contains control characters.
    #[error("{field}: text is empty, too long or contains control characters")]
    InvalidText {
        /// Where the value is.
        field: &'static str,
    },
    /// 32 bytes that are not a usable Ed25519 public key.
    #[error("{field}: not a valid Ed25519 public key")]
    InvalidKey {
        /// Where the value is.
        field: &'static str,
    },
    /// The `version` field is not 1.
    #[error("unsupported version {got} (this implementation knows version 1)")]
    UnsupportedVersion {
        /// The version found.
        got: u64,
    },
}

impl CborError {
    /// Stable kebab-case code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            CborError::Oversized { .. } => "oversized",
            CborError::Malformed { .. } => "malformed",
            CborError::TrailingBytes { .. } => "trailing-bytes",
            CborError::NonCanonical => "non-canonical",
            CborError::WrongType { .. } => "wrong-type",
            CborError::MissingField { .. } => "missing-field",
            CborError::UnknownField { .. } => "unknown-field",
            CborError::DuplicateKey { .. } => "duplicate-key",
            CborError::BadLength { .. } => "bad-length",
            CborError::InvalidId { .. } => "invalid-id",
            CborError::InvalidText { .. } => "invalid-text",
            CborError::InvalidKey { .. } => "invalid-key",
            CborError::UnsupportedVersion { .. } => "unsupported-version",
        }
    }
}

// ---------------------------------------------------------------------------
// Encoding

/// Writes canonical CBOR: every head in shortest form, definite lengths.
/// Callers write map entries in canonical key order.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Encoder {
        Encoder { buf: Vec::new() }
    }

    /// An empty encoder with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Encoder {
        Encoder {
            buf: Vec::with_capacity(n),
        }
    }

    /// Writes a head (major type and argument) in shortest form.
    pub fn head(&mut self, major: u8, arg: u64) {
        let m = major << 5;
        if arg < 24 {
            self.buf.push(m | arg as u8);
        } else if arg <= u64::from(u8::MAX) {
            self.buf.push(m | 24);
            self.buf.push(arg as u8);
        } else if arg <= u64::from(u16::MAX) {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(arg as u16).to_be_bytes());
        } else if arg <= u64::from(u32::MAX) {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(arg as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&arg.to_be_bytes());
        }
    }

    /// An unsigned integer (major type 0).
    pub fn uint(&mut self, v: u64) {
        self.head(0, v);
    }

    /// A byte string (major type 2).
    pub fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// A text string (major type 3).
    pub fn text(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// An array head of `len` items (major type 4).
    pub fn array(&mut self, len: usize) {
        self.head(4, len as u64);
    }

    /// A map head of `len` entries (major type 5).
    pub fn map(&mut self, len: usize) {
        self.head(5, len as u64);
    }

    /// A map `{ text => uint }` with keys in canonical order (shorter key
    /// first, then bytewise), as used for choice counts.
    pub fn text_uint_map(&mut self, m: &BTreeMap<String, u64>) {
        let mut entries: Vec<(&String, &u64)> = m.iter().collect();
        entries.sort_by(|a, b| canonical_text_order(a.0, b.0));
        self.map(entries.len());
        for (k, v) in entries {
            self.text(k);
            self.uint(*v);
        }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// The canonical order of text-string map keys: by the bytewise order of
/// their encodings, which for text strings is shorter first, then bytewise.
pub fn canonical_text_order(a: &str, b: &str) -> core::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Encodes the signed envelope `[body: bstr, signature: bstr(64)]`.
pub fn encode_envelope(body: &[u8], sig: &Signature) -> Vec<u8> {
    let mut e = Encoder::with_capacity(body.len() + 80);
    e.array(2);
    e.bytes(body);
    e.bytes(&sig.0);
    e.into_bytes()
}

// ---------------------------------------------------------------------------
// Decoding

/// The re-encode-and-compare rule: `reencoded` (the domain value encoded
/// again) must equal `input` byte for byte.
pub fn require_canonical(input: &[u8], reencoded: &[u8]) -> Result<(), CborError> {
    if input == reencoded {
        Ok(())
    } else {
        Err(CborError::NonCanonical)
    }
}

fn truncated() -> CborError {
    CborError::Malformed {
        reason: "truncated input".to_string(),
    }
}

/// A strict pull decoder over one buffer, for the canonical subset. It
/// reads exactly the items the caller asks for and never allocates; text
/// and byte strings are borrowed from the input.
///
/// Indefinite lengths and non-shortest heads are reported as
/// [`CborError::NonCanonical`] as soon as they are read; map key order is
/// left to the re-encode rule ([`require_canonical`]). Major types other
/// than the one asked for (negative integers, tags, floats, simple values)
/// are [`CborError::WrongType`].
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

const MAJOR_UINT: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;

impl<'a> Reader<'a> {
    /// A reader over `buf`, after checking it against the size cap `max`.
    pub fn new(buf: &'a [u8], max: usize) -> Result<Reader<'a>, CborError> {
        if buf.len() > max {
            return Err(CborError::Oversized {
                max,
                got: buf.len(),
            });
        }
        Ok(Reader { buf, pos: 0 })
    }

    /// Requires that the whole input has been read.
    pub fn finish(&self) -> Result<(), CborError> {
        let rest = self.buf.len() - self.pos;
        if rest == 0 {
            Ok(())
        } else {
            Err(CborError::TrailingBytes { count: rest })
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads a head; returns (major type, argument).
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let (major, arg, next) = read_head(self.buf, self.pos)?;
        self.pos = next;
        Ok((major, arg))
    }

    fn expect(
        &mut self,
        want: u8,
        field: &'static str,
        expected: &'static str,
    ) -> Result<u64, CborError> {
        let first = *self.buf.get(self.pos).ok_or_else(truncated)?;
        if first >> 5 != want {
            return Err(CborError::WrongType { field, expected });
        }
        let (_, arg) = self.head()?;
        Ok(arg)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], CborError> {
        let len = usize::try_from(len).map_err(|_| truncated())?;
        if len > self.remaining() {
            return Err(truncated());
        }
        let s = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    /// An unsigned integer.
    pub fn uint(&mut self, field: &'static str) -> Result<u64, CborError> {
        self.expect(MAJOR_UINT, field, "unsigned integer")
    }

    /// A byte string, borrowed.
    pub fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], CborError> {
        let len = self.expect(MAJOR_BYTES, field, "byte string")?;
        self.take(len)
    }

    /// A text string, borrowed; invalid UTF-8 is malformed.
    pub fn text(&mut self, field: &'static str) -> Result<&'a str, CborError> {
        let len = self.expect(MAJOR_TEXT, field, "text string")?;
        let b = self.take(len)?;
        core::str::from_utf8(b).map_err(|_| CborError::Malformed {
            reason: format!("{field}: text string is not UTF-8"),
        })
    }

    /// An array head; returns the number of items. A count that cannot fit
    /// in the remaining input is malformed (no allocation is made for it).
    pub fn array(&mut self, field: &'static str) -> Result<usize, CborError> {
        let n = self.expect(MAJOR_ARRAY, field, "array")?;
        self.count(n, 1)
    }

    /// A map head; returns the number of entries.
    pub fn map(&mut self, field: &'static str) -> Result<usize, CborError> {
        let n = self.expect(MAJOR_MAP, field, "map")?;
        self.count(n, 2)
    }

    fn count(&self, n: u64, min_item: u64) -> Result<usize, CborError> {
        match n.checked_mul(min_item) {
            Some(need) if need <= self.remaining() as u64 => {
                usize::try_from(n).map_err(|_| truncated())
            }
            _ => Err(truncated()),
        }
    }

    /// The key of a struct-like map entry: an unsigned integer listed in
    /// `known` and not yet in `seen` (a bit set, updated). Any other key is
    /// [`CborError::UnknownField`]; a repeated key is
    /// [`CborError::DuplicateKey`].
    ///
    /// A key of any major type other than 0 is [`CborError::UnknownField`],
    /// decided from its initial byte alone (as a value's type is): the rest
    /// of such a key is read only to name it in the message, and a defect
    /// there does not change the error.
    pub fn key(
        &mut self,
        field: &'static str,
        known: &[u8],
        seen: &mut u32,
    ) -> Result<u8, CborError> {
        let first = *self.buf.get(self.pos).ok_or_else(truncated)?;
        let major = first >> 5;
        if major != MAJOR_UINT {
            let mut peek = self.clone();
            let key = match major {
                MAJOR_TEXT => peek.text(field).ok().map(|t| format!("{t:?}")),
                1 => peek
                    .head()
                    .ok()
                    .map(|(_, arg)| format!("-{}", u128::from(arg) + 1)),
                _ => None,
            }
            .unwrap_or_else(|| kind_name(major).to_string());
            return Err(CborError::UnknownField { field, key });
        }
        let k = self.uint(field)?;
        let key = u8::try_from(k)
            .ok()
            .filter(|k| known.contains(k) && *k < 32);
        let Some(key) = key else {
            return Err(CborError::UnknownField {
                field,
                key: k.to_string(),
            });
        };
        let bit = 1u32 << key;
        if *seen & bit != 0 {
            return Err(CborError::DuplicateKey {
                field,
                key: key.to_string(),
            });
        }
        *seen |= bit;
        Ok(key)
    }

    /// An identifier (see [`is_valid_id`]).
    pub fn id(&mut self, field: &'static str) -> Result<&'a str, CborError> {
        let t = self.text(field)?;
        if is_valid_id(t) {
            Ok(t)
        } else {
            Err(CborError::InvalidId {
                field,
                value: t.chars().take(80).collect(),
            })
        }
    }

    /// A name or title: 1..=256 bytes, no control characters.
    pub fn name(&mut self, field: &'static str) -> Result<&'a str, CborError> {
        self.text_limited(field, MAX_NAME_LEN)
    }

    /// Text of 1..=`max` bytes without control characters.
    pub fn text_limited(&mut self, field: &'static str, max: usize) -> Result<&'a str, CborError> {
        let t = self.text(field)?;
        if is_valid_text(t, max) {
            Ok(t)
        } else {
            Err(CborError::InvalidText { field })
        }
    }

    /// A 32-byte Ed25519 public key, validated.
    pub fn key32(&mut self, field: &'static str) -> Result<PublicKey, CborError> {
        let b = self.bytes(field)?;
        if b.len() != 32 {
            return Err(CborError::BadLength {
                field,
                expected: 32,
                got: b.len(),
            });
        }
        PublicKey::from_slice(b).map_err(|_| CborError::InvalidKey { field })
    }

    /// A 32-byte Ed25519 public key, taken from `known` when it knows the
    /// bytes (already validated), otherwise decoded and validated.
    pub fn key32_with(
        &mut self,
        field: &'static str,
        known: impl Fn(&[u8; 32]) -> Option<PublicKey>,
    ) -> Result<PublicKey, CborError> {
        let b = self.bytes(field)?;
        let arr: &[u8; 32] = b.try_into().map_err(|_| CborError::BadLength {
            field,
            expected: 32,
            got: b.len(),
        })?;
        match known(arr) {
            Some(k) => Ok(k),
            None => PublicKey::from_bytes(arr).map_err(|_| CborError::InvalidKey { field }),
        }
    }

    /// A 32-byte hash.
    pub fn hash(&mut self, field: &'static str) -> Result<Hash, CborError> {
        let b = self.bytes(field)?;
        Hash::from_slice(b).ok_or(CborError::BadLength {
            field,
            expected: 32,
            got: b.len(),
        })
    }

    /// The `version` value, which must be 1.
    pub fn version(&mut self, field: &'static str) -> Result<(), CborError> {
        let v = self.uint(field)?;
        if v != 1 {
            return Err(CborError::UnsupportedVersion { got: v });
        }
        Ok(())
    }

    /// A map `{ id => uint }` (choice counts). Keys must be valid
    /// identifiers and unique; their order is checked by the re-encode
    /// rule.
    pub fn id_uint_map(&mut self, field: &'static str) -> Result<BTreeMap<String, u64>, CborError> {
        let n = self.map(field)?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let k = self.id(field)?;
            let v = self.uint(field)?;
            if out.insert(k.to_string(), v).is_some() {
                return Err(CborError::DuplicateKey {
                    field,
                    key: k.to_string(),
                });
            }
        }
        Ok(out)
    }
}

/// Requires a field read from a struct-like map to be present.
pub fn required<T>(v: Option<T>, field: &'static str) -> Result<T, CborError> {
    v.ok_or(CborError::MissingField { field })
}

fn kind_name(major: u8) -> &'static str {
    match major {
        0 => "unsigned integer",
        1 => "negative integer",
        2 => "byte string",
        3 => "text string",
        4 => "array",
        5 => "map",
        6 => "tag",
        _ => "simple value or float",
    }
}

/// Is `s` a valid identifier: 1..=64 bytes of `[A-Za-z0-9._-]`, not
/// starting with `.`?
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// Is `s` valid text: 1..=`max` bytes of UTF-8 without control characters?
pub fn is_valid_text(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------
// Signed envelope

/// A parsed signed envelope: where the body is in the input, and the
/// signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Byte range of the body inside the input.
    pub body: core::ops::Range<usize>,
    /// The signature.
    pub signature: Signature,
}

/// Reads one CBOR head at `pos`; returns (major, additional info, argument,
/// next position). Indefinite lengths and non-shortest arguments are
/// reported as [`CborError::NonCanonical`].
fn read_head(b: &[u8], pos: usize) -> Result<(u8, u64, usize), CborError> {
    let first = *b.get(pos).ok_or_else(truncated)?;
    let major = first >> 5;
    let ai = first & 0x1f;
    let (arg, next, min) = match ai {
        0..=23 => (u64::from(ai), pos + 1, 0),
        24 => (
            u64::from(*b.get(pos + 1).ok_or_else(truncated)?),
            pos + 2,
            24,
        ),
        25 => {
            let s = b.get(pos + 1..pos + 3).ok_or_else(truncated)?;
            (u64::from(u16::from_be_bytes([s[0], s[1]])), pos + 3, 256)
        }
        26 => {
            let s = b.get(pos + 1..pos + 5).ok_or_else(truncated)?;
            (
                u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
                pos + 5,
                1 << 16,
            )
        }
        27 => {
            let s = b.get(pos + 1..pos + 9).ok_or_else(truncated)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            (u64::from_be_bytes(a), pos + 9, 1 << 32)
        }
        31 => return Err(CborError::NonCanonical),
        _ => {
            return Err(CborError::Malformed {
                reason: format!("reserved additional information {ai}"),
            });
        }
    };
    if arg < min {
        return Err(CborError::NonCanonical);
    }
    Ok((major, arg, next))
}

/// Requires a byte at `pos` (else malformed) whose major type is `major`
/// (else `wrong`).
fn require_major(b: &[u8], pos: usize, major: u8, wrong: CborError) -> Result<(), CborError> {
    let first = *b.get(pos).ok_or_else(truncated)?;
    if first >> 5 == major {
        Ok(())
    } else {
        Err(wrong)
    }
}

/// Parses the signed envelope `[body: bstr, signature: bstr(64)]` after
/// checking the size cap. The body is located, not copied; its own
/// canonical form is checked by the caller.
pub fn parse_envelope(bytes: &[u8], max: usize) -> Result<Envelope, CborError> {
    if bytes.len() > max {
        return Err(CborError::Oversized {
            max,
            got: bytes.len(),
        });
    }
    const FIELD: &str = "signed envelope";
    let wrong = || CborError::WrongType {
        field: FIELD,
        expected: "array of 2 items",
    };
    // As for every item (spec/tally-and-manifest.md §2.3), the major type
    // of the initial byte is checked before the rest of the head.
    require_major(bytes, 0, MAJOR_ARRAY, wrong())?;
    let (_, arg, pos) = read_head(bytes, 0)?;
    if arg != 2 {
        return Err(wrong());
    }
    require_major(
        bytes,
        pos,
        MAJOR_BYTES,
        CborError::WrongType {
            field: "signed envelope body",
            expected: "byte string",
        },
    )?;
    let (_, len, pos) = read_head(bytes, pos)?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| pos.checked_add(l))
        .filter(|&e| e <= bytes.len())
        .ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
    let body = pos..end;
    require_major(
        bytes,
        end,
        MAJOR_BYTES,
        CborError::WrongType {
            field: "signed envelope signature",
            expected: "byte string",
        },
    )?;
    let (_, len, pos) = read_head(bytes, end)?;
    if len != SIGNATURE_LEN as u64 {
        return Err(CborError::BadLength {
            field: "signed envelope signature",
            expected: SIGNATURE_LEN,
            got: usize::try_from(len).unwrap_or(usize::MAX),
        });
    }
    let sig = bytes
        .get(pos..pos + SIGNATURE_LEN)
        .ok_or(CborError::Malformed {
            reason: "truncated input".to_string(),
        })?;
    let signature = Signature::from_slice(sig).map_err(|_| CborError::BadLength {
        field: "signed envelope signature",
        expected: SIGNATURE_LEN,
        got: sig.len(),
    })?;
    let rest = bytes.len() - (pos + SIGNATURE_LEN);
    if rest != 0 {
        return Err(CborError::TrailingBytes { count: rest });
    }
    Ok(Envelope { body, signature })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_shortest_form() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (23, &[0x17]),
            (24, &[0x18, 24]),
            (255, &[0x18, 0xff]),
            (256, &[0x19, 0x01, 0x00]),
            (65535, &[0x19, 0xff, 0xff]),
            (65536, &[0x1a, 0, 1, 0, 0]),
            (u64::from(u32::MAX), &[0x1a, 0xff, 0xff, 0xff, 0xff]),
            (1 << 32, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (v, want) in cases {
            let mut e = Encoder::new();
            e.uint(*v);
            assert_eq!(e.into_bytes(), *want, "{v}");
        }
    }

    #[test]
    fn valid_ids() {
        assert!(is_valid_id("P-017"));
        assert!(is_valid_id("a.b_c"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(".hidden"));
        assert!(!is_valid_id("a/b"));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(&"x".repeat(65)));
        assert!(is_valid_id(&"x".repeat(64)));
    }

    #[test]
    fn text_map_keys_sort_shorter_first() {
        let mut m = BTreeMap::new();
        m.insert("bb".to_string(), 1);
        m.insert("c".to_string(), 2);
        m.insert("a".to_string(), 3);
        let mut e = Encoder::new();
        e.text_uint_map(&m);
        assert_eq!(
            e.into_bytes(),
            [0xa3, 0x61, b'a', 3, 0x61, b'c', 2, 0x62, b'b', b'b', 1]
        );
    }

    #[test]
    fn envelope_round_trip_and_rejections() {
        let sig = Signature([7u8; 64]);
        let enc = encode_envelope(b"\xa0", &sig);
        let env = parse_envelope(&enc, 1000).unwrap();
        assert_eq!(&enc[env.body.clone()], b"\xa0");
        assert_eq!(env.signature, sig);
        let mut trailing = enc.clone();
        trailing.push(0);
        assert_eq!(
            parse_envelope(&trailing, 1000),
            Err(CborError::TrailingBytes { count: 1 })
        );
        assert_eq!(
            parse_envelope(&enc, 10),
            Err(CborError::Oversized {
                max: 10,
                got: enc.len()
            })
        );
        // Non-shortest body length.
        let mut long = vec![0x82, 0x58, 0x01, 0xa0, 0x58, 0x40];
        long.extend_from_slice(&[7u8; 64]);
        assert_eq!(parse_envelope(&long, 1000), Err(CborError::NonCanonical));
        // Truncated.
        assert!(matches!(
            parse_envelope(&enc[..enc.len() - 1], 1000),
            Err(CborError::Malformed { .. })
        ));
        // The major type is checked before the rest of the head.
        for first in [0xff, 0x3c, 0x5f, 0xbf] {
            assert_eq!(
                parse_envelope(&[first, 0x00], 1000).map_err(|e| e.code()),
                Err("wrong-type"),
                "{first:#04x}"
            );
        }
        assert_eq!(
            parse_envelope(&[0x9f], 1000).map_err(|e| e.code()),
            Err("non-canonical")
        );
        assert_eq!(
            parse_envelope(&[0x82, 0x7f], 1000).map_err(|e| e.code()),
            Err("wrong-type")
        );
        assert!(matches!(
            parse_envelope(&[], 1000),
            Err(CborError::Malformed { .. })
        ));
    }

    #[test]
    fn huge_claimed_lengths_fail_fast() {
        // Array claiming 2^60 items, then nothing.
        let b = [0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0];
        let mut r = Reader::new(&b, 100).unwrap();
        assert!(matches!(r.array("a"), Err(CborError::Malformed { .. })));
        let b = [0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        let mut r = Reader::new(&b, 100).unwrap();
        assert!(matches!(r.bytes("b"), Err(CborError::Malformed { .. })));
        let b = [0xbb, 0x10, 0, 0, 0, 0, 0, 0, 0];
        let mut r = Reader::new(&b, 100).unwrap();
        assert!(matches!(r.map("m"), Err(CborError::Malformed { .. })));
    }

    #[test]
    fn reader_names_wrong_types_and_non_canonical_heads() {
        let mut r = Reader::new(&[0x20], 10).unwrap();
        assert_eq!(
            r.uint("n"),
            Err(CborError::WrongType {
                field: "n",
                expected: "unsigned integer"
            })
        );
        let mut r = Reader::new(&[0x18, 0x05], 10).unwrap();
        assert_eq!(r.uint("n"), Err(CborError::NonCanonical));
        let mut r = Reader::new(&[0x7f, 0x61, b'a', 0xff], 10).unwrap();
        assert_eq!(r.text("t"), Err(CborError::NonCanonical));
        let mut r = Reader::new(&[0x62, 0xff, 0xfe], 10).unwrap();
        assert!(matches!(r.text("t"), Err(CborError::Malformed { .. })));
        let mut r = Reader::new(&[0x1c], 10).unwrap();
        assert!(matches!(r.uint("n"), Err(CborError::Malformed { .. })));
        let mut r = Reader::new(&[0x05, 0x00], 10).unwrap();
        assert_eq!(r.uint("n"), Ok(5));
        assert_eq!(r.finish(), Err(CborError::TrailingBytes { count: 1 }));
        let mut seen = 0;
        let mut r = Reader::new(&[0x01, 0x01, 0x07, 0x61, b'x'], 10).unwrap();
        assert_eq!(r.key("m", &[0, 1], &mut seen), Ok(1));
        assert_eq!(
            r.key("m", &[0, 1], &mut seen),
            Err(CborError::DuplicateKey {
                field: "m",
                key: "1".into()
            })
        );
        assert_eq!(
            r.key("m", &[0, 1], &mut seen),
            Err(CborError::UnknownField {
                field: "m",
                key: "7".into()
            })
        );
        assert_eq!(
            r.key("m", &[0, 1], &mut seen),
            Err(CborError::UnknownField {
                field: "m",
                key: "\"x\"".into()
            })
        );
    }

    #[test]
    fn a_struct_map_key_of_another_major_type_is_an_unknown_field_whatever_follows() {
        // Negative integers, tags, simple values and floats, text, byte
        // strings, arrays and maps: one code, even when the rest of the
        // key is truncated, reserved or indefinite.
        let keys: &[&[u8]] = &[
            &[0x20],
            &[0x3c],
            &[0x3f],
            &[0x38],
            &[0xc0, 0x00],
            &[0xdf],
            &[0xf4],
            &[0xf9, 0x42],
            &[0xfc],
            &[0xff],
            &[0x61, b'x'],
            &[0x7f, 0x61, b'x', 0xff],
            &[0x62, 0xff, 0xfe],
            &[0x65, b'x'],
            &[0x41, 0x00],
            &[0x80],
            &[0xa0],
        ];
        for k in keys {
            let mut seen = 0;
            let mut r = Reader::new(k, 10).unwrap();
            assert_eq!(
                r.key("m", &[0, 1], &mut seen).map_err(|e| e.code()),
                Err("unknown-field"),
                "{k:02x?}"
            );
        }
        // A key of major type 0 is read as a head first.
        for (k, code) in [
            (&[0x18, 0x01][..], "non-canonical"),
            (&[0x1f], "non-canonical"),
            (&[0x1c], "malformed"),
            (&[0x18], "malformed"),
            (&[0x18, 0x18], "unknown-field"),
        ] {
            let mut seen = 0;
            let mut r = Reader::new(k, 10).unwrap();
            assert_eq!(
                r.key("m", &[0, 1], &mut seen).map_err(|e| e.code()),
                Err(code),
                "{k:02x?}"
            );
        }
    }
}
