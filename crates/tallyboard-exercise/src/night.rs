//! The election night: the generated election, the signed tallies, the
//! processes (origin, witnesses, mirrors), submission and verification.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tallyboard_core::Tally;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::tally::SignedTally;
use tallyboard_log::{Log, Options};

use crate::client::{AsyncHttp, Http, Outcome, ReceiptChecker, submit_one_async};
use crate::election::{Generated, MANIFEST_FILE, Plan, generate_plan, write_files};
use crate::error::{Context as _, Result, bail, failed};
use crate::procs::{FileServer, Proc, files_under, run_to_end, tail};

/// Tallies up to which the count centres submit through the real
/// `tallyboard submit` binary (one process per centre) and the backup
/// channels (centres' signed files, observers' CSV, receipts) are written;
/// beyond, an in-process concurrent client submits (national scale).
const BINARY_SUBMIT_MAX: usize = 5_000;
/// Count centres at most for submission through the binary.
const BINARY_SUBMIT_MAX_CENTRES: usize = 16;
/// Submissions in flight of the in-process client.
const INPROCESS_IN_FLIGHT: usize = 3_000;

/// What the user asked for.
#[derive(Clone, Debug)]
pub(crate) struct NightOptions {
    pub(crate) units: usize,
    pub(crate) contests: usize,
    pub(crate) interval_ms: u64,
    pub(crate) parallel: u32,
    /// The origin's log in object storage (`serve --storage URL`).
    pub(crate) storage: Option<String>,
}

/// One signed tally of the night.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) unit: usize,
    pub(crate) contest: usize,
    pub(crate) centre: String,
    /// `<unit>.<contest>.r<revision>.tally`
    pub(crate) file: String,
    pub(crate) signed: SignedTally,
}

impl Entry {
    pub(crate) fn tally(&self) -> &Tally {
        self.signed.tally()
    }
}

/// One count centre's `tallyboard submit`: centre, exit code, stdout, stderr.
type CentreRun = (String, Option<i32>, String, String);

/// Which subcommands of the other pieces this binary has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pieces {
    pub(crate) witness: bool,
    pub(crate) mirror: bool,
    pub(crate) verify: bool,
}

/// Prints each phase with the time it took.
pub(crate) struct Clock {
    start: Instant,
    phase: Instant,
    pub(crate) timings: Vec<(String, Duration)>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            start: Instant::now(),
            phase: Instant::now(),
            timings: Vec::new(),
        }
    }

    /// Ends the current phase: prints its name, what it did and its time.
    pub(crate) fn done(&mut self, phase: &str, what: &str) {
        let took = self.phase.elapsed();
        println!(
            "[{:>7.1} s] {phase:<14} {what} ({:.2} s)",
            self.start.elapsed().as_secs_f64(),
            took.as_secs_f64()
        );
        self.timings.push((phase.to_owned(), took));
        self.phase = Instant::now();
    }

    /// Prints a note within a phase.
    pub(crate) fn note(&self, what: &str) {
        println!(
            "[{:>7.1} s]                {what}",
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Most printable sheets the exercise leaves with `--data` (a night of a
/// million units keeps the first ones).
pub(crate) const MAX_SHEETS: usize = 200;

/// The whole night.
pub(crate) struct Night {
    pub(crate) exe: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) opts: NightOptions,
    pub(crate) election: Generated,
    pub(crate) entries: Vec<Entry>,
    pub(crate) pieces: Pieces,
    pub(crate) clock: Clock,
    pub(crate) origin: Option<Proc>,
    /// The origin's listening address, kept for a restart on the same port.
    origin_listen: Option<String>,
    pub(crate) witnesses: Vec<Proc>,
    pub(crate) mirrors: Vec<Proc>,
    pub(crate) file_servers: Vec<FileServer>,
    /// Whether count centres submit with the real `tallyboard submit`.
    pub(crate) via_binary: bool,
}

fn has_subcommand(exe: &Path, name: &str) -> bool {
    help_of(exe, name).is_some()
}

fn help_of(exe: &Path, name: &str) -> Option<String> {
    let args = [OsString::from(name), OsString::from("--help")];
    match run_to_end(exe, &args, Duration::from_secs(20)) {
        Ok((Some(0), out, _)) => Some(out),
        _ => None,
    }
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn p(path: &Path) -> OsString {
    path.as_os_str().to_owned()
}

impl Night {
    /// Generates the election, writes it to `dir/election/` and signs every
    /// unit's tallies (in parallel threads).
    pub(crate) fn prepare(exe: PathBuf, dir: PathBuf, opts: NightOptions) -> Result<Night> {
        let mut clock = Clock::new();
        let pieces = Pieces {
            // Witnesses only help if the server can ask them to cosign.
            witness: has_subcommand(&exe, "witness")
                && help_of(&exe, "serve").is_some_and(|h| h.contains("--witness")),
            mirror: has_subcommand(&exe, "mirror"),
            verify: has_subcommand(&exe, "verify"),
        };
        let plan = if opts.units == 36 && opts.contests == 3 {
            Plan::example()?
        } else {
            Plan::scaled(opts.units, opts.contests)?
        };
        let example = opts.units == 36 && opts.contests == 3;
        let election = generate_plan(plan, false)?;
        write_files(&dir.join("election"), &election.files)?;
        let m = election.manifest.manifest();
        clock.done(
            "generate",
            &format!(
                "{}: {} units, {} contests, {} regions, {} count centres, manifest {} KiB{}",
                m.election,
                m.units.len(),
                m.contests.len(),
                m.regions.len(),
                m.centres.len(),
                election.manifest.as_bytes().len() / 1024,
                if example { " (keys-example/)" } else { "" }
            ),
        );
        let entries = sign_all(&election)?;
        let via_binary =
            entries.len() <= BINARY_SUBMIT_MAX && m.centres.len() <= BINARY_SUBMIT_MAX_CENTRES;
        let mut night = Night {
            exe,
            dir,
            opts,
            election,
            entries,
            pieces,
            clock,
            origin: None,
            origin_listen: None,
            witnesses: Vec::new(),
            mirrors: Vec::new(),
            file_servers: Vec::new(),
            via_binary,
        };
        if night.via_binary {
            for e in &night.entries {
                night.write_centre_file(e)?;
            }
        }
        let n = night.entries.len();
        night.clock.done(
            "sign",
            &format!(
                "{n} tallies signed by the count centres' keys{}",
                if night.via_binary {
                    " (files in centres/<centre>/tallies/)"
                } else {
                    ""
                }
            ),
        );
        Ok(night)
    }

    pub(crate) fn manifest_path(&self) -> PathBuf {
        self.dir.join("election").join(MANIFEST_FILE)
    }

    fn key_path(&self, file: &str) -> PathBuf {
        self.dir.join("election/keys").join(format!("{file}.key"))
    }

    pub(crate) fn authority(&self) -> String {
        self.election.authority.signer.verifier().to_string()
    }

    pub(crate) fn log_verifier(&self) -> Result<VerifierKey> {
        let m = self.election.manifest.manifest();
        VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
            .map_err(|e| failed!("the manifest's log key: {e}"))
    }

    fn log_file(&self, name: &str) -> PathBuf {
        let logs = self.dir.join("logs");
        let _ = std::fs::create_dir_all(&logs);
        logs.join(format!("{name}.log"))
    }

    /// Writes a tally as its count centre's file (the backup channel).
    pub(crate) fn write_centre_file(&self, e: &Entry) -> Result<PathBuf> {
        let dir = self.dir.join("centres").join(&e.centre).join("tallies");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(&e.file);
        std::fs::write(&path, e.signed.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Starts the two witnesses (if this build has `tallyboard witness`).
    pub(crate) fn start_witnesses(&mut self) -> Result<()> {
        if !self.pieces.witness {
            self.clock.note(
                "witnesses: this build has no `tallyboard witness` or no `serve --witness`; checkpoints get no cosignatures",
            );
            return Ok(());
        }
        for (i, w) in self.election.witnesses.iter().enumerate() {
            let name = format!("witness-{}", i + 1);
            let mut args = os(&["witness", "--key"]);
            args.push(p(&self.key_path(&w.file)));
            args.push("--manifest".into());
            args.push(p(&self.manifest_path()));
            args.extend(os(&["--authority", &self.authority(), "--data"]));
            args.push(p(&self.dir.join(&name)));
            args.extend(os(&["--listen", "127.0.0.1:0"]));
            let log = self.log_file(&name);
            self.witnesses
                .push(Proc::start(&self.exe, &name, &args, log, true)?);
        }
        Ok(())
    }

    /// Starts the publication server. `rate_limited`: the server's default
    /// per-client limits (otherwise raised so that the exercise's own
    /// count-centre traffic, all from 127.0.0.1, is not limited).
    pub(crate) fn start_origin(&mut self, rate_limited: bool) -> Result<()> {
        let mut args = os(&["serve", "--manifest"]);
        args.push(p(&self.manifest_path()));
        args.extend(os(&["--authority", &self.authority(), "--log-key"]));
        args.push(p(&self.key_path(&self.election.log.file)));
        match &self.opts.storage {
            Some(url) => args.extend(os(&["--storage", url])),
            None => {
                args.push("--data".into());
                args.push(p(&self.dir.join("origin")));
            }
        }
        let listen = self
            .origin_listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:0".into());
        args.extend(os(&[
            "--listen",
            &listen,
            "--interval-ms",
            &self.opts.interval_ms.to_string(),
            "--max-pending",
            "100000",
        ]));
        if !rate_limited {
            args.extend(os(&["--rate", "1000000", "--burst", "1000000"]));
        }
        if self.pieces.witness {
            for w in &self.witnesses {
                args.extend(os(&["--witness", &w.url]));
            }
        }
        let log = self.log_file("origin");
        let proc = Proc::start(&self.exe, "origin", &args, log, true)?;
        self.origin_listen = Some(proc.url.trim_start_matches("http://").to_owned());
        self.origin = Some(proc);
        Ok(())
    }

    pub(crate) fn origin_url(&self) -> Result<String> {
        self.origin
            .as_ref()
            .map(|o| o.url.clone())
            .ok_or_else(|| failed!("the origin is not running"))
    }

    /// Starts mirror-1 (following the origin) and mirror-2 (following
    /// mirror-1), if this build has `tallyboard mirror`.
    pub(crate) fn start_mirrors(&mut self) -> Result<()> {
        if !self.pieces.mirror {
            self.clock
                .note("mirrors: this build has no `tallyboard mirror`; none started");
            return Ok(());
        }
        for i in 1..=2 {
            let upstream = if i == 1 {
                self.origin_url()?
            } else {
                self.mirrors
                    .first()
                    .map(|m| m.url.clone())
                    .ok_or_else(|| failed!("mirror-1 is not running"))?
            };
            let name = format!("mirror-{i}");
            let mut args = os(&["mirror", "--upstream", &upstream, "--manifest"]);
            args.push(p(&self.manifest_path()));
            args.extend(os(&["--authority", &self.authority(), "--data"]));
            args.push(p(&self.dir.join(&name)));
            args.extend(os(&["--listen", "127.0.0.1:0", "--poll-ms", "200"]));
            if !self.pieces.witness {
                // No witness cosigns: the mirrors cannot require the
                // manifest's quorum (their default).
                args.extend(os(&["--quorum", "0"]));
            }
            let log = self.log_file(&name);
            self.mirrors
                .push(Proc::start(&self.exe, &name, &args, log, true)?);
        }
        Ok(())
    }

    /// Starts witnesses, origin and mirrors, and reports them.
    pub(crate) fn start_all(&mut self, rate_limited: bool) -> Result<()> {
        self.start_witnesses()?;
        self.start_origin(rate_limited)?;
        self.start_mirrors()?;
        let mut what = format!("origin {}", self.origin_url()?);
        for w in &self.witnesses {
            let _ = write!(what, ", {} {}", w.name, w.url);
        }
        for m in &self.mirrors {
            let _ = write!(what, ", {} {}", m.name, m.url);
        }
        self.clock.done("start", &what);
        Ok(())
    }

    /// Stops the origin cleanly, appends `entries` to its log directly with
    /// the log key (as an attacker holding the server would: no rule is
    /// checked), and restarts it on the same address.
    pub(crate) fn compromise_origin(&mut self, entries: &[Vec<u8>]) -> Result<u64> {
        if let Some(url) = &self.opts.storage {
            bail!(
                "this scenario alters the origin's data directory; the log is in {url}: run it without --storage"
            );
        }
        if let Some(mut o) = self.origin.take() {
            o.stop();
        }
        let signer = self.election.log.signer.clone();
        let mut log = Log::open(&self.dir.join("origin"), signer, Options::default())
            .context("opening the origin's log as the attacker")?;
        let batch = log
            .append(entries)
            .context("appending to the origin's log as the attacker")?;
        drop(log);
        self.start_origin(false)?;
        Ok(batch.checkpoint.size)
    }

    /// Submits `which` (indexes into `entries`): through one `tallyboard
    /// submit` process per count centre, or the in-process client at
    /// national scale. Returns (accepted, problems).
    pub(crate) fn submit(&mut self, which: &[usize]) -> Result<(usize, Vec<String>)> {
        let url = self.origin_url()?;
        if self.via_binary {
            let mut by_centre: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
            for &i in which {
                let e = &self.entries[i];
                let path = self.write_centre_file(e)?;
                by_centre.entry(e.centre.clone()).or_default().push(path);
            }
            let this = &*self;
            let results: Vec<Result<CentreRun>> = std::thread::scope(|s| {
                let handles: Vec<_> = by_centre
                    .iter()
                    .map(|(centre, files)| {
                        let url = url.clone();
                        s.spawn(move || {
                            let (code, out, err) = this.submit_files(&url, centre, files, 6)?;
                            Ok((centre.clone(), code, out, err))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(failed!("a submitter panicked")))
                    })
                    .collect()
            });
            let mut accepted = 0;
            let mut problems = Vec::new();
            for r in results {
                let (centre, code, out, err) = r?;
                for line in out.lines() {
                    if line.contains(": accepted") {
                        accepted += 1;
                    } else if line.contains(": refused") || line.contains(": pending") {
                        problems.push(format!("{centre}: {line}"));
                    }
                }
                if code != Some(0) && problems.is_empty() {
                    problems.push(format!(
                        "{centre}: tallyboard submit ended with {}: {}",
                        crate::exit_words(code),
                        err.trim()
                    ));
                }
            }
            Ok((accepted, problems))
        } else {
            self.submit_in_process(&url, which)
        }
    }

    /// Runs `tallyboard submit` for one count centre's files.
    pub(crate) fn submit_files(
        &self,
        url: &str,
        centre: &str,
        files: &[PathBuf],
        attempts: u32,
    ) -> Result<(Option<i32>, String, String)> {
        let mut args = os(&["submit", "--server", url, "--manifest"]);
        args.push(p(&self.manifest_path()));
        args.extend(os(&["--authority", &self.authority(), "--receipts"]));
        args.push(p(&self.dir.join("centres").join(centre).join("receipts")));
        args.extend(os(&[
            "--parallel",
            &self.opts.parallel.to_string(),
            "--attempts",
            &attempts.to_string(),
        ]));
        args.extend(files.iter().map(|f| p(f)));
        run_to_end(&self.exe, &args, Duration::from_secs(600))
    }

    fn submit_in_process(&self, url: &str, which: &[usize]) -> Result<(usize, Vec<String>)> {
        use futures_util::StreamExt as _;
        let http = AsyncHttp::parse(url, Duration::from_secs(30), INPROCESS_IN_FLIGHT)?;
        let checker = ReceiptChecker::new(self.log_verifier()?);
        // One thread runs every request (async I/O).
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the submitters' runtime")?;
        let mut accepted = 0;
        let mut problems = Vec::new();
        rt.block_on(async {
            let mut outcomes = futures_util::stream::iter(which.iter().map(|&k| {
                let (http, checker) = (&http, &checker);
                let e = &self.entries[k];
                async move {
                    let o = submit_one_async(http, checker, e.signed.as_bytes(), 8).await;
                    (e, o)
                }
            }))
            .buffer_unordered(INPROCESS_IN_FLIGHT);
            while let Some((e, o)) = outcomes.next().await {
                match o {
                    Outcome::Accepted(_) => accepted += 1,
                    Outcome::Refused(why) | Outcome::Pending(why) => {
                        problems.push(format!("{}: {why}", e.file));
                    }
                }
            }
        });
        Ok((accepted, problems))
    }

    /// Waits until the server at `url` publishes a checkpoint of at least
    /// `size` (bounded by `timeout`); returns the size reached.
    pub(crate) fn wait_size(&self, url: &str, size: u64, timeout: Duration) -> Result<u64> {
        let http = Http::parse(url)?.with_timeout(Duration::from_secs(5))?;
        let deadline = Instant::now() + timeout;
        let mut last = 0;
        loop {
            if let Ok(r) = http.get("/checkpoint", tallyboard_core::limits::MAX_NOTE)
                && r.status == 200
                && let Some(n) = checkpoint_size(&r.body)
            {
                last = n;
                if n >= size {
                    return Ok(n);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{url} reached tree size {last}, not {size}, within {} s",
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until every mirror has the origin's size.
    pub(crate) fn wait_mirrors(&mut self, size: u64) -> Result<()> {
        let timeout = Duration::from_secs(60 + size / 2_000);
        for m in &self.mirrors {
            self.wait_size(&m.url, size, timeout).with_context(|| {
                format!(
                    "{} did not catch up; its log {}:\n{}",
                    m.name,
                    m.log.display(),
                    tail(&m.log)
                )
            })?;
        }
        if !self.mirrors.is_empty() {
            self.clock.done(
                "mirror sync",
                &format!("both mirrors (one chained) at tree size {size}"),
            );
        }
        Ok(())
    }

    /// Submits every tally, waits for the origin to publish them all and the
    /// mirrors to follow.
    pub(crate) fn run_night(&mut self, which: &[usize]) -> Result<u64> {
        let (accepted, problems) = self.submit(which)?;
        if !problems.is_empty() {
            bail!(
                "{} of {} tallies were not accepted:\n  {}",
                problems.len(),
                which.len(),
                problems
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            );
        }
        let how = if self.via_binary {
            "by `tallyboard submit`, one process per count centre"
        } else {
            "by the in-process concurrent client"
        };
        self.clock.done(
            "submit",
            &format!("{accepted} tallies accepted with checked receipts, {how}"),
        );
        let size = self.wait_size(
            &self.origin_url()?,
            which.len() as u64,
            Duration::from_secs(60),
        )?;
        self.clock.done(
            "sequence",
            &format!("origin checkpoint at tree size {size}"),
        );
        self.wait_mirrors(size)?;
        Ok(size)
    }

    /// Every tally index.
    pub(crate) fn all(&self) -> Vec<usize> {
        (0..self.entries.len()).collect()
    }

    /// The backup channels: `backup/` (the latest tally of every unit and
    /// contest, as its count centre keeps it), `receipts/` (each tally with the receipt its
    /// centre kept) and `observers.csv` (the figures of the sheets posted at
    /// the polling stations, latest revision), all from `entries`.
    pub(crate) fn write_backup_channels(&self, entries: &[Entry]) -> Result<()> {
        let backup = self.dir.join("backup");
        let receipts = self.dir.join("receipts");
        for d in [&backup, &receipts] {
            if d.exists() {
                std::fs::remove_dir_all(d).with_context(|| format!("clearing {}", d.display()))?;
            }
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let mut latest: BTreeMap<(String, String), &Entry> = BTreeMap::new();
        for e in entries {
            let r = self
                .dir
                .join("centres")
                .join(&e.centre)
                .join("receipts")
                .join(format!("{}.tlog-proof", e.file));
            if r.exists() {
                std::fs::write(receipts.join(&e.file), e.signed.as_bytes())?;
                std::fs::copy(&r, receipts.join(format!("{}.tlog-proof", e.file)))?;
            }
            let t = e.tally();
            let key = (t.unit.clone(), t.contest.clone());
            if latest
                .get(&key)
                .is_none_or(|l| l.tally().revision < t.revision)
            {
                latest.insert(key, e);
            }
        }
        let mut csv = String::from("unit,contest,choice,count\n");
        for e in latest.values() {
            // The centres' backup: what each says is its unit's latest tally.
            std::fs::write(backup.join(&e.file), e.signed.as_bytes())?;
            let t = e.tally();
            for (choice, n) in &t.choices {
                let _ = writeln!(csv, "{},{},{choice},{n}", t.unit, t.contest);
            }
        }
        std::fs::write(self.dir.join("observers.csv"), csv)?;
        Ok(())
    }

    /// The printable sheets (`tallyboard print`, spec/paper.md) of the
    /// latest revision of the first [`MAX_SHEETS`] units and contests (in
    /// entry order), as the polling stations post them: `sheets/*.pdf`, with
    /// the signed tallies they carry in `sheets/signed/`. Returns how many.
    pub(crate) fn print_sheets(&self) -> Result<usize> {
        let dir = self.dir.join("sheets");
        let signed = dir.join("signed");
        std::fs::create_dir_all(&signed)
            .with_context(|| format!("creating {}", signed.display()))?;
        let mut latest: BTreeMap<(String, String), &Entry> = BTreeMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        for e in &self.entries {
            let t = e.tally();
            let key = (t.unit.clone(), t.contest.clone());
            if !latest.contains_key(&key) {
                if order.len() >= MAX_SHEETS {
                    continue;
                }
                order.push(key.clone());
            }
            if latest
                .get(&key)
                .is_none_or(|l| l.tally().revision < t.revision)
            {
                latest.insert(key, e);
            }
        }
        for e in latest.values() {
            std::fs::write(signed.join(&e.file), e.signed.as_bytes())?;
        }
        let mut args = vec![OsString::from("print"), OsString::from("--manifest")];
        args.push(self.manifest_path().into_os_string());
        args.push(OsString::from("--out"));
        args.push(dir.clone().into_os_string());
        args.push(signed.into_os_string());
        let (status, _, err) = run_to_end(&self.exe, &args, Duration::from_secs(300))?;
        if status != Some(0) {
            bail!("tallyboard print failed: {}", err.trim());
        }
        Ok(latest.len())
    }

    /// Stops everything started, in reverse order.
    pub(crate) fn stop_all(&mut self) {
        self.file_servers.clear();
        while let Some(mut m) = self.mirrors.pop() {
            m.stop();
        }
        if let Some(mut o) = self.origin.take() {
            o.stop();
        }
        while let Some(mut w) = self.witnesses.pop() {
            w.stop();
        }
    }
}

impl Drop for Night {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The tree size of a checkpoint note (its second line).
pub(crate) fn checkpoint_size(note: &[u8]) -> Option<u64> {
    std::str::from_utf8(note).ok()?.lines().nth(1)?.parse().ok()
}

/// Signs every unit's tallies with its count centre's current key, in
/// parallel threads.
fn sign_all(election: &Generated) -> Result<Vec<Entry>> {
    let units = &election.units;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = units.len().div_ceil(threads).max(1);
    let election_id = election.manifest.manifest().election.clone();
    let parts: Vec<Result<Vec<Entry>>> = std::thread::scope(|s| {
        let handles: Vec<_> = units
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                let election_id = &election_id;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * 3);
                    for (j, u) in part.iter().enumerate() {
                        let i = k * chunk + j;
                        let at = election.counted_at(i);
                        let key = election.centre_key(&u.centre, at).ok_or_else(|| {
                            failed!("centre {} has no key valid at the count (a bug)", u.centre)
                        })?;
                        let secret = key.key.signer.secret();
                        for &c in &u.contests {
                            let spec = &election.contests()[c];
                            let f = election.figures(u, c);
                            let tally = Tally::new(
                                election_id,
                                &spec.id,
                                &u.id,
                                spec.choices.iter().map(|(id, _)| id.clone()).zip(f.votes),
                                f.blank,
                                f.invalid,
                                f.cast,
                                at,
                                secret.public_key(),
                            );
                            out.push(Entry {
                                unit: i,
                                contest: c,
                                centre: u.centre.clone(),
                                file: format!("{}.{}.r1.tally", u.id, spec.id),
                                signed: tally.sign(secret),
                            });
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(failed!("a signing thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::new();
    for p in parts {
        all.extend(p?);
    }
    Ok(all)
}

/// Every file under `dir` whose bytes contain `needle`, with `replacement`
/// (same length) substituted: how a mirror operator would doctor a copy.
pub(crate) fn replace_in_tree(dir: &Path, needle: &[u8], replacement: &[u8]) -> Result<usize> {
    let mut changed = 0;
    for f in files_under(dir)? {
        let mut bytes = std::fs::read(&f)?;
        let mut hit = false;
        let mut i = 0;
        while let Some(pos) = bytes[i..].windows(needle.len()).position(|w| w == needle) {
            let at = i + pos;
            bytes[at..at + needle.len()].copy_from_slice(replacement);
            i = at + needle.len();
            hit = true;
        }
        if hit {
            std::fs::write(&f, &bytes)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallyboard_core::rules::check_tally;

    #[test]
    fn a_scaled_election_signs_tallies_that_pass_every_rule() {
        let g = generate_plan(Plan::scaled(1_200, 4).unwrap(), false).unwrap();
        let m = g.manifest.manifest();
        assert_eq!(m.units.len(), 1_200);
        assert_eq!(m.contests.len(), 4);
        // 3 districts of 400 units in 2 provinces, one centre per district.
        assert_eq!(m.centres.len(), 3);
        assert_eq!(m.regions.len(), 5);
        assert!(
            g.centre_keys
                .iter()
                .any(|k| k.centre == "C-0001" && k.revoked_at.is_some())
        );
        let entries = sign_all(&g).unwrap();
        let expected: usize = m.units.iter().map(|u| u.contests.len()).sum();
        assert_eq!(entries.len(), expected);
        for e in &entries {
            assert_eq!(check_tally(m, e.tally()), vec![], "{}", e.file);
        }
        // Deterministic: the same plan gives the same bytes.
        let again =
            sign_all(&generate_plan(Plan::scaled(1_200, 4).unwrap(), false).unwrap()).unwrap();
        assert!(
            entries
                .iter()
                .zip(&again)
                .all(|(a, b)| a.signed.as_bytes() == b.signed.as_bytes())
        );
    }

    #[test]
    fn the_default_size_is_the_example_election() {
        let g = generate_plan(Plan::example().unwrap(), false).unwrap();
        let committed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../keys-example/manifest.signed"
        ))
        .unwrap();
        assert_eq!(g.manifest.as_bytes(), committed.as_slice());
        let entries = sign_all(&g).unwrap();
        assert_eq!(entries.len(), 90);
        for e in &entries {
            assert_eq!(check_tally(g.manifest.manifest(), e.tally()), vec![]);
        }
    }
}
