#![cfg(target_os = "linux")]
//! Connection floods against the real binaries: `serve`, `mirror` and
//! `witness`, each started under a descriptor limit of 1,024
//! (`prlimit --nofile=1024:1024`), are held by more silent TCP connections
//! than that limit allows, kept up (closed ones are reopened) while a
//! normal client reads `/checkpoint` and submits a tally (serve), reads
//! `/checkpoint` (mirror) or asks for a cosignature (witness). Each of
//! those must be answered in bounded time, and the role's `/metrics` must
//! show that its connection cap was reached. Uses the EXAMPLE ONLY
//! election; 127.0.0.1 only.

use std::io::Read as _;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tallyboard_testkit::process::stop;

use crate::common::{all_tallies, example, http, spawn_listening};
use tallyboard_core::manifest::SignedManifest;

/// The descriptor limit the roles run under.
const NOFILE: u64 = 1024;
/// Silent connections opened against each role.
const FLOOD: usize = 1100;
/// The flood is on once more than this many are open at once (a few of
/// `FLOOD` may be reopening at any time): more than `NOFILE`.
const HELD: usize = NOFILE as usize + 32;
/// The header timeout the roles run with (short, so the test is quick).
const HEADER_TIMEOUT_MS: &str = "1000";
/// Time a normal client's request may take under the flood.
const BOUND: Duration = Duration::from_secs(20);

/// `tallyboard ARGS` under a soft and hard descriptor limit of `NOFILE`.
fn limited(args: &[&str]) -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--nofile={NOFILE}:{NOFILE}"))
        .arg(env!("CARGO_BIN_EXE_tallyboard"))
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .args(["--header-timeout-ms", HEADER_TIMEOUT_MS]);
    c
}

/// This process holds a flood of connections: raise its own soft limit.
fn raise_own_descriptor_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: l.maximum,
            maximum: l.maximum,
        },
    )
    .unwrap();
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|n| n >= FLOOD as u64 + 256),
        "this test needs a hard descriptor limit of at least {}, it is {now:?}",
        FLOOD as u64 + 256
    );
}

/// `FLOOD` silent connections to `addr`, reopened as the server closes
/// them, until dropped.
struct Flood {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Flood {
    /// Opens the connections, waits until more than `HELD` are open at once
    /// (bounded: 30 s), and keeps them up.
    fn start(addr: SocketAddr) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut conns: Vec<Option<TcpStream>> = (0..FLOOD).map(|_| None).collect();
            let mut ready = Some(ready_tx);
            let deadline = Instant::now() + Duration::from_secs(120);
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                for slot in &mut conns {
                    let alive = slot.as_mut().is_some_and(|c| {
                        let mut b = [0u8; 256];
                        matches!(c.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
                    });
                    if !alive {
                        *slot = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                            .ok()
                            .inspect(|c| c.set_nonblocking(true).unwrap());
                    }
                }
                let open = conns.iter().filter(|c| c.is_some()).count();
                if open > HELD
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the flood's connections opened");
        Flood {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `method path` answered with `want` within `BOUND` (retrying a refused
/// or timed-out attempt); returns the body and the time taken.
fn answered(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    want: u16,
) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < BOUND {
        match http(addr, method, path, body) {
            Ok((status, b)) if status == want => return (b, started.elapsed()),
            Ok((status, b)) => last = format!("{status} {}", String::from_utf8_lossy(&b)),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{method} {path} not answered {want} within {BOUND:?} under the flood: {last}");
}

fn metric(addr: SocketAddr, name: &str) -> u64 {
    let (body, _) = answered(addr, "GET", "/metrics", b"", 200);
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

/// The role's cap fits the 1,024 descriptors and was reached.
fn check_cap_reached(addr: SocketAddr, role: &str) {
    assert_eq!(
        metric(addr, "tallyboard_http_connections_max"),
        NOFILE - 128,
        "{role}: the cap is the descriptor limit less the reserve"
    );
    assert!(
        metric(addr, "tallyboard_http_connection_limit_reached_total") >= 1,
        "{role}: the flood reached the cap"
    );
    assert!(
        metric(addr, "tallyboard_http_header_timeouts_total") >= 1,
        "{role}: silent connections were closed"
    );
}

#[test]
fn serve_mirror_and_witness_stay_usable_under_a_connection_flood() {
    raise_own_descriptor_limit();
    let m = SignedManifest::from_bytes(&std::fs::read(example("manifest.signed")).unwrap(), None)
        .unwrap()
        .into_manifest();
    let tallies = all_tallies(&m);
    let dir = tempfile::tempdir().unwrap();
    let manifest = example("manifest.signed");
    let manifest = manifest.to_str().unwrap();
    let log_key = example("keys/EXAMPLE-ONLY.log.key");
    let log_data = dir.path().join("log");

    // serve: reads and submissions get through.
    let (server, addr) = spawn_listening(&mut limited(&[
        "serve",
        "--manifest",
        manifest,
        "--log-key",
        log_key.to_str().unwrap(),
        "--data",
        log_data.to_str().unwrap(),
        "--interval-ms",
        "50",
    ]));
    {
        let _flood = Flood::start(addr);
        let (note, took) = answered(addr, "GET", "/checkpoint", b"", 200);
        assert!(note.ends_with(b"\n"), "a signed checkpoint");
        eprintln!("serve: /checkpoint under the flood in {took:?}");
        let (_, took) = answered(addr, "POST", "/submit", &tallies[0], 200);
        eprintln!("serve: /submit under the flood in {took:?}");
    }
    check_cap_reached(addr, "serve");

    // mirror: follows the server, serves its checkpoint under the flood.
    let mirror_data = dir.path().join("mirror");
    let upstream = format!("http://{addr}");
    let (mirror, maddr) = spawn_listening(&mut limited(&[
        "mirror",
        "--upstream",
        &upstream,
        "--manifest",
        manifest,
        "--data",
        mirror_data.to_str().unwrap(),
        "--quorum",
        "0",
        "--poll-ms",
        "50",
    ]));
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(maddr, "GET", "/checkpoint", b"").map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "the mirror did not sync");
        std::thread::sleep(Duration::from_millis(50));
    }
    {
        let _flood = Flood::start(maddr);
        let (note, took) = answered(maddr, "GET", "/checkpoint", b"", 200);
        assert!(note.ends_with(b"\n"), "a signed checkpoint");
        eprintln!("mirror: /checkpoint under the flood in {took:?}");
    }
    check_cap_reached(maddr, "mirror");

    // witness: cosigns the server's checkpoint under the flood.
    let witness_key = example("keys/EXAMPLE-ONLY.witness-1.key");
    let witness_data = dir.path().join("witness");
    let (witness, waddr) = spawn_listening(&mut limited(&[
        "witness",
        "--key",
        witness_key.to_str().unwrap(),
        "--manifest",
        manifest,
        "--data",
        witness_data.to_str().unwrap(),
    ]));
    let (_, note) = http(addr, "GET", "/checkpoint", b"").unwrap();
    let mut request = b"old 0\n\n".to_vec();
    request.extend_from_slice(&note);
    {
        let _flood = Flood::start(waddr);
        let (cosignature, took) = answered(waddr, "POST", "/add-checkpoint", &request, 200);
        assert!(
            cosignature.starts_with("— ".as_bytes()),
            "a cosignature line"
        );
        eprintln!("witness: /add-checkpoint under the flood in {took:?}");
    }
    check_cap_reached(waddr, "witness");

    stop(witness);
    stop(mirror);
    stop(server);
}
