//! The front page and the region pages: per contest, the choices in ballot
//! order with votes, share and a bar, the leader marked, blank, invalid,
//! turnout and units reporting; then the regions below.

use std::fmt::Write as _;

use tallyboard_core::manifest::Contest;
use tallyboard_core::totals::TotalsRow;

use super::page::{Kind, esc, per_mille};
use super::strings::fill;
use super::{Rows, Site, Status, UNITS_PER_PAGE};

/// The leading choice of `row` (ballot order index), if one has strictly
/// more votes than every other.
fn leader(contest: &Contest, row: &TotalsRow) -> Option<(usize, u64)> {
    let votes: Vec<u64> = contest
        .choices
        .iter()
        .map(|c| row.choices.get(&c.id).copied().unwrap_or(0))
        .collect();
    let (i, &best) = votes.iter().enumerate().max_by_key(|(_, v)| **v)?;
    let second = votes
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, v)| *v)
        .max()
        .unwrap_or(0);
    (best > 0 && best > second).then_some((i, best - second))
}

impl Site {
    /// `<td data-tb-fig>`: a signed figure.
    pub(crate) fn fig(&self, contest: &str, region: Option<&str>, field: &str, v: u64) -> String {
        format!(
            "<td data-tb-fig=\"{}|{}|{}\">{}</td>",
            esc(contest),
            esc(region.unwrap_or("*")),
            esc(field),
            self.n(v)
        )
    }

    /// `<span data-tb-fig>`: a signed figure in running text.
    fn fig_span(&self, contest: &str, region: Option<&str>, field: &str, v: u64) -> String {
        format!(
            "<span data-tb-fig=\"{}|{}|{}\">{}</span>",
            esc(contest),
            esc(region.unwrap_or("*")),
            esc(field),
            self.n(v)
        )
    }

    /// The results of `contest` in `region` (`None`: whole election).
    fn contest_block(
        &self,
        s: &mut String,
        contest: &Contest,
        region: Option<&str>,
        region_name: &str,
        row: &TotalsRow,
        certified: bool,
    ) {
        let t = self.t;
        let c = contest.id.as_str();
        let hid = format!("c-{}", esc(c));
        let _ = writeln!(
            s,
            "<section aria-labelledby=\"{hid}\"><h2 id=\"{hid}\">{}</h2>",
            esc(&contest.title)
        );
        let _ = writeln!(
            s,
            "<p>{}</p>",
            fill(
                &esc(t.reporting),
                &[
                    &self.fig_span(c, region, "units_reporting", row.units_reporting),
                    &self.fig_span(c, region, "units_expected", row.units_expected),
                    &self.pct(row.units_reporting, row.units_expected),
                ]
            )
        );
        let valid: u64 = row.choices.values().sum();
        let lead = leader(contest, row);
        let mark = if certified { t.winner } else { t.leading };
        let _ = write!(
            s,
            "<div class=\"scroll\"><table class=\"results\"><caption>{}</caption>\n\
             <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
            esc(&fill(t.caption, &[&contest.title, region_name])),
            esc(t.col_choice),
            esc(t.col_votes),
            esc(t.col_share),
        );
        for (i, ch) in contest.choices.iter().enumerate() {
            let v = row.choices.get(&ch.id).copied().unwrap_or(0);
            let is_lead = lead.is_some_and(|(l, _)| l == i);
            let _ = writeln!(
                s,
                "<tr{}><th scope=\"row\">{}{}</th>{}<td>{} <span class=\"bar\" aria-hidden=\"true\"><span class=\"w{}\"></span></span></td></tr>",
                if is_lead { " class=\"lead\"" } else { "" },
                esc(&ch.name),
                if is_lead {
                    format!(" <strong class=\"mark\">({})</strong>", esc(mark))
                } else {
                    String::new()
                },
                self.fig(c, region, &format!("choice:{}", ch.id), v),
                self.pct(v, valid),
                per_mille(v, valid) / 10,
            );
        }
        let _ = write!(
            s,
            "</tbody>\n<tbody class=\"other\">\
             <tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td>{} {}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td></td></tr></tbody></table></div>\n",
            esc(t.blank),
            self.fig(c, region, "blank", row.blank),
            self.pct(row.blank, row.ballots_cast),
            esc(t.invalid),
            self.fig(c, region, "invalid", row.invalid),
            self.pct(row.invalid, row.ballots_cast),
            esc(t.ballots_cast),
            self.fig(c, region, "ballots_cast", row.ballots_cast),
            esc(t.turnout),
            self.pct(row.ballots_cast, row.registered),
            esc(t.registered),
            self.fig(c, region, "registered", row.registered),
        );
        if let Some((i, ahead)) = lead
            && let Some(ch) = contest.choices.get(i)
        {
            let _ = writeln!(
                s,
                "<p>{}</p>",
                esc(&fill(
                    t.margin,
                    &[&ch.name, &self.n(ahead), &self.pct(ahead, valid)]
                ))
            );
        }
        s.push_str("</section>\n");
    }

    /// Every contest's results in `region` that the totals have a row for.
    fn all_contests(
        &self,
        s: &mut String,
        rows: &Rows<'_>,
        region: Option<&str>,
        name: &str,
        st: &Status,
    ) {
        let mut any = false;
        for contest in &self.manifest.contests {
            if let Some(row) = rows.get(&contest.id, region) {
                any = true;
                self.contest_block(s, contest, region, name, row, st.certified);
            }
        }
        if !any {
            let _ = writeln!(s, "<p>{}</p>", esc(self.t.no_results));
        }
    }

    /// Links to regions `list`.
    pub(crate) fn region_links(&self, s: &mut String, list: &[usize]) {
        s.push_str("<ul class=\"regions\">\n");
        for &r in list {
            if let Some(reg) = self.manifest.regions.get(r) {
                let _ = writeln!(
                    s,
                    "<li><a href=\"/regions/{}/\">{}</a></li>",
                    esc(&reg.id),
                    esc(&reg.name)
                );
            }
        }
        s.push_str("</ul>\n");
    }

    /// Per contest, the sub-regions `list` of a region: units reporting,
    /// ballots cast and the leader.
    fn subregion_tables(&self, s: &mut String, rows: &Rows<'_>, list: &[usize]) {
        let t = self.t;
        for contest in &self.manifest.contests {
            let c = contest.id.as_str();
            let present: Vec<(&str, &str, &TotalsRow)> = list
                .iter()
                .filter_map(|&r| self.manifest.regions.get(r))
                .filter_map(|r| {
                    rows.get(c, Some(&r.id))
                        .map(|row| (r.id.as_str(), r.name.as_str(), row))
                })
                .collect();
            if present.is_empty() {
                continue;
            }
            let _ = write!(
                s,
                "<div class=\"scroll\"><table class=\"sub\"><caption>{}</caption><thead><tr>\
                 <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                esc(&fill(t.caption, &[&contest.title, t.subregions])),
                esc(t.col_region),
                esc(t.col_reporting),
                esc(t.col_cast),
                esc(t.col_leader),
            );
            for (id, name, row) in present {
                let lead = leader(contest, row)
                    .and_then(|(i, _)| contest.choices.get(i))
                    .map_or_else(|| esc(t.dash), |ch| esc(&ch.name));
                let _ = writeln!(
                    s,
                    "<tr><th scope=\"row\"><a href=\"/regions/{}/\">{}</a></th><td>{} / {}</td>{}<td>{lead}</td></tr>",
                    esc(id),
                    esc(name),
                    self.fig_span(c, Some(id), "units_reporting", row.units_reporting),
                    self.fig_span(c, Some(id), "units_expected", row.units_expected),
                    self.fig(c, Some(id), "ballots_cast", row.ballots_cast),
                );
            }
            s.push_str("</tbody></table></div>\n");
        }
    }
}

/// The front page.
pub(crate) fn front(site: &Site, st: &Status) -> String {
    let t = site.t;
    let m = &site.manifest;
    let mut s = site.open(&m.title, &Kind::Front, &site.banner(st, true, true), "");
    let _ = writeln!(
        s,
        "<h1>{}</h1>\n<p>{}</p>",
        esc(&m.title),
        fill(
            &esc(t.front_lead),
            &[&format!("<code>{}</code>", esc(&m.election))]
        )
    );
    let _ = writeln!(
        s,
        "<p class=\"status\">{}</p>",
        esc(if st.certified {
            t.certified
        } else {
            t.provisional
        })
    );
    if let Some(tot) = &st.totals {
        let _ = writeln!(
            s,
            "<p>{}</p>",
            esc(&fill(
                t.updated,
                &[
                    &tallyboard_core::time::format_rfc3339(st.updated_at),
                    &site.n(tot.checkpoint.size)
                ]
            ))
        );
    }
    let rows = Rows::new(st.totals.as_deref());
    site.all_contests(&mut s, &rows, None, t.whole_election, st);
    if !site.top.is_empty() {
        let _ = writeln!(s, "<h2>{}</h2>", esc(t.regions));
        site.region_links(&mut s, &site.top);
    }
    site.close(&mut s);
    s
}

/// The pages of region `r`.
pub(crate) fn region(site: &Site, r: usize, st: &Status) -> Vec<(String, String)> {
    let t = site.t;
    let m = &site.manifest;
    let Some(reg) = m.regions.get(r) else {
        return Vec::new();
    };
    let dir = format!("regions/{}", reg.id);
    let title = format!("{} – {}", reg.name, m.title);
    let banner = site.banner(st, false, true);
    let units = site.region_units.get(r).map_or(&[][..], Vec::as_slice);
    let pages = units.len().div_ceil(UNITS_PER_PAGE).max(1);
    // The breadcrumb: the front page, then the ancestors.
    let mut crumbs = format!(
        "<nav aria-label=\"{}\" class=\"crumbs\"><ol><li><a href=\"/\">{}</a></li>",
        esc(t.breadcrumb),
        esc(t.home)
    );
    let mut chain = Vec::new();
    let mut cur = reg.parent.as_deref();
    while let Some(p) = cur.and_then(|p| m.region(p)) {
        if chain.len() > m.regions.len() {
            break;
        }
        chain.push(p);
        cur = p.parent.as_deref();
    }
    for p in chain.iter().rev() {
        let _ = write!(
            crumbs,
            "<li><a href=\"/regions/{}/\">{}</a></li>",
            esc(&p.id),
            esc(&p.name)
        );
    }
    let _ = writeln!(
        crumbs,
        "<li aria-current=\"page\">{}</li></ol></nav>",
        esc(&reg.name)
    );
    let mut out = Vec::with_capacity(pages);
    for page in 1..=pages {
        let mut s = site.open(&title, &Kind::Region(&reg.id), &banner, "");
        s.push_str(&crumbs);
        let _ = writeln!(
            s,
            "<h1>{}</h1>\n<p>{}</p>",
            esc(&reg.name),
            fill(
                &esc(t.region_lead),
                &[&format!("<code>{}</code>", esc(&reg.id))]
            )
        );
        if page == 1 {
            let rows = Rows::new(st.totals.as_deref());
            site.all_contests(&mut s, &rows, Some(&reg.id), &reg.name, st);
            let kids = site.children.get(r).map_or(&[][..], Vec::as_slice);
            if !kids.is_empty() {
                let _ = writeln!(s, "<h2>{}</h2>", esc(t.subregions));
                site.region_links(&mut s, kids);
                site.subregion_tables(&mut s, &rows, kids);
            }
        }
        if !units.is_empty() {
            let _ = writeln!(s, "<h2 id=\"units\">{}</h2>", esc(t.units));
            let nav = pager(site, &dir, page, pages);
            s.push_str(&nav);
            s.push_str("<ul class=\"units\">\n");
            let from = (page - 1) * UNITS_PER_PAGE;
            for &u in units.iter().skip(from).take(UNITS_PER_PAGE) {
                if let Some(unit) = m.units.get(u) {
                    let _ = writeln!(
                        s,
                        "<li><a href=\"/units/{id}/\">{name}</a> <code>{id}</code></li>",
                        id = esc(&unit.id),
                        name = esc(&unit.name)
                    );
                }
            }
            s.push_str("</ul>\n");
            s.push_str(&nav);
        }
        site.close(&mut s);
        let file = if page == 1 {
            format!("{dir}/index.html")
        } else {
            format!("{dir}/page-{page}.html")
        };
        out.push((file, s));
    }
    out
}

/// The links between the pages of a region's units.
fn pager(site: &Site, dir: &str, page: usize, pages: usize) -> String {
    if pages < 2 {
        return String::new();
    }
    let t = site.t;
    let href = |p: usize| {
        if p == 1 {
            format!("/{dir}/#units")
        } else {
            format!("/{dir}/page-{p}.html")
        }
    };
    let mut s = format!(
        "<nav class=\"pager\" aria-label=\"{}\">",
        esc(&fill(t.page_of, &[&page.to_string(), &pages.to_string()]))
    );
    if page > 1 {
        let _ = write!(
            s,
            "<a href=\"{}\" rel=\"prev\">{}</a> ",
            esc(&href(page - 1)),
            esc(t.prev)
        );
    }
    let _ = write!(
        s,
        "<span>{}</span>",
        esc(&fill(t.page_of, &[&page.to_string(), &pages.to_string()]))
    );
    if page < pages {
        let _ = write!(
            s,
            " <a href=\"{}\" rel=\"next\">{}</a>",
            esc(&href(page + 1)),
            esc(t.next)
        );
    }
    s.push_str("</nav>\n");
    s
}
