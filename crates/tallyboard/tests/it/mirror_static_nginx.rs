//! A static mirror: a mirror's `public/` directory served by a real nginx,
//! read with the verifier's fetching code (`tallyboard_verify::source`,
//! `follow`), and followed by another mirror. nginx is installed by
//! `scripts/install-nginx.sh` when missing; the test fails, saying so,
//! when it cannot be installed (`scripts/test.sh` installs it).

use crate::mirror_fixtures::*;
use std::process::Command;
use std::time::Duration;
use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_mirror::Outcome;
use tallyboard_testkit::nginx::{nginx_binary, start_nginx};
use tallyboard_verify::follow::{FollowOptions, Item, Trusted, follow};
use tallyboard_verify::source::{HttpOptions, Source, http_client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_directory_served_by_nginx_is_a_mirror() {
    let Some(bin) = nginx_binary() else {
        panic!(
            "nginx is not installed and scripts/install-nginx.sh could not install it: run the tests with scripts/test.sh (as root on a fresh machine)"
        );
    };
    let origin = start_origin().await;
    let tallies = all_tallies(8);
    submit(&origin.running.url, &tallies).await;
    let dm = tempfile::tempdir().unwrap();
    let m = open_mirror(&origin.running.url, dm.path(), 0);
    let size = match m.sync_once().await {
        Outcome::Synced { size } => size,
        other => panic!("{other:?}"),
    };
    let work = tempfile::tempdir().unwrap();
    let nginx = start_nginx(&bin, work.path(), m.public_dir());

    // The verifier's fetching code reads the static copy.
    let client = http_client(&HttpOptions::default()).unwrap();
    let source = Source::http(&nginx.url, &client).unwrap();
    let note = source.checkpoint().await.unwrap();
    assert_eq!(note, m.read_api().reader().checkpoint().note);
    assert_eq!(
        source.manifest().await.unwrap(),
        std::fs::read(example("manifest.signed")).unwrap()
    );
    assert_eq!(
        source.totals().await.unwrap(),
        std::fs::read(m.public_dir().join("totals")).unwrap()
    );
    let key = log_verifier();
    let cp = open_checkpoint(&note, &key, &[], 0).unwrap();
    let mut entries = 0u64;
    let builder = follow(
        &source,
        &key,
        &Trusted::empty(),
        &cp,
        &FollowOptions::default(),
        |item| {
            if let Item::Entry { .. } = item {
                entries += 1;
            }
            Ok::<(), std::io::Error>(())
        },
    )
    .await
    .unwrap();
    assert_eq!((entries, builder.root()), (size, cp.checkpoint.root));

    // A mirror of the static mirror.
    let d2 = tempfile::tempdir().unwrap();
    let m2 = open_mirror(&nginx.url, d2.path(), 0);
    assert_eq!(m2.sync_once().await, Outcome::Synced { size });
    assert_eq!(m2.read_api().reader().checkpoint().note, note);
    assert_eq!(m2.status().totals_size, Some(size));
    drop(nginx);
    origin.running.stop().await;
}

/// GET `url` following redirects: status, final path, content type, body.
async fn fetch(url: &str) -> (u16, String, String, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let path = r.url().path().to_owned();
    let ct = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, path, ct, r.bytes().await.unwrap().to_vec())
}

/// `tallyboard exercise --data DIR` keeps a `public/` in the origin and in
/// both mirrors that a plain nginx serves as the complete results site: the
/// front page, a region, a unit through the contract path `/units/<id>`
/// (nginx redirects it to the unit's directory), the search page and its
/// index, the stylesheet; the unit's files are the same everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_exercise_is_a_complete_static_site_under_nginx() {
    let Some(bin) = nginx_binary() else {
        panic!(
            "nginx is not installed and scripts/install-nginx.sh could not install it: run the tests with scripts/test.sh (as root on a fresh machine)"
        );
    };
    let data = tempfile::tempdir().unwrap();
    let kept = data.path().join("night");
    let out = Command::new(env!("CARGO_BIN_EXE_tallyboard"))
        .arg("exercise")
        .arg("--data")
        .arg(&kept)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the exercise ran: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = tallyboard_core::manifest::SignedManifest::from_bytes(
        &std::fs::read(kept.join("election/manifest.signed")).unwrap(),
        None,
    )
    .unwrap()
    .into_manifest();
    let unit = &manifest.units[0];
    let region = manifest
        .regions
        .iter()
        .find(|r| r.parent.is_some())
        .unwrap();
    let key = tallyboard_read::site::search::normalise(&unit.id);
    let mut unit_json = Vec::new();
    for role in ["origin", "mirror-1", "mirror-2"] {
        let work = tempfile::tempdir().unwrap();
        let public = kept.join(role).join("public");
        let nginx = start_nginx(&bin, work.path(), &public);
        let u = &nginx.url;

        let (s, path, ct, body) = fetch(&format!("{u}/")).await;
        assert_eq!(
            (s, path.as_str(), ct.as_str()),
            (200, "/", "text/html"),
            "{role}"
        );
        let front = String::from_utf8(body).unwrap();
        assert!(front.contains("<body data-tb-page=\"front\">"), "{role}");
        assert!(front.contains("data-tb-fig=\""), "{role}: signed figures");
        assert!(
            front.contains("<strong class=\"mark\">(leading)</strong>")
                || front.contains("<strong class=\"mark\">(winner)</strong>"),
            "{role}: the leader marked\n{front}"
        );
        if role != "origin" {
            assert!(front.contains("Verified copy of"), "{role}");
        }

        let (s, _, _, body) = fetch(&format!("{u}/regions/{}/", region.id)).await;
        assert_eq!(s, 200, "{role}: region {}", region.id);
        let page = String::from_utf8(body).unwrap();
        assert!(
            page.contains(&format!("data-tb-region=\"{}\"", region.id)),
            "{role}"
        );

        let (s, path, _, body) = fetch(&format!("{u}/units/{}", unit.id)).await;
        assert_eq!(
            (s, path.clone()),
            (200, format!("/units/{}/", unit.id)),
            "{role}"
        );
        let page = String::from_utf8(body).unwrap();
        assert!(
            page.contains(&format!("data-tb-unit=\"{}\"", unit.id)),
            "{role}"
        );
        assert!(
            page.contains("data-tb-entry=\""),
            "{role}: the unit's tallies"
        );

        let (s, _, _, body) = fetch(&format!("{u}/search.html")).await;
        assert_eq!(s, 200, "{role}");
        let page = String::from_utf8(body).unwrap();
        let shards: u32 = page
            .split("data-tb-shards=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let shard = tallyboard_read::site::search::shard_file(&key, shards);
        let (s, _, _, body) = fetch(&format!("{u}/{shard}")).await;
        assert_eq!(s, 200, "{role}: {shard}");
        let index: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(index[&key][0][0], unit.id.as_str(), "{role}: found by id");

        let (s, _, ct, _) = fetch(&format!("{u}/site/style.css")).await;
        assert_eq!((s, ct.as_str()), (200, "text/css"), "{role}");
        let (s, _, _, body) = fetch(&format!("{u}/units/{}/unit.json", unit.id)).await;
        assert_eq!(s, 200, "{role}");
        if unit_json.is_empty() {
            unit_json = body;
        } else {
            assert_eq!(body, unit_json, "{role}: the same unit files as the origin");
        }
        drop(nginx);
    }
}
