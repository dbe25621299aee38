#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The acceptance rules of signed notes and checkpoints, as a verifier sees them.

use tallyboard_core::checkpoint::{
    Checkpoint, CheckpointError, add_cosignature, open_checkpoint, sign_checkpoint,
};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::limits::{MAX_NOTE, MAX_NOTE_SIGNATURES};
use tallyboard_core::note::{self, KeyKind, NoteError, NoteSignature, SignerKey};

fn key(name: &str, kind: KeyKind, b: u8) -> SignerKey {
    SignerKey::new(name, kind, SecretKey::from_seed(&[b; 32])).unwrap()
}

const TEXT: &str = "hello\nworld\n";

#[test]
fn unknown_signatures_are_ignored_and_known_ones_reported() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let b = key("b.example", KeyKind::Ed25519, 2);
    let bytes = note::sign(TEXT, &[&a, &b]).unwrap();
    let opened = note::open(&bytes, &[b.verifier().clone()]).unwrap();
    assert_eq!(opened.signed_by.len(), 1);
    assert_eq!(opened.signed_by[0].name, "b.example");
    assert_eq!(opened.signed_by[0].verifier, 0);
}

#[test]
fn rejects_note_when_a_known_signature_fails() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let b = key("b.example", KeyKind::Ed25519, 2);
    let mut n = note::Note::new(TEXT).unwrap();
    n.sign(&a).unwrap();
    let good_b = note::sign_text(TEXT, &b).unwrap();
    let mut bad = good_b.clone();
    bad.signature[0] ^= 1;
    n.add_signature(bad).unwrap();
    let bytes = n.to_bytes().unwrap();
    let err = note::open(&bytes, &[a.verifier().clone(), b.verifier().clone()]).unwrap_err();
    assert_eq!(err.code(), "bad-signature");
    // Only `a` known: the bad signature of `b` is not looked at.
    assert!(note::open(&bytes, &[a.verifier().clone()]).is_ok());
}

#[test]
fn rejects_note_without_known_signature() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let b = key("b.example", KeyKind::Ed25519, 2);
    let bytes = note::sign(TEXT, &[&a]).unwrap();
    assert_eq!(
        note::open(&bytes, &[b.verifier().clone()]),
        Err(NoteError::NoKnownSignature)
    );
}

#[test]
fn same_name_other_key_is_unknown_not_bad() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let impostor = key("a.example", KeyKind::Ed25519, 9);
    let bytes = note::sign(TEXT, &[&impostor, &a]).unwrap();
    assert!(note::open(&bytes, &[a.verifier().clone()]).is_ok());
}

#[test]
fn accepts_sixteen_signatures_and_caps_the_count() {
    let keys: Vec<SignerKey> = (0..=MAX_NOTE_SIGNATURES as u8)
        .map(|i| key(&format!("k{i}.example"), KeyKind::Ed25519, i + 1))
        .collect();
    let sixteen: Vec<&SignerKey> = keys.iter().take(16).collect();
    let bytes = note::sign(TEXT, &sixteen).unwrap();
    let opened = note::open(&bytes, &[keys[15].verifier().clone()]).unwrap();
    assert_eq!(opened.note.signatures().len(), 16);

    // Build one line too many by hand (the encoder refuses to).
    let mut text = String::from(TEXT);
    text.push('\n');
    for k in &keys {
        text.push_str(&note::sign_text(TEXT, k).unwrap().to_line());
    }
    assert_eq!(
        note::Note::parse(text.as_bytes()),
        Err(NoteError::TooManySignatures)
    );
}

#[test]
fn rejects_oversized_and_malformed_notes() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let line = note::sign_text(TEXT, &a).unwrap().to_line();
    let big = format!("{}\n\n{line}", "x".repeat(MAX_NOTE));
    assert_eq!(note::Note::parse(big.as_bytes()), Err(NoteError::TooLarge));
    let cases: &[(&str, &str)] = &[
        ("hello\r\nworld\n\n", "control-character"),
        ("hello\nworld\n", "missing-blank-line"),
        ("hello\n\n", "no-signatures"),
        (
            "hello\n\n- a.example AAAAAAA=\n",
            "malformed-signature-line",
        ),
        (
            "hello\n\n\u{2014} a.example AAAAAAA=",
            "missing-final-newline",
        ),
        ("hello\n\n\u{2014} a+b AAAAAAA=\n", "invalid-key-name"),
        (
            "hello\n\n\u{2014} a.example AAAAAAB=\n",
            "non-canonical-base64",
        ),
        (
            "hello\n\n\u{2014} a.example AAAAAA==\n",
            "signature-too-short",
        ),
    ];
    for (text, code) in cases {
        assert_eq!(
            note::Note::parse(text.as_bytes()).unwrap_err().code(),
            *code,
            "{text:?}"
        );
    }
    assert_eq!(
        note::Note::parse(&[b'a', 0xff, b'\n']),
        Err(NoteError::NotUtf8)
    );
}

#[test]
fn duplicate_known_signature_is_rejected() {
    let a = key("a.example", KeyKind::Ed25519, 1);
    let line = note::sign_text(TEXT, &a).unwrap().to_line();
    let dup = format!("{TEXT}\n{line}{line}");
    assert_eq!(
        note::open(dup.as_bytes(), &[a.verifier().clone()])
            .unwrap_err()
            .code(),
        "duplicate-signature"
    );
}

fn log_and_witnesses() -> (SignerKey, Vec<SignerKey>) {
    let log = key("vote.example/log", KeyKind::Ed25519, 0x10);
    let w = (0..3)
        .map(|i| {
            key(
                &format!("w{i}.example"),
                KeyKind::CosignatureV1,
                0x20 + i as u8,
            )
        })
        .collect();
    (log, w)
}

#[test]
fn checkpoint_quorum_met_and_not_met() {
    let (log, w) = log_and_witnesses();
    let cp = Checkpoint::new("vote.example/log", 1000, Hash::sha256(b"root"));
    let mut bytes = sign_checkpoint(&cp, &log).unwrap();
    for (i, wk) in w.iter().take(2).enumerate() {
        bytes = add_cosignature(&bytes, wk, 1_700_000_000 + i as u64).unwrap();
    }
    let wv: Vec<_> = w.iter().map(|k| k.verifier().clone()).collect();
    let opened = open_checkpoint(&bytes, log.verifier(), &wv, 2).unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.note, bytes);
    let got: Vec<(String, u64)> = opened
        .cosignatures
        .iter()
        .map(|c| (c.name.clone(), c.timestamp))
        .collect();
    assert_eq!(
        got,
        vec![
            ("w0.example".to_owned(), 1_700_000_000),
            ("w1.example".to_owned(), 1_700_000_001)
        ]
    );
    assert_eq!(
        open_checkpoint(&bytes, log.verifier(), &wv, 3),
        Err(CheckpointError::QuorumNotMet { have: 2, need: 3 })
    );
    // Listing a witness twice does not count it twice.
    let twice = vec![wv[0].clone(), wv[0].clone()];
    assert_eq!(
        open_checkpoint(&bytes, log.verifier(), &twice, 2),
        Err(CheckpointError::QuorumNotMet { have: 1, need: 2 })
    );
}

#[test]
fn checkpoint_needs_the_log_signature_and_matching_origin() {
    let (log, w) = log_and_witnesses();
    let other_log = key("vote.example/log", KeyKind::Ed25519, 0x77);
    let cp = Checkpoint::new("vote.example/log", 5, Hash::sha256(b"root"));
    let bytes = sign_checkpoint(&cp, &other_log).unwrap();
    let bytes = add_cosignature(&bytes, &w[0], 1).unwrap();
    let wv = vec![w[0].verifier().clone()];
    assert_eq!(
        open_checkpoint(&bytes, log.verifier(), &wv, 1),
        Err(CheckpointError::MissingLogSignature)
    );
    let mislabelled = Checkpoint::new("vote.example/other", 5, Hash::sha256(b"root"));
    assert!(matches!(
        sign_checkpoint(&mislabelled, &log),
        Err(CheckpointError::OriginMismatch { .. })
    ));
}

#[test]
fn witness_plain_signature_does_not_count_as_cosignature() {
    let (log, w) = log_and_witnesses();
    let cp = Checkpoint::new("vote.example/log", 5, Hash::sha256(b"root"));
    let text = cp.to_text().unwrap();
    let mut n = note::Note::new(&text).unwrap();
    n.sign(&log).unwrap();
    // Same witness name and private key, but type 0x01: a different key id.
    let plain = SignerKey::new(w[0].name(), KeyKind::Ed25519, w[0].secret().clone()).unwrap();
    n.sign(&plain).unwrap();
    let bytes = n.to_bytes().unwrap();
    assert_eq!(
        open_checkpoint(&bytes, log.verifier(), &[w[0].verifier().clone()], 1),
        Err(CheckpointError::QuorumNotMet { have: 0, need: 1 })
    );
}

#[test]
fn cosignature_with_altered_timestamp_rejects_the_checkpoint() {
    let (log, w) = log_and_witnesses();
    let cp = Checkpoint::new("vote.example/log", 5, Hash::sha256(b"root"));
    let bytes = sign_checkpoint(&cp, &log).unwrap();
    let mut n = note::Note::parse(&add_cosignature(&bytes, &w[0], 100).unwrap()).unwrap();
    let mut sig: NoteSignature = n.signatures()[1].clone();
    sig.signature[7] = 101;
    n.add_signature(sig).unwrap();
    let bytes = n.to_bytes().unwrap();
    assert_eq!(
        open_checkpoint(&bytes, log.verifier(), &[w[0].verifier().clone()], 1)
            .unwrap_err()
            .code(),
        "bad-signature"
    );
}

#[test]
fn checkpoint_with_the_most_signatures_opens_and_counts_every_witness() {
    let log = key("vote.example/log", KeyKind::Ed25519, 0x10);
    let witnesses: Vec<SignerKey> = (0..MAX_NOTE_SIGNATURES - 1)
        .map(|i| {
            key(
                &format!("witness-{i:02}.observers.example.org"),
                KeyKind::CosignatureV1,
                0x40 + i as u8,
            )
        })
        .collect();
    let cp = Checkpoint::new("vote.example/log", 4_000_000, Hash::sha256(b"root"));
    let mut bytes = sign_checkpoint(&cp, &log).unwrap();
    for (i, w) in witnesses.iter().enumerate() {
        bytes = add_cosignature(&bytes, w, 1_700_000_000 + i as u64).unwrap();
    }
    assert!(bytes.len() <= MAX_NOTE);
    let wv: Vec<_> = witnesses.iter().map(|k| k.verifier().clone()).collect();
    let opened = open_checkpoint(&bytes, log.verifier(), &wv, wv.len()).unwrap();
    assert_eq!(opened.cosignatures.len(), MAX_NOTE_SIGNATURES - 1);
    // One more witness does not fit on the note.
    let extra = key("one-too-many.example", KeyKind::CosignatureV1, 0xee);
    assert!(matches!(
        add_cosignature(&bytes, &extra, 1),
        Err(CheckpointError::Note(NoteError::TooManySignatures))
    ));
}
