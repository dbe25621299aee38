//! A signed tally in words: what the sheet prints and `tallyboard show`
//! writes.

use std::fmt;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::paper::fingerprint;
use tallyboard_core::time::format_rfc3339;
use tallyboard_core::{Hash, SignedTally};

/// One labelled line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What it is ("Unit", "ada (Ada Lovelace)").
    pub label: String,
    /// Its value ("P-017 (North school)", "1,234").
    pub value: String,
}

fn line(label: impl Into<String>, value: impl Into<String>) -> Line {
    Line {
        label: label.into(),
        value: value.into(),
    }
}

/// A signed tally described for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The election's title (its id without a manifest).
    pub title: String,
    /// Election, unit, region, contest, revision and, for a correction, what
    /// it corrects and why.
    pub header: Vec<Line>,
    /// Every choice's votes, then blank, invalid and ballots cast, with
    /// thousands separators.
    pub figures: Vec<Line>,
    /// Counted time, count centre, signer key.
    pub footer: Vec<Line>,
    /// The short fingerprint (`spec/paper.md` §4).
    pub fingerprint: String,
    /// The leaf hash of the signed tally.
    pub leaf: Hash,
}

/// `1234567` as `1,234,567`: the results' own number format, so a sheet
/// and a results page write every figure the same way.
pub use tallyboard_results::thousands;

/// `name (id)`, or the id alone when the name is missing or the same.
fn named(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != id && !n.is_empty() => format!("{n} ({id})"),
        _ => id.to_owned(),
    }
}

/// Describes `signed` with the names the manifest gives (ids alone without
/// one, or for what the manifest does not list).
pub fn describe(signed: &SignedTally, manifest: Option<&Manifest>) -> Description {
    let t = signed.tally();
    let unit = manifest.and_then(|m| m.unit(&t.unit));
    let contest = manifest.and_then(|m| m.contest(&t.contest));
    let mut header = vec![line(
        "Election",
        named(&t.election, manifest.map(|m| m.title.as_str())),
    )];
    header.push(line("Unit", named(&t.unit, unit.map(|u| u.name.as_str()))));
    if let (Some(m), Some(u)) = (manifest, unit) {
        // The region and its ancestors, innermost first (bounded: a
        // validated manifest has no cycles, but this never loops).
        let mut chain = Vec::new();
        let mut next = Some(u.region.as_str());
        while let Some(id) = next {
            if chain.len() >= 16 {
                break;
            }
            let r = m.region(id);
            chain.push(named(id, r.map(|r| r.name.as_str())));
            next = r.and_then(|r| r.parent.as_deref());
        }
        header.push(line("Region", chain.join(", ")));
    }
    header.push(line(
        "Contest",
        named(&t.contest, contest.map(|c| c.title.as_str())),
    ));
    header.push(line("Revision", t.revision.to_string()));
    if let Some(s) = &t.supersedes {
        header.push(line(
            "Corrects",
            format!(
                "the tally of fingerprint {} ({})",
                fingerprint(s),
                s.to_hex()
            ),
        ));
    }
    if let Some(r) = &t.reason {
        header.push(line("Reason", r.clone()));
    }

    let mut figures = Vec::new();
    // Choices in the manifest's order, then any the manifest does not list.
    let mut listed = Vec::new();
    if let Some(c) = contest {
        for ch in &c.choices {
            if let Some(v) = t.choices.get(&ch.id) {
                figures.push(line(named(&ch.id, Some(&ch.name)), thousands(*v)));
                listed.push(ch.id.as_str());
            }
        }
    }
    for (id, v) in &t.choices {
        if !listed.contains(&id.as_str()) {
            figures.push(line(id.clone(), thousands(*v)));
        }
    }
    figures.push(line("Blank", thousands(t.blank)));
    figures.push(line("Invalid", thousands(t.invalid)));
    figures.push(line("Ballots cast", thousands(t.ballots_cast)));
    if let Some(u) = unit {
        figures.push(line("Registered voters", thousands(u.registered)));
    }

    let centre = manifest.and_then(|m| m.key(&t.signer)).map(|(c, _)| c);
    let mut footer = vec![line("Counted at", format_rfc3339(t.counted_at))];
    footer.push(line(
        "Count centre",
        match centre {
            Some(c) => named(&c.id, Some(&c.name)),
            None => "(signer not in the manifest)".to_owned(),
        },
    ));
    footer.push(line("Signer key", t.signer.to_hex()));
    let leaf = signed.leaf_hash();
    Description {
        title: manifest.map_or_else(|| t.election.clone(), |m| m.title.clone()),
        header,
        figures,
        footer,
        fingerprint: fingerprint(&leaf),
        leaf,
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .header
            .iter()
            .chain(&self.figures)
            .chain(&self.footer)
            .map(|l| l.label.chars().count())
            .max()
            .unwrap_or(0);
        for l in &self.header {
            writeln!(f, "{:<width$}  {}", l.label, l.value)?;
        }
        let num = self
            .figures
            .iter()
            .map(|l| l.value.len())
            .max()
            .unwrap_or(0);
        for l in &self.figures {
            writeln!(
                f,
                "  {:<w$}  {:>num$}",
                l.label,
                l.value,
                w = width - 2.min(width)
            )?;
        }
        for l in &self.footer {
            writeln!(f, "{:<width$}  {}", l.label, l.value)?;
        }
        writeln!(f, "{:<width$}  {}", "Fingerprint", self.fingerprint)?;
        write!(f, "{:<width$}  {}", "Leaf hash", self.leaf.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
