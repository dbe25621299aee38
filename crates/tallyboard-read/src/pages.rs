//! Serving the static site from `public/`: the same files a plain web
//! server or CDN serves from a static copy, so that the origin, the
//! mirrors and any copy answer alike. Nothing is rendered here.
//!
//! `/` is `index.html`; a directory path (`/regions/<id>/`,
//! `/units/<id>/`) is its `index.html`; `/units/<id>` (the contract path of
//! a unit) is the unit's page for a browser (`Accept: text/html`) and its
//! `unit.json` otherwise. Other paths are files of `public/` whose every
//! segment is a plain name (letters, digits, `.`, `_`, `-`, not starting
//! with `.`); anything else is 404.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use tallyboard_core::cbor::is_valid_id;
use tallyboard_http::error::ApiError;
use tallyboard_http::{cache, media};

use tallyboard_log::Storage;

use crate::state::ReadState;

/// Largest site file read from object storage (the largest are the
/// results exports of a national election).
const MAX_OBJECT_FILE: usize = 256 << 20;

type S = State<Arc<ReadState>>;

/// The content type of a site file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => media::HTML,
        Some("css") => media::CSS,
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => media::JSON,
        Some("cbor") => media::CBOR,
        Some("csv") => "text/csv; charset=utf-8",
        _ => media::OCTETS,
    }
}

/// `rel` (a path below `public/`, without leading `/`) if every segment is
/// a plain name.
fn safe(rel: &str) -> Option<&str> {
    (!rel.is_empty() && rel.split('/').all(is_valid_id)).then_some(rel)
}

/// Which version of a file: it changes whenever the file is replaced
/// (the site's files are replaced by renaming a new file over them, a new
/// inode) or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Version {
    fn of(m: &std::fs::Metadata) -> Version {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Version {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            inode: (m.dev(), m.ino()),
        }
    }
}

/// Pages and other site files kept in memory, each with the version of
/// the file it was read from: a request checks the file's version (one
/// `stat`) and answers from memory while it is the same, instead of
/// handing a read of the whole file to another thread. Bounded like
/// `HotFiles`: past the cap, the kept files are dropped.
#[derive(Debug, Default)]
pub(crate) struct PageCache {
    kept: std::sync::RwLock<(HashMap<String, Kept>, usize)>,
}

/// A file kept: the version read and its bytes.
type Kept = (Version, Bytes);

/// Bytes of site files kept at most.
const PAGE_CACHE_BYTES: usize = 32 << 20;

impl PageCache {
    fn get(&self, rel: &str, v: Version) -> Option<Bytes> {
        let k = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        k.0.get(rel)
            .filter(|(kv, _)| *kv == v)
            .map(|(_, b)| b.clone())
    }

    fn insert(&self, rel: &str, v: Version, bytes: Bytes) {
        if bytes.len() > PAGE_CACHE_BYTES / 8 {
            return;
        }
        let mut k = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, old)) = k.0.remove(rel) {
            k.1 -= old.len();
        }
        if k.1 + bytes.len() > PAGE_CACHE_BYTES {
            k.0.clear();
            k.1 = 0;
        }
        k.1 += bytes.len();
        k.0.insert(rel.to_owned(), (v, bytes));
    }
}

/// The bytes of the site file `path` (`public/<rel>`), from memory while
/// the file is the one read last.
async fn dir_file(
    s: &ReadState,
    path: PathBuf,
    rel: &str,
) -> Result<std::io::Result<Bytes>, tokio::task::JoinError> {
    // A stat of a file of the site (its directory entries are in memory):
    // short enough not to hand to another thread.
    let version = std::fs::metadata(&path).ok().map(|m| Version::of(&m));
    if let Some(b) = version.and_then(|v| s.pages.get(rel, v)) {
        return Ok(Ok(b));
    }
    tokio::task::spawn_blocking(move || {
        let bytes = Bytes::from(std::fs::read(&path)?);
        // Kept only if the file did not change while it was read.
        let after = std::fs::metadata(&path).ok().map(|m| Version::of(&m));
        Ok::<_, std::io::Error>((bytes, after.filter(|a| Some(*a) == version)))
    })
    .await
    .map(|r| {
        r.map(|(bytes, v)| {
            if let Some(v) = v {
                s.pages.insert(rel, v, bytes.clone());
            }
            bytes
        })
    })
}

/// Answers with `public/<rel>`, or 404.
async fn file(s: &ReadState, rel: String) -> Response {
    let storage = s.reader.storage().clone();
    let read = match storage {
        Storage::Dir(d) => dir_file(s, d.join(&rel), &rel).await,
        // The same pages, in the bucket next to the log.
        Storage::Object(_) => {
            let name = rel.clone();
            tokio::task::spawn_blocking(move || match storage.read(&name, MAX_OBJECT_FILE) {
                Ok(Some(b)) if b.len() <= MAX_OBJECT_FILE => Ok(Bytes::from(b)),
                Ok(Some(_)) => Err(std::io::Error::other(format!(
                    "{name} is larger than {MAX_OBJECT_FILE} bytes"
                ))),
                Ok(None) => Err(std::io::ErrorKind::NotFound.into()),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            })
            .await
        }
    };
    match read {
        Ok(Ok(bytes)) => {
            let ct = content_type(&rel);
            let mut r = tallyboard_http::response::bytes(bytes, ct, cache::SHORT);
            if ct == media::HTML {
                r.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, s.page_csp.clone());
            }
            r
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            ApiError::not_found("no such page or file on this site").into_response()
        }
        Ok(Err(e)) => ApiError::internal(e).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// `/`: the front page.
pub(crate) async fn front(State(s): S) -> Response {
    file(&s, "index.html".into()).await
}

/// `/units/<id>`: the unit's page for a browser, its JSON otherwise.
pub(crate) async fn unit(State(s): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if s.manifest.unit_index(&id).is_none() {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-unit",
            "the manifest has no such reporting unit",
        )
        .into_response();
    }
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let name = if html { "index.html" } else { "unit.json" };
    let mut r = file(&s, format!("units/{id}/{name}")).await;
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

/// Any other path: a file of the site, a directory's `index.html`, or a
/// redirect from a directory's name without its `/`.
pub(crate) async fn any(State(s): S, uri: Uri) -> Response {
    let p = uri.path();
    let rel = p.trim_start_matches('/');
    if let Some(dir) = rel.strip_suffix('/') {
        return match safe(dir) {
            Some(d) => file(&s, format!("{d}/index.html")).await,
            None => ApiError::not_found("no such page on this site").into_response(),
        };
    }
    let Some(rel) = safe(rel) else {
        return ApiError::not_found("no such page or file on this site").into_response();
    };
    // `/regions/<id>`: the directory, as a static server would redirect.
    if let Some(("regions", id)) = rel.split_once('/')
        && !id.contains('/')
    {
        return Redirect::permanent(&format!("/{rel}/")).into_response();
    }
    file(&s, rel.to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths() {
        assert_eq!(safe("units/U-1/index.html"), Some("units/U-1/index.html"));
        assert_eq!(safe("../etc/passwd"), None);
        assert_eq!(safe("units/.x"), None);
        assert_eq!(safe("a//b"), None);
        assert_eq!(safe(""), None);
        assert_eq!(
            content_type("site/verify.js"),
            "text/javascript; charset=utf-8"
        );
    }
}
