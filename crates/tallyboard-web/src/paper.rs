//! Checking a printed sheet in the browser (`spec/paper.md`): the codes of
//! a photo or scan are read with the decoder `tallyboard verify --paper`
//! uses (`tallyboard-paper`), grouped and reassembled into signed tallies
//! and checked against the manifest by the same code
//! (`tallyboard_check::paper`), then compared with the unit's entries the
//! page proved in the log ([`Verifier::verify_entry`]): the revision that
//! counts is computed by the engine every verifier uses
//! ([`ElectionState`]).

use serde_json::{Value, json};
use tallyboard_check::paper::{PaperInput, PaperProblem, sheets};
use tallyboard_check::{Checked, ElectionState};
use tallyboard_core::Tally;
use tallyboard_core::limits::{MAX_PAPER_PART_TEXT, MAX_PAPER_PARTS};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::time::format_rfc3339;

use crate::verifier::{Verifier, WebError, grouped, tally_field};

/// Longest pasted text read: every part of the largest tally, each on a
/// line of its own, with room for blank lines and line ends.
pub const MAX_PASTED_TEXT: usize = 2 * MAX_PAPER_PARTS * (MAX_PAPER_PART_TEXT + 2);

/// Most inputs (files, pasted text) one paper check reads.
pub const MAX_INPUTS: usize = 64;

/// Most code texts one input may give.
const MAX_TEXTS: usize = 4 * MAX_PAPER_PARTS;

/// The texts of the codes found in a photo or scan (PNG, JPEG).
pub fn read_image(bytes: &[u8]) -> Result<Vec<String>, WebError> {
    tallyboard_paper::decode_image(bytes).map_err(|e| WebError::Paper(e.to_string()))
}

/// The codes' texts in pasted text: one code a line, blank lines and
/// surrounding spaces ignored.
pub fn read_text(text: &str) -> Result<Vec<String>, WebError> {
    if text.len() > MAX_PASTED_TEXT {
        return Err(WebError::Paper(format!(
            "the pasted text is {} characters; at most {MAX_PASTED_TEXT} are read",
            text.len()
        )));
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// A figure of a tally in words (`votes for Ana Silva (ana)`).
fn figure_name(m: &Manifest, contest: &str, field: &str) -> String {
    match field {
        "blank" => "blank ballots".into(),
        "invalid" => "invalid ballots".into(),
        "ballots_cast" => "ballots cast".into(),
        f => {
            let id = f.strip_prefix("choice:").unwrap_or(f);
            let name = m
                .contest(contest)
                .and_then(|c| c.choices.iter().find(|ch| ch.id == id))
                .map(|ch| ch.name.as_str())
                .unwrap_or(id);
            format!("votes for {name}")
        }
    }
}

fn fields(t: &Tally) -> Vec<String> {
    let mut v: Vec<String> = t.choices.keys().map(|c| format!("choice:{c}")).collect();
    v.extend(["blank", "invalid", "ballots_cast"].map(String::from));
    v
}

/// The figures of the sheet's tally `paper` that differ from the log's
/// `log`, in words.
fn differences(m: &Manifest, paper: &Tally, log: &Tally) -> Vec<Value> {
    let mut keys = fields(paper);
    for k in fields(log) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.iter()
        .filter_map(|k| {
            let (p, l) = (tally_field(paper, k), tally_field(log, k));
            (p != l).then(|| {
                let show = |v: Option<u64>| v.map_or_else(|| "nothing".to_owned(), grouped);
                let name = figure_name(m, &paper.contest, k);
                json!({
                    "figure": k,
                    "paper": p,
                    "log": l,
                    "text": format!("{name}: the paper says {}, the log {}", show(p), show(l)),
                })
            })
        })
        .collect()
}

impl Verifier {
    /// Groups the codes of `inputs` (`[[NAME, [TEXT, ...]], ...]`: one
    /// photo, scan or pasted text each) into sheets, reassembles each and
    /// checks it as a signed tally of the election. One answer per sheet:
    /// `state` `genuine` (with its unit, contest, revision, leaf hash and
    /// figures), `not-genuine` or `unreadable` (with `problem`). The
    /// sheets are kept for [`Verifier::paper_verdict`].
    pub fn paper_sheets(&mut self, inputs: &str) -> Result<Value, WebError> {
        if inputs.len() > MAX_INPUTS * MAX_PASTED_TEXT {
            return Err(WebError::Request("too many codes".into()));
        }
        let list: Vec<(String, Vec<String>)> = serde_json::from_str(inputs)
            .map_err(|e| WebError::Request(format!("paper inputs: {e}")))?;
        if list.len() > MAX_INPUTS || list.iter().any(|(_, t)| t.len() > MAX_TEXTS) {
            return Err(WebError::Request("too many inputs or codes".into()));
        }
        let inputs: Vec<PaperInput> = list
            .into_iter()
            .map(|(name, texts)| PaperInput { name, texts })
            .collect();
        self.paper = sheets(&inputs, &self.manifest);
        let m = &self.manifest;
        let out = self
            .paper
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut v = json!({
                    "sheet": i,
                    "name": s.name,
                    "fingerprint": s.fingerprint,
                });
                match &s.tally {
                    Ok(t) => {
                        let tally = t.tally();
                        let unit_name = m
                            .unit_index(&tally.unit)
                            .and_then(|u| m.units.get(u))
                            .map(|u| u.name.clone());
                        v["state"] = json!("genuine");
                        v["unit"] = json!(tally.unit);
                        v["unit_name"] = json!(unit_name);
                        v["contest"] = json!(tally.contest);
                        v["revision"] = json!(tally.revision);
                        v["counted_at"] = json!(format_rfc3339(tally.counted_at));
                        v["leaf_hash"] = json!(t.leaf_hash().to_hex());
                    }
                    Err(PaperProblem::Unreadable(why)) => {
                        v["state"] = json!("unreadable");
                        v["problem"] = json!(why);
                    }
                    Err(PaperProblem::NotGenuine(why)) => {
                        v["state"] = json!("not-genuine");
                        v["problem"] = json!(why);
                    }
                }
                v
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// Compares genuine sheet `sheet` with the entries of its unit proven
    /// so far (the script proves every entry its unit's page lists first):
    /// `verdict` `match` (it is the revision that counts), `superseded`
    /// (the log holds it, a later correction counts), `differs` (the log
    /// holds another tally for its unit and contest, not this one) or
    /// `not-in-log`; with `text` in words and the figures that differ.
    pub fn paper_verdict(&self, sheet: usize) -> Result<Value, WebError> {
        let size = self.cp()?.checkpoint.size;
        let s = self
            .paper
            .get(sheet)
            .ok_or_else(|| WebError::Request(format!("no sheet {sheet}")))?;
        let t = s
            .tally
            .as_ref()
            .map_err(|_| WebError::Request(format!("sheet {sheet} is not a genuine tally")))?;
        let tally = t.tally();
        let (unit, contest) = (&tally.unit, &tally.contest);
        let m = &self.manifest;
        // The unit's proven entries, in log order, through the engine.
        let mut state = ElectionState::new(self.manifest.clone());
        let mut mine = None;
        for (index, e) in &self.entries {
            let Checked::Signed(se) = &e.checked else {
                continue;
            };
            if &se.tally.tally().unit != unit {
                continue;
            }
            if se.tally.as_bytes() == t.as_bytes() {
                mine = Some(*index);
            }
            state.apply(&e.checked);
        }
        let latest = state
            .revisions()
            .latest(unit, contest)
            .and_then(|(leaf, _)| {
                self.entries.iter().find_map(|(i, e)| match &e.checked {
                    Checked::Signed(se) if se.tally.leaf_hash() == leaf => Some((*i, se)),
                    _ => None,
                })
            });
        let what = format!("unit {unit}, contest {contest}");
        let v = match (latest, mine) {
            (Some((li, _)), Some(mi)) if li == mi => json!({
                "verdict": "match",
                "index": mi,
                "size": size,
                "text": format!(
                    "This sheet is revision {} of {what}, counted at {}: the log holds it as entry {mi} (signature and inclusion in the log at size {size} proven in your browser), and it is the revision that counts.",
                    tally.revision,
                    format_rfc3339(tally.counted_at)
                ),
                "differences": [],
            }),
            (Some((li, l)), mine) => {
                let lt = l.tally.tally();
                let reason = lt.reason.as_deref().unwrap_or("none given");
                let (verdict, text) = match mine {
                    Some(mi) => (
                        "superseded",
                        format!(
                            "This sheet is revision {} of {what}, which the log holds as entry {mi}, but a later correction superseded it: the revision that counts is revision {} (entry {li}, reason: {reason}).",
                            tally.revision, lt.revision
                        ),
                    ),
                    None => (
                        "differs",
                        format!(
                            "This sheet carries a tally of {what} (revision {}) signed by the count centre that the log does not hold: the revision that counts is revision {} (entry {li}).",
                            tally.revision, lt.revision
                        ),
                    ),
                };
                json!({
                    "verdict": verdict,
                    "index": li,
                    "size": size,
                    "text": text,
                    "differences": differences(m, tally, lt),
                })
            }
            (None, _) => json!({
                "verdict": "not-in-log",
                "size": size,
                "text": format!(
                    "This sheet carries a validly signed tally of {what}, but the log at size {size} has no tally for that unit and contest."
                ),
                "differences": [],
            }),
        };
        Ok(v)
    }
}
