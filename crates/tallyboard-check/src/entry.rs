//! One log entry checked on its own.

use tallyboard_core::keys::{BatchVerifier, Context};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::{Violation, check_tally, describe_violations};
use tallyboard_core::tally::{SignedTally, TallyError, UnverifiedTally};

/// Whether entries' signatures are verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    /// Verify every signature (entries read from anyone else).
    Verify,
    /// Do not verify them again: the entries are read back from this
    /// program's own storage, where they went only after their signatures
    /// verified.
    Trusted,
}

/// A log entry checked on its own: decoded as a signed tally of the
/// manifest's election, its signature verified, and the rules that do not
/// depend on the rest of the log checked.
#[derive(Clone, Debug)]
pub enum Checked {
    /// Not a canonical signed tally.
    Undecodable {
        /// The entry.
        bytes: Vec<u8>,
        /// Why not.
        error: TallyError,
    },
    /// A tally whose signature does not verify under the key it names.
    BadSignature(UnverifiedTally),
    /// A tally whose signature verifies.
    Signed(SignedEntry),
}

/// A validly signed tally and the rules of the manifest it breaks.
#[derive(Clone, Debug)]
pub struct SignedEntry {
    /// The tally, with its entry bytes.
    pub tally: SignedTally,
    /// The manifest index of its unit (`None`: the manifest does not list
    /// it, which `violations` says).
    pub unit: Option<usize>,
    /// The rules of the manifest it breaks (those that do not depend on
    /// the log), in the order the rules are listed.
    pub violations: Vec<Violation>,
}

/// Why an entry is not a genuine tally (see [`Checked::genuine`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotGenuine {
    /// Not a validly signed tally: not one at all, or its signature does
    /// not verify under the key it names.
    #[error("not a validly signed tally: {0}")]
    NotSigned(TallyError),
    /// Validly signed, but it breaks these rules of the manifest.
    #[error("breaks the rules of the manifest: {}", describe_violations(.0))]
    BreaksRules(Vec<Violation>),
}

impl Checked {
    /// Checks one entry (one signature: no batch, no thread).
    pub fn one(manifest: &Manifest, bytes: &[u8], signatures: Signatures) -> Checked {
        match UnverifiedTally::from_bytes_in(bytes, manifest) {
            Err(error) => Checked::Undecodable {
                bytes: bytes.to_vec(),
                error,
            },
            Ok(u) => {
                let verified = match signatures {
                    Signatures::Trusted => true,
                    Signatures::Verify => {
                        let (key, body, sig) = u.signature_parts();
                        key.verify(Context::Tally, body, sig).is_ok()
                    }
                };
                signed_or_not(manifest, u, verified)
            }
        }
    }

    /// The tally, if the entry is genuine: a validly signed tally of the
    /// manifest's election that breaks none of its rules (those that do
    /// not depend on the log); otherwise why not.
    pub fn genuine(self) -> Result<SignedTally, NotGenuine> {
        match self {
            Checked::Undecodable { error, .. } => Err(NotGenuine::NotSigned(error)),
            Checked::BadSignature(_) => Err(NotGenuine::NotSigned(TallyError::BadSignature)),
            Checked::Signed(s) if s.violations.is_empty() => Ok(s.tally),
            Checked::Signed(s) => Err(NotGenuine::BreaksRules(s.violations)),
        }
    }

    /// The entry's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Checked::Undecodable { bytes, .. } => bytes,
            Checked::BadSignature(u) => u.as_bytes(),
            Checked::Signed(s) => s.tally.as_bytes(),
        }
    }
}

/// The entry once its signature verdict is known.
fn signed_or_not(manifest: &Manifest, u: UnverifiedTally, verified: bool) -> Checked {
    if !verified {
        return Checked::BadSignature(u);
    }
    let tally = u.verified_by_batch();
    let violations = check_tally(manifest, tally.tally());
    let unit = manifest.unit_index(&tally.tally().unit);
    Checked::Signed(SignedEntry {
        tally,
        unit,
        violations,
    })
}

/// Checks a chunk of entries, verifying their signatures together with
/// `verifier` (strictly, one by one: see [`BatchVerifier::verify`]).
pub(crate) fn check_chunk<B: AsRef<[u8]>>(
    manifest: &Manifest,
    verifier: &mut BatchVerifier,
    signatures: Signatures,
    chunk: Vec<(u64, B)>,
) -> Vec<(u64, Checked)> {
    let mut decoded: Vec<(u64, Result<UnverifiedTally, Checked>)> = Vec::with_capacity(chunk.len());
    for (index, bytes) in chunk {
        let bytes = bytes.as_ref();
        match UnverifiedTally::from_bytes_in(bytes, manifest) {
            Ok(u) => {
                if signatures == Signatures::Verify {
                    let (key, body, sig) = u.signature_parts();
                    verifier.push(key, Context::Tally, body, sig);
                }
                decoded.push((index, Ok(u)));
            }
            Err(error) => {
                let bytes = bytes.to_vec();
                decoded.push((index, Err(Checked::Undecodable { bytes, error })));
            }
        }
    }
    // Indexes, among the decoded entries, of the signatures that failed.
    let bad = match verifier.verify() {
        Ok(()) => Vec::new(),
        Err(f) => f.bad,
    };
    let mut bad = bad.into_iter().peekable();
    let mut k = 0usize;
    decoded
        .into_iter()
        .map(|(index, d)| {
            let checked = match d {
                Err(undecodable) => undecodable,
                Ok(u) => {
                    let failed = bad.next_if_eq(&k).is_some();
                    k += 1;
                    signed_or_not(manifest, u, !failed)
                }
            };
            (index, checked)
        })
        .collect()
}
