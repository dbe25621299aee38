//! Prometheus metrics (text exposition format 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tallyboard_log::Stats;

/// Upper bounds (seconds) of the submit-to-receipt latency histogram.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0,
];

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    accepted: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// A submission answered with a receipt after `latency`.
    pub(crate) fn accepted(&self, latency: Duration) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        let secs = latency.as_secs_f64();
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// A submission refused with error code `reason`.
    pub(crate) fn refused(&self, reason: &str) {
        let mut m = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        *m.entry(reason.to_owned()).or_insert(0) += 1;
    }

    /// The two submission rate limits, as (sustained per second, burst):
    /// `address` for refused submissions per client address, `key` for
    /// valid submissions per count centre key. How often each refused is
    /// in `tallyboard_submissions_refused_total` (`rate-limited`,
    /// `key-rate-limited`).
    pub(crate) fn render_limits(&self, s: &mut String, address: (f64, f64), key: (f64, f64)) {
        let _ = writeln!(
            s,
            "# HELP tallyboard_submit_rate_limit_per_second Sustained submissions per second allowed: scope=\"address\" refused submissions per client address, scope=\"key\" valid submissions per count centre key.\n\
             # TYPE tallyboard_submit_rate_limit_per_second gauge\n\
             tallyboard_submit_rate_limit_per_second{{scope=\"address\"}} {}\n\
             tallyboard_submit_rate_limit_per_second{{scope=\"key\"}} {}\n\
             # HELP tallyboard_submit_rate_limit_burst Submissions allowed in a burst above the sustained rate, by scope.\n\
             # TYPE tallyboard_submit_rate_limit_burst gauge\n\
             tallyboard_submit_rate_limit_burst{{scope=\"address\"}} {}\n\
             tallyboard_submit_rate_limit_burst{{scope=\"key\"}} {}",
            address.0, key.0, address.1, key.1
        );
    }

    pub(crate) fn render(&self, stats: Option<Stats>, tree_size: u64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP tallyboard_submissions_accepted_total Submissions answered with a receipt.\n\
             # TYPE tallyboard_submissions_accepted_total counter\n\
             tallyboard_submissions_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP tallyboard_submissions_refused_total Submissions refused, by error code.\n\
             # TYPE tallyboard_submissions_refused_total counter"
        );
        for (reason, n) in self
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                s,
                "tallyboard_submissions_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            s,
            "# HELP tallyboard_submit_latency_seconds Time from submission to receipt (sequencing latency).\n\
             # TYPE tallyboard_submit_latency_seconds histogram"
        );
        for (b, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                s,
                "tallyboard_submit_latency_seconds_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "tallyboard_submit_latency_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             tallyboard_submit_latency_seconds_sum {}\n\
             tallyboard_submit_latency_seconds_count {count}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            s,
            "# HELP tallyboard_tree_size Entries in the latest published checkpoint.\n\
             # TYPE tallyboard_tree_size gauge\n\
             tallyboard_tree_size {tree_size}"
        );
        if let Some(st) = stats {
            let _ = writeln!(
                s,
                "# HELP tallyboard_batches_total Batches committed.\n\
                 # TYPE tallyboard_batches_total counter\n\
                 tallyboard_batches_total {}\n\
                 # HELP tallyboard_commit_failures_total Batch commits that failed.\n\
                 # TYPE tallyboard_commit_failures_total counter\n\
                 tallyboard_commit_failures_total {}\n\
                 # HELP tallyboard_last_commit_seconds Duration of the last batch commit.\n\
                 # TYPE tallyboard_last_commit_seconds gauge\n\
                 tallyboard_last_commit_seconds {}\n\
                 # HELP tallyboard_pending_submissions Submissions waiting for the next batch.\n\
                 # TYPE tallyboard_pending_submissions gauge\n\
                 tallyboard_pending_submissions {}",
                st.batches,
                st.failed_commits,
                st.last_commit_micros as f64 / 1e6,
                st.pending
            );
        }
        s
    }
}
