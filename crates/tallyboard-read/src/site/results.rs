//! The front page and the region pages: per contest, the choices in ballot
//! order with votes, share and a bar, the leader marked, blank, invalid,
//! turnout and units reporting; then the regions below.

use std::collections::HashMap;
use std::fmt::Write as _;

use tallyboard_core::manifest::Contest;
use tallyboard_results::{Figures, Results};

use super::page::{Kind, esc};
use super::strings::fill;
use super::{Site, Status, UNITS_PER_PAGE};

/// The results model of a round (`tallyboard-results`), indexed by
/// (contest, region).
pub(crate) struct Model<'a> {
    map: HashMap<(&'a str, Option<&'a str>), &'a Figures>,
}

impl<'a> Model<'a> {
    pub(crate) fn new(results: Option<&'a Results>) -> Model<'a> {
        let mut map = HashMap::new();
        for c in results.map_or(&[][..], |r| r.contests.as_slice()) {
            map.insert((c.contest.as_str(), None), &c.election);
            for r in &c.regions {
                map.insert((c.contest.as_str(), Some(r.region.as_str())), &r.figures);
            }
        }
        Model { map }
    }

    pub(crate) fn get(&self, contest: &str, region: Option<&str>) -> Option<&'a Figures> {
        self.map.get(&(contest, region)).copied()
    }
}

/// The leading choice's position in ballot order, if there is one.
fn leader_of(contest: &Contest, f: &Figures) -> Option<usize> {
    let l = f.outlook.leader.as_deref()?;
    contest.choices.iter().position(|c| c.id == l)
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
        f: &Figures,
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
                    &self.fig_span(c, region, "units_reporting", f.units_reporting),
                    &self.fig_span(c, region, "units_expected", f.units_expected),
                    &self.percent(f.reporting_percent),
                ]
            )
        );
        let lead = leader_of(contest, f);
        let mark = if f.outlook.winner.is_some() {
            t.winner
        } else {
            t.leading
        };
        let _ = write!(
            s,
            "<div class=\"scroll\"><table class=\"results\"><caption>{}</caption>\n\
             <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
            esc(&fill(t.caption, &[&contest.title, region_name])),
            esc(t.col_choice),
            esc(t.col_votes),
            esc(t.col_share),
        );
        for (i, ch) in f.choices.iter().enumerate() {
            let is_lead = lead == Some(i);
            let width = ch
                .share_percent
                .map_or(0, |p| p.hundredths() / 100)
                .min(100);
            let _ = writeln!(
                s,
                "<tr{}><th scope=\"row\">{}{}</th>{}<td>{} <span class=\"bar\" aria-hidden=\"true\"><span class=\"w{width}\"></span></span></td></tr>",
                if is_lead { " class=\"lead\"" } else { "" },
                esc(&ch.name),
                if is_lead {
                    format!(" <strong class=\"mark\">({})</strong>", esc(mark))
                } else {
                    String::new()
                },
                self.fig(c, region, &format!("choice:{}", ch.choice), ch.votes),
                self.percent(ch.share_percent),
            );
        }
        let of_cast = |n| tallyboard_results::Percent::of(n, f.ballots_cast);
        let _ = write!(
            s,
            "</tbody>\n<tbody class=\"other\">\
             <tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td>{} {}</td></tr>\
             <tr><th scope=\"row\">{}</th>{}<td></td></tr></tbody></table></div>\n",
            esc(t.blank),
            self.fig(c, region, "blank", f.blank),
            self.percent(of_cast(f.blank)),
            esc(t.invalid),
            self.fig(c, region, "invalid", f.invalid),
            self.percent(of_cast(f.invalid)),
            esc(t.ballots_cast),
            self.fig(c, region, "ballots_cast", f.ballots_cast),
            esc(t.turnout),
            self.percent(f.turnout_percent),
            esc(t.registered),
            self.fig(c, region, "registered", f.registered),
        );
        let o = &f.outlook;
        if let Some(ch) = lead.and_then(|i| f.choices.get(i)) {
            let _ = writeln!(
                s,
                "<p>{}</p>",
                esc(&fill(
                    t.margin,
                    &[
                        &ch.name,
                        &self.n(o.margin),
                        &self.percent(tallyboard_results::Percent::of(o.margin, f.valid))
                    ]
                ))
            );
        } else if !o.tied.is_empty() {
            let names: Vec<&str> = f
                .choices
                .iter()
                .filter(|c| o.tied.contains(&c.choice))
                .map(|c| c.name.as_str())
                .collect();
            let _ = writeln!(s, "<p>{}</p>", esc(&fill(t.tie, &[&names.join(", ")])));
        }
        if o.winner.is_none()
            && f.units_reporting < f.units_expected
            && (lead.is_some() || !o.tied.is_empty())
        {
            let _ = writeln!(
                s,
                "<p>{}</p>",
                esc(if o.can_change {
                    t.can_change
                } else {
                    t.cannot_change
                })
            );
        }
        s.push_str("</section>\n");
    }

    /// Every contest's results in `region` that the model has.
    fn all_contests(&self, s: &mut String, model: &Model<'_>, region: Option<&str>, name: &str) {
        let mut any = false;
        for contest in &self.manifest.contests {
            if let Some(f) = model.get(&contest.id, region) {
                any = true;
                self.contest_block(s, contest, region, name, f);
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
    fn subregion_tables(&self, s: &mut String, model: &Model<'_>, list: &[usize]) {
        let t = self.t;
        for contest in &self.manifest.contests {
            let c = contest.id.as_str();
            let present: Vec<(&str, &str, &Figures)> = list
                .iter()
                .filter_map(|&r| self.manifest.regions.get(r))
                .filter_map(|r| {
                    model
                        .get(c, Some(&r.id))
                        .map(|f| (r.id.as_str(), r.name.as_str(), f))
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
                let lead = leader_of(contest, row)
                    .and_then(|i| contest.choices.get(i))
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
pub(crate) fn front(site: &Site, st: &Status, model: &Model<'_>) -> String {
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
    site.all_contests(&mut s, model, None, t.whole_election);
    if !site.top.is_empty() {
        let _ = writeln!(s, "<h2>{}</h2>", esc(t.regions));
        site.region_links(&mut s, &site.top);
    }
    site.close(&mut s);
    s
}

/// The pages of region `r`.
pub(crate) fn region(
    site: &Site,
    r: usize,
    st: &Status,
    model: &Model<'_>,
) -> Vec<(String, String)> {
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
            site.all_contests(&mut s, model, Some(&reg.id), &reg.name);
            let kids = site.children.get(r).map_or(&[][..], Vec::as_slice);
            if !kids.is_empty() {
                let _ = writeln!(s, "<h2>{}</h2>", esc(t.subregions));
                site.region_links(&mut s, kids);
                site.subregion_tables(&mut s, model, kids);
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
