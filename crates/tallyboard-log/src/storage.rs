//! Where the log lives: a local data directory or object storage.
//!
//! The local directory is the default ([`crate::Log::open`]): files are
//! written with fsync and rename (see the crate documentation). Object
//! storage ([`ObjectStorage`], through the `object_store` crate: S3 and
//! S3-compatible stores, GCS, Azure, memory) has no rename and no fsync;
//! its two primitives are the conditional writes:
//!
//! - **create-only** (`If-None-Match: *`): tiles, entry bundles and the
//!   staging object of a batch are never replaced. An existing object with
//!   the same bytes counts as written (a batch written again after a
//!   crash); one with other bytes is [`LogError::ObjectConflict`], which
//!   stops the sequencer.
//! - **compare-and-swap** (`If-Match: <etag>`): the sequencer state object
//!   (`private/sequencer`: the holder, a heartbeat counter and the signed
//!   checkpoint) is replaced only over the version last read. Whoever
//!   wins the swap is the one sequencer; the loser gets
//!   [`LogError::Superseded`] and stops.
//!
//! [`ObjectStorage::check_conditions`] proves at start-up that the store
//! enforces both (several S3-compatible stores accept the headers and
//! ignore them).
//!
//! `object_store` is async and the sequencer is a plain thread: each
//! [`ObjectStorage`] owns a small tokio runtime (one worker) and the
//! synchronous calls here hand their request to it and wait on a channel.
//! This works from any thread, inside an async runtime or not (a blocking
//! wait, like a file read), and keeps the sequencer's commit path, its
//! fault model and the local back-end exactly as they were.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStore, PutMode, PutOptions, PutPayload, UpdateVersion,
};

pub(crate) use tallyboard_core::store_objects::{MAX_STATE, StateRecord};

use crate::LogError;
use crate::fsio::read_optional;

/// The path of the sequencer state object, relative to the log's prefix.
pub(crate) const STATE: &str = "private/sequencer";
/// The directory of the staging objects (`private/staging/<size>`).
pub(crate) const STAGING: &str = "private/staging";
/// Objects written concurrently by one commit.
const CONCURRENCY: usize = 16;

/// Where a log's public files are read from: a directory (`public/` of a
/// data directory) or an object store prefix. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Storage {
    /// The `public/` directory of a local data directory.
    Dir(Arc<PathBuf>),
    /// A prefix in an object store.
    Object(Arc<ObjectStorage>),
}

impl Storage {
    /// Reads `rel` (a path relative to `public/` or the prefix), at most
    /// `cap` bytes plus one (a longer object is reported by its length).
    /// `None` if it does not exist.
    pub fn read(&self, rel: &str, cap: usize) -> Result<Option<Vec<u8>>, LogError> {
        match self {
            Storage::Dir(d) => Ok(read_optional(&d.join(rel), cap)?),
            Storage::Object(o) => Ok(o.get(rel, cap)?.map(|(b, _)| b)),
        }
    }

    /// The name of `rel` for messages: a file path or an object URL.
    pub(crate) fn name(&self, rel: &str) -> PathBuf {
        match self {
            Storage::Dir(d) => d.join(rel),
            Storage::Object(o) => PathBuf::from(o.url(rel)),
        }
    }

    /// Writes a static file of the copy (the signed manifest, the signed
    /// totals) next to the log: replaced durably in a directory, overwritten
    /// in object storage. These files are not part of the log: a reader
    /// checks them against it.
    pub fn put_static(&self, rel: &str, bytes: &[u8]) -> Result<(), LogError> {
        match self {
            Storage::Dir(d) => Ok(tallyboard_fs::replace(
                &d.join(rel),
                bytes,
                tallyboard_fs::Access::Shared,
            )?),
            Storage::Object(o) => o.put(rel, bytes.to_vec()),
        }
    }

    /// The object storage, if the log is there.
    pub fn object(&self) -> Option<&Arc<ObjectStorage>> {
        match self {
            Storage::Object(o) => Some(o),
            Storage::Dir(_) => None,
        }
    }
}

/// The version of an object as the store reports it (its ETag and, on a
/// versioned bucket, its version id): what a compare-and-swap names.
pub(crate) type Version = UpdateVersion;

/// A log's prefix in an object store, with the runtime its calls run on.
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// The URL of the prefix (`s3://bucket/prefix`), for messages.
    url: String,
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for ObjectStorage {
    fn drop(&mut self) {
        // Dropping a runtime inside another one blocks and panics; nothing
        // of ours is in flight once the last handle is gone.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The state object's format (`spec/server.md` §5a), read with the
/// object's URL for messages.
fn parse_state(bytes: &[u8], url: &str) -> Result<StateRecord, LogError> {
    StateRecord::parse(bytes).map_err(|e| LogError::BadState {
        object: url.to_owned(),
        reason: e.to_string(),
    })
}

fn store_err(op: &'static str, url: String) -> impl FnOnce(object_store::Error) -> LogError {
    move |e| LogError::Store {
        op,
        object: url,
        source: Box::new(e),
    }
}

/// The outcome of a conditional write.
pub(crate) enum Swap {
    /// Written; the new version.
    Done(Version),
    /// The condition failed: the object exists (create) or has changed
    /// (compare-and-swap).
    Lost,
}

impl ObjectStorage {
    /// The log at `url` (`s3://BUCKET/PREFIX`, `gs://…`, `az://…`, or
    /// `memory://NAME` for a store private to this process). S3's
    /// endpoint, region and credentials come from the usual `AWS_*`
    /// environment variables (`AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).
    pub fn from_url(url: &str) -> Result<ObjectStorage, LogError> {
        let bad = |reason: String| LogError::BadStorageUrl {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected SCHEME://BUCKET/PREFIX".to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket".to_owned()));
        }
        let store: Arc<dyn ObjectStore> = match scheme {
            "s3" => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| bad(e.to_string()))?,
            ),
            "memory" => Arc::new(object_store::memory::InMemory::new()),
            other => return Err(bad(format!("unsupported scheme {other:?} (s3, memory)"))),
        };
        ObjectStorage::new(store, prefix, &format!("{scheme}://{bucket}"))
    }

    /// The log under `prefix` in `store`; `name` names the store in
    /// messages (`s3://bucket`).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        name: &str,
    ) -> Result<ObjectStorage, LogError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tallyboard-object-store")
            .enable_all()
            .build()
            .map_err(|e| {
                LogError::Io(crate::IoError {
                    op: "start the object store runtime",
                    path: PathBuf::new(),
                    source: e,
                })
            })?;
        let prefix = prefix.trim_matches('/').to_owned();
        let url = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{name}/{prefix}")
        };
        Ok(ObjectStorage {
            store,
            prefix,
            url,
            rt: Some(rt),
        })
    }

    /// The URL of the log's prefix, for messages.
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The URL of object `rel`, for messages.
    pub(crate) fn url(&self, rel: &str) -> String {
        format!("{}/{rel}", self.url)
    }

    fn path(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// Runs `f` on this storage's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        f: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, LogError> {
        let stopped = || LogError::Store {
            op: "run",
            object: self.url.clone(),
            source: "the object store runtime has stopped".into(),
        };
        let rt = self.rt.as_ref().ok_or_else(stopped)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv().map_err(|_| stopped())
    }

    /// Reads `rel` with its version; `None` if it does not exist. An
    /// object longer than `cap` is read as its first `cap + 1` bytes.
    pub(crate) fn get(
        &self,
        rel: &str,
        cap: usize,
    ) -> Result<Option<(Vec<u8>, Version)>, LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let r = self.block(async move {
            let got = match store.get(&path).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let version = UpdateVersion {
                e_tag: got.meta.e_tag.clone(),
                version: got.meta.version.clone(),
            };
            if got.meta.size > cap as u64 {
                let b = store.get_range(&path, 0..cap as u64 + 1).await?;
                return Ok(Some((b.to_vec(), version)));
            }
            Ok(Some((got.bytes().await?.to_vec(), version)))
        })?;
        r.map_err(store_err("read", self.url(rel)))
    }

    /// The current version of `rel`, `None` if it does not exist.
    pub(crate) fn head(&self, rel: &str) -> Result<Option<Version>, LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let r = self.block(async move {
            match store.head(&path).await {
                Ok(m) => Ok(Some(UpdateVersion {
                    e_tag: m.e_tag,
                    version: m.version,
                })),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        r.map_err(store_err("read", self.url(rel)))
    }

    /// Overwrites `rel` (static files that are not part of the log), with
    /// the content type of its name ([`content_type`]).
    pub fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<(), LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let opts = put_options(PutMode::Overwrite, rel);
        let r =
            self.block(async move { store.put_opts(&path, PutPayload::from(bytes), opts).await })?;
        r.map(|_| ()).map_err(store_err("write", self.url(rel)))
    }

    /// Overwrites every object of `files` (paths relative to the prefix),
    /// several at a time: the pages and other static files that change
    /// (each with the content type of its name). Every write is tried; the
    /// first error is returned.
    pub fn put_all(&self, files: Vec<(String, Vec<u8>)>) -> Result<(), LogError> {
        let jobs: Vec<(ObjectPath, String, PutOptions, Vec<u8>)> = files
            .into_iter()
            .map(|(rel, b)| {
                let opts = put_options(PutMode::Overwrite, &rel);
                (self.path(&rel), self.url(&rel), opts, b)
            })
            .collect();
        let store = self.store.clone();
        self.block(async move {
            let results: Vec<Result<(), LogError>> = futures_util::stream::iter(jobs)
                .map(|(path, url, opts, bytes)| {
                    let store = store.clone();
                    async move {
                        store
                            .put_opts(&path, PutPayload::from(bytes), opts)
                            .await
                            .map(|_| ())
                            .map_err(store_err("write", url))
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            results.into_iter().collect::<Result<(), LogError>>()
        })?
    }

    /// Writes `rel` if it does not exist (`expected` `None`) or replaces it
    /// if it is still at version `expected`.
    pub(crate) fn swap(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        expected: Option<Version>,
    ) -> Result<Swap, LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let mode = match expected {
            None => PutMode::Create,
            Some(v) => PutMode::Update(v),
        };
        let opts = put_options(mode, rel);
        let r =
            self.block(async move { store.put_opts(&path, PutPayload::from(bytes), opts).await })?;
        match r {
            Ok(p) => Ok(Swap::Done(p.into())),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Swap::Lost),
            Err(e) => Err(store_err("write", self.url(rel))(e)),
        }
    }

    /// Creates every object of `files` (paths relative to the prefix),
    /// several at a time, create-only: an existing object with the same
    /// bytes counts as created, one with other bytes is an
    /// [`LogError::ObjectConflict`].
    pub fn create_all(&self, files: &[(String, Vec<u8>)]) -> Result<(), LogError> {
        let jobs: Vec<(ObjectPath, String, Vec<u8>)> = files
            .iter()
            .map(|(rel, b)| (self.path(rel), self.url(rel), b.clone()))
            .collect();
        let store = self.store.clone();
        self.block(async move {
            let results: Vec<Result<(), LogError>> = futures_util::stream::iter(jobs)
                .map(|(path, url, bytes)| {
                    let store = store.clone();
                    async move { create_one(store.as_ref(), &path, url, bytes).await }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            results.into_iter().collect::<Result<(), LogError>>()
        })?
    }

    /// Deletes `rel` (a missing object is not an error).
    pub(crate) fn delete(&self, rel: &str) -> Result<(), LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let r = self.block(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })?;
        r.map_err(store_err("delete", self.url(rel)))
    }

    /// Whether any object exists under `rel/`.
    pub(crate) fn any_under(&self, rel: &str) -> Result<bool, LogError> {
        let store = self.store.clone();
        let path = self.path(rel);
        let r = self.block(async move {
            let mut s = store.list(Some(&path));
            match s.next().await {
                None => Ok(false),
                Some(Ok(_)) => Ok(true),
                Some(Err(e)) => Err(e),
            }
        })?;
        r.map_err(store_err("list", self.url(rel)))
    }

    /// Checks that the store enforces both conditional writes the log
    /// relies on, with a probe object under `private/probe/`: a second
    /// create-only write of the same path, and a compare-and-swap naming a
    /// version that is no longer current, must both be refused. Fails with
    /// [`LogError::ConditionsIgnored`], naming the store, otherwise.
    pub fn check_conditions(&self) -> Result<(), LogError> {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| LogError::Store {
            op: "random probe name",
            object: self.url.clone(),
            source: e.to_string().into(),
        })?;
        let rel = format!("private/probe/{}", hex::encode(id));
        let ignored = |what: &'static str| LogError::ConditionsIgnored {
            store: self.url.clone(),
            what,
        };
        let first = match self.swap(&rel, b"probe 1".to_vec(), None)? {
            Swap::Done(v) => v,
            Swap::Lost => return Err(ignored("a new probe object already existed")),
        };
        let verdict = (|| {
            if let Swap::Done(_) = self.swap(&rel, b"probe 2".to_vec(), None)? {
                return Err(ignored(
                    "a create-only write (If-None-Match: *) replaced an existing object",
                ));
            }
            let second = match self.swap(&rel, b"probe 3".to_vec(), Some(first.clone()))? {
                Swap::Done(v) => v,
                Swap::Lost => {
                    return Err(ignored(
                        "a compare-and-swap (If-Match) on the current version was refused",
                    ));
                }
            };
            if second == first {
                return Err(ignored("two different writes got the same version"));
            }
            if let Swap::Done(_) = self.swap(&rel, b"probe 4".to_vec(), Some(first))? {
                return Err(ignored(
                    "a compare-and-swap (If-Match) on a stale version replaced the object",
                ));
            }
            Ok(())
        })();
        let cleaned = self.delete(&rel);
        verdict.and(cleaned)
    }

    /// Reads the sequencer state object and its version.
    pub(crate) fn read_state(&self) -> Result<Option<(StateRecord, Version)>, LogError> {
        match self.get(STATE, MAX_STATE)? {
            None => Ok(None),
            Some((bytes, v)) => {
                if bytes.len() > MAX_STATE {
                    return Err(LogError::BadState {
                        object: self.url(STATE),
                        reason: format!("larger than {MAX_STATE} bytes"),
                    });
                }
                Ok(Some((parse_state(&bytes, &self.url(STATE))?, v)))
            }
        }
    }

    /// Waits until the sequencer state has not changed for `stale_after`
    /// (measured on this machine's monotonic clock, polling every `poll`),
    /// or does not exist; returns the state seen last, which the caller may
    /// then take over by compare-and-swap. `on_poll` is told the holder
    /// after each read, and stops the wait by returning `false` (then
    /// `None` is returned).
    pub fn wait_until_stale(
        &self,
        stale_after: Duration,
        poll: Duration,
        on_poll: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<StaleState>, LogError> {
        let mut last: Option<Version> = None;
        let mut since = Instant::now();
        loop {
            let seen = self.read_state()?;
            let Some((record, version)) = seen else {
                return Ok(Some(StaleState {
                    holder: String::new(),
                    version: None,
                }));
            };
            if !on_poll(&record.holder) {
                return Ok(None);
            }
            if last.as_ref() != Some(&version) {
                last = Some(version.clone());
                since = Instant::now();
            } else if since.elapsed() >= stale_after {
                return Ok(Some(StaleState {
                    holder: record.holder,
                    version: Some(version),
                }));
            }
            std::thread::sleep(poll);
        }
    }
}

/// A sequencer state that stopped changing ([`ObjectStorage::wait_until_stale`]).
#[derive(Clone, Debug)]
pub struct StaleState {
    /// The holder it names (empty: there was no state yet).
    pub holder: String,
    pub(crate) version: Option<Version>,
}

/// This sequencer's hold on the state object: the version it last wrote,
/// and that of the public checkpoint copy.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(crate) holder: String,
    pub(crate) beat: u64,
    pub(crate) version: Version,
    pub(crate) cp_version: Option<Version>,
    /// Set once a compare-and-swap was lost: nothing more is written.
    pub(crate) lost: bool,
}

/// A log in object storage: the storage and this sequencer's lease,
/// shared by the log and its checkpoint publisher.
#[derive(Clone, Debug)]
pub(crate) struct ObjectLog {
    pub(crate) storage: Arc<ObjectStorage>,
    pub(crate) lease: Arc<std::sync::Mutex<Lease>>,
}

impl ObjectLog {
    fn lease(&self) -> std::sync::MutexGuard<'_, Lease> {
        self.lease
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The error of a lost lease, naming the holder now (best effort).
    fn superseded(&self) -> LogError {
        let holder = match self.storage.read_state() {
            Ok(Some((r, _))) => r.holder,
            _ => String::new(),
        };
        LogError::Superseded { holder }
    }

    /// The holder name of this sequencer.
    pub(crate) fn holder(&self) -> String {
        self.lease().holder.clone()
    }

    /// Replaces the state by compare-and-swap with `note` (the commit
    /// point of a batch, a heartbeat with the same note, or the note with
    /// cosignatures added), then the public checkpoint copy.
    pub(crate) fn publish(&self, note: &[u8]) -> Result<(), LogError> {
        let mut lease = self.lease();
        if lease.lost {
            drop(lease);
            return Err(self.superseded());
        }
        let record = StateRecord {
            holder: lease.holder.clone(),
            beat: lease.beat + 1,
            note: note.to_vec(),
        };
        match self
            .storage
            .swap(STATE, record.to_bytes(), Some(lease.version.clone()))?
        {
            Swap::Done(v) => {
                lease.version = v;
                lease.beat += 1;
            }
            Swap::Lost => {
                lease.lost = true;
                drop(lease);
                return Err(self.superseded());
            }
        }
        self.write_public_checkpoint(&mut lease, note)
    }

    /// Writes the public `checkpoint` copy of the state's note, by
    /// compare-and-swap on the version this sequencer wrote last, so that
    /// a sequencer that lost its lease can never put an older checkpoint
    /// back over a newer one.
    pub(crate) fn write_public_checkpoint(
        &self,
        lease: &mut Lease,
        note: &[u8],
    ) -> Result<(), LogError> {
        for _ in 0..2 {
            match self
                .storage
                .swap("checkpoint", note.to_vec(), lease.cp_version.clone())?
            {
                Swap::Done(v) => {
                    lease.cp_version = Some(v);
                    return Ok(());
                }
                Swap::Lost => {
                    // Another writer touched the copy: only the holder of
                    // the state may fix it.
                    if self.storage.head(STATE)? != Some(lease.version.clone()) {
                        lease.lost = true;
                        return Err(LogError::Superseded {
                            holder: String::new(),
                        });
                    }
                    lease.cp_version = self.storage.head("checkpoint")?;
                }
            }
        }
        Err(LogError::Superseded {
            holder: String::new(),
        })
    }

    /// Makes the public copy equal to `note` if it is not (recovery).
    pub(crate) fn sync_public_checkpoint(&self, note: &[u8]) -> Result<(), LogError> {
        let mut lease = self.lease();
        match self
            .storage
            .get("checkpoint", tallyboard_core::limits::MAX_NOTE)?
        {
            Some((bytes, v)) if bytes == note => {
                lease.cp_version = Some(v);
                Ok(())
            }
            Some((_, v)) => {
                lease.cp_version = Some(v);
                self.write_public_checkpoint(&mut lease, note)
            }
            None => {
                lease.cp_version = None;
                self.write_public_checkpoint(&mut lease, note)
            }
        }
    }
}

/// The content type an object is stored with, from its name, so that a
/// web server or CDN in front of the bucket serves it as the publication
/// server would: pages, stylesheets, scripts, JSON and CSV by extension;
/// the checkpoint as text; the signed manifest, totals and certification
/// as CBOR; tiles, entry bundles and anything else as octets.
pub fn content_type(rel: &str) -> &'static str {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        _ if rel == "checkpoint" || rel.ends_with("/checkpoint") => "text/plain; charset=utf-8",
        _ if matches!(name, "manifest" | "totals" | "certification") => "application/cbor",
        _ => "application/octet-stream",
    }
}

fn put_options(mode: PutMode, rel: &str) -> PutOptions {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type(rel).into());
    PutOptions {
        mode,
        attributes,
        ..PutOptions::default()
    }
}

async fn create_one(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    url: String,
    bytes: Vec<u8>,
) -> Result<(), LogError> {
    let opts = put_options(PutMode::Create, path.as_ref());
    match store
        .put_opts(path, PutPayload::from(bytes.clone()), opts)
        .await
    {
        Ok(_) => Ok(()),
        Err(
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. },
        ) => {
            let existing = store
                .get(path)
                .await
                .map_err(store_err("read", url.clone()))?
                .bytes()
                .await
                .map_err(store_err("read", url.clone()))?;
            if existing.as_ref() == bytes.as_slice() {
                Ok(())
            } else {
                Err(LogError::ObjectConflict { object: url })
            }
        }
        Err(e) => Err(store_err("write", url)(e)),
    }
}

/// Encodes the entries of a batch for its staging object
/// (`tallyboard_core::store_objects`).
pub(crate) fn encode_staging(entries: &[&[u8]], url: &str) -> Result<Vec<u8>, LogError> {
    tallyboard_core::store_objects::encode_staging(entries).ok_or_else(|| LogError::BadState {
        object: url.to_owned(),
        reason: "an entry is empty or longer than 65,535 bytes".to_owned(),
    })
}

pub(crate) use tallyboard_core::store_objects::decode_staging;
