//! The human-editable input of a manifest (`spec/cli.md` §3):
//! `election.json` and four CSV files. `tallyboard manifest build` reads
//! them; the election generator writes them. These are the file names and
//! the JSON document's shape, shared by both.

use serde::{Deserialize, Serialize};

/// The input files, in the order they are read.
pub const ELECTION_JSON: &str = "election.json";
/// Regions: `id,name,parent`.
pub const REGIONS_CSV: &str = "regions.csv";
/// Count centres: `id,name`.
pub const CENTRES_CSV: &str = "centres.csv";
/// Count-centre keys: `centre,verifier_key,valid_from,valid_until,revoked_at`.
pub const CENTRE_KEYS_CSV: &str = "centre-keys.csv";
/// Reporting units: `id,name,region,registered,contests,centre`.
pub const UNITS_CSV: &str = "units.csv";

/// `election.json` (field order is the order written by `tallyboard example`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionJson {
    pub id: String,
    pub title: String,
    /// When the polls close (RFC 3339, UTC); optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polls_close: Option<String>,
    /// When every unit's results are due (RFC 3339, UTC); optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_due: Option<String>,
    pub log: LogJson,
    pub witnesses: WitnessesJson,
    #[serde(default)]
    pub mirrors: Vec<String>,
    pub contests: Vec<ContestJson>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogJson {
    pub origin: String,
    pub key: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessesJson {
    pub quorum: u64,
    pub keys: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContestJson {
    pub id: String,
    pub title: String,
    pub choices: Vec<ChoiceJson>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceJson {
    pub id: String,
    pub name: String,
}
