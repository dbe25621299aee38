#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tallyboard serve --storage s3://...` against a real S3 server (moto,
//! installed by `scripts/test.sh`, on 127.0.0.1): a night verified by
//! `tallyboard verify` through the server and straight from the bucket,
//! and SIGKILL of the active sequencer under load, many times, with a
//! standby taking over. Uses the EXAMPLE ONLY election of keys-example/.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
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
use tallyboard_testkit::process::kill_under_load;

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
    serve_at(moto, &["--storage", url], port, extra)
}

/// `tallyboard` with the environment that points it at `moto`.
fn tallyboard(moto: &Moto) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tallyboard"));
    c.env("AWS_ENDPOINT", format!("http://{}", moto.addr))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "example-only")
        .env("AWS_SECRET_ACCESS_KEY", "example-only")
        .env_remove("TALLYBOARD_LOG");
    c
}

/// `tallyboard serve` with the log at `at` (`--storage URL` or `--data DIR`).
fn serve_at(moto: &Moto, at: &[&str], port: u16, extra: &[&str]) -> (Proc, String) {
    let mut child = tallyboard(moto)
        .args(["serve", "--interval-ms", "20", "--heartbeat-ms", "100"])
        .args(["--rate", "1000000", "--burst", "1000000"])
        .args(["--key-rate", "1000000", "--key-burst", "1000000"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(at)
        .arg("--manifest")
        .arg(example("manifest.signed"))
        .arg("--log-key")
        .arg(example("keys/EXAMPLE-ONLY.log.key"))
        .args(extra)
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
    submit_all(addr, &tallies);
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
        let batch = &tallies[round * per_round..(round + 1) * per_round];
        let target = addr(active);
        let delay = [60u64, 150, 30, 250, 100, 10][round % 6];
        let mut killed = Instant::now();
        let mut acked = kill_under_load(
            batch,
            move |e| match http(target, "POST", "/submit", e) {
                Ok((200, body)) => Some(body),
                _ => None,
            },
            Duration::from_millis(delay),
            || {
                // SIGKILL the active sequencer.
                drop(procs[active].take());
                killed = Instant::now();
            },
        );
        let standby = 1 - active;
        // The standby takes over: the first tally it accepts.
        let probe = &tallies[rounds * per_round + round];
        let took = loop {
            assert!(killed.elapsed() < Duration::from_secs(30), "no takeover");
            if let Ok((200, body)) = http(addr(standby), "POST", "/submit", probe) {
                let r = Receipt::parse(&body).unwrap();
                acked.push((probe.clone(), r.index, r.checkpoint_note));
                break killed.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        takeovers.push(took);
        let n = acked.len();
        eprintln!(
            "round {round}: killed after {delay} ms, {n} acknowledged, takeover in {} ms",
            took.as_millis()
        );
        for (e, i, note) in acked {
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

/// Submits every tally of `tallies` to the server at `addr`, four at a
/// time; every receipt must verify.
fn submit_all(addr: SocketAddr, tallies: &[Vec<u8>]) {
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
}

/// The keys under `bucket/prefix/`, relative to the prefix (listed with
/// boto3, which comes with moto).
fn bucket_keys(moto: &Moto, bucket: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    let script = format!(
        "import boto3\n\
         s3 = boto3.client('s3', endpoint_url='http://{}', aws_access_key_id='example-only', \
         aws_secret_access_key='example-only', region_name='us-east-1')\n\
         for page in s3.get_paginator('list_objects_v2').paginate(Bucket='{bucket}', Prefix='{prefix}/'):\n\
         \x20   for o in page.get('Contents', []):\n\
         \x20       print(o['Key'][len('{prefix}/'):])\n",
        moto.addr
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "listing the bucket with boto3 (scripts/test.sh installs moto[server], which brings it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The files under `dir`, relative to it (hidden names left out).
fn dir_files(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    fn walk(dir: &std::path::Path, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &rel, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(dir, "", &mut out);
    out
}

/// `tallyboard certify` of the server at `addr` with the example's
/// authority key.
fn certify(moto: &Moto, addr: SocketAddr) {
    let out = tallyboard(moto)
        .arg("certify")
        .arg("--key")
        .arg(repo_root().join("keys-example/keys/EXAMPLE-ONLY.authority.key"))
        .args(["--server", &format!("http://{addr}"), "--quorum", "0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "certify {addr}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `tallyboard verify` of `sources` (with the example's authority key);
/// its stdout.
fn verify_sources(moto: &Moto, sources: &[String]) -> String {
    let authority = repo_root()
        .join("keys-example/keys/EXAMPLE-ONLY.authority.key.pub")
        .display()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let mut c = tallyboard(moto);
    c.args(["verify", "--authority", &authority, "--quorum", "0"]);
    for s in sources {
        c.args(["--source", s]);
    }
    let out = c
        .arg("--json")
        .arg(work.path().join("report.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The same night served from object storage and from a data directory:
/// the bucket holds every file the data directory's `public/` holds
/// (pages, search index, results exports, totals.json, certification
/// included). Then a mirror of the data-directory server writes its
/// verified copy to another prefix of the bucket, which `tallyboard
/// verify` passes read as `s3://` and through the plain HTTP in front of
/// the bucket, and which holds the front page and the unit pages.
#[test]
fn the_bucket_is_a_complete_static_copy_and_a_mirror_writes_its_copy_to_a_bucket() {
    let moto = start_moto("copies");
    let m = manifest();
    let tallies = all_tallies(&m);
    let data = tempfile::tempdir().unwrap();
    let (ports, bucket_port) = ([free_port(), free_port()], moto.addr);
    let (on_s3, line) = serve(&moto, "s3://copies/origin", ports[0], &[]);
    assert_eq!(line, format!("listening on http://127.0.0.1:{}", ports[0]));
    let data_arg = data.path().join("origin").display().to_string();
    let (on_disk, line) = serve_at(&moto, &["--data", &data_arg], ports[1], &[]);
    assert_eq!(line, format!("listening on http://127.0.0.1:{}", ports[1]));
    let addr = |i: usize| -> SocketAddr { format!("127.0.0.1:{}", ports[i]).parse().unwrap() };
    submit_all(addr(0), &tallies);
    submit_all(addr(1), &tallies);
    certify(&moto, addr(0));
    certify(&moto, addr(1));

    // Served from the bucket, the front page and a unit page.
    let unit = &m.units[0].id;
    for p in ["/".to_owned(), format!("/units/{unit}/")] {
        let (s, body) = http(addr(0), "GET", &p, b"").unwrap();
        assert_eq!(s, 200, "{p}: {}", String::from_utf8_lossy(&body));
    }

    // The bucket has every file of the data directory's public/ (the
    // pages are written in the background: wait for them). Partial tiles
    // are left out: which of them exist depends on where each server's
    // batches ended.
    let public = data.path().join("origin/public");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (want, mut missing);
    loop {
        let mut local = dir_files(&public);
        local.retain(|f| !f.contains(".p/"));
        let keys = bucket_keys(&moto, "copies", "origin");
        missing = local
            .iter()
            .filter(|f| !keys.contains(*f))
            .cloned()
            .collect::<Vec<_>>();
        if missing.is_empty() || Instant::now() > deadline {
            want = local;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(missing.is_empty(), "not in the bucket: {missing:?}");
    for f in [
        "index.html",
        "search.html",
        "totals.json",
        "results.json",
        "results.csv",
        "certification",
    ] {
        assert!(want.contains(f), "{f} not in public/: {want:?}");
    }
    assert!(want.contains(&format!("units/{unit}/index.html")));
    // And the same totals.json and certification as the server serves.
    for p in ["totals.json", "certification"] {
        let (s, body) = http(bucket_port, "GET", &format!("/copies/origin/{p}"), b"").unwrap();
        assert_eq!(s, 200, "{p}");
        assert_eq!(
            body,
            http(addr(0), "GET", &format!("/{p}"), b"").unwrap().1,
            "{p}"
        );
    }
    drop(on_s3);

    // A mirror of the data-directory server, writing to the bucket.
    let mirror_dir = data.path().join("mirror");
    let out = tallyboard(&moto)
        .args(["mirror", "--once", "--quorum", "0"])
        .args(["--upstream", &format!("http://{}", addr(1))])
        .arg("--manifest")
        .arg(example("manifest.signed"))
        .arg("--authority")
        .arg(repo_root().join("keys-example/keys/EXAMPLE-ONLY.authority.key.pub"))
        .arg("--data")
        .arg(&mirror_dir)
        .args(["--storage", "s3://copies/mirror"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mirror --once --storage: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(on_disk);
    let keys = bucket_keys(&moto, "copies", "mirror");
    let local = dir_files(&mirror_dir.join("public"));
    assert_eq!(keys, local, "the mirror's bucket and its public/ differ");
    for f in [
        "index.html",
        &format!("units/{unit}/index.html"),
        "certification",
        "checkpoint",
        "totals",
        "manifest",
    ] {
        assert!(keys.contains(f), "{f} not in the mirror's bucket: {keys:?}");
    }
    let (s, page) = http(bucket_port, "GET", "/copies/mirror/index.html", b"").unwrap();
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&page).contains("<html"));
    let via_http = format!("http://{bucket_port}/copies/mirror");
    let stdout = verify_sources(&moto, &[via_http.clone(), "s3://copies/mirror".to_owned()]);
    assert!(stdout.contains(&via_http), "{stdout}");
}

/// The whole exercise night (`tallyboard exercise --storage s3://...`:
/// witnesses, two mirrors, count centres, certification) with the
/// publication server's log in the bucket; the verifier passes every
/// source, the bucket read directly among them.
#[test]
fn the_exercise_night_runs_on_object_storage_and_is_verified() {
    let moto = start_moto("exercise");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("night");
    let out = tallyboard(&moto)
        .args(["exercise", "--storage", "s3://exercise/night"])
        .arg("--data")
        .arg(&data)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The verifier read the bucket itself.
    let report = std::fs::read_to_string(data.join("verify/clean.json")).unwrap();
    // (an s3:// source is named by the HTTP address it is read from)
    let bucket = format!("http://{}/exercise/night", moto.addr);
    assert!(report.contains(&bucket), "{report}");
    let keys = bucket_keys(&moto, "exercise", "night");
    for f in [
        "checkpoint",
        "manifest",
        "totals",
        "certification",
        "index.html",
    ] {
        assert!(keys.contains(f), "{f} not in the bucket");
    }
    assert!(!keys.iter().any(|k| k.starts_with("private/staging/")));
}

/// A sequencer paused (SIGSTOP), not killed: the standby takes the log
/// over all the same; when the paused one resumes it has lost the log and
/// acknowledges nothing more, and the log has not forked.
#[test]
fn a_paused_sequencer_does_not_block_the_takeover() {
    let moto = start_moto("paused");
    let url = "s3://paused/log";
    let m = manifest();
    let origin = m.log.origin.clone();
    let log = key("EXAMPLE-ONLY.log.key");
    let tallies = all_tallies(&m);
    let ports = [free_port(), free_port()];
    let addr = |i: usize| -> SocketAddr { format!("127.0.0.1:{}", ports[i]).parse().unwrap() };
    let (a, line) = serve(&moto, url, ports[0], &["--node-name", "server-A"]);
    assert!(line.starts_with("listening on"), "{line}");
    let (b, line) = serve(
        &moto,
        url,
        ports[1],
        &[
            "--standby",
            "--node-name",
            "server-B",
            "--takeover-ms",
            "1000",
        ],
    );
    assert!(line.starts_with("standby on"), "{line}");
    let mut seen = Seen::default();
    for t in &tallies[..10] {
        let (s, body) = http(addr(0), "POST", "/submit", t).unwrap();
        assert_eq!(s, 200);
        seen.acked
            .push((t.clone(), Receipt::parse(&body).unwrap().index));
    }
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &a.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    };
    signal("-STOP");
    let paused = Instant::now();
    let took = loop {
        assert!(paused.elapsed() < Duration::from_secs(30), "no takeover");
        if let Ok((200, body)) = http(addr(1), "POST", "/submit", &tallies[10]) {
            seen.acked
                .push((tallies[10].clone(), Receipt::parse(&body).unwrap().index));
            break paused.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "takeover from a paused sequencer in {} ms",
        took.as_millis()
    );
    signal("-CONT");
    // The resumed one loses its next compare-and-swap (a heartbeat within
    // 100 ms): from then on it acknowledges nothing.
    std::thread::sleep(Duration::from_millis(1000));
    for t in &tallies[11..14] {
        if let Ok((s, body)) = http(addr(0), "POST", "/submit", t) {
            assert_ne!(
                s,
                200,
                "the resumed sequencer acknowledged a tally: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    let (size, receipts) = check_log(addr(1), log.verifier(), &origin, &mut seen);
    assert_eq!(receipts, 11);
    assert_eq!(size, 11);
    drop((a, b));
}
