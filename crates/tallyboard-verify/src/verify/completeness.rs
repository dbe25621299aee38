//! Completeness (spec/verify.md §4.7) and the results (spec/results.md).

use super::*;

impl Run<'_> {
    pub(super) fn completeness(&mut self) {
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
        for (contest, units) in &missing {
            let shown: Vec<&str> = units.iter().take(20).map(String::as_str).collect();
            let more = if units.len() > 20 {
                format!(" and {} more", units.len() - 20)
            } else {
                String::new()
            };
            let mut f = Finding::new(
                FindingCode::UnitsMissing,
                format!(
                    "{} reporting units have no tally in the log for contest {contest}: {}{more}.",
                    units.len(),
                    shown.join(", ")
                ),
            );
            f.contest = Some(contest.clone());
            f.units = units.clone();
            self.add(f);
        }
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
            tallyboard_results::Status::Provisional,
        ) {
            Ok(r) => self.results = Some(r),
            Err(e) => self
                .notes
                .push(format!("the results could not be computed: {e}")),
        }
    }
}
