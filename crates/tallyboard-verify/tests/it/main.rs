//! The integration tests of the verifier.
//! One test binary (`cargo test -p tallyboard-verify --test it`), one module per
//! former test file, so that `cargo test` links one binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod follow;
mod tiles;
mod vectors_evidence;
mod watch;
