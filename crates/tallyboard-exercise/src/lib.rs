//! The engine of `tallyboard exercise`: a whole election night on this
//! machine, with the attack and failure scenarios to rehearse
//! (spec/exercise.md); and the election generator of `tallyboard example`.
//!
//! It generates the election (keys-example's for the default size), signs
//! every unit's tallies, starts the real binary as publication server, two
//! witnesses and two mirrors (the second following the first) on
//! 127.0.0.1, lets the count centres submit while a verifier watches, plays
//! the scenario, and runs `tallyboard verify` over every source. The exit
//! status says whether the verifier's verdict (read from its JSON report)
//! is the one the scenario expects. Everything it started is stopped on
//! every path, Ctrl-C included.

pub mod client;
pub mod election;
mod error;
pub mod input;
mod night;
pub mod procs;
mod scenarios;

use std::path::PathBuf;

use self::error::{Context as _, bail};
pub use self::error::{Error, Result};
use self::night::{Night, NightOptions};
use self::scenarios::{SCENARIOS, Scenario};

/// What `tallyboard exercise` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The `tallyboard` binary whose subcommands run the night (server,
    /// witnesses, mirrors, submit, verify): usually the running one.
    pub exe: PathBuf,
    /// The scenario to run (see [`list`]).
    pub scenario: String,
    /// Reporting units of the election (36: the example election).
    pub units: usize,
    /// Contests (3: the example's; more are generated).
    pub contests: usize,
    /// Sequencing interval of the publication server, in milliseconds.
    pub interval_ms: u64,
    /// Keep everything in this directory (new or empty); `None`: a
    /// temporary directory removed at the end.
    pub data: Option<PathBuf>,
    /// Tallies each count centre's `tallyboard submit` sends at once.
    pub parallel: u32,
    /// Keep the publication server's log in object storage at this URL
    /// (`serve --storage`; the `AWS_*` variables of this process reach
    /// the server and the verifier), and verify the bucket as one more
    /// source. `None`: a data directory, as by default.
    pub storage: Option<String>,
}

/// How a scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The verifier reached the verdict the scenario expects, with the
    /// findings it expects, and every check of the scenario passed.
    AsExpected,
    /// It did not (what differs is printed).
    NotAsExpected,
}

/// The names of the scenarios, in `--list` order.
pub fn scenario_names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

/// Prints the scenarios, one line each.
pub fn list() {
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
            code_list(s.codes)
        );
    }
    println!(
        "What to do when it happens for real:\n{}",
        wrap(s.response, "  ")
    );
}

/// Runs the scenario of `opts`: prints what it simulates, plays the night,
/// prints the verifier's report and whether the verdict is the one
/// expected. Everything it started is stopped on every path, Ctrl-C
/// included (which ends the process with status 130).
pub fn run(opts: &Options) -> Result<Verdict> {
    let Some(scenario) = scenarios::find(&opts.scenario) else {
        return Err(Error::UnknownScenario {
            name: opts.scenario.clone(),
            known: scenario_names().join(", "),
        });
    };
    describe(scenario);
    let exe = opts.exe.clone();
    let (dir, _temp) = match &opts.data {
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
    let night_opts = NightOptions {
        units: opts.units,
        contests: opts.contests,
        interval_ms: opts.interval_ms,
        parallel: opts.parallel,
        storage: opts.storage.clone(),
    };
    let outcome = {
        let mut night = Night::prepare(exe, dir.clone(), night_opts)?;
        let r = (scenario.run)(&mut night);
        night.stop_all();
        print_timings(&night);
        if opts.data.is_some() && r.is_ok() {
            match night.print_sheets() {
                Ok(n) => println!(
                    "  printable sheets of {n} tallies (latest revisions, the first {}) in {}",
                    night::MAX_SHEETS,
                    dir.join("sheets").display()
                ),
                Err(e) => println!("  the printable sheets could not be written: {e}"),
            }
        }
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
    for &c in scenario.codes {
        if !codes.iter().any(|x| x == c.as_str()) {
            problems.push(format!("no {c} finding"));
        } else if scenario.evidence.contains(&c) && !report.has_evidence(c) {
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
    if opts.data.is_some() {
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
                    code_list(scenario.codes)
                )
            }
        );
        Ok(Verdict::AsExpected)
    } else {
        println!("RESULT: NOT as expected:");
        for p in &problems {
            println!("  - {p}");
        }
        Ok(Verdict::NotAsExpected)
    }
}

/// Finding codes in their wire form, comma-separated.
fn code_list(codes: &[tallyboard_verify::FindingCode]) -> String {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    names.join(", ")
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
