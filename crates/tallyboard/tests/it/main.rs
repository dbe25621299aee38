//! The integration tests of the `tallyboard` command: each runs the built binary.
//! One test binary (`cargo test -p tallyboard --test it`), one module per
//! former test file, so that `cargo test` links one binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod cdp;
mod common;
mod example;
mod flood;
mod keygen;
mod manifest;
mod mirror;
mod mirror_fixtures;
mod mirror_static_nginx;
mod mirror_sync;
mod paper;
mod private_keys;
mod results;
mod s3;
mod serve_crash;
mod sign;
mod verify;
mod witness;
