//! Submission receipts in the C2SP tlog-proof form (`c2sp.org/tlog-proof@v1`).
//!
//! The publication server answers an accepted submission with a receipt: the
//! entry's leaf index, the RFC 6962 inclusion proof, and a signed checkpoint
//! whose tree contains the entry. The holder of the entry bytes (the signed
//! tally) can check it offline with the log's verifier key alone:
//!
//! ```text
//! c2sp.org/tlog-proof@v1\n
//! [extra <canonical base64 of non-empty opaque data>\n]
//! index <decimal, no leading zeros>\n
//! [<canonical base64 of a 32-byte proof hash>\n]*     (leaf's sibling first)
//! \n
//! <signed checkpoint note, verbatim>
//! ```
//!
//! `spec/notes-and-checkpoints.md` ("Receipts") is the normative text.
//! [`Receipt::parse`] is strict: there is exactly one byte string for each
//! receipt, and [`Receipt::to_bytes`] produces it.

use crate::checkpoint::{self, Checkpoint, CheckpointError, OpenedCheckpoint};
use crate::hash::{Hash, leaf_hash};
use crate::limits::{MAX_PROOF_HASHES, MAX_RECEIPT};
use crate::merkle::{self, ProofError};
use crate::note::{self, Note, VerifierKey};

/// The first line of every receipt (without its newline).
pub const RECEIPT_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Errors from parsing or verifying a receipt.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The receipt is longer than [`MAX_RECEIPT`] bytes.
    #[error("receipt larger than {MAX_RECEIPT} bytes")]
    TooLarge,
    /// The first line is not exactly `c2sp.org/tlog-proof@v1`.
    #[error("first line is not {RECEIPT_HEADER}")]
    BadHeader,
    /// The `extra` line is empty or its data is not canonical base64.
    #[error("extra line is empty or not canonical base64")]
    BadExtra,
    /// The `index` line is missing, or its number is not a decimal u64
    /// without leading zeros.
    #[error("index line missing or not a decimal number without leading zeros")]
    BadIndex,
    /// A proof line is not the canonical base64 of exactly 32 bytes.
    #[error("proof line is not canonical base64 of a 32-byte hash")]
    BadProofHash,
    /// More than [`MAX_PROOF_HASHES`] proof lines.
    #[error("more than {MAX_PROOF_HASHES} proof hashes")]
    TooManyProofHashes,
    /// No empty line separates the proof from the checkpoint.
    #[error("no empty line before the checkpoint")]
    MissingBlankLine,
    /// The checkpoint is not a well-formed signed checkpoint note, or it does
    /// not open with the log key (and witness quorum).
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The checkpoint's origin is not the one the caller expects.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// Origin the caller expects.
        expected: String,
        /// Origin in the checkpoint.
        found: String,
    },
    /// The inclusion proof does not place the entry at the index in the
    /// checkpoint's tree.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
}

impl ReceiptError {
    /// A stable, kebab-case code for the error (test vectors, JSON reports).
    /// Checkpoint and proof failures keep the code of the underlying error.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::TooLarge => "receipt-too-large",
            ReceiptError::BadHeader => "bad-header",
            ReceiptError::BadExtra => "bad-extra",
            ReceiptError::BadIndex => "bad-index",
            ReceiptError::BadProofHash => "bad-proof-hash",
            ReceiptError::TooManyProofHashes => "too-many-proof-hashes",
            ReceiptError::MissingBlankLine => "missing-blank-line",
            ReceiptError::Checkpoint(e) => e.code(),
            ReceiptError::OriginMismatch { .. } => "origin-mismatch",
            ReceiptError::Inclusion(e) => e.code(),
        }
    }
}

/// A parsed receipt. [`Receipt::parse`] guarantees that the proof has at
/// most [`MAX_PROOF_HASHES`] hashes and that `checkpoint_note` is a
/// well-formed signed note whose text is a well-formed checkpoint; no
/// signature or proof is checked until [`Receipt::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Zero-based leaf index of the entry in the log.
    pub index: u64,
    /// Inclusion proof, from the leaf's sibling up to a child of the root.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte.
    pub checkpoint_note: Vec<u8>,
    /// Opaque, unauthenticated extra data (the tlog-proof `extra` line).
    /// tallyboard servers send none; verifiers ignore it.
    pub extra: Option<Vec<u8>>,
}

/// A receipt whose checkpoint opened with the log key and whose proof places
/// the entry at its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// Leaf index of the entry.
    pub index: u64,
    /// RFC 6962 leaf hash of the entry.
    pub leaf_hash: Hash,
    /// The opened checkpoint (origin, size, root, witness cosignatures).
    pub checkpoint: OpenedCheckpoint,
}

fn parse_index(s: &str) -> Result<u64, ReceiptError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(ReceiptError::BadIndex);
    }
    s.parse::<u64>().map_err(|_| ReceiptError::BadIndex)
}

/// Checks that `note_bytes` is a well-formed signed note carrying a
/// well-formed checkpoint (no signature is verified).
fn check_checkpoint_note(note_bytes: &[u8]) -> Result<(), ReceiptError> {
    let n = Note::parse(note_bytes).map_err(CheckpointError::from)?;
    Checkpoint::parse(n.text())?;
    Ok(())
}

impl Receipt {
    /// A receipt without extra data, checking the same rules as
    /// [`Receipt::parse`] (proof length, checkpoint note well-formed, total
    /// encoded size).
    pub fn new(
        index: u64,
        proof: Vec<Hash>,
        checkpoint_note: Vec<u8>,
    ) -> Result<Receipt, ReceiptError> {
        if proof.len() > MAX_PROOF_HASHES {
            return Err(ReceiptError::TooManyProofHashes);
        }
        check_checkpoint_note(&checkpoint_note)?;
        let r = Receipt {
            index,
            proof,
            checkpoint_note,
            extra: None,
        };
        if r.encoded_len() > MAX_RECEIPT {
            return Err(ReceiptError::TooLarge);
        }
        Ok(r)
    }

    /// Parses a receipt. Strict: at most [`MAX_RECEIPT`] bytes, only the
    /// canonical encoding (see the module documentation) is accepted, and
    /// nothing may follow the checkpoint note's last signature line.
    pub fn parse(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        if bytes.len() > MAX_RECEIPT {
            return Err(ReceiptError::TooLarge);
        }
        let mut rest = bytes;
        // Takes one line (without its newline); None if no newline is left.
        let mut next_line = || -> Option<&[u8]> {
            let nl = rest.iter().position(|&b| b == b'\n')?;
            let line = &rest[..nl];
            rest = &rest[nl + 1..];
            Some(line)
        };
        if next_line() != Some(RECEIPT_HEADER.as_bytes()) {
            return Err(ReceiptError::BadHeader);
        }
        let mut line = next_line().ok_or(ReceiptError::BadIndex)?;
        let mut extra = None;
        if let Some(data) = line.strip_prefix(b"extra ") {
            let data = core::str::from_utf8(data).map_err(|_| ReceiptError::BadExtra)?;
            let raw = note::b64_decode_canonical(data).ok_or(ReceiptError::BadExtra)?;
            if raw.is_empty() {
                return Err(ReceiptError::BadExtra);
            }
            extra = Some(raw);
            line = next_line().ok_or(ReceiptError::BadIndex)?;
        }
        let index = line
            .strip_prefix(b"index ")
            .and_then(|s| core::str::from_utf8(s).ok())
            .ok_or(ReceiptError::BadIndex)
            .and_then(parse_index)?;
        let mut proof = Vec::new();
        loop {
            let line = next_line().ok_or(ReceiptError::MissingBlankLine)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(ReceiptError::TooManyProofHashes);
            }
            let h = core::str::from_utf8(line)
                .ok()
                .and_then(note::b64_decode_canonical)
                .and_then(|raw| Hash::from_slice(&raw))
                .ok_or(ReceiptError::BadProofHash)?;
            proof.push(h);
        }
        check_checkpoint_note(rest)?;
        Ok(Receipt {
            index,
            proof,
            checkpoint_note: rest.to_vec(),
            extra,
        })
    }

    fn encoded_len(&self) -> usize {
        let extra = self
            .extra
            .as_ref()
            .map_or(0, |e| "extra ".len() + e.len().div_ceil(3) * 4 + 1);
        RECEIPT_HEADER.len()
            + 1
            + extra
            + "index ".len()
            + 20
            + 1
            + self.proof.len() * 45
            + 1
            + self.checkpoint_note.len()
    }

    /// The canonical encoding. For a receipt that [`Receipt::parse`] or
    /// [`Receipt::new`] returned, `Receipt::parse(&r.to_bytes()) == Ok(r)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(RECEIPT_HEADER.as_bytes());
        out.push(b'\n');
        if let Some(e) = &self.extra {
            out.extend_from_slice(b"extra ");
            out.extend_from_slice(note::b64_encode(e).as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(format!("index {}\n", self.index).as_bytes());
        for h in &self.proof {
            out.extend_from_slice(note::b64_encode(h.as_bytes()).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint_note);
        out
    }

    /// Verifies the receipt for `entry_bytes` (the exact log entry, e.g. the
    /// encoded signed tally): the checkpoint must be signed by `log_key`
    /// with origin `origin`, and the proof must place `leaf_hash(entry)` at
    /// `index` in the checkpoint's tree. Witness cosignatures are not
    /// required; see [`Receipt::verify_with_witnesses`].
    pub fn verify(
        &self,
        entry_bytes: &[u8],
        log_key: &VerifierKey,
        origin: &str,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        self.verify_with_witnesses(entry_bytes, log_key, origin, &[], 0)
    }

    /// [`Receipt::verify`], also requiring valid cosignatures from at least
    /// `quorum` distinct `witnesses` on the checkpoint.
    pub fn verify_with_witnesses(
        &self,
        entry_bytes: &[u8],
        log_key: &VerifierKey,
        origin: &str,
        witnesses: &[VerifierKey],
        quorum: usize,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        self.verify_with(entry_bytes, origin, |note| {
            checkpoint::open_checkpoint(note, log_key, witnesses, quorum)
        })
    }

    /// [`Receipt::verify`] with the checkpoint opened by `open`, which is
    /// given this receipt's checkpoint note and must open it (check its
    /// signatures) or fail. A client checking many receipts under the same
    /// checkpoint opens it once and answers later calls from a cache keyed
    /// by the note's bytes.
    pub fn verify_with(
        &self,
        entry_bytes: &[u8],
        origin: &str,
        open: impl FnOnce(&[u8]) -> Result<OpenedCheckpoint, CheckpointError>,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        if self.proof.len() > MAX_PROOF_HASHES {
            return Err(ReceiptError::TooManyProofHashes);
        }
        let opened = open(&self.checkpoint_note)?;
        if opened.checkpoint.origin != origin {
            return Err(ReceiptError::OriginMismatch {
                expected: origin.to_owned(),
                found: opened.checkpoint.origin,
            });
        }
        let leaf = leaf_hash(entry_bytes);
        merkle::verify_inclusion(
            &leaf,
            self.index,
            opened.checkpoint.size,
            &self.proof,
            &opened.checkpoint.root,
        )?;
        Ok(VerifiedReceipt {
            index: self.index,
            leaf_hash: leaf,
            checkpoint: opened,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::keys::SecretKey;
    use crate::note::{KeyKind, SignerKey};

    fn log() -> SignerKey {
        SignerKey::new(
            "vote.example/log",
            KeyKind::Ed25519,
            SecretKey::from_seed(&[7; 32]),
        )
        .unwrap()
    }

    fn tree(n: u8) -> (Vec<Vec<u8>>, Vec<Hash>) {
        let entries: Vec<Vec<u8>> = (0..n).map(|i| vec![i; 10]).collect();
        let leaves = entries.iter().map(|e| leaf_hash(e)).collect();
        (entries, leaves)
    }

    fn receipt_for(index: u64, leaves: &[Hash]) -> Receipt {
        let cp = Checkpoint::new(
            "vote.example/log",
            leaves.len() as u64,
            merkle::tree_hash(leaves),
        );
        let note = sign_checkpoint(&cp, &log()).unwrap();
        let proof = merkle::inclusion_proof(leaves, index).unwrap();
        Receipt::new(index, proof, note).unwrap()
    }

    #[test]
    fn round_trips_and_verifies_every_leaf() {
        let (entries, leaves) = tree(13);
        for i in 0..13u64 {
            let r = receipt_for(i, &leaves);
            let bytes = r.to_bytes();
            assert_eq!(Receipt::parse(&bytes), Ok(r.clone()));
            let v = r
                .verify(&entries[i as usize], log().verifier(), "vote.example/log")
                .unwrap();
            assert_eq!(v.index, i);
            assert_eq!(v.checkpoint.checkpoint.size, 13);
        }
    }

    #[test]
    fn rejects_receipt_for_another_entry() {
        let (entries, leaves) = tree(5);
        let r = receipt_for(2, &leaves);
        assert_eq!(
            r.verify(&entries[3], log().verifier(), "vote.example/log"),
            Err(ReceiptError::Inclusion(ProofError::RootMismatch))
        );
    }

    #[test]
    fn extra_line_round_trips_and_empty_extra_is_rejected() {
        let (_, leaves) = tree(3);
        let mut r = receipt_for(1, &leaves);
        r.extra = Some(b"context".to_vec());
        let bytes = r.to_bytes();
        assert!(bytes.starts_with(b"c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 1\n"));
        assert_eq!(Receipt::parse(&bytes), Ok(r));
        let text = String::from_utf8(bytes).unwrap();
        let empty = text.replace("extra Y29udGV4dA==\n", "extra \n");
        assert_eq!(
            Receipt::parse(empty.as_bytes()),
            Err(ReceiptError::BadExtra)
        );
    }
}
