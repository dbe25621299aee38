//! `tallyboard example` regenerates the committed `keys-example/` exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{repo_root, tallyboard_in};

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn regenerating_the_example_gives_the_committed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let r = tallyboard_in(dir.path(), &["example", "--out", "keys-example"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let fresh = files(&dir.path().join("keys-example"));
    let committed = files(&repo_root().join("keys-example"));
    let fresh_names: Vec<&String> = fresh.keys().collect();
    let committed_names: Vec<&String> = committed.keys().collect();
    assert_eq!(
        fresh_names, committed_names,
        "keys-example/ has other files than `tallyboard example` writes; \
         regenerate: cargo run -p tallyboard -- example --out keys-example --force"
    );
    for (name, bytes) in &fresh {
        assert!(
            committed[name] == *bytes,
            "keys-example/{name} differs from what `tallyboard example` writes; \
             regenerate: cargo run -p tallyboard -- example --out keys-example --force"
        );
    }
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
