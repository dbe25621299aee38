#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Watch mode: the verifier follows a source over HTTP as its log grows,
//! checks each new checkpoint incrementally, and reports a fork as soon as
//! it appears.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::*;
use tallyboard_core::checkpoint::add_cosignature;
use tallyboard_core::manifest::SignedManifest;
use tallyboard_log::{Log, Options};
use tallyboard_testkit::example::{Figures, manifest_bytes, sign_every_tally, signed_manifest};
use tallyboard_verify::{Config, FindingCode, Verdict, WatchConfig, watch};

fn example_manifest() -> (Vec<u8>, SignedManifest) {
    (manifest_bytes(), signed_manifest())
}

/// One signed tally per (unit, contest) of the example election, signed by
/// the responsible centre's current key; `votes` goes to the first choice.
fn tallies(m: &SignedManifest, votes: u64) -> Vec<Vec<u8>> {
    sign_every_tally(m.manifest(), |_, contest, _| Figures {
        choices: contest
            .choices
            .iter()
            .enumerate()
            .map(|(i, ch)| (ch.id.clone(), if i == 0 { votes } else { 0 }))
            .collect(),
        blank: 0,
        invalid: 0,
        cast: votes,
        counted_at: 1_778_443_200,
    })
    .iter()
    .map(|t| t.to_bytes())
    .collect()
}

/// Appends `entries` to the log in `dir` and publishes a cosigned checkpoint
/// and the manifest.
fn publish(dir: &Path, entries: &[Vec<u8>], manifest: &[u8]) {
    let mut log = Log::open(dir, log_signer(), Options::default()).unwrap();
    let b = log.append(entries).unwrap();
    let w = signer("EXAMPLE-ONLY.witness-1.key");
    let note = add_cosignature(&b.checkpoint.note, &w, 1_778_443_300).unwrap();
    std::fs::write(dir.join("public/checkpoint"), note).unwrap();
    std::fs::write(dir.join("public/manifest"), manifest).unwrap();
}

/// Points the symlink `link` at `target`, atomically.
fn point(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

fn authority() -> tallyboard_core::PublicKey {
    example_manifest().1.manifest().authority
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_growing_log_and_reports_a_fork() {
    let (mbytes, m) = example_manifest();
    let all = tallies(&m, 3);
    let half = all.len() / 2;
    let total = all.len() as u64;
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // B: published at `half`, then at the full size; A: B after the first step.
    let b = w.join("b");
    publish(&b, &all[..half], &mbytes);
    let a = w.join("a");
    copy_dir(&b, &a);
    publish(&b, &all[half..], &mbytes);
    // F: a fork of A (different second half... and first half).
    let f = w.join("f");
    publish(&f, &tallies(&m, 4), &mbytes);

    let link = w.join("served");
    point(&link, &a.join("public"));
    let server = StaticServer::start(link.clone()).await;
    let url = server.url.clone();

    let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let report = {
        let sizes = Arc::clone(&sizes);
        let (link, bpub) = (link.clone(), b.join("public"));
        let url = url.clone();
        async move {
            let config = Config::new(authority(), vec![url]);
            let wc = WatchConfig {
                interval: Duration::from_millis(100),
                until_size: Some(total),
                stop: Arc::new(AtomicBool::new(false)),
            };
            let mut rounds = 0;
            watch(&config, &wc, |new, size| {
                assert!(
                    new.iter().all(|f| f.code != FindingCode::SplitView),
                    "{new:?}"
                );
                sizes.lock().unwrap().push(size);
                rounds += 1;
                if rounds == 2 {
                    // The log grows between polls.
                    point(&link, &bpub);
                }
                assert!(rounds < 100, "watch did not reach the full size");
            })
            .await
        }
        .await
    };
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.to_text());
    assert_eq!(report.log.entries_checked, total);
    let sizes = sizes.lock().unwrap().clone();
    assert_eq!(sizes.first(), Some(&(half as u64)), "{sizes:?}");
    assert_eq!(sizes.last(), Some(&total), "{sizes:?}");

    // Now the source switches to a fork: reported as a split view at once.
    point(&link, &a.join("public"));
    let report = {
        let (link, fpub) = (link.clone(), f.join("public"));
        async move {
            let config = Config::new(authority(), vec![url]);
            let stop = Arc::new(AtomicBool::new(false));
            let wc = WatchConfig {
                interval: Duration::from_millis(100),
                until_size: None,
                stop: Arc::clone(&stop),
            };
            let mut rounds = 0;
            watch(&config, &wc, |new, _| {
                rounds += 1;
                if rounds == 1 {
                    point(&link, &fpub);
                }
                if new.iter().any(|f| f.code == FindingCode::SplitView) || rounds > 50 {
                    stop.store(true, Ordering::SeqCst);
                }
            })
            .await
        }
        .await
    };
    assert_eq!(report.verdict, Verdict::Findings);
    assert_eq!(
        report.findings[0].code,
        FindingCode::SplitView,
        "{}",
        report.to_text()
    );
    server.stop().await;
}
