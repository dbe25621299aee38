//! `tallyboard show`: a signed tally in words, with its leaf hash, signer
//! and revision: what an official reads before a correction names it.

use std::path::PathBuf;

use anyhow::Result;
use tallyboard_paper::describe;

use crate::cmd::manifest::{authority_arg, load};
use crate::cmd::print::read_signed;

/// Show signed tallies in words.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The signed election manifest, for names (ids alone without it).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The authority key the manifest must be signed by.
    #[arg(long, value_name = "VKEY", requires = "manifest")]
    authority: Option<String>,
    /// Signed tally files, or directories of `*.tally` files.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let expected = args.authority.as_deref().map(authority_arg).transpose()?;
    let manifest = args
        .manifest
        .as_deref()
        .map(|m| load(m, expected.as_ref()))
        .transpose()?;
    let tallies = read_signed(&args.files)?;
    for (i, (path, t)) in tallies.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}", path.display());
        println!("{}", describe(t, manifest.as_ref().map(|m| m.manifest())));
    }
    Ok(())
}
