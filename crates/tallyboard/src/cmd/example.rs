//! `tallyboard example`: the deterministic example election in
//! `keys-example/`. Every key seed is SHA-256 of a fixed label, every figure
//! comes from a fixed-seed generator, every time is fixed: running it twice
//! gives identical bytes (a test checks the committed copy).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use tallyboard_core::manifest::{Manifest, ManifestError};
use tallyboard_core::note::{KeyKind, SignerKey};
use tallyboard_core::{Hash, SecretKey};

use crate::fsutil::write_atomic;
use crate::manifest_input::{
    CENTRE_KEYS_CSV, CENTRES_CSV, ChoiceJson, ContestJson, ELECTION_JSON, ElectionJson, LogJson,
    REGIONS_CSV, UNITS_CSV, WitnessesJson, parse_input,
};
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// Write the example election (keys, manifest input, signed manifest, tally
/// sheets, one broken sheet) to DIR. EXAMPLE ONLY — NOT FOR REAL ELECTIONS:
/// every private key is derived from a published label.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Output directory (the repository's copy is keys-example/).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write into DIR even if it is not empty, replacing the example's files.
    #[arg(long)]
    force: bool,
}

/// Prefix of every seed label. Changing it changes every key.
const SEED_LABEL: &str = "tallyboard keys-example v1 EXAMPLE ONLY NOT FOR REAL ELECTIONS: ";

/// The loud marker in key names and file names.
pub(crate) const MARK: &str = "EXAMPLE-ONLY";

/// Election id of the example.
pub(crate) const ELECTION_ID: &str = "EXAMPLE-ONLY-2026-municipal";
/// Log origin of the example (also the log key's name).
pub(crate) const LOG_ORIGIN: &str = "log.example.invalid/EXAMPLE-ONLY-2026-municipal";

/// The signed manifest's file name inside the example directory.
pub(crate) const MANIFEST_FILE: &str = "manifest.signed";

fn seed(role: &str) -> [u8; 32] {
    Hash::sha256(format!("{SEED_LABEL}{role}").as_bytes()).0
}

fn signer(role: &str, name: &str, kind: KeyKind) -> Result<SignerKey> {
    SignerKey::new(name, kind, SecretKey::from_seed(&seed(role)))
        .map_err(|e| anyhow!("example key {name}: {e}"))
}

/// A small deterministic generator (SplitMix64) for the example's figures.
struct Rng(u64);

impl Rng {
    fn new(label: &str) -> Rng {
        let h = Hash::sha256(format!("{SEED_LABEL}figures {label}").as_bytes()).0;
        Rng(u64::from_be_bytes([
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
        ]))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi` (the tiny modulo bias does not matter here).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

struct KeySpec {
    /// File stem under keys/.
    file: String,
    signer: SignerKey,
}

struct CentreKeySpec {
    centre: &'static str,
    key: KeySpec,
    valid_from: u64,
    valid_until: u64,
    revoked_at: Option<u64>,
}

struct ContestSpec {
    id: &'static str,
    title: &'static str,
    choices: &'static [(&'static str, &'static str)],
    /// Relative popularity of each choice.
    weights: &'static [u64],
    /// Only units of these top-level regions take part (empty: all).
    only_in: &'static [&'static str],
}

const CONTESTS: &[ContestSpec] = &[
    ContestSpec {
        id: "mayor",
        title: "Mayor of Exampleton (EXAMPLE)",
        choices: &[
            ("ada", "Ada Lindqvist"),
            ("bruno", "Bruno Okafor"),
            ("chen", "Chen Wei"),
            ("dina", "Dina Haddad"),
        ],
        weights: &[34, 31, 22, 13],
        only_in: &[],
    },
    ContestSpec {
        id: "council",
        title: "Municipal council (EXAMPLE)",
        choices: &[
            ("green", "Green List"),
            ("labour", "Labour and Cooperative"),
            ("liberal", "Liberal Union"),
            ("civic", "Civic Alliance"),
            ("local", "Local Independents"),
        ],
        weights: &[18, 27, 21, 24, 10],
        only_in: &[],
    },
    ContestSpec {
        id: "harbour-referendum",
        title: "Referendum on the harbour extension (EXAMPLE, southern province only)",
        choices: &[("yes", "Yes"), ("no", "No")],
        weights: &[52, 48],
        only_in: &["south"],
    },
];

/// (id, name, parent)
const REGIONS: &[(&str, &str, &str)] = &[
    ("north", "Northern Province (EXAMPLE)", ""),
    ("south", "Southern Province (EXAMPLE)", ""),
    ("north-hills", "Hills District", "north"),
    ("north-lakes", "Lakes District", "north"),
    ("south-coast", "Coast District", "south"),
    ("south-valley", "Valley District", "south"),
];

/// (district, centre): which count centre counts each district's units.
const DISTRICT_CENTRE: &[(&str, &str)] = &[
    ("north-hills", "C-NORTH"),
    ("north-lakes", "C-NORTH"),
    ("south-coast", "C-COAST"),
    ("south-valley", "C-VALLEY"),
];

const UNITS_PER_DISTRICT: usize = 9;

/// (id, name)
const CENTRES: &[(&str, &str)] = &[
    ("C-NORTH", "Northern count centre (EXAMPLE)"),
    (
        "C-COAST",
        "Coast count centre (EXAMPLE), key rotated at noon on election day",
    ),
    (
        "C-VALLEY",
        "Valley count centre (EXAMPLE), old key revoked before election day",
    ),
];

const YEAR_START: &str = "2026-01-01T00:00:00Z";
const YEAR_END: &str = "2027-01-01T00:00:00Z";
/// C-COAST's first key is valid until, and its second from, this time.
const ROTATION: &str = "2026-05-10T12:00:00Z";
/// C-VALLEY's first key was revoked at this time.
const REVOCATION: &str = "2026-05-01T00:00:00Z";
/// Counting starts; each unit's count is dated a few minutes later.
const COUNT_START: &str = "2026-05-10T19:00:00Z";

struct Unit {
    id: String,
    district: &'static str,
    centre: &'static str,
    registered: u64,
    contests: Vec<&'static ContestSpec>,
}

fn units() -> Vec<Unit> {
    let mut rng = Rng::new("units");
    let mut out = Vec::new();
    for &(district, centre) in DISTRICT_CENTRE {
        let top = REGIONS.iter().find(|r| r.0 == district).map_or("", |r| r.2);
        for _ in 0..UNITS_PER_DISTRICT {
            let n = out.len() + 1;
            out.push(Unit {
                id: format!("P-{n:03}"),
                district,
                centre,
                registered: rng.range(420, 1350),
                contests: CONTESTS
                    .iter()
                    .filter(|c| c.only_in.is_empty() || c.only_in.contains(&top))
                    .collect(),
            });
        }
    }
    out
}

/// One unit's figures for one contest: (choice counts, blank, invalid, ballots cast).
fn figures(unit: &Unit, contest: &ContestSpec) -> (Vec<u64>, u64, u64, u64) {
    let mut rng = Rng::new(&format!("{} {}", unit.id, contest.id));
    let turnout = rng.range(52, 81);
    let cast = unit.registered * turnout / 100;
    let blank = rng.range(0, cast / 60 + 1);
    let invalid = rng.range(0, cast / 80 + 1);
    let valid = cast - blank - invalid;
    // Jittered weights, then votes proportional to them; the remainder goes
    // to the first choice so that the sum is exact.
    let w: Vec<u64> = contest
        .weights
        .iter()
        .map(|&w| w * 100 + rng.range(0, 40 * w))
        .collect();
    let total: u64 = w.iter().sum();
    let mut votes: Vec<u64> = w.iter().map(|&x| valid * x / total).collect();
    let assigned: u64 = votes.iter().sum();
    votes[0] += valid - assigned;
    (votes, blank, invalid, cast)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// All files of the example: (relative path, contents, private).
fn generate() -> Result<Vec<(String, Vec<u8>, bool)>> {
    let t = |s: &str| parse_rfc3339(s).map_err(|e| anyhow!("{e}"));
    let (year_start, year_end) = (t(YEAR_START)?, t(YEAR_END)?);
    let (rotation, revocation, count_start) = (t(ROTATION)?, t(REVOCATION)?, t(COUNT_START)?);

    let authority = KeySpec {
        file: format!("{MARK}.authority"),
        signer: signer("authority", &format!("{MARK}-authority"), KeyKind::Ed25519)?,
    };
    let log = KeySpec {
        file: format!("{MARK}.log"),
        signer: signer("log", LOG_ORIGIN, KeyKind::Ed25519)?,
    };
    let witnesses = (1..=2)
        .map(|i| {
            Ok(KeySpec {
                file: format!("{MARK}.witness-{i}"),
                signer: signer(
                    &format!("witness-{i}"),
                    &format!("witness-{i}.{MARK}.example.invalid"),
                    KeyKind::CosignatureV1,
                )?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let centre_key = |centre: &'static str,
                      suffix: &str,
                      valid_from: u64,
                      valid_until: u64,
                      revoked_at: Option<u64>|
     -> Result<CentreKeySpec> {
        let label = format!("centre-{centre}{suffix}");
        Ok(CentreKeySpec {
            centre,
            key: KeySpec {
                file: format!("{MARK}.{label}"),
                signer: signer(&label, &format!("{MARK}-{label}"), KeyKind::Ed25519)?,
            },
            valid_from,
            valid_until,
            revoked_at,
        })
    };
    let centre_keys = [
        centre_key("C-NORTH", "", year_start, year_end, None)?,
        centre_key(
            "C-COAST",
            ".rotated-out-at-noon",
            year_start,
            rotation,
            None,
        )?,
        centre_key("C-COAST", "", rotation, year_end, None)?,
        centre_key(
            "C-VALLEY",
            ".REVOKED",
            year_start,
            year_end,
            Some(revocation),
        )?,
        centre_key("C-VALLEY", "", revocation, year_end, None)?,
    ];

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
    let election = ElectionJson {
        id: ELECTION_ID.to_string(),
        title: "Exampleton municipal election 2026 — EXAMPLE ONLY, NOT A REAL ELECTION".to_string(),
        log: LogJson {
            origin: LOG_ORIGIN.to_string(),
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
        contests: CONTESTS
            .iter()
            .map(|c| ContestJson {
                id: c.id.to_string(),
                title: c.title.to_string(),
                choices: c
                    .choices
                    .iter()
                    .map(|(id, name)| ChoiceJson {
                        id: id.to_string(),
                        name: name.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut election_json =
        serde_json::to_string_pretty(&election).context("cannot encode election.json")?;
    election_json.push('\n');

    let mut regions_csv = String::from("id,name,parent\n");
    for (id, name, parent) in REGIONS {
        let _ = writeln!(regions_csv, "{id},{},{parent}", csv_field(name));
    }
    let mut centres_csv = String::from("id,name\n");
    for (id, name) in CENTRES {
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
    let units = units();
    let mut units_csv = String::from("id,name,region,registered,contests,centre\n");
    for u in &units {
        let contests: Vec<&str> = u.contests.iter().map(|c| c.id).collect();
        let _ = writeln!(
            units_csv,
            "{},Polling station {} (EXAMPLE),{},{},{},{}",
            u.id,
            u.id,
            u.district,
            u.registered,
            contests.join(";"),
            u.centre
        );
    }

    let body = parse_input(
        election_json.as_bytes(),
        regions_csv.as_bytes(),
        centres_csv.as_bytes(),
        keys_csv.as_bytes(),
        units_csv.as_bytes(),
        authority.signer.secret().public_key(),
    )
    .map_err(|e| anyhow!("the example's manifest input is wrong (a bug): {e}"))?;
    let manifest = Manifest::new(body).map_err(|e| match e {
        ManifestError::Invalid(p) => anyhow!("the example manifest is invalid (a bug): {p:?}"),
        other => anyhow!(other),
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

    // Tally sheets, one per count centre.
    let mut broken = String::new();
    for (centre, _) in CENTRES {
        let mut sheet = format!(
            "# Tally sheet of count centre {centre}: EXAMPLE ONLY, NOT A REAL ELECTION.\n\
             # Sign: tallyboard sign --manifest keys-example/{MANIFEST_FILE} \\\n\
             #   --key keys-example/keys/{MARK}.centre-{centre}.key \\\n\
             #   --sheet keys-example/sheets/{centre}.csv --out tallies/\n\
             unit,contest,line,count\n"
        );
        for (i, u) in units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.centre == *centre)
        {
            let counted_at = count_start + 60 * (7 * i as u64 % 180) + 240;
            for c in &u.contests {
                let (votes, blank, invalid, cast) = figures(u, c);
                for ((choice, _), v) in c.choices.iter().zip(&votes) {
                    let _ = writeln!(sheet, "{},{},{choice},{v}", u.id, c.id);
                }
                let _ = writeln!(sheet, "{},{},blank,{blank}", u.id, c.id);
                let _ = writeln!(sheet, "{},{},invalid,{invalid}", u.id, c.id);
                let _ = writeln!(sheet, "{},{},ballots_cast,{cast}", u.id, c.id);
                let _ = writeln!(
                    sheet,
                    "{},{},counted_at,{}",
                    u.id,
                    c.id,
                    format_rfc3339(counted_at)
                );
            }
        }
        if *centre == "C-NORTH" {
            broken = break_sheet(&sheet);
        }
        add(format!("sheets/{centre}.csv"), sheet.into_bytes(), false);
    }
    add(
        "broken/C-NORTH-does-not-add-up.csv".to_string(),
        broken.into_bytes(),
        false,
    );
    add("README.md".to_string(), readme().into_bytes(), false);
    Ok(files)
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
        n = DISTRICT_CENTRE.len() * UNITS_PER_DISTRICT
    )
}

pub(crate) fn run(args: Args) -> Result<()> {
    let files = generate()?;
    write_all(&args.out, &files, args.force)?;
    println!(
        "wrote the example election (EXAMPLE ONLY — NOT FOR REAL ELECTIONS) to {}: {} files",
        args.out.display(),
        files.len()
    );
    Ok(())
}

fn write_all(out: &Path, files: &[(String, Vec<u8>, bool)], force: bool) -> Result<()> {
    if out.exists() {
        let non_empty = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_some();
        if non_empty && !force {
            bail!(
                "{} is not empty; pass --force to replace the example's files in it",
                out.display()
            );
        }
    }
    for (rel, data, private) in files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        write_atomic(&path, data, *private)?;
        #[cfg(unix)]
        if *private {
            // An existing file replaced by rename keeps the new file's mode;
            // make sure it is owner-only even if it was created otherwise.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot set permissions of {}", path.display()))?;
        }
    }
    Ok(())
}
