#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The real binaries on loopback: `tallyboard serve` with two `tallyboard
//! witness` processes. Tallies streamed in get receipts whose checkpoints
//! carry both cosignatures and meet the manifest's quorum; with one witness
//! killed (SIGKILL) every submission is still answered and the checkpoint
//! still meets the 1-of-2 quorum; restarted on its address with its state,
//! the witness's cosignatures resume. Uses the EXAMPLE ONLY election.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use tallyboard_testkit::process::stop;

use crate::common::{all_tallies, example, http, key, spawn_listening};
use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::receipt::Receipt;
use tallyboard_witness::origin_hash;

fn witness(n: u8, data: &Path, listen: &str) -> (Child, SocketAddr) {
    spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_tallyboard"))
            .args(["witness", "--listen", listen])
            .arg("--key")
            .arg(example(&format!("keys/EXAMPLE-ONLY.witness-{n}.key")))
            .arg("--manifest")
            .arg(example("manifest.signed"))
            .arg("--data")
            .arg(data),
    )
}

struct Election {
    log: VerifierKey,
    origin: String,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
}

impl Election {
    fn open(&self, note: &[u8], quorum: usize) -> OpenedCheckpoint {
        open_checkpoint(note, &self.log, &self.witnesses, quorum)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(note)))
    }
}

/// Submits `tallies`, checks each receipt (inclusion, log signature,
/// `quorum` cosignatures) and returns the number of cosignatures on the
/// last receipt.
fn submit_all(addr: SocketAddr, e: &Election, tallies: &[Vec<u8>], quorum: usize) -> usize {
    let mut last = 0;
    for t in tallies {
        let (status, body) = http(addr, "POST", "/submit", t).unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let r = Receipt::parse(&body).unwrap();
        r.verify_with_witnesses(t, &e.log, &e.origin, &e.witnesses, quorum)
            .unwrap_or_else(|err| panic!("receipt: {err}"));
        last = e.open(&r.checkpoint_note, 0).cosignatures.len();
    }
    last
}

/// Polls `/checkpoint` until it has `n` cosignatures (bounded: 30 s).
fn wait_for_cosignatures(addr: SocketAddr, e: &Election, n: usize) -> OpenedCheckpoint {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
        assert_eq!(status, 200);
        let opened = e.open(&note, 0);
        if opened.cosignatures.len() >= n {
            return opened;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint still has {} cosignatures: {}",
            opened.cosignatures.len(),
            String::from_utf8_lossy(&note)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn metric(addr: SocketAddr, line_start: &str) -> u64 {
    let (_, body) = http(addr, "GET", "/metrics", b"").unwrap();
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {line_start} in\n{text}"))
}

#[test]
fn server_gathers_cosignatures_survives_a_dead_witness_and_resumes() {
    let bytes = std::fs::read(example("manifest.signed")).unwrap();
    let m = SignedManifest::from_bytes(&bytes, None)
        .unwrap()
        .into_manifest();
    let e = Election {
        log: key("EXAMPLE-ONLY.log.key").verifier().clone(),
        origin: m.log.origin.clone(),
        witnesses: m
            .witnesses
            .iter()
            .map(|w| VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key).unwrap())
            .collect(),
        quorum: m.quorum as usize,
    };
    assert_eq!(
        (e.witnesses.len(), e.quorum),
        (2, 1),
        "the example's witness policy"
    );
    let tallies = all_tallies(&m);
    assert!(tallies.len() >= 30, "{}", tallies.len());
    let (first, rest) = tallies.split_at(10);
    let (second, third) = rest.split_at(10);

    let dir = tempfile::tempdir().unwrap();
    let (w1, a1) = witness(1, &dir.path().join("w1"), "127.0.0.1:0");
    let (w2, a2) = witness(2, &dir.path().join("w2"), "127.0.0.1:0");
    let (server, addr) = spawn_listening(
        Command::new(env!("CARGO_BIN_EXE_tallyboard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--interval-ms", "50"])
            .args(["--rate", "1000000", "--burst", "1000000"])
            .args(["--witness", &format!("http://{a1}")])
            .args(["--witness", &format!("http://{a2}/")])
            .args(["--witness-wait-ms", "3000"])
            .arg("--manifest")
            .arg(example("manifest.signed"))
            .arg("--log-key")
            .arg(example("keys/EXAMPLE-ONLY.log.key"))
            .arg("--data")
            .arg(dir.path().join("log")),
    );

    // At start-up the server asks both witnesses about its empty log; a
    // witness busy with that is not waited for by the first commit, so
    // wait until both have answered.
    for a in [a1, a2] {
        let up = format!("tallyboard_witness_up{{witness=\"http://{a}\"}} ");
        let deadline = Instant::now() + Duration::from_secs(30);
        while metric(addr, &up) != 1 {
            assert!(Instant::now() < deadline, "witness {a} never cosigned");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Both witnesses up: every receipt is cosigned by both.
    assert_eq!(submit_all(addr, &e, first, 2), 2);
    let cp = wait_for_cosignatures(addr, &e, 2);
    assert_eq!(cp.checkpoint.size, 10);
    let names: Vec<&str> = cp.cosignatures.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&e.witnesses[0].name()) && names.contains(&e.witnesses[1].name()));
    // Each witness serves the checkpoint it cosigned (monitoring API).
    for a in [a1, a2] {
        let path = format!("/witness/{}/checkpoint", origin_hash(&e.origin));
        let (status, note) = http(a, "GET", &path, b"").unwrap();
        assert_eq!(status, 200);
        assert_eq!(e.open(&note, 1).checkpoint.size, 10);
    }

    // Witness 2 killed: submissions are all answered, the manifest's
    // quorum (1 of 2) is still met by every receipt and the checkpoint.
    let mut w2 = w2;
    w2.kill().unwrap();
    w2.wait().unwrap();
    assert_eq!(submit_all(addr, &e, second, e.quorum), 1);
    let (_, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
    let cp = e.open(&note, e.quorum);
    assert_eq!(cp.checkpoint.size, 20);
    assert_eq!(cp.cosignatures[0].name, e.witnesses[0].name());
    let w2_label = format!("tallyboard_witness_failures_total{{witness=\"http://{a2}\"}} ");
    assert!(metric(addr, &w2_label) >= 1);
    let up = format!("tallyboard_witness_up{{witness=\"http://{a2}\"}} ");
    assert_eq!(metric(addr, &up), 0);

    // Witness 2 back on its address with its state: without any new
    // submission, the server's retry gets its cosignature onto the
    // published checkpoint; new receipts carry both again.
    let (w2, _) = witness(2, &dir.path().join("w2"), &a2.to_string());
    let cp = wait_for_cosignatures(addr, &e, 2);
    assert_eq!(cp.checkpoint.size, 20);
    assert_eq!(submit_all(addr, &e, &third[..5], 2), 2);
    assert_eq!(metric(addr, &up), 1);
    let sized = format!("tallyboard_witness_cosigned_size{{witness=\"http://{a2}\"}} ");
    assert_eq!(metric(addr, &sized), 25);

    // The restarted witness kept its state: asked from size 0 about the
    // current checkpoint it answers 409 with the size it holds.
    let (_, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
    let mut body = b"old 0\n\n".to_vec();
    body.extend_from_slice(&note);
    let (status, held) = http(a2, "POST", "/add-checkpoint", &body).unwrap();
    assert_eq!((status, held.as_slice()), (409, &b"25\n"[..]));

    stop(server);
    stop(w1);
    stop(w2);
}
