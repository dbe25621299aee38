//! A minimal HTTP/1.1 client over plain TCP for the CLI's own traffic to
//! tallyboard servers (`submit`, `exercise`): one request per connection,
//! every response size-capped before it is read further. TLS belongs in a
//! local proxy.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};

/// A base URL `http://HOST:PORT[/PREFIX]`.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    host: String,
    port: u16,
    prefix: String,
    /// Source address to connect from (another 127.x.y.z "host" on loopback).
    local: Option<IpAddr>,
    timeout: Duration,
}

/// One response: status, `Retry-After` seconds, body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Vec<u8>,
}

impl Http {
    pub(crate) fn parse(url: &str) -> Result<Http> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("{url}: only http:// URLs are supported"))?;
        let (hostport, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().with_context(|| format!("{url}: bad port"))?),
            None => (hostport, 80),
        };
        if host.is_empty() {
            bail!("{url}: no host");
        }
        Ok(Http {
            host: host.to_owned(),
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
            local: None,
            timeout: Duration::from_secs(30),
        })
    }

    /// Connect from `local` (e.g. 127.0.0.2) instead of the default address.
    pub(crate) fn bind_to(mut self, local: IpAddr) -> Http {
        self.local = Some(local);
        self
    }

    /// Read timeout of each request.
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Http {
        self.timeout = timeout;
        self
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let s = match (self.local, addr) {
            (Some(IpAddr::V4(local)), SocketAddr::V4(remote)) => {
                use rustix::net::{AddressFamily, SocketAddrV4, SocketType, bind, connect, socket};
                let fd = socket(AddressFamily::INET, SocketType::STREAM, None)?;
                bind(&fd, &SocketAddrV4::new(local, 0))?;
                connect(&fd, &remote)?;
                TcpStream::from(fd)
            }
            _ => TcpStream::connect_timeout(&addr, Duration::from_secs(5))?,
        };
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        Ok(s)
    }

    /// Sends one request and reads at most `max` bytes of response.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        max: usize,
    ) -> std::io::Result<Response> {
        let mut s = self.connect()?;
        let full = if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("/{}{path}", self.prefix)
        };
        let mut head = format!("{method} {full} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(b) = body {
            head.push_str(&format!(
                "Content-Type: application/cbor\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        head.push_str("Accept: application/json, text/plain\r\nConnection: close\r\n\r\n");
        s.write_all(head.as_bytes())?;
        if let Some(b) = body {
            s.write_all(b)?;
        }
        let mut resp = Vec::new();
        // Head plus body: the cap applies to the body, the head gets 64 KiB.
        s.take((max + 64 * 1024) as u64).read_to_end(&mut resp)?;
        let end = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("malformed HTTP response"))?;
        let head = String::from_utf8_lossy(&resp[..end]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("malformed HTTP status"))?;
        let mut retry_after = None;
        let mut chunked = false;
        for (k, v) in lines.filter_map(|l| l.split_once(':')) {
            if k.eq_ignore_ascii_case("retry-after") {
                retry_after = v.trim().parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.trim().eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
        let raw = &resp[end + 4..];
        let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
        if body.len() > max {
            return Err(std::io::Error::other(format!(
                "response larger than {max} bytes"
            )));
        }
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }

    /// GET `path`.
    pub(crate) fn get(&self, path: &str, max: usize) -> std::io::Result<Response> {
        self.request("GET", path, None, max)
    }

    /// POST `body` to `path`.
    pub(crate) fn post(&self, path: &str, body: &[u8], max: usize) -> std::io::Result<Response> {
        self.request("POST", path, Some(body), max)
    }
}

/// Decodes a chunked transfer-encoded body.
fn dechunk(mut raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::other("malformed chunked body");
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let line = std::str::from_utf8(&raw[..eol]).map_err(|_| bad())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size + 2 {
            return Err(bad());
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn urls_are_parsed() {
        let h = Http::parse("http://127.0.0.1:8080/base/").unwrap();
        assert_eq!(
            (h.host.as_str(), h.port, h.prefix.as_str()),
            ("127.0.0.1", 8080, "base")
        );
        assert!(Http::parse("https://x").is_err());
        assert!(Http::parse("http://:80").is_err());
    }
}
