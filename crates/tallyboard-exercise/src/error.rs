//! The exercise's error: what could not be done, and why.

/// Why the exercise (or the election generator, or the HTTP client) could
/// not go on. The message names what was being done; the cause, when there
/// is one, is the error's `source`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A step failed because of another error (I/O, HTTP, a log, JSON...).
    #[error("{what}")]
    Step {
        /// What was being done: `creating /tmp/x/logs`.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A step failed on a condition of its own (a process that did not
    /// start, a server that did not catch up, a directory not empty...).
    #[error("{0}")]
    Failed(String),
    /// There is no scenario of that name.
    #[error("there is no scenario {name:?}; the scenarios are: {known}")]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// Every scenario's name, comma-separated.
        known: String,
    },
    /// A process ran over its time and was killed.
    #[error("{what} did not finish within {secs} s")]
    TimedOut {
        /// The command line.
        what: String,
        /// The time it had.
        secs: u64,
        /// What it wrote to stdout until then.
        stdout: String,
        /// What it wrote to stderr until then.
        stderr: String,
    },
    /// An I/O error with no more context.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The exercise's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what was being done to an error (as `anyhow::Context` does, into
/// [`Error::Step`]).
pub(crate) trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::Step {
            what: what.into(),
            source: Box::new(e),
        })
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Step {
            what: what().into(),
            source: Box::new(e),
        })
    }
}

/// `Error::Failed` with a formatted message.
macro_rules! failed {
    ($($arg:tt)*) => {
        $crate::error::Error::Failed(format!($($arg)*))
    };
}

/// Returns `Error::Failed` with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::failed!($($arg)*))
    };
}

pub(crate) use {bail, failed};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_names_what_was_done_and_keeps_its_cause() {
        let e = Err::<(), _>(std::io::Error::other("disk full"))
            .context("writing x")
            .unwrap_err();
        assert_eq!(e.to_string(), "writing x");
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("disk full"));
    }
}
