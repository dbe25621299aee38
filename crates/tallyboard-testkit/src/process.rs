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

/// One tally acknowledged by a server: its bytes, the index and the signed
/// checkpoint note of its receipt.
pub type Acked = (Vec<u8>, u64, Vec<u8>);

/// One round of a kill test (`serve_crash.rs`, the S3 failover test):
/// submits `batch` with `submit` from four threads, waits `delay`, runs
/// `kill` (SIGKILL of the server, say), lets the threads finish, and
/// returns what was acknowledged. `submit` returns the receipt of an
/// acknowledged tally and `None` otherwise (refused, or cut off by the
/// kill).
pub fn kill_under_load<F>(
    batch: &[Vec<u8>],
    submit: F,
    delay: Duration,
    kill: impl FnOnce(),
) -> Vec<Acked>
where
    F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    use std::sync::{Arc, Mutex, PoisonError};
    use tallyboard_core::receipt::Receipt;
    let submit = Arc::new(submit);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for part in batch.chunks(batch.len().div_ceil(4).max(1)) {
        let (part, acked, submit) = (part.to_vec(), acked.clone(), submit.clone());
        threads.push(std::thread::spawn(move || {
            for e in part {
                if let Some(body) = submit(&e)
                    && let Ok(r) = Receipt::parse(&body)
                {
                    let mut a = acked.lock().unwrap_or_else(PoisonError::into_inner);
                    a.push((e, r.index, r.checkpoint_note));
                }
            }
        }));
    }
    std::thread::sleep(delay);
    kill();
    for t in threads {
        let _ = t.join();
    }
    let mut a = acked.lock().unwrap_or_else(PoisonError::into_inner);
    std::mem::take(&mut *a)
}
