//! The paper channel's input (spec/verify.md §4.6, spec/paper.md): the
//! texts of the QR codes read off printed sheets (by the caller: from
//! photos, scans or typed-in text), grouped by the signed tally they name,
//! reassembled and checked as signed tallies of the election. The
//! comparison with the log is the caller's (the command-line verifier
//! against the whole log, the browser against a unit's proven entries).

use std::collections::BTreeMap;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::paper::{Part, fingerprint, reassemble_parts};
use tallyboard_core::rules::describe_violations;
use tallyboard_core::{Hash, SignedTally};

use crate::{Checked, NotGenuine, Signatures};

/// The codes read from one photo, scan or text file.
#[derive(Clone, Debug, Default)]
pub struct PaperInput {
    /// Where they come from (a file name), for the report.
    pub name: String,
    /// The text of every code found, in any order.
    pub texts: Vec<String>,
}

/// One sheet: the parts of one signed tally found in one input.
#[derive(Clone, Debug)]
pub struct PaperSheet {
    /// The input it was read from.
    pub name: String,
    /// The short fingerprint the codes name (empty when no code parsed).
    pub fingerprint: String,
    /// The reassembled bytes, when the codes are complete and consistent.
    pub bytes: Option<Vec<u8>>,
    /// The signed tally, when it is a validly signed tally of the election
    /// that passes every rule; otherwise why not.
    pub tally: Result<SignedTally, PaperProblem>,
}

/// Why a sheet cannot be compared with the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaperProblem {
    /// The codes are incomplete or inconsistent: the sheet cannot be read.
    Unreadable(String),
    /// The codes are complete but do not carry a validly signed tally of
    /// the election passing the rules: the sheet is not genuine.
    NotGenuine(String),
}

/// Groups the codes of all inputs by the tally they name (a sheet of
/// several pages may come as one photo a page), and checks each group.
/// Texts that are not tallyboard codes (other QR codes on a photo) are
/// skipped; an input without any tallyboard code is one unreadable sheet.
pub fn sheets(inputs: &[PaperInput], manifest: &Manifest) -> Vec<PaperSheet> {
    let mut out = Vec::new();
    let mut groups: BTreeMap<Hash, (Vec<&str>, Vec<Part>)> = BTreeMap::new();
    for input in inputs {
        let mut bad = Vec::new();
        let mut any = false;
        for t in &input.texts {
            match Part::parse(t) {
                Ok(p) => {
                    any = true;
                    let g = groups.entry(p.leaf).or_default();
                    if !g.0.contains(&input.name.as_str()) {
                        g.0.push(&input.name);
                    }
                    g.1.push(p);
                }
                Err(e) if e.code() == "not-a-sheet-code" => {}
                Err(e) => bad.push(e.to_string()),
            }
        }
        if !any {
            let why = if bad.is_empty() {
                "no tallyboard sheet code was found".to_owned()
            } else {
                format!("its codes cannot be read: {}", bad.join("; "))
            };
            out.push(PaperSheet {
                name: input.name.clone(),
                fingerprint: String::new(),
                bytes: None,
                tally: Err(PaperProblem::Unreadable(why)),
            });
        }
    }
    for (leaf, (names, parts)) in groups {
        let name = names.join(" + ");
        let fp = fingerprint(&leaf);
        let sheet = match reassemble_parts(parts) {
            Err(e) => PaperSheet {
                name,
                fingerprint: fp,
                bytes: None,
                tally: Err(if e.code() == "fingerprint-mismatch" {
                    PaperProblem::NotGenuine(e.to_string())
                } else {
                    PaperProblem::Unreadable(e.to_string())
                }),
            },
            Ok(bytes) => PaperSheet {
                name,
                fingerprint: fp,
                tally: genuine(&bytes, manifest).map_err(PaperProblem::NotGenuine),
                bytes: Some(bytes),
            },
        };
        out.push(sheet);
    }
    out
}

/// The signed tally in `bytes`, if it is validly signed and passes every
/// rule of the manifest.
fn genuine(bytes: &[u8], manifest: &Manifest) -> Result<SignedTally, String> {
    Checked::one(manifest, bytes, Signatures::Verify)
        .genuine()
        .map_err(|e| match e {
            NotGenuine::NotSigned(e) => {
                format!("the codes do not carry a validly signed tally: {e}")
            }
            NotGenuine::BreaksRules(v) => format!(
                "the codes carry a tally that breaks the rules of the manifest: {}",
                describe_violations(&v)
            ),
        })
}
