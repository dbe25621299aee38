//! The submissions' signature and rule checks, on a fixed set of threads
//! (one per core): the async workers hand each decoded tally over and
//! await the verdict. Under load the checkers take submissions in runs, so
//! a hand-over costs a queue push, not a thread wake-up; unlike
//! `spawn_blocking`, thousands of submissions in flight never start
//! hundreds of threads that fight for the cores.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use axum::http::StatusCode;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::rules::check_tally;
use tallyboard_core::tally::{SignedTally, UnverifiedTally};
use tallyboard_http::error::ApiError;
use tokio::sync::oneshot;

type Verdict = Result<SignedTally, ApiError>;

struct Job {
    tally: UnverifiedTally,
    reply: oneshot::Sender<Verdict>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// Most submissions a checker takes from the queue at once.
const RUN: usize = 64;

/// The checker threads. Dropping it stops them once the queue is empty.
pub(crate) struct Checkers {
    shared: Arc<Shared>,
}

impl Checkers {
    /// Starts `threads` checker threads for tallies of `manifest`.
    pub(crate) fn start(manifest: Arc<Manifest>, threads: usize) -> std::io::Result<Checkers> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        for i in 0..threads.max(1) {
            let (shared, manifest) = (shared.clone(), manifest.clone());
            std::thread::Builder::new()
                .name(format!("tallyboard-check-{i}"))
                .spawn(move || work(&shared, &manifest))?;
        }
        Ok(Checkers { shared })
    }

    /// Checks `tally`'s signature (strictly) and the manifest rules.
    pub(crate) async fn check(&self, tally: UnverifiedTally) -> Verdict {
        let (reply, verdict) = oneshot::channel();
        {
            let mut q = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            q.jobs.push_back(Job { tally, reply });
        }
        self.shared.wake.notify_one();
        verdict.await.unwrap_or_else(|e| Err(ApiError::internal(e)))
    }
}

impl Drop for Checkers {
    fn drop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.wake.notify_all();
    }
}

fn work(shared: &Shared, manifest: &Manifest) {
    let mut run = Vec::with_capacity(RUN);
    loop {
        {
            let mut q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            while q.jobs.is_empty() {
                if q.closed {
                    return;
                }
                q = shared.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
            // Leave work for the other checkers when the queue is short.
            let take = q.jobs.len().div_ceil(2).clamp(1, RUN);
            run.extend(q.jobs.drain(..take));
        }
        for job in run.drain(..) {
            let _ = job.reply.send(verdict(manifest, job.tally));
        }
    }
}

fn verdict(manifest: &Manifest, unverified: UnverifiedTally) -> Verdict {
    let tally = unverified
        .verify()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let v = check_tally(manifest, tally.tally());
    if !v.is_empty() {
        return Err(ApiError::rules(&v));
    }
    Ok(tally)
}
