//! Following the upstream: fetch its checkpoint, check it and everything
//! new under it (`spec/mirror.md`), publish it only if every check passes,
//! and keep evidence when the upstream misbehaves.

use futures_util::StreamExt as _;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{CheckpointError, OpenedCheckpoint, open_checkpoint};
use tallyboard_core::tile::{HashTile, TileId};
use tallyboard_log::{Log, LogError};
use tallyboard_verify::FindingCode;
use tallyboard_verify::evidence::{Evidence, Served};
use tallyboard_verify::follow::{Consistency, FollowError, FollowOptions, Item, Trusted};
use tallyboard_verify::source::{FetchError, TileCache, TilesError};

use tallyboard_check::Signatures;

use crate::entries::{self, BadEntry};
use crate::state::{Mirror, SyncState};
use crate::status::{
    Outcome, Problem, fetch_problem, list_evidence, now_rfc3339, now_secs, problem,
};

/// Entries checked and staged at once while following (bounds memory:
/// about 1 MB of entries).
const CHUNK: usize = 4096;

/// How long a copy to the bucket waits for the pages of a sync.
const SITE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Mirror {
    /// Polls the upstream until `shutdown` completes.
    /// A problem that lasts is logged when it starts and when it ends, not
    /// at every poll.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last: Option<FindingCode> = None;
        loop {
            match self.sync_once().await {
                Outcome::CouldNotSync(p) if last != Some(p.code) => {
                    tracing::warn!(code = %p.code, "{}", p.message);
                    last = Some(p.code);
                }
                Outcome::Synced { size } => {
                    if let Some(code) = last.take() {
                        tracing::info!(size, "in step with the upstream again (after {code})");
                    }
                }
                _ => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.inner.poll_interval) => {}
            }
        }
    }

    /// Syncs once with the upstream: fetches its checkpoint, checks it and
    /// everything new under it, and publishes it if every check passes.
    pub async fn sync_once(&self) -> Outcome {
        let mut st = self.inner.state.lock().await;
        let now = now_rfc3339();
        self.update(|s| s.last_attempt = Some(now.clone()));
        if let Some(p) = self
            .status()
            .problem
            .filter(|_| self.status().state == "stopped")
        {
            let _ = self.copy_to_bucket();
            return Outcome::Misbehaved(p);
        }
        let outcome = self.sync_locked(&mut st).await;
        match &outcome {
            Outcome::Synced { size } => {
                let cp = st.log.checkpoint();
                let cosigs =
                    open_checkpoint(&cp.note, &self.inner.log_key, &self.inner.witnesses, 0)
                        .map(|o| o.cosignatures.into_iter().map(|c| c.name).collect())
                        .unwrap_or_default();
                let size = *size;
                self.update(|s| {
                    s.state = "following";
                    s.size = size;
                    s.root = cp.root.to_hex();
                    s.cosignatures = cosigs;
                    s.last_sync = Some(now);
                    s.problem = None;
                });
                if let Some(site) = self.inner.read.site() {
                    site.set_checked_at(now_secs());
                }
            }
            Outcome::CouldNotSync(p) => {
                let p = p.clone();
                self.update(|s| s.problem = Some(p));
            }
            Outcome::Misbehaved(p) => {
                tracing::error!(
                    code = %p.code,
                    evidence = p.evidence.as_deref().unwrap_or("none"),
                    "UPSTREAM MISBEHAVED, mirror stopped: {}",
                    p.message
                );
                let p = p.clone();
                let evidence = list_evidence(&self.inner.evidence_dir);
                self.update(|s| {
                    s.state = "stopped";
                    s.problem = Some(p);
                    s.evidence = evidence;
                });
                self.show_notice();
            }
        }
        match &outcome {
            Outcome::Synced { .. } => {
                if let Some(p) = self.copy_to_bucket() {
                    self.update(|s| s.problem = Some(p.clone()));
                    return Outcome::CouldNotSync(p);
                }
            }
            // The notice and the evidence go to the bucket too (a failure
            // is logged; the stop is what the caller must hear of).
            Outcome::Misbehaved(_) => {
                let _ = self.copy_to_bucket();
            }
            _ => {}
        }
        outcome
    }

    /// With `--storage`: once the pages show what was just published (or
    /// the notice of a stop), writes what changed in the verified copy to
    /// the bucket. Called with the sync lock held. A problem if it failed
    /// (the next sync tries again).
    fn copy_to_bucket(&self) -> Option<Problem> {
        let replica = self.inner.replica.as_ref()?;
        let copied = off_the_async_workers(|| {
            if let Some(site) = self.inner.read.site()
                && !site.wait(SITE_WAIT)
            {
                tracing::warn!("the pages are not up to date yet; copying them as they are");
            }
            replica.copy(&self.inner.public)
        });
        match copied {
            Ok(c) => {
                if c.created + c.replaced > 0 {
                    tracing::debug!(
                        created = c.created,
                        replaced = c.replaced,
                        bucket = replica.url(),
                        "copied to the bucket"
                    );
                }
                None
            }
            Err(e) => {
                tracing::error!(bucket = replica.url(), error = %e, "copying the verified copy to the bucket failed");
                Some(problem(
                    FindingCode::Internal,
                    format!("copying the verified copy to {}: {e}", replica.url()),
                ))
            }
        }
    }

    fn stop_with(&self, e: &Evidence) -> Outcome {
        match e.write_to_dir(&self.inner.evidence_dir) {
            Ok(name) => Outcome::Misbehaved(Problem {
                code: evidence_code(e),
                message: e.summary.clone(),
                evidence: Some(name),
            }),
            Err(err) => Outcome::Misbehaved(problem(
                evidence_code(e),
                format!(
                    "{} (the evidence file could not be written to {}: {err})",
                    e.summary,
                    self.inner.evidence_dir.display()
                ),
            )),
        }
    }

    async fn sync_locked(&self, st: &mut SyncState) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label().to_owned();
        if !st.manifest_checked {
            match inner.source.manifest().await {
                Ok(m) if m == inner.read.manifest_bytes() => st.manifest_checked = true,
                Ok(_) => {
                    return Outcome::CouldNotSync(problem(
                        FindingCode::ManifestMismatch,
                        format!(
                            "{label} serves a different election manifest from the one this mirror was given; check that both are the authority's manifest"
                        ),
                    ));
                }
                // A static copy without a manifest file: the checkpoint's
                // log key is what binds the copy to the election.
                Err(FetchError::NotFound { .. }) => st.manifest_checked = true,
                Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
            }
        }
        let note = match inner.source.checkpoint().await {
            Ok(n) => n,
            Err(e) => return Outcome::CouldNotSync(fetch_problem(&e)),
        };
        let opened = match open_checkpoint(&note, &inner.log_key, &inner.witnesses, inner.quorum) {
            Ok(o) => o,
            Err(CheckpointError::QuorumNotMet { have, need }) => {
                return Outcome::CouldNotSync(problem(
                    FindingCode::QuorumNotMet,
                    format!(
                        "{label} serves a checkpoint with {have} valid witness cosignatures; this mirror requires {need}. It keeps serving what it has and waits for the cosignatures"
                    ),
                ));
            }
            Err(e) => {
                return Outcome::CouldNotSync(problem(
                    FindingCode::CheckpointSignature,
                    format!(
                        "{label} serves a checkpoint that is not signed by the election's log key {} ({e}); the mirror ignores it",
                        inner.log_key.name()
                    ),
                ));
            }
        };
        let held = st.log.checkpoint();
        let (new_size, new_root) = (opened.checkpoint.size, opened.checkpoint.root);
        if !held.note.is_empty() && new_size < held.size {
            // Behind: the held tree must extend the upstream's.
            let held_opened = match open_checkpoint(&held.note, &inner.log_key, &[], 0) {
                Ok(o) => o,
                Err(e) => {
                    return Outcome::CouldNotSync(problem(FindingCode::Internal, e.to_string()));
                }
            };
            return match tallyboard_verify::follow::check_consistency(
                &inner.log_key,
                (&label, &opened),
                &inner.local,
                &held_opened,
            )
            .await
            {
                Ok(Consistency::SplitView(e)) => self.stop_with(&e),
                Ok(Consistency::Consistent) => Outcome::CouldNotSync(problem(
                    FindingCode::SourceStale,
                    format!(
                        "{label} serves an older checkpoint (size {new_size}) than this mirror holds (size {}); it is consistent, the mirror keeps serving its own",
                        held.size
                    ),
                )),
                Err(e) => Outcome::CouldNotSync(problem(FindingCode::Internal, e.to_string())),
            };
        }
        if !held.note.is_empty() && new_size == held.size {
            if new_root != held.root {
                let held_opened = match open_checkpoint(&held.note, &inner.log_key, &[], 0) {
                    Ok(o) => o,
                    Err(e) => {
                        return Outcome::CouldNotSync(problem(
                            FindingCode::Internal,
                            e.to_string(),
                        ));
                    }
                };
                let e = Evidence::split_view(
                    &inner.log_key,
                    (inner.local.label(), &held_opened),
                    (&label, &opened),
                    None,
                );
                return self.stop_with(&e);
            }
            // The same checkpoint, perhaps with more cosignatures.
            if note != held.note {
                let held_cosigs = open_checkpoint(&held.note, &inner.log_key, &inner.witnesses, 0)
                    .map_or(0, |o| o.cosignatures.len());
                if opened.cosignatures.len() > held_cosigs
                    && let Err(e) = st.log.publish_verified(&note)
                {
                    return Outcome::CouldNotSync(problem(FindingCode::Internal, e.to_string()));
                }
                st.trusted.checkpoint = Some((label.clone(), opened));
            }
            return self.refresh_totals(st).await;
        }
        self.advance(st, opened).await
    }

    async fn advance(&self, st: &mut SyncState, opened: OpenedCheckpoint) -> Outcome {
        let inner = &self.inner;
        let label = inner.source.label().to_owned();
        let (new_size, new_root) = (opened.checkpoint.size, opened.checkpoint.root);
        let old_size = st.log.checkpoint().size;
        let opts = FollowOptions {
            concurrency: inner.concurrency,
        };
        // Restored if the sync fails.
        let saved = st.checker.clone();
        let mut staging = Staging::default();
        // Recomputed tiles, by digest, to compare with the upstream's.
        let mut recomputed: Vec<(TileId, Hash)> = Vec::new();
        let SyncState {
            log,
            checker,
            trusted,
            ..
        } = st;
        let followed = tallyboard_verify::follow::follow(
            &inner.source,
            &inner.log_key,
            trusted,
            &opened,
            &opts,
            |item| {
                match item {
                    Item::Entry { bytes, .. } => {
                        staging.pending.push(bytes.to_vec());
                        if staging.pending.len() >= CHUNK {
                            staging.flush(log, checker)?;
                        }
                    }
                    Item::Tile { id, tile } => {
                        recomputed.push((id, Hash::sha256(&tile.to_bytes())));
                    }
                    Item::Bundle { .. } => {}
                }
                Ok::<(), SinkError>(())
            },
        )
        .await;
        let builder = match followed {
            // Check the last chunk, then store it.
            Ok(b) => match staging
                .flush(log, checker)
                .and_then(|()| staging.flush(log, checker))
            {
                Ok(()) => b,
                Err(e) => return self.abandon(st, saved, FollowError::Sink(e)),
            },
            Err(e) => return self.abandon(st, saved, e),
        };
        if let Some(b) = staging.bad {
            let outcome = self.bad_entry(&opened, b).await;
            return self.abandon_with(st, saved, outcome);
        }
        // The upstream's hash tiles must be the recomputed ones.
        if let Some(outcome) = self.check_tiles(&opened, &recomputed).await {
            return self.abandon_with(st, saved, outcome);
        }
        if let Err(e) = st.log.publish_verified(&opened.note) {
            return self.abandon_with(
                st,
                saved,
                Outcome::CouldNotSync(problem(
                    FindingCode::Internal,
                    format!("publishing the checkpoint of size {new_size} failed: {e}"),
                )),
            );
        }
        inner.read.add_unit_entries(staging.units);
        st.trusted = Trusted {
            builder,
            checkpoint: Some((label, opened)),
        };
        tracing::info!(from = old_size, to = new_size, root = %new_root, "mirror advanced");
        self.refresh_totals(st).await
    }

    /// Forgets what a failed sync staged and restores the election state
    /// `saved` before it (that of the published copy).
    fn abandon_with(&self, st: &mut SyncState, saved: entries::State, outcome: Outcome) -> Outcome {
        if let Err(e) = st.log.discard_staged() {
            tracing::error!(error = %e, "discarding a failed sync");
        }
        st.checker = saved;
        outcome
    }

    fn abandon(
        &self,
        st: &mut SyncState,
        saved: entries::State,
        e: FollowError<SinkError>,
    ) -> Outcome {
        let outcome = match e {
            FollowError::SplitView(ev) | FollowError::BadData(ev) => self.stop_with(&ev),
            FollowError::Fetch { error, .. } => Outcome::CouldNotSync(fetch_problem(&error)),
            FollowError::Behind { .. } => {
                Outcome::CouldNotSync(problem(FindingCode::SourceStale, e.to_string()))
            }
            FollowError::Unlocated { .. } => {
                Outcome::CouldNotSync(problem(FindingCode::SourceBadData, e.to_string()))
            }
            FollowError::Sink(SinkError::Log(l)) => Outcome::CouldNotSync(problem(
                FindingCode::Internal,
                format!("the mirror's data directory: {l}"),
            )),
            other => Outcome::CouldNotSync(problem(FindingCode::Internal, other.to_string())),
        };
        self.abandon_with(st, saved, outcome)
    }

    /// The upstream's checkpoint commits to an entry that breaks the rules:
    /// evidence of the entry with its inclusion proof (from the upstream's
    /// tiles, authenticated against the checkpoint).
    async fn bad_entry(&self, cp: &OpenedCheckpoint, b: BadEntry) -> Outcome {
        let inner = &self.inner;
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let message = format!(
            "{} serves a log whose signed checkpoint of size {n} commits to entry {}, which breaks the tally rules: {}. The mirror does not serve this log",
            inner.source.label(),
            b.index,
            b.message
        );
        let mut cache = TileCache::new();
        let proof = inner
            .source
            .read_tiles(&mut cache, n, root, |r| {
                tallyboard_core::merkle::prove_inclusion(n, b.index, r)
            })
            .await;
        let evidence = match proof {
            Ok(proof) => {
                let e = Evidence::log_entry(
                    &inner.log_key,
                    inner.source.label(),
                    cp,
                    b.index,
                    &b.entry,
                    &proof,
                    format!("{message}."),
                );
                match e.write_to_dir(&inner.evidence_dir) {
                    Ok(name) => Some(name),
                    Err(err) => {
                        tracing::error!(error = %err, "writing the evidence file");
                        None
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "no inclusion proof for the bad entry");
                None
            }
        };
        Outcome::Misbehaved(Problem {
            code: b.code,
            message,
            evidence,
        })
    }

    /// Fetches the upstream's version of every tile recomputed for the new
    /// tree and compares; `Some` (evidence) on the first that differs.
    async fn check_tiles(
        &self,
        cp: &OpenedCheckpoint,
        recomputed: &[(TileId, Hash)],
    ) -> Option<Outcome> {
        let inner = &self.inner;
        let mut fetched = futures_util::stream::iter(recomputed.iter().copied())
            .map(|(id, digest)| async move { (id, digest, inner.source.tile(id).await) })
            .buffered(inner.concurrency);
        while let Some((id, digest, r)) = fetched.next().await {
            let bytes = match r {
                Ok(b) => b,
                Err(e) => return Some(Outcome::CouldNotSync(fetch_problem(&e))),
            };
            if Hash::sha256(&bytes) == digest {
                continue;
            }
            return Some(self.bad_tile(cp, id).await);
        }
        None
    }

    /// Evidence that the upstream's tile `id` does not hash to `cp`.
    async fn bad_tile(&self, cp: &OpenedCheckpoint, id: TileId) -> Outcome {
        let inner = &self.inner;
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let mut cache = TileCache::new();
        let read = inner
            .source
            .read_tiles(&mut cache, n, root, |r| HashTile::from_reader(id, r))
            .await;
        match read {
            Err(TilesError::Unauthentic { tile, .. }) => {
                let at_fault = tile.unwrap_or(id);
                let mut tiles = cache.tiles_read(n, root, |r| HashTile::from_reader(id, r));
                let Some(pos) = tiles.iter().position(|(t, _)| *t == at_fault) else {
                    return Outcome::CouldNotSync(problem(
                        FindingCode::SourceBadData,
                        format!(
                            "{} serves tile {} that differs from the one recomputed from its entries, but the fault could not be located",
                            inner.source.label(),
                            id.path()
                        ),
                    ));
                };
                let (_, bytes) = tiles.remove(pos);
                let path = at_fault.path();
                let summary = format!(
                    "{} served {path}, which does not hash to its signed checkpoint of size {n}: the tile was altered (the entries are intact; the mirror recomputed the tile from them).",
                    inner.source.label()
                );
                let e = Evidence::bad_data(
                    &inner.log_key,
                    inner.source.label(),
                    cp,
                    Served {
                        path: &path,
                        url: &inner.source.url_of(&path),
                        bytes: &bytes,
                    },
                    &tiles,
                    summary,
                );
                self.stop_with(&e)
            }
            Err(TilesError::Fetch(e)) => Outcome::CouldNotSync(fetch_problem(&e)),
            other => Outcome::CouldNotSync(problem(
                FindingCode::SourceBadData,
                format!(
                    "{} serves tile {} that differs from the one recomputed from its entries, and changed it when read again ({})",
                    inner.source.label(),
                    id.path(),
                    match other {
                        Ok(_) => "the second reading authenticated".to_owned(),
                        Err(e) => e.to_string(),
                    }
                ),
            )),
        }
    }
}

/// The entries of a follow on their way to the log.
#[derive(Default)]
struct Staging {
    /// Received, not checked yet.
    pending: Vec<Vec<u8>>,
    /// Checked, waiting to be stored: each chunk is stored on a thread of
    /// its own while the next one is checked.
    checked: Vec<Vec<u8>>,
    /// (manifest unit index, leaf index) of every entry checked.
    units: Vec<(usize, u64)>,
    /// The first bad entry. Following goes on without checking or storing
    /// anything more, so that a bad entry is reported only once the entries
    /// are known to be the ones the checkpoint commits to (a fork or
    /// altered data is reported as such instead).
    bad: Option<BadEntry>,
}

impl Staging {
    /// Stores the checked chunk while checking the pending one, off the
    /// async workers: the disk writes and the signature checks block.
    fn flush(&mut self, log: &mut Log, checker: &mut entries::State) -> Result<(), SinkError> {
        off_the_async_workers(|| self.flush_blocking(log, checker))
    }

    fn flush_blocking(
        &mut self,
        log: &mut Log,
        checker: &mut entries::State,
    ) -> Result<(), SinkError> {
        if self.bad.is_some() {
            self.pending.clear();
            self.checked.clear();
            return Ok(());
        }
        let first = checker.applied();
        let (to_store, to_check) = (&self.checked, &self.pending);
        let (stored, result) = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                if to_store.is_empty() {
                    Ok(())
                } else {
                    log.stage(to_store)
                }
            });
            let result = if to_check.is_empty() {
                Ok(Vec::new())
            } else {
                entries::check(checker, to_check, Signatures::Verify)
            };
            (writer.join(), result)
        });
        stored
            .map_err(|_| SinkError::Thread)?
            .map_err(SinkError::Log)?;
        self.checked.clear();
        match result {
            Ok(u) => {
                self.units.extend(
                    u.into_iter()
                        .enumerate()
                        .map(|(i, u)| (u, first + i as u64)),
                );
                std::mem::swap(&mut self.checked, &mut self.pending);
            }
            Err(b) => self.bad = Some(b),
        }
        self.pending.clear();
        Ok(())
    }
}

/// Why the sink stopped a follow: the mirror's own storage failed.
#[derive(Debug, thiserror::Error)]
enum SinkError {
    #[error(transparent)]
    Log(LogError),
    #[error("the thread storing entries stopped")]
    Thread,
}

/// The finding code of a fork or bad-data evidence file.
fn evidence_code(e: &Evidence) -> FindingCode {
    e.code().parse().unwrap_or(FindingCode::SourceBadData)
}

/// Runs blocking work `f` (disk writes, signature checks) so that it does
/// not hold up the runtime's other tasks: on a multi-threaded runtime the
/// worker hands its other tasks over first (`block_in_place`); elsewhere
/// (a current-thread runtime, no runtime) it runs as it is.
fn off_the_async_workers<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
