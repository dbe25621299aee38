//! The live feed of `verify --watch --feed FILE` (spec/feed.md): one JSON
//! object per line and per event, each bound to the checkpoint of the tree
//! verified when it was written, for newsroom scripts that tail the file.

use std::collections::BTreeMap;

use serde::Serialize;
use tallyboard_core::SignedTally;
use tallyboard_core::time::format_rfc3339;
use tallyboard_core::totals::TotalsBody;

use crate::report::Finding;
use crate::status::Stage;

/// The `format` of every line of this version.
pub const FEED_FORMAT: &str = "tallyboard-feed/v1";

/// The checkpoint a line is bound to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeedCheckpoint {
    /// The log's origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash (hex).
    pub root: String,
}

/// A choice leading a contest, from the recomputed totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Leader {
    /// The contest.
    pub contest: String,
    /// The leading choice (the first in the manifest's order on a tie).
    pub choice: String,
    /// Its votes.
    pub votes: u64,
    /// Its share of the valid votes (choice votes), 0 to 1.
    pub share: f64,
    /// Whether another choice has as many votes.
    pub tied: bool,
}

/// A tally counted: the unit's figures as verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitFigures {
    /// The unit.
    pub unit: String,
    /// The contest.
    pub contest: String,
    /// The entry's log index.
    pub index: u64,
    /// Its revision (1: first publication).
    pub revision: u64,
    /// Votes per choice id.
    pub choices: BTreeMap<String, u64>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
    /// When it was counted (RFC 3339).
    pub counted_at: String,
    /// For a correction: the leaf hash (hex) of the entry it supersedes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// For a correction: the reason given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl UnitFigures {
    /// The figures of a tally at log index `index`.
    pub fn of(index: u64, st: &SignedTally) -> UnitFigures {
        let t = st.tally();
        UnitFigures {
            unit: t.unit.clone(),
            contest: t.contest.clone(),
            index,
            revision: t.revision,
            choices: t.choices.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            blank: t.blank,
            invalid: t.invalid,
            ballots_cast: t.ballots_cast,
            counted_at: format_rfc3339(t.counted_at),
            supersedes: t.supersedes.map(|h| h.to_hex()),
            reason: t.reason.clone(),
        }
    }
}

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FeedEvent {
    /// A new checkpoint was verified in full.
    Checkpoint {
        /// Whether it carries the witness quorum.
        witnessed: bool,
        /// The source whose data was checked.
        source: String,
    },
    /// A unit's first tally for a contest was counted.
    UnitReported(UnitFigures),
    /// A correction was counted (it replaces the unit's earlier figures).
    Correction(UnitFigures),
    /// A new finding.
    Finding {
        /// The finding, as in the JSON report.
        finding: Box<Finding>,
    },
    /// A source fell behind the tree verified.
    SourceStale {
        /// The source.
        source: String,
        /// The size it serves.
        source_size: u64,
    },
    /// A source that was stale or unreachable serves the tree verified
    /// again.
    SourceBack {
        /// The source.
        source: String,
    },
    /// The election authority's certification verified: the results are
    /// final.
    Certified {
        /// When the authority certified (RFC 3339).
        certified_at: String,
    },
    /// The end of a round: where the night stands.
    Round {
        /// Units with a tally for every contest they take part in.
        units_reporting: u64,
        /// Units in the manifest.
        units_expected: u64,
        /// `units_reporting / units_expected`.
        share_reporting: f64,
        /// Each contest's leader (contests in the manifest's order; none
        /// before any vote).
        leaders: Vec<Leader>,
    },
}

/// One line of the feed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedLine {
    /// Always [`FEED_FORMAT`].
    pub format: &'static str,
    /// When the verifier wrote it (RFC 3339, its own clock).
    pub time: String,
    /// The checkpoint of the tree verified.
    pub checkpoint: FeedCheckpoint,
    /// `provisional` or `final`.
    pub results: Stage,
    /// The event.
    #[serde(flatten)]
    pub event: FeedEvent,
}

impl FeedLine {
    /// The line, JSON without a newline inside, ending in one.
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Each contest's leader in `totals` (whole-election rows), contests and
/// ties in the order of `order` (the manifest's contests, each with its
/// choice ids in ballot order).
pub fn leaders(totals: &TotalsBody, order: &[(String, Vec<String>)]) -> Vec<Leader> {
    let mut out = Vec::new();
    for (contest, choices) in order {
        let Some(row) = totals.row(contest, None) else {
            continue;
        };
        let valid: u64 = row.choices.values().fold(0u64, |a, v| a.saturating_add(*v));
        let mut best: Option<(&str, u64)> = None;
        let mut tied = false;
        for c in choices {
            let v = row.choices.get(c).copied().unwrap_or(0);
            match best {
                Some((_, b)) if v == b => tied = true,
                Some((_, b)) if v < b => {}
                _ => {
                    best = Some((c, v));
                    tied = false;
                }
            }
        }
        if let Some((choice, votes)) = best.filter(|b| b.1 > 0) {
            out.push(Leader {
                contest: contest.clone(),
                choice: choice.to_owned(),
                votes,
                share: if valid == 0 {
                    0.0
                } else {
                    votes as f64 / valid as f64
                },
                tied,
            });
        }
    }
    out
}
