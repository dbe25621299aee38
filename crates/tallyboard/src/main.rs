//! The `tallyboard` command: keys, the election manifest, signing tally
//! sheets, and (added by later subcommands) serving, mirroring and verifying
//! the log.
//!
//! Exit statuses (the same for every subcommand; `spec/cli.md`):
//! 0 success; 1 the command ran and refused or found a problem; 2 it could
//! not run (bad arguments, unreadable input, I/O error).

mod cmd;
mod fsutil;
mod keyfile;
mod manifest_input;
mod serving;

mod status;
mod timefmt;

use std::process::ExitCode;

use clap::Parser;

use crate::status::{EXIT_HELP, Refused};

// mimalloc rather than glibc's malloc: under load the server's threads
// allocate and free across threads (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// tallyboard: prove that published election results are what the count
/// centres signed.
#[derive(Debug, Parser)]
#[command(name = "tallyboard", version, about, long_about = None, after_help = EXIT_HELP)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug). The environment
    /// variable TALLYBOARD_LOG (tracing filter syntax) overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else clap
            // reports is a usage error: status 2.
            let code = if e.use_stderr() {
                status::CANNOT_RUN
            } else {
                status::OK
            };
            // Nothing sensible is left to do if printing the usage fails.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose);
    match cli.command.run() {
        Ok(()) => ExitCode::from(status::OK),
        Err(e) => {
            if let Some(refused) = e.downcast_ref::<Refused>() {
                eprintln!("{refused}");
                ExitCode::from(status::REFUSED)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(status::CANNOT_RUN)
            }
        }
    }
}

/// Logs go to stderr so that stdout carries only the command's output
/// (verifier keys, summaries, JSON).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("TALLYBOARD_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
