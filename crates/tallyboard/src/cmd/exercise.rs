//! `tallyboard exercise`: the command line of the exercise; the night, the
//! scenarios and the processes are the `tallyboard-exercise` crate's.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use tallyboard_exercise::{Options, Verdict};

use crate::status::Refused;

/// Run an election night on this machine.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// The scenario to run (see --list).
    #[arg(long, value_name = "NAME", default_value = "clean")]
    scenario: String,
    /// Reporting units of the election (36: the example election of
    /// keys-example/; up to 1,000,000).
    #[arg(long, value_name = "N", default_value_t = 36,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    units: u64,
    /// Contests (3: the example's; more are generated).
    #[arg(long, value_name = "K", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=20))]
    contests: u64,
    /// Sequencing interval of the publication server, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(10..=10_000))]
    interval_ms: u64,
    /// Keep everything (election, logs, mirrors, reports, evidence) in DIR,
    /// which must be empty or not exist; default: a temporary directory
    /// removed at the end.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Tallies each count centre's `tallyboard submit` sends at once.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    parallel: u32,
    /// Keep the publication server's log in object storage
    /// (`s3://BUCKET/PREFIX`, with the AWS_* variables as for `serve
    /// --storage`) instead of a data directory; the verifier also reads
    /// the bucket directly. Scenarios that alter the origin's files need
    /// the data directory.
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<()> {
    if args.list {
        tallyboard_exercise::list();
        return Ok(());
    }
    let opts = Options {
        // The night runs this very binary's subcommands as processes.
        exe: std::env::current_exe().context("finding the tallyboard binary")?,
        scenario: args.scenario,
        units: usize::try_from(args.units).context("--units")?,
        contests: usize::try_from(args.contests).context("--contests")?,
        interval_ms: args.interval_ms,
        data: args.data,
        parallel: args.parallel,
        storage: args.storage,
    };
    match tallyboard_exercise::run(&opts)? {
        Verdict::AsExpected => Ok(()),
        Verdict::NotAsExpected => Err(Refused::new(format!(
            "scenario {}: the verifier's verdict is not the one expected",
            opts.scenario
        ))
        .into()),
    }
}
