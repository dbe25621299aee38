//! # tallyboard-web: the results pages' verifier, for the browser
//!
//! A WebAssembly build of `tallyboard-core` and `tallyboard-check` (the
//! code every other verifier uses) with JavaScript bindings. The pages'
//! `verify.js` fetches the files and hands their bytes to [`Web`]; every
//! check, every format and every proof is computed here. Answers are JSON
//! text; a failure is a JavaScript `Error` whose message says what failed.
//!
//! Steps that read the log's tiles ([`Web::verify_totals`],
//! [`Web::verify_entry`], [`Web::compare`]) answer `{"need": [PATHS]}`
//! until the script has added every tile they need ([`Web::add_tile`]),
//! then `{"done": RESULT}`. Tiles are not trusted: each is authenticated
//! against the verified checkpoint before use.
//!
//! The paper check ([`paper`]) reads a posted sheet's QR codes from a photo
//! or pasted text and compares its signed tally with the unit's entries
//! proven in the log; [`results`] checks the site's `results.json` against
//! the verified signed totals, figure by figure.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod paper;
pub mod results;
pub mod verifier;

use serde_json::{Value, json};
use wasm_bindgen::prelude::*;

pub use verifier::{Step, TileSet, Verifier, WebError};

/// Converts a native answer to the script's JSON text.
fn answer(r: Result<Value, WebError>) -> Result<String, JsError> {
    r.map(|v| v.to_string())
        .map_err(|e| JsError::new(&e.to_string()))
}

fn step(r: Result<Step<Value>, WebError>) -> Result<String, JsError> {
    answer(r.map(|s| match s {
        Step::Need(paths) => json!({ "need": paths }),
        Step::Done(v) => json!({ "done": v }),
    }))
}

/// The verifier of one page (see [`Verifier`]).
#[wasm_bindgen]
pub struct Web {
    inner: Verifier,
}

#[wasm_bindgen]
impl Web {
    /// Verifies the signed manifest against the authority key the page was
    /// built with, and its SHA-256 against the page's (if not empty).
    #[wasm_bindgen(constructor)]
    pub fn new(authority: &str, manifest: &[u8], manifest_sha256: &str) -> Result<Web, JsError> {
        Verifier::open(authority, manifest, manifest_sha256)
            .map(|inner| Web { inner })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The election: id, title, log origin, manifest hash, witnesses, quorum.
    pub fn summary(&self) -> String {
        self.inner.summary().to_string()
    }

    /// Verifies the checkpoint (log signature, witness quorum).
    pub fn open_checkpoint(&mut self, note: &[u8]) -> Result<String, JsError> {
        answer(self.inner.open_checkpoint(note))
    }

    /// Adds a fetched tile of this site (`other`: of the mirror compared).
    pub fn add_tile(&mut self, path: &str, bytes: &[u8], other: bool) -> Result<(), JsError> {
        let set = if other {
            &mut self.inner.other_tiles
        } else {
            &mut self.inner.tiles
        };
        set.add(path, bytes)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Verifies the signed totals and their binding to the checkpoint.
    pub fn verify_totals(&mut self, totals: &[u8]) -> Result<String, JsError> {
        step(self.inner.verify_totals(totals))
    }

    /// Verdicts on the page's totals figures (`[[KEY, TEXT], ...]`).
    pub fn check_figures(&self, figures: &str) -> Result<String, JsError> {
        answer(self.inner.check_figures(figures))
    }

    /// The path of the entry bundle holding leaf `index`.
    pub fn bundle_path(&self, index: u64) -> Result<String, JsError> {
        self.inner
            .bundle_path(index)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Verifies leaf `index` from its bundle: signature, rules, inclusion.
    pub fn verify_entry(&mut self, index: u64, bundle: &[u8]) -> Result<String, JsError> {
        step(self.inner.verify_entry(index, bundle))
    }

    /// Verdicts on a verified entry's figures (`[[CONTEST|FIELD, TEXT], ...]`).
    pub fn check_entry_figures(&self, index: u64, figures: &str) -> Result<String, JsError> {
        answer(self.inner.check_entry_figures(index, figures))
    }

    /// The ids of the units counted in `region` (`*`: all), as JSON.
    pub fn region_units(&self, region: &str) -> Result<String, JsError> {
        answer(self.inner.region_units(region).map(|v| json!(v)))
    }

    /// Recounts `region` from the verified entries and compares.
    pub fn recount(&self, region: &str) -> Result<String, JsError> {
        answer(self.inner.recount(region))
    }

    /// Compares the checkpoint with another mirror's (split view).
    pub fn compare(&self, other: &[u8]) -> Result<String, JsError> {
        step(self.inner.compare(other))
    }

    /// Checks the site's `results.json` against the verified totals.
    pub fn check_results_json(&self, bytes: &[u8]) -> Result<String, JsError> {
        answer(self.inner.check_results_json(bytes))
    }

    /// Groups the codes read (`[[NAME, [TEXT, ...]], ...]`) into sheets and
    /// checks each as a signed tally of the election.
    pub fn paper_sheets(&mut self, inputs: &str) -> Result<String, JsError> {
        answer(self.inner.paper_sheets(inputs))
    }

    /// Compares genuine sheet `sheet` with its unit's proven entries.
    pub fn paper_verdict(&self, sheet: usize) -> Result<String, JsError> {
        answer(self.inner.paper_verdict(sheet))
    }

    /// The verified checkpoint's note text.
    pub fn checkpoint_note(&self) -> Result<String, JsError> {
        self.inner
            .checkpoint_note()
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

/// The texts of the QR codes found in a photo or scan (PNG, JPEG), as
/// JSON.
#[wasm_bindgen]
pub fn paper_read_image(bytes: &[u8]) -> Result<String, JsError> {
    answer(paper::read_image(bytes).map(|v| json!(v)))
}

/// The codes' texts in pasted text (one a line), as JSON.
#[wasm_bindgen]
pub fn paper_read_text(text: &str) -> Result<String, JsError> {
    answer(paper::read_text(text).map(|v| json!(v)))
}

/// SHA-256 of `bytes`, hex (the page shows the hashes of the verifier's own
/// files as they were loaded, to compare with a rebuild).
#[wasm_bindgen]
pub fn sha256_hex(bytes: &[u8]) -> String {
    tallyboard_core::hash::Hash::sha256(bytes).to_hex()
}
