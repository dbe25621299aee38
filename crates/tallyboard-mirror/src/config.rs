//! The settings of a mirror and why it may fail to start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tallyboard_log::{LogError, ObjectStorage};
use tallyboard_verify::source::HttpOptions;

use crate::entries::BadEntry;

/// Settings of a [`Mirror`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The upstream: an http(s) base URL or a local directory in the C2SP
    /// layout.
    pub upstream: String,
    /// The mirror's data directory (`public/` inside it is the static copy).
    pub data_dir: PathBuf,
    /// Time between two polls of the upstream's checkpoint.
    pub poll_interval: Duration,
    /// Witness cosignatures a checkpoint must carry (from the manifest's
    /// witnesses); `None`: the manifest's quorum.
    pub quorum: Option<usize>,
    /// Entry bundles (and tiles) fetched at once.
    pub concurrency: usize,
    /// Timeouts of HTTP requests to the upstream.
    pub http: HttpOptions,
    /// What the static pages say about the mirror (its name, the
    /// authority's key string).
    pub site: tallyboard_read::site::SiteConfig,
    /// Object storage the verified copy is also written to after every
    /// sync (pages included), so that the bucket alone, behind any web
    /// server or CDN, is a complete static copy of the log.
    pub storage: Option<Arc<ObjectStorage>>,
}

impl Config {
    /// Defaults: poll every second, the manifest's quorum, 8 fetches at once.
    pub fn new(upstream: &str, data_dir: PathBuf) -> Config {
        Config {
            upstream: upstream.to_owned(),
            data_dir,
            poll_interval: Duration::from_secs(1),
            quorum: None,
            concurrency: 8,
            http: HttpOptions::default(),
            site: tallyboard_read::site::SiteConfig {
                authority: None,
                mirror: Some(tallyboard_read::site::MirrorInfo {
                    name: "a tallyboard mirror".to_owned(),
                }),
            },
            storage: None,
        }
    }
}

/// Why a mirror could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The upstream is neither an http(s) URL nor a directory.
    #[error("upstream {upstream:?}: {reason}")]
    Upstream {
        /// The argument.
        upstream: String,
        /// Why it is not a source.
        reason: String,
    },
    /// The manifest's log or witness keys are not usable note keys.
    #[error("the manifest's {what} is not a usable key: {reason}")]
    Manifest {
        /// Which key.
        what: String,
        /// Why.
        reason: String,
    },
    /// The quorum asked for is more than the manifest's witnesses.
    #[error(
        "a quorum of {quorum} cosignatures cannot be met by the manifest's {witnesses} witnesses"
    )]
    Quorum {
        /// Asked for.
        quorum: usize,
        /// Witnesses in the manifest.
        witnesses: usize,
    },
    /// The data directory could not be opened or recovered.
    #[error("the mirror's data directory: {0}")]
    Log(#[from] LogError),
    /// A file of the data directory could not be read or written.
    #[error(transparent)]
    Io(#[from] tallyboard_fs::FsError),
    /// The writer of the static pages could not be started.
    #[error("starting the writer of the static pages: {0}")]
    Site(#[source] std::io::Error),
    /// The mirror's own copy does not hold valid tallies (it was not
    /// written by a mirror, or it was altered on disk).
    #[error("the mirror's own copy is damaged: {0:?}")]
    Damaged(BadEntry),
}
