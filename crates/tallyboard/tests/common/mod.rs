//! Helpers shared by the integration tests: run the built binary.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tallyboard_core::keys::SecretKey;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::note::SignerKey;
use tallyboard_core::tally::Tally;

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

pub fn example(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../keys-example")
        .join(p)
}

pub fn key(file: &str) -> SignerKey {
    let s = std::fs::read_to_string(example(&format!("keys/{file}"))).unwrap();
    SignerKey::parse(s.trim_end()).unwrap()
}

/// One valid first-revision tally per (unit, contest) of the example.
pub fn all_tallies(m: &Manifest) -> Vec<Vec<u8>> {
    let keys: Vec<SecretKey> = [
        "EXAMPLE-ONLY.centre-C-NORTH.key",
        "EXAMPLE-ONLY.centre-C-COAST.key",
        "EXAMPLE-ONLY.centre-C-VALLEY.key",
    ]
    .iter()
    .map(|f| key(f).secret().clone())
    .collect();
    let mut out = Vec::new();
    for u in &m.units {
        let centre = m.centre(&u.centre).unwrap();
        let Some(k) = keys.iter().find(|k| {
            centre
                .keys
                .iter()
                .any(|ck| ck.key == k.public_key() && ck.revoked_at.is_none())
        }) else {
            continue;
        };
        let ck = centre
            .keys
            .iter()
            .find(|ck| ck.key == k.public_key())
            .unwrap();
        for c in &u.contests {
            let contest = m.contest(c).unwrap();
            let choices: Vec<(String, u64)> = contest
                .choices
                .iter()
                .map(|ch| (ch.id.clone(), 3))
                .collect();
            let cast = 3 * choices.len() as u64 + 1;
            let t = Tally::new(
                &m.election,
                c,
                &u.id,
                choices,
                1,
                0,
                cast,
                ck.valid_from + 3600,
                k.public_key(),
            );
            out.push(t.sign(k).to_bytes());
        }
    }
    out
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

/// Copies a directory tree (a log's or a mirror's data, to alter the copy).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}
