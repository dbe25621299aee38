//! A mirror's state: its copy of the log, the election state checked so
//! far, the read API over the copy, and its status.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tallyboard_core::manifest::Manifest;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::tile::{HashTile, TileBuilder, partial_tiles};
use tallyboard_log::{Log, LogError, LogReader};
use tallyboard_read::ReadApi;
use tallyboard_read::site::Notice;
use tallyboard_verify::follow::Trusted;
use tallyboard_verify::source::Source;

use crate::entries;
use crate::status::Status;

/// What a sync changes (one sync at a time).
pub(crate) struct SyncState {
    /// The copy (mirror mode of the log store).
    pub(crate) log: Log,
    /// The election state of the entries of the copy.
    pub(crate) checker: entries::State,
    /// The tree and checkpoint the next follow extends.
    pub(crate) trusted: Trusted,
    /// Whether the upstream's manifest was found to be the mirror's.
    pub(crate) manifest_checked: bool,
}

/// What the clones of a [`Mirror`] share.
pub(crate) struct Inner {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) log_key: VerifierKey,
    pub(crate) witnesses: Vec<VerifierKey>,
    pub(crate) quorum: usize,
    pub(crate) source: Source,
    /// The mirror's own copy, as a source (for consistency proofs).
    pub(crate) local: Source,
    pub(crate) public: PathBuf,
    pub(crate) evidence_dir: PathBuf,
    pub(crate) read: ReadApi,
    pub(crate) concurrency: usize,
    pub(crate) poll_interval: Duration,
    pub(crate) state: tokio::sync::Mutex<SyncState>,
    pub(crate) status: RwLock<Status>,
    /// The bucket the verified copy is also written to, if any.
    pub(crate) replica: Option<crate::bucket::Replica>,
}

/// A mirror: its copy of the log, its read API and its sync loop. Clones
/// share the same mirror.
#[derive(Clone)]
pub struct Mirror {
    pub(crate) inner: Arc<Inner>,
}

impl Mirror {
    /// The current status.
    pub fn status(&self) -> Status {
        self.inner
            .status
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The read side (reader of the copy, views).
    pub fn read_api(&self) -> &ReadApi {
        &self.inner.read
    }

    /// The `public/` directory: the static copy.
    pub fn public_dir(&self) -> &Path {
        &self.inner.public
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut s = self
            .inner
            .status
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut s);
    }

    pub(crate) fn show_notice(&self) {
        let st = self.status();
        let notice = match (&st.problem, st.state) {
            (Some(p), "stopped") => {
                // A public notice: an upstream that is a directory of this
                // machine is named by the log's origin instead.
                let public = |text: &str| {
                    if st.upstream.starts_with("http://") || st.upstream.starts_with("https://") {
                        text.to_owned()
                    } else {
                        text.replace(&st.upstream, &st.origin)
                    }
                };
                let upstream = public(&st.upstream);
                let evidence_dir = self.inner.evidence_dir.display().to_string();
                Some(Notice {
                    text: format!(
                        "This mirror stopped following {upstream} at tree size {}: {}",
                        st.size,
                        public(&p.message).replace(&evidence_dir, "evidence/")
                    ),
                    evidence: p.evidence.clone(),
                })
            }
            _ => None,
        };
        self.inner.read.set_notice(notice);
    }
}

/// The right edge of the copy's tree of `size` leaves (its partial tiles).
pub(crate) fn edge_of(reader: &LogReader, size: u64) -> Result<TileBuilder, LogError> {
    let mut tiles = Vec::new();
    for id in partial_tiles(size) {
        let hashes = reader.tile(id.level(), id.index(), size)?;
        let tile = HashTile::new(hashes).map_err(LogError::Encode)?;
        tiles.push((id, tile));
    }
    TileBuilder::from_partial_tiles(size, &tiles).ok_or(LogError::CorruptEdge { size })
}
