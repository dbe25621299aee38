//! Test vectors of the results computation (`spec/vectors/results/`):
//! regenerated here and compared with the files (`TALLYBOARD_BLESS=1`
//! rewrites them), then every file run through the computation. The
//! outcome of each case and its key figures (leader, margin, whether the
//! outstanding units can change the leader, shares) are written by hand
//! below, not derived from the implementation.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, Region, Unit,
};
use tallyboard_core::totals::{CheckpointRef, TotalsBody, TotalsRow};
use tallyboard_results::{Results, Status};

const AREAS: [&str; 1] = ["results"];
const ORIGIN: &str = "tallyboard.example/results-vectors";

struct Case {
    area: &'static str,
    name: String,
    json: Value,
}

/// The election of every case: contest `mayor` (ann, ben, cy), contest
/// `question` (yes, no) held in `east` only; regions `west` > `west-1`,
/// `east`; units W1 (west-1, 1000 registered), W2 (west, 500), E1 (east,
/// 800; both contests).
fn election() -> Value {
    json!({
        "election": "vectors-2026",
        "title": "Results vectors (EXAMPLE)",
        "contests": [
            {"id": "mayor", "title": "Mayor", "choices": [
                {"id": "ann", "name": "Ann"}, {"id": "ben", "name": "Ben"}, {"id": "cy", "name": "Cy"}]},
            {"id": "question", "title": "Question", "choices": [
                {"id": "yes", "name": "Yes"}, {"id": "no", "name": "No"}]}
        ],
        "regions": [
            {"id": "west", "name": "West", "parent": null},
            {"id": "west-1", "name": "West one", "parent": "west"},
            {"id": "east", "name": "East", "parent": null}
        ],
        "units": [
            {"id": "W1", "name": "Unit W1", "region": "west-1", "registered": 1000, "contests": ["mayor"]},
            {"id": "W2", "name": "Unit W2", "region": "west", "registered": 500, "contests": ["mayor"]},
            {"id": "E1", "name": "Unit E1", "region": "east", "registered": 800, "contests": ["mayor", "question"]}
        ]
    })
}

fn manifest_of(v: &Value) -> tallyboard_core::manifest::Manifest {
    let key = |n: u8| SecretKey::from_seed(&[n; 32]).public_key();
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    ManifestBody {
        election: s(&v["election"]),
        title: s(&v["title"]),
        authority: key(0xa0),
        log: LogInfo {
            origin: ORIGIN.to_owned(),
            key: key(0xa1),
        },
        witnesses: vec![],
        quorum: 0,
        mirrors: vec![],
        polls_close: None,
        results_due: None,
        contests: v["contests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Contest {
                id: s(&c["id"]),
                title: s(&c["title"]),
                choices: c["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| Choice {
                        id: s(&x["id"]),
                        name: s(&x["name"]),
                    })
                    .collect(),
            })
            .collect(),
        regions: v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Region {
                id: s(&r["id"]),
                name: s(&r["name"]),
                parent: r["parent"].as_str().map(str::to_owned),
            })
            .collect(),
        centres: vec![Centre {
            id: "C1".into(),
            name: "Centre 1".into(),
            keys: vec![CentreKey {
                key: key(0xc1),
                valid_from: 0,
                valid_until: 4_000_000_000,
                revoked_at: None,
            }],
        }],
        units: v["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| Unit {
                id: s(&u["id"]),
                name: s(&u["name"]),
                region: s(&u["region"]),
                registered: u["registered"].as_u64().unwrap(),
                contests: u["contests"].as_array().unwrap().iter().map(s).collect(),
                centre: "C1".into(),
            })
            .collect(),
    }
    .validate()
    .unwrap()
}

fn totals_of(v: &Value) -> TotalsBody {
    let n = |x: &Value| x.as_u64().unwrap();
    TotalsBody {
        election: v["election"].as_str().unwrap().to_owned(),
        checkpoint: CheckpointRef {
            origin: ORIGIN.to_owned(),
            size: n(&v["size"]),
            root: Hash::EMPTY_TREE,
        },
        rows: v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| TotalsRow {
                contest: r["contest"].as_str().unwrap().to_owned(),
                region: r["region"].as_str().map(str::to_owned),
                choices: r["choices"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), n(v)))
                    .collect::<BTreeMap<String, u64>>(),
                blank: n(&r["blank"]),
                invalid: n(&r["invalid"]),
                ballots_cast: n(&r["ballots_cast"]),
                registered: n(&r["registered"]),
                units_reporting: n(&r["units_reporting"]),
                units_expected: n(&r["units_expected"]),
            })
            .collect(),
    }
}

/// A totals row: votes in choice order, then blank, invalid, registered,
/// units reporting, units expected (ballots cast is the sum).
fn row(contest: &str, region: Option<&str>, choices: &[(&str, u64)], f: [u64; 5]) -> Value {
    let cast: u64 = choices.iter().map(|c| c.1).sum::<u64>() + f[0] + f[1];
    json!({
        "contest": contest, "region": region,
        "choices": choices.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<String, Value>>(),
        "blank": f[0], "invalid": f[1], "ballots_cast": cast, "registered": f[2],
        "units_reporting": f[3], "units_expected": f[4],
    })
}

/// Totals where W1 (mayor: ann `a`, ben `b`, cy 10) and E1 (mayor: ann
/// 100, ben 90, cy 0; question: yes 300, no 200) reported and W2 did not.
fn two_of_three(a: u64, b: u64) -> Value {
    let m = |r: Option<&str>, ann: u64, ben: u64, cy: u64, reg: u64, rep: u64, exp: u64| {
        row(
            "mayor",
            r,
            &[("ann", ann), ("ben", ben), ("cy", cy)],
            [5, 2, reg, rep, exp],
        )
    };
    json!({
        "election": "vectors-2026",
        "size": 2,
        "rows": [
            row("mayor", None, &[("ann", a + 100), ("ben", b + 90), ("cy", 10)], [10, 4, 1800, 2, 3]),
            m(Some("east"), 100, 90, 0, 800, 1, 1),
            m(Some("west"), a, b, 10, 1000, 1, 2),
            m(Some("west-1"), a, b, 10, 1000, 1, 1),
            row("question", None, &[("yes", 300), ("no", 200)], [5, 2, 800, 1, 1]),
            row("question", Some("east"), &[("yes", 300), ("no", 200)], [5, 2, 800, 1, 1]),
        ]
    })
}

fn ok_case(
    name: &str,
    description: &str,
    totals: Value,
    status: &str,
    check: impl Fn(&Value),
) -> Case {
    let m = manifest_of(&election());
    let st = if status == "certified" {
        Status::Certified
    } else {
        Status::Provisional
    };
    let r = Results::compute(&m, &totals_of(&totals), st).unwrap();
    let results: Value = serde_json::from_slice(&r.to_json()).unwrap();
    check(&results);
    Case {
        area: "results",
        name: name.to_owned(),
        json: json!({
            "description": description,
            "manifest": election(),
            "totals": totals,
            "status": status,
            "expect": "ok",
            "results": results,
        }),
    }
}

fn bad_case(name: &str, description: &str, code: &str, change: impl FnOnce(&mut Value)) -> Case {
    let mut totals = two_of_three(400, 300);
    change(&mut totals);
    Case {
        area: "results",
        name: name.to_owned(),
        json: json!({
            "description": description,
            "manifest": election(),
            "totals": totals,
            "status": "provisional",
            "expect": code,
        }),
    }
}

fn all_cases() -> Vec<Case> {
    let mayor = |r: &Value| r["contests"][0]["election"].clone();
    vec![
        // W2 (500 registered) outstanding; ann 500, ben 390: margin 110 < 500.
        ok_case(
            "leader-can-change",
            "two of three units in: the margin (110) is less than the registered voters outstanding (500)",
            two_of_three(400, 300),
            "provisional",
            |r| {
                let f = mayor(r);
                assert_eq!(f["outlook"]["leader"], "ann");
                assert_eq!(f["outlook"]["runner_up"], "ben");
                assert_eq!(f["outlook"]["margin"], 110);
                assert_eq!(f["registered_outstanding"], 500);
                assert_eq!(f["outlook"]["can_change"], true);
                assert_eq!(
                    f["outlook"]["statement"],
                    "the outstanding units can change the leader"
                );
                // ann 500 of 900 valid = 55.555… % -> 55.56.
                assert_eq!(f["choices"][0]["share_percent"], 55.56);
                // 914 cast of 1800 registered = 50.777… % -> 50.78.
                assert_eq!(f["turnout_percent"], 50.78);
                assert_eq!(f["reporting_percent"], 66.67);
                // Regions depth first: west, west-1, east.
                let ids: Vec<&str> = r["contests"][0]["regions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["region"].as_str().unwrap())
                    .collect();
                assert_eq!(ids, ["west", "west-1", "east"]);
            },
        ),
        // ann 1000, ben 390: margin 610 > 500.
        ok_case(
            "leader-cannot-change",
            "the margin (610) exceeds the registered voters outstanding (500)",
            two_of_three(900, 300),
            "provisional",
            |r| {
                let f = mayor(r);
                assert_eq!(f["outlook"]["margin"], 610);
                assert_eq!(f["outlook"]["can_change"], false);
                assert_eq!(
                    f["outlook"]["statement"],
                    "the outstanding units cannot change the leader"
                );
                assert_eq!(f["outlook"]["winner"], Value::Null);
            },
        ),
        // ann 500, ben 500 (from 400 + 100 and 410 + 90): tied at the top.
        ok_case(
            "tie-at-the-top",
            "two choices share the most votes: no leader, margin 0",
            two_of_three(400, 410),
            "provisional",
            |r| {
                let f = mayor(r);
                assert_eq!(f["outlook"]["leader"], Value::Null);
                assert_eq!(f["outlook"]["tied"], json!(["ann", "ben"]));
                assert_eq!(f["outlook"]["margin"], 0);
                assert_eq!(f["outlook"]["can_change"], true);
            },
        ),
        ok_case(
            "empty-log",
            "nothing counted: no leader, shares and turnout absent, every voter outstanding",
            json!({"election": "vectors-2026", "size": 0, "rows": [
                row("mayor", None, &[("ann", 0), ("ben", 0), ("cy", 0)], [0, 0, 0, 0, 3]),
                row("mayor", Some("east"), &[("ann", 0), ("ben", 0), ("cy", 0)], [0, 0, 0, 0, 1]),
                row("mayor", Some("west"), &[("ann", 0), ("ben", 0), ("cy", 0)], [0, 0, 0, 0, 2]),
                row("mayor", Some("west-1"), &[("ann", 0), ("ben", 0), ("cy", 0)], [0, 0, 0, 0, 1]),
                row("question", None, &[("yes", 0), ("no", 0)], [0, 0, 0, 0, 1]),
                row("question", Some("east"), &[("yes", 0), ("no", 0)], [0, 0, 0, 0, 1]),
            ]}),
            "provisional",
            |r| {
                let f = mayor(r);
                assert_eq!(f["outlook"]["leader"], Value::Null);
                assert_eq!(f["choices"][0]["share_percent"], Value::Null);
                assert_eq!(f["turnout_percent"], Value::Null);
                assert_eq!(f["registered_outstanding"], 2300);
            },
        ),
        ok_case(
            "certified-winner",
            "certified results: the leader is the winner",
            two_of_three(900, 300),
            "certified",
            |r| {
                let f = mayor(r);
                assert_eq!(f["outlook"]["winner"], "ann");
                assert_eq!(f["outlook"]["statement"], "final, certified results");
                assert_eq!(r["status"], "certified");
            },
        ),
        bad_case(
            "other-election",
            "totals of another election",
            "other-election",
            |t| {
                t["election"] = json!("another-2026");
            },
        ),
        bad_case(
            "unknown-contest",
            "a row names a contest the manifest does not have",
            "row-not-in-manifest",
            |t| {
                t["rows"][4]["contest"] = json!("senate");
            },
        ),
        bad_case(
            "unknown-region",
            "a row names a region the manifest does not have",
            "row-not-in-manifest",
            |t| {
                t["rows"][1]["region"] = json!("north");
            },
        ),
        bad_case(
            "unknown-choice",
            "a row names a choice the contest does not have",
            "row-not-in-manifest",
            |t| {
                t["rows"][0]["choices"]["dee"] = json!(1);
            },
        ),
        bad_case(
            "units-expected-too-many",
            "a row expects more units than the manifest gives it",
            "row-not-in-manifest",
            |t| {
                t["rows"][0]["units_expected"] = json!(4);
            },
        ),
        bad_case(
            "units-expected-too-few",
            "a row expects fewer units than the manifest gives it",
            "row-not-in-manifest",
            |t| {
                t["rows"][2]["units_expected"] = json!(1);
            },
        ),
        bad_case(
            "units-reporting-over-expected",
            "a row has more units reporting than expected",
            "row-not-in-manifest",
            |t| {
                t["rows"][3]["units_reporting"] = json!(2);
            },
        ),
        bad_case(
            "region-row-for-a-contest-not-held-there",
            "a row for a region where no unit takes part in the contest",
            "row-not-in-manifest",
            |t| {
                let extra = row(
                    "question",
                    Some("west"),
                    &[("yes", 0), ("no", 0)],
                    [0, 0, 0, 0, 1],
                );
                t["rows"].as_array_mut().unwrap().push(extra);
            },
        ),
        bad_case(
            "whole-election-expects-none",
            "the whole-election row of a contest expects no units",
            "row-not-in-manifest",
            |t| {
                t["rows"][4]["units_expected"] = json!(0);
                t["rows"][4]["units_reporting"] = json!(0);
            },
        ),
        bad_case(
            "choice-of-another-contest",
            "a row of one contest names a choice of another",
            "row-not-in-manifest",
            |t| {
                t["rows"][5]["choices"]["ann"] = json!(0);
            },
        ),
        bad_case(
            "region-expects-units-of-another-region",
            "a region row counts the units of its parent",
            "row-not-in-manifest",
            |t| {
                t["rows"][3]["units_expected"] = json!(2);
            },
        ),
    ]
}

fn outcome(_area: &str, v: &Value) -> String {
    let m = manifest_of(&v["manifest"]);
    let status = if v["status"] == "certified" {
        Status::Certified
    } else {
        Status::Provisional
    };
    match Results::compute(&m, &totals_of(&v["totals"]), status) {
        Err(e) => e.code().to_owned(),
        Ok(r) => {
            let got: Value = serde_json::from_slice(&r.to_json()).unwrap();
            if got == v["results"] {
                "ok".to_owned()
            } else {
                "results-differ".to_owned()
            }
        }
    }
}

tallyboard_testkit::spec_vector_tests! {
    areas: AREAS,
    cases: all_cases,
    run: outcome,
}
