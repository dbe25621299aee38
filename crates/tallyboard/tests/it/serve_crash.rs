#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tallyboard serve` killed with SIGKILL at random moments while tallies
//! stream in, then restarted: every acknowledged tally is in the log at its
//! receipt's index, and every new checkpoint is consistent with every
//! checkpoint seen before. Uses the EXAMPLE ONLY election of keys-example/.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::{all_tallies, example, http, key, spawn_listening};

use tallyboard_core::Hash;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::merkle::{prove_consistency, verify_consistency};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::receipt::Receipt;
use tallyboard_core::tile::{TileHashReader, TileId};
use tallyboard_testkit::process::kill_under_load;

fn start(data: &Path) -> (Child, SocketAddr) {
    spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_tallyboard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--interval-ms", "20"])
            .args(["--rate", "1000000", "--burst", "1000000"])
            .arg("--manifest")
            .arg(example("manifest.signed"))
            .arg("--log-key")
            .arg(example("keys/EXAMPLE-ONLY.log.key"))
            .arg("--data")
            .arg(data),
    )
}

struct Seen {
    /// (entry bytes, acknowledged index)
    acked: Vec<(Vec<u8>, u64)>,
    /// (size, root) of every checkpoint seen, in any order.
    checkpoints: Vec<(u64, Hash)>,
}

fn check_log(addr: SocketAddr, log: &VerifierKey, origin: &str, seen: &mut Seen) {
    let (status, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
    assert_eq!(status, 200);
    let cp = open_checkpoint(&note, log, &[], 0).unwrap().checkpoint;
    assert_eq!(cp.origin, origin);
    let fetch = |t: TileId| -> Result<Vec<u8>, std::io::Error> {
        let (s, b) = http(addr, "GET", &format!("/{}", t.path()), b"")?;
        if s == 200 {
            Ok(b)
        } else {
            Err(std::io::Error::other(format!("{} -> {s}", t.path())))
        }
    };
    let reader = TileHashReader::new(cp.size, cp.root, fetch);
    for &(size, root) in &seen.checkpoints {
        assert!(size <= cp.size, "the log shrank from {size} to {}", cp.size);
        if size == 0 {
            continue;
        }
        let proof = prove_consistency(size, cp.size, &reader).unwrap();
        verify_consistency(size, cp.size, &root, &cp.root, &proof)
            .unwrap_or_else(|e| panic!("fork: {size} -> {}: {e}", cp.size));
    }
    seen.checkpoints.push((cp.size, cp.root));
    // Every acknowledged tally is at its index: resubmitting it gives the
    // same index, with a receipt that verifies.
    for (entry, index) in &seen.acked {
        assert!(*index < cp.size, "acknowledged entry {index} lost");
        let (s, body) = http(addr, "POST", "/submit", entry).unwrap();
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        let r = Receipt::parse(&body).unwrap();
        r.verify(entry, log, origin).unwrap();
        assert_eq!(r.index, *index, "acknowledged entry moved");
    }
}

#[test]
fn sigkill_during_submissions_never_loses_or_forks() {
    let manifest =
        SignedManifest::from_bytes(&std::fs::read(example("manifest.signed")).unwrap(), None)
            .unwrap()
            .into_manifest();
    let log = key("EXAMPLE-ONLY.log.key");
    let origin = manifest.log.origin.clone();
    let tallies = all_tallies(&manifest);
    assert!(tallies.len() >= 60, "only {} tallies", tallies.len());
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Seen {
        acked: Vec::new(),
        checkpoints: Vec::new(),
    };
    let rounds = 8;
    let per_round = tallies.len() / rounds;
    let deadline = Instant::now() + Duration::from_secs(120);
    for round in 0..rounds {
        assert!(Instant::now() < deadline, "test took too long");
        let (mut child, addr) = start(dir.path());
        check_log(addr, log.verifier(), &origin, &mut seen);
        let batch = &tallies[round * per_round..(round + 1) * per_round];
        // Kill at a pseudo-random moment within the stream.
        let delay = [50u64, 120, 80, 250, 30, 400, 160, 100][round % 8];
        let acked = kill_under_load(
            batch,
            // Killed mid-request, or refused while going down: not acknowledged.
            move |e| match http(addr, "POST", "/submit", e) {
                Ok((200, body)) => Some(body),
                _ => None,
            },
            Duration::from_millis(delay),
            || {
                child.kill().unwrap();
                child.wait().unwrap();
            },
        );
        let n = acked.len();
        eprintln!("round {round}: killed after {delay} ms, {n} of {per_round} acknowledged");
        for (e, i, note) in acked {
            let cp = open_checkpoint(&note, log.verifier(), &[], 0)
                .unwrap()
                .checkpoint;
            seen.checkpoints.push((cp.size, cp.root));
            seen.acked.push((e, i));
        }
    }
    let (mut child, addr) = start(dir.path());
    check_log(addr, log.verifier(), &origin, &mut seen);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !seen.acked.is_empty(),
        "no submission was ever acknowledged"
    );
}

fn submit_cmd(server: &str, receipts: &Path, paths: &[&Path]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(["submit", "--server", server, "--attempts", "1"])
        .arg("--manifest")
        .arg(example("manifest.signed"))
        .arg("--receipts")
        .arg(receipts)
        .args(paths)
        .output()
        .unwrap()
}

#[test]
fn submit_sends_a_directory_checks_and_keeps_receipts() {
    let manifest =
        SignedManifest::from_bytes(&std::fs::read(example("manifest.signed")).unwrap(), None)
            .unwrap()
            .into_manifest();
    let log = key("EXAMPLE-ONLY.log.key");
    let work = tempfile::tempdir().unwrap();
    let tallies_dir = work.path().join("tallies");
    let receipts = work.path().join("receipts");
    std::fs::create_dir_all(&tallies_dir).unwrap();
    let tallies = all_tallies(&manifest);
    for (i, t) in tallies[..3].iter().enumerate() {
        std::fs::write(tallies_dir.join(format!("t{i}.tally")), t).unwrap();
    }
    let data = work.path().join("data");
    let (mut child, addr) = start(&data);
    let url = format!("http://{addr}");

    let out = submit_cmd(&url, &receipts, &[&tallies_dir]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("3 accepted, 0 refused, 0 pending"),
        "{stdout}"
    );
    for (i, t) in tallies[..3].iter().enumerate() {
        let r = Receipt::parse(
            &std::fs::read(receipts.join(format!("t{i}.tally.tlog-proof"))).unwrap(),
        )
        .unwrap();
        r.verify(t, log.verifier(), &manifest.log.origin).unwrap();
    }
    // Again: nothing is sent, the receipts are kept.
    let out = submit_cmd(&url, &receipts, &[&tallies_dir]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("accepted earlier"));

    // A tally the server refuses: exit 1, the reason printed.
    let bad = work.path().join("bad.tally");
    let mut b = tallies[3].clone();
    let n = b.len();
    b[n - 1] ^= 1;
    std::fs::write(&bad, b).unwrap();
    let out = submit_cmd(&url, &receipts, &[&bad]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("refused: HTTP 400 bad-signature"),
        "{stdout}"
    );

    // Server gone: pending, exit 2.
    child.kill().unwrap();
    child.wait().unwrap();
    let good = work.path().join("good.tally");
    std::fs::write(&good, &tallies[4]).unwrap();
    let out = submit_cmd(&url, &receipts, &[&good]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("0 accepted, 0 refused, 1 pending"),
        "{stdout}"
    );
}
