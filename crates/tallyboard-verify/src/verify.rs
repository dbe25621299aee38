//! The whole verification (spec/verify.md §4): trust roots, sources,
//! checkpoints and split views, the full check of the log, totals, backup
//! channels, completeness, and watch mode.

use std::collections::{BTreeMap, HashMap, HashSet};
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
    Completeness, CompletenessRow, Finding, LogReport, ObserverReport, Report, Severity,
    SourceReport, Verdict,
};
use crate::source::{FetchError, HttpOptions, Source, TileCache, http_client};

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
    rt: tokio::runtime::Runtime,
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
    completeness: Completeness,
    notes: Vec<String>,
}

/// Runs the verifier once (every check) and returns the report.
pub fn verify(config: &Config) -> Report {
    with_run(config, |mut run| {
        run.round();
        run.final_checks();
        run.into_report()
    })
}

/// Watch mode: polls the sources, checks each new checkpoint incrementally,
/// and calls `on_new` with the findings as they appear. Returns the final
/// report when stopped or when the tree reaches `until_size`.
pub fn watch(config: &Config, w: &WatchConfig, mut on_new: impl FnMut(&[Finding], u64)) -> Report {
    with_run(config, |mut run| {
        run.watching = true;
        let mut printed = 0usize;
        loop {
            // A quorum still missing a round later is a finding.
            let earlier = run.pending_quorum.clone();
            run.round();
            for (i, f) in earlier {
                if run.pending_quorum.contains_key(&i) {
                    run.add(f);
                }
            }
            let new = &run.ledger.findings[printed..];
            on_new(new, run.trusted.size());
            printed = run.ledger.findings.len();
            if w.until_size.is_some_and(|n| run.trusted.size() >= n)
                || w.stop.load(Ordering::SeqCst)
            {
                break;
            }
            // Sleep in small steps so that a stop request is seen soon.
            let mut left = w.interval;
            while !left.is_zero() && !w.stop.load(Ordering::SeqCst) {
                let step = left.min(Duration::from_millis(100));
                std::thread::sleep(step);
                left -= step;
            }
            if w.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        if !run.pending_quorum.is_empty() && !w.stop.load(Ordering::SeqCst) {
            // Give late cosignatures one more interval before reporting.
            std::thread::sleep(w.interval);
            let _ = run.fetch_checkpoints();
        }
        run.final_checks();
        run.into_report()
    })
}

/// Sets up the sources and the trusted manifest, then runs `body`; a setup
/// failure is a could-not-verify report.
fn with_run(config: &Config, body: impl FnOnce(Run<'_>) -> Report) -> Report {
    let (rt, sources, manifest, manifest_findings, manifest_reports) = match setup(config) {
        Ok(s) => s,
        Err(why) => return Report::could_not_verify(why),
    };
    let mut run = match Run::new(config, rt, sources, &manifest) {
        Ok(r) => r,
        Err(why) => return Report::could_not_verify(why),
    };
    for f in manifest_findings {
        run.ledger.add(f);
    }
    for (i, m) in manifest_reports.into_iter().enumerate() {
        run.reports[i].manifest = m;
    }
    body(run)
}

type Setup = (
    tokio::runtime::Runtime,
    Vec<Source>,
    SignedManifest,
    Vec<Finding>,
    Vec<Option<String>>,
);

/// Sources and the trusted manifest.
fn setup(config: &Config) -> Result<Setup, String> {
    if config.sources.is_empty() {
        return Err(
            "no source given: name the server, a mirror or a local copy with --source".to_owned(),
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start: {e}"))?;
    let client = http_client(&config.http).map_err(|e| e.to_string())?;
    let sources = config
        .sources
        .iter()
        .map(|s| Source::parse(s, &client))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut findings = Vec::new();
    let mut trusted: Option<SignedManifest> = None;
    if let Some(bytes) = &config.manifest {
        let m = SignedManifest::from_bytes(bytes, Some(&config.authority)).map_err(|e| {
            format!(
                "the manifest file is not a manifest signed by the authority key given ({e}); check that you have the election authority's published key and manifest"
            )
        })?;
        trusted = Some(m);
    }
    let fetched = rt.block_on(join_all(sources.iter().map(|s| s.manifest())));
    let mut per_source = vec![None; sources.len()];
    // A manifest from the sources is trusted only if it is signed by the
    // authority; the first one that is becomes the reference.
    for (i, r) in fetched.iter().enumerate() {
        let label = sources[i].label();
        match r {
            Err(FetchError::NotFound { .. }) => per_source[i] = Some("not served".to_owned()),
            Err(e) => per_source[i] = Some(format!("not fetched: {e}")),
            Ok(bytes) => match SignedManifest::from_bytes(bytes, Some(&config.authority)) {
                Err(e) => {
                    per_source[i] = Some("invalid".to_owned());
                    findings.push(
                        Finding::new(FindingCode::ManifestMismatch, format!(
                                "{label} serves a manifest that is not signed by the election authority's key ({e})."
                            ))
                        .source(label),
                    );
                }
                Ok(m) => match &trusted {
                    None => {
                        per_source[i] = Some("trusted".to_owned());
                        trusted = Some(m);
                    }
                    Some(t) if t.hash() == m.hash() => per_source[i] = Some("same".to_owned()),
                    Some(t) => {
                        per_source[i] = Some("different".to_owned());
                        let mut f = Finding::new(FindingCode::ManifestMismatch, format!(
                                "{label} serves a different manifest (SHA-256 {}) than the one trusted (SHA-256 {}), both signed by the authority: the authority signed two election definitions.",
                                m.hash(),
                                t.hash()
                            ))
                        .source(label);
                        if let Some(dir) = &config.evidence_dir {
                            for (name, bytes) in [
                                (
                                    format!(
                                        "manifest-mismatch-{}.manifest",
                                        &m.hash().to_hex()[..12]
                                    ),
                                    m.as_bytes(),
                                ),
                                (
                                    format!(
                                        "manifest-mismatch-{}.manifest",
                                        &t.hash().to_hex()[..12]
                                    ),
                                    t.as_bytes(),
                                ),
                            ] {
                                if write_file(dir, &name, bytes) {
                                    f.evidence.push(name);
                                }
                            }
                        }
                        findings.push(f);
                    }
                },
            },
        }
    }
    let Some(manifest) = trusted else {
        let errors: Vec<String> = fetched
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        if errors.len() == sources.len()
            && fetched
                .iter()
                .all(|r| matches!(r, Err(e) if e.is_unreachable()))
        {
            return Err(format!(
                "no source could be reached ({})",
                errors.join("; ")
            ));
        }
        return Err(
            "no manifest signed by the authority key: give it with --manifest FILE, or check the sources and the key".to_owned(),
        );
    };
    Ok((rt, sources, manifest, findings, per_source))
}

fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, dir.join(name)).is_ok()
}

impl<'m> Run<'m> {
    fn new(
        config: &'m Config,
        rt: tokio::runtime::Runtime,
        sources: Vec<Source>,
        manifest: &'m SignedManifest,
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
        Ok(Run {
            config,
            rt,
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
            completeness: Completeness::default(),
            notes,
        })
    }

    fn label(&self, i: usize) -> &str {
        self.sources[i].label()
    }

    fn add(&mut self, f: Finding) -> bool {
        self.ledger.add(f)
    }

    fn write_evidence(&self, ev: &Evidence) -> Option<String> {
        let dir = self.config.evidence_dir.as_ref()?;
        ev.write_to_dir(dir).ok()
    }

    /// Fetches and opens every source's checkpoint.
    fn fetch_checkpoints(&mut self) -> Vec<Seen> {
        let fetched = self
            .rt
            .block_on(join_all(self.sources.iter().map(|s| s.checkpoint())));
        let mut seen = Vec::new();
        for (i, r) in fetched.into_iter().enumerate() {
            let label = self.label(i).to_owned();
            match r {
                Err(e) => {
                    self.reports[i].reachable = false;
                    let f = Finding::new(
                        FindingCode::SourceUnreachable,
                        format!("{label} could not be read: {e}."),
                    )
                    .source(&label);
                    self.add(f);
                }
                Ok(bytes) => {
                    self.reports[i].reachable = true;
                    let (k, w, q) = (&self.keys.log, &self.keys.witnesses, self.keys.quorum);
                    match open_checkpoint(&bytes, k, w, q) {
                        Ok(cp) => {
                            self.pending_quorum.remove(&i);
                            self.reports[i].size = Some(cp.checkpoint.size);
                            self.reports[i].root = Some(cp.checkpoint.root.to_hex());
                            self.reports[i].cosigned_by =
                                cp.cosignatures.iter().map(|c| c.name.clone()).collect();
                            seen.push(Seen {
                                source: i,
                                cp,
                                quorum_ok: true,
                            });
                        }
                        Err(CheckpointError::QuorumNotMet { have, need }) => {
                            // Signed by the log: still used for split views.
                            if let Ok(cp) = open_checkpoint(&bytes, k, w, 0) {
                                self.reports[i].size = Some(cp.checkpoint.size);
                                self.reports[i].root = Some(cp.checkpoint.root.to_hex());
                                self.reports[i].cosigned_by =
                                    cp.cosignatures.iter().map(|c| c.name.clone()).collect();
                                let f = Finding::new(FindingCode::QuorumNotMet, format!(
                                        "The checkpoint {label} serves (size {}) is cosigned by {have} of the witnesses, the manifest requires {need}.",
                                        cp.checkpoint.size
                                    ))
                                .source(&label);
                                if self.watching {
                                    // Cosignatures may still be arriving:
                                    // reported only if it persists.
                                    self.pending_quorum.insert(i, f);
                                } else {
                                    self.add(f);
                                }
                                seen.push(Seen {
                                    source: i,
                                    cp,
                                    quorum_ok: false,
                                });
                            }
                        }
                        Err(e) => {
                            let f = Finding::new(FindingCode::CheckpointSignature, format!(
                                    "{label} serves a checkpoint that is not validly signed by the log key {} ({e}).",
                                    self.keys.log.name()
                                ))
                            .source(&label);
                            self.add(f);
                        }
                    }
                }
            }
        }
        seen
    }

    fn report_split_view(
        &mut self,
        ev: &Evidence,
        a: &str,
        b: &str,
        sizes: ((u64, Hash), (u64, Hash)),
    ) {
        let key = if sizes.0 <= sizes.1 {
            sizes
        } else {
            (sizes.1, sizes.0)
        };
        if !self.split_pairs.insert(key) {
            return;
        }
        let mut f = Finding::new(FindingCode::SplitView, format!(
                "SPLIT VIEW: {a} and {b} show two versions of the log, both signed by the log key. {}",
                ev.summary
            ))
        .source(b);
        if let Some(name) = self.write_evidence(ev) {
            f.evidence.push(name);
        }
        self.add(f);
    }

    /// Pairwise consistency of the checkpoints seen (and the trusted one).
    /// Returns the (size, root) pairs that are in a split view.
    fn check_pairs(&mut self, seen: &[Seen]) -> HashSet<(u64, Hash)> {
        let mut groups: BTreeMap<(u64, Hash), Vec<usize>> = BTreeMap::new();
        for (k, s) in seen.iter().enumerate() {
            groups
                .entry((s.cp.checkpoint.size, s.cp.checkpoint.root))
                .or_default()
                .push(k);
        }
        let keys: Vec<(u64, Hash)> = groups.keys().copied().collect();
        let mut bad = HashSet::new();
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                pairs.push((i, j));
            }
        }
        for (i, j) in pairs {
            let (a, b) = (keys[i], keys[j]);
            let sa = &seen[groups[&a][0]];
            // The larger (or equal) tree is b (BTreeMap order is by size).
            let larger = &seen[groups[&b][0]];
            let la = self.label(sa.source).to_owned();
            let lb = self.label(larger.source).to_owned();
            let src = self.sources[larger.source].clone();
            let r = self.rt.block_on(check_consistency(
                &self.keys.log,
                (&la, &sa.cp),
                &src,
                &larger.cp,
            ));
            match r {
                Ok(Consistency::Consistent) => {}
                Ok(Consistency::SplitView(ev)) => {
                    bad.insert(a);
                    bad.insert(b);
                    self.report_split_view(&ev, &la, &lb, (a, b));
                }
                Err(e) => {
                    let f = Finding::new(FindingCode::SourceBadData, format!(
                            "{lb} could not prove that its checkpoint of size {} extends the checkpoint of size {} served by {la}: {e}.",
                            b.0, a.0
                        ))
                    .source(&lb);
                    self.add(f);
                }
            }
        }
        // The tree verified in earlier rounds against every newer checkpoint.
        if let Some((tl, tcp)) = self
            .trusted
            .checkpoint
            .clone()
            .or_else(|| self.verified_cp.clone())
        {
            for s in seen {
                let c = &s.cp.checkpoint;
                if c.size < tcp.checkpoint.size {
                    continue;
                }
                let src = self.sources[s.source].clone();
                let r =
                    self.rt
                        .block_on(check_consistency(&self.keys.log, (&tl, &tcp), &src, &s.cp));
                if let Ok(Consistency::SplitView(ev)) = r {
                    bad.insert((c.size, c.root));
                    let lb = src.label().to_owned();
                    self.report_split_view(
                        &ev,
                        &tl,
                        &lb,
                        ((tcp.checkpoint.size, tcp.checkpoint.root), (c.size, c.root)),
                    );
                }
            }
        }
        bad
    }

    /// One round: checkpoints, split views, the data of every source, the
    /// full check of the newest tree, the totals.
    fn round(&mut self) {
        let seen = self.fetch_checkpoints();
        let split = self.check_pairs(&seen);
        // Signed totals, fetched before the full check so that the
        // recomputed totals can be kept at the size each is bound to.
        let totals = self.fetch_totals();
        for (_, t) in totals.iter().flatten() {
            self.checker.snapshot_at(t.totals().checkpoint.size);
        }
        // The target: the largest checkpoint meeting the quorum, not in a
        // split view, at least the trusted size.
        // Without any checkpoint meeting the quorum (reported above), the
        // log-signed ones are still checked in full.
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
                if self.full_check(s) {
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
                self.source_state[s.source] = self.trusted.clone();
                self.reports[s.source].data_verified = true;
                continue;
            }
            if failed.contains(&s.source)
                || split.contains(&(s.cp.checkpoint.size, s.cp.checkpoint.root))
            {
                continue;
            }
            self.hash_check(s);
        }
        self.compare_totals(&totals);
    }

    /// Follows `s` from the trusted tree with every entry checked. False if
    /// the source's data is bad (then the checker is reset, so that another
    /// source can be tried from the start).
    fn full_check(&mut self, s: &Seen) -> bool {
        let source = self.sources[s.source].clone();
        let key = self.keys.log.clone();
        let trusted = self.trusted.clone();
        let opts = FollowOptions {
            concurrency: self.config.concurrency,
        };
        let total = s.cp.checkpoint.size;
        if let Some(p) = &self.config.progress {
            p(self.checker.checked(), total);
        }
        let rt = &self.rt;
        let started = std::time::Instant::now();
        let r = run_pipeline(&mut self.checker, self.config.threads, |sender| {
            rt.block_on(follow(
                &source,
                &key,
                &trusted,
                &s.cp,
                &opts,
                |item| match item {
                    Item::Entry { index, bytes } => sender.push(index, bytes),
                    _ => Ok(()),
                },
            ))
        });
        if let Some(p) = &self.config.progress {
            p(self.checker.checked(), total);
        }
        self.check_seconds += started.elapsed().as_secs_f64();
        match r {
            Ok(builder) => {
                self.trusted = Trusted {
                    builder,
                    checkpoint: Some((source.label().to_owned(), s.cp.clone())),
                };
                self.checked_from = Some(s.source);
                self.source_state[s.source] = self.trusted.clone();
                self.reports[s.source].data_verified = true;
                self.collect_entry_findings(s.source);
                true
            }
            Err(e) => {
                self.follow_failed(s.source, e);
                // Entries of a source whose data is bad prove nothing about
                // the log: start again from the empty tree (another source
                // of this round, or the next round), keeping the checkpoint
                // verified before for the split-view checks.
                let mut fresh = EntryChecker::new(self.manifest.manifest());
                if let Some(p) = &self.config.progress {
                    let p = Arc::clone(p);
                    fresh.set_progress(Arc::new(move |n| p(n, 0)));
                }
                for (u, c) in self.watched_pairs() {
                    fresh.watch(&u, &c);
                }
                self.checker = fresh;
                if self.trusted.checkpoint.is_some() {
                    self.verified_cp = self.trusted.checkpoint.clone();
                }
                self.trusted = Trusted::empty();
                self.checked_from = None;
                false
            }
        }
    }

    fn watched_pairs(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .loaded
            .tallies
            .iter()
            .filter_map(|b| b.tally.as_ref().ok())
            .map(|t| (t.tally().unit.clone(), t.tally().contest.clone()))
            .collect();
        v.extend(
            self.loaded
                .observers
                .iter()
                .flatten()
                .map(|r| (r.unit.clone(), r.contest.clone())),
        );
        v
    }

    fn hash_check(&mut self, s: &Seen) {
        let state = self.source_state[s.source].clone();
        if s.cp.checkpoint.size < state.size() {
            return;
        }
        let source = self.sources[s.source].clone();
        let opts = FollowOptions {
            concurrency: self.config.concurrency,
        };
        let r = self.rt.block_on(follow(
            &source,
            &self.keys.log,
            &state,
            &s.cp,
            &opts,
            |_| Ok::<(), std::convert::Infallible>(()),
        ));
        match r {
            Ok(builder) => {
                self.source_state[s.source] = Trusted {
                    builder,
                    checkpoint: Some((source.label().to_owned(), s.cp.clone())),
                };
                self.reports[s.source].data_verified = true;
            }
            Err(e) => self.follow_failed(s.source, e),
        }
    }

    fn follow_failed<E: std::error::Error + 'static>(&mut self, i: usize, e: FollowError<E>) {
        let label = self.label(i).to_owned();
        self.reports[i].data_verified = false;
        match e {
            FollowError::Fetch { error, .. } => {
                let code = if error.is_unreachable() {
                    FindingCode::SourceUnreachable
                } else {
                    FindingCode::SourceBadData
                };
                let f = Finding::new(
                    code,
                    format!("{label} did not serve the log's data: {error}."),
                )
                .source(&label);
                self.add(f);
            }
            FollowError::SplitView(ev) => {
                let a = match &ev.body {
                    crate::evidence::EvidenceBody::SplitView(sv) => sv.first.source.clone(),
                    _ => String::new(),
                };
                self.report_split_view(
                    &ev,
                    &a,
                    &label,
                    ((0, Hash::EMPTY_TREE), (0, Hash::EMPTY_TREE)),
                );
            }
            FollowError::BadData(ev) => {
                let mut f =
                    Finding::new(FindingCode::SourceBadData, ev.summary.clone()).source(&label);
                if let Some(name) = self.write_evidence(&ev) {
                    f.evidence.push(name);
                }
                self.add(f);
            }
            other => {
                let f =
                    Finding::new(FindingCode::SourceBadData, format!("{other}.")).source(&label);
                self.add(f);
            }
        }
    }

    /// Log-entry evidence for entry `index` (inclusion proof read from the
    /// checked source's tiles).
    fn entry_evidence(&mut self, index: u64, bytes: &[u8], summary: &str) -> Option<String> {
        self.config.evidence_dir.as_ref()?;
        if self.entry_evidence >= MAX_ENTRY_EVIDENCE {
            return None;
        }
        let (label, cp) = self.trusted.checkpoint.clone()?;
        let src = self.sources[self.checked_from?].clone();
        let mut cache = TileCache::new();
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        let proof = self
            .rt
            .block_on(src.read_tiles(&mut cache, n, root, |r| prove_inclusion(n, index, r)))
            .ok()?;
        let ev = Evidence::log_entry(
            &self.keys.log,
            &label,
            &cp,
            index,
            bytes,
            &proof,
            summary.to_owned(),
        );
        self.entry_evidence += 1;
        self.write_evidence(&ev)
    }

    fn collect_entry_findings(&mut self, _source: usize) {
        let (found, not_listed) = self.checker.take_findings();
        for (code, n) in not_listed {
            *self.ledger.not_listed.entry(code).or_insert(0) += n;
        }
        for EntryFinding { mut finding, entry } in found {
            if let Some((index, bytes)) = entry
                && let Some(name) = self.entry_evidence(index, &bytes, &finding.message)
            {
                finding.evidence.push(name);
            }
            self.add(finding);
        }
    }

    /// Every source's `/totals`, parsed and signature-checked.
    fn fetch_totals(&mut self) -> Vec<Option<(usize, SignedTotals)>> {
        let fetched = self
            .rt
            .block_on(join_all(self.sources.iter().map(|s| s.totals())));
        let mut out = Vec::new();
        for (i, r) in fetched.into_iter().enumerate() {
            let label = self.label(i).to_owned();
            match r {
                Err(FetchError::NotFound { .. }) => {
                    self.reports[i].totals = Some("not served".to_owned());
                    out.push(None);
                }
                Err(_) => out.push(None),
                Ok(bytes) => {
                    match SignedTotals::from_bytes(&bytes, &self.keys.log.public_key().clone()) {
                        Ok(t) => out.push(Some((i, t))),
                        Err(e) => {
                            self.reports[i].totals = Some("invalid".to_owned());
                            let f = Finding::new(FindingCode::TotalsSignature, format!("The totals {label} publishes are not valid totals signed by the log key ({e})."))
                        .source(&label);
                            self.add(f);
                            out.push(None);
                        }
                    }
                }
            }
        }
        out
    }

    /// The root of the checked tree at `size` (≤ its size), read from the
    /// checked source's tiles.
    fn root_at(&mut self, size: u64) -> Option<Hash> {
        let (_, cp) = self.trusted.checkpoint.clone()?;
        if size == cp.checkpoint.size {
            return Some(cp.checkpoint.root);
        }
        if size > cp.checkpoint.size {
            return None;
        }
        let src = self.sources[self.checked_from?].clone();
        let mut cache = TileCache::new();
        self.rt
            .block_on(crate::follow::implied_root(&src, &mut cache, &cp, size))
            .ok()
            .map(|(r, _)| r)
    }

    fn compare_totals(&mut self, totals: &[Option<(usize, SignedTotals)>]) {
        let origin = self.keys.log.name().to_owned();
        if self.checked_from.is_none() {
            if totals.iter().any(Option::is_some) {
                self.notes.push(
                    "the published totals were not compared: no tree of the log could be verified"
                        .to_owned(),
                );
            }
            return;
        }
        for (i, st) in totals.iter().flatten() {
            let i = *i;
            let label = self.label(i).to_owned();
            let body = st.totals();
            let cpref = &body.checkpoint;
            let save = |run: &Run<'_>, f: &mut Finding| {
                if let Some(dir) = &run.config.evidence_dir {
                    let name = format!(
                        "{}-{}.totals",
                        f.code,
                        &Hash::sha256(st.as_bytes()).to_hex()[..12]
                    );
                    if write_file(dir, &name, st.as_bytes()) {
                        f.evidence.push(name);
                    }
                }
            };
            if cpref.origin == origin && cpref.size > self.trusted.size() {
                // The log grew between the checkpoint and the totals being
                // read: compare them in a later round (or run again).
                self.reports[i].totals = Some(format!(
                    "not compared (bound to size {}, newer than the tree verified)",
                    cpref.size
                ));
                continue;
            }
            let bound = cpref.origin == origin
                && body.election == self.manifest.manifest().election
                && self.root_at(cpref.size) == Some(cpref.root);
            if !bound {
                self.reports[i].totals = Some("unbound".to_owned());
                let mut f = Finding::new(FindingCode::TotalsUnbound, format!(
                        "The totals {label} publishes claim to be for the log {} at size {} with root {}, which is not a checkpoint of the log verified here.",
                        cpref.origin, cpref.size, cpref.root
                    ))
                .source(&label);
                save(self, &mut f);
                self.add(f);
                continue;
            }
            let Some(recomputed) = self.checker.snapshot(cpref.size).cloned() else {
                self.reports[i].totals =
                    Some("not compared (older than the trusted tree)".to_owned());
                continue;
            };
            let diffs = diff(body, &recomputed);
            if diffs.is_empty() {
                self.reports[i].totals = Some("match".to_owned());
                continue;
            }
            self.reports[i].totals = Some(format!("{} figures differ", diffs.len()));
            for d in diffs {
                let show = |v: Option<u64>| v.map(serde_json::Value::from);
                let mut f = Finding::new(
                    FindingCode::TotalsMismatch,
                    format!(
                        "The totals published by {label} (at size {}) are wrong: {d}.",
                        cpref.size
                    ),
                )
                .source(&label);
                f.contest = Some(d.contest.clone());
                f.region = d.region.clone();
                f.figure = Some(d.figure.clone());
                f.published = show(d.published);
                f.recomputed = show(d.recomputed);
                save(self, &mut f);
                self.add(f);
            }
        }
    }

    /// Staleness, backup channels, completeness.
    fn final_checks(&mut self) {
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
        self.check_backup_tallies();
        self.check_observers();
        self.check_receipts();
        self.completeness();
    }

    /// Each backup tally must be in the log as the latest revision of its
    /// unit and contest, byte for byte.
    fn check_backup_tallies(&mut self) {
        let tallies = std::mem::take(&mut self.loaded.tallies);
        for b in &tallies {
            let file = b.path.display().to_string();
            let t = match &b.tally {
                Ok(t) => t,
                Err(why) => {
                    self.notes
                        .push(format!("backup tally {file} was not compared: it {why}"));
                    continue;
                }
            };
            let (unit, contest) = (t.tally().unit.clone(), t.tally().contest.clone());
            let latest = self.checker.latest(&unit, &contest).cloned();
            let in_log = self.checker.revisions().contains(&t.leaf_hash());
            match latest {
                Some(l) if l.tally.as_bytes() == t.as_bytes() => {}
                Some(_)
                    if in_log
                        && t.tally().revision
                            < self
                                .checker
                                .revisions()
                                .latest(&unit, &contest)
                                .map_or(0, |x| x.1) =>
                {
                    self.notes.push(format!(
                        "backup tally {file} (unit {unit}, contest {contest}, revision {}) is in the log and was superseded by a later correction",
                        t.tally().revision
                    ));
                }
                Some(l) => {
                    let lt = l.tally.tally();
                    let mut f = Finding::new(FindingCode::BackupContradictsLog, format!(
                            "The count centre's signed tally {file} for unit {unit}, contest {contest} (revision {}, {} ballots cast) differs from the latest revision in the log (entry {}, revision {}, {} ballots cast).",
                            t.tally().revision, t.tally().ballots_cast, l.index, lt.revision, lt.ballots_cast
                        ))
                    .unit_contest(&unit, &contest)
                    .index(l.index);
                    f.published = Some(serde_json::Value::from(lt.ballots_cast));
                    f.recomputed = Some(serde_json::Value::from(t.tally().ballots_cast));
                    self.backup_evidence(&mut f, t.as_bytes());
                    if let Some(name) =
                        self.entry_evidence(l.index, l.tally.as_bytes(), &f.message.clone())
                    {
                        f.evidence.push(name);
                    }
                    self.add(f);
                }
                None => {
                    let mut f = Finding::new(FindingCode::BackupNotInLog, format!(
                            "The count centre's signed tally {file} for unit {unit}, contest {contest} is valid but the log has no tally for that unit and contest."
                        ))
                    .unit_contest(&unit, &contest);
                    self.backup_evidence(&mut f, t.as_bytes());
                    self.add(f);
                }
            }
        }
        self.loaded.tallies = tallies;
    }

    fn backup_evidence(&self, f: &mut Finding, bytes: &[u8]) {
        if let Some(dir) = &self.config.evidence_dir {
            let name = format!("{}-{}.tally", f.code, &Hash::sha256(bytes).to_hex()[..12]);
            if write_file(dir, &name, bytes) {
                f.evidence.push(name);
            }
        }
    }

    /// Observers' figures against the latest revision of each unit.
    fn check_observers(&mut self) {
        let Some(rows) = self.loaded.observers.take() else {
            return;
        };
        let mut matched = 0u64;
        for r in &rows {
            let latest = self.checker.latest(&r.unit, &r.contest).cloned();
            let logged = latest.as_ref().and_then(|l| {
                let t = l.tally.tally();
                match r.choice.as_str() {
                    c if t.choices.contains_key(c) => t.choices.get(c).copied(),
                    "blank" => Some(t.blank),
                    "invalid" => Some(t.invalid),
                    "ballots_cast" => Some(t.ballots_cast),
                    _ => None,
                }
            });
            if logged == Some(r.count) {
                matched += 1;
                continue;
            }
            let what = match (&latest, logged) {
                (None, _) => "the log has no tally for this unit and contest".to_owned(),
                (Some(_), None) => format!("the log's tally has no figure {:?}", r.choice),
                (Some(l), Some(v)) => format!("the log (entry {}) has {v}", l.index),
            };
            let mut f = Finding::new(
                FindingCode::ObserverMismatch,
                format!(
                    "Observers' sheet, line {}: unit {}, contest {}, {} = {}; {what}.",
                    r.line, r.unit, r.contest, r.choice, r.count
                ),
            )
            .unit_contest(&r.unit, &r.contest);
            f.figure = Some(r.choice.clone());
            f.published = logged.map(serde_json::Value::from);
            f.recomputed = Some(serde_json::Value::from(r.count));
            if let Some(l) = latest {
                f.index = Some(l.index);
                if let Some(name) =
                    self.entry_evidence(l.index, l.tally.as_bytes(), &f.message.clone())
                {
                    f.evidence.push(name);
                }
            }
            self.add(f);
        }
        let n = rows.len() as u64;
        self.observers = Some(ObserverReport {
            rows: n,
            matched,
            match_rate: if n == 0 {
                1.0
            } else {
                matched as f64 / n as f64
            },
        });
    }

    /// Each receipt's entry must be in the log at its index, under a
    /// checkpoint consistent with the one verified.
    fn check_receipts(&mut self) {
        let receipts = std::mem::take(&mut self.loaded.receipts);
        let Some((label, cp)) = self.trusted.checkpoint.clone() else {
            return;
        };
        let Some(src_i) = self.checked_from else {
            return;
        };
        let src = self.sources[src_i].clone();
        let (n, root) = (cp.checkpoint.size, cp.checkpoint.root);
        for h in &receipts {
            let file = h.path.display().to_string();
            let invalid = |why: String| {
                Finding::new(
                    FindingCode::ReceiptInvalid,
                    format!("The receipt {file} does not verify: {why}."),
                )
            };
            let r = match &h.receipt {
                Ok(r) => r,
                Err(why) => {
                    self.add(invalid(why.clone()));
                    continue;
                }
            };
            // The entry: the tally beside the receipt, else the log's own.
            let entry = match &h.entry {
                Some(e) => Some(e.clone()),
                None if r.index < n => {
                    let bundle = tallyboard_core::tile::BundleId::in_tree(r.index / 256, n);
                    bundle.and_then(|b| {
                        let bytes = self.rt.block_on(src.bundle(b)).ok()?;
                        let eb = tallyboard_core::tile::EntryBundle::from_bytes(&bytes, b.width())
                            .ok()?;
                        eb.entries().get((r.index % 256) as usize).cloned()
                    })
                }
                None => None,
            };
            let Some(entry) = entry else {
                let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                        "The receipt {file} acknowledges entry {} but the log verified has only {n} entries: an acknowledged tally is missing.",
                        r.index
                    ))
                .index(r.index);
                self.add(f);
                continue;
            };
            let v = match r.verify_with_witnesses(
                &entry,
                &self.keys.log,
                self.keys.log.name(),
                &[],
                0,
            ) {
                Ok(v) => v,
                Err(e) => {
                    let msg = if h.entry.is_none() {
                        format!(
                            "The receipt {file} does not prove the entry the log holds at index {} ({e}): the log's entry differs from the one acknowledged.",
                            r.index
                        )
                    } else {
                        format!("The receipt {file} does not verify for the tally beside it ({e}).")
                    };
                    let code = if h.entry.is_none() {
                        FindingCode::ReceiptNotInLog
                    } else {
                        FindingCode::ReceiptInvalid
                    };
                    let f = Finding::new(code, msg)
                        .severity(Severity::Error)
                        .index(r.index);
                    self.add(f);
                    continue;
                }
            };
            let rc = &v.checkpoint;
            if rc.checkpoint.size > n {
                let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                        "The receipt {file} is for a checkpoint of size {}, larger than the log verified here (size {n}): the log may have been rolled back.",
                        rc.checkpoint.size
                    ))
                .index(r.index);
                self.add(f);
                continue;
            }
            match self
                .rt
                .block_on(check_consistency(&self.keys.log, (&file, rc), &src, &cp))
            {
                Ok(Consistency::Consistent) => {}
                Ok(Consistency::SplitView(ev)) => {
                    let sizes = ((rc.checkpoint.size, rc.checkpoint.root), (n, root));
                    self.report_split_view(&ev, &file, &label, sizes);
                    let f = Finding::new(FindingCode::ReceiptNotInLog, format!(
                            "The receipt {file} (entry {}) is under a checkpoint that the log verified does not extend: the acknowledged tally was rewritten.",
                            r.index
                        ))
                    .index(r.index);
                    self.add(f);
                }
                Err(e) => self.notes.push(format!(
                    "receipt {file}: consistency could not be checked: {e}"
                )),
            }
        }
        self.loaded.receipts = receipts;
    }

    fn completeness(&mut self) {
        let (n, root) = (self.trusted.size(), self.trusted.root());
        let totals = self.checker.totals(n, root);
        let rows = totals
            .rows
            .iter()
            .map(|r| CompletenessRow {
                contest: r.contest.clone(),
                region: r.region.clone(),
                units_expected: r.units_expected,
                units_reporting: r.units_reporting,
                share_reporting: if r.units_expected == 0 {
                    1.0
                } else {
                    r.units_reporting as f64 / r.units_expected as f64
                },
            })
            .collect();
        let m = self.manifest.manifest();
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let contest_index: HashMap<&str, usize> = m
            .contests
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        for (ui, u) in m.units.iter().enumerate() {
            for c in &u.contests {
                let reported = contest_index
                    .get(c.as_str())
                    .is_some_and(|&ci| self.checker.is_reported(ui, ci));
                if !reported {
                    missing.entry(c.clone()).or_default().push(u.id.clone());
                }
            }
        }
        for (contest, units) in &missing {
            let shown: Vec<&str> = units.iter().take(20).map(String::as_str).collect();
            let more = if units.len() > 20 {
                format!(" and {} more", units.len() - 20)
            } else {
                String::new()
            };
            let mut f = Finding::new(
                FindingCode::UnitsMissing,
                format!(
                    "{} reporting units have no tally in the log for contest {contest}: {}{more}.",
                    units.len(),
                    shown.join(", ")
                ),
            );
            f.contest = Some(contest.clone());
            f.units = units.clone();
            self.add(f);
        }
        self.completeness = Completeness {
            rows,
            missing,
            corrections: self.checker.corrections().to_vec(),
            last_to_report: self
                .checker
                .late()
                .into_iter()
                .map(|(t, index, unit, contest)| crate::report::LateUnit {
                    unit,
                    contest,
                    index,
                    counted_at: tallyboard_core::time::format_rfc3339(t),
                })
                .collect(),
        };
    }

    fn into_report(self) -> Report {
        let (size, root) = (self.trusted.size(), self.trusted.root());
        let mut report = Report {
            verdict: Verdict::Findings,
            findings: self.ledger.findings,
            findings_not_listed: self.ledger.not_listed,
            sources: self.reports,
            log: LogReport {
                origin: self.keys.log.name().to_owned(),
                size,
                root: root.to_hex(),
                entries_checked: self.checker.checked(),
                check_seconds: self.check_seconds,
                checked_from: self
                    .checked_from
                    .map(|i| self.sources[i].label().to_owned()),
            },
            completeness: self.completeness,
            observers: self.observers,
            notes: self.notes,
            could_not_verify: None,
        };
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
