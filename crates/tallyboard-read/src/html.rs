//! The public results pages: server-rendered HTML, no JavaScript, no
//! inline style (the stylesheet is served at `/style.css`, so the pages'
//! `Content-Security-Policy` allows the site's own files only).

use std::fmt::Write as _;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::{TotalsBody, TotalsRow};

use tallyboard_log::SignedCheckpoint;

use crate::unit::UnitJson;

/// The stylesheet of the pages, served at `/style.css`.
pub(crate) const STYLE: &str = include_str!("style.css");

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".to_owned();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"{}\"></head><body>\n",
        esc(title),
        tallyboard_http::path::STYLE
    )
}

fn checkpoint_block(cp: &SignedCheckpoint) -> String {
    format!(
        "<h2>Checkpoint</h2><p>These results were computed from the log at tree size \
         <strong>{}</strong>, root <code>{}</code>. The signed checkpoint:</p><pre>{}</pre>\n",
        cp.size,
        esc(&cp.root.to_hex()),
        esc(&String::from_utf8_lossy(&cp.note))
    )
}

fn row_table(manifest: &Manifest, row: &TotalsRow) -> String {
    let mut s = String::from(
        "<table><tr><th>Choice</th><th>Votes</th><th>Share of ballots cast</th></tr>\n",
    );
    let contest = manifest.contest(&row.contest);
    for (id, votes) in &row.choices {
        let name = contest
            .and_then(|c| c.choices.iter().find(|ch| &ch.id == id))
            .map_or(id.as_str(), |ch| ch.name.as_str());
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{votes}</td><td>{}</td></tr>",
            esc(name),
            pct(*votes, row.ballots_cast)
        );
    }
    let _ = writeln!(
        s,
        "<tr><td>Blank</td><td>{}</td><td>{}</td></tr>\
         <tr><td>Invalid</td><td>{}</td><td>{}</td></tr>\
         <tr><th>Ballots cast</th><th>{}</th><th>{} of registered voters of reporting units</th></tr></table>",
        row.blank,
        pct(row.blank, row.ballots_cast),
        row.invalid,
        pct(row.invalid, row.ballots_cast),
        row.ballots_cast,
        pct(row.ballots_cast, row.registered)
    );
    s
}

/// The results page (`/`).
pub(crate) fn results_page(
    manifest: &Manifest,
    totals: Option<&TotalsBody>,
    cp: &SignedCheckpoint,
    notice: Option<&str>,
) -> String {
    let mut s = head(&manifest.title);
    if let Some(n) = notice {
        let _ = writeln!(
            s,
            "<div role=\"alert\" class=\"notice\">\
             <strong>Warning:</strong> {}</div>",
            esc(n)
        );
    }
    let _ = writeln!(
        s,
        "<h1>{}</h1><p>Election <code>{}</code>. Every figure below is the sum of tallies signed by \
         the count centres and committed to the public log; anyone can check it with \
         <code>tallyboard verify</code>.</p>",
        esc(&manifest.title),
        esc(&manifest.election)
    );
    match totals {
        None => s.push_str("<p>No results yet.</p>\n"),
        Some(t) => {
            for contest in &manifest.contests {
                let _ = writeln!(s, "<h2>{}</h2>", esc(&contest.title));
                if let Some(row) = t.row(&contest.id, None) {
                    let _ = writeln!(
                        s,
                        "<p>{} of {} reporting units ({}) have reported.</p>",
                        row.units_reporting,
                        row.units_expected,
                        pct(row.units_reporting, row.units_expected)
                    );
                    s.push_str(&row_table(manifest, row));
                }
                let regional: Vec<&TotalsRow> = t
                    .rows
                    .iter()
                    .filter(|r| r.contest == contest.id && r.region.is_some())
                    .collect();
                if !regional.is_empty() {
                    s.push_str(
                        "<table><tr><th>Region</th><th>Units reporting</th><th>Share</th><th>Ballots cast</th></tr>\n",
                    );
                    for r in regional {
                        let id = r.region.as_deref().unwrap_or_default();
                        let name = manifest.region(id).map_or(id, |x| x.name.as_str());
                        let _ = writeln!(
                            s,
                            "<tr><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                            esc(name),
                            r.units_reporting,
                            r.units_expected,
                            pct(r.units_reporting, r.units_expected),
                            r.ballots_cast
                        );
                    }
                    s.push_str("</table>\n");
                }
            }
        }
    }
    s.push_str("<h2>Reporting units</h2><ul>\n");
    for u in &manifest.units {
        let _ = writeln!(
            s,
            "<li><a href=\"{}{}\">{}</a> ({})</li>",
            tallyboard_http::path::UNITS_PREFIX,
            esc(&u.id),
            esc(&u.name),
            esc(&u.id)
        );
    }
    s.push_str("</ul>\n");
    s.push_str(&checkpoint_block(cp));
    s.push_str("<p>Machine-readable: <a href=\"/totals\">/totals</a> (signed), \
                <a href=\"/checkpoint\">/checkpoint</a>, <a href=\"/manifest\">/manifest</a>.</p></body></html>\n");
    s
}

/// The page of one reporting unit (`/units/<id>` asked for HTML).
pub(crate) fn unit_page(manifest: &Manifest, u: &UnitJson, cp: &SignedCheckpoint) -> String {
    let mut s = head(&format!("{} – {}", u.name, manifest.title));
    let _ = writeln!(
        s,
        "<p><a href=\"/\">← all results</a></p><h1>{}</h1><p>Reporting unit <code>{}</code>.</p>",
        esc(&u.name),
        esc(&u.unit)
    );
    if u.entries.is_empty() {
        s.push_str("<p>No tally published yet.</p>\n");
    }
    for e in &u.entries {
        let title = manifest
            .contest(&e.contest)
            .map_or(e.contest.as_str(), |c| c.title.as_str());
        let _ = writeln!(
            s,
            "<h2>{} – revision {}{}</h2><p>Log entry {} (leaf hash <code>{}</code>).</p>",
            esc(title),
            e.revision,
            if e.latest {
                " (counted)"
            } else {
                " (superseded)"
            },
            e.index,
            esc(&e.leaf_hash)
        );
        if let Some(r) = &e.reason {
            let _ = writeln!(
                s,
                "<p>Correction of <code>{}</code>: {}</p>",
                esc(e.supersedes.as_deref().unwrap_or("")),
                esc(r)
            );
        }
        s.push_str(&row_table(manifest, &e.figures));
    }
    s.push_str(&checkpoint_block(cp));
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_names() {
        assert_eq!(
            esc("<b>\"A&B's\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;"
        );
    }
}
