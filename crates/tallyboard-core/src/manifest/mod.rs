//! The election manifest: who may sign what. Signed by the election
//! authority; fixes the contests and their choices, the regions, the count
//! centres and their keys, the reporting units, the log and its witnesses.
//!
//! Body (canonical CBOR map, `spec/tally-and-manifest.md`):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint = 1 |
//! | 1 | election | id |
//! | 2 | title | name |
//! | 3 | authority | bstr(32) |
//! | 4 | log | map { 0 origin, 1 key } |
//! | 5 | witnesses | array of map { 0 name, 1 key } |
//! | 6 | quorum | uint |
//! | 7 | mirrors | array of tstr |
//! | 8 | contests | array of map { 0 id, 1 title, 2 choices: array of map { 0 id, 1 name } } |
//! | 9 | regions | array of map { 0 id, 1 name, 2 parent (optional) } |
//! | 10 | centres | array of map { 0 id, 1 name, 2 keys: array of map { 0 key, 1 valid_from, 2 valid_until, 3 revoked_at (optional) } } |
//! | 11 | units | array of map { 0 id, 1 name, 2 region, 3 registered, 4 contests, 5 centre } |
//!
//! Signed envelope: `[body: bstr, signature: bstr(64)]`, the signature over
//! `"tallyboard/v1/manifest\n" || body` under `authority`.
//!
//! Three types:
//! - [`ManifestBody`]: the plain data, with public fields; what the CLI's
//!   `manifest build` fills in.
//! - [`Manifest`]: a structurally valid body with lookup indexes (sorted
//!   id indexes, key table, precomputed region ancestors), built by
//!   [`Manifest::new`] / [`ManifestBody::validate`]. Read the fields through
//!   `Deref` (`manifest.units`, `manifest.election`, ...).
//! - [`SignedManifest`]: the exact bytes, verified and validated.

mod codec;
mod index;
mod signed;
#[cfg(test)]
pub(crate) mod tests;
mod types;

use index::Index;

pub use signed::SignedManifest;
pub use types::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, ManifestError, ManifestProblem,
    Region, Unit, Witness, is_valid_origin,
};

/// A structurally valid manifest with lookup indexes. Immutable: its data
/// is read through `Deref<Target = ManifestBody>` (`m.units`, `m.election`).
/// Positions (`usize`) returned by the `*_index` lookups are positions in
/// the corresponding `Vec` of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    body: ManifestBody,
    index: Index,
}

impl core::ops::Deref for Manifest {
    type Target = ManifestBody;
    fn deref(&self) -> &ManifestBody {
        &self.body
    }
}

impl Manifest {
    /// Validates `body` (every structural rule; all problems are returned
    /// in [`ManifestError::Invalid`]) and builds the lookup indexes.
    pub fn new(body: ManifestBody) -> Result<Manifest, ManifestError> {
        let index = Index::build(&body).map_err(ManifestError::Invalid)?;
        Ok(Manifest { body, index })
    }

    /// The data.
    pub fn body(&self) -> &ManifestBody {
        &self.body
    }

    /// Takes the data out.
    pub fn into_body(self) -> ManifestBody {
        self.body
    }
}
