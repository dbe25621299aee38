//! `tallyboard example` regenerates the committed `keys-example/` exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tallyboard_testkit::fs::files;
use tallyboard_testkit::vectors::regenerate_and_compare;

use crate::common::{repo_root, tallyboard_in};

#[test]
fn regenerating_the_example_gives_the_committed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(dir.path(), &["example", "--out", "keys-example"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let fresh = files(&dir.path().join("keys-example"));
    let problems =
        regenerate_and_compare(&repo_root().join("keys-example"), &fresh, |_| true, false);
    assert!(
        problems.is_empty(),
        "keys-example/ is not what `tallyboard example` writes; \
         regenerate: cargo run -p tallyboard -- example --out keys-example --force\n{}",
        problems.join("\n")
    );
}

#[test]
fn example_keys_and_readme_say_example_only() {
    let root = repo_root().join("keys-example");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.starts_with("# keys-example: EXAMPLE ONLY — NOT FOR REAL ELECTIONS"));
    let keys = files(&root.join("keys"));
    assert!(keys.len() >= 2 * 9);
    for (name, content) in keys {
        assert!(name.starts_with("EXAMPLE-ONLY."), "{name}");
        let text = String::from_utf8(content).unwrap();
        assert!(
            text.contains("EXAMPLE-ONLY"),
            "{name}: key name must say EXAMPLE-ONLY"
        );
    }
}

#[test]
fn example_refuses_a_non_empty_directory_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let r = tallyboard_in(dir.path(), &["example", "--out", "."]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert!(!dir.path().join("manifest.signed").exists());

    let r = tallyboard_in(dir.path(), &["example", "--out", ".", "--force"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(dir.path().join("manifest.signed").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}
