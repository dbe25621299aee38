//! Keeping `public/` up to date: a background writer, latest wins. The
//! publication server asks for a round after each checkpoint, a mirror
//! after each verified sync; the writer renders the pages from the views
//! as they are when it starts the round, so a burst of checkpoints costs
//! one round, and the sequencer never waits for pages.
//!
//! A round writes the front page, the region pages and the search page
//! (compared with what they held, by hash), and the files of the units
//! whose list of entries changed since the last round (all units at the
//! first round of a process, each compared with the file on disk).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tallyboard_fs::FsError;
use tallyboard_log::LogReader;

use super::write::{SiteWriter, Written};
use super::{Notice, Site, Status};
use crate::state::SharedViews;

impl Site {
    /// Writes the files that do not depend on the results: `public/site/`,
    /// the paper page and the search index. Returns the number of search
    /// shards.
    pub fn write_fixed(&self, w: &mut SiteWriter) -> Result<u32, FsError> {
        for a in &self.assets {
            w.put(&format!("site/{}", a.name), &a.bytes, true)?;
        }
        w.put(super::paper::PATH, self.paper_page().as_bytes(), true)?;
        let (shards, files) = self.search_index();
        for (path, bytes) in files {
            w.put(&path, &bytes, false)?;
        }
        w.flush()?;
        Ok(shards)
    }

    /// Writes the pages that show results or the status: the front page,
    /// every region's pages and the search page (`shards` search shards).
    pub fn write_results(
        &self,
        w: &mut SiteWriter,
        st: &Status,
        shards: u32,
    ) -> Result<(), FsError> {
        for (path, page) in self.results_pages(st, shards) {
            w.put(&path, page.as_bytes(), true)?;
        }
        w.flush()
    }

    /// Stages the files of unit `ui` with `entries` (`(leaf index, signed
    /// tally)`, log order): in place once the writer is flushed.
    pub fn write_unit(
        &self,
        w: &mut SiteWriter,
        ui: usize,
        entries: &[(u64, Vec<u8>)],
    ) -> Result<(), FsError> {
        for (path, bytes) in super::unit_files(self, ui, entries) {
            w.put(&path, &bytes, false)?;
        }
        Ok(())
    }
}

/// What the writer is asked to do and what it did.
#[derive(Debug, Default)]
struct Ctl {
    requested: u64,
    done: u64,
    stop: bool,
    checked_at: Option<u64>,
    /// The time of `checked_at` the last round showed.
    shown_checked_at: Option<u64>,
    notice: Option<Notice>,
    certified: bool,
    last: Option<Round>,
    error: Option<String>,
}

/// What the last round did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Round {
    /// Files written and left alone.
    pub written: Written,
    /// Units whose files were rendered.
    pub units: usize,
    /// How long the round took.
    pub took: Duration,
}

#[derive(Debug, Default)]
struct Shared {
    ctl: Mutex<Ctl>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops the writer thread (after its pending round) when the last handle
/// is dropped.
#[derive(Debug)]
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.cv.notify_all();
    }
}

/// The background writer of a site. Clones share it; when the last clone
/// is dropped the writer finishes the round asked for and stops.
#[derive(Debug, Clone)]
pub struct Publisher {
    shared: Arc<Shared>,
    site: Arc<Site>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    _stop: Arc<StopOnDrop>,
}

impl Publisher {
    /// Starts the writer of `site` into `reader`'s `public/`, over `views`
    /// (kept up to date by the server or the mirror), and asks for a first
    /// round.
    pub fn start(
        site: Arc<Site>,
        views: SharedViews,
        reader: LogReader,
    ) -> std::io::Result<Publisher> {
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(StopOnDrop(shared.clone()));
        let thread = {
            let site = site.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("site-writer".into())
                .spawn(move || run(&shared, &site, &views, &reader))?
        };
        let p = Publisher {
            shared,
            site,
            thread: Arc::new(Mutex::new(Some(thread))),
            _stop: stop,
        };
        p.update();
        Ok(p)
    }

    /// Finishes the round asked for and stops the writer (before the data
    /// directory is released: no page is written after this returns).
    /// Waits up to `timeout`; returns whether the writer stopped.
    pub fn close(&self, timeout: Duration) -> bool {
        self.shared.lock().stop = true;
        self.shared.cv.notify_all();
        let mut t = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(h) = t.take() else {
            return true;
        };
        let until = Instant::now() + timeout;
        while !h.is_finished() {
            if Instant::now() >= until {
                *t = Some(h);
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        h.join().is_ok()
    }

    /// The site.
    pub fn site(&self) -> &Arc<Site> {
        &self.site
    }

    /// Asks for a round (the views changed). Returns at once.
    pub fn update(&self) {
        self.shared.lock().requested += 1;
        self.shared.cv.notify_all();
    }

    /// Sets the time a mirror last checked its upstream. Asks for a round
    /// only if the time shown is a minute old or more (a mirror polling
    /// every second does not rewrite its front page every second; the
    /// next round shows the latest time anyway).
    pub fn set_checked_at(&self, at: u64) {
        let stale = {
            let mut c = self.shared.lock();
            let stale = c.shown_checked_at.is_none_or(|s| at >= s + 60);
            c.checked_at = Some(at);
            stale
        };
        if stale {
            self.update();
        }
    }

    /// Sets or clears the public notice, and asks for a round.
    pub fn set_notice(&self, notice: Option<Notice>) {
        {
            let mut c = self.shared.lock();
            if c.notice == notice {
                return;
            }
            c.notice = notice;
        }
        self.update();
    }

    /// Marks the results as certified by the authority (leaders are shown
    /// as winners), and asks for a round.
    pub fn set_certified(&self, certified: bool) {
        self.shared.lock().certified = certified;
        self.update();
    }

    /// Waits until every round asked for so far is written, or `timeout`.
    /// Returns whether it is.
    pub fn wait(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut c = self.shared.lock();
        let want = c.requested;
        while c.done < want {
            let now = Instant::now();
            if now >= until {
                return false;
            }
            c = self
                .shared
                .cv
                .wait_timeout(c, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// What the last finished round did, and the last error (if the last
    /// round failed).
    pub fn last_round(&self) -> (Option<Round>, Option<String>) {
        let c = self.shared.lock();
        (c.last, c.error.clone())
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The writer thread.
fn run(shared: &Shared, site: &Site, views: &SharedViews, reader: &LogReader) {
    let mut w = SiteWriter::new(reader.public_dir());
    let n = site.manifest.units.len();
    // Entries written per unit; MAX: not written by this process yet.
    let mut written_len = vec![usize::MAX; n];
    let mut shards = None;
    loop {
        let (round, mut st) = {
            let mut c = shared.lock();
            while c.requested == c.done && !c.stop {
                c = shared.cv.wait(c).unwrap_or_else(PoisonError::into_inner);
            }
            if c.requested == c.done {
                return;
            }
            c.shown_checked_at = c.checked_at;
            (
                c.requested,
                Status {
                    totals: None,
                    updated_at: now(),
                    checked_at: c.checked_at,
                    notice: c.notice.clone(),
                    certified: c.certified,
                },
            )
        };
        let started = Instant::now();
        let mut changed = Vec::new();
        {
            let v = views.read().unwrap_or_else(PoisonError::into_inner);
            st.totals = v.totals_body.clone();
            for (ui, len) in written_len.iter().enumerate() {
                let e = v.unit_entries.get(ui).map_or(&[][..], Vec::as_slice);
                if *len != e.len() {
                    changed.push((ui, e.to_vec()));
                }
            }
        }
        let result = (|| -> Result<usize, String> {
            let s = match shards {
                Some(s) => s,
                None => {
                    let s = site.write_fixed(&mut w).map_err(|e| e.to_string())?;
                    shards = Some(s);
                    s
                }
            };
            site.write_results(&mut w, &st, s)
                .map_err(|e| e.to_string())?;
            let mut units = 0;
            for (ui, indexes) in &changed {
                let mut entries = Vec::with_capacity(indexes.len());
                for &i in indexes {
                    entries.push((i, reader.entry(i).map_err(|e| e.to_string())?));
                }
                site.write_unit(&mut w, *ui, &entries)
                    .map_err(|e| e.to_string())?;
                if let Some(l) = written_len.get_mut(*ui) {
                    *l = indexes.len();
                }
                units += 1;
            }
            w.flush().map_err(|e| e.to_string())?;
            Ok(units)
        })();
        let mut c = shared.lock();
        c.done = round;
        match result {
            Ok(units) => {
                c.last = Some(Round {
                    written: w.take_counts(),
                    units,
                    took: started.elapsed(),
                });
                c.error = None;
            }
            Err(e) => {
                tracing::error!(error = %e, "writing the static pages failed; the next round tries again");
                c.error = Some(e);
            }
        }
        drop(c);
        shared.cv.notify_all();
    }
}
