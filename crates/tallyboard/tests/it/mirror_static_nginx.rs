//! A static mirror: a mirror's `public/` directory served by a real nginx,
//! read with the verifier's fetching code (`tallyboard_verify::source`,
//! `follow`), and followed by another mirror. nginx is installed by
//! `scripts/install-nginx.sh` when missing; the test fails, saying so,
//! when it cannot be installed (`scripts/test.sh` installs it).

use crate::mirror_fixtures::*;
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
