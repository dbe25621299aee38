//! The integration tests of the log.
//! One test binary (`cargo test -p tallyboard-log --test it`), one module per
//! former test file, so that `cargo test` links one binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod cosign;
mod log;
mod mirror_mode;
mod object;
