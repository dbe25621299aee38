//! `Checkpoint::parse` on arbitrary text, and `open_checkpoint` /
//! `add_cosignature` on arbitrary signed notes.
//!
//! Asserts: a checkpoint text we accept re-encodes to exactly the input; the
//! independent `tlog_tiles` parser accepts it with the same origin, size,
//! root and extension lines, and where it accepts a text we reject, the only
//! reason is a control character (which C2SP signed-note forbids anywhere in
//! a note); an opened checkpoint is the note's text and meets the quorum; a
//! cosignature we add verifies and leaves the other signature lines as they
//! were.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::checkpoint::{Checkpoint, CheckpointError, add_cosignature, open_checkpoint};
use tallyboard_core::cosignature;
use tallyboard_core::note::{KeyKind, Note};
use tallyboard_fuzz::{FIXED_KEYS, known_verifiers, signer};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = core::str::from_utf8(data) {
        check_text(text);
    }
    check_note(data);
});

fn check_text(text: &str) {
    let ours = Checkpoint::parse(text);
    let theirs = tlog_tiles::Checkpoint::from_bytes(text.as_bytes());
    match (&ours, &theirs) {
        (Ok(cp), Ok(t)) => {
            assert_eq!(cp.to_text().as_deref(), Ok(text), "re-encoding differs");
            assert_eq!(cp.origin, t.origin());
            assert_eq!(cp.size, t.size());
            assert_eq!(cp.root.as_bytes(), &t.hash().0);
            let ext: String = cp.extensions.iter().map(|e| format!("{e}\n")).collect();
            assert_eq!(ext, t.extension());
        }
        (Ok(_), Err(_)) => panic!("accepted a checkpoint tlog_tiles rejects"),
        (Err(e), Ok(_)) => assert!(
            matches!(
                e,
                CheckpointError::BadOrigin | CheckpointError::BadExtension
            ) && text.bytes().any(|b| b < 0x20 && b != b'\n'),
            "rejected ({e:?}) a checkpoint tlog_tiles accepts"
        ),
        (Err(_), Err(_)) => {}
    }
}

fn check_note(data: &[u8]) {
    let keys = known_verifiers();
    let logs: Vec<_> = keys
        .iter()
        .filter(|k| k.kind() == KeyKind::Ed25519)
        .collect();
    let witnesses: Vec<_> = keys
        .iter()
        .filter(|k| k.kind() == KeyKind::CosignatureV1)
        .cloned()
        .collect();
    for log in logs {
        for quorum in [0, 1, 2] {
            if let Ok(opened) = open_checkpoint(data, log, &witnesses, quorum) {
                let note = Note::parse(data).expect("opened implies parsed");
                assert_eq!(opened.checkpoint.to_text().as_deref(), Ok(note.text()));
                assert_eq!(opened.checkpoint.origin, log.name());
                assert!(opened.cosignatures.len() >= quorum);
                assert_eq!(opened.note, data);
            }
        }
    }

    let Some(&(name, kind, seed)) = FIXED_KEYS.iter().find(|k| k.1 == KeyKind::CosignatureV1)
    else {
        return;
    };
    let Some(w) = signer(name, kind, seed) else {
        return;
    };
    let time = 1_700_000_000;
    if let Ok(out) = add_cosignature(data, &w, time) {
        let before = Note::parse(data).expect("cosigned implies parsed");
        let after = Note::parse(&out).expect("cosigned note parses");
        assert_eq!(before.text(), after.text());
        let (last, rest) = after.signatures().split_last().expect("has a signature");
        assert_eq!(
            cosignature::verify(after.text(), w.verifier(), last),
            Ok(time)
        );
        let kept: Vec<_> = before
            .signatures()
            .iter()
            .filter(|s| !(s.name == last.name && s.key_id == last.key_id))
            .cloned()
            .collect();
        assert_eq!(rest, kept.as_slice());
    }
}
