//! The paths of the read API (`spec/protocol.md` §3) and of the other
//! endpoints, as routes (with their leading `/`). The same names, without
//! the `/`, are the files of a static copy (`public/checkpoint`, ...) and
//! the paths relative to a log's base URL.

use tallyboard_core::tile::TilePath;

/// The results page.
pub const RESULTS: &str = "/";
/// The signed checkpoint (C2SP tlog-tiles).
pub const CHECKPOINT: &str = "/checkpoint";
/// The signed manifest.
pub const MANIFEST: &str = "/manifest";
/// The signed totals.
pub const TOTALS: &str = "/totals";
/// The signed totals rendered as JSON, with the signed bytes, the
/// signature and the checkpoint (`spec/results.md` §7).
pub const TOTALS_JSON: &str = "/totals.json";
/// The election authority's signed certification of the final results
/// (GET; the publication server also takes it by POST).
pub const CERTIFICATION: &str = "/certification";
/// The stylesheet of the pages.
pub const STYLE: &str = "/style.css";
/// Prefix of hash tiles and entry bundles (C2SP tlog-tiles).
pub const TILE_PREFIX: &str = "/tile/";
/// Prefix of the unit views (`/units/<id>`).
pub const UNITS_PREFIX: &str = "/units/";
/// Submissions of signed tallies (publication server).
pub const SUBMIT: &str = "/submit";
/// Prometheus metrics (publication server).
pub const METRICS: &str = "/metrics";
/// C2SP tlog-witness `add-checkpoint` (witness).
pub const ADD_CHECKPOINT: &str = "/add-checkpoint";
/// A mirror's status (JSON).
pub const STATUS: &str = "/status";
/// Prefix of a mirror's evidence files (`/evidence/<file>`).
pub const EVIDENCE_PREFIX: &str = "/evidence/";

/// axum route of the tiles and bundles.
pub const TILE_ROUTE: &str = "/tile/{*path}";
/// axum route of the unit views.
pub const UNIT_ROUTE: &str = "/units/{id}";
/// axum route of a mirror's evidence files.
pub const EVIDENCE_ROUTE: &str = "/evidence/{file}";

/// `path` without its leading `/`: the name of a file of a static copy
/// (`"checkpoint"`), or a path relative to a base URL.
pub fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// The path of the unit view of `unit`.
pub fn unit(unit: &str) -> String {
    format!("{UNITS_PREFIX}{unit}")
}

/// Parses what follows `/tile/` in a request path (`0/x001/234.p/5`,
/// `entries/000`): a hash tile or an entry bundle, or `None` if it is no
/// tile path of C2SP tlog-tiles.
pub fn parse_tile(after_prefix: &str) -> Option<TilePath> {
    TilePath::parse(&format!("{}{after_prefix}", relative(TILE_PREFIX))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_are_file_names() {
        assert_eq!(relative(CHECKPOINT), "checkpoint");
        assert_eq!(relative(TOTALS), "totals");
        assert_eq!(unit("U-1"), "/units/U-1");
    }

    #[test]
    fn tile_paths_parse() {
        assert!(matches!(parse_tile("0/000"), Some(TilePath::Hashes(_))));
        assert!(matches!(
            parse_tile("entries/000.p/5"),
            Some(TilePath::Entries(_))
        ));
        assert!(parse_tile("../x").is_none());
        assert!(parse_tile("").is_none());
    }
}
