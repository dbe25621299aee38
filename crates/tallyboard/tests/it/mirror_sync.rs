//! Mirrors on loopback: an origin, a mirror of it and a mirror of that
//! mirror converge while tallies stream in; an upstream that alters an
//! entry or a tile, or forks its log, makes the mirror stop with evidence
//! that `tallyboard_verify::evidence` re-checks.

use crate::mirror_fixtures::*;
use tallyboard_core::checkpoint::{Checkpoint, sign_checkpoint};
use tallyboard_core::totals::SignedTotals;
use tallyboard_log::{Log, Options};
use tallyboard_mirror::{Mirror, Outcome};
use tallyboard_verify::FindingCode;
use tallyboard_verify::evidence::{Evidence, check};

fn synced(o: Outcome) -> u64 {
    match o {
        Outcome::Synced { size } => size,
        other => panic!("expected a sync, got {other:?}"),
    }
}

/// The evidence file a stopped mirror wrote, re-checked with the log key.
fn recheck(m: &Mirror, o: &Outcome) -> &'static str {
    let Outcome::Misbehaved(p) = o else {
        panic!("expected the mirror to stop, got {o:?}");
    };
    let file = p.evidence.as_ref().expect("an evidence file");
    let bytes = std::fs::read(m.public_dir().join("evidence").join(file)).unwrap();
    let e = Evidence::from_json(&bytes).unwrap();
    let proven = check(&e, &log_verifier()).unwrap();
    assert_eq!(proven.code, p.code.as_str());
    assert_eq!(m.status().state, "stopped");
    assert_eq!(m.status().problem.as_ref(), Some(p));
    proven.code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_of_a_mirror_converges_to_the_origin() {
    let origin = start_origin().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open_mirror(&origin.running.url, da.path(), 0);
    let a_http = serve_mirror(&a).await;
    let b = open_mirror(&a_http.url, db.path(), 0);
    let b_http = serve_mirror(&b).await;
    assert_eq!(b.status().state, "not-synced");
    let (s, _) = get(&format!("{}/checkpoint", b_http.url)).await;
    assert_eq!(s, 503, "nothing is served before the first sync");

    let tallies = all_tallies(5);
    let mut sent = 0;
    for round in tallies.chunks(tallies.len().div_ceil(3)) {
        submit(&origin.running.url, round).await;
        sent += round.len() as u64;
        assert_eq!(synced(a.sync_once().await), sent);
        assert_eq!(synced(b.sync_once().await), sent);
    }
    // Same checkpoint bytes, same tiles, same totals everywhere.
    let (_, cp) = get(&format!("{}/checkpoint", origin.running.url)).await;
    for url in [&a_http.url, &b_http.url] {
        let (s, body) = get(&format!("{url}/checkpoint")).await;
        assert_eq!((s, &body), (200, &cp));
        let (s, status) = get(&format!("{url}/status")).await;
        assert_eq!(s, 200);
        let v: serde_json::Value = serde_json::from_slice(&status).unwrap();
        assert_eq!(v["state"], "following");
        assert_eq!(v["size"], sent);
        assert_eq!(v["totals_size"], sent);
        assert!(v["problem"].is_null());
    }
    let origin_public = origin.dir.path().join("public");
    // Every tile a mirror holds is the origin's, byte for byte (the origin
    // also keeps the partial tiles of sizes the mirrors never saw).
    let of_origin = log_files(&origin_public);
    for m in [&a, &b] {
        let mine = log_files(m.public_dir());
        assert!(mine.len() > 3);
        for (path, bytes) in &mine {
            assert_eq!(of_origin.get(path), Some(bytes), "{path}");
        }
    }
    assert_eq!(log_files(a.public_dir()), log_files(b.public_dir()));
    let (_, totals) = get(&format!("{}/totals", origin.running.url)).await;
    let (_, tb) = get(&format!("{}/totals", b_http.url)).await;
    assert_eq!(tb, totals);
    let t = SignedTotals::from_bytes(&tb, log_verifier().public_key()).unwrap();
    assert_eq!(t.totals().checkpoint.size, sent);
    assert_eq!(
        std::fs::read(b.public_dir().join("totals")).unwrap(),
        totals
    );
    assert_eq!(
        std::fs::read(b.public_dir().join("manifest")).unwrap(),
        std::fs::read(example("manifest.signed")).unwrap()
    );
    // The unit views and the results page, from the mirror of the mirror.
    let unit = &signed_manifest().into_manifest().units[0].id.clone();
    pages_written(origin.server.read_api()).await;
    pages_written(a.read_api()).await;
    pages_written(b.read_api()).await;
    let (s, u) = get(&format!("{}/units/{unit}", b_http.url)).await;
    assert_eq!(s, 200);
    let (_, uo) = get(&format!("{}/units/{unit}", origin.running.url)).await;
    assert_eq!(u, uo, "the unit view is the origin's");
    let (s, page) = get(&format!("{}/", b_http.url)).await;
    assert_eq!(s, 200);
    // The mirror's `/` is the static file of its public/: nothing is
    // rendered per request.
    assert_eq!(
        std::fs::read(b.public_dir().join("index.html")).unwrap(),
        page
    );
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains(&format!("(log size {sent})")), "{page}");
    assert!(page.contains("Verified copy of"), "{page}");
    assert!(!page.contains("role=\"alert\""));
    // The same unit page on disk as on the origin: unit pages do not depend
    // on the checkpoint nor on who serves them, but for the mirror's line.
    let rel = format!("units/{unit}/unit.json");
    assert_eq!(
        std::fs::read(b.public_dir().join(&rel)).unwrap(),
        std::fs::read(origin.dir.path().join("public").join(&rel)).unwrap()
    );
    // Nothing new: still in step.
    assert_eq!(synced(b.sync_once().await), sent);
    b_http.stop().await;
    a_http.stop().await;
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_follows_a_streaming_origin() {
    let origin = start_origin().await;
    let da = tempfile::tempdir().unwrap();
    let a = open_mirror(&origin.running.url, da.path(), 0);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let a = a.clone();
        tokio::spawn(async move {
            a.run(async move {
                let _ = rx.await;
            })
            .await;
        })
    };
    let tallies = all_tallies(7);
    for round in tallies.chunks(10) {
        submit(&origin.running.url, round).await;
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let want = origin.server.reader().checkpoint();
    let mut converged = false;
    for _ in 0..200 {
        if a.read_api().reader().checkpoint().note == want.note {
            converged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(converged, "the mirror reached the origin's checkpoint");
    let _ = tx.send(());
    tokio::time::timeout(std::time::Duration::from_secs(10), runner)
        .await
        .unwrap()
        .unwrap();
    origin.running.stop().await;
}

/// A static copy of the origin's `public/` as an upstream (a directory).
async fn origin_with_tallies(n: usize) -> (Origin, tempfile::TempDir) {
    let origin = start_origin().await;
    let tallies = all_tallies(3);
    submit(&origin.running.url, &tallies[..n]).await;
    let copy = tempfile::tempdir().unwrap();
    replace_dir(&origin.dir.path().join("public"), copy.path());
    (origin, copy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_entry_stops_the_mirror_with_evidence() {
    let (origin, up) = origin_with_tallies(20).await;
    // Change one byte inside an entry of the bundle (a vote count).
    let bundle = up.path().join("tile/entries/000.p/20");
    let mut b = std::fs::read(&bundle).unwrap();
    let at = b.len() / 2;
    b[at] ^= 0x01;
    std::fs::write(&bundle, b).unwrap();
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    let o = m.sync_once().await;
    assert_eq!(recheck(&m, &o), "source-bad-data");
    assert_eq!(m.read_api().reader().checkpoint().size, 0, "nothing served");
    assert!(!dm.path().join("public/checkpoint").exists());
    // It stays stopped, across polls and restarts, and says so.
    assert!(matches!(m.sync_once().await, Outcome::Misbehaved(_)));
    let http = serve_mirror(&m).await;
    pages_written(m.read_api()).await;
    let (_, page) = get(&format!("{}/", http.url)).await;
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("/evidence/source-bad-data-"));
    // A public notice: no path of the mirror's machine.
    assert!(
        !page.contains(up.path().to_str().unwrap()) && !page.contains(dm.path().to_str().unwrap()),
        "{page}"
    );
    let file = m.status().evidence[0].clone();
    let (s, served) = get(&format!("{}/evidence/{file}", http.url)).await;
    assert_eq!(s, 200);
    assert_eq!(
        served,
        std::fs::read(m.public_dir().join("evidence").join(&file)).unwrap()
    );
    let (s, _) = get(&format!("{}/evidence/..%2Fcheckpoint", http.url)).await;
    assert_eq!(s, 404);
    http.stop().await;
    drop(m);
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    assert_eq!(m.status().state, "stopped");
    assert!(matches!(m.sync_once().await, Outcome::Misbehaved(_)));
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_tile_stops_the_mirror_with_evidence() {
    let (origin, up) = origin_with_tallies(20).await;
    let tile = up.path().join("tile/0/000.p/20");
    let mut t = std::fs::read(&tile).unwrap();
    t[5 * 32] ^= 0xff;
    std::fs::write(&tile, t).unwrap();
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    let o = m.sync_once().await;
    assert_eq!(recheck(&m, &o), "source-bad-data");
    assert_eq!(m.read_api().reader().checkpoint().size, 0);
    origin.running.stop().await;
}

/// A second log of the same tallies in another order, signed with the
/// example log key: a fork.
fn fork(entries: &[Vec<u8>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), log_signer(), Options::default()).unwrap();
    log.append(entries).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_checkpoint_is_kept_as_a_split_view() {
    let origin = start_origin().await;
    let tallies = all_tallies(4);
    submit(&origin.running.url, &tallies[..10]).await;
    let up = tempfile::tempdir().unwrap();
    replace_dir(&origin.dir.path().join("public"), up.path());
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    assert_eq!(synced(m.sync_once().await), 10);

    // The fork: the log's first 10 entries in reverse order, then 10 more.
    let reader = origin.server.reader();
    let mut entries: Vec<Vec<u8>> = (0..10).rev().map(|i| reader.entry(i).unwrap()).collect();
    entries.extend(tallies[10..20].iter().map(|t| t.to_bytes()));
    let f = fork(&entries);
    replace_dir(&f.path().join("public"), up.path());
    let o = m.sync_once().await;
    assert_eq!(recheck(&m, &o), "split-view");
    assert_eq!(
        m.read_api().reader().checkpoint().size,
        10,
        "did not advance"
    );
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_roots_for_one_size_are_a_split_view() {
    let (origin, up) = origin_with_tallies(12).await;
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    assert_eq!(synced(m.sync_once().await), 12);
    let reader = origin.server.reader();
    let entries: Vec<Vec<u8>> = (0..12).rev().map(|i| reader.entry(i).unwrap()).collect();
    let f = fork(&entries);
    replace_dir(&f.path().join("public"), up.path());
    let o = m.sync_once().await;
    assert_eq!(recheck(&m, &o), "split-view");
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_tally_in_the_log_stops_the_mirror() {
    let tallies = all_tallies(2);
    let mut entries: Vec<Vec<u8>> = tallies[..5].iter().map(|t| t.to_bytes()).collect();
    // The same tally twice is fine for the log (a duplicate) but breaks the
    // revision rules: a second first revision of one unit and contest.
    let again = all_tallies(9)[2].to_bytes();
    entries.push(again);
    let f = fork(&entries);
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(f.path().join("public").to_str().unwrap(), dm.path(), 0);
    match m.sync_once().await {
        Outcome::Misbehaved(p) => {
            assert_ne!(p.code, FindingCode::SplitView);
            assert!(p.message.contains("entry 5"), "{}", p.message);
            // The entry, proved to be in the signed log.
            let file = p.evidence.as_ref().expect("an evidence file");
            let bytes = std::fs::read(m.public_dir().join("evidence").join(file)).unwrap();
            let e = Evidence::from_json(&bytes).unwrap();
            assert_eq!(check(&e, &log_verifier()).unwrap().code, "log-entry");
            assert_eq!(e.entry_bytes().unwrap(), entries[5]);
        }
        other => panic!("expected the mirror to stop, got {other:?}"),
    }
    assert_eq!(m.read_api().reader().checkpoint().size, 0);
    assert_eq!(m.status().state, "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_without_the_required_cosignatures_is_not_served() {
    let (origin, up) = origin_with_tallies(5).await;
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 1);
    match m.sync_once().await {
        Outcome::CouldNotSync(p) => assert_eq!(p.code, FindingCode::QuorumNotMet),
        other => panic!("expected quorum-not-met, got {other:?}"),
    }
    assert_eq!(m.read_api().reader().checkpoint().size, 0);
    assert_eq!(m.status().state, "not-synced");
    // A checkpoint signed by another key is ignored, not evidence.
    let other = tallyboard_core::note::SignerKey::new(
        log_verifier().name(),
        tallyboard_core::note::KeyKind::Ed25519,
        tallyboard_core::SecretKey::from_seed(&[1; 32]),
    )
    .unwrap();
    let cp = origin.server.reader().checkpoint();
    let forged = sign_checkpoint(
        &Checkpoint::new(log_verifier().name(), cp.size, cp.root),
        &other,
    )
    .unwrap();
    std::fs::write(up.path().join("checkpoint"), forged).unwrap();
    let m0 = open_mirror(
        up.path().to_str().unwrap(),
        tempfile::tempdir().unwrap().path(),
        0,
    );
    match m0.sync_once().await {
        Outcome::CouldNotSync(p) => assert_eq!(p.code, FindingCode::CheckpointSignature),
        other => panic!("expected checkpoint-signature, got {other:?}"),
    }
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_mirror_resumes_and_never_goes_backwards() {
    let origin = start_origin().await;
    let tallies = all_tallies(6);
    submit(&origin.running.url, &tallies[..15]).await;
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(&origin.running.url, dm.path(), 0);
    assert_eq!(synced(m.sync_once().await), 15);
    let totals = std::fs::read(m.public_dir().join("totals")).unwrap();
    // A copy of the origin at this size, to play a stale upstream later.
    let old = tempfile::tempdir().unwrap();
    replace_dir(&origin.dir.path().join("public"), old.path());
    drop(m);
    let m = open_mirror(&origin.running.url, dm.path(), 0);
    assert_eq!(m.status().size, 15);
    assert_eq!(m.status().totals_size, Some(15));
    let http = serve_mirror(&m).await;
    assert_eq!(get(&format!("{}/totals", http.url)).await.1, totals);
    submit(&origin.running.url, &tallies[15..30]).await;
    assert_eq!(synced(m.sync_once().await), 30);
    http.stop().await;
    drop(m);
    // Pointed at the stale copy, it keeps its larger tree.
    let m = open_mirror(old.path().to_str().unwrap(), dm.path(), 0);
    match m.sync_once().await {
        Outcome::CouldNotSync(p) => assert_eq!(p.code, FindingCode::SourceStale),
        other => panic!("expected source-stale, got {other:?}"),
    }
    assert_eq!(m.read_api().reader().checkpoint().size, 30);
    origin.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosignatures_added_later_reach_the_mirror_and_its_quorum() {
    let (origin, up) = origin_with_tallies(8).await;
    let witness = signer("EXAMPLE-ONLY.witness-1.key");
    let plain = std::fs::read(up.path().join("checkpoint")).unwrap();
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(up.path().to_str().unwrap(), dm.path(), 0);
    assert_eq!(synced(m.sync_once().await), 8);
    assert!(m.status().cosignatures.is_empty());
    // The upstream now serves the same checkpoint cosigned by a witness.
    let cosigned =
        tallyboard_core::checkpoint::add_cosignature(&plain, &witness, 1_778_443_300).unwrap();
    std::fs::write(up.path().join("checkpoint"), &cosigned).unwrap();
    assert_eq!(synced(m.sync_once().await), 8);
    assert_eq!(m.read_api().reader().checkpoint().note, cosigned);
    assert_eq!(m.status().cosignatures, vec![witness.name().to_owned()]);
    assert_eq!(
        std::fs::read(m.public_dir().join("checkpoint")).unwrap(),
        cosigned
    );
    // A mirror of it that requires the manifest's quorum (1) follows it.
    let http = serve_mirror(&m).await;
    let d2 = tempfile::tempdir().unwrap();
    let strict = {
        let mut c = tallyboard_mirror::Config::new(&http.url, d2.path().to_path_buf());
        c.poll_interval = std::time::Duration::from_millis(50);
        Mirror::open(signed_manifest(), c).unwrap()
    };
    assert_eq!(synced(strict.sync_once().await), 8);
    assert_eq!(strict.read_api().reader().checkpoint().note, cosigned);
    // Going back to the plain note does not drop the cosignature.
    std::fs::write(up.path().join("checkpoint"), &plain).unwrap();
    assert_eq!(synced(m.sync_once().await), 8);
    assert_eq!(m.read_api().reader().checkpoint().note, cosigned);
    http.stop().await;
    origin.running.stop().await;
}

/// A log of many chunks: checked and stored chunk by chunk (each stored
/// while the next is checked); a bad signature deep in it is found and
/// nothing of the sync is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_log_is_checked_and_stored_chunk_by_chunk() {
    let signed = tallyboard_testkit::example::scaled_example(7_000);
    let m = signed.manifest();
    let key = signer("EXAMPLE-ONLY.centre-C-NORTH.key").secret().clone();
    let pk = key.public_key();
    let (_, ck) = m.key(&pk).unwrap();
    let mut entries = Vec::new();
    for u in &m.units {
        for contest in &u.contests {
            let c = m.contest(contest).unwrap();
            let choices: Vec<(String, u64)> =
                c.choices.iter().map(|ch| (ch.id.clone(), 4)).collect();
            let sum = 4 * choices.len() as u64 + 1;
            let t = tallyboard_core::tally::Tally::new(
                &m.election,
                contest,
                &u.id,
                choices,
                1,
                0,
                sum,
                ck.valid_from + 60,
                pk,
            );
            entries.push(t.sign(&key).to_bytes());
        }
    }
    let n = entries.len() as u64;
    assert!(n > 3 * 4096, "{n} entries");
    let honest = fork(&entries);
    let open = |up: &std::path::Path, dir: &std::path::Path| {
        let mut c = tallyboard_mirror::Config::new(up.to_str().unwrap(), dir.to_path_buf());
        c.quorum = Some(0);
        Mirror::open(signed.clone(), c).unwrap()
    };
    let dm = tempfile::tempdir().unwrap();
    let mirror = open(&honest.path().join("public"), dm.path());
    assert_eq!(synced(mirror.sync_once().await), n);
    assert_eq!(
        log_files(mirror.public_dir()),
        log_files(&honest.path().join("public"))
    );
    drop(mirror);
    // Restarted, it rebuilds its state from its copy and stays in step.
    let mirror = open(&honest.path().join("public"), dm.path());
    assert_eq!(synced(mirror.sync_once().await), n);

    // A bad signature at entry 9,000 (the log signed it all the same).
    let mut bad = entries.clone();
    let last = bad[9_000].len() - 1;
    bad[9_000][last] ^= 1;
    let forged = fork(&bad);
    let d2 = tempfile::tempdir().unwrap();
    let mirror = open(&forged.path().join("public"), d2.path());
    match mirror.sync_once().await {
        Outcome::Misbehaved(p) => {
            assert_eq!(p.code, FindingCode::BadSignature, "{p:?}");
            assert!(p.message.contains("entry 9000"), "{}", p.message);
        }
        other => panic!("expected bad-signature, got {other:?}"),
    }
    assert_eq!(mirror.read_api().reader().checkpoint().size, 0);
    assert!(
        !d2.path().join("public/tile/entries/000").exists(),
        "staged files removed"
    );
}

/// With two witnesses cosigning the origin's checkpoints, a mirror that
/// requires the manifest's quorum (1 of 2) and a mirror of it converge to
/// the origin's cosigned checkpoint while tallies stream in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirrors_converge_with_the_witnesses_cosignatures() {
    let (w1d, w2d) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let w1 = start_witness(1, w1d.path()).await;
    let w2 = start_witness(2, w2d.path()).await;
    let origin = start_origin_with(vec![w1.url.clone(), w2.url.clone()]).await;
    let open_default = |up: &str, dir: &std::path::Path| {
        let mut c = tallyboard_mirror::Config::new(up, dir.to_path_buf());
        c.poll_interval = std::time::Duration::from_millis(50);
        Mirror::open(signed_manifest(), c).unwrap()
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open_default(&origin.running.url, da.path());
    let a_http = serve_mirror(&a).await;
    let b = open_default(&a_http.url, db.path());
    let tallies = all_tallies(5);
    for round in tallies.chunks(tallies.len().div_ceil(3)) {
        submit(&origin.running.url, round).await;
        let _ = a.sync_once().await;
        let _ = b.sync_once().await;
    }
    // Cosignatures may be added to the origin's checkpoint after a commit:
    // poll until both mirrors hold its final note with both witnesses.
    let mut done = false;
    for _ in 0..200 {
        let want = origin.server.reader().checkpoint();
        let _ = a.sync_once().await;
        let _ = b.sync_once().await;
        if want.size == tallies.len() as u64
            && a.status().cosignatures.len() == 2
            && b.read_api().reader().checkpoint().note == want.note
            && a.read_api().reader().checkpoint().note == want.note
        {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        done,
        "mirrors did not converge: {:?} {:?}",
        a.status(),
        b.status()
    );
    let st = b.status();
    assert_eq!(st.state, "following");
    assert_eq!(st.size, tallies.len() as u64);
    let mut names = st.cosignatures.clone();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    a_http.stop().await;
    origin.running.stop().await;
    w1.stop().await;
    w2.stop().await;
}
