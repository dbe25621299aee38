//! The results model against figures recomputed here from the tallies.

use std::collections::BTreeMap;

use tallyboard_core::Hash;
use tallyboard_core::Tally;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::{TotalsBody, TotalsBuilder};
use tallyboard_results::{Results, ResultsError, Status, thousands};
use tallyboard_testkit::example::{Figures, sign_every_tally, signed_manifest};

fn manifest() -> Manifest {
    signed_manifest().into_manifest()
}

/// Tallies of every unit of the example (votes vary with the unit), the
/// first `skip` units of each contest left out.
fn tallies(m: &Manifest, leave_out: &[&str]) -> Vec<Tally> {
    sign_every_tally(m, |u, c, ck| {
        let n: u64 = u.id.bytes().map(u64::from).sum::<u64>() % 50;
        Figures::base(c, ck, 10 + n)
    })
    .into_iter()
    .map(|s| s.tally().clone())
    .filter(|t| !leave_out.contains(&t.unit.as_str()))
    .collect()
}

fn totals(m: &Manifest, tallies: &[Tally]) -> TotalsBody {
    let mut b = TotalsBuilder::new(m);
    for t in tallies {
        b.add(t).unwrap();
    }
    b.finish(&m.log.origin, 7, Hash::EMPTY_TREE)
}

#[test]
fn figures_equal_a_sum_of_the_tallies_at_every_level() {
    let m = manifest();
    let ts = tallies(&m, &["P-001", "P-019"]);
    let r = Results::compute(&m, &totals(&m, &ts), Status::Provisional).unwrap();
    assert_eq!(r.contests.len(), m.contests.len());
    for (c, cr) in m.contests.iter().zip(&r.contests) {
        assert_eq!(cr.contest, c.id);
        let ids: Vec<&str> = cr
            .election
            .choices
            .iter()
            .map(|x| x.choice.as_str())
            .collect();
        let want: Vec<&str> = c.choices.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, want, "ballot order");
        // Recompute the whole election and each region by hand.
        let mut levels: Vec<(Option<String>, &tallyboard_results::Figures)> =
            vec![(None, &cr.election)];
        levels.extend(
            cr.regions
                .iter()
                .map(|rr| (Some(rr.region.clone()), &rr.figures)),
        );
        for (region, f) in levels {
            let in_level = |unit: &str| {
                let u = m.unit(unit).unwrap();
                region.as_deref().is_none_or(|r| {
                    let ri = m.region_index(r).unwrap() as u32;
                    m.unit_regions(m.unit_index(unit).unwrap()).contains(&ri)
                        && u.contests.contains(&c.id)
                })
            };
            let mine: Vec<&Tally> = ts
                .iter()
                .filter(|t| t.contest == c.id && in_level(&t.unit))
                .collect();
            let mut votes: BTreeMap<&str, u64> = BTreeMap::new();
            for t in &mine {
                for (ch, v) in &t.choices {
                    *votes.entry(ch.as_str()).or_default() += v;
                }
            }
            for ch in &f.choices {
                assert_eq!(
                    ch.votes,
                    votes.get(ch.choice.as_str()).copied().unwrap_or(0)
                );
            }
            assert_eq!(f.valid, votes.values().sum::<u64>());
            assert_eq!(f.blank, mine.iter().map(|t| t.blank).sum::<u64>());
            assert_eq!(f.invalid, mine.iter().map(|t| t.invalid).sum::<u64>());
            assert_eq!(
                f.ballots_cast,
                mine.iter().map(|t| t.ballots_cast).sum::<u64>()
            );
            assert_eq!(f.units_reporting, mine.len() as u64);
            let expected: Vec<&tallyboard_core::manifest::Unit> = m
                .units
                .iter()
                .filter(|u| u.contests.contains(&c.id) && in_level(&u.id))
                .collect();
            assert_eq!(f.units_expected, expected.len() as u64);
            let reg_all: u64 = expected.iter().map(|u| u.registered).sum();
            let reg_in: u64 = mine
                .iter()
                .map(|t| m.unit(&t.unit).unwrap().registered)
                .sum();
            assert_eq!(f.registered, reg_in);
            assert_eq!(f.registered_expected, reg_all);
            assert_eq!(f.registered_outstanding, reg_all - reg_in);
            // The leader and the margin.
            let mut sorted: Vec<u64> = f.choices.iter().map(|c| c.votes).collect();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(
                f.outlook.margin,
                sorted[0] - sorted.get(1).copied().unwrap_or(0)
            );
            if let Some(l) = &f.outlook.leader {
                assert_eq!(f.choice(l).unwrap().votes, sorted[0]);
            }
            let can = f.registered_outstanding > 0 && f.registered_outstanding >= f.outlook.margin;
            assert_eq!(f.outlook.can_change, can);
        }
    }
}

#[test]
fn regions_come_depth_first_with_their_path() {
    let m = manifest();
    let r = Results::compute(&m, &totals(&m, &tallies(&m, &[])), Status::Provisional).unwrap();
    let mayor = r.contest("mayor").unwrap();
    let ids: Vec<&str> = mayor.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(
        ids,
        [
            "north",
            "north-hills",
            "north-lakes",
            "south",
            "south-coast",
            "south-valley"
        ]
    );
    let hills = mayor.region("north-hills").unwrap();
    assert_eq!(hills.path, ["north", "north-hills"]);
    assert_eq!(hills.level, 1);
    assert_eq!(hills.parent.as_deref(), Some("north"));
    // The referendum is held in the coast only.
    let refer = r.contest("harbour-referendum").unwrap();
    assert!(refer.regions.iter().all(|r| r.path[0] == "south"));
    // Everyone reported: nothing outstanding, nothing can change.
    for c in &r.contests {
        assert_eq!(c.election.units_reporting, c.election.units_expected);
        assert_eq!(c.election.registered_outstanding, 0);
        assert!(!c.election.outlook.can_change);
        assert_eq!(c.election.outlook.statement, "every unit has reported");
        assert!(c.election.outlook.winner.is_none());
    }
    let cert = Results::compute(&m, &totals(&m, &tallies(&m, &[])), Status::Certified).unwrap();
    for c in &cert.contests {
        assert_eq!(c.election.outlook.winner, c.election.outlook.leader);
    }
}

#[test]
fn empty_log_has_no_leader_and_everything_can_change() {
    let m = manifest();
    let r = Results::compute(&m, &totals(&m, &[]), Status::Provisional).unwrap();
    for c in &r.contests {
        let f = &c.election;
        assert_eq!(f.units_reporting, 0);
        assert!(f.outlook.leader.is_none() && f.outlook.tied.is_empty());
        assert!(f.outlook.can_change);
        assert_eq!(f.turnout_percent, None);
        assert!(f.choices.iter().all(|c| c.share_percent.is_none()));
        assert_eq!(f.registered_outstanding, f.registered_expected);
    }
}

#[test]
fn totals_of_another_election_are_refused() {
    let m = manifest();
    let mut t = totals(&m, &[]);
    t.election = "other".into();
    assert!(matches!(
        Results::compute(&m, &t, Status::Provisional),
        Err(ResultsError::OtherElection { .. })
    ));
    let mut t = totals(&m, &[]);
    t.rows[0].units_expected += 1;
    assert!(matches!(
        Results::compute(&m, &t, Status::Provisional),
        Err(ResultsError::RowNotInManifest { .. })
    ));
}

#[test]
fn json_is_reproducible_and_names_the_checkpoint() {
    let m = manifest();
    let t = totals(&m, &tallies(&m, &["P-003"]));
    let a = Results::compute(&m, &t, Status::Provisional)
        .unwrap()
        .to_json();
    let b = Results::compute(&m, &t, Status::Provisional)
        .unwrap()
        .to_json();
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["checkpoint"]["size"], 7);
    assert_eq!(v["status"], "provisional");
    assert_eq!(v["version"], 1);
    assert!(v["contests"][0]["election"]["choices"][0]["share_percent"].is_f64());
    assert_eq!(thousands(1_234_567), "1,234,567");
}

#[test]
fn a_published_results_json_is_checked_figure_by_figure() {
    use tallyboard_results::compare_json;
    let m = manifest();
    let t = totals(&m, &tallies(&m, &["P-003"]));
    let r = Results::compute(&m, &t, Status::Provisional).unwrap();
    let json = r.to_json();
    let c = compare_json(&r, &json);
    assert!(c.ok, "{c:?}");
    assert!(c.figures > 20, "{c:?}");
    // Formatting does not matter.
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(compare_json(&r, &serde_json::to_vec(&v).unwrap()).ok);
    // One figure altered: named by contest, level and choice.
    let mut bad = v.clone();
    let contest = bad["contests"][0]["contest"].as_str().unwrap().to_owned();
    let choice = bad["contests"][0]["regions"][0]["figures"]["choices"][1]["choice"]
        .as_str()
        .unwrap()
        .to_owned();
    let region = bad["contests"][0]["regions"][0]["region"]
        .as_str()
        .unwrap()
        .to_owned();
    let votes = bad["contests"][0]["regions"][0]["figures"]["choices"][1]["votes"]
        .as_u64()
        .unwrap();
    bad["contests"][0]["regions"][0]["figures"]["choices"][1]["votes"] =
        serde_json::json!(votes + 1000);
    let c = compare_json(&r, &serde_json::to_vec(&bad).unwrap());
    assert!(!c.ok);
    assert_eq!(c.count, 1, "{c:?}");
    assert_eq!(
        c.differences[0].figure,
        format!("contest {contest}, region {region}, figures, choice {choice}, votes")
    );
    assert!(
        c.differences[0].text.ends_with(&format!(
            "results.json says {}, the signed totals give {}",
            thousands(votes + 1000),
            thousands(votes)
        )),
        "{}",
        c.differences[0].text
    );
    // JSON that is not the results object: one difference, the whole file.
    for other in [&b"1"[..], b"[]", b"null", b"\"results\""] {
        let c = compare_json(&r, other);
        assert!(!c.ok);
        assert_eq!(c.count, 1, "{c:?}");
        assert_eq!(c.differences[0].figure, tallyboard_results::WHOLE_FILE);
        assert!(
            c.differences[0]
                .text
                .starts_with("the whole file: results.json says "),
            "{}",
            c.differences[0].text
        );
    }
    // An object without the results' members: each missing member named
    // by its key, the list of contests too.
    let c = compare_json(&r, b"{}");
    assert!(!c.ok);
    assert!(
        c.differences.iter().any(|d| d.figure == "contests"),
        "{c:?}"
    );
    assert!(
        c.differences
            .iter()
            .all(|d| !d.figure.is_empty() && d.figure != tallyboard_results::WHOLE_FILE),
        "{c:?}"
    );
    // An added key and a file that is not JSON.
    let mut extra = v.clone();
    extra["note"] = serde_json::json!("trust me");
    let c = compare_json(&r, &serde_json::to_vec(&extra).unwrap());
    assert_eq!((c.ok, c.count), (false, 1));
    assert_eq!(c.differences[0].figure, "note");
    let c = compare_json(&r, b"<html>");
    assert!(!c.ok && c.differences[0].text.contains("not JSON"));
}
