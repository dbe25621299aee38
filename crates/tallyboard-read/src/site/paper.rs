//! The paper page (`paper/index.html`): a reader checks a posted tally
//! sheet against the log in their browser. They choose photos or scans of
//! the sheet (PNG, JPEG) or paste its codes' text; the browser verifier
//! (`/site/verify.js`) reads the QR codes, checks the signed tally and its
//! inclusion in the log and says whether the paper matches what is
//! published. Without JavaScript the page gives the command that does the
//! same check.

use std::fmt::Write as _;

use super::Site;
use super::page::{Kind, esc};

/// The page's path under `public/`.
pub const PATH: &str = "paper/index.html";

/// The paper page. It depends only on the manifest.
pub(crate) fn page(site: &Site) -> String {
    let t = site.t;
    let mut s = site.open(
        &format!("{} – {}", t.paper_title, site.manifest.title),
        &Kind::Paper,
        "",
        "",
    );
    let cmd = format!(
        "tallyboard verify --authority '{}' --source https://{}/ --paper PHOTO.jpg",
        site.authority, t.check_this_site
    );
    let _ = write!(
        s,
        "<h1>{title}</h1>\n<p>{lead}</p>\n\
         <form id=\"tb-paper\" hidden><fieldset><legend>{legend}</legend>\
         <p><label for=\"tb-paper-files\">{files}</label><br>\
         <input id=\"tb-paper-files\" name=\"files\" type=\"file\" multiple accept=\"image/png,image/jpeg\" aria-describedby=\"tb-paper-files-hint\"></p>\
         <p id=\"tb-paper-files-hint\">{files_hint}</p>\
         <p><label for=\"tb-paper-text\">{text}</label><br>\
         <textarea id=\"tb-paper-text\" name=\"text\" rows=\"4\" cols=\"40\" spellcheck=\"false\" autocomplete=\"off\"></textarea></p>\
         <p><button type=\"submit\">{button}</button></p></fieldset></form>\n\
         <div id=\"tb-paper-result\" role=\"status\" aria-live=\"polite\"></div>\n\
         <p id=\"tb-paper-nojs\">{nojs}</p>\n<pre tabindex=\"0\"><code>{cmd}</code></pre>\n",
        title = esc(t.paper_title),
        lead = esc(t.paper_lead),
        legend = esc(t.paper_legend),
        files = esc(t.paper_files),
        files_hint = esc(t.paper_files_hint),
        text = esc(t.paper_text),
        button = esc(t.paper_button),
        nojs = esc(t.paper_nojs),
        cmd = esc(&cmd),
    );
    site.close(&mut s);
    s
}
