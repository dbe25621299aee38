//! The count centres' HTTP client for their traffic to tallyboard servers
//! (`tallyboard submit` and the exercise): `reqwest` (blocking API, rustls with the ring
//! provider, no OpenSSL), so count centres can submit over `https://` as well
//! as plain `http://`. Every response body is size-capped while it is read,
//! and a `Content-Length` over the cap is refused before reading.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tallyboard_core::limits::MAX_RECEIPT;
use tallyboard_core::note::VerifierKey;
use tallyboard_core::receipt::Receipt;
use tallyboard_http::body::{BodyError, read_blocking};
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
        let timeout = Duration::from_secs(30);
        Ok(Http {
            base: parsed.as_str().trim_end_matches('/').to_owned(),
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
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let declared = resp.content_length();
        let body = read_blocking(resp, declared, max).map_err(|e| match e {
            BodyError::TooLarge(_) => {
                std::io::Error::other(format!("{url}: response larger than {max} bytes"))
            }
            BodyError::Read(e) => {
                std::io::Error::other(format!("{url}: reading the response: {e}"))
            }
        })?;
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

/// Submits one signed tally to the server, up to `attempts` times with
/// back-off on 429, 5xx and transport errors, and checks the receipt.
pub fn submit_one(http: &Http, log: &VerifierKey, entry: &[u8], attempts: u32) -> Outcome {
    let mut wait = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        match http
            .post("/submit", entry, MAX_RESPONSE)
            .map(|r| (r.status, r.retry_after, r.body))
        {
            Ok((200, _, body)) => {
                let checked = Receipt::parse(&body)
                    .map_err(|e| e.to_string())
                    .and_then(|r| {
                        r.verify(entry, log, log.name())
                            .map(|_| r)
                            .map_err(|e| e.to_string())
                    });
                return match checked {
                    Ok(r) => Outcome::Accepted(r),
                    // A receipt that does not verify is evidence against the
                    // server, not an acknowledgement.
                    Err(e) => Outcome::Pending(format!("invalid receipt: {e}")),
                };
            }
            Ok((status, retry, body)) if status == 429 || status >= 500 => {
                last = format!("HTTP {status}: {}", String::from_utf8_lossy(&body));
                if let Some(s) = retry {
                    wait = wait.max(Duration::from_secs(s.min(60)));
                }
            }
            Ok((status, _, body)) => {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let code = v["error"].as_str().unwrap_or("refused");
                let msg = v["message"].as_str().unwrap_or_default();
                return Outcome::Refused(format!("HTTP {status} {code}: {msg}"));
            }
            Err(e) => last = e.to_string(),
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
