//! C2SP tlog-witness: the bodies of `POST <prefix>/add-checkpoint`.
//!
//! Request (client to witness), every line ending in a newline:
//!
//! ```text
//! old <size of the checkpoint the witness last cosigned, decimal, no leading zeros>
//! <base64 consistency proof hash>        (0 to 63 lines)
//!
//! <signed checkpoint note>
//! ```
//!
//! Success response: one or more note signature lines (the witness's
//! cosignatures). `409 Conflict` response (`Content-Type:
//! text/x.tlog.size`): the size the witness holds, decimal, and a newline.
//!
//! Parsing is strict and canonical: a body that parses re-encodes to the
//! same bytes. Size caps ([`MAX_ADD_CHECKPOINT_REQUEST`],
//! [`MAX_ADD_CHECKPOINT_RESPONSE`]) are checked first. `spec/witness.md` is
//! the normative text; this module checks only the encoding (the witness
//! decides what to cosign).

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::Hash;
use crate::limits::{
    MAX_ADD_CHECKPOINT_PROOF_LINES, MAX_ADD_CHECKPOINT_REQUEST, MAX_ADD_CHECKPOINT_RESPONSE,
    MAX_NOTE_SIGNATURES,
};
use crate::note::{self, Note, NoteError, NoteSignature};

/// Media type of a `409 Conflict` body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Errors from parsing or writing `add-checkpoint` bodies.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum WitnessWireError {
    /// The body is larger than its cap.
    #[error("body larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// The body is not valid UTF-8.
    #[error("body is not valid UTF-8")]
    NotUtf8,
    /// The first line is not `old <decimal size>`.
    #[error("first line must be \"old <size>\" (decimal, no leading zeros)")]
    BadOldLine,
    /// A consistency proof line is not canonical base64 of a 32-byte hash.
    #[error("consistency proof line {line} is not canonical base64 of a 32-byte hash")]
    BadProofLine {
        /// 1-based line number in the body.
        line: usize,
    },
    /// More than 63 consistency proof lines.
    #[error("more than {MAX_ADD_CHECKPOINT_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    /// No empty line before the checkpoint.
    #[error("no empty line between the proof and the checkpoint")]
    MissingBlankLine,
    /// The checkpoint part is not a signed note.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The note's text is not a checkpoint.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A response must carry at least one signature line.
    #[error("response has no cosignature lines")]
    NoSignatures,
    /// A response line is not a note signature line.
    #[error("response line {line} is not a note signature line: {source}")]
    BadSignatureLine {
        /// 1-based line number.
        line: usize,
        /// Why.
        #[source]
        source: NoteError,
    },
    /// More than [`MAX_NOTE_SIGNATURES`] lines in a response.
    #[error("more than {MAX_NOTE_SIGNATURES} cosignature lines")]
    TooManySignatures,
    /// A size body is not a decimal size and a newline.
    #[error("size body must be a decimal size (no leading zeros) and a newline")]
    BadSizeBody,
}

impl WitnessWireError {
    /// A stable, kebab-case code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessWireError::TooLarge { .. } => "too-large",
            WitnessWireError::NotUtf8 => "not-utf8",
            WitnessWireError::BadOldLine => "bad-old-line",
            WitnessWireError::BadProofLine { .. } => "bad-proof-line",
            WitnessWireError::TooManyProofLines => "too-many-proof-lines",
            WitnessWireError::MissingBlankLine => "missing-blank-line",
            WitnessWireError::Note(e) => e.code(),
            WitnessWireError::Checkpoint(e) => e.code(),
            WitnessWireError::NoSignatures => "no-signatures",
            WitnessWireError::BadSignatureLine { .. } => "bad-signature-line",
            WitnessWireError::TooManySignatures => "too-many-signatures",
            WitnessWireError::BadSizeBody => "bad-size-body",
        }
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// An `add-checkpoint` request: the size the client believes the witness
/// holds, a consistency proof from it, and the signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// Size of the checkpoint the witness last cosigned (0 if none).
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// Parses a request body of at most [`MAX_ADD_CHECKPOINT_REQUEST`]
    /// bytes. The checkpoint must be a well-formed signed note whose text is
    /// a checkpoint (no signature is checked here).
    pub fn parse(bytes: &[u8]) -> Result<AddCheckpointRequest, WitnessWireError> {
        if bytes.len() > MAX_ADD_CHECKPOINT_REQUEST {
            return Err(WitnessWireError::TooLarge {
                max: MAX_ADD_CHECKPOINT_REQUEST,
            });
        }
        let s = core::str::from_utf8(bytes).map_err(|_| WitnessWireError::NotUtf8)?;
        let (first, mut rest) = s.split_once('\n').ok_or(WitnessWireError::BadOldLine)?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(WitnessWireError::BadOldLine)?;
        let mut proof = Vec::new();
        let mut line_no = 1;
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or(WitnessWireError::MissingBlankLine)?;
            line_no += 1;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_ADD_CHECKPOINT_PROOF_LINES {
                return Err(WitnessWireError::TooManyProofLines);
            }
            let h = note::b64_decode_canonical(line)
                .and_then(|b| Hash::from_slice(&b))
                .ok_or(WitnessWireError::BadProofLine { line: line_no })?;
            proof.push(h);
        }
        let n = Note::parse(rest.as_bytes())?;
        Checkpoint::parse(n.text())?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint: rest.as_bytes().to_vec(),
        })
    }

    /// The request body. Fails if the proof has more than 63 hashes, the
    /// checkpoint is not a signed checkpoint note, or the body would exceed
    /// [`MAX_ADD_CHECKPOINT_REQUEST`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, WitnessWireError> {
        if self.proof.len() > MAX_ADD_CHECKPOINT_PROOF_LINES {
            return Err(WitnessWireError::TooManyProofLines);
        }
        let n = Note::parse(&self.checkpoint)?;
        Checkpoint::parse(n.text())?;
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(note::b64_encode(h.as_bytes()).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint);
        if out.len() > MAX_ADD_CHECKPOINT_REQUEST {
            return Err(WitnessWireError::TooLarge {
                max: MAX_ADD_CHECKPOINT_REQUEST,
            });
        }
        Ok(out)
    }
}

/// The success response body: each cosignature as a note signature line.
pub fn write_cosignature_response(sigs: &[NoteSignature]) -> Result<Vec<u8>, WitnessWireError> {
    if sigs.is_empty() {
        return Err(WitnessWireError::NoSignatures);
    }
    if sigs.len() > MAX_NOTE_SIGNATURES {
        return Err(WitnessWireError::TooManySignatures);
    }
    let mut out = Vec::new();
    for s in sigs {
        out.extend_from_slice(s.to_line().as_bytes());
    }
    if out.len() > MAX_ADD_CHECKPOINT_RESPONSE {
        return Err(WitnessWireError::TooLarge {
            max: MAX_ADD_CHECKPOINT_RESPONSE,
        });
    }
    Ok(out)
}

/// Parses a success response body of at most [`MAX_ADD_CHECKPOINT_RESPONSE`]
/// bytes: one or more signature lines, each ending in a newline. No
/// signature is checked (verify each against the witness keys you trust,
/// e.g. with [`crate::cosignature::verify`], ignoring unknown ones).
pub fn parse_cosignature_response(bytes: &[u8]) -> Result<Vec<NoteSignature>, WitnessWireError> {
    if bytes.len() > MAX_ADD_CHECKPOINT_RESPONSE {
        return Err(WitnessWireError::TooLarge {
            max: MAX_ADD_CHECKPOINT_RESPONSE,
        });
    }
    let s = core::str::from_utf8(bytes).map_err(|_| WitnessWireError::NotUtf8)?;
    if s.is_empty() {
        return Err(WitnessWireError::NoSignatures);
    }
    let body = s
        .strip_suffix('\n')
        .ok_or(WitnessWireError::BadSignatureLine {
            line: s.split('\n').count(),
            source: NoteError::MissingFinalNewline,
        })?;
    let mut out = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        if out.len() == MAX_NOTE_SIGNATURES {
            return Err(WitnessWireError::TooManySignatures);
        }
        if line.bytes().any(|b| b < 0x20) {
            return Err(WitnessWireError::BadSignatureLine {
                line: i + 1,
                source: NoteError::ControlCharacter,
            });
        }
        let sig = NoteSignature::parse_line(line).map_err(|source| {
            WitnessWireError::BadSignatureLine {
                line: i + 1,
                source,
            }
        })?;
        out.push(sig);
    }
    Ok(out)
}

/// The `409 Conflict` body: `<size>\n`.
pub fn write_size_body(size: u64) -> String {
    format!("{size}\n")
}

/// Parses a `409 Conflict` body (at most 21 digits and a newline).
pub fn parse_size_body(bytes: &[u8]) -> Result<u64, WitnessWireError> {
    if bytes.len() > 22 {
        return Err(WitnessWireError::BadSizeBody);
    }
    core::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(parse_decimal)
        .ok_or(WitnessWireError::BadSizeBody)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::cosignature;
    use crate::keys::SecretKey;
    use crate::note::{KeyKind, SignerKey};

    fn log_note(size: u64) -> Vec<u8> {
        let k = SignerKey::new(
            "example.com/log",
            KeyKind::Ed25519,
            SecretKey::from_seed(&[5; 32]),
        )
        .unwrap();
        sign_checkpoint(
            &Checkpoint::new("example.com/log", size, Hash::sha256(b"r")),
            &k,
        )
        .unwrap()
    }

    #[test]
    fn request_round_trips_and_matches_the_spec_layout() {
        let req = AddCheckpointRequest {
            old_size: 20852014,
            proof: vec![Hash::sha256(b"a"), Hash::sha256(b"b")],
            checkpoint: log_note(20852163),
        };
        let bytes = req.to_bytes().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let expected = format!(
            "old 20852014\n{}\n{}\n\n",
            note::b64_encode(Hash::sha256(b"a").as_bytes()),
            note::b64_encode(Hash::sha256(b"b").as_bytes())
        );
        assert!(text.starts_with(&expected), "{text}");
        assert!(text.ends_with(core::str::from_utf8(&log_note(20852163)).unwrap()));
        assert_eq!(AddCheckpointRequest::parse(&bytes).unwrap(), req);
        let empty = AddCheckpointRequest {
            old_size: 0,
            proof: vec![],
            checkpoint: log_note(3),
        };
        let b = empty.to_bytes().unwrap();
        assert!(b.starts_with(b"old 0\n\nexample.com/log\n3\n"));
        assert_eq!(AddCheckpointRequest::parse(&b).unwrap(), empty);
    }

    #[test]
    fn request_rejects_non_canonical_bodies() {
        let cp = String::from_utf8(log_note(3)).unwrap();
        let h = note::b64_encode(Hash::sha256(b"a").as_bytes());
        let cases: Vec<(String, &str)> = vec![
            (format!("old 01\n\n{cp}"), "bad-old-line"),
            (format!("old  1\n\n{cp}"), "bad-old-line"),
            (format!("old -1\n\n{cp}"), "bad-old-line"),
            (format!("Old 1\n\n{cp}"), "bad-old-line"),
            (format!("old 18446744073709551616\n\n{cp}"), "bad-old-line"),
            (format!("old 1\n{h} \n\n{cp}"), "bad-proof-line"),
            (format!("old 1\n{}\n\n{cp}", &h[..43]), "bad-proof-line"),
            (format!("old 1\n{h}\n{cp}"), "bad-proof-line"),
            (format!("old 1\n{h}"), "missing-blank-line"),
            (
                format!("old 1\n\n{}", &cp[..cp.len() - 1]),
                "missing-final-newline",
            ),
            (
                "old 1\n\nexample.com/log\n3\n\n\u{2014} x AAAAAAA=\n".to_owned(),
                "missing-lines",
            ),
            (
                "old 1\n\nexample.com/log\n3\nAAAA\n\n\u{2014} x AAAAAAA=\n".to_owned(),
                "bad-root-hash",
            ),
            (
                format!("old 1\n{}\n{cp}", vec![h.as_str(); 64].join("\n") + "\n"),
                "too-many-proof-lines",
            ),
        ];
        for (body, code) in cases {
            let e = AddCheckpointRequest::parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), code, "{body:?}: {e}");
        }
        let sixty_three = format!("old 1\n{}\n{cp}", vec![h.as_str(); 63].join("\n") + "\n");
        assert_eq!(
            AddCheckpointRequest::parse(sixty_three.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
        let big = vec![b'a'; MAX_ADD_CHECKPOINT_REQUEST + 1];
        assert_eq!(
            AddCheckpointRequest::parse(&big).unwrap_err().code(),
            "too-large"
        );
    }

    #[test]
    fn response_and_size_bodies() {
        let w = SignerKey::new(
            "witness.example/w1",
            KeyKind::CosignatureV1,
            SecretKey::from_seed(&[7; 32]),
        )
        .unwrap();
        let text = "example.com/log\n3\nAAAA\n";
        let line = cosignature::cosign(text, &w, 1_700_000_000).unwrap();
        let body = write_cosignature_response(std::slice::from_ref(&line)).unwrap();
        assert_eq!(body, line.to_line().into_bytes());
        assert_eq!(parse_cosignature_response(&body).unwrap(), vec![line]);
        for bad in [
            &b""[..],
            b"\n",
            b"\xe2\x80\x94 w AAAAAAA=",
            b"\xe2\x80\x94 w AAAAAAA=\n\n",
            b"- w AAAAAAA=\n",
        ] {
            assert!(parse_cosignature_response(bad).is_err(), "{bad:?}");
        }
        assert_eq!(write_size_body(42), "42\n");
        assert_eq!(parse_size_body(b"42\n"), Ok(42));
        assert_eq!(parse_size_body(b"0\n"), Ok(0));
        for bad in [&b"042\n"[..], b"42", b"", b"\n", b"4 2\n", b"42\n\n"] {
            assert_eq!(parse_size_body(bad), Err(WitnessWireError::BadSizeBody));
        }
    }
}
