//! No private key material in any output: every argument that takes a key
//! (verifier keys: `--authority` of every command, `witness --log`;
//! private key files: `--key`, `--log-key`, `--witness-key`,
//! `--authority-key`; the keys of the manifest input files) is given a
//! private key, as its string or as its file, and neither stdout nor
//! stderr (with debug logging on) may contain it, whole or in part.

use std::path::Path;

use crate::common::{Run, copy_dir, example, tallyboard_in};

/// A private key of the example, as written in its file.
struct Secret {
    /// `PRIVATE+KEY+<name>+<id>+<base64>`.
    string: String,
    /// The file holding it.
    file: String,
}

impl Secret {
    fn of(file: &str) -> Secret {
        let path = example(&format!("keys/{file}"));
        Secret {
            string: std::fs::read_to_string(&path)
                .unwrap()
                .trim_end()
                .to_owned(),
            file: path.to_str().unwrap().to_owned(),
        }
    }

    /// Texts that must never be shown: the string, its key material (and
    /// the first 16 characters of it), and the seed in hex.
    fn forbidden(&self) -> Vec<String> {
        let material = self.string.splitn(5, '+').nth(4).unwrap().to_owned();
        let signer = tallyboard_core::note::SignerKey::parse(&self.string).unwrap();
        let seed_hex: String = signer
            .secret()
            .seed()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        vec![
            self.string.clone(),
            material[..16].to_owned(),
            material,
            seed_hex,
        ]
    }
}

/// Runs `tallyboard -vv ARGS` in `dir`; it must fail and show none of the
/// `secrets`; returns its run.
fn refused_without_echo(dir: &Path, args: &[&str], secrets: &[&Secret]) -> Run {
    let mut all = vec!["-vv"];
    all.extend_from_slice(args);
    let r = tallyboard_in(dir, &all);
    assert_ne!(r.status, 0, "{args:?} succeeded:\n{}{}", r.stdout, r.stderr);
    for s in secrets {
        for f in s.forbidden() {
            assert!(
                !r.stdout.contains(&f) && !r.stderr.contains(&f),
                "{args:?} shows private key material:\nstdout: {}\nstderr: {}",
                r.stdout,
                r.stderr
            );
        }
    }
    r
}

const HINT: &str = "this is a private key; give the public key (the .pub file)";

#[test]
fn a_private_key_given_for_a_verifier_key_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let authority = Secret::of("EXAMPLE-ONLY.authority.key");
    let manifest = example("manifest.signed");
    let m = manifest.to_str().unwrap();
    let log_key = example("keys/EXAMPLE-ONLY.log.key");
    let witness_key = example("keys/EXAMPLE-ONLY.witness-1.key");
    let north_key = example("keys/EXAMPLE-ONLY.centre-C-NORTH.key");
    let sheet = example("sheets/C-NORTH.csv");
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let tally = d.join("x.tally");
    std::fs::write(&tally, b"x").unwrap();
    let p = |p: &Path| p.to_str().unwrap().to_owned();
    // (arguments before the key, after the key), the key given with --authority
    // unless said otherwise.
    let commands: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["verify".into(), "--source".into(), p(&empty)],
            "--authority",
        ),
        (
            vec![
                "serve".into(),
                "--manifest".into(),
                m.into(),
                "--log-key".into(),
                p(&log_key),
                "--data".into(),
                p(&d.join("log")),
                "--listen".into(),
                "127.0.0.1:0".into(),
            ],
            "--authority",
        ),
        (
            vec![
                "witness".into(),
                "--manifest".into(),
                m.into(),
                "--key".into(),
                p(&witness_key),
                "--data".into(),
                p(&d.join("w")),
                "--listen".into(),
                "127.0.0.1:0".into(),
            ],
            "--authority",
        ),
        (
            vec![
                "witness".into(),
                "--key".into(),
                p(&witness_key),
                "--data".into(),
                p(&d.join("w")),
                "--listen".into(),
                "127.0.0.1:0".into(),
            ],
            "--log",
        ),
        (
            vec![
                "mirror".into(),
                "--upstream".into(),
                p(&empty),
                "--manifest".into(),
                m.into(),
                "--data".into(),
                p(&d.join("mirror")),
                "--once".into(),
            ],
            "--authority",
        ),
        (
            vec![
                "sign".into(),
                "--manifest".into(),
                m.into(),
                "--key".into(),
                p(&north_key),
                "--sheet".into(),
                p(&sheet),
                "--out".into(),
                p(&d.join("signed")),
            ],
            "--authority",
        ),
        (
            vec![
                "submit".into(),
                "--server".into(),
                "http://127.0.0.1:9".into(),
                "--manifest".into(),
                m.into(),
                "--receipts".into(),
                p(&d.join("receipts")),
                p(&tally),
            ],
            "--authority",
        ),
        (
            vec!["manifest".into(), "check".into(), m.into()],
            "--authority",
        ),
        (
            vec!["manifest".into(), "show".into(), m.into()],
            "--authority",
        ),
    ];
    for (args, flag) in &commands {
        for (given, hint) in [
            (&authority.string, HINT.to_owned()),
            (&authority.file, format!("{}: {HINT}", authority.file)),
        ] {
            let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
            all.extend([*flag, given.as_str()]);
            let r = refused_without_echo(d, &all, &[&authority]);
            assert!(r.stderr.contains(&hint), "{all:?}: {}", r.stderr);
        }
    }
    // Written in other forms (lower case, with spaces around), it is not
    // shown either.
    let lower = authority.string.replacen("PRIVATE+KEY", "private+key", 1);
    let spaced = format!(" {} ", authority.string);
    for given in [&lower, &spaced] {
        let r = refused_without_echo(
            d,
            &["manifest", "check", m, "--authority", given],
            &[&authority],
        );
        assert!(r.stderr.contains(HINT), "{}", r.stderr);
    }
}

#[test]
fn a_private_key_string_given_for_a_key_file_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = example("manifest.signed");
    let m = manifest.to_str().unwrap();
    let sheet = example("sheets/C-NORTH.csv");
    let p = |p: &Path| p.to_str().unwrap().to_owned();
    let log = Secret::of("EXAMPLE-ONLY.log.key");
    let north = Secret::of("EXAMPLE-ONLY.centre-C-NORTH.key");
    let witness = Secret::of("EXAMPLE-ONLY.witness-1.key");
    let authority = Secret::of("EXAMPLE-ONLY.authority.key");
    let mut input = d.join("input");
    copy_dir(&example("input"), &input);
    input = input.canonicalize().unwrap();
    let cases: Vec<(Vec<String>, &Secret)> = vec![
        (
            vec![
                "serve".into(),
                "--manifest".into(),
                m.into(),
                "--data".into(),
                p(&d.join("log")),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--log-key".into(),
                log.string.clone(),
            ],
            &log,
        ),
        (
            vec![
                "sign".into(),
                "--manifest".into(),
                m.into(),
                "--sheet".into(),
                p(&sheet),
                "--out".into(),
                p(&d.join("signed")),
                "--key".into(),
                north.string.clone(),
            ],
            &north,
        ),
        (
            vec![
                "witness".into(),
                "--manifest".into(),
                m.into(),
                "--data".into(),
                p(&d.join("w")),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--key".into(),
                witness.string.clone(),
            ],
            &witness,
        ),
        (
            vec![
                "mirror".into(),
                "--upstream".into(),
                p(d),
                "--manifest".into(),
                m.into(),
                "--data".into(),
                p(&d.join("mirror")),
                "--once".into(),
                "--witness-key".into(),
                witness.string.clone(),
            ],
            &witness,
        ),
        (
            vec![
                "manifest".into(),
                "build".into(),
                "--input".into(),
                p(&input),
                "--out".into(),
                p(&d.join("m.signed")),
                "--authority-key".into(),
                authority.string.clone(),
            ],
            &authority,
        ),
    ];
    for (args, secret) in &cases {
        let all: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = refused_without_echo(d, &all, &[secret]);
        assert!(
            r.stderr.contains("this is a private key itself"),
            "{all:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_private_key_in_the_manifest_input_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = Secret::of("EXAMPLE-ONLY.log.key");
    let north = Secret::of("EXAMPLE-ONLY.centre-C-NORTH.key");
    let witness = Secret::of("EXAMPLE-ONLY.witness-1.key");
    let input = d.join("input");
    copy_dir(&example("input"), &input);
    // Each public key of the input replaced by its private key.
    let public = |file: &str| {
        std::fs::read_to_string(example(&format!("keys/{file}.pub")))
            .unwrap()
            .trim_end()
            .to_owned()
    };
    let replace = |file: &str, from: &str, to: &str| {
        let path = input.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has {from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    };
    replace(
        "centre-keys.csv",
        &public("EXAMPLE-ONLY.centre-C-NORTH.key"),
        &north.string,
    );
    replace(
        "election.json",
        &public("EXAMPLE-ONLY.log.key"),
        &log.string,
    );
    replace(
        "election.json",
        &public("EXAMPLE-ONLY.witness-1.key"),
        &witness.string,
    );
    let authority_key = example("keys/EXAMPLE-ONLY.authority.key");
    let r = refused_without_echo(
        d,
        &[
            "manifest",
            "build",
            "--input",
            input.to_str().unwrap(),
            "--authority-key",
            authority_key.to_str().unwrap(),
            "--out",
            d.join("m.signed").to_str().unwrap(),
        ],
        &[&log, &north, &witness],
    );
    assert_eq!(r.stderr.matches(HINT).count(), 3, "{}", r.stderr);
}
