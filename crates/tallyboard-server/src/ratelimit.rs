//! Token buckets for submissions: one per client address (for submissions
//! that fail to parse or verify) and one per count centre key (for valid,
//! signed submissions).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most buckets tracked; beyond it the buckets that refilled are dropped.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per key `K`: `rate` tokens per second, at most `burst`
/// saved up; each counted submission takes one.
#[derive(Debug)]
pub(crate) struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
    pub(crate) fn new(rate: f64, burst: f64) -> RateLimiter<K> {
        RateLimiter {
            rate: rate.max(f64::MIN_POSITIVE),
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The sustained rate (tokens per second) and the burst.
    pub(crate) fn settings(&self) -> (f64, f64) {
        (self.rate, self.burst)
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub(crate) fn take(&self, key: K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    /// Whether `key` has a token left, without taking it (or how long
    /// until it has one).
    pub(crate) fn peek(&self, key: K) -> Result<(), Duration> {
        self.peek_at(key, Instant::now())
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
    }

    fn wait(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - tokens) / self.rate).min(86_400.0))
    }

    fn peek_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(&key) {
            None => Ok(()),
            Some(b) => {
                self.refill(b, now);
                if b.tokens >= 1.0 {
                    Ok(())
                } else {
                    Err(self.wait(b.tokens))
                }
            }
        }
    }

    fn take_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_BUCKETS && !map.contains_key(&key) {
            // Drop the buckets that have refilled completely: they carry no state.
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
        }
        let b = map.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.wait(b.tokens))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn allows_a_burst_then_the_sustained_rate_per_key() {
        let l = RateLimiter::new(2.0, 3.0);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take_at(a, t0).is_ok());
        }
        let wait = l.take_at(a, t0).unwrap_err();
        assert!(wait <= Duration::from_millis(500));
        assert!(l.take_at(b, t0).is_ok(), "another client is not limited");
        assert!(l.take_at(a, t0 + Duration::from_millis(500)).is_ok());
        assert!(l.take_at(a, t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn peeking_takes_nothing() {
        let l = RateLimiter::new(1.0, 2.0);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(l.peek_at(7u8, t0).is_ok());
        }
        assert!(l.take_at(7u8, t0).is_ok());
        assert!(l.peek_at(7u8, t0).is_ok());
        assert!(l.take_at(7u8, t0).is_ok());
        assert!(l.peek_at(7u8, t0).is_err());
        assert!(l.peek_at(7u8, t0 + Duration::from_secs(1)).is_ok());
    }
}
