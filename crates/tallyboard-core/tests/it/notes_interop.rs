#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-checks of signed notes and key strings against the Go reference
//! implementation's published example, the C2SP spec example, and the
//! independent `signed_note` crate.

use ed25519_dalek::Signer as _;
use signed_note::{StandardSigner, StandardVerifier, Verifier as _, VerifierList};
use tallyboard_core::checkpoint::{Checkpoint, add_cosignature, open_checkpoint, sign_checkpoint};
use tallyboard_core::hash::Hash;
use tallyboard_core::keys::SecretKey;
use tallyboard_core::note::{self, KeyKind, SignerKey, VerifierKey};

// golang.org/x/mod/sumdb/note documentation example (key, text, signed note).
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// c2sp.org/signed-note "Verifier keys" example.
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

#[test]
fn go_reference_note_is_reproduced_byte_for_byte() {
    let signer = SignerKey::parse(GO_SKEY).unwrap();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_string(), GO_VKEY);
    assert_eq!(signer.to_secret_string().as_str(), GO_SKEY);
    let signed = note::sign(GO_TEXT, &[&signer]).unwrap();
    assert_eq!(String::from_utf8(signed).unwrap(), GO_NOTE);
    let vk = VerifierKey::parse(GO_VKEY).unwrap();
    let opened = note::open(GO_NOTE.as_bytes(), &[vk]).unwrap();
    assert_eq!(opened.text(), GO_TEXT);
    assert_eq!(opened.signed_by.len(), 1);
}

#[test]
fn c2sp_spec_example_opens() {
    let vk = VerifierKey::parse(SPEC_VKEY).unwrap();
    assert_eq!(vk.key_id(), 0x530d903a);
    assert_eq!(vk.to_string(), SPEC_VKEY);
    let opened = note::open(SPEC_NOTE.as_bytes(), &[vk]).unwrap();
    assert_eq!(opened.text(), "This is an example message.\n");
}

#[test]
fn go_note_with_altered_text_is_rejected() {
    let vk = VerifierKey::parse(GO_VKEY).unwrap();
    let altered = GO_NOTE.replace("answer", "answers");
    assert_eq!(
        note::open(altered.as_bytes(), &[vk]).unwrap_err().code(),
        "bad-signature"
    );
}

fn log_signer() -> SignerKey {
    SignerKey::new(
        "vote.example/log",
        KeyKind::Ed25519,
        SecretKey::from_seed(&[0x11; 32]),
    )
    .unwrap()
}

#[test]
fn our_notes_open_with_signed_note_crate() {
    let signer = log_signer();
    let cp = Checkpoint::new("vote.example/log", 42, Hash::sha256(b"root"));
    let bytes = sign_checkpoint(&cp, &signer).unwrap();
    let theirs = signed_note::Note::from_bytes(&bytes).unwrap();
    let v = StandardVerifier::new(&signer.verifier().to_string()).unwrap();
    assert_eq!(v.key_id(), signer.key_id());
    let list = VerifierList::new(vec![Box::new(v)]);
    let (verified, unverified) = theirs.verify(&list).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(unverified.is_empty());
    assert_eq!(theirs.text(), cp.to_text().unwrap().as_bytes());

    // A cosigned checkpoint still opens there: the cosignature is unknown to it.
    let w = SignerKey::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[0x22; 32]),
    )
    .unwrap();
    let cosigned = add_cosignature(&bytes, &w, 1_700_000_000).unwrap();
    let theirs = signed_note::Note::from_bytes(&cosigned).unwrap();
    let (verified, unverified) = theirs.verify(&list).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 1));
}

#[test]
fn signed_note_crate_notes_open_with_ours() {
    let signer = log_signer();
    let secret = signer.to_secret_string();
    let theirs = StandardSigner::new(&secret).unwrap();
    let cp = Checkpoint::new("vote.example/log", 7, Hash::sha256(b"r"));
    let text = cp.to_text().unwrap();
    let mut n = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&theirs]).unwrap();
    let bytes = n.to_bytes();
    let opened = open_checkpoint(&bytes, signer.verifier(), &[], 0).unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.note, bytes);
    // Same key, same text: Ed25519 is deterministic, so both encodings agree.
    assert_eq!(bytes, sign_checkpoint(&cp, &signer).unwrap());
}

// ---------------------------------------------------------------------------
// Checkpoints against the `tlog_tiles` crate (a port of the Go sumdb/tlog
// and Sunlight checkpoint code).

fn checkpoints() -> Vec<Checkpoint> {
    let mut with_ext = Checkpoint::new("vote.example/log", 4_194_304, Hash::sha256(b"e"));
    with_ext.extensions = vec!["ext one".into(), "ext-two".into()];
    vec![
        Checkpoint::new("vote.example/log", 0, Hash::EMPTY_TREE),
        Checkpoint::new("vote.example/log", 1, Hash::sha256(b"one")),
        Checkpoint::new("vote.example/log", u64::MAX, Hash::sha256(b"max")),
        with_ext,
    ]
}

#[test]
fn our_checkpoint_text_parses_identically_with_tlog_tiles() {
    for cp in checkpoints() {
        let text = cp.to_text().unwrap();
        let theirs = tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(theirs.origin(), cp.origin);
        assert_eq!(theirs.size(), cp.size);
        assert_eq!(theirs.hash().0, cp.root.0);
        let ext: String = cp.extensions.iter().map(|e| format!("{e}\n")).collect();
        assert_eq!(theirs.extension(), ext);
        assert_eq!(theirs.to_bytes(), text.as_bytes());
    }
}

#[test]
fn tlog_tiles_checkpoint_text_parses_identically_with_ours() {
    for cp in checkpoints() {
        let ext: String = cp.extensions.iter().map(|e| format!("{e}\n")).collect();
        let theirs =
            tlog_tiles::Checkpoint::new(&cp.origin, cp.size, tlog_tiles::Hash(cp.root.0), &ext)
                .unwrap();
        let bytes = theirs.to_bytes();
        let ours = Checkpoint::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(ours, cp);
    }
}

#[test]
fn malformed_checkpoint_texts_are_rejected_by_both() {
    let root = tlog_tiles::Hash(Hash::sha256(b"r").0).to_string();
    let short = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([0u8; 31])
    };
    let bad = [
        format!("o\n01\n{root}\n"),
        format!("o\n-1\n{root}\n"),
        format!("o\n+1\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n1\n{short}\n"),
        format!("o\n1\n{root}"),
        format!("\n1\n{root}\n"),
        format!("o\n1\n{root}\n\next\n"),
        "o\n1\n".to_string(),
    ];
    for text in &bad {
        assert!(Checkpoint::parse(text).is_err(), "ours accepted {text:?}");
        assert!(
            tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).is_err(),
            "tlog_tiles accepted {text:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// cosignature/v1 against an independent implementation written here from
// c2sp.org/tlog-cosignature, plugged into the `signed_note` crate.

/// A `signed_note` verifier for Ed25519 `cosignature/v1` keys, written from
/// the C2SP text with ed25519-dalek directly.
struct CosignatureV1Verifier {
    name: String,
    id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl CosignatureV1Verifier {
    fn new(name: &str, key: [u8; 32]) -> Self {
        let mut material = vec![0x04];
        material.extend_from_slice(&key);
        CosignatureV1Verifier {
            name: name.to_owned(),
            id: signed_note::key_id(name, &material),
            key: ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap(),
        }
    }
}

fn cosignature_v1_message(text: &[u8], time: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(text);
    m
}

impl signed_note::Verifier for CosignatureV1Verifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        if sig.len() != 72 {
            return false;
        }
        let time = u64::from_be_bytes(sig[..8].try_into().unwrap());
        let s = ed25519_dalek::Signature::from_slice(&sig[8..]).unwrap();
        self.key
            .verify_strict(&cosignature_v1_message(msg, time), &s)
            .is_ok()
    }
}

fn witness(i: u8) -> SignerKey {
    SignerKey::new(
        &format!("witness.example/w{i}"),
        KeyKind::CosignatureV1,
        SecretKey::from_seed(&[0x30 + i; 32]),
    )
    .unwrap()
}

#[test]
fn our_cosignatures_verify_with_an_independent_cosignature_v1_verifier() {
    let log = log_signer();
    let cp = Checkpoint::new("vote.example/log", 1000, Hash::sha256(b"root"));
    let mut bytes = sign_checkpoint(&cp, &log).unwrap();
    let ws: Vec<SignerKey> = (0..3).map(witness).collect();
    for (i, w) in ws.iter().enumerate() {
        bytes = add_cosignature(&bytes, w, 1_700_000_000 + i as u64).unwrap();
    }
    let mut list: Vec<Box<dyn signed_note::Verifier>> = vec![Box::new(
        StandardVerifier::new(&log.verifier().to_string()).unwrap(),
    )];
    for w in &ws {
        let v = CosignatureV1Verifier::new(w.name(), *w.verifier().public_key().as_bytes());
        // The key id both sides compute from name, type 0x04 and key.
        assert_eq!(v.id, w.key_id());
        list.push(Box::new(v));
    }
    let theirs = signed_note::Note::from_bytes(&bytes).unwrap();
    let (verified, unverified) = theirs.verify(&VerifierList::new(list)).unwrap();
    assert_eq!((verified.len(), unverified.len()), (4, 0));
    // The timestamp is the first 8 bytes, big-endian.
    assert_eq!(
        verified[2].signature()[..8],
        (1_700_000_001u64).to_be_bytes()
    );
}

#[test]
fn independently_made_cosignatures_open_with_ours() {
    let log = log_signer();
    let cp = Checkpoint::new("vote.example/log", 77, Hash::sha256(b"seventy-seven"));
    let text = cp.to_text().unwrap();
    let log_sig = ed25519_dalek::SigningKey::from_bytes(&[0x11; 32]).sign(text.as_bytes());
    let mut sigs = vec![
        signed_note::Signature::new(
            log.name().to_owned(),
            log.key_id(),
            log_sig.to_bytes().to_vec(),
        )
        .unwrap(),
    ];
    let ws: Vec<SignerKey> = (0..2).map(witness).collect();
    for (i, w) in ws.iter().enumerate() {
        let time = 1_800_000_000 + i as u64;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[0x30 + i as u8; 32]);
        let mut raw = time.to_be_bytes().to_vec();
        raw.extend_from_slice(
            &sk.sign(&cosignature_v1_message(text.as_bytes(), time))
                .to_bytes(),
        );
        sigs.push(signed_note::Signature::new(w.name().to_owned(), w.key_id(), raw).unwrap());
    }
    let bytes = signed_note::Note::new(text.as_bytes(), &sigs)
        .unwrap()
        .to_bytes();
    let wv: Vec<VerifierKey> = ws.iter().map(|w| w.verifier().clone()).collect();
    let opened = open_checkpoint(&bytes, log.verifier(), &wv, 2).unwrap();
    assert_eq!(opened.checkpoint, cp);
    let times: Vec<u64> = opened.cosignatures.iter().map(|c| c.timestamp).collect();
    assert_eq!(times, [1_800_000_000, 1_800_000_001]);
    // And ours, made from the same keys and times, is byte-identical.
    let mut ours = sign_checkpoint(&cp, &log).unwrap();
    for (i, w) in ws.iter().enumerate() {
        ours = add_cosignature(&ours, w, 1_800_000_000 + i as u64).unwrap();
    }
    assert_eq!(ours, bytes);
}
