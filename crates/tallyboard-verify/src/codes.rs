//! The finding codes (`spec/verify.md` §5): one type for the verifier's
//! findings, the mirror's problems with its upstream and the findings the
//! exercise's scenarios expect. Each code has its stable wire form (the
//! kebab-case string of the reports), its usual severity and the advice
//! printed with it.

use core::fmt;
use core::str::FromStr;

use tallyboard_core::rules::Violation;

use crate::report::Severity;

macro_rules! finding_codes {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// A stable finding code.
        ///
        /// The wire form ([`FindingCode::as_str`], [`fmt::Display`], the JSON
        /// string) is the kebab-case code of `spec/verify.md` §5;
        /// [`FromStr`] reads it back. Codes are ordered by their wire form.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FindingCode {
            $($(#[$doc])* $variant,)*
        }

        impl FindingCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            /// The wire form: the kebab-case code of the reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $wire,)*
                }
            }
        }

        impl FromStr for FindingCode {
            type Err = UnknownCode;

            fn from_str(s: &str) -> Result<FindingCode, UnknownCode> {
                match s {
                    $($wire => Ok(FindingCode::$variant),)*
                    _ => Err(UnknownCode(s.to_owned())),
                }
            }
        }
    };
}

finding_codes! {
    /// Two checkpoints signed by the log key that cannot both be true.
    SplitView = "split-view",
    /// A source serves a manifest not signed by the authority, or another one.
    ManifestMismatch = "manifest-mismatch",
    /// A checkpoint not validly signed by the log key.
    CheckpointSignature = "checkpoint-signature",
    /// A witness's cosignature line on a checkpoint that does not verify
    /// (altered, malformed or repeated): named, and not counted.
    WitnessCosignature = "witness-cosignature",
    /// Fewer valid witness cosignatures than the quorum.
    QuorumNotMet = "quorum-not-met",
    /// No source serves a checkpoint with the quorum: the tree checked is
    /// signed by the log alone.
    NotWitnessed = "not-witnessed",
    /// A source did not answer.
    SourceUnreachable = "source-unreachable",
    /// A source is behind the others.
    SourceStale = "source-stale",
    /// A tile or bundle that does not hash to the source's signed
    /// checkpoint, or was not served.
    SourceBadData = "source-bad-data",
    /// An entry that is not a canonical signed tally of the election.
    BadEntry = "bad-entry",
    /// A tally whose signature does not verify.
    BadSignature = "bad-signature",
    /// A published figure differs from the recomputed one.
    TotalsMismatch = "totals-mismatch",
    /// Published totals not signed by the log key.
    TotalsSignature = "totals-signature",
    /// Published totals not bound to a verified tree of this log.
    TotalsUnbound = "totals-unbound",
    /// A count centre's signed tally the log lacks.
    BackupNotInLog = "backup-not-in-log",
    /// A count centre's signed tally that differs from the log's latest
    /// revision.
    BackupContradictsLog = "backup-contradicts-log",
    /// An observer's figure that differs from the log.
    ObserverMismatch = "observer-mismatch",
    /// A printed sheet carrying a validly signed tally the log lacks (no
    /// tally of its unit and contest at all).
    PaperNotInLog = "paper-not-in-log",
    /// A printed sheet carrying a validly signed tally that differs from
    /// the log's latest revision and that the log does not hold.
    PaperContradictsLog = "paper-contradicts-log",
    /// A printed sheet of a revision the log holds but a correction
    /// superseded.
    PaperSuperseded = "paper-superseded",
    /// A printed sheet whose codes do not carry a validly signed tally of
    /// the election (altered or forged).
    PaperNotGenuine = "paper-not-genuine",
    /// A printed sheet whose codes cannot be read completely.
    PaperUnreadable = "paper-unreadable",
    /// A receipt that does not verify.
    ReceiptInvalid = "receipt-invalid",
    /// An acknowledged entry the log does not hold.
    ReceiptNotInLog = "receipt-not-in-log",
    /// Units without a tally, per contest.
    UnitsMissing = "units-missing",
    /// Rule: the tally is for another election.
    WrongElection = "wrong-election",
    /// Rule: the unit is not in the manifest.
    UnknownUnit = "unknown-unit",
    /// Rule: the contest is not in the manifest.
    UnknownContest = "unknown-contest",
    /// Rule: the unit does not take part in the contest.
    ContestNotInUnit = "contest-not-in-unit",
    /// Rule: a choice the contest does not have.
    UnknownChoice = "unknown-choice",
    /// Rule: a choice of the contest is missing.
    MissingChoice = "missing-choice",
    /// Rule: the figures do not add up.
    ArithmeticMismatch = "arithmetic-mismatch",
    /// Rule: a sum of figures overflows.
    CountOverflow = "count-overflow",
    /// Rule: more ballots than registered voters.
    BallotsExceedRegistered = "ballots-exceed-registered",
    /// Rule: the signer key is not in the manifest.
    UnknownSigner = "unknown-signer",
    /// Rule: the signer's centre is not responsible for the unit.
    SignerNotResponsible = "signer-not-responsible",
    /// Rule: the key was not yet valid at the time of count.
    KeyNotYetValid = "key-not-yet-valid",
    /// Rule: the key had expired at the time of count.
    KeyExpired = "key-expired",
    /// Rule: the key was revoked.
    KeyRevoked = "key-revoked",
    /// Rule: revision 0.
    RevisionZero = "revision-zero",
    /// Rule: a correction without a reason.
    CorrectionWithoutReason = "correction-without-reason",
    /// Rule: a reason on a first publication.
    ReasonWithoutCorrection = "reason-without-correction",
    /// Rule: a correction that supersedes nothing.
    CorrectionWithoutSupersedes = "correction-without-supersedes",
    /// Rule: a first publication that supersedes an entry.
    SupersedesWithoutCorrection = "supersedes-without-correction",
    /// Rule: supersedes an entry the log does not hold.
    SupersedesUnknownEntry = "supersedes-unknown-entry",
    /// Rule: supersedes another unit's entry.
    SupersedesOtherUnit = "supersedes-other-unit",
    /// Rule: supersedes another contest's entry.
    SupersedesOtherContest = "supersedes-other-contest",
    /// Rule: the revision is not the next one.
    RevisionNotNext = "revision-not-next",
    /// Rule: supersedes an entry that is not the latest revision.
    SupersedesStaleRevision = "supersedes-stale-revision",
    /// Rule: a first publication where one exists already.
    FirstRevisionExists = "first-revision-exists",
    /// Rule: the entry is already in the log.
    DuplicateEntry = "duplicate-entry",
    /// Rule: a rule this build does not know by name (a newer formats
    /// crate); the message names it.
    RuleViolation = "rule-violation",
    /// A mirror's own failure while syncing (its storage or a thread), not
    /// a fault of the upstream; shown on the mirror's `/status` only.
    Internal = "internal",
    /// A source serves a certification that is not one the election
    /// authority signed for this election and manifest.
    CertificationInvalid = "certification-invalid",
    /// The authority's certification names a checkpoint or totals that are
    /// not the log's.
    CertificationUnbound = "certification-unbound",
    /// The log holds entries after the checkpoint the authority certified
    /// as final.
    EntriesAfterCertification = "entries-after-certification",
    /// A row of the observers' file that cannot be read.
    ObserverRowMalformed = "observer-row-malformed",
}

/// A string that is not a finding code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a finding code")]
pub struct UnknownCode(pub String);

impl FindingCode {
    /// The code of a broken tally rule.
    pub fn of_violation(v: &Violation) -> FindingCode {
        v.code().parse().unwrap_or(FindingCode::RuleViolation)
    }

    /// How serious a finding with this code usually is (a few findings
    /// say otherwise, see `spec/verify.md` §5).
    pub fn severity(self) -> Severity {
        use FindingCode as C;
        match self {
            C::SourceUnreachable
            | C::SourceStale
            | C::QuorumNotMet
            | C::UnitsMissing
            | C::PaperSuperseded
            | C::PaperUnreadable => Severity::Warning,
            C::WitnessCosignature
            | C::NotWitnessed
            | C::BackupNotInLog
            | C::BackupContradictsLog
            | C::PaperNotInLog
            | C::PaperContradictsLog
            | C::PaperNotGenuine
            | C::ObserverMismatch
            | C::ReceiptInvalid => Severity::Error,
            C::ObserverRowMalformed => Severity::Warning,
            C::SplitView
            | C::ManifestMismatch
            | C::CheckpointSignature
            | C::SourceBadData
            | C::BadEntry
            | C::BadSignature
            | C::TotalsMismatch
            | C::TotalsSignature
            | C::TotalsUnbound
            | C::ReceiptNotInLog
            | C::CertificationInvalid
            | C::CertificationUnbound
            | C::EntriesAfterCertification => Severity::Critical,
            c if c.is_signer_rule() || c == C::WrongElection => Severity::Critical,
            _ => Severity::Error,
        }
    }

    /// Whether the code is a rule about who may sign for the unit.
    fn is_signer_rule(self) -> bool {
        matches!(
            self,
            FindingCode::SignerNotResponsible
                | FindingCode::UnknownSigner
                | FindingCode::KeyRevoked
                | FindingCode::KeyExpired
                | FindingCode::KeyNotYetValid
        )
    }

    /// What to do about a finding with this code, in plain words.
    pub fn advice(self) -> &'static str {
        use FindingCode as C;
        match self {
            C::SplitView => {
                "The log showed different histories to different readers. Keep the evidence file, alert the election authority, the witnesses and the press, and do not trust any result until the authority explains it."
            }
            C::ManifestMismatch => {
                "Sources disagree on the election definition. Check with the election authority which manifest it signed and published; trust only that one."
            }
            C::CheckpointSignature => {
                "This source serves a checkpoint the log key did not sign. Do not use the source; report it to its operator."
            }
            C::QuorumNotMet => {
                "Not enough independent witnesses cosigned the checkpoint. Wait a few minutes and run again; if it persists, ask the witnesses' operators."
            }
            C::WitnessCosignature => {
                "A witness's cosignature on this checkpoint does not verify and was not counted. Tell the source's operator and the witness's operator; if the witness's other cosignatures verify, the line was altered on the way."
            }
            C::NotWitnessed => {
                "Do not rely on this result yet: nothing shows the witnesses saw this tree. Wait for the witnesses to cosign and run again; if none does, ask the election authority and the witnesses' operators why."
            }
            C::SourceUnreachable => {
                "Check the address and your connection, and run again. Other sources were checked without it."
            }
            C::SourceStale => {
                "This source is behind the others. Often it is only slow to update; run again later. If it stays behind, tell its operator."
            }
            C::SourceBadData => {
                "This source serves data that does not match the log's signed checkpoint. Do not use it; send the evidence file to its operator and the election authority."
            }
            C::BadEntry => {
                "The log holds an entry that is not a valid signed tally. Send the evidence to the election authority: the server should never have accepted it."
            }
            C::BadSignature => {
                "The tally's signature does not verify: it was forged or altered after signing. Ask the count centre for its signed copy and give the evidence to the election authority."
            }
            C::TotalsMismatch => {
                "The published totals differ from the sum of the signed tallies. Rely on the recomputed figure and give the evidence to the election authority."
            }
            C::TotalsSignature => {
                "The published totals are not signed by the log key. Do not rely on them; use the recomputed totals."
            }
            C::TotalsUnbound => {
                "The published totals are not tied to a checkpoint of this log. Do not rely on them; use the recomputed totals."
            }
            C::BackupNotInLog => {
                "A count centre's signed tally is missing from the log. Ask the election authority why it was not published."
            }
            C::BackupContradictsLog => {
                "The count centre's own signed copy differs from what the log holds as the unit's latest result. Ask the centre which is right and give both to the election authority."
            }
            C::ObserverMismatch => {
                "An observer's copy of the posted sheet differs from the log. Re-check the paper sheet at the polling station and compare with the count centre."
            }
            C::PaperNotInLog => {
                "The posted sheet carries a tally signed by the count centre that the log never received. Ask the count centre to submit it, and give the evidence to the election authority."
            }
            C::PaperContradictsLog => {
                "The posted sheet was signed by the count centre but differs from the result the log holds. Ask the count centre which is right and give both to the election authority."
            }
            C::PaperSuperseded => {
                "The posted sheet shows an earlier revision that a correction replaced. Ask the polling station to post the corrected sheet (the finding names it)."
            }
            C::PaperNotGenuine => {
                "The codes on this sheet were not signed by the count centre: the sheet was altered or forged. Photograph the posted sheet and give it with the evidence to the election authority."
            }
            C::PaperUnreadable => {
                "Some codes of this sheet could not be read. Take a sharper, flatter photo of the whole sheet (every code in view) and check again."
            }
            C::ReceiptInvalid => {
                "The receipt does not verify. Ask the count centre to resubmit the tally and keep the new receipt."
            }
            C::ReceiptNotInLog => {
                "The log does not hold the entry this receipt proves. Give the receipt to the election authority: an acknowledged tally must never disappear."
            }
            C::Internal => {
                "The mirror itself failed (its disk or a thread), not the upstream. Read the mirror's log, fix the cause and restart it; it resumes from its last checkpoint."
            }
            C::CertificationInvalid => {
                "This certification is not the election authority's for this election: do not treat these results as final. Ask the authority for its certification and tell the source's operator."
            }
            C::CertificationUnbound => {
                "The authority certified a tree or totals that are not the log's: the results are not final as published. Give the evidence to the election authority and ask which results it certified."
            }
            C::EntriesAfterCertification => {
                "The server accepted tallies after the count was closed. Only the certified checkpoint's results are final; ask the election authority why the log grew."
            }
            C::ObserverRowMalformed => {
                "Correct the row in the observers' file (copy it again from the posted sheet) and run again; the other rows were compared."
            }
            C::UnitsMissing => {
                "These units have not reported yet. On election night this is normal; afterwards, ask the count centres responsible."
            }
            c if c.is_signer_rule() => {
                "The tally was signed by a key that may not sign for this unit at that time. Ask the responsible count centre for its signed result; the figure is left out of the totals."
            }
            _ => {
                "The tally breaks a rule of the election and is left out of the totals. Ask the count centre responsible to check the sheet and submit a correction."
            }
        }
    }

    /// Order among codes of equal severity in the report: split views
    /// first, then the other faults of the log's operator.
    /// Whether the finding is about an entry the checks left out of the
    /// totals (an undecodable entry, a bad signature, a broken rule).
    pub fn leaves_entry_out(self) -> bool {
        use FindingCode as C;
        !matches!(
            self,
            C::SplitView
                | C::ManifestMismatch
                | C::CheckpointSignature
                | C::WitnessCosignature
                | C::QuorumNotMet
                | C::NotWitnessed
                | C::SourceUnreachable
                | C::SourceStale
                | C::SourceBadData
                | C::TotalsMismatch
                | C::TotalsSignature
                | C::TotalsUnbound
                | C::BackupNotInLog
                | C::BackupContradictsLog
                | C::ObserverMismatch
                | C::ReceiptInvalid
                | C::ReceiptNotInLog
                | C::UnitsMissing
                | C::Internal
                | C::CertificationInvalid
                | C::CertificationUnbound
                | C::EntriesAfterCertification
                | C::ObserverRowMalformed
        )
    }

    pub(crate) fn rank(self) -> u8 {
        match self {
            FindingCode::SplitView => 0,
            FindingCode::ManifestMismatch => 1,
            FindingCode::SourceBadData => 2,
            FindingCode::TotalsMismatch => 3,
            _ => 10,
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialOrd for FindingCode {
    fn partial_cmp(&self, other: &FindingCode) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FindingCode {
    fn cmp(&self, other: &FindingCode) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl serde::Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for FindingCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FindingCode, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &c in FindingCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(c.as_str().parse::<FindingCode>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<FindingCode>(&json).unwrap(), c);
        }
        assert_eq!(
            "no-such-code".parse::<FindingCode>(),
            Err(UnknownCode("no-such-code".to_owned()))
        );
    }

    #[test]
    fn severities_follow_the_spec() {
        use FindingCode as C;
        for c in [
            C::SignerNotResponsible,
            C::UnknownSigner,
            C::KeyRevoked,
            C::KeyExpired,
            C::KeyNotYetValid,
            C::WrongElection,
            C::SplitView,
            C::ReceiptNotInLog,
        ] {
            assert_eq!(c.severity(), Severity::Critical, "{c}");
        }
        for c in [
            C::ArithmeticMismatch,
            C::DuplicateEntry,
            C::ObserverMismatch,
        ] {
            assert_eq!(c.severity(), Severity::Error, "{c}");
        }
        assert_eq!(C::WitnessCosignature.severity(), Severity::Error);
        assert_eq!(C::NotWitnessed.severity(), Severity::Error);
        for c in [C::SourceStale, C::UnitsMissing, C::QuorumNotMet] {
            assert_eq!(c.severity(), Severity::Warning, "{c}");
        }
        assert!(C::KeyRevoked.advice().contains("may not sign"));
        assert!(C::RevisionNotNext.advice().contains("submit a correction"));
    }

    #[test]
    fn rule_codes_are_the_violations_codes() {
        let v = Violation::DuplicateEntry {
            unit: "u".to_owned(),
            contest: "c".to_owned(),
        };
        assert_eq!(FindingCode::of_violation(&v), FindingCode::DuplicateEntry);
        assert_eq!(FindingCode::of_violation(&v).as_str(), v.code());
    }

    #[test]
    fn ordered_by_wire_form() {
        let mut all = FindingCode::ALL.to_vec();
        all.sort();
        let wire: Vec<&str> = all.iter().map(|c| c.as_str()).collect();
        let mut sorted = wire.clone();
        sorted.sort_unstable();
        assert_eq!(wire, sorted);
    }
}
