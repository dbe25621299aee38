#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cosignatures after the commit point: the cosigner's lines are on the
//! published checkpoint and the receipts, the log's signed text never
//! changes, late cosignatures are added only to the checkpoint they cosign,
//! and recovery accepts a checkpoint with cosignature lines.

use std::sync::{Arc, Mutex};

use crate::common::*;
use tallyboard_core::SecretKey;
use tallyboard_core::checkpoint::{add_cosignature, open_checkpoint};
use tallyboard_core::cosignature;
use tallyboard_core::note::{KeyKind, Note, NoteSignature, SignerKey};
use tallyboard_log::{Cosigner, Log, LogReader, Options, SignedCheckpoint};

fn witness(n: u8) -> SignerKey {
    SignerKey::new(
        &format!("witness.example/w{n}"),
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[n; 32]),
    )
    .unwrap()
}

/// Cosigns with witness 1, after checking that the checkpoint it is asked
/// about is durable on disk and readable through `reader`.
struct TestCosigner {
    seen: Mutex<Vec<u64>>,
}

impl Cosigner for TestCosigner {
    fn cosign(&self, cp: &SignedCheckpoint, reader: &LogReader) -> Vec<NoteSignature> {
        // The commit point has passed: the file on disk is this checkpoint.
        let on_disk = std::fs::read(reader.public_dir().join("checkpoint")).unwrap();
        assert_eq!(on_disk, cp.note);
        // Proofs up to the new size work through the pinned reader.
        if cp.size > 1 {
            reader.prove_consistency(1, cp.size).unwrap();
        }
        self.seen.lock().unwrap().push(cp.size);
        let text = Note::parse(&cp.note).unwrap().text().to_owned();
        vec![cosignature::cosign(&text, &witness(1), 1_780_000_000 + cp.size).unwrap()]
    }
}

#[test]
fn cosignatures_are_published_added_late_and_survive_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let c = Arc::new(TestCosigner {
        seen: Mutex::new(Vec::new()),
    });
    let opts = Options {
        cosigner: Some(c.clone()),
        ..Options::default()
    };
    let w = [witness(1).verifier().clone(), witness(2).verifier().clone()];
    let mut log = Log::open(dir.path(), signer(), opts.clone()).unwrap();
    let publisher = log.publisher();
    let b = log.append(&[entry(1), entry(2)]).unwrap();
    let b2 = log.append(&[entry(3)]).unwrap();
    assert_eq!(*c.seen.lock().unwrap(), vec![2, 3]);
    // Receipts and readers get the cosigned checkpoint (quorum 1 of 2).
    for cp in [&b.checkpoint, &b2.checkpoint] {
        open_checkpoint(&cp.note, signer().verifier(), &w, 1).unwrap();
    }
    let published = log.reader().checkpoint();
    assert_eq!(published.note, b2.checkpoint.note);
    assert_eq!(
        std::fs::read(dir.path().join("public/checkpoint")).unwrap(),
        published.note
    );

    // A late cosignature for an older checkpoint is not added.
    let old_text = Note::parse(&b.checkpoint.note).unwrap().text().to_owned();
    let late_old = cosignature::cosign(&old_text, &witness(2), 1_780_000_100).unwrap();
    assert!(
        !publisher
            .add_cosignatures(b.checkpoint.size, b.checkpoint.root, &[late_old])
            .unwrap()
    );
    // One for the published checkpoint is, keeping the text and the
    // log's signature.
    let text = Note::parse(&published.note).unwrap().text().to_owned();
    let late = cosignature::cosign(&text, &witness(2), 1_780_000_200).unwrap();
    assert!(
        publisher
            .add_cosignatures(published.size, published.root, std::slice::from_ref(&late))
            .unwrap()
    );
    // The same line again changes nothing.
    assert!(
        !publisher
            .add_cosignatures(published.size, published.root, &[late])
            .unwrap()
    );
    let now = log.reader().checkpoint();
    let opened = open_checkpoint(&now.note, signer().verifier(), &w, 2).unwrap();
    assert_eq!(Note::parse(&now.note).unwrap().text(), text);
    assert_eq!(opened.cosignatures.len(), 2);
    assert_eq!(
        std::fs::read(dir.path().join("public/checkpoint")).unwrap(),
        now.note
    );

    // Recovery accepts the cosigned checkpoint as it is.
    drop(log);
    assert!(
        !publisher.add_cosignatures(now.size, now.root, &[]).unwrap(),
        "a closed log is not written"
    );
    let mut log = Log::open(dir.path(), signer(), opts).unwrap();
    assert_eq!(log.reader().checkpoint().note, now.note);
    let b3 = log.append(&[entry(4)]).unwrap();
    assert_eq!(b3.checkpoint.size, 4);
    open_checkpoint(&b3.checkpoint.note, signer().verifier(), &w, 1).unwrap();
}

#[test]
fn a_log_without_cosigner_recovers_a_cosigned_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), signer(), Options::default()).unwrap();
    let b = log.append(&[entry(1)]).unwrap();
    drop(log);
    // As if the server had added two cosignatures before a crash.
    let n = add_cosignature(&b.checkpoint.note, &witness(1), 1_780_000_000).unwrap();
    let n = add_cosignature(&n, &witness(2), 1_780_000_001).unwrap();
    std::fs::write(dir.path().join("public/checkpoint"), &n).unwrap();
    let mut log = Log::open(dir.path(), signer(), Options::default()).unwrap();
    assert_eq!(log.reader().checkpoint().note, n);
    assert_eq!(log.append(&[entry(2)]).unwrap().checkpoint.size, 2);
}
