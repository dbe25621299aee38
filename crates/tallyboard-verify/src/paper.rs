//! The paper channel's input (spec/verify.md §4.6, spec/paper.md): the
//! grouping and checking of the codes read off printed sheets lives in
//! `tallyboard-check` (shared with the browser verifier); the comparison
//! with the log is done by the verifier after the full check.

pub use tallyboard_check::paper::{PaperInput, PaperProblem, PaperSheet, sheets};
