//! The connection limits shared by `serve`, `mirror` and `witness`.

use std::time::Duration;

use tallyboard_http::serve::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Limits,
};

/// Connection limits of a serving command (`spec/server.md` §10).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnArgs {
    /// Most client connections open at once; further ones wait to be
    /// accepted until one closes. Lowered to fit the descriptor limit (the
    /// soft limit, raised to the hard limit at start-up, less 128).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_connections: u64,
    /// Milliseconds a client has to send a request's headers, from opening
    /// the connection or from the previous response (the idle timeout of
    /// kept-alive connections); silent and idle connections are closed.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_HEADER_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body, from its headers.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_BODY_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) body_timeout_ms: u64,
}

impl ConnArgs {
    /// Raises the soft descriptor limit to the hard limit (logged) and
    /// returns the limits to serve with.
    pub(crate) fn start(&self) -> Limits {
        tallyboard_http::serve::raise_descriptor_limit();
        Limits {
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
        }
    }
}

/// Lets the writer of the static pages finish the round asked for before
/// the process exits (bounded: two minutes), so that `public/` ends
/// complete.
pub(crate) async fn finish_pages(read: &tallyboard_server::ReadApi) {
    let Some(site) = read.site().cloned() else {
        return;
    };
    let done =
        tokio::task::spawn_blocking(move || site.wait(std::time::Duration::from_secs(120))).await;
    if !matches!(done, Ok(true)) {
        tracing::warn!(
            "the static pages were not all written before exit; the next start writes them"
        );
    }
}
