//! RFC 3339 timestamps: the formatting lives in the formats crate (rule
//! messages use it too); the clock is read here, never in the core.

pub(crate) use tallyboard_core::time::{format_rfc3339, parse_rfc3339};

/// The current time in POSIX seconds.
pub(crate) fn now() -> anyhow::Result<u64> {
    use anyhow::Context as _;
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}
