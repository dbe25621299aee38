//! Helpers shared by the integration tests: run the built binary; the
//! example keys, tallies and directory copies come from the test kit.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tallyboard_core::manifest::Manifest;
use tallyboard_testkit::example::{Figures, sign_every_tally};
pub use tallyboard_testkit::example::{example, signer as key};
pub use tallyboard_testkit::fs::copy_dir;

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

/// One valid first-revision tally per (unit, contest) of the example.
pub fn all_tallies(m: &Manifest) -> Vec<Vec<u8>> {
    sign_every_tally(m, |_, contest, ck| {
        let choices: Vec<(String, u64)> = contest
            .choices
            .iter()
            .map(|ch| (ch.id.clone(), 3))
            .collect();
        Figures {
            cast: 3 * choices.len() as u64 + 1,
            choices,
            blank: 1,
            invalid: 0,
            counted_at: ck.valid_from + 3600,
        }
    })
    .iter()
    .map(|t| t.to_bytes())
    .collect()
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    // A submission is a signed tally: the server requires its media type.
    let content_type = if path == "/submit" {
        "Content-Type: application/cbor\r\n"
    } else {
        ""
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, resp[split + 4..].to_vec()))
}

/// Starts a long-running `tallyboard` command (`serve`, `witness`, ...)
/// that prints `listening on http://ADDR` first; stderr is discarded.
pub fn spawn_listening(cmd: &mut Command) -> (Child, SocketAddr) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tallyboard");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    (child, addr)
}
