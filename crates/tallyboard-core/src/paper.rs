//! The paper channel's QR payload: a signed tally's exact bytes framed into
//! numbered parts, one per QR code, that a scanner reassembles and checks
//! (`spec/paper.md`).
//!
//! One part is text in the QR alphanumeric character set:
//!
//! ```text
//! TBT1:<index>/<count>:<LEAF HASH, 64 upper-case hex>:<base45 of the part's bytes>
//! ```
//!
//! The leaf hash (RFC 6962, of the whole signed tally) names the tally every
//! part belongs to and checks the reassembled bytes. Base45 (RFC 9285) packs
//! two bytes into three alphanumeric characters, so a code carries as much
//! as in byte mode while every phone scanner reads it as plain text.
//!
//! No I/O: the caller gives the decoded texts of the codes it found.

use std::collections::BTreeMap;

use crate::hash::{Hash, leaf_hash};
use crate::limits::{MAX_PAPER_PART_TEXT, MAX_PAPER_PARTS, MAX_SIGNED_TALLY};

/// The text every part starts with: format name and version.
pub const PREFIX: &str = "TBT1:";

/// Most bytes of the signed tally one part carries when this crate splits
/// it: 200 bytes are 300 base45 characters, with the header about 375
/// characters, a version 12 code at error-correction level M.
pub const PART_BYTES: usize = 200;

/// The 45 characters of base45 (RFC 9285 §4), in value order.
const BASE45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a part or a set of parts is refused. Each names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaperError {
    /// The text does not start with [`PREFIX`]: not a tallyboard code.
    #[error("not a tallyboard sheet code (it does not start with {PREFIX})")]
    NotAPart,
    /// The text is longer than [`MAX_PAPER_PART_TEXT`].
    #[error("the code's text is {len} characters; at most {max} are accepted")]
    PartTooLong {
        /// Characters in the text.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The `index/count` or hash fields are malformed.
    #[error("malformed code header: {0}")]
    BadHeader(&'static str),
    /// The data is not canonical base45.
    #[error("the code's data is not base45: {0}")]
    BadBase45(&'static str),
    /// No parts were given.
    #[error("no tallyboard sheet code was found")]
    NoParts,
    /// Parts of two different signed tallies were given as one sheet.
    #[error(
        "codes of two different tallies were given as one sheet (fingerprints {first} and {second})"
    )]
    MixedTallies {
        /// Fingerprint of the first tally seen.
        first: String,
        /// Fingerprint of another one.
        second: String,
    },
    /// Two parts of one tally disagree on the number of parts.
    #[error("the codes disagree on the number of parts ({first} and {second})")]
    CountDiffers {
        /// The count of the first part seen.
        first: u32,
        /// Another count.
        second: u32,
    },
    /// The same part number was read twice with different data.
    #[error("part {index} was read twice with different data")]
    ConflictingDuplicate {
        /// The part number.
        index: u32,
    },
    /// Some parts are missing.
    #[error("part{} {} of {count} missing", if missing.len() == 1 { "" } else { "s" }, list(missing))]
    MissingParts {
        /// The missing part numbers, ascending.
        missing: Vec<u32>,
        /// How many parts the tally has.
        count: u32,
    },
    /// The reassembled bytes exceed [`MAX_SIGNED_TALLY`].
    #[error("the reassembled tally is larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// The reassembled bytes do not have the leaf hash the parts name.
    #[error("the reassembled bytes do not have the fingerprint the codes name ({named})")]
    HashMismatch {
        /// The fingerprint the codes name.
        named: String,
    },
}

fn list(v: &[u32]) -> String {
    let s: Vec<String> = v.iter().map(u32::to_string).collect();
    s.join(", ")
}

impl PaperError {
    /// Stable kebab-case code of the error (`spec/paper.md`).
    pub fn code(&self) -> &'static str {
        match self {
            PaperError::NotAPart => "not-a-sheet-code",
            PaperError::PartTooLong { .. } => "code-too-long",
            PaperError::BadHeader(_) => "bad-code-header",
            PaperError::BadBase45(_) => "bad-base45",
            PaperError::NoParts => "no-sheet-code",
            PaperError::MixedTallies { .. } => "mixed-tallies",
            PaperError::CountDiffers { .. } => "part-count-differs",
            PaperError::ConflictingDuplicate { .. } => "conflicting-duplicate",
            PaperError::MissingParts { .. } => "missing-parts",
            PaperError::TooLarge { .. } => "oversized",
            PaperError::HashMismatch { .. } => "fingerprint-mismatch",
        }
    }
}

/// One decoded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based part number.
    pub index: u32,
    /// How many parts the tally has.
    pub count: u32,
    /// The leaf hash of the whole signed tally.
    pub leaf: Hash,
    /// This part's bytes of the signed tally.
    pub data: Vec<u8>,
}

impl Part {
    /// The part's text, as its QR code carries it.
    pub fn to_text(&self) -> String {
        format!(
            "{PREFIX}{}/{}:{}:{}",
            self.index,
            self.count,
            self.leaf.to_hex().to_ascii_uppercase(),
            base45_encode(&self.data)
        )
    }

    /// Parses one part's text (exactly the code's text: no surrounding
    /// white space). Size-capped before any work.
    pub fn parse(text: &str) -> Result<Part, PaperError> {
        if text.len() > MAX_PAPER_PART_TEXT {
            return Err(PaperError::PartTooLong {
                len: text.len(),
                max: MAX_PAPER_PART_TEXT,
            });
        }
        let rest = text.strip_prefix(PREFIX).ok_or(PaperError::NotAPart)?;
        let (numbers, rest) = rest
            .split_once(':')
            .ok_or(PaperError::BadHeader("no ':' after the part number"))?;
        let (index, count) = numbers.split_once('/').ok_or(PaperError::BadHeader(
            "the part number is not <index>/<count>",
        ))?;
        let index = number(index)?;
        let count = number(count)?;
        if count as usize > MAX_PAPER_PARTS {
            return Err(PaperError::BadHeader("more parts than allowed"));
        }
        if index == 0 || index > count {
            return Err(PaperError::BadHeader("the part index is not in 1..=count"));
        }
        let (hash, data) = rest
            .split_once(':')
            .ok_or(PaperError::BadHeader("no ':' after the fingerprint"))?;
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        {
            return Err(PaperError::BadHeader(
                "the fingerprint is not 64 upper-case hex digits",
            ));
        }
        let leaf = Hash::from_hex(hash).ok_or(PaperError::BadHeader("bad fingerprint"))?;
        let data = base45_decode(data)?;
        if data.is_empty() {
            return Err(PaperError::BadBase45("the part carries no data"));
        }
        Ok(Part {
            index,
            count,
            leaf,
            data,
        })
    }
}

/// A decimal part number: digits only, no leading zero, fits in 32 bits.
fn number(s: &str) -> Result<u32, PaperError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(PaperError::BadHeader(
            "a part number is not a decimal number without leading zeros",
        ));
    }
    s.parse()
        .map_err(|_| PaperError::BadHeader("a part number is too large"))
}

/// Splits a signed tally's bytes into the parts of its sheet
/// (`spec/paper.md` §2): `ceil(len / PART_BYTES)` parts, each but the last
/// carrying `ceil(len / count)` bytes. Empty input gives no parts.
pub fn split(entry: &[u8]) -> Vec<Part> {
    if entry.is_empty() {
        return Vec::new();
    }
    let count = entry.len().div_ceil(PART_BYTES);
    let size = entry.len().div_ceil(count);
    let leaf = leaf_hash(entry);
    let count32 = u32::try_from(count).unwrap_or(u32::MAX);
    entry
        .chunks(size)
        .zip(1u32..)
        .map(|(data, index)| Part {
            index,
            count: count32,
            leaf,
            data: data.to_vec(),
        })
        .collect()
}

/// The texts of [`split`]'s parts, one per QR code.
pub fn encode(entry: &[u8]) -> Vec<String> {
    split(entry).iter().map(Part::to_text).collect()
}

/// Reassembles one sheet from the texts of the codes read off it, in any
/// order, possibly with repeats (a scanner often reads a code twice).
/// Texts that are not tallyboard codes are an error; so are parts of two
/// tallies, two counts, differing repeats, missing parts, and bytes whose
/// leaf hash is not the one the parts name. Returns the signed tally's bytes
/// (not yet parsed or verified).
pub fn reassemble<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Vec<u8>, PaperError> {
    let mut parts = Vec::new();
    for t in texts {
        parts.push(Part::parse(t)?);
        if parts.len() > MAX_PAPER_PARTS * 4 {
            return Err(PaperError::BadHeader("too many codes for one sheet"));
        }
    }
    reassemble_parts(parts)
}

/// [`reassemble`] for parsed parts.
pub fn reassemble_parts(parts: Vec<Part>) -> Result<Vec<u8>, PaperError> {
    let first = parts.first().ok_or(PaperError::NoParts)?;
    let (leaf, count) = (first.leaf, first.count);
    let mut by_index: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for p in parts {
        if p.leaf != leaf {
            return Err(PaperError::MixedTallies {
                first: fingerprint(&leaf),
                second: fingerprint(&p.leaf),
            });
        }
        if p.count != count {
            return Err(PaperError::CountDiffers {
                first: count,
                second: p.count,
            });
        }
        match by_index.get(&p.index) {
            Some(d) if *d != p.data => {
                return Err(PaperError::ConflictingDuplicate { index: p.index });
            }
            Some(_) => {}
            None => {
                by_index.insert(p.index, p.data);
            }
        }
    }
    let missing: Vec<u32> = (1..=count).filter(|i| !by_index.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(PaperError::MissingParts { missing, count });
    }
    let total: usize = by_index.values().map(Vec::len).sum();
    if total > MAX_SIGNED_TALLY {
        return Err(PaperError::TooLarge {
            max: MAX_SIGNED_TALLY,
        });
    }
    let bytes: Vec<u8> = by_index.into_values().flatten().collect();
    if leaf_hash(&bytes) != leaf {
        return Err(PaperError::HashMismatch {
            named: fingerprint(&leaf),
        });
    }
    Ok(bytes)
}

/// The short fingerprint printed on a sheet: the first 16 hex digits of the
/// leaf hash, upper case, in four groups of four (`3F2A 91C0 ...`).
pub fn fingerprint(leaf: &Hash) -> String {
    let hex = leaf.to_hex().to_ascii_uppercase();
    let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    groups.join(" ")
}

/// Base45 (RFC 9285) of `data`.
pub fn base45_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(2) * 3);
    for pair in data.chunks(2) {
        let (n, digits) = match pair {
            [a, b] => (u32::from(*a) * 256 + u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => (0, 0),
        };
        let mut n = n;
        for _ in 0..digits {
            out.push(char::from(BASE45[(n % 45) as usize]));
            n /= 45;
        }
    }
    out
}

/// Decodes canonical base45 (RFC 9285): characters of the alphabet only, a
/// length that is not 1 modulo 3, every group within its byte range.
pub fn base45_decode(text: &str) -> Result<Vec<u8>, PaperError> {
    let values: Vec<u32> = text
        .bytes()
        .map(|c| {
            BASE45
                .iter()
                .position(|&a| a == c)
                .map(|v| v as u32)
                .ok_or(PaperError::BadBase45(
                    "a character outside the base45 alphabet",
                ))
        })
        .collect::<Result<_, _>>()?;
    if values.len() % 3 == 1 {
        return Err(PaperError::BadBase45(
            "its length leaves one character over",
        ));
    }
    let mut out = Vec::with_capacity(values.len() / 3 * 2 + 1);
    for group in values.chunks(3) {
        match group {
            [c, d, e] => {
                let n = c + d * 45 + e * 45 * 45;
                let n = u16::try_from(n)
                    .map_err(|_| PaperError::BadBase45("a group of three exceeds two bytes"))?;
                out.extend_from_slice(&n.to_be_bytes());
            }
            [c, d] => {
                let n = u8::try_from(c + d * 45)
                    .map_err(|_| PaperError::BadBase45("a final pair exceeds one byte"))?;
                out.push(n);
            }
            _ => {
                return Err(PaperError::BadBase45(
                    "its length leaves one character over",
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base45_matches_rfc_9285_examples() {
        assert_eq!(base45_encode(b"AB"), "BB8");
        assert_eq!(base45_encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45_encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45_decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(base45_decode("GGW").unwrap_err().code(), "bad-base45");
        assert!(base45_decode("ZZ").is_err());
        assert!(base45_decode("A").is_err());
        assert!(base45_decode("ab").is_err());
    }

    #[test]
    fn split_and_reassemble_in_any_order_with_repeats() {
        for len in [1usize, 2, 199, 200, 201, 401, 1000] {
            let entry: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut texts = encode(&entry);
            assert_eq!(texts.len(), len.div_ceil(PART_BYTES));
            texts.reverse();
            let first = texts[0].clone();
            texts.push(first);
            let got = reassemble(texts.iter().map(String::as_str)).unwrap();
            assert_eq!(got, entry);
        }
    }

    #[test]
    fn refuses_mixed_missing_and_conflicting_parts() {
        let a: Vec<u8> = vec![1; 450];
        let b: Vec<u8> = vec![2; 450];
        let ta = encode(&a);
        let tb = encode(&b);
        let e = reassemble([ta[0].as_str(), tb[1].as_str()]).unwrap_err();
        assert_eq!(e.code(), "mixed-tallies");
        let e = reassemble([ta[0].as_str()]).unwrap_err();
        assert_eq!(e.to_string(), "parts 2, 3 of 3 missing");
        let mut p = Part::parse(&ta[1]).unwrap();
        p.data[0] ^= 1;
        let e = reassemble([ta[1].as_str(), p.to_text().as_str()]).unwrap_err();
        assert_eq!(e.code(), "conflicting-duplicate");
        let e = reassemble([ta[0].as_str(), p.to_text().as_str(), ta[2].as_str()]).unwrap_err();
        assert_eq!(e.code(), "fingerprint-mismatch");
        assert_eq!(reassemble([]).unwrap_err().code(), "no-sheet-code");
        assert_eq!(
            reassemble(["https://example.invalid"]).unwrap_err().code(),
            "not-a-sheet-code"
        );
    }

    #[test]
    fn fingerprint_is_four_groups() {
        let h = Hash([0xab; 32]);
        assert_eq!(fingerprint(&h), "ABAB ABAB ABAB ABAB");
    }
}
