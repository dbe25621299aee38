#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tallyboard mirror` as a process: follows `tallyboard serve` on
//! loopback, `--once` exit statuses (0 synced, 1 misbehaved with evidence,
//! 2 could not sync), /status, SIGTERM. Uses the EXAMPLE ONLY election.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{copy_dir, example, tallyboard_in};
use tallyboard_core::note::SignerKey;
use tallyboard_core::witness::{AddCheckpointRequest, parse_cosignature_response};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Starts a long-running command that prints `listening on http://ADDR`.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}

/// One HTTP request (GET, or POST with `body`): status and body.
fn request(url: &str, body: Option<Vec<u8>>) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let req = match body {
            Some(b) => c.post(url).body(b),
            None => c.get(url),
        };
        let r = req.timeout(Duration::from_secs(10)).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    })
}

fn get(url: &str) -> (u16, Vec<u8>) {
    request(url, None)
}

fn post(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    request(url, Some(body))
}

fn terminate(mut child: Child) -> Option<i32> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn mirror_args<'a>(upstream: &'a str, data: &'a Path, manifest: &'a Path) -> Vec<&'a str> {
    vec![
        "mirror",
        "--upstream",
        upstream,
        "--manifest",
        s(manifest),
        "--data",
        s(data),
        "--quorum",
        "0",
    ]
}

#[test]
fn mirror_follows_the_server_and_says_what_it_found() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let manifest = example("manifest.signed");
    let authority = example("keys/EXAMPLE-ONLY.authority.key.pub");
    // Sign one centre's sheet and submit it to a real server.
    let tallies = w.join("tallies");
    let r = tallyboard_in(
        w,
        &[
            "sign",
            "--manifest",
            s(&manifest),
            "--key",
            s(&example("keys/EXAMPLE-ONLY.centre-C-NORTH.key")),
            "--sheet",
            s(&example("sheets/C-NORTH.csv")),
            "--out",
            s(&tallies),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let origin_data = w.join("origin");
    let (server, url) = start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval-ms",
        "20",
        "--manifest",
        s(&manifest),
        "--log-key",
        s(&example("keys/EXAMPLE-ONLY.log.key")),
        "--data",
        s(&origin_data),
    ]);
    let r = tallyboard_in(
        w,
        &[
            "submit",
            "--server",
            &url,
            "--manifest",
            s(&manifest),
            "--receipts",
            s(&w.join("receipts")),
            s(&tallies),
        ],
    );
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    let (_, origin_cp) = get(&format!("{url}/checkpoint"));
    let size: u64 = String::from_utf8_lossy(&origin_cp)
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(size > 0);

    // --once: 0 and a summary.
    let once_data = w.join("once");
    let mut args = mirror_args(&url, &once_data, &manifest);
    args.extend(["--authority", s(&authority), "--once"]);
    let r = tallyboard_in(w, &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("synced: tree size {size}")),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read(once_data.join("public/checkpoint")).unwrap(),
        origin_cp
    );

    // A served mirror converges, shows /status, stops on SIGTERM.
    let mdata = w.join("mirror");
    let mut args = mirror_args(&url, &mdata, &manifest);
    let witness_key = example("keys/EXAMPLE-ONLY.witness-1.key");
    args.extend(["--listen", "127.0.0.1:0", "--poll-ms", "50"]);
    args.extend(["--witness-key", s(&witness_key)]);
    let (mirror, murl) = start(&args);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (st, body) = get(&format!("{murl}/status"));
        assert_eq!(st, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if v["size"] == size && v["totals_size"] == size {
            assert_eq!(v["state"], "following");
            break;
        }
        assert!(Instant::now() < deadline, "mirror did not converge: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(&format!("{murl}/checkpoint")).1, origin_cp);
    assert_eq!(
        get(&format!("{murl}/totals")).1,
        get(&format!("{url}/totals")).1
    );
    // The same process is a witness: it cosigns the origin's checkpoint.
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: Vec::new(),
        checkpoint: origin_cp.clone(),
    };
    let (st, body) = post(&format!("{murl}/add-checkpoint"), req.to_bytes().unwrap());
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let sigs = parse_cosignature_response(&body).unwrap();
    let witness =
        SignerKey::parse(std::fs::read_to_string(&witness_key).unwrap().trim_end()).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].name, witness.name());
    assert!(
        mdata.join("witness").is_dir(),
        "witness state in DATA/witness"
    );
    assert_eq!(terminate(mirror), Some(0), "clean stop on SIGTERM");

    // An upstream that serves an altered entry: exit 1, evidence named.
    let bad = w.join("bad-upstream");
    copy_dir(&origin_data.join("public"), &bad);
    assert!(size < 256);
    let bundle = bad.join(format!("tile/entries/000.p/{size}"));
    let mut b = std::fs::read(&bundle).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 1;
    std::fs::write(&bundle, b).unwrap();
    let m_bad = w.join("m-bad");
    let mut args = mirror_args(s(&bad), &m_bad, &manifest);
    args.push("--once");
    let r = tallyboard_in(w, &args);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("source-bad-data"), "{}", r.stderr);
    assert!(r.stderr.contains("evidence: "), "{}", r.stderr);

    // Nothing reachable: exit 2.
    let _ = terminate(server);
    let m_down = w.join("m-down");
    let mut args = mirror_args(&url, &m_down, &manifest);
    args.push("--once");
    let r = tallyboard_in(w, &args);
    assert_eq!(r.status, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("source-unreachable"), "{}", r.stderr);
}
