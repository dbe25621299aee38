//! The integration tests of the mirror (the nginx test skips where there is no nginx).
//! One test binary (`cargo test -p tallyboard-mirror --test it`), one module per
//! former test file, so that `cargo test` links one binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod mirror;
mod static_nginx;
