//! `tallyboard keygen` and the exit statuses of the command line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::tallyboard_in;
use tallyboard_core::note::{KeyKind, SignerKey, VerifierKey};

#[test]
fn keygen_writes_owner_only_private_key_and_prints_verifier_key() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(
        dir.path(),
        &["keygen", "--name", "centre-north", "--out", "c.key"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);

    let secret = std::fs::read_to_string(dir.path().join("c.key")).unwrap();
    assert!(secret.starts_with("PRIVATE+KEY+centre-north+"));
    assert!(secret.ends_with('\n'));
    let signer = SignerKey::parse(secret.trim_end()).unwrap();
    assert_eq!(signer.kind(), KeyKind::Ed25519);

    let printed = VerifierKey::parse(r.stdout.trim_end()).unwrap();
    assert_eq!(&printed, signer.verifier());
    let pub_file = std::fs::read_to_string(dir.path().join("c.key.pub")).unwrap();
    assert_eq!(pub_file, r.stdout);

    // The secret is nowhere in the output.
    // (The base64 itself may contain '+': cut at the fixed-length prefix.)
    let prefix = format!("PRIVATE+KEY+centre-north+{:08x}+", signer.key_id());
    let b64 = secret.trim_end().strip_prefix(&prefix).unwrap();
    assert_eq!(b64.len(), 44);
    assert!(!r.stdout.contains(b64) && !r.stderr.contains(b64));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("c.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn keygen_witness_key_has_cosignature_type() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(
        dir.path(),
        &["keygen", "--name", "w1.example", "--out", "w", "--witness"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let vk = VerifierKey::parse(r.stdout.trim_end()).unwrap();
    assert_eq!(vk.kind(), KeyKind::CosignatureV1);
    assert_eq!(vk.name(), "w1.example");
}

#[test]
fn keygen_refuses_to_overwrite_an_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = tallyboard_in(dir.path(), &["keygen", "--name", "a", "--out", "k"]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let before = std::fs::read(dir.path().join("k")).unwrap();

    let second = tallyboard_in(dir.path(), &["keygen", "--name", "b", "--out", "k"]);
    assert_eq!(second.status, 2);
    assert!(
        second.stderr.contains("already exists"),
        "{}",
        second.stderr
    );
    assert!(second.stdout.is_empty());
    assert_eq!(std::fs::read(dir.path().join("k")).unwrap(), before);
}

#[test]
fn keygen_refuses_when_only_the_public_file_exists() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pub"), "someone else's\n").unwrap();
    let r = tallyboard_in(dir.path(), &["keygen", "--name", "a", "--out", "k"]);
    assert_eq!(r.status, 2);
    assert!(!dir.path().join("k").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k.pub")).unwrap(),
        "someone else's\n"
    );
}

#[test]
fn keygen_rejects_an_invalid_key_name() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(dir.path(), &["keygen", "--name", "has space", "--out", "k"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("invalid key name"), "{}", r.stderr);
    assert!(!dir.path().join("k").exists());
}

#[test]
fn usage_errors_exit_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["keygen", "--name", "a"][..],
        &["no-such-command"][..],
        &["keygen", "--out", "k", "--name", "a", "--bogus"][..],
        &[][..],
    ] {
        let r = tallyboard_in(dir.path(), args);
        assert_eq!(r.status, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_documents_the_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["keygen", "--help"][..]] {
        let r = tallyboard_in(dir.path(), args);
        assert_eq!(r.status, 0);
        assert!(r.stdout.contains("Exit status:"), "{args:?}");
        assert!(r.stdout.contains("could not run"), "{args:?}");
    }
}
