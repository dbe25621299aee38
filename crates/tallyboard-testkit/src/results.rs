//! The results figures recomputed independently of the results model, for
//! the tests that check `verify`'s results against the log's entries.

use std::collections::BTreeMap;

use serde_json::Value;
use tallyboard_core::Tally;
use tallyboard_core::manifest::Manifest;

/// Figures by name (`choice <id>`, `blank`, `invalid`, `ballots_cast`,
/// `units_reporting`) per (contest, region; `None`: the whole election).
pub type Sums = BTreeMap<(String, Option<String>), BTreeMap<String, u64>>;

/// The sums of `tallies` (one counted tally per unit and contest) for the
/// whole election and every region holding the unit.
pub fn sums<'a>(m: &Manifest, tallies: impl IntoIterator<Item = &'a Tally>) -> Sums {
    let mut out = Sums::new();
    for t in tallies {
        let ui = m.unit_index(&t.unit).unwrap();
        let mut levels = vec![None];
        levels.extend(
            m.unit_regions(ui)
                .iter()
                .map(|&r| Some(m.regions[r as usize].id.clone())),
        );
        for level in levels {
            let f = out.entry((t.contest.clone(), level)).or_default();
            for (c, v) in &t.choices {
                *f.entry(format!("choice {c}")).or_default() += v;
            }
            *f.entry("blank".into()).or_default() += t.blank;
            *f.entry("invalid".into()).or_default() += t.invalid;
            *f.entry("ballots_cast".into()).or_default() += t.ballots_cast;
            *f.entry("units_reporting".into()).or_default() += 1;
        }
    }
    out
}

/// Every level of the results JSON of a report as (contest, region,
/// figures named as [`sums`] names them).
pub fn levels(results: &Value) -> Vec<(String, Option<String>, BTreeMap<String, u64>)> {
    let mut out = Vec::new();
    for c in results["contests"].as_array().unwrap() {
        let contest = c["contest"].as_str().unwrap().to_owned();
        let mut all = vec![(None, &c["election"])];
        for r in c["regions"].as_array().unwrap() {
            all.push((r["region"].as_str().map(str::to_owned), &r["figures"]));
        }
        for (region, f) in all {
            let mut got = BTreeMap::new();
            for ch in f["choices"].as_array().unwrap() {
                got.insert(
                    format!("choice {}", ch["choice"].as_str().unwrap()),
                    ch["votes"].as_u64().unwrap(),
                );
            }
            for k in ["blank", "invalid", "ballots_cast", "units_reporting"] {
                got.insert(k.to_owned(), f[k].as_u64().unwrap());
            }
            out.push((contest.clone(), region, got));
        }
    }
    out
}
