//! `tallyboard exercise`: a whole election night on this machine, with the
//! attack and failure scenarios to rehearse (spec/exercise.md).
//!
//! It generates the election (keys-example's for the default size), signs
//! every unit's tallies, starts the real binary as publication server, two
//! witnesses and two mirrors (the second following the first) on
//! 127.0.0.1, lets the count centres submit while a verifier watches, plays
//! the scenario, and runs `tallyboard verify` over every source. The exit
//! status says whether the verifier's verdict (read from its JSON report)
//! is the one the scenario expects. Everything it started is stopped on
//! every path, Ctrl-C included.

mod night;
mod procs;
mod scenarios;

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

use self::night::{Night, NightOptions};
use self::scenarios::{SCENARIOS, Scenario};
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
}

fn list() {
    println!("Scenarios of `tallyboard exercise --scenario NAME`:\n");
    for s in SCENARIOS {
        println!("  {:<20} {}", s.name, s.summary);
    }
    println!("\nEach ends with the verifier's verdict; exit status 0 when it is the one expected.");
}

fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.len() + w.len() + 1 > 76 {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn describe(s: &Scenario) {
    println!("Scenario {}: {}\n", s.name, s.summary);
    println!("What it simulates:\n{}", wrap(s.simulates, "  "));
    if s.codes.is_empty() {
        println!("Expected verdict: {} (no finding)\n", s.verdict);
    } else {
        println!(
            "Expected verdict: {}, naming {}\n",
            s.verdict,
            s.codes.join(", ")
        );
    }
    println!(
        "What to do when it happens for real:\n{}",
        wrap(s.response, "  ")
    );
}

pub(crate) fn run(args: Args) -> Result<()> {
    if args.list {
        list();
        return Ok(());
    }
    let Some(scenario) = scenarios::find(&args.scenario) else {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        bail!(
            "there is no scenario {:?}; the scenarios are: {}",
            args.scenario,
            names.join(", ")
        );
    };
    describe(scenario);
    let exe = std::env::current_exe().context("finding the tallyboard binary")?;
    let (dir, _temp) = match &args.data {
        Some(d) => {
            if d.exists()
                && std::fs::read_dir(d)
                    .with_context(|| format!("reading {}", d.display()))?
                    .next()
                    .is_some()
            {
                bail!(
                    "{} is not empty: give a new or empty directory to --data",
                    d.display()
                );
            }
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("tallyboard-exercise-")
                .tempdir()
                .context("creating a temporary directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    procs::set_temp_dir(_temp.as_ref().map(|t| t.path().to_path_buf()));
    procs::install_interrupt_handler();
    let opts = NightOptions {
        units: args.units as usize,
        contests: args.contests as usize,
        interval_ms: args.interval_ms,
        parallel: args.parallel,
    };
    let outcome = {
        let mut night = Night::prepare(exe, dir.clone(), opts)?;
        let r = (scenario.run)(&mut night);
        night.stop_all();
        print_timings(&night);
        r
    };
    procs::set_temp_dir(None);
    let outcome = outcome?;
    let report = &outcome.report;
    let codes = report.codes();
    let mut problems = Vec::new();
    if report.verdict() != scenario.verdict {
        problems.push(format!(
            "the verdict is {:?}, expected {:?}",
            report.verdict(),
            scenario.verdict
        ));
    }
    for c in scenario.codes {
        if !codes.iter().any(|x| x == c) {
            problems.push(format!("no {c} finding"));
        } else if scenario.evidence.contains(c) && !report.has_evidence(c) {
            problems.push(format!(
                "the {c} finding names no evidence file that exists"
            ));
        }
    }
    println!("Exercise {}:", scenario.name);
    println!(
        "  verifier verdict: {} ({}); findings: {}",
        report.verdict(),
        exit_words(report.exit),
        if codes.is_empty() {
            "none".to_owned()
        } else {
            codes.join(", ")
        }
    );
    for (what, ok) in &outcome.checks {
        println!("  [{}] {what}", if *ok { "ok" } else { "FAILED" });
        if !ok {
            problems.push(what.clone());
        }
    }
    if args.data.is_some() {
        println!("  everything is kept in {}", dir.display());
    }
    if problems.is_empty() {
        println!(
            "RESULT: as expected: {}",
            if scenario.codes.is_empty() {
                "every check passed".to_owned()
            } else {
                format!(
                    "the verifier detected and named {}",
                    scenario.codes.join(", ")
                )
            }
        );
        Ok(())
    } else {
        println!("RESULT: NOT as expected:");
        for p in &problems {
            println!("  - {p}");
        }
        Err(Refused::new(format!(
            "scenario {}: the verifier's verdict is not the one expected",
            scenario.name
        ))
        .into())
    }
}

fn print_timings(night: &Night) {
    let total: f64 = night.clock.timings.iter().map(|t| t.1.as_secs_f64()).sum();
    let parts: Vec<String> = night
        .clock
        .timings
        .iter()
        .map(|(p, d)| format!("{p} {:.1} s", d.as_secs_f64()))
        .collect();
    println!("Timings: {} (total {total:.1} s)", parts.join(", "));
}

/// An exit status in words for the exercise's own lines: `exit status 1`, or
/// `stopped by a signal` when there is none.
pub(crate) fn exit_words(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit status {c}"),
        None => "stopped by a signal".to_owned(),
    }
}
