//! Helpers shared by the integration tests: run the built binary.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output};

/// The result of one run of `tallyboard`.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tallyboard` with `args` in `dir`.
pub fn tallyboard_in(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(args)
        .current_dir(dir)
        .env_remove("TALLYBOARD_LOG")
        .output()
        .expect("run tallyboard");
    Run {
        status: out.status.code().expect("exit status"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// The repository root (keys-example/ lives there).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
