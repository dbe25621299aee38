//! Checking the site's downloadable results (`results.json`,
//! `spec/results.md`) in the browser: the results are computed from the
//! verified signed totals with the results model every verifier uses
//! (`tallyboard-results`) and compared with the file figure by figure.

use serde_json::Value;
use tallyboard_results::{Results, Status, compare_json};

use crate::verifier::{Verifier, WebError};

impl Verifier {
    /// Checks the site's `results.json` against the results computed
    /// from the verified signed totals (always provisional: the site's
    /// file is written so): `ok`, the number of `figures` compared, the
    /// `count` of differences and the first of them, each naming its
    /// figure.
    pub fn check_results_json(&self, published: &[u8]) -> Result<Value, WebError> {
        let totals = self.totals.as_ref().ok_or(WebError::NoTotals)?;
        let expected = Results::compute(&self.manifest, totals, Status::Provisional)
            .map_err(|e| WebError::Totals(e.to_string()))?;
        serde_json::to_value(compare_json(&expected, published))
            .map_err(|e| WebError::Request(e.to_string()))
    }
}
