//! The exports: CSV (OpenElections columns), NIST SP 1500-100 ERR CDF v2
//! JSON, and the export JSON (`spec/results.md` §5–§7). Every export names
//! the log origin, the checkpoint (size, root, the signed checkpoint text)
//! and the generator, and is a pure function of its inputs: the same log
//! gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::time::format_rfc3339;

use crate::model::{Figures, Results, Status};
use crate::units::UnitResult;

/// What every export says about where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportHeader {
    /// The program and version that wrote it (`tallyboard 0.1.0`).
    pub generator: String,
    /// The signed checkpoint the results are bound to, as the log
    /// published it (a C2SP signed note).
    pub checkpoint_note: String,
    /// The latest time of count of any counted tally (POSIX seconds; 0
    /// when none): the export's date, taken from the log, not the clock.
    pub as_of: u64,
    /// Findings of the verification by code, with how many: empty when
    /// every check passed. An export is written despite findings only on
    /// request, and then says so.
    pub findings: BTreeMap<String, u64>,
}

/// Which rows an export carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// One row per unit, contest and choice (the counted revision).
    Unit,
    /// One row per region (and the whole election), contest and choice.
    Region,
}

/// Columns of the CSV exports: OpenElections' seven, then ours.
pub const CSV_UNIT_COLUMNS: [&str; 15] = [
    "county",
    "precinct",
    "office",
    "district",
    "party",
    "candidate",
    "votes",
    "unit_id",
    "region_id",
    "region_path",
    "contest_id",
    "choice_id",
    "revision",
    "counted_at",
    "leaf_index",
];

/// Columns of the region-level CSV export.
pub const CSV_REGION_COLUMNS: [&str; 14] = [
    "county",
    "precinct",
    "office",
    "district",
    "party",
    "candidate",
    "votes",
    "region_id",
    "region_path",
    "contest_id",
    "choice_id",
    "share_percent",
    "units_reporting",
    "units_expected",
];

/// The rows of one set of figures besides the choices: (candidate column,
/// choice_id column, value).
fn other_rows(
    blank: u64,
    invalid: u64,
    cast: u64,
    registered: u64,
) -> [(&'static str, &'static str, u64); 4] {
    [
        ("Blank", "blank", blank),
        ("Invalid", "invalid", invalid),
        ("Ballots Cast", "ballots_cast", cast),
        ("Registered Voters", "registered", registered),
    ]
}

/// The comment lines that open a CSV export (each starts with `#`).
fn csv_preamble(results: &Results, header: &ExportHeader, level: Level) -> String {
    let mut s = String::new();
    let c = &results.checkpoint;
    s.push_str(&format!(
        "# tallyboard verified results ({}), election {}, {} level\n",
        status_word(results.status),
        results.election,
        match level {
            Level::Unit => "unit",
            Level::Region => "region",
        }
    ));
    s.push_str(&format!("# generator: {}\n", header.generator));
    s.push_str(&format!("# log origin: {}\n", c.origin));
    s.push_str(&format!("# checkpoint: size {} root {}\n", c.size, c.root));
    s.push_str(&format!("# as of: {}\n", format_rfc3339(header.as_of)));
    s.push_str(&findings_line(header));
    s.push_str("# signed checkpoint:\n");
    for line in header.checkpoint_note.lines() {
        s.push_str("#   ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

fn findings_line(header: &ExportHeader) -> String {
    if header.findings.is_empty() {
        return "# verification: every check passed\n".to_owned();
    }
    let n: u64 = header.findings.values().sum();
    let list: Vec<String> = header
        .findings
        .iter()
        .map(|(c, k)| format!("{c} ({k})"))
        .collect();
    format!(
        "# verification: {n} FINDINGS, exported on request despite them: {}\n",
        list.join(", ")
    )
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Provisional => "provisional",
        Status::Certified => "certified",
    }
}

fn csv_bytes(preamble: String, columns: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(preamble.into_bytes());
    let _ = w.write_record(columns);
    for r in rows {
        let _ = w.write_record(&r);
    }
    w.into_inner().unwrap_or_default()
}

/// The unit-level CSV export: one row per unit, contest and choice, then
/// blank, invalid, ballots cast and registered voters, in manifest order.
pub fn units_csv(
    manifest: &Manifest,
    results: &Results,
    units: &[UnitResult],
    header: &ExportHeader,
) -> Vec<u8> {
    let region_name = |id: &str| {
        manifest
            .region(id)
            .map_or_else(String::new, |r| r.name.clone())
    };
    let mut rows = Vec::new();
    for u in units {
        let Some(contest) = manifest.contest(&u.contest) else {
            continue;
        };
        let base = |candidate: &str, votes: u64, choice_id: &str| {
            vec![
                region_name(&u.region),
                u.name.clone(),
                contest.title.clone(),
                String::new(),
                String::new(),
                candidate.to_owned(),
                votes.to_string(),
                u.unit.clone(),
                u.region.clone(),
                u.region_path.join("/"),
                u.contest.clone(),
                choice_id.to_owned(),
                u.revision.to_string(),
                u.counted_at.clone(),
                u.leaf_index.to_string(),
            ]
        };
        for (ch, v) in contest.choices.iter().zip(&u.choices) {
            rows.push(base(&ch.name, v.votes, &ch.id));
        }
        for (cand, id, v) in other_rows(u.blank, u.invalid, u.ballots_cast, u.registered) {
            rows.push(base(cand, v, id));
        }
    }
    csv_bytes(
        csv_preamble(results, header, Level::Unit),
        &CSV_UNIT_COLUMNS,
        rows,
    )
}

/// The region-level CSV export: per contest, the whole election (empty
/// region) then every region, each choice with its share, then blank,
/// invalid, ballots cast and registered voters of the units reporting.
pub fn regions_csv(results: &Results, header: &ExportHeader) -> Vec<u8> {
    let mut rows = Vec::new();
    for c in &results.contests {
        let levels = core::iter::once((None, &c.election))
            .chain(c.regions.iter().map(|r| (Some(r), &r.figures)));
        for (region, f) in levels {
            let base = |candidate: &str, votes: u64, choice_id: &str, share: String| {
                vec![
                    region.map_or_else(String::new, |r| r.name.clone()),
                    String::new(),
                    c.title.clone(),
                    String::new(),
                    String::new(),
                    candidate.to_owned(),
                    votes.to_string(),
                    region.map_or_else(String::new, |r| r.region.clone()),
                    region.map_or_else(String::new, |r| r.path.join("/")),
                    c.contest.clone(),
                    choice_id.to_owned(),
                    share,
                    f.units_reporting.to_string(),
                    f.units_expected.to_string(),
                ]
            };
            for ch in &f.choices {
                let share = ch.share_percent.map(|p| p.decimal()).unwrap_or_default();
                rows.push(base(&ch.name, ch.votes, &ch.choice, share));
            }
            for (cand, id, v) in other_rows(f.blank, f.invalid, f.ballots_cast, f.registered) {
                rows.push(base(cand, v, id, String::new()));
            }
        }
    }
    csv_bytes(
        csv_preamble(results, header, Level::Region),
        &CSV_REGION_COLUMNS,
        rows,
    )
}

/// The export JSON: where it comes from, the results, and (unit level)
/// the per-unit rows.
pub fn export_json(
    results: &Results,
    units: Option<&[UnitResult]>,
    header: &ExportHeader,
) -> Vec<u8> {
    let v = json!({
        "format": "tallyboard-results-export",
        "version": crate::model::SCHEMA_VERSION,
        "generator": header.generator,
        "origin": results.checkpoint.origin,
        "checkpoint": {
            "size": results.checkpoint.size,
            "root": results.checkpoint.root,
            "signed": header.checkpoint_note,
        },
        "as_of": format_rfc3339(header.as_of),
        "findings": header.findings,
        "results": results,
        "units": units,
    });
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn text(s: &str) -> Value {
    json!({
        "@type": "ElectionResults.InternationalizedText",
        "Text": [{"@type": "ElectionResults.LanguageString", "Content": s, "Language": "en"}],
    })
}

const ROOT_GPUNIT: &str = "gpu-election";

fn region_gpunit(id: &str) -> String {
    format!("gpu-region-{id}")
}

fn unit_gpunit(id: &str) -> String {
    format!("gpu-unit-{id}")
}

fn vote_count(gpunit: String, count: u64) -> Value {
    json!({"@type": "ElectionResults.VoteCounts", "GpUnitId": gpunit, "Type": "total", "Count": count})
}

fn other_counts(gpunit: String, blank: u64, invalid: u64) -> Value {
    json!({"@type": "ElectionResults.OtherCounts", "GpUnitId": gpunit, "Undervotes": blank, "Overvotes": invalid})
}

/// The NIST SP 1500-100 Election Results Reporting CDF version 2 JSON
/// export. With `units`, precinct level (every unit a GpUnit with its
/// counts); without, summary level (the whole election and the regions).
/// Every contest is a candidate contest with one vote allowed, each
/// choice a candidate selection; blank ballots are its undervotes, invalid
/// ballots its overvotes (`spec/results.md` §7).
pub fn err_json(
    manifest: &Manifest,
    results: &Results,
    units: Option<&[UnitResult]>,
    header: &ExportHeader,
) -> Vec<u8> {
    let c = &results.checkpoint;
    let date = format_rfc3339(header.as_of);
    let day: String = date.chars().take(10).collect();
    // GpUnits: the election, every region, every unit (precinct level).
    let mut gpunits = Vec::new();
    let mut registered_in: BTreeMap<&str, u64> = BTreeMap::new();
    for (ui, u) in manifest.units.iter().enumerate() {
        for &r in manifest.unit_regions(ui) {
            if let Some(region) = manifest.regions.get(r as usize) {
                *registered_in.entry(region.id.as_str()).or_default() += u.registered;
            }
        }
    }
    let children = |parent: Option<&str>| -> Vec<String> {
        let mut ids: Vec<String> = manifest
            .regions
            .iter()
            .filter(|r| r.parent.as_deref() == parent)
            .map(|r| region_gpunit(&r.id))
            .collect();
        if let (Some(p), Some(_)) = (parent, units) {
            ids.extend(
                manifest
                    .units
                    .iter()
                    .filter(|u| u.region == p)
                    .map(|u| unit_gpunit(&u.id)),
            );
        }
        ids
    };
    gpunits.push(json!({
        "@id": ROOT_GPUNIT,
        "@type": "ElectionResults.ReportingUnit",
        "Type": "other",
        "OtherType": "election",
        "Name": text(&manifest.title),
        "ComposingGpUnitIds": children(None),
        "VotersRegistered": manifest.units.iter().map(|u| u.registered).sum::<u64>(),
    }));
    for r in &manifest.regions {
        gpunits.push(json!({
            "@id": region_gpunit(&r.id),
            "@type": "ElectionResults.ReportingUnit",
            "Type": "other",
            "OtherType": "region",
            "Name": text(&r.name),
            "ComposingGpUnitIds": children(Some(&r.id)),
            "VotersRegistered": registered_in.get(r.id.as_str()).copied().unwrap_or(0),
            "ExternalIdentifier": [{"@type": "ElectionResults.ExternalIdentifier", "Type": "local-level", "Value": r.id}],
        }));
    }
    if units.is_some() {
        for u in &manifest.units {
            gpunits.push(json!({
                "@id": unit_gpunit(&u.id),
                "@type": "ElectionResults.ReportingUnit",
                "Type": "precinct",
                "Name": text(&u.name),
                "VotersRegistered": u.registered,
                "ExternalIdentifier": [{"@type": "ElectionResults.ExternalIdentifier", "Type": "local-level", "Value": u.id}],
            }));
        }
    }
    // Per contest: candidates, selections with their counts at every level.
    let mut candidates = Vec::new();
    let mut contests = Vec::new();
    for (seq, cr) in results.contests.iter().enumerate() {
        let Some(contest) = manifest.contest(&cr.contest) else {
            continue;
        };
        let unit_rows: Vec<&UnitResult> = units
            .map(|us| us.iter().filter(|u| u.contest == cr.contest).collect())
            .unwrap_or_default();
        let levels: Vec<(String, &Figures)> =
            core::iter::once((ROOT_GPUNIT.to_owned(), &cr.election))
                .chain(
                    cr.regions
                        .iter()
                        .map(|r| (region_gpunit(&r.region), &r.figures)),
                )
                .collect();
        let mut selections = Vec::new();
        for (i, ch) in contest.choices.iter().enumerate() {
            let cand = format!("cand-{}-{}", contest.id, ch.id);
            candidates.push(json!({
                "@id": cand,
                "@type": "ElectionResults.Candidate",
                "BallotName": text(&ch.name),
            }));
            let mut counts: Vec<Value> = levels
                .iter()
                .map(|(g, f)| vote_count(g.clone(), f.choices.get(i).map_or(0, |c| c.votes)))
                .collect();
            counts.extend(unit_rows.iter().map(|u| {
                vote_count(
                    unit_gpunit(&u.unit),
                    u.choices.get(i).map_or(0, |c| c.votes),
                )
            }));
            selections.push(json!({
                "@id": format!("sel-{}-{}", contest.id, ch.id),
                "@type": "ElectionResults.CandidateSelection",
                "CandidateIds": [cand],
                "SequenceOrder": i + 1,
                "VoteCounts": counts,
            }));
        }
        let mut others: Vec<Value> = levels
            .iter()
            .map(|(g, f)| other_counts(g.clone(), f.blank, f.invalid))
            .collect();
        others.extend(
            unit_rows
                .iter()
                .map(|u| other_counts(unit_gpunit(&u.unit), u.blank, u.invalid)),
        );
        let done = cr.election.units_reporting >= cr.election.units_expected;
        contests.push(json!({
            "@id": format!("contest-{}", contest.id),
            "@type": "ElectionResults.CandidateContest",
            "Name": contest.title,
            "Abbreviation": contest.id,
            "ElectionDistrictId": ROOT_GPUNIT,
            "VotesAllowed": 1,
            "SequenceOrder": seq + 1,
            "ContestSelection": selections,
            "OtherCounts": others,
            "SubUnitsReported": cr.election.units_reporting,
            "TotalSubUnits": cr.election.units_expected,
            "CountStatus": [{
                "@type": "ElectionResults.CountStatus",
                "Type": "total",
                "Status": if done { "completed" } else { "in-process" },
            }],
        }));
    }
    let all_in = results
        .contests
        .iter()
        .all(|c| c.election.units_reporting >= c.election.units_expected);
    let status = match (results.status, all_in) {
        (Status::Certified, _) => "certified",
        (Status::Provisional, true) => "unofficial-complete",
        (Status::Provisional, false) => "unofficial-partial",
    };
    let notes = format!(
        "Verified results from the tallyboard log {} at checkpoint size {} root {}{}. Signed checkpoint:\n{}",
        c.origin,
        c.size,
        c.root,
        if header.findings.is_empty() {
            String::from("; every check passed")
        } else {
            format!(
                "; exported on request DESPITE {} FINDINGS ({})",
                header.findings.values().sum::<u64>(),
                header
                    .findings
                    .iter()
                    .map(|(c, k)| format!("{c} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        header.checkpoint_note
    );
    let v = json!({
        "@type": "ElectionResults.ElectionReport",
        "Format": if units.is_some() { "precinct-level" } else { "summary-contest" },
        "GeneratedDate": date,
        "Issuer": "tallyboard verifier",
        "IssuerAbbreviation": "tallyboard",
        "VendorApplicationId": header.generator,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": status,
        "Notes": notes,
        "ExternalIdentifier": [
            {"@type": "ElectionResults.ExternalIdentifier", "Type": "other", "OtherType": "tallyboard-log-origin", "Value": c.origin},
            {"@type": "ElectionResults.ExternalIdentifier", "Type": "other", "OtherType": "tallyboard-checkpoint-size", "Value": c.size.to_string()},
            {"@type": "ElectionResults.ExternalIdentifier", "Type": "other", "OtherType": "tallyboard-checkpoint-root", "Value": c.root},
        ],
        "GpUnit": gpunits,
        "Election": [{
            "@type": "ElectionResults.Election",
            "ElectionScopeId": ROOT_GPUNIT,
            "Name": text(&manifest.title),
            "StartDate": day,
            "EndDate": day,
            "Type": "other",
            "OtherType": "not stated in the manifest",
            "ExternalIdentifier": [{"@type": "ElectionResults.ExternalIdentifier", "Type": "other", "OtherType": "tallyboard-election", "Value": manifest.election}],
            "Candidate": candidates,
            "Contest": contests,
        }],
    });
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The JSON rendering of signed totals (`public/totals.json`,
/// `/totals.json`): the decoded figures beside what a browser or a script
/// needs to check them, byte for byte: the signed bytes, the body, the
/// signature and its context label (verify `label || body` under the log
/// key of the manifest), and the signed checkpoint they are bound to when
/// given.
pub fn totals_json(
    signed: &tallyboard_core::totals::SignedTotals,
    checkpoint_note: Option<&[u8]>,
) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let t = signed.totals();
    let rows: Vec<Value> = t
        .rows
        .iter()
        .map(|r| {
            json!({
                "contest": r.contest,
                "region": r.region,
                "choices": r.choices,
                "blank": r.blank,
                "invalid": r.invalid,
                "ballots_cast": r.ballots_cast,
                "registered": r.registered,
                "units_reporting": r.units_reporting,
                "units_expected": r.units_expected,
            })
        })
        .collect();
    let context = tallyboard_core::keys::Context::Totals.label();
    let v = json!({
        "format": "tallyboard-signed-totals",
        "version": 1,
        "election": t.election,
        "checkpoint": {
            "origin": t.checkpoint.origin,
            "size": t.checkpoint.size,
            "root": t.checkpoint.root.to_hex(),
            "signed": checkpoint_note.map(|n| String::from_utf8_lossy(n).into_owned()),
        },
        "signature_context": String::from_utf8_lossy(context),
        "signed_base64": b64(signed.as_bytes()),
        "body_base64": b64(signed.body_bytes()),
        "signature_base64": b64(&signed.signature().0),
        "rows": rows,
    });
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or_default();
    out.push(b'\n');
    out
}
