//! Running a process to its end, with a timeout.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// How a process ended.
#[derive(Debug)]
pub struct Run {
    /// Its exit status; `None` if a signal ended it or it ran over the
    /// timeout and was killed.
    pub status: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs `exe args` (stdin empty, `TALLYBOARD_LOG` unset), killing it after
/// `timeout`; returns its status and output.
pub fn run_with_timeout(exe: &Path, args: &[&str], timeout: Duration) -> Run {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    match tallyboard_exercise::procs::run_to_end(exe, &args, timeout) {
        Ok((status, stdout, stderr)) => Run {
            status,
            stdout,
            stderr,
        },
        Err(tallyboard_exercise::Error::TimedOut { stdout, stderr, .. }) => Run {
            status: None,
            stdout,
            stderr,
        },
        Err(e) => panic!("running {}: {e}", exe.display()),
    }
}

/// Stops a long-running command cleanly: SIGTERM (the stop every
/// long-running `tallyboard` command supports), then SIGKILL if it has not
/// exited within 15 s.
pub fn stop(mut c: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if c.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    c.kill().unwrap();
    c.wait().unwrap();
}
