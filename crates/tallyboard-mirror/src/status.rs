//! What a mirror reports: the outcome of a sync, the problem it has with
//! its upstream, its status (served at `/status`).

use std::path::Path;
use tallyboard_verify::FindingCode;

use serde::Serialize;
use tallyboard_verify::source::FetchError;

/// A problem the mirror has with its upstream, as shown on `/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code (the verifier's finding codes where one applies:
    /// `split-view`, `source-bad-data`, `source-unreachable`,
    /// `source-stale`, `checkpoint-signature`, `quorum-not-met`,
    /// `manifest-mismatch`, `totals-mismatch`, `totals-signature`,
    /// `bad-entry`, `bad-signature`, a rule code, ...).
    pub code: FindingCode,
    /// What happened and what to do, in words.
    pub message: String,
    /// The evidence file (under `/evidence/`), if the problem is proved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// The result of one sync with the upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The mirror holds the upstream's checkpoint (it advanced, or had it
    /// already, or the upstream is behind and consistent with it).
    Synced {
        /// The tree size now served.
        size: u64,
    },
    /// The upstream misbehaved: the mirror stopped advancing.
    Misbehaved(Problem),
    /// The mirror could not sync this time (upstream down, quorum not met,
    /// ...); it tries again at the next poll.
    CouldNotSync(Problem),
}

/// The mirror's state as served at `/status` (JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The upstream followed.
    pub upstream: String,
    /// The log's origin.
    pub origin: String,
    /// `not-synced` (nothing served yet), `following` or `stopped` (the
    /// upstream misbehaved; the mirror no longer advances).
    pub state: &'static str,
    /// Tree size of the checkpoint served.
    pub size: u64,
    /// Its root (hex).
    pub root: String,
    /// Names of the witnesses whose valid cosignatures it carries.
    pub cosignatures: Vec<String>,
    /// Tree size the served totals are bound to (none yet: `null`).
    pub totals_size: Option<u64>,
    /// Last time (RFC 3339) the mirror was in step with the upstream.
    pub last_sync: Option<String>,
    /// Last time (RFC 3339) it polled the upstream.
    pub last_attempt: Option<String>,
    /// The current problem, if any.
    pub problem: Option<Problem>,
    /// Every evidence file the mirror holds (under `/evidence/`).
    pub evidence: Vec<String>,
}

/// Now, RFC 3339.
pub(crate) fn now_rfc3339() -> String {
    tallyboard_core::time::format_rfc3339(now_secs())
}

/// The current time, POSIX seconds.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn problem(code: FindingCode, message: impl Into<String>) -> Problem {
    Problem {
        code,
        message: message.into(),
        evidence: None,
    }
}

/// A fetch that failed for a while only (no answer, or an answer such as
/// 503 that says to come back later).
pub(crate) fn is_temporary(e: &FetchError) -> bool {
    e.is_unreachable()
        || matches!(e, FetchError::BadStatus { status, .. } if matches!(status, 429 | 502 | 503 | 504))
}

pub(crate) fn fetch_problem(e: &FetchError) -> Problem {
    if is_temporary(e) {
        problem(
            FindingCode::SourceUnreachable,
            format!(
                "the upstream is not available right now ({e}); the mirror keeps serving what it has and retries"
            ),
        )
    } else {
        problem(
            FindingCode::SourceBadData,
            format!(
                "the upstream did not serve what the mirror needs ({e}); the mirror keeps serving what it has and retries"
            ),
        )
    }
}

/// The evidence files in `dir`, sorted.
pub(crate) fn list_evidence(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
