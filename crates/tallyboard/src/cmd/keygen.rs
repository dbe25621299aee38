//! `tallyboard keygen`: a fresh Ed25519 key.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use tallyboard_core::SecretKey;
use tallyboard_core::note::{KeyKind, SignerKey, is_valid_key_name};
use zeroize::Zeroizing;

use crate::fsutil::{pub_path, write_new};

/// Generate an Ed25519 key.
///
/// Writes the private key string (`PRIVATE+KEY+<name>+<key id>+<base64>`,
/// the Go `sumdb/note` form) to FILE, created new and readable by its owner
/// only (mode 0600); an existing FILE or FILE.pub is never overwritten.
/// Prints the C2SP verifier key (`<name>+<key id>+<base64>`) and writes it to
/// FILE.pub. The private key is never printed or logged.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Key name: for a log key its origin line, for a witness its name, for
    /// anything else a label (no spaces, no '+').
    #[arg(long, value_name = "NAME")]
    name: String,

    /// Where to write the private key (FILE.pub gets the verifier key).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// Make a witness key: its verifier key has type 0x04 (C2SP
    /// tlog-cosignature, timestamped cosignature/v1) instead of 0x01.
    #[arg(long)]
    witness: bool,
}

pub(crate) fn run(args: Args) -> Result<()> {
    if !is_valid_key_name(&args.name) {
        bail!(
            "invalid key name {:?}: it must be 1 to 256 bytes with no spaces, control characters or '+'",
            args.name
        );
    }
    let pub_file = pub_path(&args.out);
    if args.out.exists() {
        bail!(
            "{} already exists; refusing to overwrite it",
            args.out.display()
        );
    }
    if pub_file.exists() {
        bail!(
            "{} already exists; refusing to overwrite it",
            pub_file.display()
        );
    }
    let kind = if args.witness {
        KeyKind::CosignatureV1
    } else {
        KeyKind::Ed25519
    };

    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut())
        .map_err(|e| anyhow!("the operating system's random generator failed: {e}"))?;
    let signer = SignerKey::new(&args.name, kind, SecretKey::from_seed(&seed))
        .map_err(|e| anyhow!("cannot make a key named {:?}: {e}", args.name))?;

    let mut secret = Zeroizing::new(signer.to_secret_string().as_bytes().to_vec());
    secret.push(b'\n');
    write_new(&args.out, &secret, true)?;
    let vkey = signer.verifier().to_string();
    if let Err(e) = write_new(&pub_file, format!("{vkey}\n").as_bytes(), false) {
        // Leave no key without its public half behind.
        let _ = std::fs::remove_file(&args.out);
        return Err(e);
    }
    tracing::info!(
        private = %args.out.display(),
        public = %pub_file.display(),
        "wrote key"
    );
    println!("{vkey}");
    Ok(())
}
