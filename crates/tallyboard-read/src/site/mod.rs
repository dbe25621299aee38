//! The static results site, written into `public/` next to the log's
//! tiles: generated from verified data only (the publication server's
//! committed log, a mirror's checked copy), so that the origin, every
//! mirror and any static web server or CDN over `public/` serve the same
//! pages. Nothing is rendered per request.
//!
//! Layout (all paths absolute from the site's root):
//!
//! - `/index.html`: the front page;
//! - `/regions/<id>/index.html`, `/regions/<id>/page-<n>.html`: a region,
//!   its sub-regions and (paged) units;
//! - `/units/<id>/index.html`: a unit's every revision; `unit.json` the
//!   same as JSON; `<rev>-<contest>.cbor` each signed tally, as logged;
//! - `/search.html` and `/search/<shard>.json`: the sharded search index;
//! - `/paper/index.html`: checking a posted tally sheet in the browser;
//! - `/site/`: the stylesheet, the search script and the browser verifier.
//!
//! A unit page depends only on the manifest and the unit's entries, never
//! on the checkpoint (the browser computes inclusion proofs from the
//! tiles), so a checkpoint rewrites only the pages of units that gained an
//! entry, the regions whose figures changed and the front page.
//!
//! Every page follows the browser verifier's contract: `<body
//! data-tb-page>`, the `tb-authority`, `tb-manifest-sha256` and `tb-origin`
//! `<meta>`s, the `#tb-check` status box, `/site/verify.js`, and each
//! signed figure in an element with `data-tb-fig="CONTEST|REGION|FIELD"`
//! (unit pages: `data-tb-entry`, `data-tb-leaf-hash`,
//! `data-tb-unitfig="CONTEST|FIELD"`).

pub mod assets;
mod page;
pub mod paper;
mod publish;
mod results;
pub mod search;
pub mod strings;
mod unit;
pub mod write;

use std::sync::Arc;

use tallyboard_core::hash::Hash;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::totals::TotalsBody;
use tallyboard_results::Results;

pub use assets::Asset;
pub use publish::{Publisher, Round, UnitEntries};
pub use strings::Strings;
pub use unit::{UnitEntry, unit_files};
pub use write::{SiteWriter, Written};

/// The nice value of the site's threads (the writer, its renderers, the
/// remover of replaced files).
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority to [`BACKGROUND_NICE`]: under
/// load the submissions, the receipts and the verified log come first and
/// the pages catch up when a core is free (each round writes what changed
/// since the last one, so a late round loses nothing). Against busy
/// threads at the default priority a thread at nice 10 gets about a tenth
/// of their share; alone, a whole core. Threads it starts inherit it.
pub(crate) fn run_in_background() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), BACKGROUND_NICE) {
        tracing::debug!("could not lower the site writer's priority: {e}");
    }
}

/// Units listed per page of a region.
pub const UNITS_PER_PAGE: usize = 250;

/// Who publishes the site.
#[derive(Debug, Clone, Default)]
pub struct SiteConfig {
    /// The election authority's key as `tallyboard keygen` prints it (the
    /// verifier key string). Without it the pages show the manifest's
    /// authority key in hex.
    pub authority: Option<String>,
    /// Set on a mirror: how the mirror names itself.
    pub mirror: Option<MirrorInfo>,
}

/// A mirror's name and its upstream, for the banner of its pages.
#[derive(Debug, Clone)]
pub struct MirrorInfo {
    /// How the mirror names itself (its operator, its address).
    pub name: String,
}

/// A public notice shown on the front, region and search pages (a mirror
/// that stopped on evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The notice, plain text.
    pub text: String,
    /// The evidence file's name (served at `/evidence/<name>`), if any.
    pub evidence: Option<String>,
}

/// What the pages show besides the manifest and the units' entries.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The verified totals (none: no results yet).
    pub totals: Option<Arc<TotalsBody>>,
    /// When the pages were last updated (POSIX seconds).
    pub updated_at: u64,
    /// On a mirror: when it last checked its upstream.
    pub checked_at: Option<u64>,
    /// A notice (a mirror that stopped).
    pub notice: Option<Notice>,
    /// Whether the results are certified by the authority (the leader is
    /// then shown as the winner).
    pub certified: bool,
}

/// Renders the pages of one election. Built once; cheap to share.
#[derive(Debug)]
pub struct Site {
    manifest: Arc<Manifest>,
    manifest_sha256: String,
    authority: String,
    mirror: Option<MirrorInfo>,
    csp: String,
    t: &'static Strings,
    /// Per region (manifest index): its sub-regions.
    children: Vec<Vec<usize>>,
    /// Regions without a parent.
    top: Vec<usize>,
    /// Per region: the units directly in it.
    region_units: Vec<Vec<usize>>,
    assets: Vec<Asset>,
    check_box: String,
}

/// The pages' Content-Security-Policy: the site's own files only, scripts
/// from the site with WebAssembly compilation allowed (the browser
/// verifier), fetches from the site and from the manifest's mirrors (to
/// compare their checkpoints). Also sent as a header by the server and the
/// mirror, with `frame-ancestors 'none'` (which a `<meta>` cannot carry).
pub fn csp(manifest: &Manifest) -> String {
    let mut connect = String::from("'self'");
    for m in &manifest.mirrors {
        if let Some(o) = web_origin(m) {
            connect.push(' ');
            connect.push_str(&o);
        }
    }
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; connect-src {connect}; base-uri 'none'; form-action 'none'"
    )
}

/// The `scheme://host[:port]` of an http(s) URL, if it is one made of
/// plain characters (nothing that could break out of the policy).
fn web_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split('/').next()?;
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| format!("{scheme}://{host}"))
}

impl Site {
    /// The site of the election `manifest`, whose signed form (the bytes of
    /// `/manifest`) is `manifest_bytes`, in English.
    pub fn new(manifest: Arc<Manifest>, manifest_bytes: &[u8], config: SiteConfig) -> Site {
        Site::with_strings(manifest, manifest_bytes, config, &strings::EN)
    }

    /// The same, with the texts of `t`.
    pub fn with_strings(
        manifest: Arc<Manifest>,
        manifest_bytes: &[u8],
        config: SiteConfig,
        t: &'static Strings,
    ) -> Site {
        let n = manifest.regions.len();
        let mut children = vec![Vec::new(); n];
        let mut top = Vec::new();
        for (i, r) in manifest.regions.iter().enumerate() {
            match r.parent.as_deref().and_then(|p| manifest.region_index(p)) {
                Some(p) => children[p].push(i),
                None => top.push(i),
            }
        }
        let mut region_units = vec![Vec::new(); n];
        for (i, u) in manifest.units.iter().enumerate() {
            if let Some(r) = manifest.region_index(&u.region) {
                region_units[r].push(i);
            }
        }
        let authority = config
            .authority
            .unwrap_or_else(|| manifest.authority.to_hex());
        let mut site = Site {
            manifest_sha256: Hash::sha256(manifest_bytes).to_hex(),
            authority,
            mirror: config.mirror,
            csp: csp(&manifest),
            manifest,
            t,
            children,
            top,
            region_units,
            assets: assets::all(),
            check_box: String::new(),
        };
        site.check_box = site.build_check_box();
        site
    }

    /// The election.
    pub fn manifest(&self) -> &Arc<Manifest> {
        &self.manifest
    }

    /// The files of `public/site/`.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The pages' Content-Security-Policy (see [`csp`]).
    pub fn csp(&self) -> &str {
        &self.csp
    }

    /// The results model of `st`'s totals (`tallyboard-results`), if
    /// there are totals and they are this election's.
    pub fn results(&self, st: &Status) -> Option<Results> {
        let status = if st.certified {
            tallyboard_results::Status::Certified
        } else {
            tallyboard_results::Status::Provisional
        };
        Results::compute(&self.manifest, st.totals.as_deref()?, status).ok()
    }

    /// The front page (`index.html`).
    pub fn front_page(&self, st: &Status) -> String {
        let r = self.results(st);
        results::front(self, st, &results::Model::new(r.as_ref()))
    }

    /// The pages of region `r` (manifest index): `(path under public/,
    /// contents)`, the first `regions/<id>/index.html`.
    pub fn region_pages(&self, r: usize, st: &Status) -> Vec<(String, String)> {
        let res = self.results(st);
        results::region(self, r, st, &results::Model::new(res.as_ref()))
    }

    /// Every page that shows results or the status, `(path under public/,
    /// contents)`: the front page first, then every region's pages, then
    /// the search page (`shards` search shards). The results model is
    /// computed once.
    pub fn results_pages(&self, st: &Status, shards: u32) -> Vec<(String, String)> {
        let res = self.results(st);
        let model = results::Model::new(res.as_ref());
        let mut out = vec![("index.html".to_owned(), results::front(self, st, &model))];
        for r in 0..self.manifest.regions.len() {
            out.extend(results::region(self, r, st, &model));
        }
        out.push(("search.html".to_owned(), self.search_page(shards, st)));
        out
    }

    /// The paper page ([`paper::PATH`]): checking a posted sheet.
    pub fn paper_page(&self) -> String {
        paper::page(self)
    }

    /// The search page (`search.html`).
    pub fn search_page(&self, shards: u32, st: &Status) -> String {
        search::page(self, shards, st)
    }
}
