//! The results model (`spec/results.md` §2–§4).

use std::collections::HashMap;

use serde::Serialize;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::{TotalsBody, TotalsRow};

use crate::format::Percent;

/// Version of the results JSON (`spec/results.schema.json`): raised when a
/// member changes meaning or goes; members may be added within a version.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether the results are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The count goes on or is not closed: figures may still change.
    Provisional,
    /// The election authority closed the count with a certification the
    /// verifier checked: the figures are final, the leader is the winner.
    Certified,
}

/// The checkpoint the results are bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResultsCheckpoint {
    /// The log origin.
    pub origin: String,
    /// Tree size: the results count the log's first `size` entries.
    pub size: u64,
    /// Root hash, lowercase hex.
    pub root: String,
}

/// The results of an election at one checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Results {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// Election id.
    pub election: String,
    /// Election title.
    pub title: String,
    /// Provisional or certified.
    pub status: Status,
    /// The checkpoint the figures are bound to.
    pub checkpoint: ResultsCheckpoint,
    /// Every contest, in manifest order.
    pub contests: Vec<ContestResults>,
}

/// One contest: the whole election and every region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContestResults {
    /// Contest id.
    pub contest: String,
    /// Contest title.
    pub title: String,
    /// The whole election.
    pub election: Figures,
    /// Every region with units taking part in the contest, depth first
    /// (a region, then its subregions), siblings in manifest order.
    pub regions: Vec<RegionResults>,
}

/// One contest in one region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionResults {
    /// Region id.
    pub region: String,
    /// Region name.
    pub name: String,
    /// Parent region id (`None`: a top-level region).
    pub parent: Option<String>,
    /// Depth in the hierarchy: 0 for a top-level region.
    pub level: u32,
    /// Region ids from the top-level region down to this one.
    pub path: Vec<String>,
    /// The figures.
    pub figures: Figures,
}

/// One choice's votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChoiceResult {
    /// Choice id.
    pub choice: String,
    /// Choice name.
    pub name: String,
    /// Votes.
    pub votes: u64,
    /// Share of the valid votes (`None` when there are none).
    pub share_percent: Option<Percent>,
}

/// The figures of one contest at one level (whole election or region).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Every choice, in ballot (manifest) order.
    pub choices: Vec<ChoiceResult>,
    /// Valid votes: the sum of the choices' votes.
    pub valid: u64,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
    /// Registered voters of the units that reported.
    pub registered: u64,
    /// Ballots cast over registered voters of the units that reported.
    pub turnout_percent: Option<Percent>,
    /// Units with a counted tally.
    pub units_reporting: u64,
    /// Units taking part.
    pub units_expected: u64,
    /// Units reporting over units expected.
    pub reporting_percent: Option<Percent>,
    /// Registered voters of every unit taking part.
    pub registered_expected: u64,
    /// Registered voters of the units not yet reported.
    pub registered_outstanding: u64,
    /// The leader and whether the outstanding units can change it.
    pub outlook: Outlook,
}

/// The leader, the margin, and whether the outstanding units can still
/// change the leader (`spec/results.md` §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outlook {
    /// The choice with the most votes, when it is alone at the top with
    /// at least one vote.
    pub leader: Option<String>,
    /// The choices sharing the most votes when two or more do (and the
    /// most is at least one vote); empty otherwise.
    pub tied: Vec<String>,
    /// The choice with the second most votes (the first in ballot order
    /// among equals); `None` for a contest of one choice.
    pub runner_up: Option<String>,
    /// Votes of the first minus votes of the second (0 on a tie).
    pub margin: u64,
    /// Whether the leader is the winner: the results are certified.
    pub winner: Option<String>,
    /// Whether the registered voters of the units not yet reported, all
    /// voting for the runner-up (or any other choice), could change who
    /// leads.
    pub can_change: bool,
    /// The same in plain words.
    pub statement: String,
}

/// The totals do not belong to the manifest.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultsError {
    /// The totals are for another election.
    #[error("the totals are for election {totals}, the manifest for {manifest}")]
    OtherElection {
        /// The manifest's election.
        manifest: String,
        /// The totals' election.
        totals: String,
    },
    /// A row names a contest, region or choice the manifest does not have,
    /// or counts units the manifest does not give it.
    #[error("totals row for contest {contest} {}: {what}", region_label(.region))]
    RowNotInManifest {
        /// The row's contest.
        contest: String,
        /// The row's region.
        region: Option<String>,
        /// What is wrong.
        what: String,
    },
}

impl ResultsError {
    /// Stable kebab-case code of the error (`spec/results.md` §1).
    pub fn code(&self) -> &'static str {
        match self {
            ResultsError::OtherElection { .. } => "other-election",
            ResultsError::RowNotInManifest { .. } => "row-not-in-manifest",
        }
    }
}

fn region_label(r: &Option<String>) -> String {
    r.as_ref()
        .map_or_else(|| "(whole election)".to_owned(), |r| format!("region {r}"))
}

impl Results {
    /// The results of `totals` (recomputed from verified entries) under
    /// `manifest`. Every figure comes from the totals, except the
    /// registered voters of every unit taking part, which come from the
    /// manifest.
    pub fn compute(
        manifest: &Manifest,
        totals: &TotalsBody,
        status: Status,
    ) -> Result<Results, ResultsError> {
        if totals.election != manifest.election {
            return Err(ResultsError::OtherElection {
                manifest: manifest.election.clone(),
                totals: totals.election.clone(),
            });
        }
        let nr = manifest.regions.len();
        let nc = manifest.contests.len();
        // Units and registered voters taking part, per contest (whole
        // election at `c * (nr + 1)`, region r at `c * (nr + 1) + 1 + r`).
        let mut expected = vec![(0u64, 0u64); nc * (nr + 1)];
        for (ui, u) in manifest.units.iter().enumerate() {
            for c in &u.contests {
                let Some(ci) = manifest.contest_index(c) else {
                    continue;
                };
                let base = ci * (nr + 1);
                let slots = core::iter::once(base).chain(
                    manifest
                        .unit_regions(ui)
                        .iter()
                        .map(|&r| base + 1 + r as usize),
                );
                for s in slots {
                    if let Some(e) = expected.get_mut(s) {
                        e.0 += 1;
                        e.1 = e.1.saturating_add(u.registered);
                    }
                }
            }
        }
        let mut rows: HashMap<(usize, Option<usize>), &TotalsRow> = HashMap::new();
        for row in &totals.rows {
            let bad = |what: &str| ResultsError::RowNotInManifest {
                contest: row.contest.clone(),
                region: row.region.clone(),
                what: what.to_owned(),
            };
            let ci = manifest
                .contest_index(&row.contest)
                .ok_or_else(|| bad("no such contest"))?;
            let ri = match &row.region {
                None => None,
                Some(r) => Some(
                    manifest
                        .region_index(r)
                        .ok_or_else(|| bad("no such region"))?,
                ),
            };
            for choice in row.choices.keys() {
                if manifest.choice_index(ci, choice).is_none() {
                    return Err(bad(&format!("no choice {choice} in the contest")));
                }
            }
            let slot = ci * (nr + 1) + ri.map_or(0, |r| r + 1);
            let units = expected.get(slot).map_or(0, |e| e.0);
            if row.units_expected != units || row.units_reporting > units {
                return Err(bad(&format!(
                    "{} of {} units reporting, the manifest gives it {units}",
                    row.units_reporting, row.units_expected
                )));
            }
            rows.insert((ci, ri), row);
        }
        let order = region_order(manifest);
        let mut contests = Vec::with_capacity(nc);
        for (ci, contest) in manifest.contests.iter().enumerate() {
            let base = ci * (nr + 1);
            let figures = |ri: Option<usize>| {
                let slot = base + ri.map_or(0, |r| r + 1);
                let (units, registered) = expected.get(slot).copied().unwrap_or((0, 0));
                Figures::new(
                    manifest,
                    ci,
                    rows.get(&(ci, ri)).copied(),
                    units,
                    registered,
                    status,
                )
            };
            let mut regions = Vec::new();
            for (ri, level) in &order {
                let slot = base + 1 + ri;
                if expected.get(slot).is_none_or(|e| e.0 == 0) {
                    continue;
                }
                let r = &manifest.regions[*ri];
                let mut path: Vec<String> = manifest
                    .region_ancestors(*ri)
                    .iter()
                    .rev()
                    .filter_map(|&a| manifest.regions.get(a as usize).map(|x| x.id.clone()))
                    .collect();
                if path.is_empty() {
                    path.push(r.id.clone());
                }
                regions.push(RegionResults {
                    region: r.id.clone(),
                    name: r.name.clone(),
                    parent: r.parent.clone(),
                    level: *level,
                    path,
                    figures: figures(Some(*ri)),
                });
            }
            contests.push(ContestResults {
                contest: contest.id.clone(),
                title: contest.title.clone(),
                election: figures(None),
                regions,
            });
        }
        Ok(Results {
            version: SCHEMA_VERSION,
            election: manifest.election.clone(),
            title: manifest.title.clone(),
            status,
            checkpoint: ResultsCheckpoint {
                origin: totals.checkpoint.origin.clone(),
                size: totals.checkpoint.size,
                root: totals.checkpoint.root.to_hex(),
            },
            contests,
        })
    }

    /// The contest `id`.
    pub fn contest(&self, id: &str) -> Option<&ContestResults> {
        self.contests.iter().find(|c| c.contest == id)
    }

    /// The results JSON (`spec/results.schema.json`), pretty-printed with
    /// a final newline: the same results give the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

impl ContestResults {
    /// The figures of region `id`, if units of it take part.
    pub fn region(&self, id: &str) -> Option<&RegionResults> {
        self.regions.iter().find(|r| r.region == id)
    }
}

impl Figures {
    fn new(
        manifest: &Manifest,
        ci: usize,
        row: Option<&TotalsRow>,
        units_expected: u64,
        registered_expected: u64,
        status: Status,
    ) -> Figures {
        let contest = &manifest.contests[ci];
        let votes = |id: &str| row.and_then(|r| r.choices.get(id).copied()).unwrap_or(0);
        let valid = contest
            .choices
            .iter()
            .fold(0u64, |a, c| a.saturating_add(votes(&c.id)));
        let choices: Vec<ChoiceResult> = contest
            .choices
            .iter()
            .map(|c| ChoiceResult {
                choice: c.id.clone(),
                name: c.name.clone(),
                votes: votes(&c.id),
                share_percent: Percent::of(votes(&c.id), valid),
            })
            .collect();
        let get = |f: fn(&TotalsRow) -> u64| row.map_or(0, f);
        let registered = get(|r| r.registered);
        let ballots_cast = get(|r| r.ballots_cast);
        let units_reporting = get(|r| r.units_reporting);
        let registered_outstanding = registered_expected.saturating_sub(registered);
        let all_in = units_reporting >= units_expected;
        let outlook = Outlook::new(&choices, registered_outstanding, all_in, status);
        Figures {
            choices,
            valid,
            blank: get(|r| r.blank),
            invalid: get(|r| r.invalid),
            ballots_cast,
            registered,
            turnout_percent: Percent::of(ballots_cast, registered),
            units_reporting,
            units_expected,
            reporting_percent: Percent::of(units_reporting, units_expected),
            registered_expected,
            registered_outstanding,
            outlook,
        }
    }

    /// The votes of choice `id`.
    pub fn choice(&self, id: &str) -> Option<&ChoiceResult> {
        self.choices.iter().find(|c| c.choice == id)
    }
}

impl Outlook {
    fn new(choices: &[ChoiceResult], outstanding: u64, all_in: bool, status: Status) -> Outlook {
        // Ballot order breaks ties between equal votes, for the runner-up
        // only: a tie at the top has no leader.
        let mut ranked: Vec<&ChoiceResult> = choices.iter().collect();
        ranked.sort_by_key(|c| core::cmp::Reverse(c.votes));
        let top = ranked.first().map_or(0, |c| c.votes);
        let second = ranked.get(1).map(|c| c.votes);
        let margin = top - second.unwrap_or(0).min(top);
        let at_top: Vec<String> = ranked
            .iter()
            .take_while(|c| c.votes == top)
            .map(|c| c.choice.clone())
            .collect();
        let (leader, tied) = if top == 0 {
            (None, Vec::new())
        } else if at_top.len() == 1 {
            (at_top.first().cloned(), Vec::new())
        } else {
            (None, at_top)
        };
        let runner_up = ranked.get(1).map(|c| c.choice.clone());
        // The outstanding voters, all for the runner-up, reach or pass the
        // leader when they are at least the margin; with nobody left to
        // report nothing changes.
        let can_change = outstanding > 0 && outstanding >= margin;
        let winner = match status {
            Status::Certified => leader.clone(),
            Status::Provisional => None,
        };
        let statement = match (status, all_in, can_change) {
            (Status::Certified, _, _) => "final, certified results".to_owned(),
            (Status::Provisional, true, _) => "every unit has reported".to_owned(),
            (Status::Provisional, false, false) => {
                "the outstanding units cannot change the leader".to_owned()
            }
            (Status::Provisional, false, true) => {
                "the outstanding units can change the leader".to_owned()
            }
        };
        Outlook {
            leader,
            tied,
            runner_up,
            margin,
            winner,
            can_change,
            statement,
        }
    }
}

/// Every region with its depth, depth first (a region, then its
/// subregions), siblings in manifest order.
fn region_order(manifest: &Manifest) -> Vec<(usize, u32)> {
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, r) in manifest.regions.iter().enumerate() {
        let parent = r.parent.as_deref().and_then(|p| manifest.region_index(p));
        children.entry(parent).or_default().push(i);
    }
    let mut out = Vec::with_capacity(manifest.regions.len());
    let mut stack: Vec<(usize, u32)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    while let Some((i, level)) = stack.pop() {
        out.push((i, level));
        if let Some(kids) = children.get(&Some(i)) {
            stack.extend(kids.iter().rev().map(|&k| (k, level + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(votes: &[u64]) -> Vec<ChoiceResult> {
        votes
            .iter()
            .enumerate()
            .map(|(i, &v)| ChoiceResult {
                choice: format!("c{i}"),
                name: format!("C{i}"),
                votes: v,
                share_percent: None,
            })
            .collect()
    }

    fn outlook(votes: &[u64], outstanding: u64) -> Outlook {
        Outlook::new(
            &choices(votes),
            outstanding,
            outstanding == 0,
            Status::Provisional,
        )
    }

    #[test]
    fn the_margin_decides_whether_the_outstanding_voters_can_change_the_leader() {
        let o = outlook(&[100, 60, 70], 29);
        assert_eq!(o.leader.as_deref(), Some("c0"));
        assert_eq!(o.runner_up.as_deref(), Some("c2"));
        assert_eq!(o.margin, 30);
        assert!(!o.can_change);
        assert_eq!(
            o.statement,
            "the outstanding units cannot change the leader"
        );
        // 30 more for the runner-up ties: the leader is no longer alone.
        assert!(outlook(&[100, 60, 70], 30).can_change);
        assert!(outlook(&[100, 60, 70], 31).can_change);
        assert_eq!(
            outlook(&[100, 60, 70], 31).statement,
            "the outstanding units can change the leader"
        );
    }

    #[test]
    fn ties_and_empty_contests_have_no_leader() {
        let o = outlook(&[50, 50, 10], 0);
        assert_eq!(o.leader, None);
        assert_eq!(o.tied, ["c0", "c1"]);
        assert_eq!(o.runner_up.as_deref(), Some("c1"));
        assert_eq!(o.margin, 0);
        assert!(!o.can_change, "nobody left to vote");
        assert!(outlook(&[50, 50, 10], 1).can_change);
        let o = outlook(&[0, 0], 10);
        assert_eq!((o.leader, o.tied.len(), o.margin), (None, 0, 0));
        assert!(o.can_change);
        let o = outlook(&[7], 3);
        assert_eq!(
            (o.leader.as_deref(), o.runner_up, o.margin),
            (Some("c0"), None, 7)
        );
        assert!(!o.can_change);
    }

    #[test]
    fn the_leader_is_the_winner_once_certified() {
        let o = Outlook::new(&choices(&[3, 5]), 0, true, Status::Certified);
        assert_eq!(o.winner.as_deref(), Some("c1"));
        assert_eq!(o.statement, "final, certified results");
    }
}
