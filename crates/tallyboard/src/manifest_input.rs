//! The human-editable input of `tallyboard manifest build` (`spec/cli.md`
//! §3): `election.json` and four CSV files. Every error names the file, the
//! line and the column (CSV) or the field (JSON); all errors are collected
//! and reported together.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use tallyboard_core::PublicKey;
use tallyboard_core::cbor::{is_valid_id, is_valid_text};
use tallyboard_core::limits::MAX_NAME_LEN;
use tallyboard_core::manifest::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, Region, Unit, Witness,
    is_valid_origin,
};
use tallyboard_core::note::{KeyKind, VerifierKey};

use crate::fsutil::read_capped;
use crate::timefmt::parse_rfc3339;
use tallyboard_sheet::RESERVED;

/// Largest input file accepted, in bytes (a national manifest's units.csv
/// is well under this).
pub(crate) const MAX_INPUT_FILE: usize = 256 * 1024 * 1024;

pub(crate) use tallyboard_exercise::input::{
    CENTRE_KEYS_CSV, CENTRES_CSV, ELECTION_JSON, ElectionJson, REGIONS_CSV, UNITS_CSV,
};

const REGIONS_HEADER: &[&str] = &["id", "name", "parent"];
const CENTRES_HEADER: &[&str] = &["id", "name"];
const CENTRE_KEYS_HEADER: &[&str] = &[
    "centre",
    "verifier_key",
    "valid_from",
    "valid_until",
    "revoked_at",
];
const UNITS_HEADER: &[&str] = &["id", "name", "region", "registered", "contests", "centre"];

/// One input error: file, position (line and column, or JSON field), what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputError {
    file: &'static str,
    line: u64,
    place: String,
    message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ", line {}", self.line)?;
        }
        if !self.place.is_empty() {
            write!(f, ", {}", self.place)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputErrors(pub(crate) Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the manifest input has {} error{}:",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

#[derive(Default)]
struct Errors(Vec<InputError>);

impl Errors {
    fn push(
        &mut self,
        file: &'static str,
        line: u64,
        place: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.0.push(InputError {
            file,
            line,
            place: place.into(),
            message: msg.into(),
        });
    }
}

// ---------------------------------------------------------------------------
// election.json

fn check_id(errs: &mut Errors, file: &'static str, line: u64, place: &str, kind: &str, id: &str) {
    if !is_valid_id(id) {
        errs.push(
            file,
            line,
            place,
            format!(
                "{kind} id {id:?} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
            ),
        );
    }
}

fn check_name(errs: &mut Errors, file: &'static str, line: u64, place: &str, name: &str) {
    if !is_valid_text(name, MAX_NAME_LEN) {
        errs.push(
            file,
            line,
            place,
            format!(
                "{name:?} is not valid: use 1 to {MAX_NAME_LEN} bytes with no control characters"
            ),
        );
    }
}

fn parse_vkey(
    errs: &mut Errors,
    file: &'static str,
    line: u64,
    place: &str,
    s: &str,
    kind: KeyKind,
) -> Option<VerifierKey> {
    match VerifierKey::parse(s) {
        Ok(vk) if vk.kind() == kind => Some(vk),
        Ok(vk) => {
            let want = match kind {
                KeyKind::CosignatureV1 => "a witness key (type 0x04, `keygen --witness`)",
                _ => "an Ed25519 note key (type 0x01, `keygen` without --witness)",
            };
            errs.push(
                file,
                line,
                place,
                format!("key {} must be {want}", vk.name()),
            );
            None
        }
        Err(e) => {
            // The text is not repeated: it could be (part of) a private key.
            let msg = if crate::keyfile::looks_private(s) {
                crate::keyfile::PRIVATE_NOT_PUBLIC.to_owned()
            } else {
                format!("not a verifier key: {e}")
            };
            errs.push(file, line, place, msg);
            None
        }
    }
}

struct ElectionPart {
    election: String,
    title: String,
    log: Option<LogInfo>,
    witnesses: Vec<Witness>,
    quorum: u64,
    mirrors: Vec<String>,
    contests: Vec<Contest>,
    polls_close: Option<u64>,
    results_due: Option<u64>,
}

fn read_election(errs: &mut Errors, data: &[u8]) -> Option<ElectionPart> {
    const F: &str = ELECTION_JSON;
    let e: ElectionJson = match serde_json::from_slice(data) {
        Ok(e) => e,
        Err(err) => {
            let msg = err.to_string();
            // serde_json appends " at line L column C"; report it our way.
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m)
                .to_string();
            errs.push(
                F,
                err.line() as u64,
                format!("column {}", err.column()),
                msg,
            );
            return None;
        }
    };
    check_id(errs, F, 0, "field 'id'", "election", &e.id);
    check_name(errs, F, 0, "field 'title'", &e.title);
    if !is_valid_origin(&e.log.origin) {
        errs.push(
            F,
            0,
            "field 'log.origin'",
            format!(
                "{:?} is not a valid log origin: printable ASCII without spaces or '+'",
                e.log.origin
            ),
        );
    }
    let log = parse_vkey(errs, F, 0, "field 'log.key'", &e.log.key, KeyKind::Ed25519).and_then(|vk| {
        if vk.name() == e.log.origin {
            Some(LogInfo {
                origin: e.log.origin.clone(),
                key: *vk.public_key(),
            })
        } else {
            errs.push(
                F,
                0,
                "field 'log.key'",
                format!(
                    "the log key is named {:?} but the log origin is {:?}: the log's key name must be its origin",
                    vk.name(),
                    e.log.origin
                ),
            );
            None
        }
    });
    let mut time = |field: &str, v: &Option<String>| match parse_rfc3339(v.as_deref()?) {
        Ok(t) => Some(t),
        Err(err) => {
            errs.push(F, 0, format!("field '{field}'"), err.to_string());
            None
        }
    };
    let polls_close = time("polls_close", &e.polls_close);
    let results_due = time("results_due", &e.results_due);
    if let (Some(close), Some(due)) = (polls_close, results_due)
        && due < close
    {
        errs.push(
            F,
            0,
            "field 'results_due'",
            "the results cannot be due before the polls close",
        );
    }
    let mut witnesses = Vec::new();
    let mut witness_names: HashMap<String, usize> = HashMap::new();
    for (i, k) in e.witnesses.keys.iter().enumerate() {
        let place = format!("field 'witnesses.keys[{i}]'");
        if let Some(vk) = parse_vkey(errs, F, 0, &place, k, KeyKind::CosignatureV1) {
            if let Some(first) = witness_names.insert(vk.name().to_string(), i) {
                errs.push(
                    F,
                    0,
                    &place,
                    format!("witness {} is also witnesses.keys[{first}]", vk.name()),
                );
            }
            witnesses.push(Witness {
                name: vk.name().to_string(),
                key: *vk.public_key(),
            });
        }
    }
    if e.witnesses.quorum > e.witnesses.keys.len() as u64 {
        errs.push(
            F,
            0,
            "field 'witnesses.quorum'",
            format!(
                "the quorum {} is more than the {} witness keys",
                e.witnesses.quorum,
                e.witnesses.keys.len()
            ),
        );
    }
    if e.contests.is_empty() {
        errs.push(
            F,
            0,
            "field 'contests'",
            "there must be at least one contest",
        );
    }
    let mut contest_ids: HashMap<&str, usize> = HashMap::new();
    let mut contests = Vec::new();
    for (i, c) in e.contests.iter().enumerate() {
        let place = format!("field 'contests[{i}]");
        check_id(errs, F, 0, &format!("{place}.id'"), "contest", &c.id);
        if let Some(first) = contest_ids.insert(&c.id, i) {
            errs.push(
                F,
                0,
                format!("{place}.id'"),
                format!("contest {} is also contests[{first}]", c.id),
            );
        }
        check_name(errs, F, 0, &format!("{place}.title'"), &c.title);
        if c.choices.is_empty() {
            errs.push(
                F,
                0,
                format!("{place}.choices'"),
                format!("contest {} has no choices", c.id),
            );
        }
        let mut choice_ids: HashMap<&str, usize> = HashMap::new();
        for (j, ch) in c.choices.iter().enumerate() {
            let cplace = format!("{place}.choices[{j}]");
            check_id(errs, F, 0, &format!("{cplace}.id'"), "choice", &ch.id);
            if RESERVED.contains(&ch.id.as_str()) {
                errs.push(
                    F,
                    0,
                    format!("{cplace}.id'"),
                    format!(
                        "a choice cannot be called {:?}: tally sheets use that word for another line",
                        ch.id
                    ),
                );
            }
            if let Some(first) = choice_ids.insert(&ch.id, j) {
                errs.push(
                    F,
                    0,
                    format!("{cplace}.id'"),
                    format!(
                        "contest {}: choice {} is also choices[{first}]",
                        c.id, ch.id
                    ),
                );
            }
            check_name(errs, F, 0, &format!("{cplace}.name'"), &ch.name);
        }
        contests.push(Contest {
            id: c.id.clone(),
            title: c.title.clone(),
            choices: c
                .choices
                .iter()
                .map(|ch| Choice {
                    id: ch.id.clone(),
                    name: ch.name.clone(),
                })
                .collect(),
        });
    }
    Some(ElectionPart {
        election: e.id,
        title: e.title,
        log,
        witnesses,
        quorum: e.witnesses.quorum,
        mirrors: e.mirrors,
        contests,
        polls_close,
        results_due,
    })
}

// ---------------------------------------------------------------------------
// CSV files

/// A CSV record with its line number; fields by header position.
struct Row {
    line: u64,
    fields: Vec<String>,
}

fn read_csv(errs: &mut Errors, file: &'static str, header: &[&str], data: &[u8]) -> Vec<Row> {
    let data = tallyboard_sheet::blank_comments(data);
    let lines = tallyboard_sheet::Lines::new(&data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::None)
        .flexible(true)
        .from_reader(data.as_slice());
    match rdr.headers() {
        Ok(h) => {
            let got: Vec<String> = h.iter().map(|f| f.trim().to_string()).collect();
            if let Some(problem) = tallyboard_sheet::header_problem(&got, header) {
                errs.push(file, 1, "", problem);
                return Vec::new();
            }
        }
        Err(e) => {
            errs.push(file, lines.of(e.position()), "", e.to_string());
            return Vec::new();
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) if r.len() != header.len() => {
                // Every line is checked: one run lists every problem.
                let fields: Vec<&str> = r.iter().collect();
                errs.push(
                    file,
                    lines.of(r.position()),
                    "",
                    tallyboard_sheet::column_count_message_for(&fields, header),
                );
            }
            Ok(r) => rows.push(Row {
                line: lines.of(r.position()),
                fields: r.iter().map(|f| f.trim().to_string()).collect(),
            }),
            Err(e) => {
                let line = lines.of(e.position());
                let msg = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "this line is not UTF-8 text".to_string(),
                    _ => e.to_string(),
                };
                errs.push(file, line, "", msg);
                // A line that is not CSV cannot be trusted to be followed
                // by good ones.
                break;
            }
        }
    }
    rows
}

fn col(c: &str) -> String {
    format!("column '{c}'")
}

/// Records ids of one kind with their line, reporting duplicates.
fn unique_ids<'a>(
    errs: &mut Errors,
    file: &'static str,
    kind: &str,
    rows: impl Iterator<Item = (u64, &'a str)>,
) -> HashMap<String, u64> {
    let mut seen = HashMap::new();
    for (line, id) in rows {
        check_id(errs, file, line, &col("id"), kind, id);
        if let Some(first) = seen.insert(id.to_string(), line) {
            errs.push(
                file,
                line,
                col("id"),
                format!("{kind} {id} is already on line {first}"),
            );
            seen.insert(id.to_string(), first);
        }
    }
    seen
}

fn parse_u64(errs: &mut Errors, file: &'static str, line: u64, c: &str, s: &str) -> u64 {
    match tallyboard_sheet::parse_count(s) {
        Ok(n) => n,
        Err(m) => {
            errs.push(file, line, col(c), m);
            0
        }
    }
}

fn parse_time(errs: &mut Errors, file: &'static str, line: u64, c: &str, s: &str) -> u64 {
    match parse_rfc3339(s) {
        Ok(t) => t,
        Err(e) => {
            errs.push(file, line, col(c), e.to_string());
            0
        }
    }
}

/// Reads and checks the input directory and returns the manifest body,
/// with `authority` as the authority key. Errors: every problem found.
pub(crate) fn read_dir(
    dir: &Path,
    authority: PublicKey,
) -> anyhow::Result<Result<ManifestBody, InputErrors>> {
    let read = |name: &str| read_capped(&dir.join(name), MAX_INPUT_FILE);
    let election_data = read(ELECTION_JSON)?;
    let regions_data = read(REGIONS_CSV)?;
    let centres_data = read(CENTRES_CSV)?;
    let keys_data = read(CENTRE_KEYS_CSV)?;
    let units_data = read(UNITS_CSV)?;
    Ok(parse_input(
        &election_data,
        &regions_data,
        &centres_data,
        &keys_data,
        &units_data,
        authority,
    ))
}

/// Parses the five input files (their contents) into a manifest body.
pub(crate) fn parse_input(
    election_data: &[u8],
    regions_data: &[u8],
    centres_data: &[u8],
    keys_data: &[u8],
    units_data: &[u8],
    authority: PublicKey,
) -> Result<ManifestBody, InputErrors> {
    let mut errs = Errors::default();
    let election = read_election(&mut errs, election_data);

    // regions.csv
    let rows = read_csv(&mut errs, REGIONS_CSV, REGIONS_HEADER, regions_data);
    let region_ids = unique_ids(
        &mut errs,
        REGIONS_CSV,
        "region",
        rows.iter().map(|r| (r.line, r.fields[0].as_str())),
    );
    let mut regions = Vec::new();
    for r in &rows {
        let [id, name, parent] = [&r.fields[0], &r.fields[1], &r.fields[2]];
        check_name(&mut errs, REGIONS_CSV, r.line, &col("name"), name);
        if !parent.is_empty() && !region_ids.contains_key(parent.as_str()) {
            errs.push(
                REGIONS_CSV,
                r.line,
                col("parent"),
                format!("region {id}: parent region {parent} is not in {REGIONS_CSV}"),
            );
        }
        if parent == id {
            errs.push(
                REGIONS_CSV,
                r.line,
                col("parent"),
                format!("region {id} is its own parent"),
            );
        }
        regions.push(Region {
            id: id.clone(),
            name: name.clone(),
            parent: (!parent.is_empty()).then(|| parent.clone()),
        });
    }

    // centres.csv
    let rows = read_csv(&mut errs, CENTRES_CSV, CENTRES_HEADER, centres_data);
    let centre_ids = unique_ids(
        &mut errs,
        CENTRES_CSV,
        "count centre",
        rows.iter().map(|r| (r.line, r.fields[0].as_str())),
    );
    let mut centres: Vec<Centre> = Vec::new();
    let mut centre_pos: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        check_name(&mut errs, CENTRES_CSV, r.line, &col("name"), &r.fields[1]);
        centre_pos
            .entry(r.fields[0].clone())
            .or_insert(centres.len());
        centres.push(Centre {
            id: r.fields[0].clone(),
            name: r.fields[1].clone(),
            keys: Vec::new(),
        });
    }

    // centre-keys.csv
    let rows = read_csv(&mut errs, CENTRE_KEYS_CSV, CENTRE_KEYS_HEADER, keys_data);
    let mut key_lines: HashMap<[u8; 32], (u64, String)> = HashMap::new();
    for r in &rows {
        let f = CENTRE_KEYS_CSV;
        let [centre, vkey, from, until, revoked] = [
            &r.fields[0],
            &r.fields[1],
            &r.fields[2],
            &r.fields[3],
            &r.fields[4],
        ];
        let vk = parse_vkey(
            &mut errs,
            f,
            r.line,
            &col("verifier_key"),
            vkey,
            KeyKind::Ed25519,
        );
        let valid_from = parse_time(&mut errs, f, r.line, "valid_from", from);
        let valid_until = parse_time(&mut errs, f, r.line, "valid_until", until);
        let revoked_at =
            (!revoked.is_empty()).then(|| parse_time(&mut errs, f, r.line, "revoked_at", revoked));
        if valid_from >= valid_until && !from.is_empty() && !until.is_empty() {
            errs.push(
                f,
                r.line,
                col("valid_until"),
                "valid_until must be later than valid_from",
            );
        }
        let Some(vk) = vk else { continue };
        let key = *vk.public_key();
        if let Some((first, other)) = key_lines.get(key.as_bytes()) {
            errs.push(
                f,
                r.line,
                col("verifier_key"),
                format!("this key is already listed on line {first} (for count centre {other})"),
            );
        } else {
            key_lines.insert(*key.as_bytes(), (r.line, centre.clone()));
        }
        match centre_pos.get(centre.as_str()) {
            Some(&i) => centres[i].keys.push(CentreKey {
                key,
                valid_from,
                valid_until,
                revoked_at,
            }),
            None => errs.push(
                f,
                r.line,
                col("centre"),
                format!("count centre {centre} is not in {CENTRES_CSV}"),
            ),
        }
    }
    for (id, line) in &centre_ids {
        if let Some(&i) = centre_pos.get(id)
            && centres[i].keys.is_empty()
        {
            errs.push(
                CENTRES_CSV,
                *line,
                col("id"),
                format!("count centre {id} has no key in {CENTRE_KEYS_CSV}"),
            );
        }
    }

    // units.csv
    let contest_ids: BTreeMap<&str, ()> = election
        .as_ref()
        .map(|e| e.contests.iter().map(|c| (c.id.as_str(), ())).collect())
        .unwrap_or_default();
    let rows = read_csv(&mut errs, UNITS_CSV, UNITS_HEADER, units_data);
    unique_ids(
        &mut errs,
        UNITS_CSV,
        "unit",
        rows.iter().map(|r| (r.line, r.fields[0].as_str())),
    );
    let mut units = Vec::new();
    for r in &rows {
        let f = UNITS_CSV;
        let [id, name, region, registered, contests, centre] = [
            &r.fields[0],
            &r.fields[1],
            &r.fields[2],
            &r.fields[3],
            &r.fields[4],
            &r.fields[5],
        ];
        check_name(&mut errs, f, r.line, &col("name"), name);
        if !region_ids.contains_key(region.as_str()) {
            errs.push(
                f,
                r.line,
                col("region"),
                format!("unit {id}: region {region} is not in {REGIONS_CSV}"),
            );
        }
        if !centre_ids.contains_key(centre.as_str()) {
            errs.push(
                f,
                r.line,
                col("centre"),
                format!("unit {id}: count centre {centre} is not in {CENTRES_CSV}"),
            );
        }
        let registered = parse_u64(&mut errs, f, r.line, "registered", registered);
        let list: Vec<String> = contests.split(';').map(|c| c.trim().to_string()).collect();
        let mut seen = Vec::new();
        for c in &list {
            if c.is_empty() {
                errs.push(
                    f,
                    r.line,
                    col("contests"),
                    format!(
                        "unit {id}: empty contest in {contests:?} (separate contests with ';')"
                    ),
                );
            } else if election.is_some() && !contest_ids.contains_key(c.as_str()) {
                errs.push(
                    f,
                    r.line,
                    col("contests"),
                    format!("unit {id}: contest {c} is not in {ELECTION_JSON}"),
                );
            } else if seen.contains(&c) {
                errs.push(
                    f,
                    r.line,
                    col("contests"),
                    format!("unit {id}: contest {c} is listed twice"),
                );
            }
            seen.push(c);
        }
        units.push(Unit {
            id: id.clone(),
            name: name.clone(),
            region: region.clone(),
            registered,
            contests: list,
            centre: centre.clone(),
        });
    }
    if rows.is_empty() {
        errs.push(
            UNITS_CSV,
            0,
            "",
            "there must be at least one reporting unit",
        );
    }

    let Some(e) = election else {
        return Err(InputErrors(errs.0));
    };
    let Some(log) = e.log else {
        return Err(InputErrors(errs.0));
    };
    if !errs.0.is_empty() {
        return Err(InputErrors(errs.0));
    }
    Ok(ManifestBody {
        election: e.election,
        title: e.title,
        authority,
        log,
        witnesses: e.witnesses,
        quorum: e.quorum,
        mirrors: e.mirrors,
        contests: e.contests,
        regions,
        centres,
        units,
        polls_close: e.polls_close,
        results_due: e.results_due,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::SecretKey;
    use tallyboard_core::note::SignerKey;

    /// The election generator (`tallyboard example`, the exercise) writes
    /// the input files and builds the manifest body itself: parsing its
    /// files must give the same body.
    #[test]
    fn the_generators_input_files_build_its_manifest() {
        use tallyboard_exercise::election::{Plan, generate_plan};
        for plan in [Plan::example().unwrap(), Plan::scaled(1_200, 4).unwrap()] {
            let g = generate_plan(plan, false).unwrap();
            let file = |name: &str| {
                let path = format!("input/{name}");
                g.files.iter().find(|f| f.0 == path).unwrap().1.clone()
            };
            let body = parse_input(
                &file(ELECTION_JSON),
                &file(REGIONS_CSV),
                &file(CENTRES_CSV),
                &file(CENTRE_KEYS_CSV),
                &file(UNITS_CSV),
                g.authority.signer.secret().public_key(),
            )
            .unwrap();
            assert_eq!(&body, g.manifest.manifest().body());
        }
    }

    fn vkey(name: &str, kind: KeyKind, seed: u8) -> String {
        SignerKey::new(name, kind, SecretKey::from_seed(&[seed; 32]))
            .unwrap()
            .verifier()
            .to_string()
    }

    fn election(log_name: &str, witness_kind: KeyKind) -> String {
        format!(
            r#"{{"id": "e1", "title": "Test", "log": {{"origin": "log.test/e1", "key": "{}"}},
               "witnesses": {{"quorum": 1, "keys": ["{}"]}},
               "contests": [{{"id": "mayor", "title": "Mayor", "choices": [{{"id": "a", "name": "A"}}]}}]}}"#,
            vkey(log_name, KeyKind::Ed25519, 1),
            vkey("w1", witness_kind, 2)
        )
    }

    struct Input {
        election: String,
        regions: String,
        centres: String,
        keys: String,
        units: String,
    }

    fn good() -> Input {
        Input {
            election: election("log.test/e1", KeyKind::CosignatureV1),
            regions: "id,name,parent\nr1,Region one,\nr2,Region two,r1\n".into(),
            centres: "id,name\nc1,Centre one\n".into(),
            keys: format!(
                "centre,verifier_key,valid_from,valid_until,revoked_at\n\
                 c1,{},2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,\n",
                vkey("c1", KeyKind::Ed25519, 3)
            ),
            units: "id,name,region,registered,contests,centre\nu1,Unit one,r2,100,mayor,c1\n"
                .into(),
        }
    }

    fn parse(i: &Input) -> Result<ManifestBody, InputErrors> {
        parse_input(
            i.election.as_bytes(),
            i.regions.as_bytes(),
            i.centres.as_bytes(),
            i.keys.as_bytes(),
            i.units.as_bytes(),
            SecretKey::from_seed(&[9; 32]).public_key(),
        )
    }

    fn errors(i: &Input) -> Vec<String> {
        parse(i)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn accepts_good_input_and_keeps_file_order() {
        let body = parse(&good()).unwrap();
        assert_eq!(body.election, "e1");
        assert_eq!(body.regions[1].parent.as_deref(), Some("r1"));
        assert_eq!(body.centres[0].keys.len(), 1);
        assert_eq!(body.units[0].contests, vec!["mayor".to_string()]);
        assert_eq!(body.witnesses[0].name, "w1");
    }

    #[test]
    fn rejects_duplicate_ids_naming_both_lines() {
        let mut i = good();
        i.regions.push_str("r1,Again,\n");
        assert_eq!(
            errors(&i),
            vec!["regions.csv, line 4, column 'id': region r1 is already on line 2"]
        );
    }

    #[test]
    fn rejects_unknown_references() {
        let mut i = good();
        i.units = "id,name,region,registered,contests,centre\nu1,U,r9,100,mayor;senate,c9\n".into();
        i.regions.push_str("r3,Three,r8\n");
        let e = errors(&i);
        assert!(
            e.iter()
                .any(|m| m.starts_with("regions.csv, line 4, column 'parent'")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("units.csv, line 2, column 'region'")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("units.csv, line 2, column 'centre'")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m == "units.csv, line 2, column 'contests': unit u1: contest senate is not in election.json"),
            "{e:?}"
        );
    }

    #[test]
    fn rejects_a_key_listed_twice_and_an_empty_window() {
        let mut i = good();
        i.centres.push_str("c2,Centre two\n");
        i.keys.push_str(&format!(
            "c2,{},2026-06-01T00:00:00Z,2026-01-01T00:00:00Z,\n",
            vkey("c1", KeyKind::Ed25519, 3)
        ));
        let e = errors(&i);
        assert!(
            e.iter()
                .any(|m| m.starts_with("centre-keys.csv, line 3, column 'valid_until'")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m
                .contains("line 3, column 'verifier_key': this key is already listed on line 2")),
            "{e:?}"
        );
    }

    #[test]
    fn rejects_a_log_key_not_named_for_the_origin_and_a_plain_witness_key() {
        let mut i = good();
        i.election = election("some-other-name", KeyKind::Ed25519);
        let e = errors(&i);
        assert!(
            e.iter()
                .any(|m| m.starts_with("election.json, field 'log.key'")),
            "{e:?}"
        );
        assert!(
            e.iter().any(
                |m| m.starts_with("election.json, field 'witnesses.keys[0]'") && m.contains("0x04")
            ),
            "{e:?}"
        );
    }

    #[test]
    fn rejects_unknown_json_fields_with_line_and_column() {
        let mut i = good();
        i.election = i.election.replacen("\"title\"", "\"titel\"", 1);
        let e = errors(&i);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("election.json, line 1, column "), "{e:?}");
        assert!(e[0].contains("titel"), "{e:?}");
    }

    #[test]
    fn rejects_a_wrong_header() {
        let mut i = good();
        i.centres = "id,title\nc1,Centre one\n".into();
        let e = errors(&i);
        assert!(
            e.iter()
                .any(|m| m.starts_with("centres.csv, line 1: the header has no column 'name'; column 'title' is not expected")
                    && m.ends_with("the first line must be the header `id,name`")),
            "{e:?}"
        );
    }

    #[test]
    fn names_the_unquoted_column_on_every_line_and_recognises_semicolons() {
        let mut i = good();
        i.centres = "id,name\nc1,Centre one, north\nc2\n".into();
        let e = errors(&i);
        assert!(
            e.iter().any(|m| m.starts_with("centres.csv, line 2:")
                && m.contains("column 'name' probably contains a comma")
                && m.contains("must be in double quotes")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("centres.csv, line 3:") && m.contains("'name' is missing")),
            "{e:?}"
        );
        let mut i = good();
        i.centres = "id;name\nc1;Centre one\n".into();
        let e = errors(&i);
        assert!(
            e.iter().any(|m| m.contains("separated by semicolons")),
            "{e:?}"
        );
    }
}
