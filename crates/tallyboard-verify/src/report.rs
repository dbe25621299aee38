//! The verifier's report: findings with stable codes, the JSON form for
//! newsroom scripts, and the plain-words terminal summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use tallyboard_results::{Figures, Results, Status, UnitResult, thousands};

use crate::codes::FindingCode;
pub use crate::status::ResultsStatus;

/// How serious a finding is. Every finding makes the verdict "findings"
/// (exit status 1); the severity orders the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The log or a source lied: split view, data that does not hash to a
    /// signed checkpoint, a forged signature, totals that differ.
    Critical,
    /// A broken rule, a backup channel that disagrees.
    Error,
    /// Something to follow up: a source down or behind, units not reporting.
    Warning,
}

/// One discrepancy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code (spec/verify.md §5).
    pub code: FindingCode,
    /// How serious.
    pub severity: Severity,
    /// What happened, in plain words.
    pub message: String,
    /// What to do about it.
    pub action: String,
    /// The source concerned (base URL or directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The reporting unit concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The contest concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest: Option<String>,
    /// The region concerned (`None` with a contest: the whole election).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The log index of the entry concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The figure concerned (`choice <id>`, `blank`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    /// The figure as published (or as the backup channel gives it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<serde_json::Value>,
    /// The figure recomputed from the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recomputed: Option<serde_json::Value>,
    /// Units concerned (units-missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// Files in the evidence directory that prove the finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// The number (1-based, in the report's order) of the finding this one
    /// follows from, listed just before it (spec/verify.md §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follows_from: Option<usize>,
    /// The log index of the entry whose finding this one follows from (set
    /// by the verifier; [`Report::finish`] turns it into `follows_from`).
    #[serde(skip)]
    pub cause_index: Option<u64>,
}

impl Finding {
    /// A finding with a code and a message; its severity and the action
    /// are the code's. The other fields are set with the builder methods.
    pub fn new(code: FindingCode, message: String) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            message,
            action: code.advice().to_owned(),
            source: None,
            unit: None,
            contest: None,
            region: None,
            index: None,
            figure: None,
            published: None,
            recomputed: None,
            units: Vec::new(),
            evidence: Vec::new(),
            follows_from: None,
            cause_index: None,
        }
    }

    /// Sets a severity other than the code's usual one.
    pub fn severity(mut self, s: Severity) -> Finding {
        self.severity = s;
        self
    }

    /// Sets the source.
    pub fn source(mut self, s: &str) -> Finding {
        self.source = Some(s.to_owned());
        self
    }

    /// Sets unit and contest.
    pub fn unit_contest(mut self, unit: &str, contest: &str) -> Finding {
        self.unit = Some(unit.to_owned());
        self.contest = Some(contest.to_owned());
        self
    }

    /// Sets the log index.
    pub fn index(mut self, i: u64) -> Finding {
        self.index = Some(i);
        self
    }
}

/// The overall result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check passed (exit 0).
    Pass,
    /// The verifier ran and found discrepancies (exit 1).
    Findings,
    /// It could not verify: nothing reachable, no valid manifest (exit 2).
    CouldNotVerify,
}

impl Verdict {
    /// The exit status of DESIGN.md.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Findings => 1,
            Verdict::CouldNotVerify => 2,
        }
    }
}

/// What was learnt about one source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    /// Base URL or directory.
    pub source: String,
    /// Whether its checkpoint was fetched.
    pub reachable: bool,
    /// Its checkpoint's size, if it opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its checkpoint's root (hex), if it opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Witness cosignatures on its checkpoint (names).
    pub cosigned_by: Vec<String>,
    /// Whether its data (every bundle up to its checkpoint) hashed to its
    /// checkpoint.
    pub data_verified: bool,
    /// Whether it serves the trusted manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Whether its signed totals matched the recomputed ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<String>,
}

/// The log as verified.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LogReport {
    /// The log's origin.
    pub origin: String,
    /// Size of the checkpoint verified in full.
    pub size: u64,
    /// Its root (hex).
    pub root: String,
    /// Entries read and checked.
    pub entries_checked: u64,
    /// Seconds the entry-by-entry check took (reading, hashing, signatures,
    /// rules, totals).
    pub check_seconds: f64,
    /// The source whose bundles were checked entry by entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_from: Option<String>,
    /// Whether the checkpoint of the tree checked carries the witness
    /// quorum (false also when no tree was checked).
    pub witnessed: bool,
}

/// Completeness of one (contest, region) row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompletenessRow {
    /// Contest id.
    pub contest: String,
    /// Region id (`None`: the whole election).
    pub region: Option<String>,
    /// Units that take part.
    pub units_expected: u64,
    /// Units with a tally in the log.
    pub units_reporting: u64,
    /// `units_reporting / units_expected` (1 when none expected).
    pub share_reporting: f64,
}

/// One correction in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Correction {
    /// Unit.
    pub unit: String,
    /// Contest.
    pub contest: String,
    /// Log index of the correction.
    pub index: u64,
    /// Its revision (2 or more: revision 1 is the first publication).
    pub revision: u64,
    /// Leaf hash (hex) of the entry it supersedes.
    pub supersedes: String,
    /// The reason given.
    pub reason: String,
    /// When it was counted (RFC 3339).
    pub counted_at: String,
}

/// Completeness of the results.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Completeness {
    /// Per contest and region.
    pub rows: Vec<CompletenessRow>,
    /// Units without a tally, per contest.
    pub missing: BTreeMap<String, Vec<String>>,
    /// Every correction, in log order.
    pub corrections: Vec<Correction>,
    /// The last units to report: the first publications with the latest
    /// times of count (at most 20), latest first.
    pub last_to_report: Vec<LateUnit>,
}

/// A unit among the last to report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LateUnit {
    /// Unit.
    pub unit: String,
    /// Contest.
    pub contest: String,
    /// Log index of its first publication.
    pub index: u64,
    /// When it was counted (RFC 3339).
    pub counted_at: String,
}

/// Results of the observers' CSV.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ObserverReport {
    /// Rows compared.
    pub rows: u64,
    /// Rows that match the log.
    pub matched: u64,
    /// `matched / rows`.
    pub match_rate: f64,
}

/// Results of the paper channel (printed sheets).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PaperReport {
    /// Sheets compared (one per signed tally found in the inputs).
    pub sheets: u64,
    /// Sheets whose signed tally is the log's latest revision, byte for byte.
    pub matched: u64,
    /// `matched / sheets`.
    pub match_rate: f64,
}

/// What the report keeps beside the JSON: per-unit rows for the exports,
/// the revisions of the units asked for, the signed checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportDetails {
    /// The counted revision of every unit and contest (when asked for).
    pub units: Vec<UnitResult>,
    /// Every counted revision of the units asked for, in log order.
    pub revisions: Vec<UnitRevision>,
    /// The signed checkpoint of the tree checked, as served.
    pub checkpoint_note: String,
    /// The latest time of count of any counted tally (0 when none).
    pub as_of: u64,
    /// The manifest the results are computed under.
    pub manifest: Option<std::sync::Arc<tallyboard_core::manifest::Manifest>>,
}

/// One counted revision of a unit's tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitRevision {
    /// Unit.
    pub unit: String,
    /// Contest.
    pub contest: String,
    /// Log index.
    pub index: u64,
    /// Revision (1: the first publication).
    pub revision: u64,
    /// Time of count (RFC 3339).
    pub counted_at: String,
    /// The reason given for a correction.
    pub reason: Option<String>,
    /// Votes per choice id.
    pub choices: BTreeMap<String, u64>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
}

impl UnitRevision {
    /// The revision of a counted entry.
    pub fn of(l: &crate::check::Latest) -> UnitRevision {
        let t = l.tally.tally();
        UnitRevision {
            unit: t.unit.clone(),
            contest: t.contest.clone(),
            index: l.index,
            revision: t.revision,
            counted_at: tallyboard_core::time::format_rfc3339(t.counted_at),
            reason: t.reason.clone(),
            choices: t.choices.clone(),
            blank: t.blank,
            invalid: t.invalid,
            ballots_cast: t.ballots_cast,
        }
    }
}

/// What the text report shows beyond the whole election.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Regions whose results are shown too.
    pub regions: Vec<String>,
    /// Units whose counted figures and revisions are shown.
    pub units: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Every finding, most serious first.
    pub findings: Vec<Finding>,
    /// Findings not listed (past the cap per code), by code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub findings_not_listed: BTreeMap<FindingCode, u64>,
    /// Per source.
    pub sources: Vec<SourceReport>,
    /// The log.
    pub log: LogReport,
    /// Completeness.
    pub completeness: Completeness,
    /// The verified results (`spec/results.md`, `spec/results.schema.json`):
    /// every contest for the whole election and every region, recomputed
    /// from the verified entries of the tree in `log`; `null` when no tree
    /// could be verified.
    pub results: Option<Results>,
    /// What the text report and the exports add on request; not in the
    /// JSON report.
    #[serde(skip)]
    pub details: ReportDetails,
    /// Units reporting, due time, provisional or final (certified).
    pub status: ResultsStatus,
    /// The observers' CSV, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observers: Option<ObserverReport>,
    /// The printed sheets, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperReport>,
    /// Remarks that are not findings (inputs skipped, checks not possible).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why verification could not be done, when the verdict says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub could_not_verify: Option<String>,
}

impl Report {
    /// An empty report that could not verify, for `why`.
    pub fn could_not_verify(why: String) -> Report {
        Report {
            verdict: Verdict::CouldNotVerify,
            findings: Vec::new(),
            findings_not_listed: BTreeMap::new(),
            sources: Vec::new(),
            log: LogReport::default(),
            completeness: Completeness::default(),
            results: None,
            details: ReportDetails::default(),
            status: ResultsStatus::default(),
            observers: None,
            paper: None,
            notes: Vec::new(),
            could_not_verify: Some(why),
        }
    }

    /// Sorts findings (most serious first, then by code, unit, index) and
    /// sets the verdict from them unless it is could-not-verify.
    pub fn finish(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                a.severity,
                a.code.rank(),
                &a.code,
                &a.unit,
                &a.contest,
                a.index,
            )
                .cmp(&(
                    b.severity,
                    b.code.rank(),
                    &b.code,
                    &b.unit,
                    &b.contest,
                    b.index,
                ))
        });
        self.findings = causes_first(std::mem::take(&mut self.findings));
        if self.verdict != Verdict::CouldNotVerify {
            self.verdict = if self.findings.is_empty() && self.findings_not_listed.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Findings
            };
        }
    }

    /// The JSON report.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The terminal summary: verdict first, then the results of every
    /// contest, each finding in plain words with what to do, then the log,
    /// sources and completeness.
    pub fn to_text(&self) -> String {
        self.to_text_with(&TextOptions::default())
    }

    /// [`Report::to_text`], with the results of the regions and units of
    /// `opts` too.
    pub fn to_text_with(&self, opts: &TextOptions) -> String {
        let mut s = String::new();
        let n = self.findings.len() as u64 + self.findings_not_listed.values().sum::<u64>();
        match self.verdict {
            Verdict::Pass if self.status.in_progress() => {
                let _ = writeln!(
                    s,
                    "VERDICT: PASS, {} OF {} UNITS REPORTING. Every check passed: what is published so far is the sum of the tallies the responsible count centres signed, and every source showed the same log. The other units' results are not due yet.",
                    self.status.units_reporting, self.status.units_expected
                );
            }
            Verdict::Pass => {
                let _ = writeln!(
                    s,
                    "VERDICT: ALL CHECKS PASSED. The published results are the sum of the tallies the responsible count centres signed, and every source showed the same log."
                );
            }
            Verdict::Findings => {
                let _ = writeln!(
                    s,
                    "VERDICT: PROBLEMS FOUND ({n}). Read each one below; the evidence files prove them to anyone."
                );
            }
            Verdict::CouldNotVerify => {
                let _ = writeln!(
                    s,
                    "VERDICT: COULD NOT VERIFY. {}",
                    self.could_not_verify.as_deref().unwrap_or("")
                );
            }
        }
        if self.verdict != Verdict::CouldNotVerify {
            let _ = writeln!(s, "{}", self.status.line());
        }
        self.results_text(&mut s, opts);
        for (i, f) in self.findings.iter().enumerate() {
            let _ = writeln!(s);
            if let Some(cause) = f.follows_from {
                let _ = writeln!(s, "   (follows from {cause} above)");
            }
            let sev = match f.severity {
                Severity::Critical => "CRITICAL",
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
            };
            let _ = writeln!(s, "{}. [{sev}] {} ({})", i + 1, f.message, f.code);
            let _ = writeln!(s, "   What to do: {}", f.action);
            if !f.evidence.is_empty() {
                let _ = writeln!(s, "   Evidence: {}", f.evidence.join(", "));
            }
        }
        for (code, k) in &self.findings_not_listed {
            let _ = writeln!(
                s,
                "\n... and {k} more findings of kind {code} (not listed)."
            );
        }
        let _ = writeln!(s);
        if self.log.size > 0 || self.log.entries_checked > 0 {
            let _ = writeln!(
                s,
                "Log {}: {} entries checked, tree size {}, root {}{}.",
                self.log.origin,
                self.log.entries_checked,
                self.log.size,
                self.log.root,
                self.log
                    .checked_from
                    .as_deref()
                    .map(|c| format!(", read from {c}"))
                    .unwrap_or_default()
            );
        }
        for src in &self.sources {
            let state = match (src.reachable, src.size) {
                (false, _) => "unreachable".to_owned(),
                (true, None) => "checkpoint not valid".to_owned(),
                (true, Some(size)) => format!(
                    "size {size}, cosigned by {}{}",
                    if src.cosigned_by.is_empty() {
                        "no witness".to_owned()
                    } else {
                        src.cosigned_by.join(", ")
                    },
                    if src.data_verified {
                        ", data verified"
                    } else {
                        ""
                    }
                ),
            };
            let totals = src
                .totals
                .as_deref()
                .map(|t| format!("; published totals: {t}"))
                .unwrap_or_default();
            let _ = writeln!(s, "Source {}: {state}{totals}.", src.source);
        }
        let whole: Vec<&CompletenessRow> = self
            .completeness
            .rows
            .iter()
            .filter(|r| r.region.is_none())
            .collect();
        for r in whole {
            let _ = writeln!(
                s,
                "Contest {}: {} of {} units reporting ({:.1}%).",
                r.contest,
                r.units_reporting,
                r.units_expected,
                r.share_reporting * 100.0
            );
        }
        if !self.completeness.last_to_report.is_empty() {
            let last: Vec<String> = self
                .completeness
                .last_to_report
                .iter()
                .take(5)
                .map(|l| format!("{} {} (counted {})", l.unit, l.contest, l.counted_at))
                .collect();
            let _ = writeln!(s, "Last to report: {}.", last.join("; "));
        }
        if !self.completeness.corrections.is_empty() {
            let _ = writeln!(
                s,
                "Corrections in the log: {} (only the latest revision of each unit counts):",
                self.completeness.corrections.len()
            );
            for c in self.completeness.corrections.iter().take(20) {
                let _ = writeln!(
                    s,
                    "  unit {} contest {}: revision {} at index {}, reason: {}",
                    c.unit, c.contest, c.revision, c.index, c.reason
                );
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "Note: {n}.");
        }
        if let Some(o) = &self.observers {
            let _ = writeln!(
                s,
                "Observers' counts: {} of {} figures match the log ({:.1}%).",
                o.matched,
                o.rows,
                o.match_rate * 100.0
            );
        }
        if let Some(p) = &self.paper {
            let _ = writeln!(
                s,
                "Printed sheets: {} of {} match the log ({:.1}%).",
                p.matched,
                p.sheets,
                p.match_rate * 100.0
            );
        }
        s
    }

    /// The results block of the text report (`spec/results.md` §4).
    fn results_text(&self, s: &mut String, opts: &TextOptions) {
        let Some(r) = &self.results else {
            return;
        };
        let _ = writeln!(s);
        let status = match r.status {
            Status::Provisional => "PROVISIONAL RESULTS",
            Status::Certified => "FINAL, CERTIFIED RESULTS",
        };
        let _ = writeln!(
            s,
            "{status} of {}, recomputed from the verified entries of the log {} at checkpoint size {}, root {}{}.",
            r.title,
            r.checkpoint.origin,
            thousands(r.checkpoint.size),
            r.checkpoint.root,
            if self.details.as_of > 0 {
                format!(
                    " (latest count {})",
                    tallyboard_core::time::format_rfc3339(self.details.as_of)
                )
            } else {
                String::new()
            }
        );
        for c in &r.contests {
            let _ = writeln!(s);
            let _ = writeln!(s, "{} ({}), whole election:", c.title, c.contest);
            self.figures_text(s, &c.contest, None, &c.election);
            for id in &opts.regions {
                match c.region(id) {
                    Some(rr) => {
                        let _ = writeln!(
                            s,
                            "{} ({}), region {} ({}):",
                            c.title,
                            c.contest,
                            rr.name,
                            rr.path.join(" > ")
                        );
                        self.figures_text(s, &c.contest, Some(id), &rr.figures);
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "{} ({}): no unit of region {id} takes part.",
                            c.title, c.contest
                        );
                    }
                }
            }
        }
        for id in &opts.units {
            self.unit_text(s, r, id);
        }
    }

    /// The figure `figure` of (contest, region) with, when a source
    /// published another value, that value too.
    fn shown(&self, contest: &str, region: Option<&str>, figure: &str, value: u64) -> String {
        let mut out = thousands(value);
        for f in &self.findings {
            if f.code == FindingCode::TotalsMismatch
                && f.contest.as_deref() == Some(contest)
                && f.region.as_deref() == region
                && f.figure.as_deref() == Some(figure)
            {
                let published = f
                    .published
                    .as_ref()
                    .and_then(serde_json::Value::as_u64)
                    .map_or_else(|| "nothing".to_owned(), thousands);
                let _ = write!(
                    out,
                    " [{} PUBLISHED {published}]",
                    f.source.as_deref().unwrap_or("a source")
                );
            }
        }
        out
    }

    fn figures_text(&self, s: &mut String, contest: &str, region: Option<&str>, f: &Figures) {
        let pct = |p: Option<tallyboard_results::Percent>| {
            p.map_or_else(|| "-".to_owned(), |p| p.to_string())
        };
        let width = f
            .choices
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        for c in &f.choices {
            let votes = self.shown(contest, region, &format!("choice {}", c.choice), c.votes);
            let _ = writeln!(
                s,
                "  {:<width$}  {:>12}  {:>7}",
                c.name,
                votes,
                pct(c.share_percent)
            );
        }
        let _ = writeln!(
            s,
            "  valid {}, blank {}, invalid {}, ballots cast {}; registered {}, turnout {}",
            thousands(f.valid),
            self.shown(contest, region, "blank", f.blank),
            self.shown(contest, region, "invalid", f.invalid),
            self.shown(contest, region, "ballots_cast", f.ballots_cast),
            self.shown(contest, region, "registered", f.registered),
            pct(f.turnout_percent)
        );
        let _ = writeln!(
            s,
            "  {} of {} units reporting ({})",
            self.shown(contest, region, "units_reporting", f.units_reporting),
            self.shown(contest, region, "units_expected", f.units_expected),
            pct(f.reporting_percent)
        );
        let name = |id: &str| {
            f.choice(id)
                .map_or_else(|| id.to_owned(), |c| c.name.clone())
        };
        let o = &f.outlook;
        let who = match (&o.winner, &o.leader) {
            (Some(w), _) => format!("Winner: {}", name(w)),
            (None, Some(l)) => format!("Leader: {}", name(l)),
            (None, None) if !o.tied.is_empty() => format!(
                "Tied: {}",
                o.tied
                    .iter()
                    .map(|t| name(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, None) => "No votes counted yet".to_owned(),
        };
        let margin = match (&o.leader, &o.runner_up) {
            (Some(_), Some(r)) => format!(", {} votes ahead of {}", thousands(o.margin), name(r)),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {who}{margin}. Registered voters in units not yet reported: {}; {}.",
            thousands(f.registered_outstanding),
            o.statement
        );
    }

    fn unit_text(&self, s: &mut String, r: &Results, id: &str) {
        let _ = writeln!(s);
        let rows: Vec<&UnitResult> = self.details.units.iter().filter(|u| u.unit == id).collect();
        let revs: Vec<&UnitRevision> = self
            .details
            .revisions
            .iter()
            .filter(|u| u.unit == id)
            .collect();
        if revs.is_empty() {
            let _ = writeln!(s, "Unit {id}: no counted tally in the log verified.");
            return;
        }
        let mut contests: Vec<&str> = revs.iter().map(|v| v.contest.as_str()).collect();
        contests.sort_unstable();
        contests.dedup();
        for contest in contests {
            let title = r.contest(contest).map_or(contest, |c| c.title.as_str());
            let mine: Vec<&&UnitRevision> = revs.iter().filter(|v| v.contest == contest).collect();
            let Some(last) = mine.iter().max_by_key(|v| (v.revision, v.index)) else {
                continue;
            };
            let _ = writeln!(
                s,
                "Unit {id}, {title} ({contest}): revision {} counted {} (log index {}):",
                last.revision, last.counted_at, last.index
            );
            let order: Vec<(String, String)> = r
                .contest(contest)
                .map(|c| {
                    c.election
                        .choices
                        .iter()
                        .map(|x| (x.choice.clone(), x.name.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let width = order
                .iter()
                .map(|(_, n)| n.chars().count())
                .max()
                .unwrap_or(0);
            for (cid, cname) in &order {
                let v = last.choices.get(cid).copied().unwrap_or(0);
                let _ = writeln!(s, "  {cname:<width$}  {:>12}", thousands(v));
            }
            let registered = rows
                .iter()
                .find(|u| u.contest == contest)
                .map(|u| format!(", registered {}", thousands(u.registered)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  blank {}, invalid {}, ballots cast {}{registered}",
                thousands(last.blank),
                thousands(last.invalid),
                thousands(last.ballots_cast)
            );
            if mine.len() > 1 {
                let _ = writeln!(s, "  Revisions:");
                for v in &mine {
                    let _ = writeln!(
                        s,
                        "    revision {} at log index {}, counted {}{}",
                        v.revision,
                        v.index,
                        v.counted_at,
                        v.reason
                            .as_deref()
                            .map(|x| format!(", reason: {x}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
}

/// Puts each finding that follows from another (its `cause_index` names
/// the log index of an entry some other finding is about) just after that
/// finding, and numbers the link in `follows_from` (spec/verify.md §5.1).
/// The order is otherwise kept.
fn causes_first(findings: Vec<Finding>) -> Vec<Finding> {
    let mut causes: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for (p, f) in findings.iter().enumerate() {
        if let (None, Some(i)) = (f.cause_index, f.index) {
            causes.entry(i).or_insert(p);
        }
    }
    let mut top: Vec<(usize, Finding)> = Vec::with_capacity(findings.len());
    let mut children: BTreeMap<usize, Vec<Finding>> = BTreeMap::new();
    for (p, f) in findings.into_iter().enumerate() {
        match f.cause_index.and_then(|i| causes.get(&i).copied()) {
            Some(c) => children.entry(c).or_default().push(f),
            None => top.push((p, f)),
        }
    }
    let mut out = Vec::with_capacity(top.len());
    for (p, f) in top {
        out.push(f);
        let cause = out.len();
        for mut c in children.remove(&p).unwrap_or_default() {
            c.follows_from = Some(cause);
            out.push(c);
        }
    }
    out
}
