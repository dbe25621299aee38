//! What tallyboard's test suites, benches and examples share, in one place
//! instead of a copy in every `tests/common`: the example keys and
//! election of `keys-example/`, signing every tally of an election,
//! copying and listing directories, running a process with a timeout,
//! serving a directory on 127.0.0.1, the results figures recomputed from
//! tallies, the scaled election generator (the
//! exercise's), and the harness that regenerates the spec vectors and
//! compares them with the committed files, and the benchmarks' limit and
//! CPU measures.
//!
//! Test code: every helper panics with a message on failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod bench;
pub mod example;
pub mod fs;
pub mod nginx;
pub mod process;
pub mod results;
pub mod serve;
pub mod vectors;

/// The scaled election generator of the exercise: `Plan::scaled(units,
/// contests)`, `generate_plan`.
pub use tallyboard_exercise::election;

use std::path::{Path, PathBuf};

/// The repository's root directory (keys-example/, spec/, fuzz/).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
