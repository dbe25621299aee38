//! C2SP tlog-checkpoint: the signed tree head of the log, as a signed note.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeros>\n
//! <base64 of the 32-byte RFC 6962 root hash>\n
//! [<extension line>\n]*
//! ```
//!
//! The log signs the text with a plain Ed25519 note key whose name is the
//! origin; witnesses add `cosignature/v1` lines ([`crate::cosignature`]).
//! [`open_checkpoint`] checks both and a witness quorum.

use crate::cosignature::{self, CosignatureError};
use crate::hash::Hash;
use crate::limits::MAX_NOTE;
use crate::note::{self, KeyKind, Note, NoteError, SignerKey, VerifierKey};

/// Errors from parsing, signing or opening a checkpoint.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note itself is invalid or its signatures fail.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The text has fewer than three lines or does not end with a newline.
    #[error("checkpoint text must have origin, size and root lines")]
    MissingLines,
    /// The origin line is empty.
    #[error("empty origin line")]
    EmptyOrigin,
    /// The origin contains a control character.
    #[error("origin contains a control character")]
    BadOrigin,
    /// The size line is not a decimal u64 without leading zeros.
    #[error("tree size is not a decimal number without leading zeros")]
    BadSize,
    /// The root line is not canonical base64 of exactly 32 bytes.
    #[error("root hash is not canonical base64 of 32 bytes")]
    BadRootHash,
    /// An extension line is empty or contains a control character.
    #[error("empty or malformed extension line")]
    BadExtension,
    /// The log key is not a plain Ed25519 (type 0x01) key.
    #[error("log key must be an Ed25519 note key")]
    WrongLogKeyKind,
    /// A witness key is not a `cosignature/v1` (type 0x04) key.
    #[error("witness keys must be cosignature/v1 keys")]
    WrongWitnessKeyKind,
    /// The log key's name is not the checkpoint origin.
    #[error("checkpoint origin {origin:?} is not the log key name")]
    OriginMismatch {
        /// Origin in the checkpoint.
        origin: String,
    },
    /// The log's own signature is missing.
    #[error("checkpoint not signed by the log key")]
    MissingLogSignature,
    /// Fewer valid witness cosignatures than the quorum.
    #[error("witness quorum not met: {have} of {need}")]
    QuorumNotMet {
        /// Valid cosignatures from distinct configured witnesses.
        have: usize,
        /// Quorum required.
        need: usize,
    },
    /// Making a cosignature failed.
    #[error("cosignature: {0}")]
    Cosignature(#[from] CosignatureError),
}

impl CheckpointError {
    /// A stable, kebab-case code for the error (test vectors, JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::Note(e) => e.code(),
            CheckpointError::MissingLines => "missing-lines",
            CheckpointError::EmptyOrigin => "empty-origin",
            CheckpointError::BadOrigin => "bad-origin",
            CheckpointError::BadSize => "bad-size",
            CheckpointError::BadRootHash => "bad-root-hash",
            CheckpointError::BadExtension => "bad-extension",
            CheckpointError::WrongLogKeyKind => "wrong-log-key-kind",
            CheckpointError::WrongWitnessKeyKind => "wrong-witness-key-kind",
            CheckpointError::OriginMismatch { .. } => "origin-mismatch",
            CheckpointError::MissingLogSignature => "missing-log-signature",
            CheckpointError::QuorumNotMet { .. } => "quorum-not-met",
            CheckpointError::Cosignature(_) => "cosignature",
        }
    }
}

/// A checkpoint body: origin, tree size, root hash, extension lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// Log identity (first line). Non-empty, no newline.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Opaque extension lines (each non-empty), usually none.
    pub extensions: Vec<String>,
}

fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(CheckpointError::BadSize);
    }
    s.parse::<u64>().map_err(|_| CheckpointError::BadSize)
}

fn check_line(s: &str) -> bool {
    !s.is_empty() && !s.bytes().any(|b| b < 0x20)
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses the note text of a checkpoint (with its final newline), at
    /// most [`MAX_NOTE`] bytes.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_NOTE {
            return Err(CheckpointError::Note(NoteError::TooLarge));
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingLines)?;
        let mut lines = body.split('\n');
        let origin = lines.next().ok_or(CheckpointError::MissingLines)?;
        let size = lines.next().ok_or(CheckpointError::MissingLines)?;
        let root = lines.next().ok_or(CheckpointError::MissingLines)?;
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if !check_line(origin) {
            return Err(CheckpointError::BadOrigin);
        }
        let size = parse_size(size)?;
        let root = note::b64_decode_canonical(root)
            .and_then(|r| Hash::from_slice(&r))
            .ok_or(CheckpointError::BadRootHash)?;
        let mut extensions = Vec::new();
        for l in lines {
            if !check_line(l) {
                return Err(CheckpointError::BadExtension);
            }
            extensions.push(l.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The note text. Fails if the origin or an extension line is empty or
    /// contains a control character (newline included).
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if !check_line(&self.origin) {
            return Err(CheckpointError::BadOrigin);
        }
        if !self.extensions.iter().all(|e| check_line(e)) {
            return Err(CheckpointError::BadExtension);
        }
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            note::b64_encode(self.root.as_bytes())
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        Ok(s)
    }
}

/// Signs `cp` with the log key (a [`KeyKind::Ed25519`] key whose name must
/// be the origin) and returns the signed note bytes.
pub fn sign_checkpoint(cp: &Checkpoint, log_key: &SignerKey) -> Result<Vec<u8>, CheckpointError> {
    if log_key.kind() != KeyKind::Ed25519 {
        return Err(CheckpointError::WrongLogKeyKind);
    }
    if log_key.name() != cp.origin {
        return Err(CheckpointError::OriginMismatch {
            origin: cp.origin.clone(),
        });
    }
    let text = cp.to_text()?;
    Ok(note::sign(&text, &[log_key])?)
}

/// Adds (or replaces) the `cosignature/v1` line of `witness` at `time` on a
/// signed checkpoint note, returning the new note bytes. The note's text is
/// checked to be a checkpoint; existing signatures are kept as they are.
pub fn add_cosignature(
    note_bytes: &[u8],
    witness: &SignerKey,
    time: u64,
) -> Result<Vec<u8>, CheckpointError> {
    let mut n = Note::parse(note_bytes)?;
    Checkpoint::parse(n.text())?;
    let line = cosignature::cosign(n.text(), witness, time)?;
    n.add_signature(line)?;
    Ok(n.to_bytes()?)
}

/// A valid witness cosignature on an opened checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// Witness key name.
    pub name: String,
    /// Cosignature time (POSIX seconds).
    pub timestamp: u64,
}

/// A checkpoint signed by the log and cosigned by at least a quorum of
/// configured witnesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte as received.
    pub note: Vec<u8>,
    /// Valid cosignatures from configured witnesses, in note order.
    pub cosignatures: Vec<WitnessCosignature>,
}

/// Opens a signed checkpoint: the note must be signed by `log_key` (an
/// Ed25519 key named after the origin), every signature from a configured
/// key must verify, and at least `quorum` distinct `witnesses`
/// (`cosignature/v1` keys) must have cosigned. Unknown signatures are
/// ignored.
pub fn open_checkpoint(
    bytes: &[u8],
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
) -> Result<OpenedCheckpoint, CheckpointError> {
    if log_key.kind() != KeyKind::Ed25519 {
        return Err(CheckpointError::WrongLogKeyKind);
    }
    if witnesses.iter().any(|w| w.kind() != KeyKind::CosignatureV1) {
        return Err(CheckpointError::WrongWitnessKeyKind);
    }
    let mut keys = Vec::with_capacity(1 + witnesses.len());
    keys.push(log_key.clone());
    for w in witnesses {
        if !keys.contains(w) {
            keys.push(w.clone());
        }
    }
    let verified = match note::open(bytes, &keys) {
        Ok(v) => v,
        Err(NoteError::NoKnownSignature) => return Err(CheckpointError::MissingLogSignature),
        Err(e) => return Err(e.into()),
    };
    let checkpoint = Checkpoint::parse(verified.text())?;
    if checkpoint.origin != log_key.name() {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
        });
    }
    if !verified.is_signed_by(0) {
        return Err(CheckpointError::MissingLogSignature);
    }
    let cosignatures: Vec<WitnessCosignature> = verified
        .signed_by
        .iter()
        .filter(|s| s.verifier != 0)
        .filter_map(|s| {
            s.timestamp.map(|t| WitnessCosignature {
                name: s.name.clone(),
                timestamp: t,
            })
        })
        .collect();
    if cosignatures.len() < quorum {
        return Err(CheckpointError::QuorumNotMet {
            have: cosignatures.len(),
            need: quorum,
        });
    }
    Ok(OpenedCheckpoint {
        checkpoint,
        note: bytes.to_vec(),
        cosignatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        let cp = Checkpoint::new("example.com/log", 20852163, Hash::sha256(b"x"));
        let text = cp.to_text().unwrap();
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }

    #[test]
    fn rejects_leading_zero_and_empty_size() {
        let root = note::b64_encode(&[0u8; 32]);
        for size in ["01", "", "+1", "-1", "18446744073709551616", " 1"] {
            assert_eq!(
                Checkpoint::parse(&format!("o\n{size}\n{root}\n")),
                Err(CheckpointError::BadSize),
                "{size:?}"
            );
        }
        assert!(Checkpoint::parse(&format!("o\n0\n{root}\n")).is_ok());
    }

    #[test]
    fn rejects_short_root_and_empty_extension() {
        let short = note::b64_encode(&[0u8; 31]);
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{short}\n")),
            Err(CheckpointError::BadRootHash)
        );
        let root = note::b64_encode(&[0u8; 32]);
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{root}\n\nx\n")),
            Err(CheckpointError::BadExtension)
        );
        assert_eq!(
            Checkpoint::parse("o\n1\n"),
            Err(CheckpointError::MissingLines)
        );
    }
}
