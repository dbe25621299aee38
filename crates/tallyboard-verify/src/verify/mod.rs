//! The whole verification (spec/verify.md §4): trust roots, sources,
//! checkpoints and split views, the full check of the log, totals, backup
//! channels, completeness, and watch mode.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use tallyboard_core::Hash;
use tallyboard_core::checkpoint::{CheckpointError, OpenedCheckpoint, open_checkpoint};
use tallyboard_core::keys::PublicKey;
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::merkle::prove_inclusion;
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_core::totals::{SignedTotals, diff};

use crate::backup::{self, BackupInputs, Loaded};
use crate::check::{EntryChecker, EntryFinding, Progress, run_pipeline};
use crate::codes::FindingCode;
use crate::evidence::Evidence;
use crate::follow::{
    Consistency, FollowError, FollowOptions, Item, Trusted, check_consistency, follow,
};
use crate::report::{
    Completeness, CompletenessRow, Finding, LogReport, ObserverReport, PaperReport, Report,
    ReportDetails, Severity, SourceReport, UnitRevision, Verdict,
};
use crate::source::{FetchError, HttpOptions, Source, TileCache, http_client};
use crate::status::ResultsStatus;
use crate::tiles::{Recomputed, check_served_tiles};

mod backups;
mod certify;
mod checkpoints;
mod completeness;
mod data;
mod feed;
mod paper;
mod setup;
mod totals;

use setup::setup;

/// Most evidence files of entries (log-entry) written in one run.
const MAX_ENTRY_EVIDENCE: usize = 500;

/// What to verify and how.
#[derive(Clone)]
pub struct Config {
    /// The election authority's public key: the only trust root.
    pub authority: PublicKey,
    /// Sources: base URLs or directories.
    pub sources: Vec<String>,
    /// The signed manifest, if given as a file (otherwise read from the
    /// sources).
    pub manifest: Option<Vec<u8>>,
    /// Backup channels.
    pub backups: BackupInputs,
    /// Where to write evidence files.
    pub evidence_dir: Option<PathBuf>,
    /// Threads that verify signatures.
    pub threads: usize,
    /// Entry bundles fetched at once per source.
    pub concurrency: usize,
    /// HTTP client settings.
    pub http: HttpOptions,
    /// Progress of the full check (entries checked), and the total.
    pub progress: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    /// Witness cosignatures required on a checkpoint instead of the
    /// manifest's quorum (`None`: the manifest's).
    pub quorum: Option<usize>,
    /// Give the counted revision of every unit and contest in the report
    /// ([`crate::report::ReportDetails::units`], the exports' rows).
    pub unit_rows: bool,
    /// Units whose every counted revision the report lists
    /// ([`crate::report::ReportDetails::revisions`]).
    pub detail_units: Vec<String>,
    /// Keep a copy of the manifest in the report
    /// ([`crate::report::ReportDetails::manifest`], for the exports).
    pub keep_manifest: bool,
    /// The time (POSIX seconds) the due time is judged by (`None`: the
    /// verifier's own clock; spec/verify.md §4.7).
    pub now: Option<u64>,
    /// Watch mode: collect the live feed's events (spec/feed.md).
    pub feed: bool,
}

impl Config {
    /// A configuration with defaults: all cores, 8 bundles at once.
    pub fn new(authority: PublicKey, sources: Vec<String>) -> Config {
        Config {
            authority,
            sources,
            manifest: None,
            backups: BackupInputs::default(),
            evidence_dir: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            concurrency: crate::follow::DEFAULT_CONCURRENCY,
            http: HttpOptions::default(),
            progress: None,
            quorum: None,
            unit_rows: false,
            detail_units: Vec::new(),
            keep_manifest: false,
            now: None,
            feed: false,
        }
    }
}

/// Watch mode settings.
#[derive(Clone)]
pub struct WatchConfig {
    /// Time between polls.
    pub interval: Duration,
    /// Stop once the verified tree reaches this size.
    pub until_size: Option<u64>,
    /// Set to stop (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

/// The keys the manifest gives.
struct Keys {
    log: VerifierKey,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
}

fn keys_of(m: &Manifest) -> Result<Keys, String> {
    let log = VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key)
        .map_err(|e| format!("the manifest's log key cannot be used: {e}"))?;
    let witnesses = m
        .witnesses
        .iter()
        .map(|w| VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("a witness key of the manifest cannot be used: {e}"))?;
    Ok(Keys {
        log,
        witnesses,
        quorum: usize::try_from(m.quorum).unwrap_or(usize::MAX),
    })
}

/// A checkpoint a source served this round.
#[derive(Clone)]
struct Seen {
    source: usize,
    cp: OpenedCheckpoint,
    quorum_ok: bool,
}

/// Findings already reported (watch mode prints each once).
#[derive(Default)]
struct Ledger {
    findings: Vec<Finding>,
    not_listed: BTreeMap<FindingCode, u64>,
    seen: HashSet<(FindingCode, Option<String>, String)>,
}

impl Ledger {
    fn add(&mut self, f: Finding) -> bool {
        let key = (f.code, f.source.clone(), f.message.clone());
        if !self.seen.insert(key) {
            return false;
        }
        self.findings.push(f);
        true
    }
}

struct Run<'m> {
    config: &'m Config,
    sources: Vec<Source>,
    manifest: &'m SignedManifest,
    keys: Keys,
    checker: EntryChecker<'m>,
    /// The tree fully checked so far, and which source it was read from.
    trusted: Trusted,
    checked_from: Option<usize>,
    /// Per source: the tree whose data was verified.
    source_state: Vec<Trusted>,
    reports: Vec<SourceReport>,
    ledger: Ledger,
    entry_evidence: usize,
    /// Split views already reported, by the pair of (size, root).
    split_pairs: HashSet<((u64, Hash), (u64, Hash))>,
    loaded: Loaded,
    /// The last checkpoint fully verified, kept when the checker is reset.
    verified_cp: Option<(String, OpenedCheckpoint)>,
    /// Seconds spent in the full check of entries.
    check_seconds: f64,
    /// Watch mode: findings about a missing quorum, per source, reported
    /// when the next round still sees it (or at the end).
    watching: bool,
    pending_quorum: BTreeMap<usize, Finding>,
    observers: Option<ObserverReport>,
    paper: Option<PaperReport>,
    completeness: Completeness,
    results: Option<tallyboard_results::Results>,
    notes: Vec<String>,
    /// Sizes of the checkpoints signed by the log key seen so far: the
    /// older partial tiles and bundles kept for them are checked.
    known_sizes: BTreeSet<u64>,
    /// (source, size) whose older partial tiles and bundles were checked.
    older_checked: HashSet<(usize, u64)>,
    /// Whether the checkpoint of the tree checked in full carries the
    /// witness quorum.
    witnessed: bool,
    /// Every source's signed totals of the last round: (source, size
    /// bound to, SHA-256 of the bytes).
    last_totals: Vec<(usize, u64, Hash)>,
    /// Units reporting, due time, provisional or final.
    status: ResultsStatus,
    /// The live feed: its state and the events of the round.
    feed: Option<feed::FeedState>,
}

/// Runs the verifier once (every check) over the sources of `config` and
/// returns the report.
///
/// Asynchronous: fetches run on the caller's tokio runtime, which must be
/// the multi-threaded one (the full check verifies signatures on
/// `config.threads` threads of its own while the fetches that feed them
/// proceed; on another runtime, or outside one, the report is
/// could-not-verify and says why).
pub async fn verify(config: &Config) -> Report {
    match sources_of(config) {
        Ok(sources) => verify_sources(config, sources).await,
        Err(why) => Report::could_not_verify(why),
    }
}

/// [`verify`] over sources the caller made (any [`crate::source::Fetch`]);
/// `config.sources` is not read.
pub async fn verify_sources(config: &Config, sources: Vec<Source>) -> Report {
    let (sources, manifest, findings, per_source) = match setup(config, sources).await {
        Ok(s) => s,
        Err(why) => return Report::could_not_verify(why),
    };
    let mut run = match Run::new(config, sources, &manifest, findings, per_source) {
        Ok(r) => r,
        Err(why) => return Report::could_not_verify(why),
    };
    run.round().await;
    run.final_checks().await;
    run.into_report()
}

/// Watch mode: polls the sources, checks each new checkpoint incrementally,
/// and calls `on_new` with the findings as they appear. Returns the final
/// report when stopped or when the tree reaches `until_size`. The runtime
/// requirement is that of [`verify`].
pub async fn watch(
    config: &Config,
    w: &WatchConfig,
    mut on_new: impl FnMut(&[Finding], u64),
) -> Report {
    watch_rounds(config, w, |r| on_new(r.new_findings, r.size)).await
}

/// What one round of watch mode saw.
pub struct Round<'a> {
    /// The size of the tree verified.
    pub size: u64,
    /// The findings first seen this round.
    pub new_findings: &'a [Finding],
    /// The report as it stands after the round (what `--json` writes).
    pub report: &'a Report,
    /// The live feed's lines of the round, in order (the units reported
    /// and corrections only with `config.feed`).
    pub feed: &'a [crate::feed::FeedLine],
}

/// [`watch`], calling `on_round` after every round with the report as it
/// stands and, with `config.feed`, the live feed's lines of the round
/// (spec/feed.md).
pub async fn watch_rounds(
    config: &Config,
    w: &WatchConfig,
    mut on_round: impl FnMut(&Round<'_>),
) -> Report {
    let sources = match sources_of(config) {
        Ok(s) => s,
        Err(why) => return Report::could_not_verify(why),
    };
    let (sources, manifest, findings, per_source) = match setup(config, sources).await {
        Ok(s) => s,
        Err(why) => return Report::could_not_verify(why),
    };
    let mut run = match Run::new(config, sources, &manifest, findings, per_source) {
        Ok(r) => r,
        Err(why) => return Report::could_not_verify(why),
    };
    run.watching = true;
    let mut printed = 0usize;
    loop {
        // A quorum still missing a round later is a finding.
        let earlier = run.pending_quorum.clone();
        run.round().await;
        for (i, f) in earlier {
            if run.pending_quorum.contains_key(&i) {
                run.add(f);
            }
        }
        run.check_certification().await;
        run.completeness_data();
        let lines = run.feed_round(printed);
        let snapshot = run.report();
        on_round(&Round {
            size: run.trusted.size(),
            new_findings: &run.ledger.findings[printed..],
            report: &snapshot,
            feed: &lines,
        });
        printed = run.ledger.findings.len();
        if w.until_size.is_some_and(|n| run.trusted.size() >= n) || w.stop.load(Ordering::SeqCst) {
            break;
        }
        // Sleep in small steps so that a stop request is seen soon.
        let mut left = w.interval;
        while !left.is_zero() && !w.stop.load(Ordering::SeqCst) {
            let step = left.min(Duration::from_millis(100));
            tokio::time::sleep(step).await;
            left -= step;
        }
        if w.stop.load(Ordering::SeqCst) {
            break;
        }
    }
    if !run.pending_quorum.is_empty() && !w.stop.load(Ordering::SeqCst) {
        // Give late cosignatures one more interval before reporting.
        tokio::time::sleep(w.interval).await;
        let _ = run.fetch_checkpoints().await;
    }
    run.final_checks().await;
    run.into_report()
}

/// The sources named by `config.sources`, on one shared HTTP client, once
/// the runtime is known to suit the full check.
fn sources_of(config: &Config) -> Result<Vec<Source>, String> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {}
        _ => {
            return Err(
                "the verifier must run on tokio's multi-threaded runtime (its signature checks run on threads of their own beside the fetches)".to_owned(),
            );
        }
    }
    if config.sources.is_empty() {
        return Err(
            "no source given: name the server, a mirror or a local copy with --source".to_owned(),
        );
    }
    let client = http_client(&config.http).map_err(|e| e.to_string())?;
    config
        .sources
        .iter()
        .map(|s| Source::parse(s, &client))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> bool {
    std::fs::create_dir_all(dir).is_ok()
        && tallyboard_fs::replace(&dir.join(name), bytes, tallyboard_fs::Access::Shared).is_ok()
}

impl<'m> Run<'m> {
    fn new(
        config: &'m Config,
        sources: Vec<Source>,
        manifest: &'m SignedManifest,
        manifest_findings: Vec<Finding>,
        manifest_reports: Vec<Option<String>>,
    ) -> Result<Run<'m>, String> {
        let mut keys = keys_of(manifest.manifest())?;
        let mut notes = Vec::new();
        if let Some(q) = config.quorum
            && q != keys.quorum
        {
            notes.push(format!(
                "checkpoints were required to carry {q} witness cosignatures instead of the manifest's quorum of {}",
                keys.quorum
            ));
            keys.quorum = q;
        }
        let loaded = backup::load(&config.backups, manifest.manifest())
            .map_err(|e| format!("a backup-channel input cannot be read: {e}"))?;
        let mut checker = EntryChecker::new(manifest.manifest());
        for t in loaded.tallies.iter().filter_map(|b| b.tally.as_ref().ok()) {
            checker.watch(&t.tally().unit, &t.tally().contest);
        }
        for r in loaded.observers.iter().flatten() {
            checker.watch(&r.unit, &r.contest);
        }
        for t in loaded.paper.iter().filter_map(|s| s.tally.as_ref().ok()) {
            checker.watch(&t.tally().unit, &t.tally().contest);
        }
        for u in &config.detail_units {
            checker.detail(u);
        }
        if let Some(p) = &config.progress {
            let p = Arc::clone(p);
            let progress: Progress = Arc::new(move |n| p(n, 0));
            checker.set_progress(progress);
        }
        let reports = sources
            .iter()
            .map(|s| SourceReport {
                source: s.label().to_owned(),
                ..SourceReport::default()
            })
            .collect();
        let mut run = Run {
            config,
            source_state: vec![Trusted::empty(); sources.len()],
            sources,
            manifest,
            keys,
            checker,
            trusted: Trusted::empty(),
            checked_from: None,
            reports,
            ledger: Ledger::default(),
            entry_evidence: 0,
            split_pairs: HashSet::new(),
            loaded,
            verified_cp: None,
            check_seconds: 0.0,
            watching: false,
            pending_quorum: BTreeMap::new(),
            observers: None,
            paper: None,
            completeness: Completeness::default(),
            results: None,
            notes,
            known_sizes: BTreeSet::new(),
            older_checked: HashSet::new(),
            witnessed: false,
            last_totals: Vec::new(),
            status: ResultsStatus::default(),
            feed: Some(feed::FeedState::default()),
        };
        if config.feed {
            run.checker.keep_journal();
        }
        for f in manifest_findings {
            run.ledger.add(f);
        }
        for (i, m) in manifest_reports.into_iter().enumerate() {
            run.reports[i].manifest = m;
        }
        Ok(run)
    }

    fn label(&self, i: usize) -> &str {
        self.sources[i].label()
    }

    fn add(&mut self, f: Finding) -> bool {
        self.ledger.add(f)
    }

    /// No checkpoint met the quorum, and the tree checked is one the log
    /// signed alone: a finding of its own (spec/verify.md §4.3).
    fn report_not_witnessed(&mut self) {
        let Some((label, cp)) = self.trusted.checkpoint.clone() else {
            return;
        };
        let f = Finding::new(
            FindingCode::NotWitnessed,
            format!(
                "No source serves a checkpoint with the witness quorum ({} of the manifest's witnesses): the tree checked (size {}, from {label}) is signed by the log alone. Its data was checked, but nothing shows that the witnesses saw this tree, so a different history shown to others would go unnoticed.",
                self.keys.quorum, cp.checkpoint.size
            ),
        );
        self.add(f);
    }

    fn write_evidence(&self, ev: &Evidence) -> Option<String> {
        let dir = self.config.evidence_dir.as_ref()?;
        ev.write_to_dir(dir).ok()
    }

    /// One round: checkpoints, split views, the data of every source, the
    /// full check of the newest tree, the totals.
    async fn round(&mut self) {
        let seen = self.fetch_checkpoints().await;
        let split = self.check_pairs(&seen).await;
        // Signed totals, fetched before the full check so that the
        // recomputed totals can be kept at the size each is bound to.
        let totals = self.fetch_totals().await;
        self.last_totals = totals
            .iter()
            .flatten()
            .map(|(i, t)| (*i, t.totals().checkpoint.size, Hash::sha256(t.as_bytes())))
            .collect();
        for (_, t) in totals.iter().flatten() {
            self.checker.snapshot_at(t.totals().checkpoint.size);
        }
        // The target: the largest checkpoint meeting the quorum, not in a
        // split view, at least the trusted size. Without any checkpoint
        // meeting the quorum, the log-signed ones are still checked in
        // full, and the tree checked is reported as not witnessed
        // (spec/verify.md §4.3).
        let any_quorum = seen.iter().any(|s| s.quorum_ok);
        let mut candidates: Vec<&Seen> = seen
            .iter()
            .filter(|s| {
                (s.quorum_ok || !any_quorum)
                    && !split.contains(&(s.cp.checkpoint.size, s.cp.checkpoint.root))
            })
            .filter(|s| s.cp.checkpoint.size >= self.trusted.size())
            .collect();
        candidates.sort_by_key(|s| std::cmp::Reverse(s.cp.checkpoint.size));
        let target = candidates
            .first()
            .map(|s| (s.cp.checkpoint.size, s.cp.checkpoint.root));
        let mut full_done = false;
        let mut failed: HashSet<usize> = HashSet::new();
        if let Some(t) = target {
            let group: Vec<Seen> = candidates
                .iter()
                .filter(|s| (s.cp.checkpoint.size, s.cp.checkpoint.root) == t)
                .map(|s| (*s).clone())
                .collect();
            for s in &group {
                if self.full_check(s).await {
                    self.witnessed = s.quorum_ok;
                    full_done = true;
                    break;
                }
                failed.insert(s.source);
            }
        }
        // Every other source's data, hashes only (a source whose data just
        // failed the full check is already named).
        for s in &seen {
            if Some(s.source) == self.checked_from
                && self.trusted.size() == s.cp.checkpoint.size
                && full_done
            {
                // Followed in full just now (its tiles too): its state
                // and report are set.
                continue;
            }
            if failed.contains(&s.source)
                || split.contains(&(s.cp.checkpoint.size, s.cp.checkpoint.root))
            {
                continue;
            }
            self.hash_check(s).await;
        }
        self.compare_totals(&totals).await;
    }

    /// Staleness, backup channels, completeness.
    async fn final_checks(&mut self) {
        for (_, f) in std::mem::take(&mut self.pending_quorum) {
            self.add(f);
        }
        let top = self.trusted.size();
        let top_label = self
            .checked_from
            .map(|i| self.label(i).to_owned())
            .unwrap_or_default();
        for i in 0..self.sources.len() {
            if let Some(size) = self.reports[i].size
                && size < top
                && self.reports[i].data_verified
            {
                let label = self.label(i).to_owned();
                let f = Finding::new(FindingCode::SourceStale, format!(
                        "{label} serves a checkpoint of size {size}, {} entries behind the size {top} that {top_label} serves.",
                        top - size
                    ))
                .source(&label);
                self.add(f);
            }
        }
        if self.checked_from.is_none() {
            return;
        }
        if !self.witnessed {
            self.report_not_witnessed();
        }
        self.check_backup_tallies().await;
        self.check_observers().await;
        self.check_paper().await;
        self.check_receipts().await;
        self.check_certification().await;
        self.completeness();
        self.results();
    }

    fn into_report(self) -> Report {
        self.report()
    }

    /// The report as it stands.
    fn report(&self) -> Report {
        let (size, root) = (self.trusted.size(), self.trusted.root());
        let mut findings = self.ledger.findings.clone();
        self.link_causes(&mut findings);
        let mut report = Report {
            verdict: Verdict::Findings,
            findings,
            findings_not_listed: self.ledger.not_listed.clone(),
            sources: self.reports.clone(),
            log: LogReport {
                origin: self.keys.log.name().to_owned(),
                size,
                root: root.to_hex(),
                entries_checked: self.checker.checked(),
                check_seconds: self.check_seconds,
                checked_from: self
                    .checked_from
                    .map(|i| self.sources[i].label().to_owned()),
                witnessed: self.checked_from.is_some() && self.witnessed,
            },
            completeness: self.completeness.clone(),
            status: self.status.clone(),
            results: self.results.clone(),
            details: ReportDetails::default(),
            observers: self.observers.clone(),
            paper: self.paper.clone(),
            notes: self.notes.clone(),
            could_not_verify: None,
        };
        if report.results.is_some() {
            report.details = ReportDetails {
                units: if self.config.unit_rows {
                    self.checker.unit_rows()
                } else {
                    Vec::new()
                },
                revisions: self
                    .checker
                    .history()
                    .iter()
                    .map(UnitRevision::of)
                    .collect(),
                checkpoint_note: self
                    .trusted
                    .checkpoint
                    .as_ref()
                    .map(|(_, cp)| String::from_utf8_lossy(&cp.note).into_owned())
                    .unwrap_or_default(),
                as_of: self.checker.as_of(),
                manifest: self
                    .config
                    .keep_manifest
                    .then(|| Arc::new(self.manifest.manifest().clone())),
            };
        }
        if self.checked_from.is_none() {
            let reachable = report.sources.iter().any(|s| s.reachable);
            let lied = report
                .findings
                .iter()
                .any(|f| f.severity == Severity::Critical);
            if !lied {
                report.verdict = Verdict::CouldNotVerify;
                report.could_not_verify = Some(if reachable {
                    "no source served a checkpoint and data that could be verified".to_owned()
                } else {
                    "no source could be reached".to_owned()
                });
            }
        }
        report.finish();
        report
    }
}
