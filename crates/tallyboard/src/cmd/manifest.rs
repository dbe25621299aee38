//! `tallyboard manifest`: build, check and show the signed election
//! manifest.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use serde_json::{Value, json};
use tallyboard_core::limits::MAX_SIGNED_MANIFEST;
use tallyboard_core::manifest::{Manifest, ManifestError, SignedManifest};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::{Hash, PublicKey};

use crate::fsutil::{read_capped, write_atomic};
use crate::keyfile::{read_signer, verifier_arg};
use crate::manifest_input;
use crate::status::{EXIT_HELP, Refused};
use crate::timefmt::format_rfc3339;

/// Build, check or show the signed election manifest.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Build and sign the manifest from election.json, regions.csv,
    /// centres.csv, centre-keys.csv and units.csv in DIR (formats:
    /// spec/cli.md). Every input error is listed with its file, line and
    /// column or field.
    #[command(after_help = EXIT_HELP)]
    Build {
        /// Directory holding the input files.
        #[arg(long, value_name = "DIR")]
        input: PathBuf,
        /// The election authority's private key file (from `keygen`).
        #[arg(long, value_name = "FILE")]
        authority_key: PathBuf,
        /// Where to write the signed manifest (replaced atomically).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Verify a signed manifest's signature and structure. Exit 1 if it does
    /// not verify or is invalid.
    #[command(after_help = EXIT_HELP)]
    Check {
        /// The signed manifest.
        file: PathBuf,
        /// The authority key the manifest must be signed by: a verifier key
        /// string, the path of a .pub file, or 64 hex digits. Without it the
        /// manifest is only checked against the key it names itself.
        #[arg(long, value_name = "VKEY")]
        authority: Option<String>,
    },
    /// Print a summary of a signed manifest (verified first).
    #[command(after_help = EXIT_HELP)]
    Show {
        /// The signed manifest.
        file: PathBuf,
        /// Print the whole manifest as JSON instead.
        #[arg(long)]
        json: bool,
        /// The authority key the manifest must be signed by (as for check).
        #[arg(long, value_name = "VKEY")]
        authority: Option<String>,
    },
}

pub(crate) fn run(args: Args) -> Result<()> {
    match args.command {
        Sub::Build {
            input,
            authority_key,
            out,
        } => build(&input, &authority_key, &out),
        Sub::Check { file, authority } => check(&file, authority.as_deref()),
        Sub::Show {
            file,
            json,
            authority,
        } => show(&file, json, authority.as_deref()),
    }
}

fn build(input: &Path, authority_key: &Path, out: &Path) -> Result<()> {
    let signer = read_signer(authority_key)?;
    let body = manifest_input::read_dir(input, signer.secret().public_key())?
        .map_err(anyhow::Error::new)?;
    let manifest = Manifest::new(body).map_err(|e| match e {
        ManifestError::Invalid(problems) => {
            let mut msg = format!("the manifest input in {} is invalid:\n", input.display());
            for p in problems {
                msg.push_str(&format!("  {p} [{}]\n", p.code()));
            }
            anyhow!(msg)
        }
        other => anyhow!(other),
    })?;
    let signed = manifest.sign(signer.secret());
    write_atomic(out, signed.as_bytes(), false)?;
    let m = signed.manifest();
    println!(
        "wrote {}: election {} ({} contests, {} regions, {} count centres, {} units), {} bytes, sha256 {}",
        out.display(),
        m.election,
        m.contests.len(),
        m.regions.len(),
        m.centres.len(),
        m.units.len(),
        signed.as_bytes().len(),
        signed.hash().to_hex()
    );
    Ok(())
}

/// An authority key argument: verifier key string, .pub file or hex.
pub(crate) fn authority_arg(arg: &str) -> Result<PublicKey> {
    if arg.len() == 64
        && let Some(h) = Hash::from_hex(arg)
    {
        // Not repeated: 64 hex digits could as well be a private seed.
        return PublicKey::from_bytes(&h.0)
            .map_err(|e| anyhow!("--authority: 64 hex digits that are not a public key: {e}"));
    }
    Ok(*verifier_arg(arg).context("--authority")?.public_key())
}

/// Reads and verifies a signed manifest. Unreadable: error (exit 2); does
/// not verify or invalid: refusal (exit 1).
pub(crate) fn load(file: &Path, authority: Option<&PublicKey>) -> Result<SignedManifest> {
    let bytes = read_capped(file, MAX_SIGNED_MANIFEST)?;
    SignedManifest::from_bytes(&bytes, authority).map_err(|e| {
        let detail = match &e {
            ManifestError::Invalid(problems) => problems
                .iter()
                .map(|p| format!("\n  {p} [{}]", p.code()))
                .collect::<String>(),
            other => format!(" {other}"),
        };
        anyhow::Error::new(Refused::new(format!(
            "{}: the manifest does not verify [{}]:{detail}",
            file.display(),
            e.code()
        )))
    })
}

fn check(file: &Path, authority: Option<&str>) -> Result<()> {
    let expected = authority.map(authority_arg).transpose()?;
    let signed = load(file, expected.as_ref())?;
    let m = signed.manifest();
    println!(
        "OK {}: election {} signed by authority key {}; {} contests, {} regions, {} count centres, {} units; sha256 {}",
        file.display(),
        m.election,
        m.authority.to_hex(),
        m.contests.len(),
        m.regions.len(),
        m.centres.len(),
        m.units.len(),
        signed.hash().to_hex()
    );
    if expected.is_none() {
        eprintln!(
            "note: checked against the authority key the manifest names itself; pass --authority to check it is the authority you trust"
        );
    }
    Ok(())
}

fn show(file: &Path, as_json: bool, authority: Option<&str>) -> Result<()> {
    let expected = authority.map(authority_arg).transpose()?;
    let signed = load(file, expected.as_ref())?;
    if as_json {
        let text = serde_json::to_string_pretty(&to_json(&signed))
            .context("cannot encode the manifest as JSON")?;
        println!("{text}");
        return Ok(());
    }
    print!("{}", summary(&signed));
    if expected.is_none() {
        eprintln!("note: the authority key was not pinned (--authority)");
    }
    Ok(())
}

fn time(t: u64) -> String {
    format_rfc3339(t)
}

/// The human summary printed by `manifest show`.
fn summary(signed: &SignedManifest) -> String {
    use std::fmt::Write as _;
    let m = signed.manifest();
    let mut s = String::new();
    let _ = writeln!(s, "election   {} — {}", m.election, m.title);
    let _ = writeln!(s, "authority  {}", m.authority.to_hex());
    let _ = writeln!(s, "sha256     {}", signed.hash().to_hex());
    let _ = writeln!(s, "log        {} key {}", m.log.origin, m.log.key.to_hex());
    // The verifier key strings, as `keygen` prints them (the names are in
    // the manifest for the log and the witnesses; a count centre's key
    // name is not, so its key is shown in hex only).
    if let Ok(v) = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key) {
        let _ = writeln!(s, "           verifier key {v}");
    }
    let _ = writeln!(
        s,
        "polls      close {}; results due {}",
        m.polls_close.map_or_else(|| "(not set)".to_owned(), time),
        m.results_due.map_or_else(
            || "(not set: missing units are findings at once)".to_owned(),
            time
        )
    );
    let _ = writeln!(
        s,
        "witnesses  {} of {} required",
        m.quorum,
        m.witnesses.len()
    );
    for w in &m.witnesses {
        let _ = writeln!(s, "           {} key {}", w.name, w.key.to_hex());
        if let Ok(v) = VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key) {
            let _ = writeln!(s, "           verifier key {v}");
        }
    }
    for u in &m.mirrors {
        let _ = writeln!(s, "mirror     {u}");
    }
    let _ = writeln!(s, "contests   {}", m.contests.len());
    for c in &m.contests {
        let choices: Vec<&str> = c.choices.iter().map(|ch| ch.id.as_str()).collect();
        let _ = writeln!(s, "  {} — {}: {}", c.id, c.title, choices.join(", "));
    }
    // Units per region (counting sub-regions) and per centre, in one pass.
    let mut per_region = vec![0usize; m.regions.len()];
    let mut per_centre = vec![0usize; m.centres.len()];
    for u in 0..m.units.len() {
        for &r in m.unit_regions(u) {
            if let Some(n) = per_region.get_mut(r as usize) {
                *n += 1;
            }
        }
        if let Some(n) = m.unit_centre_index(u).and_then(|c| per_centre.get_mut(c)) {
            *n += 1;
        }
    }
    let _ = writeln!(s, "regions    {}", m.regions.len());
    for (r, units) in m.regions.iter().zip(&per_region) {
        let parent = r
            .parent
            .as_deref()
            .map_or(String::new(), |p| format!(" (in {p})"));
        let _ = writeln!(s, "  {} — {}{parent}: {units} units", r.id, r.name);
    }
    let _ = writeln!(s, "centres    {}", m.centres.len());
    for (c, units) in m.centres.iter().zip(&per_centre) {
        let _ = writeln!(s, "  {} — {}: {units} units", c.id, c.name);
        for k in &c.keys {
            let revoked = k
                .revoked_at
                .map_or(String::new(), |t| format!(", REVOKED at {}", time(t)));
            let _ = writeln!(
                s,
                "    key {} valid {} to {}{revoked}",
                k.key.to_hex(),
                time(k.valid_from),
                time(k.valid_until)
            );
        }
    }
    let registered: u64 = m
        .units
        .iter()
        .map(|u| u.registered)
        .fold(0u64, u64::saturating_add);
    let _ = writeln!(
        s,
        "units      {} ({registered} registered voters)",
        m.units.len()
    );
    s
}

/// The whole manifest as JSON (`manifest show --json`): keys in hex, times
/// in RFC 3339.
fn to_json(signed: &SignedManifest) -> Value {
    let m = signed.manifest();
    json!({
        "sha256": signed.hash().to_hex(),
        "election": m.election,
        "title": m.title,
        "authority": m.authority.to_hex(),
        "log": {"origin": m.log.origin, "key": m.log.key.to_hex()},
        "witnesses": m.witnesses.iter().map(|w| json!({"name": w.name, "key": w.key.to_hex()})).collect::<Vec<_>>(),
        "quorum": m.quorum,
        "polls_close": m.polls_close.map(time),
        "results_due": m.results_due.map(time),
        "mirrors": m.mirrors,
        "contests": m.contests.iter().map(|c| json!({
            "id": c.id,
            "title": c.title,
            "choices": c.choices.iter().map(|ch| json!({"id": ch.id, "name": ch.name})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "regions": m.regions.iter().map(|r| json!({"id": r.id, "name": r.name, "parent": r.parent})).collect::<Vec<_>>(),
        "centres": m.centres.iter().map(|c| json!({
            "id": c.id,
            "name": c.name,
            "keys": c.keys.iter().map(|k| json!({
                "key": k.key.to_hex(),
                "valid_from": time(k.valid_from),
                "valid_until": time(k.valid_until),
                "revoked_at": k.revoked_at.map(time),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "units": m.units.iter().map(|u| json!({
            "id": u.id,
            "name": u.name,
            "region": u.region,
            "registered": u.registered,
            "contests": u.contests,
            "centre": u.centre,
        })).collect::<Vec<_>>(),
    })
}
