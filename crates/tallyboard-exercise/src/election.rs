//! The election generator: the deterministic example election in
//! `keys-example/` (`tallyboard example`) and scaled elections of the same
//! kind for the exercise and the tests. Every key seed is SHA-256 of a
//! fixed label, every figure comes from a fixed-seed generator, every time
//! is fixed: running it twice gives identical bytes (a test checks the
//! committed copy).

use std::fmt::Write as _;
use std::path::Path;

use tallyboard_core::manifest::{
    self, Centre, CentreKey, Choice, Contest, LogInfo, Manifest, ManifestBody, ManifestError,
    Region, SignedManifest, Witness,
};
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::time::{format_rfc3339, parse_rfc3339};
use tallyboard_core::{Hash, SecretKey};

use crate::error::{Context as _, Result, bail, failed};
use crate::input::{
    CENTRE_KEYS_CSV, CENTRES_CSV, ChoiceJson, ContestJson, ELECTION_JSON, ElectionJson, LogJson,
    REGIONS_CSV, UNITS_CSV, WitnessesJson,
};

/// Prefix of every seed label of the example. Changing it changes every key.
const SEED_LABEL: &str = "tallyboard keys-example v1 EXAMPLE ONLY NOT FOR REAL ELECTIONS: ";

/// Prefix of every seed label of a generated (scaled) exercise election.
const SCALED_SEED_LABEL: &str = "tallyboard exercise v1 EXAMPLE ONLY NOT FOR REAL ELECTIONS: ";

/// The loud marker in key names and file names.
pub const MARK: &str = "EXAMPLE-ONLY";

/// Election id of the example.
pub const ELECTION_ID: &str = "EXAMPLE-ONLY-2026-municipal";
/// Log origin of the example (also the log key's name).
pub const LOG_ORIGIN: &str = "log.example.invalid/EXAMPLE-ONLY-2026-municipal";

/// The signed manifest's file name inside the example directory.
pub const MANIFEST_FILE: &str = "manifest.signed";

/// A small deterministic generator (SplitMix64) for the example's figures.
pub struct Rng(u64);

impl Rng {
    fn new(seed_label: &str, label: &str) -> Rng {
        let h = Hash::sha256(format!("{seed_label}figures {label}").as_bytes()).0;
        Rng(u64::from_be_bytes([
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
        ]))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi` (the tiny modulo bias does not matter here).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A generated key: its file stem under keys/ and the key.
pub struct KeySpec {
    /// File stem under keys/.
    pub file: String,
    pub signer: SignerKey,
}

/// A count-centre key with the validity the manifest gives it.
pub struct CentreKeySpec {
    pub centre: String,
    pub key: KeySpec,
    pub valid_from: u64,
    pub valid_until: u64,
    pub revoked_at: Option<u64>,
}

impl CentreKeySpec {
    /// Whether the manifest lets this key sign a count made at `t`.
    pub fn usable_at(&self, t: u64) -> bool {
        self.valid_from <= t && t < self.valid_until && self.revoked_at.is_none_or(|r| t < r)
    }
}

/// A contest of a plan.
#[derive(Clone)]
pub struct ContestSpec {
    pub id: String,
    pub title: String,
    pub choices: Vec<(String, String)>,
    /// Relative popularity of each choice.
    pub weights: Vec<u64>,
    /// Only units of these top-level regions take part (empty: all).
    pub only_in: Vec<String>,
}

/// A count-centre key of a plan: (centre, file label suffix, valid from,
/// valid until, revoked at).
struct CentreKeyPlan {
    centre: String,
    suffix: String,
    valid_from: u64,
    valid_until: u64,
    revoked_at: Option<u64>,
}

/// What to generate: the example election, or a scaled election of the
/// same kind for the exercise.
pub struct Plan {
    seed_label: &'static str,
    /// Whether this is the committed example (README, broken sheet).
    example: bool,
    election_id: String,
    title: String,
    log_origin: String,
    contests: Vec<ContestSpec>,
    /// (id, name, parent)
    regions: Vec<(String, String, String)>,
    /// (district, centre, number of units)
    districts: Vec<(String, String, usize)>,
    /// (id, name)
    centres: Vec<(String, String)>,
    keys: Vec<CentreKeyPlan>,
    /// Digits of the unit number in unit ids (P-001, P-0000001).
    unit_digits: usize,
}

const YEAR_START: &str = "2026-01-01T00:00:00Z";
const YEAR_END: &str = "2027-01-01T00:00:00Z";
/// C-COAST's first key is valid until, and its second from, this time.
const ROTATION: &str = "2026-05-10T12:00:00Z";
/// C-VALLEY's first key was revoked at this time.
const REVOCATION: &str = "2026-05-01T00:00:00Z";
/// Counting starts; each unit's count is dated a few minutes later.
const COUNT_START: &str = "2026-05-10T19:00:00Z";
/// When the polls close: the count starts then.
const POLLS_CLOSE: &str = "2026-05-10T19:00:00Z";
/// When every unit's results are due (the last count is at about 22:00).
const RESULTS_DUE: &str = "2026-05-11T06:00:00Z";

const UNITS_PER_DISTRICT: usize = 9;

/// Units per district of a scaled election.
const SCALED_UNITS_PER_DISTRICT: usize = 500;
/// Districts per province of a scaled election.
const SCALED_DISTRICTS_PER_PROVINCE: usize = 10;

fn t(s: &str) -> Result<u64> {
    parse_rfc3339(s).map_err(|e| failed!("{s}: {e}"))
}

fn strings(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The example's three contests.
fn example_contests() -> Vec<ContestSpec> {
    vec![
        ContestSpec {
            id: "mayor".into(),
            title: "Mayor of Exampleton (EXAMPLE)".into(),
            choices: strings(&[
                ("ada", "Ada Lindqvist"),
                ("bruno", "Bruno Okafor"),
                ("chen", "Chen Wei"),
                ("dina", "Dina Haddad"),
            ]),
            weights: vec![34, 31, 22, 13],
            only_in: vec![],
        },
        ContestSpec {
            id: "council".into(),
            title: "Municipal council (EXAMPLE)".into(),
            choices: strings(&[
                ("green", "Green List"),
                ("labour", "Labour and Cooperative"),
                ("liberal", "Liberal Union"),
                ("civic", "Civic Alliance"),
                ("local", "Local Independents"),
            ]),
            weights: vec![18, 27, 21, 24, 10],
            only_in: vec![],
        },
        ContestSpec {
            id: "harbour-referendum".into(),
            title: "Referendum on the harbour extension (EXAMPLE, southern province only)".into(),
            choices: strings(&[("yes", "Yes"), ("no", "No")]),
            weights: vec![52, 48],
            only_in: vec!["south".into()],
        },
    ]
}

impl Plan {
    /// The committed example election (keys-example/).
    pub fn example() -> Result<Plan> {
        let (year_start, year_end) = (t(YEAR_START)?, t(YEAR_END)?);
        let (rotation, revocation) = (t(ROTATION)?, t(REVOCATION)?);
        let regions = [
            ("north", "Northern Province (EXAMPLE)", ""),
            ("south", "Southern Province (EXAMPLE)", ""),
            ("north-hills", "Hills District", "north"),
            ("north-lakes", "Lakes District", "north"),
            ("south-coast", "Coast District", "south"),
            ("south-valley", "Valley District", "south"),
        ];
        let districts = [
            ("north-hills", "C-NORTH"),
            ("north-lakes", "C-NORTH"),
            ("south-coast", "C-COAST"),
            ("south-valley", "C-VALLEY"),
        ];
        let key = |centre: &str, suffix: &str, from: u64, until: u64, revoked: Option<u64>| {
            CentreKeyPlan {
                centre: centre.into(),
                suffix: suffix.into(),
                valid_from: from,
                valid_until: until,
                revoked_at: revoked,
            }
        };
        Ok(Plan {
            seed_label: SEED_LABEL,
            example: true,
            election_id: ELECTION_ID.into(),
            title: "Exampleton municipal election 2026 — EXAMPLE ONLY, NOT A REAL ELECTION".into(),
            log_origin: LOG_ORIGIN.into(),
            contests: example_contests(),
            regions: regions
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect(),
            districts: districts
                .iter()
                .map(|(d, c)| (d.to_string(), c.to_string(), UNITS_PER_DISTRICT))
                .collect(),
            centres: strings(&[
                ("C-NORTH", "Northern count centre (EXAMPLE)"),
                (
                    "C-COAST",
                    "Coast count centre (EXAMPLE), key rotated at noon on election day",
                ),
                (
                    "C-VALLEY",
                    "Valley count centre (EXAMPLE), old key revoked before election day",
                ),
            ]),
            keys: vec![
                key("C-NORTH", "", year_start, year_end, None),
                key(
                    "C-COAST",
                    ".rotated-out-at-noon",
                    year_start,
                    rotation,
                    None,
                ),
                key("C-COAST", "", rotation, year_end, None),
                key(
                    "C-VALLEY",
                    ".REVOKED",
                    year_start,
                    year_end,
                    Some(revocation),
                ),
                key("C-VALLEY", "", revocation, year_end, None),
            ],
            unit_digits: 3,
        })
    }

    /// An election of the example's kind with `units` reporting units and
    /// `contests` contests (the example's three first, then generated
    /// ones): provinces of districts of about 500 units, one count centre
    /// per district; the first centre also holds a key revoked before
    /// election day (as C-VALLEY does in the example). The example itself
    /// is `Plan::example()`.
    pub fn scaled(units: usize, contests: usize) -> Result<Plan> {
        if units == 0 || contests == 0 {
            bail!("an election needs at least one unit and one contest");
        }
        let (year_start, year_end, revocation) = (t(YEAR_START)?, t(YEAR_END)?, t(REVOCATION)?);
        let n_districts = units.div_ceil(SCALED_UNITS_PER_DISTRICT).max(2).min(units);
        let n_provinces = n_districts
            .div_ceil(SCALED_DISTRICTS_PER_PROVINCE)
            .max(2)
            .min(n_districts);
        let mut regions = Vec::new();
        for p in 1..=n_provinces {
            regions.push((
                format!("prov-{p:03}"),
                format!("Province {p} (EXAMPLE)"),
                String::new(),
            ));
        }
        let mut districts = Vec::new();
        let mut centres = Vec::new();
        let mut keys = Vec::new();
        for d in 0..n_districts {
            // Districts are spread evenly over the provinces, units evenly
            // over the districts.
            let province = d * n_provinces / n_districts + 1;
            let id = format!("dist-{:04}", d + 1);
            regions.push((
                id.clone(),
                format!("District {} (EXAMPLE)", d + 1),
                format!("prov-{province:03}"),
            ));
            let centre = format!("C-{:04}", d + 1);
            let n = units * (d + 1) / n_districts - units * d / n_districts;
            districts.push((id, centre.clone(), n));
            centres.push((centre.clone(), format!("Count centre {} (EXAMPLE)", d + 1)));
            if d == 0 {
                keys.push(CentreKeyPlan {
                    centre: centre.clone(),
                    suffix: ".REVOKED".into(),
                    valid_from: year_start,
                    valid_until: year_end,
                    revoked_at: Some(revocation),
                });
            }
            keys.push(CentreKeyPlan {
                centre,
                suffix: String::new(),
                valid_from: year_start,
                valid_until: year_end,
                revoked_at: None,
            });
        }
        let mut specs = example_contests();
        specs.truncate(contests);
        for spec in specs.iter_mut() {
            if !spec.only_in.is_empty() {
                spec.only_in = vec![format!("prov-{n_provinces:03}")];
            }
        }
        for k in specs.len() + 1..=contests {
            specs.push(ContestSpec {
                id: format!("contest-{k}"),
                title: format!("Contest {k} (EXAMPLE)"),
                choices: strings(&[("a", "Choice A"), ("b", "Choice B"), ("c", "Choice C")]),
                weights: vec![40, 35, 25],
                only_in: vec![],
            });
        }
        let election_id = format!("{MARK}-exercise-{units}u-{contests}c");
        Ok(Plan {
            seed_label: SCALED_SEED_LABEL,
            example: false,
            title: format!(
                "Exercise election, {units} units, {contests} contests — EXAMPLE ONLY, NOT A REAL ELECTION"
            ),
            log_origin: format!("log.example.invalid/{election_id}"),
            election_id,
            contests: specs,
            regions,
            districts,
            centres,
            keys,
            unit_digits: (units.to_string().len()).max(3),
        })
    }

    fn seed(&self, role: &str) -> [u8; 32] {
        Hash::sha256(format!("{}{role}", self.seed_label).as_bytes()).0
    }

    fn signer(&self, role: &str, name: &str, kind: KeyKind) -> Result<SignerKey> {
        SignerKey::new(name, kind, SecretKey::from_seed(&self.seed(role)))
            .with_context(|| format!("example key {name}"))
    }

    /// A deterministic generator for `label` under this plan's seed.
    pub fn rng(&self, label: &str) -> Rng {
        Rng::new(self.seed_label, label)
    }
}

/// A reporting unit of a generated election.
pub struct Unit {
    pub id: String,
    pub district: String,
    pub centre: String,
    pub registered: u64,
    /// Indexes into the election's contests.
    pub contests: Vec<usize>,
}

fn units(plan: &Plan) -> Vec<Unit> {
    let mut rng = plan.rng("units");
    let total: usize = plan.districts.iter().map(|d| d.2).sum();
    let mut out = Vec::with_capacity(total);
    for (district, centre, n) in &plan.districts {
        let top = plan
            .regions
            .iter()
            .find(|r| &r.0 == district)
            .map_or("", |r| r.2.as_str());
        let contests: Vec<usize> = plan
            .contests
            .iter()
            .enumerate()
            .filter(|(_, c)| c.only_in.is_empty() || c.only_in.iter().any(|r| r == top))
            .map(|(i, _)| i)
            .collect();
        for _ in 0..*n {
            let n = out.len() + 1;
            out.push(Unit {
                id: format!("P-{n:0width$}", width = plan.unit_digits),
                district: district.clone(),
                centre: centre.clone(),
                registered: rng.range(420, 1350),
                contests: contests.clone(),
            });
        }
    }
    out
}

/// One unit's figures for one contest.
pub struct Figures {
    /// Votes per choice, in the contest's order.
    pub votes: Vec<u64>,
    pub blank: u64,
    pub invalid: u64,
    pub cast: u64,
}

/// A whole generated election: the files of `tallyboard example`, the
/// keys, the signed manifest, and what is needed to produce every tally.
pub struct Generated {
    pub plan: Plan,
    /// (relative path, contents, private)
    pub files: Vec<(String, Vec<u8>, bool)>,
    pub authority: KeySpec,
    pub log: KeySpec,
    pub witnesses: Vec<KeySpec>,
    pub centre_keys: Vec<CentreKeySpec>,
    pub manifest: SignedManifest,
    pub units: Vec<Unit>,
    count_start: u64,
}

impl Generated {
    /// The contests of the election.
    pub fn contests(&self) -> &[ContestSpec] {
        &self.plan.contests
    }

    /// The figures of unit `unit` for contest `contest` (an index into
    /// [`Generated::contests`]).
    pub fn figures(&self, unit: &Unit, contest: usize) -> Figures {
        let c = &self.plan.contests[contest];
        let mut rng = self.plan.rng(&format!("{} {}", unit.id, c.id));
        let turnout = rng.range(52, 81);
        let cast = unit.registered * turnout / 100;
        let blank = rng.range(0, cast / 60 + 1);
        let invalid = rng.range(0, cast / 80 + 1);
        let valid = cast - blank - invalid;
        // Jittered weights, then votes proportional to them; the remainder
        // goes to the first choice so that the sum is exact.
        let w: Vec<u64> = c
            .weights
            .iter()
            .map(|&w| w * 100 + rng.range(0, 40 * w))
            .collect();
        let total: u64 = w.iter().sum();
        let mut votes: Vec<u64> = w.iter().map(|&x| valid * x / total).collect();
        let assigned: u64 = votes.iter().sum();
        if let Some(first) = votes.first_mut() {
            *first += valid - assigned;
        }
        Figures {
            votes,
            blank,
            invalid,
            cast,
        }
    }

    /// When unit number `i` (0-based, in manifest order) was counted.
    pub fn counted_at(&self, i: usize) -> u64 {
        self.count_start + 60 * (7 * i as u64 % 180) + 240
    }

    /// The key of `centre` the manifest accepts for a count made at `t`
    /// (the current key, not a rotated-out or revoked one).
    pub fn centre_key(&self, centre: &str, t: u64) -> Option<&CentreKeySpec> {
        self.centre_keys
            .iter()
            .find(|k| k.centre == centre && k.usable_at(t))
    }
}

/// The name of unit `id` in the manifest.
fn unit_name(id: &str) -> String {
    format!("Polling station {id} (EXAMPLE)")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// All files of the example (`keys-example/`): (relative path, contents,
/// private).
pub fn example_files() -> Result<Vec<(String, Vec<u8>, bool)>> {
    Ok(generate_plan(Plan::example()?, true)?.files)
}

/// Generates `plan`: keys, manifest input, signed manifest and, with
/// `sheets`, one tally sheet per count centre.
pub fn generate_plan(plan: Plan, sheets: bool) -> Result<Generated> {
    let count_start = t(COUNT_START)?;

    let authority = KeySpec {
        file: format!("{MARK}.authority"),
        signer: plan.signer("authority", &format!("{MARK}-authority"), KeyKind::Ed25519)?,
    };
    let log = KeySpec {
        file: format!("{MARK}.log"),
        signer: plan.signer("log", &plan.log_origin, KeyKind::Ed25519)?,
    };
    let witnesses = (1..=2)
        .map(|i| {
            Ok(KeySpec {
                file: format!("{MARK}.witness-{i}"),
                signer: plan.signer(
                    &format!("witness-{i}"),
                    &format!("witness-{i}.{MARK}.example.invalid"),
                    KeyKind::CosignatureV1,
                )?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let centre_keys = plan
        .keys
        .iter()
        .map(|k| {
            let label = format!("centre-{}{}", k.centre, k.suffix);
            Ok(CentreKeySpec {
                centre: k.centre.clone(),
                key: KeySpec {
                    file: format!("{MARK}.{label}"),
                    signer: plan.signer(&label, &format!("{MARK}-{label}"), KeyKind::Ed25519)?,
                },
                valid_from: k.valid_from,
                valid_until: k.valid_until,
                revoked_at: k.revoked_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut files: Vec<(String, Vec<u8>, bool)> = Vec::new();
    let mut add = |path: String, data: Vec<u8>, private: bool| files.push((path, data, private));

    // Keys.
    let all_keys = [&authority, &log]
        .into_iter()
        .chain(witnesses.iter())
        .chain(centre_keys.iter().map(|k| &k.key));
    for k in all_keys {
        let mut secret = k.signer.to_secret_string().as_bytes().to_vec();
        secret.push(b'\n');
        add(format!("keys/{}.key", k.file), secret, true);
        add(
            format!("keys/{}.key.pub", k.file),
            format!("{}\n", k.signer.verifier()).into_bytes(),
            false,
        );
    }

    // Manifest input.
    let (polls_close, results_due) = (t(POLLS_CLOSE)?, t(RESULTS_DUE)?);
    let election = ElectionJson {
        id: plan.election_id.clone(),
        title: plan.title.clone(),
        polls_close: Some(format_rfc3339(polls_close)),
        results_due: Some(format_rfc3339(results_due)),
        log: LogJson {
            origin: plan.log_origin.clone(),
            key: log.signer.verifier().to_string(),
        },
        witnesses: WitnessesJson {
            quorum: 1,
            keys: witnesses
                .iter()
                .map(|w| w.signer.verifier().to_string())
                .collect(),
        },
        mirrors: vec![
            "https://mirror-1.example.invalid/EXAMPLE-ONLY/".to_string(),
            "https://mirror-2.example.invalid/EXAMPLE-ONLY/".to_string(),
        ],
        contests: plan
            .contests
            .iter()
            .map(|c| ContestJson {
                id: c.id.clone(),
                title: c.title.clone(),
                choices: c
                    .choices
                    .iter()
                    .map(|(id, name)| ChoiceJson {
                        id: id.clone(),
                        name: name.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut election_json =
        serde_json::to_string_pretty(&election).context("encoding election.json")?;
    election_json.push('\n');

    let mut regions_csv = String::from("id,name,parent\n");
    for (id, name, parent) in &plan.regions {
        let _ = writeln!(regions_csv, "{id},{},{parent}", csv_field(name));
    }
    let mut centres_csv = String::from("id,name\n");
    for (id, name) in &plan.centres {
        let _ = writeln!(centres_csv, "{id},{}", csv_field(name));
    }
    let mut keys_csv = String::from("centre,verifier_key,valid_from,valid_until,revoked_at\n");
    for k in &centre_keys {
        let _ = writeln!(
            keys_csv,
            "{},{},{},{},{}",
            k.centre,
            k.key.signer.verifier(),
            format_rfc3339(k.valid_from),
            format_rfc3339(k.valid_until),
            k.revoked_at.map(format_rfc3339).unwrap_or_default()
        );
    }
    let units = units(&plan);
    let mut units_csv = String::with_capacity(80 * units.len() + 64);
    units_csv.push_str("id,name,region,registered,contests,centre\n");
    for u in &units {
        let contests: Vec<&str> = u
            .contests
            .iter()
            .map(|&c| plan.contests[c].id.as_str())
            .collect();
        let _ = writeln!(
            units_csv,
            "{},{},{},{},{},{}",
            u.id,
            unit_name(&u.id),
            u.district,
            u.registered,
            contests.join(";"),
            u.centre
        );
    }

    // The manifest body the input files describe (`tallyboard manifest
    // build` parses them into the same body: a test of the CLI checks it).
    let body = ManifestBody {
        election: election.id.clone(),
        title: election.title.clone(),
        authority: authority.signer.secret().public_key(),
        log: LogInfo {
            origin: plan.log_origin.clone(),
            key: log.signer.secret().public_key(),
        },
        witnesses: witnesses
            .iter()
            .map(|w| Witness {
                name: w.signer.name().to_owned(),
                key: w.signer.secret().public_key(),
            })
            .collect(),
        quorum: election.witnesses.quorum,
        mirrors: election.mirrors.clone(),
        contests: plan
            .contests
            .iter()
            .map(|c| Contest {
                id: c.id.clone(),
                title: c.title.clone(),
                choices: c
                    .choices
                    .iter()
                    .map(|(id, name)| Choice {
                        id: id.clone(),
                        name: name.clone(),
                    })
                    .collect(),
            })
            .collect(),
        regions: plan
            .regions
            .iter()
            .map(|(id, name, parent)| Region {
                id: id.clone(),
                name: name.clone(),
                parent: (!parent.is_empty()).then(|| parent.clone()),
            })
            .collect(),
        centres: plan
            .centres
            .iter()
            .map(|(id, name)| Centre {
                id: id.clone(),
                name: name.clone(),
                keys: centre_keys
                    .iter()
                    .filter(|k| &k.centre == id)
                    .map(|k| CentreKey {
                        key: k.key.signer.secret().public_key(),
                        valid_from: k.valid_from,
                        valid_until: k.valid_until,
                        revoked_at: k.revoked_at,
                    })
                    .collect(),
            })
            .collect(),
        units: units
            .iter()
            .map(|u| manifest::Unit {
                id: u.id.clone(),
                name: unit_name(&u.id),
                region: u.district.clone(),
                registered: u.registered,
                contests: u
                    .contests
                    .iter()
                    .map(|&c| plan.contests[c].id.clone())
                    .collect(),
                centre: u.centre.clone(),
            })
            .collect(),
        polls_close: Some(polls_close),
        results_due: Some(results_due),
    };
    let manifest = Manifest::new(body).map_err(|e| match e {
        ManifestError::Invalid(p) => failed!("the generated manifest is invalid (a bug): {p:?}"),
        other => failed!("the generated manifest: {other}"),
    })?;
    let signed = manifest.sign(authority.signer.secret());

    add(
        format!("input/{ELECTION_JSON}"),
        election_json.into_bytes(),
        false,
    );
    add(
        format!("input/{REGIONS_CSV}"),
        regions_csv.into_bytes(),
        false,
    );
    add(
        format!("input/{CENTRES_CSV}"),
        centres_csv.into_bytes(),
        false,
    );
    add(
        format!("input/{CENTRE_KEYS_CSV}"),
        keys_csv.into_bytes(),
        false,
    );
    add(format!("input/{UNITS_CSV}"), units_csv.into_bytes(), false);
    add(MANIFEST_FILE.to_string(), signed.to_bytes(), false);

    let mut generated = Generated {
        plan,
        files: Vec::new(),
        authority,
        log,
        witnesses,
        centre_keys,
        manifest: signed,
        units,
        count_start,
    };

    // Tally sheets, one per count centre.
    if sheets {
        let mut broken = String::new();
        for (centre, _) in &generated.plan.centres {
            let mut sheet = format!(
                "# Tally sheet of count centre {centre}: EXAMPLE ONLY, NOT A REAL ELECTION.\n\
                 # Sign: tallyboard sign --manifest keys-example/{MANIFEST_FILE} \\\n\
                 #   --key keys-example/keys/{MARK}.centre-{centre}.key \\\n\
                 #   --sheet keys-example/sheets/{centre}.csv --out tallies/\n\
                 unit,contest,line,count\n"
            );
            for (i, u) in generated
                .units
                .iter()
                .enumerate()
                .filter(|(_, u)| &u.centre == centre)
            {
                let counted_at = generated.counted_at(i);
                for &c in &u.contests {
                    let f = generated.figures(u, c);
                    let spec = &generated.plan.contests[c];
                    for ((choice, _), v) in spec.choices.iter().zip(&f.votes) {
                        let _ = writeln!(sheet, "{},{},{choice},{v}", u.id, spec.id);
                    }
                    let _ = writeln!(sheet, "{},{},blank,{}", u.id, spec.id, f.blank);
                    let _ = writeln!(sheet, "{},{},invalid,{}", u.id, spec.id, f.invalid);
                    let _ = writeln!(sheet, "{},{},ballots_cast,{}", u.id, spec.id, f.cast);
                    let _ = writeln!(
                        sheet,
                        "{},{},counted_at,{}",
                        u.id,
                        spec.id,
                        format_rfc3339(counted_at)
                    );
                }
            }
            if generated.plan.example && centre == "C-NORTH" {
                broken = break_sheet(&sheet);
            }
            add(format!("sheets/{centre}.csv"), sheet.into_bytes(), false);
        }
        if generated.plan.example {
            add(
                "broken/C-NORTH-does-not-add-up.csv".to_string(),
                broken.into_bytes(),
                false,
            );
            add("README.md".to_string(), readme().into_bytes(), false);
        }
    }
    generated.files = files;
    Ok(generated)
}

/// The broken sheet for the README demo: C-NORTH's sheet with three
/// mistakes an official could make.
fn break_sheet(sheet: &str) -> String {
    let mut out = String::from(
        "# BROKEN ON PURPOSE (EXAMPLE ONLY): `tallyboard sign` must refuse this sheet.\n\
         # P-002 mayor: ballots_cast is 5 more than the votes, blank and invalid add up to.\n\
         # P-004 council: a choice is misspelt (\"greens\" for \"green\").\n\
         # P-006: a figure for the harbour referendum, which P-006 does not vote in.\n",
    );
    let mut added = false;
    for line in sheet.lines() {
        if line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        match fields.as_slice() {
            ["P-002", "mayor", "ballots_cast", n] => {
                let n: u64 = n.parse().unwrap_or(0);
                let _ = writeln!(out, "P-002,mayor,ballots_cast,{}", n + 5);
            }
            ["P-004", "council", "green", n] => {
                let _ = writeln!(out, "P-004,council,greens,{n}");
            }
            _ => {
                let _ = writeln!(out, "{line}");
                if !added && line.starts_with("P-006,council,counted_at") {
                    out.push_str("P-006,harbour-referendum,yes,1\nP-006,harbour-referendum,no,0\n");
                    out.push_str(
                        "P-006,harbour-referendum,blank,0\nP-006,harbour-referendum,invalid,0\n",
                    );
                    out.push_str("P-006,harbour-referendum,ballots_cast,1\n");
                    added = true;
                }
            }
        }
    }
    out
}

fn readme() -> String {
    format!(
        "# keys-example: EXAMPLE ONLY — NOT FOR REAL ELECTIONS

**Every private key in this directory is public.** Each one is derived from
a fixed, published label (`tallyboard example` regenerates them bit for bit),
so anyone can sign anything with them. They exist for the tests, the
exercise and the README's quick start. Never put one of these keys, or a
manifest that lists them, anywhere near a real election.

Regenerate everything (identical bytes; a test checks it):

    cargo run -p tallyboard -- example --out keys-example --force

## What is here

| path | what |
| --- | --- |
| `keys/{MARK}.authority.key` | election authority (signs the manifest) |
| `keys/{MARK}.log.key` | the log: checkpoints and signed totals; its key name is the origin `{LOG_ORIGIN}` |
| `keys/{MARK}.witness-1.key`, `-2` | two witnesses (cosignature keys, type 0x04); the manifest requires 1 of 2 |
| `keys/{MARK}.centre-C-NORTH.key` | count centre C-NORTH, valid all of 2026 |
| `keys/{MARK}.centre-C-COAST.rotated-out-at-noon.key` | C-COAST's first key, valid until {ROTATION} |
| `keys/{MARK}.centre-C-COAST.key` | C-COAST's second key, valid from {ROTATION} |
| `keys/{MARK}.centre-C-VALLEY.REVOKED.key` | C-VALLEY's first key, revoked at {REVOCATION} |
| `keys/{MARK}.centre-C-VALLEY.key` | C-VALLEY's current key, valid from {REVOCATION} |
| `keys/*.key.pub` | the C2SP verifier key of each |
| `input/` | the manifest's human-editable input (`spec/cli.md`) |
| `{MANIFEST_FILE}` | the signed manifest built from `input/` |
| `sheets/<centre>.csv` | one tally sheet per count centre; every sheet passes every rule |
| `broken/C-NORTH-does-not-add-up.csv` | a sheet with three mistakes, refused by `tallyboard sign` |

The election `{ELECTION_ID}` has three contests (`mayor`, `council`, and
`harbour-referendum` in the southern province only), {n} reporting units in
four districts of two provinces, and three count centres. The sheets date
every count in the evening of election day, after {COUNT_START}.

## Try it

    cargo run --release -p tallyboard -- manifest check keys-example/{MANIFEST_FILE} \\
        --authority keys-example/keys/{MARK}.authority.key.pub
    cargo run --release -p tallyboard -- sign --manifest keys-example/{MANIFEST_FILE} \\
        --key keys-example/keys/{MARK}.centre-C-NORTH.key \\
        --sheet keys-example/sheets/C-NORTH.csv --out tallies/
    cargo run --release -p tallyboard -- sign --manifest keys-example/{MANIFEST_FILE} \\
        --key keys-example/keys/{MARK}.centre-C-NORTH.key \\
        --sheet keys-example/broken/C-NORTH-does-not-add-up.csv --out tallies/

Signing C-VALLEY's sheet with `{MARK}.centre-C-VALLEY.REVOKED.key` is refused
too (`key-revoked`), and so is signing C-COAST's sheet with the key rotated
out at noon (`key-expired`).
",
        n = 4 * UNITS_PER_DISTRICT
    )
}

/// Writes generated files under `out` (private ones readable by the owner
/// only), creating directories as needed.
pub fn write_files(out: &Path, files: &[(String, Vec<u8>, bool)]) -> Result<()> {
    for (rel, data, private) in files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if *private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut f = options
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        std::io::Write::write_all(&mut f, data)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
