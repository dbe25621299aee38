//! The CLI's HTTP client for its own traffic to tallyboard servers
//! (`submit`, `exercise`): `reqwest` (blocking API, rustls with the ring
//! provider, no OpenSSL), so count centres can submit over `https://` as well
//! as plain `http://`. Every response body is size-capped while it is read,
//! and a `Content-Length` over the cap is refused before reading.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tallyboard_http::body::{BodyError, read_blocking};
use tallyboard_http::media;

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A base URL `http(s)://HOST[:PORT][/PREFIX]` and the client that talks to it.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    /// The base URL without a trailing `/`; request paths start with `/`.
    base: String,
    /// Source address to connect from (another 127.x.y.z "host" on loopback).
    local: Option<IpAddr>,
    timeout: Duration,
    client: reqwest::blocking::Client,
}

/// One response: status, `Retry-After` seconds, body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Vec<u8>,
}

impl Http {
    pub(crate) fn parse(url: &str) -> Result<Http> {
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
    pub(crate) fn bind_to(mut self, local: IpAddr) -> Result<Http> {
        self.local = Some(local);
        self.client = client(self.local, self.timeout)?;
        Ok(self)
    }

    /// Timeout of each request.
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Result<Http> {
        self.timeout = timeout;
        self.client = client(self.local, self.timeout)?;
        Ok(self)
    }

    /// Sends one request and reads at most `max` bytes of response body.
    pub(crate) fn request(
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
    pub(crate) fn get(&self, path: &str, max: usize) -> std::io::Result<Response> {
        self.request(reqwest::Method::GET, path, None, max)
    }

    /// POST `body` to `path`.
    pub(crate) fn post(&self, path: &str, body: &[u8], max: usize) -> std::io::Result<Response> {
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
