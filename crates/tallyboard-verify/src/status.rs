//! Where the night stands (spec/verify.md §4.7, §4.8): how many units
//! report, whether their results are due yet by the verifier's clock, and
//! whether the election authority has certified the results (final) or not
//! (provisional).

use serde::Serialize;

/// Provisional or final.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Not certified by the election authority: figures may still change.
    #[default]
    Provisional,
    /// Certified by the election authority (a certification that verified
    /// and binds the tree and the totals checked).
    Final,
}

/// The authority's certification, as checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CertificationReport {
    /// The source it was read from.
    pub source: String,
    /// When the authority certified (RFC 3339).
    pub certified_at: String,
    /// The checkpoint it binds: size.
    pub size: u64,
    /// The checkpoint it binds: root (hex).
    pub root: String,
    /// SHA-256 (hex) of the signed totals it binds.
    pub totals_sha256: String,
}

/// Where the night stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResultsStatus {
    /// `provisional` or `final`.
    pub results: Stage,
    /// Units with a tally for every contest they take part in.
    pub units_reporting: u64,
    /// Units in the manifest.
    pub units_expected: u64,
    /// When the polls close (RFC 3339), if the manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polls_close: Option<String>,
    /// When every unit's results are due (RFC 3339), if the manifest says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_due: Option<String>,
    /// The time the verifier judged the due time by (RFC 3339): its own
    /// clock, never a time a source gave.
    pub clock: String,
    /// Whether the results are due (always, without a due time): missing
    /// units are then findings, before it they are progress.
    pub due: bool,
    /// The certification, when one verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<CertificationReport>,
}

impl ResultsStatus {
    /// The report's line about the results: final and certified, or
    /// provisional (and why).
    pub fn line(&self) -> String {
        match (&self.results, &self.certification) {
            (Stage::Final, Some(c)) => format!(
                "RESULTS: FINAL, CERTIFIED RESULTS. The election authority certified them at {} (tree size {}, root {}); the certification verified.",
                c.certified_at, c.size, c.root
            ),
            _ => {
                let progress = if self.units_reporting < self.units_expected {
                    format!(
                        "{} of {} units reporting",
                        self.units_reporting, self.units_expected
                    )
                } else {
                    format!("all {} units reporting", self.units_expected)
                };
                let due = match (&self.results_due, self.due) {
                    (Some(d), false) => format!("; results are due at {d}"),
                    _ => String::new(),
                };
                format!(
                    "RESULTS: PROVISIONAL ({progress}{due}): the election authority has not certified them; figures may still change."
                )
            }
        }
    }

    /// Whether units are still expected before their due time (the
    /// verdict "pass, N of M units reporting").
    pub fn in_progress(&self) -> bool {
        !self.due && self.units_reporting < self.units_expected
    }
}
