//! The objects a log kept in object storage holds besides its C2SP layout
//! (`spec/server.md` §5a): the sequencer **state** (`private/sequencer`)
//! and a batch's **staging** object (`private/staging/<size>`).
//!
//! Both are read back from the store at start-up and at takeover, so they
//! are outside input: parsed strictly, size-capped, and every accepted
//! object encodes back to exactly its bytes.

use crate::limits::MAX_NOTE;

/// First line of the state object.
pub const STATE_MAGIC: &str = "tallyboard-sequencer v1";

/// Largest state object: the header lines and a checkpoint note.
pub const MAX_STATE: usize = 1024 + MAX_NOTE;

/// Largest holder name in a state object (the header lines fit in the
/// 1,024 bytes [`MAX_STATE`] allows besides the note).
pub const MAX_HOLDER: usize = 960;

/// What the sequencer state object holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRecord {
    /// Who sequences: a name the operator gave plus a random suffix (no
    /// line break, at most [`MAX_HOLDER`] bytes).
    pub holder: String,
    /// Bumped by every write of the state (commits and heartbeats), so
    /// that two writes never have the same bytes (and version).
    pub beat: u64,
    /// The signed checkpoint note (cosignatures included), byte for byte;
    /// checked against the log key by the reader, not here.
    pub note: Vec<u8>,
}

/// Why a state object was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Larger than [`MAX_STATE`].
    #[error("larger than {MAX_STATE} bytes")]
    TooLarge,
    /// A header line is missing its end, or is not UTF-8.
    #[error("truncated or not UTF-8")]
    Truncated,
    /// The first line is not [`STATE_MAGIC`].
    #[error("unknown format")]
    UnknownFormat,
    /// No `holder <name>` line, or the name is empty, too long or holds a
    /// control character.
    #[error("no holder line")]
    NoHolder,
    /// No `beat <decimal>` line (canonical decimal: no sign, no leading
    /// zero).
    #[error("no beat line")]
    NoBeat,
    /// Nothing after the header: a state always holds a checkpoint note.
    #[error("no checkpoint note")]
    NoNote,
}

impl StateRecord {
    /// The bytes of the state object.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = format!(
            "{STATE_MAGIC}\nholder {}\nbeat {}\n",
            self.holder, self.beat
        )
        .into_bytes();
        b.extend_from_slice(&self.note);
        b
    }

    /// Whether `holder` may name a holder: non-empty, at most
    /// [`MAX_HOLDER`] bytes, no control character.
    pub fn valid_holder(holder: &str) -> bool {
        !holder.is_empty() && holder.len() <= MAX_HOLDER && !holder.chars().any(char::is_control)
    }

    /// Parses a state object (at most [`MAX_STATE`] bytes).
    pub fn parse(bytes: &[u8]) -> Result<StateRecord, StateError> {
        if bytes.len() > MAX_STATE {
            return Err(StateError::TooLarge);
        }
        let mut rest = bytes;
        let mut line = || take_line(&mut rest).ok_or(StateError::Truncated);
        if line()? != STATE_MAGIC {
            return Err(StateError::UnknownFormat);
        }
        let holder = line()?
            .strip_prefix("holder ")
            .filter(|h| StateRecord::valid_holder(h))
            .ok_or(StateError::NoHolder)?
            .to_owned();
        let beat = line()?
            .strip_prefix("beat ")
            .filter(|b| canonical_decimal(b))
            .and_then(|b| b.parse().ok())
            .ok_or(StateError::NoBeat)?;
        if rest.is_empty() {
            return Err(StateError::NoNote);
        }
        Ok(StateRecord {
            holder,
            beat,
            note: rest.to_vec(),
        })
    }
}

/// Digits only, no leading zero (but `0` itself).
fn canonical_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn take_line<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let cur: &'a [u8] = rest;
    let end = cur.iter().position(|&c| c == b'\n')?;
    *rest = &cur[end + 1..];
    std::str::from_utf8(&cur[..end]).ok()
}

/// Largest entry a staging object holds (2-byte lengths).
pub const MAX_STAGED_ENTRY: usize = u16::MAX as usize;

/// Encodes the entries of a batch for its staging object: each entry as a
/// 2-byte big-endian length and its bytes. `None` if an entry is empty or
/// longer than [`MAX_STAGED_ENTRY`] bytes (the log's entries are never).
pub fn encode_staging(entries: &[&[u8]]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        let n = u16::try_from(e.len()).ok().filter(|&n| n > 0)?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(e);
    }
    Some(out)
}

/// Decodes a staging object; `None` if it is malformed (an entry cut
/// short, a lone length byte, an empty entry).
pub fn decode_staging(mut b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (len, rest) = b.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_be_bytes(*len));
        if n == 0 || rest.len() < n {
            return None;
        }
        let (e, rest) = rest.split_at(n);
        out.push(e.to_vec());
        b = rest;
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_record_round_trips_and_refuses_what_is_not_one() {
        let r = StateRecord {
            holder: "a-1#00ff".into(),
            beat: 7,
            note: b"origin\n1\nx\n\n- sig\n".to_vec(),
        };
        let b = r.to_bytes();
        assert_eq!(StateRecord::parse(&b).unwrap(), r);
        assert_eq!(
            StateRecord::parse(b"nope\n"),
            Err(StateError::UnknownFormat)
        );
        // Cut anywhere in the header: refused.
        let header = b.len() - r.note.len();
        for cut in 0..header {
            assert!(StateRecord::parse(&b[..cut]).is_err(), "cut at {cut}");
        }
        for bad in [
            "tallyboard-sequencer v1\nholder \nbeat 1\nn",
            "tallyboard-sequencer v1\nholder a\tb\nbeat 1\nn",
            "tallyboard-sequencer v1\nholder a\nbeat 01\nn",
            "tallyboard-sequencer v1\nholder a\nbeat +1\nn",
        ] {
            assert!(StateRecord::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let mut big = b.clone();
        big.resize(MAX_STATE + 1, b'x');
        assert_eq!(StateRecord::parse(&big), Err(StateError::TooLarge));
    }

    #[test]
    fn staging_round_trips_and_refuses_truncation() {
        let e: Vec<&[u8]> = vec![b"a", b"bcd"];
        let b = encode_staging(&e).unwrap();
        assert_eq!(
            decode_staging(&b).unwrap(),
            vec![b"a".to_vec(), b"bcd".to_vec()]
        );
        for cut in 1..b.len() {
            if cut != 3 {
                assert!(decode_staging(&b[..cut]).is_none(), "cut at {cut}");
            }
        }
        assert!(decode_staging(&[0, 0]).is_none());
        assert!(encode_staging(&[b""]).is_none());
        assert_eq!(decode_staging(&[]).unwrap(), Vec::<Vec<u8>>::new());
    }
}
