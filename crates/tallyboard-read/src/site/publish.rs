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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tallyboard_core::tile::TILE_WIDTH;
use tallyboard_fs::FsError;
use tallyboard_log::{LogReader, SignedCheckpoint};

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

    /// Stages the files of `units` (each a manifest index and its entries,
    /// as for [`Site::write_unit`]), rendered on other threads while this
    /// one writes; returns how many units. In place once the writer is
    /// flushed.
    pub fn write_units(&self, w: &mut SiteWriter, units: &[UnitEntries]) -> Result<usize, FsError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .clamp(1, 4);
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(String, Vec<u8>)>>(RENDERED_AHEAD);
            for k in 0..threads {
                let tx = tx.clone();
                s.spawn(move || {
                    for (ui, entries) in units.iter().skip(k).step_by(threads) {
                        if tx.send(super::unit_files(self, *ui, entries)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            let mut n = 0;
            // On an error the receiver is dropped and the renderers stop.
            for files in rx {
                for (path, bytes) in files {
                    w.put(&path, &bytes, false)?;
                }
                n += 1;
            }
            Ok(n)
        })
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
    /// Whether the rounds write the results files (the publication
    /// server's; a mirror writes its own after checking the totals).
    results_files: bool,
    /// The checkpoint last committed, the one the results files are bound
    /// to when the totals are.
    committed: Option<Arc<SignedCheckpoint>>,
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
                .spawn(move || {
                    super::run_in_background();
                    run(&shared, &site, &views, &reader);
                })?
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

    /// Has every round write the results files of the static copy
    /// (`results.json`, `results.csv`, `results.err.json`, `totals.json`:
    /// see `static_copy`) from the views' signed totals, each only when
    /// it changed, and asks for a round. The publication server asks for
    /// it: the sequencer then never waits for them.
    pub fn write_results_files(&self) {
        self.shared.lock().results_files = true;
        self.update();
    }

    /// Records `cp` as the checkpoint just committed (the results files
    /// carry its note when the totals are bound to it), and asks for a
    /// round.
    pub fn committed(&self, cp: Arc<SignedCheckpoint>) {
        self.shared.lock().committed = Some(cp);
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

/// Entries read from the log per pass over its bundles at most (a first
/// round at a million units reads the log in a few passes, each bundle
/// once per pass, instead of a bundle per entry).
const ENTRIES_PER_PASS: usize = 1 << 18;

/// Units rendered ahead of the thread that writes them.
const RENDERED_AHEAD: usize = 256;

/// A unit (manifest index) and its entries (`(leaf index, signed
/// tally)`, log order).
pub type UnitEntries = (usize, Vec<(u64, Vec<u8>)>);

/// A unit whose list of entries changed: its manifest index and its
/// entries' leaf indexes.
type Changed = (usize, Vec<u64>);

/// The results files' inputs last written: the signed totals and the
/// checkpoint note and time of count that went with them.
type ResultsInputs = (Arc<Vec<u8>>, Vec<u8>, u64);

/// The writer thread's state.
struct Writer<'a> {
    site: &'a Site,
    reader: &'a LogReader,
    w: SiteWriter,
    /// Entries written per unit; MAX: not written by this process yet.
    written_len: Vec<usize>,
    shards: Option<u32>,
    results_inputs: Option<ResultsInputs>,
}

/// What a round reads from the views and the control block.
struct RoundInput {
    st: Status,
    changed: Vec<Changed>,
    /// The results files to write, if asked for: signed totals, the
    /// checkpoint they should be bound to, the latest time of count.
    results: Option<ResultsAsked>,
}

/// The results files' inputs a round reads: the signed totals, the
/// checkpoint last committed, the latest time of count.
type ResultsAsked = (Arc<Vec<u8>>, Option<Arc<SignedCheckpoint>>, u64);

/// The writer thread.
fn run(shared: &Shared, site: &Site, views: &SharedViews, reader: &LogReader) {
    let mut wr = Writer {
        site,
        reader,
        w: SiteWriter::for_storage(reader.storage()),
        written_len: vec![usize::MAX; site.manifest.units.len()],
        shards: None,
        results_inputs: None,
    };
    loop {
        let (round, st, results_cp) = {
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
                c.results_files.then(|| c.committed.clone()),
            )
        };
        let started = Instant::now();
        let input = wr.read_views(views, st, results_cp);
        let result = wr.round(input);
        let mut c = shared.lock();
        c.done = round;
        match result {
            Ok(units) => {
                c.last = Some(Round {
                    written: wr.w.take_counts(),
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

impl Writer<'_> {
    /// What the round shows: the views as they are now.
    fn read_views(
        &self,
        views: &SharedViews,
        mut st: Status,
        results_cp: Option<Option<Arc<SignedCheckpoint>>>,
    ) -> RoundInput {
        let v = views.read().unwrap_or_else(PoisonError::into_inner);
        st.totals = v.totals_body.clone();
        let mut changed = Vec::new();
        for (ui, len) in self.written_len.iter().enumerate() {
            let e = v.unit_entries.get(ui).map_or(&[][..], Vec::as_slice);
            if *len != e.len() {
                changed.push((ui, e.to_vec()));
            }
        }
        let results = results_cp.map(|cp| (Arc::clone(&v.totals), cp, v.latest_count));
        RoundInput {
            st,
            changed,
            results,
        }
    }

    /// One round; returns the number of units whose files were rendered.
    fn round(&mut self, input: RoundInput) -> Result<usize, String> {
        if let Some((totals, cp, latest)) = input.results {
            self.results_files(totals, cp, latest)?;
        }
        let shards = match self.shards {
            Some(s) => s,
            None => {
                let s = self
                    .site
                    .write_fixed(&mut self.w)
                    .map_err(|e| e.to_string())?;
                self.shards = Some(s);
                s
            }
        };
        self.site
            .write_results(&mut self.w, &input.st, shards)
            .map_err(|e| e.to_string())?;
        let mut units = 0;
        let mut done: Vec<(usize, usize)> = Vec::new();
        for pass in passes(&input.changed) {
            units += self.write_units(pass, &mut done)?;
        }
        self.w.flush().map_err(|e| e.to_string())?;
        // Only now are the units' files in place.
        for (ui, len) in done {
            if let Some(l) = self.written_len.get_mut(ui) {
                *l = len;
            }
        }
        Ok(units)
    }

    /// Writes the results files (`results.json`, ...) of `totals`, bound
    /// to `cp` (the checkpoint last committed), unless their inputs are
    /// those last written.
    fn results_files(
        &mut self,
        totals: Arc<Vec<u8>>,
        cp: Option<Arc<SignedCheckpoint>>,
        latest: u64,
    ) -> Result<(), String> {
        use crate::static_copy::{RESULTS_FILES, results_files};
        use tallyboard_core::totals::SignedTotals;
        if totals.is_empty() {
            return Ok(());
        }
        let m = &self.site.manifest;
        let Ok(signed) = SignedTotals::from_bytes(&totals, &m.log.key) else {
            tracing::error!("the signed totals do not parse; the results files are not written");
            return Ok(());
        };
        let size = signed.totals().checkpoint.size;
        let current = self.reader.checkpoint();
        let note = match [cp.as_deref(), Some(&*current)]
            .into_iter()
            .flatten()
            .find(|c| c.size == size)
        {
            Some(c) => c.note.clone(),
            // Totals newer than the checkpoint last committed: that
            // commit's round follows and writes them with its note.
            None if cp.as_ref().is_some_and(|c| c.size < size) => return Ok(()),
            None => Vec::new(),
        };
        if self
            .results_inputs
            .as_ref()
            .is_some_and(|(t, n, l)| **t == *totals && *n == note && *l == latest)
        {
            return Ok(());
        }
        let Some(files) = results_files(m, &signed, &note, latest) else {
            tracing::error!(
                "the totals do not fit the manifest; the results files are not written"
            );
            return Ok(());
        };
        // Into `public/` or the bucket, as the pages.
        for (name, bytes) in RESULTS_FILES.iter().zip(&files) {
            self.w.put(name, bytes, true).map_err(|e| e.to_string())?;
        }
        self.w.flush().map_err(|e| e.to_string())?;
        self.results_inputs = Some((totals, note, latest));
        Ok(())
    }

    /// Renders and stages the files of the units of `pass`, reading each
    /// bundle of the log they need once; records `(unit, entries)` in
    /// `done`.
    fn write_units(
        &mut self,
        pass: &[Changed],
        done: &mut Vec<(usize, usize)>,
    ) -> Result<usize, String> {
        let width = u64::from(TILE_WIDTH);
        let mut by_bundle: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (_, indexes) in pass {
            for &i in indexes {
                by_bundle.entry(i / width).or_default().push(i);
            }
        }
        let mut entries: HashMap<u64, Vec<u8>> = HashMap::new();
        for (b, wanted) in by_bundle {
            let mut bundle = self.reader.bundle(b).map_err(|e| e.to_string())?;
            for i in wanted {
                let e = bundle
                    .get_mut(usize::try_from(i % width).unwrap_or(usize::MAX))
                    .map(std::mem::take)
                    .ok_or_else(|| format!("entry {i} is not in the log's bundle {b}"))?;
                entries.insert(i, e);
            }
        }
        let units: Vec<UnitEntries> = pass
            .iter()
            .map(|(ui, indexes)| {
                let e = indexes
                    .iter()
                    .filter_map(|i| Some((*i, entries.get(i)?.clone())))
                    .collect();
                (*ui, e)
            })
            .collect();
        drop(entries);
        let n = self
            .site
            .write_units(&mut self.w, &units)
            .map_err(|e| e.to_string())?;
        done.extend(pass.iter().map(|(ui, e)| (*ui, e.len())));
        Ok(n)
    }
}

/// `changed` cut into passes of at most [`ENTRIES_PER_PASS`] entries.
fn passes(changed: &[Changed]) -> Vec<&[Changed]> {
    let mut out = Vec::new();
    let (mut from, mut n) = (0, 0);
    for (k, (_, e)) in changed.iter().enumerate() {
        if n > 0 && n + e.len() > ENTRIES_PER_PASS {
            out.push(&changed[from..k]);
            from = k;
            n = 0;
        }
        n += e.len();
    }
    if from < changed.len() {
        out.push(&changed[from..]);
    }
    out
}
