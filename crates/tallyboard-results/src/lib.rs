//! # tallyboard-results: the verified results, for the people who read them
//!
//! The verifier proves that the published totals are the sum of what the
//! count centres signed; this crate says what those totals are, in the
//! forms readers use (`spec/results.md` is normative):
//!
//! - [`Results::compute`]: from a manifest and a totals body (recomputed
//!   from verified entries), per contest, for the whole election and every
//!   region of the hierarchy: every choice in ballot order with its votes
//!   and share of valid votes, blank, invalid, ballots cast, registered,
//!   turnout, units reporting of expected, the leader (the winner once
//!   final), the margin over the runner-up, the registered voters in units
//!   not yet reported and whether those can still change the leader;
//! - [`UnitResult`]: the counted revision of one unit for one contest;
//! - the exports: [`units_csv`] and [`regions_csv`] (OpenElections
//!   columns), [`err_json`] (NIST SP 1500-100 ERR CDF v2) and
//!   [`export_json`], each naming its checkpoint ([`ExportHeader`]);
//! - [`compare_json`]: a published results JSON checked figure by figure
//!   against computed results (the browser's check of `results.json`);
//! - [`thousands`] and [`Percent`]: the number formats every text output
//!   shares.
//!
//! No I/O, no clock, no randomness: it builds for `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod export;
mod format;
mod model;
mod units;

pub use check::{
    Comparison, FigureDifference, MAX_LISTED, MAX_RESULTS_JSON, WHOLE_FILE, compare_json,
};
pub use export::{
    CSV_REGION_COLUMNS, CSV_UNIT_COLUMNS, ExportHeader, Level, err_json, export_json, regions_csv,
    totals_json, units_csv,
};
pub use format::{Percent, thousands};
pub use model::{
    ChoiceResult, ContestResults, Figures, Outlook, RegionResults, Results, ResultsCheckpoint,
    ResultsError, SCHEMA_VERSION, Status,
};
pub use units::{UnitChoice, UnitResult};
