//! Completeness (spec/verify.md §4.7) and the results (spec/results.md).

use super::*;

impl Run<'_> {
    /// The time the due time is judged by: the configured one, else the
    /// verifier's own clock (never a time a source gave, so a server that
    /// keeps its clock back cannot make missing units look like progress).
    fn clock(&self) -> u64 {
        self.config.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
    }

    /// Completeness and where the night stands, with the units-missing
    /// findings once the results are due.
    pub(super) fn completeness(&mut self) {
        self.completeness_data();
        if !self.status.due {
            return;
        }
        let missing = self.completeness.missing.clone();
        for (contest, units) in &missing {
            let shown: Vec<&str> = units.iter().take(20).map(String::as_str).collect();
            let more = if units.len() > 20 {
                format!(" and {} more", units.len() - 20)
            } else {
                String::new()
            };
            let due = self
                .status
                .results_due
                .as_deref()
                .map(|d| format!(" (results were due at {d})"))
                .unwrap_or_default();
            let mut f = Finding::new(
                FindingCode::UnitsMissing,
                format!(
                    "{} reporting units have no tally in the log for contest {contest}{due}: {}{more}.",
                    units.len(),
                    shown.join(", ")
                ),
            );
            f.contest = Some(contest.clone());
            f.units = units.clone();
            self.add(f);
        }
    }

    /// Completeness and where the night stands, without findings (each
    /// round of watch mode).
    pub(super) fn completeness_data(&mut self) {
        let (n, root) = (self.trusted.size(), self.trusted.root());
        let totals = self.checker.totals(n, root);
        let rows = totals
            .rows
            .iter()
            .map(|r| CompletenessRow {
                contest: r.contest.clone(),
                region: r.region.clone(),
                units_expected: r.units_expected,
                units_reporting: r.units_reporting,
                share_reporting: if r.units_expected == 0 {
                    1.0
                } else {
                    r.units_reporting as f64 / r.units_expected as f64
                },
            })
            .collect();
        let m = self.manifest.manifest();
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let contest_index: HashMap<&str, usize> = m
            .contests
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        for (ui, u) in m.units.iter().enumerate() {
            for c in &u.contests {
                let reported = contest_index
                    .get(c.as_str())
                    .is_some_and(|&ci| self.checker.is_reported(ui, ci));
                if !reported {
                    missing.entry(c.clone()).or_default().push(u.id.clone());
                }
            }
        }
        let units_reporting = m
            .units
            .iter()
            .enumerate()
            .filter(|(ui, u)| {
                u.contests.iter().all(|c| {
                    contest_index
                        .get(c.as_str())
                        .is_some_and(|&ci| self.checker.is_reported(*ui, ci))
                })
            })
            .count() as u64;
        let clock = self.clock();
        self.status.units_reporting = units_reporting;
        self.status.units_expected = m.units.len() as u64;
        self.status.polls_close = m.polls_close.map(tallyboard_core::time::format_rfc3339);
        self.status.results_due = m.results_due.map(tallyboard_core::time::format_rfc3339);
        self.status.clock = tallyboard_core::time::format_rfc3339(clock);
        self.status.due = m.results_due.is_none_or(|d| clock >= d);
        self.completeness = Completeness {
            rows,
            missing,
            corrections: self.checker.corrections().to_vec(),
            last_to_report: self
                .checker
                .late()
                .into_iter()
                .map(|(t, index, unit, contest)| crate::report::LateUnit {
                    unit,
                    contest,
                    index,
                    counted_at: tallyboard_core::time::format_rfc3339(t),
                })
                .collect(),
        };
    }
}

impl Run<'_> {
    /// The results of the tree checked in full (`spec/results.md`).
    pub(super) fn results(&mut self) {
        let (n, root) = (self.trusted.size(), self.trusted.root());
        let totals = self.checker.totals(n, root);
        match tallyboard_results::Results::compute(
            self.manifest.manifest(),
            &totals,
            match self.status.results {
                crate::status::Stage::Final => tallyboard_results::Status::Certified,
                crate::status::Stage::Provisional => tallyboard_results::Status::Provisional,
            },
        ) {
            Ok(r) => self.results = Some(r),
            Err(e) => self
                .notes
                .push(format!("the results could not be computed: {e}")),
        }
    }
}
