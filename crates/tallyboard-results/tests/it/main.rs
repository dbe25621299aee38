//! Integration tests of the results model and its exports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod model;
mod vectors;
