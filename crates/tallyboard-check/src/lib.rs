//! # tallyboard-check: the entry-checking engine
//!
//! Every program that reads the log checks its entries the same way: the
//! publication server before it admits a submission, a mirror before it
//! serves what it copied, the verifier while it audits. This crate is that
//! one check, without any policy about what to do with a bad entry:
//!
//! - [`Checked`]: one entry on its own: decoded as a tally of the
//!   manifest's election, its signature verified strictly, the rules that
//!   do not depend on the log checked;
//! - [`run_pipeline`] and [`check_entries`]: the same for many entries,
//!   on every core (worker threads decode and verify a chunk at a time,
//!   results come back in log order);
//! - [`ElectionState`]: the state the log's entries build, in log order:
//!   the revision index (corrections, duplicates) and the running totals.
//!   [`ElectionState::apply`] says what became of an entry
//!   ([`Outcome`]); the caller decides what that means (the mirror stops,
//!   the verifier records a finding, the server refuses the submission).
//!   The state is [`Clone`]: keep a copy before a change that may have to
//!   be undone.
//!
//! - [`paper::sheets`]: the codes read off printed sheets, grouped by the
//!   signed tally they carry, reassembled and checked (the command-line
//!   verifier and the browser's paper check).
//!
//! Signatures are verified one by one with strict verification
//! (`tallyboard_core::keys::BatchVerifier::verify`), whose verdict is the
//! one `spec/crypto.md` §7 requires of every implementation.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod entry;
pub mod paper;
mod pipeline;
mod state;

pub use entry::{Checked, NotGenuine, Signatures, SignedEntry};
pub use pipeline::{
    CHUNK, EntrySender, PipelineStopped, available_threads, check_entries, run_pipeline,
};
pub use state::{ElectionState, Outcome, UnitCount};
