//! The paper channel (spec/verify.md §4.6): each printed sheet's signed
//! tally against the log.

use super::*;
use crate::paper::PaperProblem;
use crate::report::PaperReport;

impl Run<'_> {
    /// Each sheet's signed tally must be, byte for byte, the latest
    /// revision of its unit and contest in the log.
    pub(super) async fn check_paper(&mut self) {
        let sheets = std::mem::take(&mut self.loaded.paper);
        if sheets.is_empty() {
            return;
        }
        let mut matched = 0u64;
        for s in &sheets {
            let name = if s.fingerprint.is_empty() {
                s.name.clone()
            } else {
                format!("{} (fingerprint {})", s.name, s.fingerprint)
            };
            let t = match &s.tally {
                Ok(t) => t,
                Err(PaperProblem::Unreadable(why)) => {
                    let f = Finding::new(
                        FindingCode::PaperUnreadable,
                        format!("The printed sheet {name} cannot be checked: {why}."),
                    );
                    self.add(f);
                    continue;
                }
                Err(PaperProblem::NotGenuine(why)) => {
                    let mut f = Finding::new(
                        FindingCode::PaperNotGenuine,
                        format!(
                            "The printed sheet {name} is not a genuine signed tally: {why}. Its codes were not produced by the count centre's key."
                        ),
                    );
                    if let Some(b) = &s.bytes {
                        self.backup_evidence(&mut f, b);
                    }
                    self.add(f);
                    continue;
                }
            };
            let tally = t.tally();
            let (unit, contest) = (tally.unit.clone(), tally.contest.clone());
            let latest = self.checker.latest(&unit, &contest).cloned();
            let in_log = self.checker.revisions().contains(&t.leaf_hash());
            match latest {
                Some(l) if l.tally.as_bytes() == t.as_bytes() => matched += 1,
                Some(l) => {
                    let lt = l.tally.tally();
                    let code = if in_log {
                        FindingCode::PaperSuperseded
                    } else {
                        FindingCode::PaperContradictsLog
                    };
                    let what = if in_log {
                        format!(
                            "is revision {} of unit {unit}, contest {contest}, which the log holds but a later correction superseded: the revision that counts is {} (entry {}, reason: {}), with {} ballots cast where the sheet shows {}",
                            tally.revision,
                            lt.revision,
                            l.index,
                            lt.reason.as_deref().unwrap_or("none given"),
                            lt.ballots_cast,
                            tally.ballots_cast
                        )
                    } else {
                        format!(
                            "carries a tally of unit {unit}, contest {contest} signed by the count centre (revision {}, {} ballots cast) that the log does not hold: the log's latest revision is entry {} (revision {}, {} ballots cast)",
                            tally.revision,
                            tally.ballots_cast,
                            l.index,
                            lt.revision,
                            lt.ballots_cast
                        )
                    };
                    let mut f = Finding::new(code, format!("The printed sheet {name} {what}."))
                        .unit_contest(&unit, &contest)
                        .index(l.index);
                    f.published = Some(serde_json::Value::from(lt.ballots_cast));
                    f.recomputed = Some(serde_json::Value::from(tally.ballots_cast));
                    self.backup_evidence(&mut f, t.as_bytes());
                    if let Some(ev) = self
                        .entry_evidence(l.index, l.tally.as_bytes(), &f.message.clone())
                        .await
                    {
                        f.evidence.push(ev);
                    }
                    self.add(f);
                }
                None => {
                    let mut f = Finding::new(
                        FindingCode::PaperNotInLog,
                        format!(
                            "The printed sheet {name} carries a validly signed tally of unit {unit}, contest {contest}, but the log has no tally for that unit and contest."
                        ),
                    )
                    .unit_contest(&unit, &contest);
                    self.backup_evidence(&mut f, t.as_bytes());
                    self.add(f);
                }
            }
        }
        let n = sheets.len() as u64;
        self.paper = Some(PaperReport {
            sheets: n,
            matched,
            match_rate: matched as f64 / n as f64,
        });
        self.loaded.paper = sheets;
    }
}
