//! Every text of the pages, in one table, so that a site can be translated
//! by adding a table (and setting its `lang`). Placeholders `{0}`, `{1}`,
//! ... are filled by [`fill`]; the values put in are escaped by the caller.

/// The texts of the pages in one language.
#[derive(Debug)]
pub struct Strings {
    /// The `lang` attribute of the pages (BCP 47).
    pub lang: &'static str,
    /// Thousands separator of numbers.
    pub thousands: &'static str,
    /// Decimal separator of shares.
    pub decimal: &'static str,
    /// Link to the front page.
    pub home: &'static str,
    /// Link to the search page.
    pub search: &'static str,
    /// Label of the navigation.
    pub nav: &'static str,
    /// Lead text of the front page: `{0}` the election id.
    pub front_lead: &'static str,
    /// No results yet.
    pub no_results: &'static str,
    /// `{0}` of `{1}` units reporting (`{2}` the share).
    pub reporting: &'static str,
    /// Last update: `{0}` the time, `{1}` the log size.
    pub updated: &'static str,
    /// Caption of a results table: `{0}` the contest, `{1}` the region.
    pub caption: &'static str,
    /// The whole election (region name of the front page).
    pub whole_election: &'static str,
    /// Column: choice.
    pub col_choice: &'static str,
    /// Column: votes.
    pub col_votes: &'static str,
    /// Column: share of valid votes.
    pub col_share: &'static str,
    /// Column: region.
    pub col_region: &'static str,
    /// Column: units reporting.
    pub col_reporting: &'static str,
    /// Column: ballots cast.
    pub col_cast: &'static str,
    /// Column: the leading choice.
    pub col_leader: &'static str,
    /// Column: unit.
    pub col_unit: &'static str,
    /// Column: field of a tally.
    pub col_field: &'static str,
    /// Blank ballots.
    pub blank: &'static str,
    /// Invalid ballots.
    pub invalid: &'static str,
    /// Ballots cast.
    pub ballots_cast: &'static str,
    /// Registered voters (of the units reporting).
    pub registered: &'static str,
    /// Turnout.
    pub turnout: &'static str,
    /// Mark of the leading choice.
    pub leading: &'static str,
    /// Mark of the winner once the results are certified.
    pub winner: &'static str,
    /// Lead of the margin line: `{0}` the leader, `{1}` votes ahead.
    pub margin: &'static str,
    /// A tie at the top: `{0}` the choices.
    pub tie: &'static str,
    /// The units not yet reported can change the leader.
    pub can_change: &'static str,
    /// The units not yet reported cannot change the leader.
    pub cannot_change: &'static str,
    /// The results are certified.
    pub certified: &'static str,
    /// The results are provisional.
    pub provisional: &'static str,
    /// Heading: regions.
    pub regions: &'static str,
    /// Heading: sub-regions of a region.
    pub subregions: &'static str,
    /// Heading: the units of a region.
    pub units: &'static str,
    /// Page `{0}` of `{1}`.
    pub page_of: &'static str,
    /// Previous page.
    pub prev: &'static str,
    /// Next page.
    pub next: &'static str,
    /// Region page lead: `{0}` the region id.
    pub region_lead: &'static str,
    /// Title of a unit page: `{0}` the unit name.
    pub unit_title: &'static str,
    /// Unit page lead: `{0}` id, `{1}` region link, `{2}` registered voters.
    pub unit_lead: &'static str,
    /// No tally of the unit is published yet.
    pub no_tally: &'static str,
    /// Heading of a revision: `{0}` contest, `{1}` revision number.
    pub revision: &'static str,
    /// Counted revision.
    pub counted: &'static str,
    /// Superseded revision: `{0}` the revision that replaced it.
    pub superseded: &'static str,
    /// Correction reason: `{0}` the reason.
    pub correction: &'static str,
    /// Counted at.
    pub counted_at: &'static str,
    /// Count centre.
    pub centre: &'static str,
    /// Signer key.
    pub signer: &'static str,
    /// Signature.
    pub signature: &'static str,
    /// Log entry (leaf index).
    pub leaf_index: &'static str,
    /// Leaf hash.
    pub leaf_hash: &'static str,
    /// Download of the signed tally.
    pub download: &'static str,
    /// How the inclusion proof is found.
    pub proof_note: &'static str,
    /// Search page title.
    pub search_title: &'static str,
    /// Search field label.
    pub search_label: &'static str,
    /// Search button.
    pub search_button: &'static str,
    /// Search hint.
    pub search_hint: &'static str,
    /// Without JavaScript: browse the regions.
    pub search_nojs: &'static str,
    /// Title of the paper page.
    pub paper_title: &'static str,
    /// What the paper page does.
    pub paper_lead: &'static str,
    /// Legend of its form.
    pub paper_legend: &'static str,
    /// Label of the file input.
    pub paper_files: &'static str,
    /// Hint under the file input.
    pub paper_files_hint: &'static str,
    /// Label of the pasted text.
    pub paper_text: &'static str,
    /// The button.
    pub paper_button: &'static str,
    /// Without JavaScript: the command.
    pub paper_nojs: &'static str,
    /// Link to the paper page in the check box.
    pub paper_link: &'static str,
    /// Heading of the check box.
    pub check_title: &'static str,
    /// Text of the check box.
    pub check_text: &'static str,
    /// Authority key.
    pub check_authority: &'static str,
    /// Manifest hash.
    pub check_manifest: &'static str,
    /// Log origin.
    pub check_origin: &'static str,
    /// Mirrors.
    pub check_mirrors: &'static str,
    /// No mirrors listed.
    pub check_no_mirrors: &'static str,
    /// The command to copy.
    pub check_command: &'static str,
    /// Placeholder of this site's address in the command.
    pub check_this_site: &'static str,
    /// Heading: the code that checks this page.
    pub code_title: &'static str,
    /// No browser verifier is installed on this site.
    pub code_none: &'static str,
    /// Machine-readable files.
    pub files: &'static str,
    /// Mirror banner: `{0}` origin, `{1}` time, `{2}` mirror.
    pub mirror_checked: &'static str,
    /// Mirror banner without time: `{0}` origin, `{1}` mirror.
    pub mirror_copy: &'static str,
    /// Warning lead.
    pub warning: &'static str,
    /// Evidence link.
    pub evidence: &'static str,
    /// Breadcrumb label.
    pub breadcrumb: &'static str,
    /// Without a value.
    pub dash: &'static str,
}

/// English.
pub static EN: Strings = Strings {
    lang: "en",
    thousands: ",",
    decimal: ".",
    home: "Results",
    search: "Find a polling station",
    nav: "Site",
    front_lead: "Election {0}. Every figure is the sum of tallies signed by the count centres and committed to a public, witnessed log: your browser checks them (see the box at the bottom), and anyone can check them with the command below.",
    no_results: "No results yet.",
    reporting: "{0} of {1} reporting units ({2}) have reported.",
    updated: "Last update: {0} (log size {1}).",
    caption: "{0}: {1}",
    whole_election: "whole election",
    col_choice: "Choice",
    col_votes: "Votes",
    col_share: "Share of valid votes",
    col_region: "Region",
    col_reporting: "Units reporting",
    col_cast: "Ballots cast",
    col_leader: "Leading",
    col_unit: "Reporting unit",
    col_field: "Figure",
    blank: "Blank",
    invalid: "Invalid",
    ballots_cast: "Ballots cast",
    registered: "Registered voters of the units reporting",
    turnout: "Turnout",
    leading: "leading",
    winner: "winner",
    margin: "{0} leads by {1} votes ({2}).",
    tie: "Tie at the top between {0}.",
    can_change: "The units not yet reported can still change who leads.",
    cannot_change: "The units not yet reported can no longer change who leads.",
    certified: "The election authority has certified these results.",
    provisional: "Provisional results: the count is not closed.",
    regions: "Regions",
    subregions: "Sub-regions",
    units: "Reporting units",
    page_of: "Page {0} of {1}",
    prev: "Previous page",
    next: "Next page",
    region_lead: "Region {0}.",
    unit_title: "{0}",
    unit_lead: "Reporting unit {0} in {1}; {2} registered voters.",
    no_tally: "No tally of this unit has been published yet.",
    revision: "{0}, revision {1}",
    counted: "Counted: this is the latest revision.",
    superseded: "Superseded by revision {0}; not counted.",
    correction: "Correction; reason given: {0}",
    counted_at: "Counted at",
    centre: "Count centre",
    signer: "Signer key",
    signature: "Signature",
    leaf_index: "Log entry (leaf index)",
    leaf_hash: "Leaf hash",
    download: "Download the signed tally",
    proof_note: "Your browser computes this entry's inclusion proof from the log's tiles and checks it against the latest witnessed checkpoint.",
    search_title: "Find a polling station",
    search_label: "Unit id, name or a word of its name",
    search_button: "Search",
    search_hint: "For example the unit id printed on the tally sheet.",
    search_nojs: "Search needs JavaScript. Without it, find a unit through its region:",
    paper_title: "Check a posted tally sheet",
    paper_lead: "Every polling station posts its signed tally sheet, with QR codes that carry the tally exactly as the count centre signed it. Take a photo of the sheet (or scan it) and check here, in your browser, whether the paper matches what is published: the signature of the count centre, the tally's place in the public log, and whether it is the revision that counts.",
    paper_legend: "The sheet",
    paper_files: "Photos or scans of the sheet (PNG or JPEG; one per page for a sheet of several pages)",
    paper_files_hint: "Hold the camera straight above the sheet, in good light, with every QR code in view. Nothing leaves your browser.",
    paper_text: "Or paste the text of the sheet's QR codes (one code a line)",
    paper_button: "Check the sheet",
    paper_nojs: "Checking a sheet in the browser needs JavaScript. Without it, the same check with the command-line verifier:",
    paper_link: "Check a posted tally sheet against the log",
    check_title: "How to check this yourself",
    check_text: "This page is a copy of signed data; nobody has to trust this web site. Compare the authority key with the one the election authority publishes elsewhere, then run:",
    check_authority: "Authority key",
    check_manifest: "Manifest SHA-256",
    check_origin: "Log origin",
    check_mirrors: "Mirrors",
    check_no_mirrors: "none listed",
    check_command: "Command",
    check_this_site: "THIS-SITE",
    code_title: "The code that checks this page (SHA-256)",
    code_none: "no browser verifier is installed on this site",
    files: "Machine-readable files",
    mirror_checked: "Verified copy of {0}, checked at {1} by {2}.",
    mirror_copy: "Verified copy of {0} by {1}.",
    warning: "Warning:",
    evidence: "Evidence",
    breadcrumb: "Breadcrumb",
    dash: "–",
};

/// `template` with `{0}`, `{1}`, ... replaced by `args`.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after
            .find('}')
            .and_then(|j| after[..j].parse::<usize>().ok().map(|n| (n, j)))
        {
            Some((n, j)) => {
                out.push_str(args.get(n).copied().unwrap_or(""));
                rest = &after[j + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        assert_eq!(fill("{0} of {1} ({2})", &["3", "4", "75%"]), "3 of 4 (75%)");
        assert_eq!(fill("a {x} {1}", &["p", "q"]), "a {x} q");
    }
}
