//! One module per subcommand. To add a subcommand: add a module with an
//! `Args` struct (clap `Args`) and a `run(Args) -> anyhow::Result<()>`, then
//! one variant and one match arm below.

use clap::Subcommand;

use crate::status::EXIT_HELP;

pub(crate) mod example;
pub(crate) mod keygen;
pub(crate) mod manifest;
pub(crate) mod sign;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an Ed25519 key: private key file (owner-only) and its C2SP
    /// verifier key.
    #[command(after_help = EXIT_HELP)]
    Keygen(keygen::Args),
    /// Build, check or show the signed election manifest.
    Manifest(manifest::Args),
    /// Check a tally sheet against every rule and sign it; a sheet that
    /// breaks any rule is refused whole (exit 1).
    #[command(after_help = EXIT_HELP)]
    Sign(sign::Args),
    /// Write the deterministic example election (EXAMPLE ONLY — NOT FOR
    /// REAL ELECTIONS) used by the tests, the exercise and the README.
    #[command(after_help = EXIT_HELP)]
    Example(example::Args),
}

impl Command {
    /// Runs the subcommand. A [`crate::status::Refused`] error means exit 1,
    /// any other error exit 2.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Keygen(a) => keygen::run(a),
            Command::Manifest(a) => manifest::run(a),
            Command::Sign(a) => sign::run(a),
            Command::Example(a) => example::run(a),
        }
    }
}
