//! One size-capped body reader: request bodies on the server side
//! ([`read_request`], feature `server`), response bodies on the client side
//! ([`read_response`], feature `client`; [`read_blocking`] for blocking
//! clients). A declared `Content-Length` over the cap is refused before
//! anything is read; otherwise reading stops as soon as the body would
//! exceed the cap.

/// The body is larger than the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("body larger than {max} bytes")]
pub struct TooLarge {
    /// The cap, in bytes.
    pub max: usize,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError<E> {
    /// The body is larger than the cap (declared or read).
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// The transport failed while the body was read.
    #[error("reading the body: {0}")]
    Read(E),
}

/// A body being read, at most `max` bytes.
#[derive(Debug)]
pub struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl Capped {
    /// Starts reading a body of at most `max` bytes whose declared length
    /// (`Content-Length`) is `declared`, if any; a declared length over the
    /// cap is refused at once.
    pub fn new(max: usize, declared: Option<u64>) -> Result<Capped, TooLarge> {
        if declared.is_some_and(|n| n > max as u64) {
            return Err(TooLarge { max });
        }
        // Reserve what was declared (it is under the cap), not the cap itself.
        let reserve = declared.map_or(0, |n| usize::try_from(n).unwrap_or(max));
        Ok(Capped {
            buf: Vec::with_capacity(reserve),
            max,
        })
    }

    /// Adds the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if chunk.len() > self.max - self.buf.len() {
            return Err(TooLarge { max: self.max });
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// The body read.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads at most `max` bytes from a blocking reader (e.g. a blocking
/// client's response whose declared length is `declared`).
pub fn read_blocking(
    mut r: impl std::io::Read,
    declared: Option<u64>,
    max: usize,
) -> Result<Vec<u8>, BodyError<std::io::Error>> {
    let mut body = Capped::new(max, declared)?;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return Ok(body.into_bytes()),
            Ok(n) => body.push(&chunk[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BodyError::Read(e)),
        }
    }
}

/// Reads at most `max` bytes of a response body.
#[cfg(feature = "client")]
pub async fn read_response(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError<reqwest::Error>> {
    let mut body = Capped::new(max, resp.content_length())?;
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        body.push(&chunk)?;
    }
    Ok(body.into_bytes())
}

/// Reads at most `max` bytes of a request body.
#[cfg(feature = "server")]
pub async fn read_request(
    req: axum::extract::Request,
    max: usize,
) -> Result<Vec<u8>, BodyError<axum::Error>> {
    use futures_util::StreamExt as _;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = Capped::new(max, declared)?;
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.map_err(BodyError::Read)?)?;
    }
    Ok(body.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_exact() {
        let mut c = Capped::new(4, None).unwrap();
        c.push(b"ab").unwrap();
        c.push(b"cd").unwrap();
        assert_eq!(c.push(b"e"), Err(TooLarge { max: 4 }));
        assert_eq!(c.into_bytes(), b"abcd");
        assert_eq!(Capped::new(4, Some(5)).err(), Some(TooLarge { max: 4 }));
        assert!(Capped::new(4, Some(4)).is_ok());
    }

    #[test]
    fn blocking_reads_are_capped() {
        let data = vec![7u8; 40_000];
        assert_eq!(read_blocking(&data[..], None, 40_000).unwrap(), data);
        assert!(matches!(
            read_blocking(&data[..], None, 39_999),
            Err(BodyError::TooLarge(TooLarge { max: 39_999 }))
        ));
        assert!(matches!(
            read_blocking(&b""[..], Some(40_000), 39_999),
            Err(BodyError::TooLarge(_))
        ));
    }

    #[cfg(feature = "server")]
    #[tokio::test]
    async fn request_bodies_are_capped() {
        let req = |body: &'static [u8]| {
            axum::http::Request::builder()
                .method("POST")
                .uri("/submit")
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        assert_eq!(read_request(req(b"abc"), 3).await.unwrap(), b"abc");
        assert!(matches!(
            read_request(req(b"abcd"), 3).await,
            Err(BodyError::TooLarge(TooLarge { max: 3 }))
        ));
        // A body streamed without a length is cut off at the cap too.
        let stream = futures_util::stream::iter(
            [&b"ab"[..], &b"cd"[..]].map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::from(c))),
        );
        let streamed = axum::http::Request::builder()
            .uri("/submit")
            .body(axum::body::Body::from_stream(stream))
            .unwrap();
        assert!(matches!(
            read_request(streamed, 3).await,
            Err(BodyError::TooLarge(_))
        ));
    }
}
