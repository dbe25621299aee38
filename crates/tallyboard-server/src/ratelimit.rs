//! Per-client token buckets for submissions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most client addresses tracked; beyond it idle buckets are dropped.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per client address: `rate` tokens per second, at most
/// `burst` saved up; each submission takes one.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate: rate.max(f64::MIN_POSITIVE),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `ip`, or says how long until one is available.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CLIENTS && !map.contains_key(&ip) {
            // Drop the buckets that have refilled completely: they carry no state.
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let b = map.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_the_sustained_rate_per_client() {
        let l = RateLimiter::new(2.0, 3.0);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at(a, t0).is_ok());
        }
        let wait = l.check_at(a, t0).unwrap_err();
        assert!(wait <= Duration::from_millis(500));
        assert!(l.check_at(b, t0).is_ok(), "another client is not limited");
        assert!(l.check_at(a, t0 + Duration::from_millis(500)).is_ok());
        assert!(l.check_at(a, t0 + Duration::from_millis(500)).is_err());
    }
}
