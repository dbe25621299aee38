//! The integration tests of the formats: spec vectors, cross-checks with independent implementations, property tests.
//! One test binary (`cargo test -p tallyboard-core --test it`), one module per
//! former test file, so that `cargo test` links one binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ed25519_cctv;
mod fuzz_seeds;
mod merkle_crosscheck;
mod merkle_props;
mod merkle_testdata;
mod notes_interop;
mod notes_props;
mod notes_rules;
mod tally_props;
mod tile_crosscheck;
mod vectors_merkle;
mod vectors_notes;
mod vectors_paper;
mod vectors_tally;
mod vectors_witness;
