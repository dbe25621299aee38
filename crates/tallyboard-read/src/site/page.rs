//! What every page shares: escaping, number formatting, the head (CSP,
//! the verifier's `<meta>`s), the header, the check box and the footer.

use std::fmt::Write as _;

use super::Site;
use super::strings::fill;

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

/// What a page is, for `<body data-tb-page>` and its other attributes.
pub(crate) enum Kind<'a> {
    Front,
    Region(&'a str),
    Unit(&'a str, &'a str),
    Search,
    Paper,
}

impl Site {
    /// A percentage of the results model (`52.34%`), or a dash.
    pub(crate) fn percent(&self, p: Option<tallyboard_results::Percent>) -> String {
        p.map_or_else(
            || self.t.dash.to_owned(),
            |p| p.to_string().replace('.', self.t.decimal),
        )
    }

    /// `n` with this site's thousands separator.
    pub(crate) fn n(&self, n: u64) -> String {
        tallyboard_results::thousands(n).replace(',', self.t.thousands)
    }

    /// The page up to the start of `<main>`: head, header, banners and the
    /// verifier's status box. `extra_head` goes at the end of `<head>`.
    pub(crate) fn open(
        &self,
        title: &str,
        kind: &Kind<'_>,
        banner: &str,
        extra_head: &str,
    ) -> String {
        let mut s = String::with_capacity(8192);
        let t = self.t;
        let _ = write!(
            s,
            "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
             <meta name=\"tb-authority\" content=\"{auth}\">\n\
             <meta name=\"tb-manifest-sha256\" content=\"{mh}\">\n\
             <meta name=\"tb-origin\" content=\"{origin}\">\n\
             <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/site/style.css\">\n\
             <script type=\"module\" src=\"/site/verify.js\"></script>{extra_head}</head>\n",
            lang = t.lang,
            csp = esc(&self.csp),
            auth = esc(&self.authority),
            mh = self.manifest_sha256,
            origin = esc(&self.manifest.log.origin),
            title = esc(title),
        );
        let attrs = match kind {
            Kind::Front => "data-tb-page=\"front\"".to_owned(),
            Kind::Region(r) => format!("data-tb-page=\"region\" data-tb-region=\"{}\"", esc(r)),
            Kind::Unit(u, r) => format!(
                "data-tb-page=\"unit\" data-tb-unit=\"{}\" data-tb-region=\"{}\"",
                esc(u),
                esc(r)
            ),
            Kind::Search => "data-tb-page=\"search\"".to_owned(),
            Kind::Paper => "data-tb-page=\"paper\"".to_owned(),
        };
        let _ = write!(
            s,
            "<body {attrs}>\n<header><nav aria-label=\"{nav}\"><a href=\"/\">{home}</a> \
             <a href=\"/search.html\">{search}</a></nav><p class=\"election\">{title}</p></header>\n\
             {banner}<div id=\"tb-check\" role=\"status\" aria-live=\"polite\"></div>\n<main>\n",
            nav = esc(t.nav),
            home = esc(t.home),
            search = esc(t.search),
            title = esc(&self.manifest.title),
        );
        s
    }

    /// The end of the page: the check box, the code hashes, the files.
    pub(crate) fn close(&self, s: &mut String) {
        s.push_str("</main>\n");
        s.push_str(&self.check_box);
        s.push_str("</body></html>\n");
    }

    /// The "how to check this yourself" box and the hashes of the code that
    /// checks the page: the same on every page, built once.
    pub(crate) fn build_check_box(&self) -> String {
        let t = self.t;
        let m = &self.manifest;
        let mut s = String::new();
        let _ = write!(
            s,
            "<aside class=\"check\" aria-labelledby=\"tb-how\"><h2 id=\"tb-how\">{}</h2><p>{}</p>\n\
             <dl><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd><code>{}</code></dd>\
             <dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>",
            esc(t.check_title),
            esc(t.check_text),
            esc(t.check_authority),
            esc(&self.authority),
            esc(t.check_manifest),
            self.manifest_sha256,
            esc(t.check_origin),
            esc(&m.log.origin),
            esc(t.check_mirrors),
        );
        if m.mirrors.is_empty() {
            s.push_str(&esc(t.check_no_mirrors));
        } else {
            let list: Vec<String> = m
                .mirrors
                .iter()
                .map(|u| format!("<code>{}</code>", esc(u)))
                .collect();
            s.push_str(&list.join(", "));
        }
        let mut cmd = format!(
            "tallyboard verify --authority '{}' --source https://{}/",
            self.authority, t.check_this_site
        );
        for u in &m.mirrors {
            let _ = write!(cmd, " --source {u}");
        }
        let _ = write!(
            s,
            "</dd></dl>\n<p><label for=\"tb-cmd\">{}</label></p>\
             <pre id=\"tb-cmd\" tabindex=\"0\"><code>{}</code></pre>\n<p><a href=\"/paper/\">{}</a></p><h3>{}</h3>",
            esc(t.check_command),
            esc(&cmd),
            esc(t.paper_link),
            esc(t.code_title),
        );
        let code: Vec<&super::assets::Asset> =
            self.assets.iter().filter(|a| a.checks_pages).collect();
        if code.is_empty() {
            let _ = write!(s, "<p>{}</p>", esc(t.code_none));
        } else {
            s.push_str("<ul class=\"code\">");
            for a in code {
                let _ = write!(
                    s,
                    "<li><a href=\"/site/{n}\">{n}</a> <code>{h}</code></li>",
                    n = a.name,
                    h = a.sha256
                );
            }
            s.push_str("</ul>");
        }
        let _ = writeln!(
            s,
            "<p>{}: <a href=\"/checkpoint\">checkpoint</a>, <a href=\"/manifest\">manifest</a>, \
             <a href=\"/totals\">totals</a>, \
             <a href=\"/results.json\" data-tb-download=\"results.json\">results.json</a></p></aside>",
            esc(t.files)
        );
        s
    }

    /// The mirror's banner (with the time it last checked on the front
    /// page, without elsewhere so that unit pages do not change at every
    /// sync) and the notice of a stop, if any.
    pub(crate) fn banner(&self, st: &super::Status, with_time: bool, with_notice: bool) -> String {
        let t = self.t;
        let mut s = String::new();
        if let Some(m) = &self.mirror {
            let text = match (with_time, st.checked_at) {
                (true, Some(at)) => fill(
                    t.mirror_checked,
                    &[
                        &esc(&self.manifest.log.origin),
                        &esc(&tallyboard_core::time::format_rfc3339(at)),
                        &esc(&m.name),
                    ],
                ),
                _ => fill(
                    t.mirror_copy,
                    &[&esc(&self.manifest.log.origin), &esc(&m.name)],
                ),
            };
            let _ = writeln!(s, "<p class=\"mirror\">{text}</p>");
        }
        if with_notice && let Some(n) = &st.notice {
            let _ = write!(
                s,
                "<div role=\"alert\" class=\"notice\"><strong>{}</strong> {}",
                esc(t.warning),
                esc(&n.text)
            );
            if let Some(e) = &n.evidence {
                let _ = write!(
                    s,
                    " <a href=\"{}{}\">{}</a>",
                    tallyboard_http::path::EVIDENCE_PREFIX,
                    esc(e),
                    esc(t.evidence)
                );
            }
            s.push_str("</div>\n");
        }
        s
    }
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
