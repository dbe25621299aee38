#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Milestone-1 behaviour: sources (local directory, HTTP), incremental
//! follow with recomputed tiles, detection of tampered data and split views
//! with evidence that `evidence::check` re-verifies.

use std::collections::BTreeMap;
use std::convert::Infallible;

use crate::common::*;
use tallyboard_core::tile::{TileId, TilePath};
use tallyboard_verify::evidence::{Evidence, EvidenceBody, EvidenceError, check};
use tallyboard_verify::follow::{
    Consistency, FollowError, FollowOptions, Item, Trusted, check_consistency, follow,
};
use tallyboard_verify::source::{FetchError, HttpOptions, Source, http_client};

#[derive(Default)]
struct Collected {
    entries: Vec<(u64, Vec<u8>)>,
    bundles: Vec<String>,
    tiles: BTreeMap<String, Vec<u8>>,
}

async fn run_follow(
    source: &Source,
    trusted: &Trusted,
    note: &[u8],
) -> (
    Result<tallyboard_core::tile::TileBuilder, FollowError<Infallible>>,
    Collected,
) {
    let mut c = Collected::default();
    let to = open(note);
    let r = follow(
        source,
        &log_key(),
        trusted,
        &to,
        &FollowOptions { concurrency: 3 },
        |item| {
            match item {
                Item::Entry { index, bytes } => c.entries.push((index, bytes.to_vec())),
                Item::Bundle { id, .. } => c.bundles.push(id.path()),
                Item::Tile { id, tile } => {
                    c.tiles.insert(id.path(), tile.to_bytes());
                }
            }
            Ok::<(), Infallible>(())
        },
    )
    .await;
    (r, c)
}

fn assert_send<T: Send>(_: &T) {}

/// The evidence of a follow that must have found bad data.
fn bad_data<T: std::fmt::Debug>(r: Result<T, FollowError<Infallible>>) -> Box<Evidence> {
    match r {
        Err(FollowError::BadData(ev)) => ev,
        other => panic!("expected bad data, got {other:?}"),
    }
}

#[tokio::test]
async fn follows_a_local_copy_from_empty_and_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let notes = build_log(dir.path(), &[100, 300, 70_000 / 100], "a");
    let public = dir.path().join("public");
    let source = Source::dir(&public);

    // From the empty tree to the checkpoint of size 700.
    let (r, c) = run_follow(&source, &Trusted::empty(), &notes[2]).await;
    let builder = r.unwrap();
    assert_eq!(builder.size(), 700);
    assert_eq!(builder.root(), open(&notes[2]).checkpoint.root);
    let want: Vec<(u64, Vec<u8>)> = (0..700).map(|i| (i, entry(i, "a"))).collect();
    assert_eq!(c.entries, want, "every entry, once, in log order");
    assert_eq!(
        c.bundles,
        [
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002.p/188"
        ]
    );
    // Every recomputed tile is byte for byte the tile the log wrote.
    for (path, bytes) in &c.tiles {
        assert_eq!(&std::fs::read(public.join(path)).unwrap(), bytes, "{path}");
    }
    assert!(c.tiles.contains_key("tile/0/002.p/188"));
    assert!(c.tiles.contains_key("tile/1/000.p/2"));

    // Incrementally: trust the tree of size 300 (the state after a first
    // follow), then follow to 700; only entries 300.. are handed over and
    // the result is the same tree.
    let (r, _) = run_follow(&source, &Trusted::empty(), &notes[1]).await;
    // A checkpoint older than the directory's latest is still followable:
    // partial bundles of every published size are kept.
    let b300 = r.unwrap();
    let trusted = Trusted {
        builder: b300,
        checkpoint: Some((source.label().to_owned(), open(&notes[1]))),
    };
    let (key, cp, opts) = (log_key(), open(&notes[2]), FollowOptions::default());
    let fut = follow(&source, &key, &trusted, &cp, &opts, |_| {
        Ok::<(), Infallible>(())
    });
    assert_send(&fut);
    let b700 = fut.await.unwrap();
    assert_eq!(b700, builder);
    let (r, c) = run_follow(&source, &trusted, &notes[2]).await;
    assert_eq!(r.unwrap(), builder);
    assert_eq!(c.entries.first().map(|e| e.0), Some(300));
    assert_eq!(c.entries.len(), 400);
    assert_eq!(
        c.bundles[0], "tile/entries/001",
        "the bundle holding entry 300"
    );

    // Same size, same root: nothing to do.
    let t700 = Trusted {
        builder: builder.clone(),
        checkpoint: None,
    };
    let (r, c) = run_follow(&source, &t700, &notes[2]).await;
    assert_eq!(r.unwrap(), builder);
    assert!(c.entries.is_empty());
    // Going back is refused as "behind".
    let (r, _) = run_follow(&source, &t700, &notes[0]).await;
    assert!(
        matches!(
            r,
            Err(FollowError::Behind {
                trusted: 700,
                got: 100,
                ..
            })
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn follows_over_http_and_names_http_failures() {
    let dir = tempfile::tempdir().unwrap();
    let notes = build_log(dir.path(), &[513], "h");
    let public = dir.path().join("public");
    let server = StaticServer::start(public.clone()).await;
    let client = http_client(&HttpOptions::default()).unwrap();
    let source = Source::parse(&server.url, &client).unwrap();
    assert!(!source.is_local());

    assert_eq!(source.checkpoint().await.unwrap(), notes[0]);
    let (r, c) = run_follow(&source, &Trusted::empty(), &notes[0]).await;
    assert_eq!(r.unwrap().root(), open(&notes[0]).checkpoint.root);
    assert_eq!(c.entries.len(), 513);

    // A partial tile no longer served is read from the full tile (C2SP).
    let t = TileId::new(0, 0, 10).unwrap();
    let full = std::fs::read(public.join("tile/0/000")).unwrap();
    assert_eq!(source.tile(t).await.unwrap(), full[..320].to_vec());

    // 404 names the URL.
    let err = source.get("no-such-file", 10).await.unwrap_err();
    assert_eq!(
        err,
        FetchError::NotFound {
            url: format!("{}/no-such-file", server.url)
        }
    );
    // Too large: the manifest cap is big, the checkpoint's is 16 KiB.
    std::fs::write(public.join("checkpoint"), vec![b'a'; 20_000]).unwrap();
    let err = source.checkpoint().await.unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { cap: 16_384, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("/checkpoint"));

    server.stop().await;
    // The server is gone: unreachable, naming the URL.
    let err = source.checkpoint().await.unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("{}/checkpoint", source.label())),
        "{err}"
    );
}

#[tokio::test]
async fn a_tampered_bundle_is_named_with_evidence_anyone_can_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let notes = build_log(dir.path(), &[600], "t");
    let public = dir.path().join("public");
    // Alter one byte of entry 261 (bundle 1, entry 5) in the served copy.
    let path = public.join("tile/entries/001");
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"entry 261 t";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let original = bytes[at + 6];
    bytes[at + 6] = b'9';
    std::fs::write(&path, &bytes).unwrap();

    let source = Source::dir(&public);
    let (r, _) = run_follow(&source, &Trusted::empty(), &notes[0]).await;
    let ev = bad_data(r);
    let EvidenceBody::BadData(bd) = &ev.body else {
        panic!()
    };
    assert_eq!(bd.served.path, "tile/entries/001");
    assert!(
        bd.served_from.ends_with("public/tile/entries/001"),
        "{}",
        bd.served_from
    );
    assert!(ev.summary.contains("tile/entries/001"), "{}", ev.summary);
    assert!(ev.summary.contains("leaf index 261"), "{}", ev.summary);

    // The file round-trips and proves the fault to a third party.
    let json = ev.to_json();
    let back = Evidence::from_json(&json).unwrap();
    assert_eq!(&back, ev.as_ref());
    let proven = check(&back, &log_key()).unwrap();
    assert_eq!(proven.code, "source-bad-data");
    assert!(
        proven.statement.contains("leaf 261"),
        "{}",
        proven.statement
    );
    let out = tempfile::tempdir().unwrap();
    let name = back.write_to_dir(out.path()).unwrap();
    assert!(name.starts_with("source-bad-data-") && name.ends_with(".json"));
    assert_eq!(std::fs::read(out.path().join(&name)).unwrap(), json);

    // Evidence with the genuine bundle in place proves nothing.
    let mut honest = back.clone();
    if let EvidenceBody::BadData(b) = &mut honest.body {
        use base64::Engine as _;
        bytes[at + 6] = original;
        b.served.data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    }
    assert!(matches!(
        check(&honest, &log_key()),
        Err(EvidenceError::NotProven(_))
    ));
    // Nor does evidence under another log key.
    let other = signer("EXAMPLE-ONLY.witness-1.key");
    let other_key = tallyboard_core::note::VerifierKey::new(
        log_key().name(),
        tallyboard_core::note::KeyKind::Ed25519,
        *other.verifier().public_key(),
    )
    .unwrap();
    assert!(matches!(
        check(&back, &other_key),
        Err(EvidenceError::BadCheckpoint { .. })
    ));
}

#[tokio::test]
async fn tiles_that_do_not_hash_to_the_checkpoint_are_bad_data() {
    let dir = tempfile::tempdir().unwrap();
    let notes = build_log(dir.path(), &[300], "u");
    let public = dir.path().join("public");
    // Replace entry 3 and, consistently, its leaf hash in tile/0/000: the
    // bundle matches its tile but the tile no longer hashes to the root.
    let bpath = public.join("tile/entries/000");
    let mut b =
        tallyboard_core::tile::EntryBundle::from_bytes(&std::fs::read(&bpath).unwrap(), 256)
            .unwrap()
            .entries()
            .to_vec();
    b[3] = b"forged entry".to_vec();
    let bundle = tallyboard_core::tile::EntryBundle::new(b).unwrap();
    std::fs::write(&bpath, bundle.to_bytes()).unwrap();
    let tpath = public.join("tile/0/000");
    std::fs::write(
        &tpath,
        tallyboard_core::tile::HashTile::new(bundle.leaf_hashes())
            .unwrap()
            .to_bytes(),
    )
    .unwrap();

    let source = Source::dir(&public);
    let (r, _) = run_follow(&source, &Trusted::empty(), &notes[0]).await;
    let ev = bad_data(r);
    let EvidenceBody::BadData(bd) = &ev.body else {
        panic!()
    };
    assert!(
        matches!(TilePath::parse(&bd.served.path), Ok(TilePath::Hashes(_))),
        "{}",
        bd.served.path
    );
    let proven = check(&ev, &log_key()).unwrap();
    assert_eq!(proven.code, "source-bad-data");
}

#[tokio::test]
async fn a_forked_log_is_a_split_view_with_signed_evidence() {
    // Two logs under the same key: the first 100 entries differ.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let na = build_log(a.path(), &[100, 200], "honest");
    let nb = build_log(b.path(), &[100, 300], "forked");
    let sa = Source::dir(&a.path().join("public"));
    let sb = Source::dir(&b.path().join("public"));

    // A mirror trusting A's tree of 100 follows B to 300.
    let (r, _) = run_follow(&sa, &Trusted::empty(), &na[0]).await;
    let trusted = Trusted {
        builder: r.unwrap(),
        checkpoint: Some((sa.label().to_owned(), open(&na[0]))),
    };
    let (r, c) = run_follow(&sb, &trusted, &nb[1]).await;
    let ev = match r {
        Err(FollowError::SplitView(ev)) => ev,
        other => panic!("expected split view, got {other:?}"),
    };
    assert!(c.entries.is_empty() || c.entries[0].0 >= 100);
    let proven = check(&ev, &log_key()).unwrap();
    assert_eq!(proven.code, "split-view");
    let EvidenceBody::SplitView(sv) = &ev.body else {
        panic!()
    };
    assert_eq!(sv.first.note.as_bytes(), na[0].as_slice());
    assert_eq!(sv.second.note.as_bytes(), nb[1].as_slice());
    assert!(sv.implied_root.is_some() && !sv.consistency_proof.is_empty());

    // Pairwise check of two checkpoints, both directions of size.
    match check_consistency(&log_key(), (sa.label(), &open(&na[1])), &sb, &open(&nb[1]))
        .await
        .unwrap()
    {
        Consistency::SplitView(ev) => {
            assert_eq!(check(&ev, &log_key()).unwrap().code, "split-view")
        }
        Consistency::Consistent => panic!("forked logs reported consistent"),
    }
    // Same size, different roots.
    match check_consistency(&log_key(), (sa.label(), &open(&na[0])), &sb, &open(&nb[0]))
        .await
        .unwrap()
    {
        Consistency::SplitView(ev) => {
            let p = check(&ev, &log_key()).unwrap();
            assert!(
                p.statement.contains("two different roots"),
                "{}",
                p.statement
            );
        }
        Consistency::Consistent => panic!(),
    }
    // The honest log is consistent with itself.
    assert!(matches!(
        check_consistency(&log_key(), (sa.label(), &open(&na[0])), &sa, &open(&na[1]))
            .await
            .unwrap(),
        Consistency::Consistent
    ));
    // Swapping the implied root for the true one proves nothing.
    let mut ev2 = (*ev).clone();
    if let EvidenceBody::SplitView(sv) = &mut ev2.body {
        sv.implied_root = Some(open(&na[0]).checkpoint.root.to_hex());
    }
    assert!(matches!(
        check(&ev2, &log_key()),
        Err(EvidenceError::NotProven(_))
    ));
}
