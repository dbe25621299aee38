//! A reporting unit's files: its page (every revision of every contest),
//! `unit.json` (the same for scripts) and each signed tally as logged
//! (`<revision>-<contest>.cbor`). None of them depends on the checkpoint:
//! the browser computes the inclusion proofs from the log's tiles.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::tally::UnverifiedTally;

use super::Site;
use super::page::{Kind, esc};
use super::strings::fill;

/// One revision of a unit's tally for one contest, as `unit.json` lists it.
#[derive(Debug, Serialize)]
pub struct UnitEntry {
    /// Leaf index in the log.
    pub index: u64,
    /// Leaf hash, hex.
    pub leaf_hash: String,
    /// Contest id.
    pub contest: String,
    /// Revision number.
    pub revision: u64,
    /// Leaf hash of the entry this one corrects, hex.
    pub supersedes: Option<String>,
    /// The reason of the correction.
    pub reason: Option<String>,
    /// Whether this is the latest revision for its contest (the one counted).
    pub latest: bool,
    /// The signed tally, hex.
    pub entry: String,
    /// Path of the signed tally's file on the site.
    pub file: String,
    /// Votes per choice.
    pub choices: BTreeMap<String, u64>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub ballots_cast: u64,
    /// When the count was made (POSIX seconds).
    pub counted_at: u64,
    /// The key that signed it, hex.
    pub signer: String,
    /// The signature, hex.
    pub signature: String,
}

/// `unit.json`.
#[derive(Debug, Serialize)]
struct UnitJson<'a> {
    unit: &'a str,
    name: &'a str,
    region: &'a str,
    entries: &'a [UnitEntry],
}

/// The entries of a unit, decoded: `(leaf index, bytes)` in log order.
/// Entries that do not decode as tallies of the election are left out
/// (the log holds verified data; this only guards the page).
fn decode(manifest: &Manifest, entries: &[(u64, Vec<u8>)]) -> Vec<UnitEntry> {
    let mut out: Vec<UnitEntry> = Vec::with_capacity(entries.len());
    for (index, bytes) in entries {
        let Ok(u) = UnverifiedTally::from_bytes_in(bytes, manifest) else {
            continue;
        };
        let (signer, _, sig) = u.signature_parts();
        let t = u.tally();
        out.push(UnitEntry {
            index: *index,
            leaf_hash: leaf_hash(bytes).to_hex(),
            contest: t.contest.clone(),
            revision: t.revision,
            supersedes: t.supersedes.map(|h| h.to_hex()),
            reason: t.reason.clone(),
            latest: false,
            entry: hex::encode(bytes),
            file: format!("/units/{}/{}-{}.cbor", t.unit, t.revision, t.contest),
            choices: t.choices.clone(),
            blank: t.blank,
            invalid: t.invalid,
            ballots_cast: t.ballots_cast,
            counted_at: t.counted_at,
            signer: signer.to_hex(),
            signature: hex::encode(sig.0),
        });
    }
    // The highest revision of each contest is the one counted.
    let mut best: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    for (i, e) in out.iter().enumerate() {
        let b = best.entry(e.contest.as_str()).or_insert((e.revision, i));
        if e.revision >= b.0 {
            *b = (e.revision, i);
        }
    }
    let latest: Vec<usize> = best.values().map(|(_, i)| *i).collect();
    for i in latest {
        if let Some(e) = out.get_mut(i) {
            e.latest = true;
        }
    }
    out
}

/// The files of unit `ui` (manifest index) with `entries` (`(leaf index,
/// signed tally)` in log order): `(path under public/, contents)`.
pub fn unit_files(site: &Site, ui: usize, entries: &[(u64, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let m = &site.manifest;
    let Some(unit) = m.units.get(ui) else {
        return Vec::new();
    };
    let decoded = decode(m, entries);
    let dir = format!("units/{}", unit.id);
    let mut files = Vec::with_capacity(2 + decoded.len());
    files.push((
        format!("{dir}/index.html"),
        page(site, ui, &decoded).into_bytes(),
    ));
    let json = UnitJson {
        unit: &unit.id,
        name: &unit.name,
        region: &unit.region,
        entries: &decoded,
    };
    files.push((
        format!("{dir}/unit.json"),
        serde_json::to_vec_pretty(&json).unwrap_or_default(),
    ));
    for (e, (_, bytes)) in decoded.iter().zip(entries) {
        files.push((e.file.trim_start_matches('/').to_owned(), bytes.clone()));
    }
    files
}

/// The unit's page.
fn page(site: &Site, ui: usize, entries: &[UnitEntry]) -> String {
    let t = site.t;
    let m = &site.manifest;
    let Some(unit) = m.units.get(ui) else {
        return String::new();
    };
    let title = format!("{} – {}", fill(t.unit_title, &[&unit.name]), m.title);
    let banner = site.banner(&super::Status::default(), false, false);
    let mut s = site.open(&title, &Kind::Unit(&unit.id, &unit.region), &banner, "");
    let region = m.region(&unit.region).map_or_else(
        || esc(&unit.region),
        |r| format!("<a href=\"/regions/{}/\">{}</a>", esc(&r.id), esc(&r.name)),
    );
    let _ = writeln!(
        s,
        "<h1>{}</h1>\n<p>{}</p>",
        esc(&fill(t.unit_title, &[&unit.name])),
        fill(
            &esc(t.unit_lead),
            &[
                &format!("<code>{}</code>", esc(&unit.id)),
                &region,
                &site.n(unit.registered)
            ]
        )
    );
    if entries.is_empty() {
        let _ = writeln!(s, "<p>{}</p>", esc(t.no_tally));
    }
    let centre = m
        .centre(&unit.centre)
        .map_or(unit.centre.as_str(), |c| c.name.as_str());
    for contest in &m.contests {
        let mut revs: Vec<&UnitEntry> =
            entries.iter().filter(|e| e.contest == contest.id).collect();
        revs.sort_by_key(|e| (e.revision, e.index));
        for (k, e) in revs.iter().enumerate() {
            let c = esc(&contest.id);
            let _ = writeln!(
                s,
                "<section class=\"entry{}\" data-tb-entry=\"{}\" data-tb-leaf-hash=\"{}\" aria-labelledby=\"e-{}\">\
                 <h2 id=\"e-{}\">{}</h2>",
                if e.latest { "" } else { " old" },
                e.index,
                e.leaf_hash,
                e.index,
                e.index,
                esc(&fill(
                    t.revision,
                    &[&contest.title, &e.revision.to_string()]
                )),
            );
            if e.latest {
                let _ = writeln!(s, "<p class=\"counted\">{}</p>", esc(t.counted));
            } else {
                let next = revs.get(k + 1).map_or(0, |n| n.revision);
                let _ = writeln!(
                    s,
                    "<p class=\"superseded\">{}</p>",
                    esc(&fill(t.superseded, &[&next.to_string()]))
                );
                if let Some(r) = revs.get(k + 1).and_then(|n| n.reason.as_deref()) {
                    let _ = writeln!(s, "<p>{}</p>", esc(&fill(t.correction, &[r])));
                }
            }
            if let Some(r) = &e.reason {
                let _ = writeln!(s, "<p>{}</p>", esc(&fill(t.correction, &[r])));
            }
            let _ = write!(
                s,
                "<div class=\"scroll\"><table class=\"results\"><caption>{}</caption><thead><tr>\
                 <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                esc(&fill(t.caption, &[&contest.title, &unit.name])),
                esc(t.col_choice),
                esc(t.col_votes)
            );
            for ch in &contest.choices {
                let v = e.choices.get(&ch.id).copied().unwrap_or(0);
                let _ = writeln!(
                    s,
                    "<tr><th scope=\"row\">{}</th><td data-tb-unitfig=\"{c}|choice:{}\">{}</td></tr>",
                    esc(&ch.name),
                    esc(&ch.id),
                    site.n(v)
                );
            }
            for (label, field, v) in [
                (t.blank, "blank", e.blank),
                (t.invalid, "invalid", e.invalid),
                (t.ballots_cast, "ballots_cast", e.ballots_cast),
            ] {
                let _ = writeln!(
                    s,
                    "<tr><th scope=\"row\">{}</th><td data-tb-unitfig=\"{c}|{field}\">{}</td></tr>",
                    esc(label),
                    site.n(v)
                );
            }
            let _ = write!(
                s,
                "</tbody></table></div>\n<dl class=\"meta\">\
                 <dt>{}</dt><dd><time datetime=\"{at}\">{at}</time></dd>\
                 <dt>{}</dt><dd>{} (<code>{}</code>)</dd>\
                 <dt>{}</dt><dd><code>{}</code></dd>\
                 <dt>{}</dt><dd><code>{}</code></dd>\
                 <dt>{}</dt><dd>{}</dd>\
                 <dt>{}</dt><dd><code>{}</code></dd></dl>\n\
                 <p><a href=\"{}\" download>{}</a></p><p class=\"proof\">{}</p></section>\n",
                esc(t.counted_at),
                esc(t.centre),
                esc(centre),
                esc(&unit.centre),
                esc(t.signer),
                e.signer,
                esc(t.signature),
                e.signature,
                esc(t.leaf_index),
                site.n(e.index),
                esc(t.leaf_hash),
                e.leaf_hash,
                esc(&e.file),
                esc(t.download),
                esc(t.proof_note),
                at = tallyboard_core::time::format_rfc3339(e.counted_at),
            );
        }
    }
    site.close(&mut s);
    s
}
