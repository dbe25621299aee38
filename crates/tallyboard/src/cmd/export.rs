//! `tallyboard export`: the verification of `verify`, then the verified
//! results written to a file (spec/results.md §5–§7).

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::{Parser, ValueEnum};
use tallyboard_results::{ExportHeader, err_json, export_json, regions_csv, units_csv};
use tallyboard_verify::report::{Report, Verdict};

use crate::cmd::verify;
use crate::status::Refused;

/// The export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// CSV, OpenElections columns plus unit id, region path, revision,
    /// counted time and leaf index.
    Csv,
    /// NIST SP 1500-100 Election Results Reporting CDF v2 JSON.
    Err,
    /// The results of the JSON report plus the per-unit rows.
    Json,
}

/// The rows an export carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LevelArg {
    /// One row per unit, contest and choice.
    Unit,
    /// One row per region (and the whole election), contest and choice.
    Region,
}

/// Arguments of `tallyboard export`.
#[derive(Debug, Parser)]
#[group(id = "export")]
pub(crate) struct Args {
    /// The export format.
    #[arg(long, value_enum)]
    format: Format,
    /// Where to write the export (replaced atomically; nothing is written
    /// when verification finds a discrepancy, unless --allow-findings).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Unit rows (default) or region rows. ERR: precinct level or summary
    /// level; JSON: with or without the per-unit rows.
    #[arg(long, value_enum, default_value = "unit")]
    level: LevelArg,
    /// Write the export even when verification found discrepancies; its
    /// header then says so and names them.
    #[arg(long)]
    allow_findings: bool,
    /// The verification: the same sources and flags as `tallyboard verify`.
    #[command(flatten, next_help_heading = "Verification (as `tallyboard verify`)")]
    verify: verify::Args,
}

pub(crate) fn run(args: Args) -> Result<()> {
    let units = args.level == LevelArg::Unit;
    let report = verify::report_of(&args.verify, |c| c.unit_rows = units)?
        .ok_or_else(|| anyhow!("--recheck does not go with export"))?;
    verify::print_report(&args.verify, &report);
    let bytes = match report.verdict {
        Verdict::CouldNotVerify => {
            return Err(anyhow!(
                "could not verify: {}; nothing written",
                report
                    .could_not_verify
                    .as_deref()
                    .unwrap_or("see the report")
            ));
        }
        Verdict::Findings if !args.allow_findings => {
            return Err(Refused::new(format!(
                "verification found {} problems: nothing written to {} (--allow-findings writes it anyway, saying so)",
                findings(&report).values().sum::<u64>(),
                args.out.display()
            ))
            .into());
        }
        Verdict::Pass | Verdict::Findings => export(&args, &report)?,
    };
    crate::fsutil::write_atomic(&args.out, &bytes, false)?;
    println!(
        "Wrote the verified results ({}, {} level) to {}.",
        match args.format {
            Format::Csv => "csv",
            Format::Err => "NIST ERR CDF v2 JSON",
            Format::Json => "json",
        },
        if units { "unit" } else { "region" },
        args.out.display()
    );
    Ok(())
}

/// Findings by code.
fn findings(report: &Report) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for f in &report.findings {
        *out.entry(f.code.to_string()).or_insert(0) += 1;
    }
    for (code, n) in &report.findings_not_listed {
        *out.entry(code.to_string()).or_insert(0) += n;
    }
    out
}

/// The export's bytes.
fn export(args: &Args, report: &Report) -> Result<Vec<u8>> {
    let (Some(results), Some(manifest)) = (&report.results, &report.details.manifest) else {
        return Err(anyhow!("no results could be computed; nothing written"));
    };
    let header = ExportHeader {
        generator: format!("tallyboard {}", env!("CARGO_PKG_VERSION")),
        checkpoint_note: report.details.checkpoint_note.clone(),
        as_of: report.details.as_of,
        findings: findings(report),
    };
    let units = (args.level == LevelArg::Unit).then_some(report.details.units.as_slice());
    Ok(match (args.format, units) {
        (Format::Csv, Some(u)) => units_csv(manifest, results, u, &header),
        (Format::Csv, None) => regions_csv(results, &header),
        (Format::Err, u) => err_json(manifest, results, u, &header),
        (Format::Json, u) => export_json(results, u, &header),
    })
}
