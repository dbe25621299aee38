//! The count centres' HTTP client for their traffic to tallyboard servers
//! (`tallyboard submit` and the exercise): `reqwest` (blocking API, and the
//! async API where many submissions are in flight; rustls with the ring
//! provider, no OpenSSL), so count centres can submit over `https://` as well
//! as plain `http://`. Every response body is size-capped while it is read,
//! and a `Content-Length` over the cap is refused before reading.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tallyboard_core::checkpoint::{OpenedCheckpoint, open_checkpoint};
use tallyboard_core::limits::MAX_RECEIPT;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::receipt::{Receipt, ReceiptError};
use tallyboard_http::body::{BodyError, read_blocking, read_response};
use tallyboard_http::media;

use crate::error::{Context as _, Result, bail};

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A base URL `http(s)://HOST[:PORT][/PREFIX]` and the client that talks to it.
#[derive(Clone, Debug)]
pub struct Http {
    /// The base URL without a trailing `/`; request paths start with `/`.
    base: String,
    /// Source address to connect from (another 127.x.y.z "host" on loopback).
    local: Option<IpAddr>,
    timeout: Duration,
    client: reqwest::blocking::Client,
}

/// One response: status, `Retry-After` seconds, body.
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// The body, at most the size asked for.
    pub body: Vec<u8>,
}

impl Http {
    /// The client of the server at `url` (`http(s)://HOST[:PORT][/PREFIX]`).
    pub fn parse(url: &str) -> Result<Http> {
        let timeout = Duration::from_secs(30);
        Ok(Http {
            base: base_url(url)?,
            local: None,
            timeout,
            client: client(None, timeout)?,
        })
    }

    /// Connect from `local` (e.g. 127.0.0.2) instead of the default address.
    pub fn bind_to(mut self, local: IpAddr) -> Result<Http> {
        self.local = Some(local);
        self.client = client(self.local, self.timeout)?;
        Ok(self)
    }

    /// Timeout of each request.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Http> {
        self.timeout = timeout;
        self.client = client(self.local, self.timeout)?;
        Ok(self)
    }

    /// Sends one request and reads at most `max` bytes of response body.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&[u8]>,
        max: usize,
    ) -> std::io::Result<Response> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .client
            .request(method, &url)
            .header(ACCEPT, "application/json, text/plain");
        if let Some(b) = body {
            req = req.header(CONTENT_TYPE, media::CBOR).body(b.to_vec());
        }
        let resp = req.send().map_err(|e| io_error(&url, &e))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let declared = resp.content_length();
        let body = read_blocking(resp, declared, max).map_err(|e| body_error(&url, max, e))?;
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }

    /// GET `path`.
    pub fn get(&self, path: &str, max: usize) -> std::io::Result<Response> {
        self.request(reqwest::Method::GET, path, None, max)
    }

    /// POST `body` to `path`.
    pub fn post(&self, path: &str, body: &[u8], max: usize) -> std::io::Result<Response> {
        self.request(reqwest::Method::POST, path, Some(body), max)
    }
}

/// A server's base URL `http(s)://HOST[:PORT][/PREFIX]`, checked, without
/// a trailing `/`.
fn base_url(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url}: not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("{url}: only http:// and https:// URLs are supported");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        bail!("{url}: no host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("{url}: a server's base URL has no query or fragment");
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// `Retry-After` in seconds, if the answer has one.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The asynchronous twin of [`Http`] (same base URLs, same caps) for
/// clients that keep many requests in flight on one thread: one
/// connection pool, no thread per request.
#[derive(Clone, Debug)]
pub struct AsyncHttp {
    base: String,
    client: reqwest::Client,
}

impl AsyncHttp {
    /// The client of the server at `url` (`http(s)://HOST[:PORT][/PREFIX]`),
    /// each request answered within `timeout`, keeping up to `idle`
    /// connections open for reuse.
    pub fn parse(url: &str, timeout: Duration, idle: usize) -> Result<AsyncHttp> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .pool_max_idle_per_host(idle)
            .build()
            .context("setting up the HTTP client")?;
        Ok(AsyncHttp {
            base: base_url(url)?,
            client,
        })
    }

    /// POST `body` (a signed tally, `application/cbor`) to `path` and read
    /// at most `max` bytes of the answer.
    pub async fn post(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        max: usize,
    ) -> std::io::Result<Response> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .client
            .post(&url)
            .header(ACCEPT, "application/json, text/plain")
            .header(CONTENT_TYPE, media::CBOR)
            .body(body)
            .send()
            .await
            .map_err(|e| io_error(&url, &e))?;
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers());
        let body = read_response(resp, max)
            .await
            .map_err(|e| body_error(&url, max, e))?;
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }
}

fn body_error<E: std::fmt::Display>(url: &str, max: usize, e: BodyError<E>) -> std::io::Error {
    match e {
        BodyError::TooLarge(_) => {
            std::io::Error::other(format!("{url}: response larger than {max} bytes"))
        }
        BodyError::Read(e) => std::io::Error::other(format!("{url}: reading the response: {e}")),
    }
}

fn client(local: Option<IpAddr>, timeout: Duration) -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .local_address(local)
        .build()
        .context("setting up the HTTP client")
}

/// A transport error in words, with its causes (reqwest's own message alone
/// says only "error sending request").
fn io_error(url: &str, e: &reqwest::Error) -> std::io::Error {
    let mut msg = if e.is_timeout() {
        format!("{url}: no answer in time")
    } else if e.is_connect() {
        format!("{url}: cannot connect")
    } else {
        format!("{url}: {e}")
    };
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    std::io::Error::other(msg)
}

/// Largest response read from the server for a submission.
const MAX_RESPONSE: usize = MAX_RECEIPT + 64 * 1024;

/// What happened to one submitted tally.
pub enum Outcome {
    /// Accepted, with a receipt that verifies against the log key.
    Accepted(Receipt),
    /// Refused by the server (the reason it gave).
    Refused(String),
    /// Not acknowledged (server busy or unreachable, or a receipt that does
    /// not verify): to be sent again later.
    Pending(String),
}

/// Checks receipts against the log key, opening each checkpoint once:
/// the receipts of one batch share its checkpoint, so a client checking
/// thousands of them verifies the log's signature once per batch, and
/// every receipt's inclusion proof.
#[derive(Debug)]
pub struct ReceiptChecker {
    log: VerifierKey,
    /// The checkpoints opened last, newest at the back.
    opened: Mutex<VecDeque<OpenedCheckpoint>>,
}

/// Checkpoints kept opened by a [`ReceiptChecker`].
const OPENED_KEPT: usize = 8;

impl ReceiptChecker {
    /// A checker of receipts signed by `log` (named after the log's origin).
    pub fn new(log: VerifierKey) -> ReceiptChecker {
        ReceiptChecker {
            log,
            opened: Mutex::new(VecDeque::new()),
        }
    }

    /// The log key.
    pub fn log(&self) -> &VerifierKey {
        &self.log
    }

    /// Checks that `receipt` places `entry` in a checkpoint signed by the
    /// log key (`Receipt::verify`, the checkpoint opened at most once).
    pub fn check(&self, receipt: &Receipt, entry: &[u8]) -> Result<(), ReceiptError> {
        receipt
            .verify_with(entry, self.log.name(), |note| {
                let lock = || self.opened.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(o) = lock().iter().find(|o| o.note == note) {
                    return Ok(o.clone());
                }
                let o = open_checkpoint(note, &self.log, &[], 0)?;
                let mut kept = lock();
                if kept.len() >= OPENED_KEPT {
                    kept.pop_front();
                }
                kept.push_back(o.clone());
                Ok(o)
            })
            .map(|_| ())
    }
}

/// What to do after one answer to a submission.
enum Step {
    Done(Outcome),
    /// Try again, after at least this many seconds if the server said so.
    Retry(Option<u64>, String),
}

/// Reads the answer to one submission: a receipt to check, a refusal, or a
/// reason to try again.
fn answer(r: std::io::Result<Response>, checker: &ReceiptChecker, entry: &[u8]) -> Step {
    match r {
        Ok(Response {
            status: 200, body, ..
        }) => {
            let checked = Receipt::parse(&body)
                .and_then(|r| checker.check(&r, entry).map(|()| r))
                .map_err(|e| e.to_string());
            Step::Done(match checked {
                Ok(r) => Outcome::Accepted(r),
                // A receipt that does not verify is evidence against the
                // server, not an acknowledgement.
                Err(e) => Outcome::Pending(format!("invalid receipt: {e}")),
            })
        }
        Ok(Response {
            status,
            retry_after,
            body,
        }) if status == 429 || status >= 500 => Step::Retry(
            retry_after,
            format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
        ),
        Ok(Response { status, body, .. }) => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let code = v["error"].as_str().unwrap_or("refused");
            let msg = v["message"].as_str().unwrap_or_default();
            Step::Done(Outcome::Refused(format!("HTTP {status} {code}: {msg}")))
        }
        Err(e) => Step::Retry(None, e.to_string()),
    }
}

/// First wait before submitting again.
const FIRST_WAIT: Duration = Duration::from_millis(500);

/// Submits one signed tally to the server, up to `attempts` times with
/// back-off on 429, 5xx and transport errors, and checks the receipt.
pub fn submit_one(http: &Http, checker: &ReceiptChecker, entry: &[u8], attempts: u32) -> Outcome {
    let mut wait = FIRST_WAIT;
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        match answer(http.post("/submit", entry, MAX_RESPONSE), checker, entry) {
            Step::Done(o) => return o,
            Step::Retry(asked, why) => {
                if let Some(s) = asked {
                    wait = wait.max(Duration::from_secs(s.min(60)));
                }
                last = why;
            }
        }
    }
    Outcome::Pending(last)
}

/// [`submit_one`] on an [`AsyncHttp`] client: the same attempts, back-off
/// and receipt check, without holding a thread while it waits.
pub async fn submit_one_async(
    http: &AsyncHttp,
    checker: &ReceiptChecker,
    entry: &[u8],
    attempts: u32,
) -> Outcome {
    let mut wait = FIRST_WAIT;
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        let r = http.post("/submit", entry.to_vec(), MAX_RESPONSE).await;
        match answer(r, checker, entry) {
            Step::Done(o) => return o,
            Step::Retry(asked, why) => {
                if let Some(s) = asked {
                    wait = wait.max(Duration::from_secs(s.min(60)));
                }
                last = why;
            }
        }
    }
    Outcome::Pending(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_parsed() {
        let h = Http::parse("http://127.0.0.1:8080/base/").unwrap();
        assert_eq!(h.base, "http://127.0.0.1:8080/base");
        assert_eq!(
            Http::parse("https://results.example.org").unwrap().base,
            "https://results.example.org"
        );
        assert!(Http::parse("ftp://x").is_err());
        assert!(Http::parse("http://").is_err());
        assert!(Http::parse("http://x/?a=1").is_err());
        assert!(Http::parse("not a url").is_err());
    }

    #[test]
    fn an_unreachable_server_is_named() {
        // Port 1 on loopback: nothing listens there.
        let h = Http::parse("http://127.0.0.1:1").unwrap();
        let e = h.get("/checkpoint", 1024).err().unwrap().to_string();
        assert!(e.contains("http://127.0.0.1:1/checkpoint"), "{e}");
    }
}
