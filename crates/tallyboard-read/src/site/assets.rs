//! The site's own static files, written into `public/site/`: the
//! stylesheet, the search script and the browser verifier's files (built
//! from `tallyboard-core` for wasm32 and committed under the crate's
//! `assets/`; only those present at build time are embedded).

use tallyboard_core::hash::Hash;

include!(concat!(env!("OUT_DIR"), "/verifier_assets.rs"));

/// The stylesheet, without the bar widths (see [`style`]).
const STYLE: &str = include_str!("style.css");
/// The search page's script.
const SEARCH_JS: &str = include_str!("search.js");

/// One file of `public/site/`.
#[derive(Debug, Clone)]
pub struct Asset {
    /// File name in `public/site/`.
    pub name: &'static str,
    /// Contents.
    pub bytes: Vec<u8>,
    /// SHA-256 of the contents, hex.
    pub sha256: String,
    /// Whether it is part of the code that checks the pages (its hash is
    /// shown on every page).
    pub checks_pages: bool,
}

fn asset(name: &'static str, bytes: Vec<u8>, checks_pages: bool) -> Asset {
    Asset {
        name,
        sha256: Hash::sha256(&bytes).to_hex(),
        bytes,
        checks_pages,
    }
}

/// The stylesheet: the hand-written rules, then one class per bar width
/// (`.w0` to `.w100`), since the CSP allows no inline style.
pub fn style() -> String {
    let mut s = String::from(STYLE);
    for i in 0..=100 {
        s.push_str(&format!(".w{i}{{width:{i}%}}"));
    }
    s.push('\n');
    s
}

/// Every file of `public/site/`.
pub fn all() -> Vec<Asset> {
    let mut v = vec![
        asset("style.css", style().into_bytes(), false),
        asset("search.js", SEARCH_JS.as_bytes().to_vec(), false),
    ];
    for (name, bytes) in VERIFIER {
        v.push(asset(name, bytes.to_vec(), true));
    }
    v
}
