//! The mirror's policy for the entries it copies: each goes through the
//! checking engine (`tallyboard_check`) in log order, and the first entry
//! that is not counted stops the sync as a [`BadEntry`].

use tallyboard_check::{Checked, ElectionState, Outcome, Signatures, available_threads};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::describe_violations;
use tallyboard_verify::FindingCode;

/// The election state of the entries checked so far.
pub(crate) type State = ElectionState<std::sync::Arc<Manifest>>;

/// An entry that is not a validly signed tally obeying every rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    /// Leaf index of the entry.
    pub index: u64,
    /// The finding: [`FindingCode::BadEntry`] (undecodable or
    /// non-canonical), [`FindingCode::BadSignature`], or the first rule
    /// broken.
    pub code: FindingCode,
    /// What is wrong, in words.
    pub message: String,
    /// The entry's bytes (for the evidence file).
    pub entry: Vec<u8>,
}

/// Checks `entries`, the next entries of the log in order (the first one
/// at leaf index `state.applied()`), and applies them to `state`.
/// `Trusted` skips the signature check (entries read back from the
/// mirror's own disk, which it checked before storing). Returns, per entry,
/// its manifest unit index. On a bad entry `state` is left partly updated:
/// the caller restores the copy it kept.
pub(crate) fn check(
    state: &mut State,
    entries: &[Vec<u8>],
    signatures: Signatures,
) -> Result<Vec<usize>, BadEntry> {
    let first = state.applied();
    let checked = tallyboard_check::check_entries(
        state.manifest(),
        first,
        entries,
        signatures,
        available_threads(),
    );
    let mut units = Vec::with_capacity(checked.len());
    for (index, c) in (first..).zip(checked) {
        let outcome = state.apply(&c);
        let (code, message) = match (outcome, &c) {
            (Outcome::Counted, Checked::Signed(s)) => {
                units.extend(s.unit);
                continue;
            }
            (_, Checked::Undecodable { error, .. }) => (
                FindingCode::BadEntry,
                format!("entry {index} is not a signed tally of this election: {error}"),
            ),
            (_, Checked::BadSignature(u)) => (
                FindingCode::BadSignature,
                format!(
                    "entry {index} (a tally for unit {}) does not carry a valid signature by the key it names",
                    u.tally().unit
                ),
            ),
            (Outcome::Broken(v), _) => (
                v.first()
                    .map_or(FindingCode::RuleViolation, FindingCode::of_violation),
                describe_violations(&v),
            ),
            (Outcome::NotCounted(e), _) => (
                FindingCode::BadEntry,
                format!("entry {index} could not be counted: {e}"),
            ),
            (other, _) => (
                FindingCode::BadEntry,
                format!("entry {index} was not counted ({other:?})"),
            ),
        };
        return Err(BadEntry {
            index,
            code,
            message,
            entry: c.bytes().to_vec(),
        });
    }
    Ok(units)
}
