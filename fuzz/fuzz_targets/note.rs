//! `Note::parse` and `note::open` on arbitrary bytes.
//!
//! Asserts: a note we accept re-encodes to exactly the input bytes; the
//! independent `signed_note` crate accepts every note we accept, with the
//! same text and signature lines, and where it accepts a note we reject, our
//! reason is one of our documented extra rules; `open` with the known keys
//! never accepts a note that `signed_note` rejects (it verifies less strictly
//! than our `verify_strict`), and both name the same signers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::note::{self, Note, NoteError};
use tallyboard_fuzz::{known_ed25519_verifiers, signed_note_verifiers};

fuzz_target!(|data: &[u8]| {
    let ours = Note::parse(data);
    let theirs = signed_note::Note::from_bytes(data);
    match (&ours, &theirs) {
        (Ok(n), Ok(t)) => {
            assert_eq!(n.to_bytes().as_deref(), Ok(data), "re-encoding differs");
            assert_eq!(n.text().as_bytes(), t.text(), "texts differ");
            assert_eq!(t.to_bytes(), data, "signature lines differ");
        }
        (Ok(_), Err(e)) => panic!("accepted a note signed_note rejects ({e})"),
        (Err(e), Ok(_)) => assert!(
            match e {
                // Ours caps size and signature count lower...
                NoteError::TooLarge | NoteError::TooManySignatures => true,
                // ... and key names at 256 bytes without Unicode control
                // characters (U+007F..U+009F).
                NoteError::InvalidKeyName => has_stricter_name(data),
                _ => false,
            },
            "rejected ({e:?}) a note signed_note accepts"
        ),
        (Err(_), Err(_)) => {}
    }

    let keys = known_ed25519_verifiers();
    let opened = note::open(data, keys);
    if let Ok(v) = &opened {
        let list = signed_note_verifiers(keys);
        let verified = theirs.as_ref().ok().map(|t| t.verify(&list));
        let Some(Ok((theirs_ok, _))) = verified else {
            panic!("opened a note signed_note does not verify: {verified:?}");
        };
        let ours_signers: Vec<(&str, u32)> = v
            .signed_by
            .iter()
            .map(|s| (s.name.as_str(), s.key_id))
            .collect();
        let theirs_signers: Vec<(&str, u32)> =
            theirs_ok.iter().map(|s| (s.name(), s.id())).collect();
        assert_eq!(ours_signers, theirs_signers, "different signers");
        assert_eq!(v.note, *ours.as_ref().expect("open implies parse"));
    }
});

/// Whether a signature line's key name breaks only our extra name rules.
fn has_stricter_name(data: &[u8]) -> bool {
    let Ok(s) = core::str::from_utf8(data) else {
        return false;
    };
    let Some((_, block)) = s.rsplit_once("\n\n") else {
        return false;
    };
    block.lines().any(|l| {
        l.strip_prefix("\u{2014} ")
            .and_then(|l| l.split_once(' '))
            .is_some_and(|(name, _)| {
                name.len() > note::MAX_KEY_NAME_LEN || name.chars().any(char::is_control)
            })
    })
}
