//! One module per subcommand. To add a subcommand: add a module with an
//! `Args` struct (clap `Args`) and a `run(Args) -> anyhow::Result<()>`, then
//! one variant and one match arm below.

use clap::Subcommand;

use crate::status::EXIT_HELP;

pub(crate) mod keygen;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an Ed25519 key: private key file (owner-only) and its C2SP
    /// verifier key.
    #[command(after_help = EXIT_HELP)]
    Keygen(keygen::Args),
}

impl Command {
    /// Runs the subcommand. A [`crate::status::Refused`] error means exit 1,
    /// any other error exit 2.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Keygen(a) => keygen::run(a),
        }
    }
}
