#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tallyboard serve --storage s3://...` against a real S3 server (moto,
//! installed by `scripts/test.sh`, on 127.0.0.1): a night verified by
//! `tallyboard verify` through the server and straight from the bucket,
//! and SIGKILL of the active sequencer under load, many times, with a
//! standby taking over. Uses the EXAMPLE ONLY election of keys-example/.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{all_tallies, example, http, key, repo_root};

use tallyboard_core::Hash;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_core::merkle::{prove_consistency, verify_consistency};
use tallyboard_core::note::VerifierKey;
use tallyboard_core::receipt::Receipt;
use tallyboard_core::tile::{TileHashReader, TileId};
use tallyboard_http::error::ErrorBody;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process the test started, killed when dropped.
struct Proc {
    child: Child,
    /// Kept open: the process may print more lines.
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A moto S3 server on 127.0.0.1 with one bucket.
struct Moto {
    _proc: Proc,
    addr: SocketAddr,
}

fn start_moto(bucket: &str) -> Moto {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("moto_server is missing ({e}): run scripts/test.sh, which installs moto[server]")
        });
    let proc = Proc {
        child,
        _stdout: None,
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The bucket, readable by anyone (a public-read policy, as behind a
    // CDN): made with boto3, which comes with moto.
    let script = format!(
        "import boto3, json\n\
         s3 = boto3.client('s3', endpoint_url='http://{addr}', aws_access_key_id='example-only', \
         aws_secret_access_key='example-only', region_name='us-east-1')\n\
         s3.create_bucket(Bucket='{bucket}')\n\
         s3.put_bucket_policy(Bucket='{bucket}', Policy=json.dumps({{'Version': '2012-10-17', \
         'Statement': [{{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', \
         'Resource': 'arn:aws:s3:::{bucket}/*'}}]}}))\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("python3 is missing ({e}): run scripts/test.sh"));
    assert!(
        out.status.success(),
        "creating the bucket with boto3 (scripts/test.sh installs moto[server], which brings it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Moto { _proc: proc, addr }
}

/// `tallyboard serve --storage s3://BUCKET/PREFIX` on `port`, waiting
/// for its first line (`listening on` or, with `--standby`, `standby on`).
fn serve(moto: &Moto, url: &str, port: u16, extra: &[&str]) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(["serve", "--interval-ms", "20", "--heartbeat-ms", "100"])
        .args(["--rate", "1000000", "--burst", "1000000"])
        .args(["--key-rate", "1000000", "--key-burst", "1000000"])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--storage", url])
        .arg("--manifest")
        .arg(example("manifest.signed"))
        .arg("--log-key")
        .arg(example("keys/EXAMPLE-ONLY.log.key"))
        .args(extra)
        .env("AWS_ENDPOINT", format!("http://{}", moto.addr))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "example-only")
        .env("AWS_SECRET_ACCESS_KEY", "example-only")
        .env_remove("TALLYBOARD_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    (
        Proc {
            child,
            _stdout: Some(out),
        },
        line.trim().to_owned(),
    )
}

fn manifest() -> tallyboard_core::manifest::Manifest {
    SignedManifest::from_bytes(&std::fs::read(example("manifest.signed")).unwrap(), None)
        .unwrap()
        .into_manifest()
}

#[test]
fn a_night_on_s3_is_verified_through_the_server_and_from_the_bucket() {
    let moto = start_moto("night");
    let port = free_port();
    let (server, line) = serve(&moto, "s3://night/results/2026", port, &[]);
    assert_eq!(line, format!("listening on http://127.0.0.1:{port}"));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let m = manifest();
    let log = key("EXAMPLE-ONLY.log.key");
    let tallies = all_tallies(&m);
    let mut threads = Vec::new();
    for part in tallies
        .chunks(tallies.len().div_ceil(4))
        .map(<[Vec<u8>]>::to_vec)
    {
        threads.push(std::thread::spawn(move || {
            let log = key("EXAMPLE-ONLY.log.key");
            for t in part {
                let (s, body) = http(addr, "POST", "/submit", &t).unwrap();
                assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
                let r = Receipt::parse(&body).unwrap();
                r.verify(&t, log.verifier(), &manifest().log.origin)
                    .unwrap();
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    // The bucket is a complete static copy: the same checkpoint, manifest
    // and totals as the server's, readable with plain GETs.
    let bucket =
        |p: &str| http(moto.addr, "GET", &format!("/night/results/2026/{p}"), b"").unwrap();
    for p in ["checkpoint", "manifest", "totals"] {
        let (s, body) = bucket(p);
        assert_eq!(s, 200, "{p}");
        assert_eq!(
            body,
            http(addr, "GET", &format!("/{p}"), b"").unwrap().1,
            "{p}"
        );
    }
    let cp = open_checkpoint(&bucket("checkpoint").1, log.verifier(), &[], 0)
        .unwrap()
        .checkpoint;
    assert_eq!(cp.size, tallies.len() as u64);
    let authority = repo_root()
        .join("keys-example/keys/EXAMPLE-ONLY.authority.key.pub")
        .display()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(["verify", "--authority", &authority, "--quorum", "0"])
        .args(["--source", &format!("http://{addr}")])
        .args([
            "--source",
            &format!("http://{}/night/results/2026", moto.addr),
        ])
        .args(["--source", "s3://night/results/2026"])
        .env("AWS_ENDPOINT", format!("http://{}", moto.addr))
        .arg("--json")
        .arg(work.path().join("report.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("http://{}/night/results/2026", moto.addr)),
        "{stdout}"
    );
    drop(server);
}

/// What the failover test saw.
#[derive(Default)]
struct Seen {
    /// (entry bytes, acknowledged index)
    acked: Vec<(Vec<u8>, u64)>,
    /// (size, root) of every checkpoint seen, in any order.
    checkpoints: Vec<(u64, Hash)>,
}

fn check_log(addr: SocketAddr, log: &VerifierKey, origin: &str, seen: &mut Seen) -> (u64, usize) {
    let (status, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
    assert_eq!(status, 200);
    let cp = open_checkpoint(&note, log, &[], 0).unwrap().checkpoint;
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
    for (entry, index) in &seen.acked {
        assert!(*index < cp.size, "acknowledged entry {index} lost");
        let (s, body) = http(addr, "POST", "/submit", entry).unwrap();
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        let r = Receipt::parse(&body).unwrap();
        r.verify(entry, log, origin).unwrap();
        assert_eq!(r.index, *index, "acknowledged entry moved");
    }
    (cp.size, seen.acked.len())
}

/// Two servers on one bucket; the active one is killed with SIGKILL while
/// tallies stream in, the standby takes over, the killed one comes back
/// as the new standby; again and again. Every receipt handed out proves
/// against the final checkpoint at its index, every checkpoint seen is
/// consistent with the final one.
#[test]
fn sigkill_of_the_active_sequencer_with_a_standby_taking_over() {
    let moto = start_moto("failover");
    let url = "s3://failover/log";
    let m = manifest();
    let origin = m.log.origin.clone();
    let log = key("EXAMPLE-ONLY.log.key");
    let tallies = all_tallies(&m);
    let ports = [free_port(), free_port()];
    let addr = |i: usize| -> SocketAddr { format!("127.0.0.1:{}", ports[i]).parse().unwrap() };
    let takeover = ["--takeover-ms", "1000"];
    let (a, line) = serve(&moto, url, ports[0], &["--node-name", "server-A"]);
    assert!(line.starts_with("listening on"), "{line}");
    let (b, line) = serve(
        &moto,
        url,
        ports[1],
        &[&["--standby", "--node-name", "server-B"][..], &takeover[..]].concat(),
    );
    assert!(line.starts_with("standby on"), "{line}");
    // The standby refuses submissions, naming the active sequencer.
    let mut named = false;
    for _ in 0..50 {
        let (s, body) = http(addr(1), "POST", "/submit", &tallies[0]).unwrap();
        assert_eq!(s, 503);
        let e = ErrorBody::parse(&body).unwrap();
        assert_eq!(e.error, "standby");
        if e.message.contains("server-A#") {
            named = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(named, "the standby never named the active sequencer");
    let mut procs = [Some(a), Some(b)];
    let mut active = 0usize;
    let mut seen = Seen::default();
    let rounds = 6;
    let per_round = tallies.len() / (rounds + 1);
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut takeovers = Vec::new();
    for round in 0..rounds {
        assert!(Instant::now() < deadline, "test took too long");
        let batch: Vec<Vec<u8>> = tallies[round * per_round..(round + 1) * per_round].to_vec();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        let target = addr(active);
        for part in batch.chunks(per_round.div_ceil(4)).map(<[Vec<u8>]>::to_vec) {
            let acked = acked.clone();
            threads.push(std::thread::spawn(move || {
                for e in part {
                    if let Ok((200, body)) = http(target, "POST", "/submit", &e) {
                        let r = Receipt::parse(&body).unwrap();
                        acked.lock().unwrap().push((e, r.index, r.checkpoint_note));
                    }
                }
            }));
        }
        let delay = [60u64, 150, 30, 250, 100, 10][round % 6];
        std::thread::sleep(Duration::from_millis(delay));
        // SIGKILL the active sequencer.
        drop(procs[active].take());
        let killed = Instant::now();
        for t in threads {
            t.join().unwrap();
        }
        let standby = 1 - active;
        // The standby takes over: the first tally it accepts.
        let probe = &tallies[rounds * per_round + round];
        let took = loop {
            assert!(killed.elapsed() < Duration::from_secs(30), "no takeover");
            if let Ok((200, body)) = http(addr(standby), "POST", "/submit", probe) {
                let r = Receipt::parse(&body).unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push((probe.clone(), r.index, r.checkpoint_note));
                break killed.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        takeovers.push(took);
        let n = acked.lock().unwrap().len();
        eprintln!(
            "round {round}: killed after {delay} ms, {n} acknowledged, takeover in {} ms",
            took.as_millis()
        );
        for (e, i, note) in acked.lock().unwrap().drain(..) {
            let cp = open_checkpoint(&note, log.verifier(), &[], 0)
                .unwrap()
                .checkpoint;
            seen.checkpoints.push((cp.size, cp.root));
            seen.acked.push((e, i));
        }
        // The killed one comes back as the standby.
        let name = if active == 0 { "server-A" } else { "server-B" };
        let (p, line) = serve(
            &moto,
            url,
            ports[active],
            &[&["--standby", "--node-name", name][..], &takeover[..]].concat(),
        );
        assert!(line.starts_with("standby on"), "{line}");
        procs[active] = Some(p);
        active = standby;
    }
    let (size, receipts) = check_log(addr(active), log.verifier(), &origin, &mut seen);
    let max = takeovers.iter().max().unwrap();
    let mean = takeovers.iter().sum::<Duration>() / takeovers.len() as u32;
    eprintln!(
        "failover on S3 (moto): kills {rounds}, receipts checked {receipts}, final size {size}, forks 0, losses 0, takeover mean {} ms, max {} ms (takeover after 1000 ms of silence, heartbeat 100 ms)",
        mean.as_millis(),
        max.as_millis()
    );
    assert!(receipts >= rounds);
}
