//! Where a log is read from: an http(s) base URL (the origin or a mirror) or
//! a local directory in the C2SP layout (`checkpoint`, `tile/...`,
//! `manifest`, `totals`).
//!
//! Every body is size-capped before it is parsed (the caps of
//! [`tallyboard_core::limits`]); an HTTP body over its cap is cut off as soon
//! as it exceeds it. Every request has a timeout. Errors distinguish an
//! unreachable source, a missing file (404), a body too large and any other
//! HTTP status, and name the URL or file.
//!
//! A [`Source`] reads through the [`Fetch`] trait (one asynchronous `get`
//! of a path with a size cap), which [`HttpFetch`] and [`DirFetch`]
//! implement; it is cheap to clone (the HTTP client is shared) and is
//! `Send + Sync`, so that it can be used from any task of a tokio runtime (the
//! mirror is an axum server). The library makes no runtime of its own: its
//! callers own them.
//!
//! Reading authenticated hashes from a source's tiles (for consistency and
//! inclusion proofs) goes through core's [`TileHashReader`], whose
//! [`TileFetcher`] is synchronous: [`Source::read_tiles`] runs the reader
//! over an in-memory [`TileCache`], fetches whatever tiles it reported
//! missing, and retries, so that no blocking call is made on the runtime.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use tallyboard_core::Hash;
use tallyboard_core::limits::{
    MAX_ENTRY_BUNDLE, MAX_NOTE, MAX_SIGNED_MANIFEST, MAX_SIGNED_TOTALS, MAX_TREE_SIZE,
};
use tallyboard_core::merkle::TreeError;
use tallyboard_core::tile::{
    BundleId, FULL_TILE_LEN, TILE_WIDTH, TileFetcher, TileHashReader, TileId, TileReadError,
};
use tallyboard_http::body::BodyError;

/// Default time allowed for one request (connect, headers and body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Most rounds of "read, fetch the tiles reported missing, read again" in
/// [`Source::read_tiles`]. One read of core's reader asks for all the tiles
/// it needs at once, so two rounds suffice; the bound stops a misbehaving
/// source from keeping the loop going.
const MAX_TILE_ROUNDS: usize = 4;

/// Why a fetch from a source failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    /// No answer: connection refused, DNS failure, TLS failure, reset, or
    /// the request timed out.
    #[error("{url} is unreachable: {reason}")]
    Unreachable {
        /// The URL or file.
        url: String,
        /// What the network layer said.
        reason: String,
    },
    /// The source answered 404 (or the file does not exist).
    #[error("{url} was not found (404)")]
    NotFound {
        /// The URL or file.
        url: String,
    },
    /// The body is larger than the cap for that kind of object.
    #[error("{url} is larger than the limit of {cap} bytes for this kind of file")]
    TooLarge {
        /// The URL or file.
        url: String,
        /// The cap in bytes.
        cap: usize,
    },
    /// The source answered but its body was cut off (timeout or reset
    /// while reading it).
    #[error("{url} answered but its body could not be read whole: {reason}")]
    Interrupted {
        /// The URL.
        url: String,
        /// What the network layer said.
        reason: String,
    },
    /// Any other HTTP status than 200.
    #[error("{url} answered HTTP {status}")]
    BadStatus {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// A local file could not be read.
    #[error("{url} could not be read: {reason}")]
    Io {
        /// The file.
        url: String,
        /// The operating system's error.
        reason: String,
    },
}

impl FetchError {
    /// The URL or file the error is about.
    pub fn url(&self) -> &str {
        match self {
            FetchError::Unreachable { url, .. }
            | FetchError::NotFound { url }
            | FetchError::TooLarge { url, .. }
            | FetchError::BadStatus { url, .. }
            | FetchError::Interrupted { url, .. }
            | FetchError::Io { url, .. } => url,
        }
    }

    /// A stable, kebab-case code (JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::NotFound { .. } => "not-found",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::BadStatus { .. } => "bad-status",
            FetchError::Interrupted { .. } => "interrupted",
            FetchError::Io { .. } => "io",
        }
    }

    /// Whether the source did not answer, or not whole (a transport
    /// failure, as opposed to answering with something wrong).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            FetchError::Unreachable { .. } | FetchError::Interrupted { .. }
        )
    }
}

/// Why a `--source` argument was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceError {
    /// Neither an existing directory nor an http(s) URL.
    #[error(
        "{0:?} is neither an existing directory nor an http:// or https:// URL; give the address of the server or of a mirror, or a directory holding a copy of the log"
    )]
    NotASource(String),
    /// A URL with a query or fragment cannot be a base URL.
    #[error("{0:?}: a source URL must not have a query (?...) or a fragment (#...)")]
    BadUrl(String),
    /// The HTTP client could not be built (TLS roots).
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// How a [`Source`] reads: the one asynchronous operation the verifier
/// needs from a place holding a log. [`HttpFetch`] (an http(s) base URL)
/// and [`DirFetch`] (a local directory) implement it; a caller may give its
/// own (another transport, a cache) with [`Source::from_fetch`].
///
/// An implementation MUST refuse a body over `cap` bytes before holding it
/// whole ([`FetchError::TooLarge`]) and report a missing file as
/// [`FetchError::NotFound`]: partial tiles and bundles that are not found
/// are read from the full ones.
pub trait Fetch: Send + Sync + std::fmt::Debug {
    /// How the source is named in reports: the base URL or the directory.
    fn label(&self) -> &str;

    /// The full URL (or file path) of `path`.
    fn url_of(&self, path: &str) -> String;

    /// Whether the source is a local copy (a directory).
    fn is_local(&self) -> bool {
        false
    }

    /// The bytes at `path` (a read-API path without the leading slash),
    /// at most `cap` of them.
    fn get<'a>(&'a self, path: &'a str, cap: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>>;
}

/// An http(s) base URL read with a shared [`reqwest::Client`].
#[derive(Clone, Debug)]
pub struct HttpFetch {
    /// Base URL without the trailing slash.
    base: String,
    client: reqwest::Client,
}

impl Fetch for HttpFetch {
    fn label(&self) -> &str {
        &self.base
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn get<'a>(&'a self, path: &'a str, cap: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(async move { get_http(&self.client, &self.url_of(path), cap).await })
    }
}

/// A local directory in the C2SP layout, read with tokio's file system.
#[derive(Clone, Debug)]
pub struct DirFetch {
    dir: PathBuf,
    label: String,
}

impl DirFetch {
    /// The directory `dir`.
    pub fn new(dir: &Path) -> DirFetch {
        DirFetch {
            dir: dir.to_path_buf(),
            label: dir.display().to_string(),
        }
    }
}

impl Fetch for DirFetch {
    fn label(&self) -> &str {
        &self.label
    }

    fn url_of(&self, path: &str) -> String {
        self.dir.join(path).display().to_string()
    }

    fn is_local(&self) -> bool {
        true
    }

    fn get<'a>(&'a self, path: &'a str, cap: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        Box::pin(async move { get_file(&self.dir.join(path), cap).await })
    }
}

/// A place to read a log from: an http(s) base URL, a local directory in
/// the C2SP layout, or any other [`Fetch`].
#[derive(Clone, Debug)]
pub struct Source {
    fetch: Arc<dyn Fetch>,
}

/// Settings of the HTTP client of a [`Source`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Time allowed for a whole request.
    pub timeout: Duration,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Builds the HTTP client every HTTP source of one run shares.
pub fn http_client(opts: &HttpOptions) -> Result<reqwest::Client, SourceError> {
    reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.connect_timeout)
        .user_agent(concat!("tallyboard-verify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SourceError::Client(e.to_string()))
}

impl Source {
    /// A source for `arg`: an existing directory is a local copy, anything
    /// else must be an http:// or https:// URL (a base URL: the read API's
    /// paths are appended to it).
    pub fn parse(arg: &str, client: &reqwest::Client) -> Result<Source, SourceError> {
        let path = Path::new(arg);
        if path.is_dir() {
            return Ok(Source::dir(path));
        }
        Source::http(arg, client)
    }

    /// A local directory in the C2SP layout.
    pub fn dir(path: &Path) -> Source {
        Source::from_fetch(Arc::new(DirFetch::new(path)))
    }

    /// A source reading through `fetch`.
    pub fn from_fetch(fetch: Arc<dyn Fetch>) -> Source {
        Source { fetch }
    }

    /// An http(s) base URL.
    pub fn http(url: &str, client: &reqwest::Client) -> Result<Source, SourceError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| SourceError::NotASource(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(SourceError::NotASource(url.to_owned()));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(SourceError::BadUrl(url.to_owned()));
        }
        let base = parsed.as_str().trim_end_matches('/').to_owned();
        Ok(Source::from_fetch(Arc::new(HttpFetch {
            base,
            client: client.clone(),
        })))
    }

    /// How the source is named in reports: the base URL or the directory.
    pub fn label(&self) -> &str {
        self.fetch.label()
    }

    /// Whether the source is a local directory.
    pub fn is_local(&self) -> bool {
        self.fetch.is_local()
    }

    /// The full URL (or file path) of `path` (a read-API path without the
    /// leading slash, e.g. `tile/0/000`).
    pub fn url_of(&self, path: &str) -> String {
        self.fetch.url_of(path)
    }

    /// Fetches `path` (without the leading slash), refusing a body over
    /// `cap` bytes.
    pub async fn get(&self, path: &str, cap: usize) -> Result<Vec<u8>, FetchError> {
        self.fetch.get(path, cap).await
    }

    /// The signed checkpoint (`/checkpoint`), at most [`MAX_NOTE`] bytes.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        self.get("checkpoint", MAX_NOTE).await
    }

    /// The signed manifest (`/manifest`), at most [`MAX_SIGNED_MANIFEST`] bytes.
    pub async fn manifest(&self) -> Result<Vec<u8>, FetchError> {
        self.get("manifest", MAX_SIGNED_MANIFEST).await
    }

    /// The signed totals (`/totals`), at most [`MAX_SIGNED_TOTALS`] bytes.
    pub async fn totals(&self) -> Result<Vec<u8>, FetchError> {
        self.get("totals", MAX_SIGNED_TOTALS).await
    }

    /// The authority's certification (`/certification`), at most
    /// [`MAX_SIGNED_CERTIFICATION`](tallyboard_core::limits::MAX_SIGNED_CERTIFICATION) bytes.
    pub async fn certification(&self) -> Result<Vec<u8>, FetchError> {
        self.get(
            "certification",
            tallyboard_core::limits::MAX_SIGNED_CERTIFICATION,
        )
        .await
    }

    /// The bytes of `tile` (at most `32·width`; the caller checks the exact
    /// length). A partial tile that is not found is read as the prefix of
    /// the full tile, as C2SP tlog-tiles allows once the log has grown.
    pub async fn tile(&self, tile: TileId) -> Result<Vec<u8>, FetchError> {
        let cap = usize::from(tile.width()) * 32;
        match self.get(&tile.path(), cap).await {
            Err(FetchError::NotFound { url }) if !tile.is_full() => {
                let full = TileId::full(tile.level(), tile.index())
                    .map_err(|_| FetchError::NotFound { url: url.clone() })?;
                let mut bytes = self.get(&full.path(), FULL_TILE_LEN).await?;
                if bytes.len() < cap {
                    // Too short to hold the partial tile: report the partial
                    // tile as missing rather than a wrong-length tile.
                    return Err(FetchError::NotFound { url });
                }
                bytes.truncate(cap);
                Ok(bytes)
            }
            other => other,
        }
    }

    /// The bytes of entry bundle `bundle`, at most [`MAX_ENTRY_BUNDLE`]. A
    /// partial bundle that is not found is read as the first `width`
    /// entries of the full bundle.
    pub async fn bundle(&self, bundle: BundleId) -> Result<Vec<u8>, FetchError> {
        match self.get(&bundle.path(), MAX_ENTRY_BUNDLE).await {
            Err(FetchError::NotFound { url }) if bundle.width() != TILE_WIDTH => {
                let full = BundleId::new(bundle.index(), TILE_WIDTH)
                    .map_err(|_| FetchError::NotFound { url: url.clone() })?;
                let bytes = self.get(&full.path(), MAX_ENTRY_BUNDLE).await?;
                match bundle_prefix_len(&bytes, bundle.width()) {
                    Some(n) => Ok(bytes[..n].to_vec()),
                    None => Err(FetchError::NotFound { url }),
                }
            }
            other => other,
        }
    }

    /// Runs `read` (a computation over core's [`TileHashReader`], e.g.
    /// [`tallyboard_core::merkle::prove_consistency`]) against this
    /// source's tiles of the tree `(size, root)`, authenticated against
    /// `root`. Tiles are taken from `cache` or fetched (and added to it).
    ///
    /// Errors: [`TilesError::Fetch`] when a tile cannot be fetched,
    /// [`TilesError::Read`] when the tiles fail authentication or the
    /// computation fails (the source served tiles that do not hash to the
    /// checkpoint: bad data).
    pub async fn read_tiles<T, F>(
        &self,
        cache: &mut TileCache,
        size: u64,
        root: Hash,
        read: F,
    ) -> Result<T, TilesError>
    where
        F: Fn(
            &TileHashReader<CacheFetcher<'_>>,
        ) -> Result<T, TreeError<TileReadError<MissingTiles>>>,
    {
        if size > MAX_TREE_SIZE {
            return Err(TilesError::Compute(format!(
                "tree size {size} is above the supported maximum"
            )));
        }
        for _ in 0..MAX_TILE_ROUNDS {
            let missing = {
                let reader = TileHashReader::new(size, root, CacheFetcher { cache });
                match read(&reader) {
                    Ok(v) => return Ok(v),
                    Err(TreeError::Read(TileReadError::Fetch(MissingTiles(m)))) => m,
                    Err(e) => return Err(TilesError::from_tree_error(&e)),
                }
            };
            for t in missing {
                let bytes = self.tile(t).await.map_err(TilesError::Fetch)?;
                cache.insert(t, bytes);
            }
        }
        Err(TilesError::Compute(
            "the tiles needed kept changing between reads".to_owned(),
        ))
    }
}

/// Byte length of the first `width` entries of a bundle, if it has them.
fn bundle_prefix_len(bytes: &[u8], width: u16) -> Option<usize> {
    let mut at = 0usize;
    for _ in 0..width {
        let len = bytes.get(at..at + 2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        at = at.checked_add(2 + len)?;
        if at > bytes.len() {
            return None;
        }
    }
    Some(at)
}

async fn get_http(client: &reqwest::Client, url: &str, cap: usize) -> Result<Vec<u8>, FetchError> {
    let unreachable = |e: reqwest::Error| FetchError::Unreachable {
        url: url.to_owned(),
        reason: describe(&e),
    };
    let resp = client.get(url).send().await.map_err(unreachable)?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(FetchError::NotFound {
            url: url.to_owned(),
        });
    }
    if status != reqwest::StatusCode::OK {
        return Err(FetchError::BadStatus {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    tallyboard_http::body::read_response(resp, cap)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge(_) => FetchError::TooLarge {
                url: url.to_owned(),
                cap,
            },
            BodyError::Read(e) => FetchError::Interrupted {
                url: url.to_owned(),
                reason: describe(&e),
            },
        })
}

/// The error and its causes on one line ("error sending request: connection refused").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

async fn get_file(path: &Path, cap: usize) -> Result<Vec<u8>, FetchError> {
    use tokio::io::AsyncReadExt;
    let url = path.display().to_string();
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            FetchError::NotFound { url: url.clone() }
        } else {
            FetchError::Io {
                url: url.clone(),
                reason: e.to_string(),
            }
        }
    };
    let file = tokio::fs::File::open(path).await.map_err(io)?;
    let meta = file.metadata().await.map_err(io)?;
    if !meta.is_file() {
        return Err(FetchError::NotFound { url });
    }
    if meta.len() > cap as u64 {
        return Err(FetchError::TooLarge { url, cap });
    }
    let mut body = Vec::with_capacity(meta.len() as usize);
    // Read at most cap + 1 bytes: a file that grew after the metadata call
    // is still refused.
    file.take(cap as u64 + 1)
        .read_to_end(&mut body)
        .await
        .map_err(io)?;
    if body.len() > cap {
        return Err(FetchError::TooLarge { url, cap });
    }
    Ok(body)
}

/// Why [`Source::read_tiles`] failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TilesError {
    /// A tile could not be fetched.
    #[error(transparent)]
    Fetch(FetchError),
    /// The tiles as served do not authenticate against the root: bad data.
    #[error("{reason}")]
    Unauthentic {
        /// What failed, in words.
        reason: String,
        /// The tile that failed to match its parent or was malformed, when
        /// core's reader names one (otherwise the right edge of the tree
        /// does not hash to the root).
        tile: Option<TileId>,
    },
    /// The computation over the tiles failed for another reason (a size or
    /// index outside the tree).
    #[error("{0}")]
    Compute(String),
}

impl TilesError {
    fn from_tree_error<E: std::error::Error + 'static>(
        e: &TreeError<TileReadError<E>>,
    ) -> TilesError {
        match e {
            TreeError::Read(r @ TileReadError::RootMismatch { .. }) => TilesError::Unauthentic {
                reason: r.to_string(),
                tile: None,
            },
            TreeError::Read(r @ TileReadError::InconsistentTile(t)) => TilesError::Unauthentic {
                reason: r.to_string(),
                tile: Some(*t),
            },
            TreeError::Read(r @ TileReadError::BadTile { tile, .. }) => TilesError::Unauthentic {
                reason: r.to_string(),
                tile: Some(*tile),
            },
            other => TilesError::Compute(other.to_string()),
        }
    }
}

/// Tiles fetched from one source, by id (bytes as served, not yet
/// authenticated: [`TileHashReader`] authenticates them on every read).
#[derive(Clone, Debug, Default)]
pub struct TileCache {
    tiles: HashMap<TileId, Vec<u8>>,
}

/// Most tiles a [`TileCache`] keeps; past it the cache is emptied (a read
/// needs a few dozen tiles at most).
const MAX_CACHED_TILES: usize = 4096;

impl TileCache {
    /// An empty cache.
    pub fn new() -> TileCache {
        TileCache::default()
    }

    /// Adds a tile.
    pub fn insert(&mut self, tile: TileId, bytes: Vec<u8>) {
        if self.tiles.len() >= MAX_CACHED_TILES {
            self.tiles.clear();
        }
        self.tiles.insert(tile, bytes);
    }

    /// A tile's bytes, if cached.
    pub fn get(&self, tile: &TileId) -> Option<&Vec<u8>> {
        self.tiles.get(tile)
    }

    /// Runs `read` over the cached tiles once, and returns the tiles it
    /// asked for (with their bytes): the tiles an evidence file must carry
    /// for a third party to repeat the read.
    pub fn tiles_read<T, E>(
        &self,
        size: u64,
        root: Hash,
        read: impl Fn(&TileHashReader<RecordingFetcher<'_>>) -> Result<T, E>,
    ) -> Vec<(TileId, Vec<u8>)> {
        let fetcher = RecordingFetcher {
            cache: self,
            used: std::sync::Mutex::new(Vec::new()),
        };
        let reader = TileHashReader::new(size, root, fetcher);
        let _ = read(&reader);
        let used = match reader.fetcher().used.lock() {
            Ok(u) => u.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let mut out: Vec<(TileId, Vec<u8>)> = Vec::new();
        for t in used {
            if let Some(b) = self.get(&t)
                && !out.iter().any(|(u, _)| *u == t)
            {
                out.push((t, b.clone()));
            }
        }
        out
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

/// The tiles a read needed that were not in the [`TileCache`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{} tiles are not fetched yet", .0.len())]
pub struct MissingTiles(pub Vec<TileId>);

/// The [`TileFetcher`] over a [`TileCache`] that [`Source::read_tiles`]
/// gives to core's [`TileHashReader`]: it answers from the cache and
/// reports every missing tile at once.
pub struct CacheFetcher<'a> {
    cache: &'a TileCache,
}

impl TileFetcher for CacheFetcher<'_> {
    type Error = MissingTiles;

    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, MissingTiles> {
        self.cache
            .get(&tile)
            .cloned()
            .ok_or_else(|| MissingTiles(vec![tile]))
    }

    fn fetch_tiles(&self, tiles: &[TileId]) -> Result<Vec<Vec<u8>>, MissingTiles> {
        let missing: Vec<TileId> = tiles
            .iter()
            .filter(|t| self.cache.get(t).is_none())
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(MissingTiles(missing));
        }
        Ok(tiles
            .iter()
            .filter_map(|t| self.cache.get(t).cloned())
            .collect())
    }
}

/// A [`TileFetcher`] over a [`TileCache`] that records the tiles asked for
/// (see [`TileCache::tiles_read`]).
pub struct RecordingFetcher<'a> {
    cache: &'a TileCache,
    used: std::sync::Mutex<Vec<TileId>>,
}

impl TileFetcher for RecordingFetcher<'_> {
    type Error = MissingTiles;

    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, MissingTiles> {
        if let Ok(mut u) = self.used.lock() {
            u.push(tile);
        }
        self.cache
            .get(&tile)
            .cloned()
            .ok_or_else(|| MissingTiles(vec![tile]))
    }
}

/// A [`TileFetcher`] over a fixed set of tiles (the tiles of an evidence
/// file), recording nothing and fetching nothing.
pub struct MapFetcher<'a>(pub &'a HashMap<TileId, Vec<u8>>);

/// A tile that an evidence file does not hold.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("tile {0} is not in the evidence")]
pub struct TileNotHeld(pub TileId);

impl TileFetcher for MapFetcher<'_> {
    type Error = TileNotHeld;

    fn fetch_tile(&self, tile: TileId) -> Result<Vec<u8>, TileNotHeld> {
        self.0.get(&tile).cloned().ok_or(TileNotHeld(tile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_prefix_stops_at_the_width() {
        let bytes = [0u8, 1, b'a', 0, 2, b'b', b'c', 0, 0];
        assert_eq!(bundle_prefix_len(&bytes, 1), Some(3));
        assert_eq!(bundle_prefix_len(&bytes, 2), Some(7));
        assert_eq!(bundle_prefix_len(&bytes, 3), Some(9));
        assert_eq!(bundle_prefix_len(&bytes, 4), None);
        assert_eq!(bundle_prefix_len(&bytes[..5], 2), None);
    }

    #[test]
    fn parse_refuses_what_is_not_a_source() {
        let client = http_client(&HttpOptions::default()).unwrap();
        for bad in ["", "ftp://x/", "no-such-dir-xyz", "http://"] {
            assert!(
                matches!(Source::parse(bad, &client), Err(SourceError::NotASource(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Source::parse("http://127.0.0.1:1/?a=b", &client),
            Err(SourceError::BadUrl(_))
        ));
        let s = Source::parse("http://127.0.0.1:8080/log/", &client).unwrap();
        assert_eq!(s.label(), "http://127.0.0.1:8080/log");
        assert_eq!(
            s.url_of("checkpoint"),
            "http://127.0.0.1:8080/log/checkpoint"
        );
        let d = tempfile::tempdir().unwrap();
        assert!(
            Source::parse(d.path().to_str().unwrap(), &client)
                .unwrap()
                .is_local()
        );
    }
}
