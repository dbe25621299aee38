//! The scenarios: each a rehearsal of one election-night incident, ending
//! with the verifier's verdict. `spec/exercise.md` is their normative list.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tallyboard_core::Tally;
use tallyboard_core::totals::TotalsBuilder;
use tallyboard_core::{SignedTotals, TotalsBody};
use tallyboard_verify::FindingCode;

use crate::client::Http;
use crate::election::CentreKeySpec;
use crate::error::{Context as _, Result, bail, failed};
use crate::night::{Entry, Night, checkpoint_size, replace_in_tree};
use crate::procs::{FileServer, Proc, copy_tree, run_to_end};

/// One rehearsal.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    /// One line for `--list`.
    pub(crate) summary: &'static str,
    /// What is simulated and how.
    pub(crate) simulates: &'static str,
    /// The verdict the verifier must reach ("pass" or "findings").
    pub(crate) verdict: &'static str,
    /// Finding codes the report must contain (contracts: spec/verify.md).
    pub(crate) codes: &'static [FindingCode],
    /// Of those, the codes whose finding must name evidence files that exist.
    pub(crate) evidence: &'static [FindingCode],
    /// What an official, a party or an observer should do when it happens
    /// for real.
    pub(crate) response: &'static str,
    pub(crate) run: fn(&mut Night) -> Result<Outcome>,
}

/// What a scenario produced: the verifier's report and the scenario's own
/// checks (the server's refusals, the flood's 429s, ...).
pub(crate) struct Outcome {
    pub(crate) report: Report,
    pub(crate) checks: Vec<(String, bool)>,
}

impl Outcome {
    /// A verdict and no check of the scenario's own.
    fn of(report: Report) -> Outcome {
        Outcome {
            report,
            checks: Vec::new(),
        }
    }
}

/// The verifier's JSON report (`tallyboard verify --json`).
pub(crate) struct Report {
    pub(crate) json: serde_json::Value,
    pub(crate) exit: Option<i32>,
    pub(crate) evidence_dir: PathBuf,
}

impl Report {
    pub(crate) fn verdict(&self) -> &str {
        self.json["verdict"].as_str().unwrap_or("(none)")
    }

    pub(crate) fn codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self.json["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }

    /// Whether some finding with `code` names evidence files that all exist.
    pub(crate) fn has_evidence(&self, code: FindingCode) -> bool {
        self.json["findings"].as_array().is_some_and(|a| {
            a.iter().any(|f| {
                f["code"] == code.as_str()
                    && f["evidence"].as_array().is_some_and(|files| {
                        !files.is_empty()
                            && files.iter().all(|n| {
                                n.as_str().is_some_and(|n| {
                                    let p = Path::new(n);
                                    p.is_file() || self.evidence_dir.join(p).is_file()
                                })
                            })
                    })
            })
        })
    }
}

pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "clean",
        summary: "a normal election night: every unit reports, every check passes",
        simulates: "The count centres sign every unit's tallies and submit them (one \
            `tallyboard submit` per centre) to the publication server, which two witnesses \
            cosign; two mirrors follow it (the second follows the first); a verifier \
            watches the log live. Then the verifier checks everything from every source \
            (origin, both mirrors, the second mirror's static files) plus the backup \
            channels: the centres' own signed files, their receipts, and the observers' \
            CSV of the sheets posted at the polling stations.",
        verdict: "pass",
        codes: &[],
        evidence: &[],
        response: "Nothing to do but publish the verifier's report next to the results: \
            anyone can rerun it and get the same verdict.",
        run: clean,
    },
    Scenario {
        name: "correction",
        summary: "a recount amends a unit; the history stays visible and the totals follow the latest revision",
        simulates: "After the night, a count centre recounts one unit, signs a correction \
            (revision 2, superseding revision 1, with the reason) and submits it. The \
            unit's page shows both revisions; the totals count only the latest.",
        verdict: "pass",
        codes: &[],
        evidence: &[],
        response: "Announce the correction with its reason; the superseded figures stay in \
            the log, so anyone can see what changed and when.",
        run: correction,
    },
    Scenario {
        name: "tampered-mirror",
        summary: "a mirror serves an altered tally",
        simulates: "A copy of mirror-1's files is doctored (one vote count of one tally is \
            raised, the rest left as they were) and served by a web server of its own, \
            as a compromised mirror or CDN would.",
        verdict: "findings",
        codes: &[FindingCode::SourceBadData],
        evidence: &[FindingCode::SourceBadData],
        response: "Stop linking to that mirror and tell its operator; the evidence file \
            shows the served bytes and what the signed checkpoint says they must hash to. \
            The results from the origin and the honest mirrors stand.",
        run: tampered_mirror,
    },
    Scenario {
        name: "equivocating-origin",
        summary: "the origin shows one log to the mirrors and another to the public",
        simulates: "The attacker holds the server and its log key: it builds a second log \
            (the same tallies but one, in another order), signs its checkpoint and serves \
            it to the public while the mirrors keep the real one.",
        verdict: "findings",
        codes: &[FindingCode::SplitView],
        evidence: &[FindingCode::SplitView],
        response: "This is proof that the log key signed two incompatible histories: \
            the publication server is compromised. Hand the evidence file to the election \
            authority and the courts, take the server off line, publish from the mirrors.",
        run: equivocating_origin,
    },
    Scenario {
        name: "frozen-mirror",
        summary: "a mirror stops following the origin and serves an old state",
        simulates: "mirror-2's process is frozen (SIGSTOP) halfway through the night; its \
            static files, as a web server in front of it would keep serving them, stop at \
            an old checkpoint.",
        verdict: "findings",
        codes: &[FindingCode::SourceStale],
        evidence: &[],
        response: "Tell readers to use another mirror and the operator to restart the \
            mirror; a stale mirror is not an attack by itself (its old checkpoint is \
            consistent with the current one), but readers of it see old results.",
        run: frozen_mirror,
    },
    Scenario {
        name: "stolen-key",
        summary: "a count centre's key signs a unit another centre is responsible for",
        simulates: "A key of one count centre signs a 'correction' of a unit that belongs \
            to another centre. The honest server refuses it; then the attacker who holds \
            the server writes it into the log directly.",
        verdict: "findings",
        codes: &[FindingCode::SignerNotResponsible],
        evidence: &[FindingCode::SignerNotResponsible],
        response: "Revoke the stolen key in the manifest (the authority signs a new one), \
            ask the responsible centre to confirm its figures, and treat the server that \
            logged the entry as compromised.",
        run: stolen_key,
    },
    Scenario {
        name: "revoked-key",
        summary: "a tally signed with a key revoked before election day",
        simulates: "A count centre's old key, revoked in the manifest before election day, \
            signs a correction of one of its units. The server refuses it; the \
            compromised-origin variant logs it anyway.",
        verdict: "findings",
        codes: &[FindingCode::KeyRevoked],
        evidence: &[FindingCode::KeyRevoked],
        response: "The revoked key is in someone's hands: find out how, and check every \
            figure of that centre against its paper sheets.",
        run: revoked_key,
    },
    Scenario {
        name: "bad-arithmetic",
        summary: "a tally whose votes do not add up to the ballots cast",
        simulates: "A correction signed with the centre's valid key claims 7 more ballots \
            cast than its votes, blanks and invalid ballots add up to. The server refuses \
            it; the compromised-origin variant logs it anyway.",
        verdict: "findings",
        codes: &[FindingCode::ArithmeticMismatch],
        evidence: &[FindingCode::ArithmeticMismatch],
        response: "Ask the count centre to recount and sign a correct sheet; an entry \
            that does not add up is never counted by the verifier.",
        run: bad_arithmetic,
    },
    Scenario {
        name: "replay",
        summary: "an old revision resubmitted to undo a recount",
        simulates: "A unit is recounted (revision 2). An intercepted earlier correction, \
            which also supersedes revision 1, is then replayed to turn the clock back; \
            the identical old entry is answered with its old receipt and changes nothing. \
            The server refuses the stale correction; the compromised-origin variant logs it.",
        verdict: "findings",
        codes: &[FindingCode::SupersedesStaleRevision],
        evidence: &[FindingCode::SupersedesStaleRevision],
        response: "The latest revision stands; find out who resubmitted the stale sheet.",
        run: replay,
    },
    Scenario {
        name: "inflated-totals",
        summary: "the server publishes totals that differ from its own entries",
        simulates: "A copy of the origin's files gets signed totals (with the log key) in \
            which the leading choice has 1,000 more votes than its entries sum to.",
        verdict: "findings",
        codes: &[FindingCode::TotalsMismatch],
        evidence: &[FindingCode::TotalsMismatch],
        response: "The published totals are wrong, the tallies are right: publish the \
            verifier's recomputed totals and the evidence, and demand an explanation \
            from the server's operator.",
        run: inflated_totals,
    },
    Scenario {
        name: "missing-units",
        summary: "some units never report",
        simulates: "Three units' tallies are never submitted (their count centre lost \
            connectivity and gave up).",
        verdict: "findings",
        codes: &[FindingCode::UnitsMissing],
        evidence: &[],
        response: "Call the count centres of the units listed; until they report, the \
            results are provisional for the regions named.",
        run: missing_units,
    },
    Scenario {
        name: "backup-mismatch",
        summary: "the count centre's own signed sheet disagrees with the log",
        simulates: "The signed tally the count centre kept as its backup differs from the \
            one in the log for the same unit, contest and revision.",
        verdict: "findings",
        codes: &[FindingCode::BackupContradictsLog],
        evidence: &[FindingCode::BackupContradictsLog],
        response: "Compare both signed objects with the paper sheet of the polling \
            station; the centre signed two versions, or its key was used by someone else.",
        run: backup_mismatch,
    },
    Scenario {
        name: "observer-mismatch",
        summary: "observers' figures from the posted sheets disagree with the log",
        simulates: "The observers' CSV (figures copied from the sheets posted at the \
            polling stations) has one count that differs from the published tally.",
        verdict: "findings",
        codes: &[FindingCode::ObserverMismatch],
        evidence: &[],
        response: "Send an observer back to the polling station to photograph the posted \
            sheet; if the sheet says what the observers wrote, ask the centre for a \
            correction.",
        run: observer_mismatch,
    },
    Scenario {
        name: "origin-down",
        summary: "the origin fails mid-night; mirrors keep serving, the verifier completes from them",
        simulates: "The publication server is killed (SIGKILL) halfway through the night. \
            The mirrors keep serving what they verified; the count centres' remaining \
            tallies stay pending; the verifier checks the log from the mirrors.",
        verdict: "findings",
        codes: &[FindingCode::SourceUnreachable],
        evidence: &[],
        response: "Restart the server (no acknowledged tally is lost); meanwhile point \
            readers to the mirrors. Count centres run the same `tallyboard submit` again.",
        run: origin_down,
    },
    Scenario {
        name: "submission-flood",
        summary: "one client floods the submit endpoint; it is rate-limited, centres and readers get through",
        simulates: "A client at 127.0.0.2 sends thousands of submissions as fast as it can \
            while the count centres (127.0.0.1) submit and a reader (127.0.0.3) reads the \
            checkpoint; the server runs with its default per-client limits.",
        verdict: "pass",
        codes: &[],
        evidence: &[],
        response: "Nothing to do on election night if the centres get through; block the \
            flooding address upstream if it hurts; every acknowledged tally is durable.",
        run: submission_flood,
    },
];

pub(crate) fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The usual night: everything started, every tally (but `skip`)
/// submitted, mirrors caught up, backup channels written. With `watch`,
/// a verifier follows the log live during the night.
fn base(night: &mut Night, skip: &[usize], watch: bool) -> Result<(u64, Vec<(String, bool)>)> {
    night.start_all(false)?;
    let which: Vec<usize> = night
        .all()
        .into_iter()
        .filter(|i| !skip.contains(i))
        .collect();
    let mut watcher = if watch && night.pieces.verify {
        Some(start_watch(night, which.len() as u64)?)
    } else {
        None
    };
    let size = night.run_night(&which)?;
    let mut checks = Vec::new();
    if let Some(w) = watcher.as_mut() {
        // The watcher stops by itself once it has verified the final size
        // and written its report.
        let json = night.dir.join("verify/watch.json");
        let read = || {
            std::fs::read(&json)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        };
        let waited = w.wait_exit(Duration::from_secs(20 + size / 5_000))?;
        if waited.is_none() {
            night.clock.note(&format!(
                "the live verifier had not verified size {size} 20 s after the night; stopped (SIGTERM), it reports what it saw"
            ));
            w.stop();
        }
        let report = read();
        let verdict = report
            .as_ref()
            .and_then(|r| r["verdict"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "(no report)".into());
        night.clock.done(
            "watch",
            &format!("the live verifier followed the log to size {size}: {verdict}"),
        );
        checks.push((
            format!("the live verifier (--watch) reported the night with verdict {verdict}"),
            verdict == "pass",
        ));
    }
    drop(watcher);
    if night.via_binary {
        let entries: Vec<Entry> = which.iter().map(|&i| night.entries[i].clone()).collect();
        night.write_backup_channels(&entries)?;
    }
    Ok((size, checks))
}

fn start_watch(night: &Night, size: u64) -> Result<Proc> {
    let dir = night.dir.join("verify");
    std::fs::create_dir_all(&dir)?;
    let mut args: Vec<OsString> = ["verify", "--authority", &night.authority(), "--manifest"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(night.manifest_path().into_os_string());
    args.extend(
        [
            "--source",
            &night.origin_url()?,
            "--watch",
            "--watch-interval-ms",
            "200",
            "--watch-until-size",
            &size.to_string(),
            "--quiet",
            "--feed",
        ]
        .iter()
        .map(OsString::from),
    );
    args.push(dir.join("feed.jsonl").into_os_string());
    args.push("--json".into());
    args.push(dir.join("watch.json").into_os_string());
    let log = night.dir.join("logs/verify-watch.log");
    Proc::start(&night.exe, "verify --watch", &args, log, false)
}

/// The sources of the final verification.
enum Src {
    Url(String),
    Dir(PathBuf),
}

/// Runs the verifier over `sources` (with the backup channels when
/// written) and prints its report.
fn verify(night: &mut Night, name: &str, sources: &[Src], channels: bool) -> Result<Report> {
    if !night.pieces.verify {
        bail!(
            "this build has no `tallyboard verify`: the scenario cannot reach a verdict \
             (the exercise never fakes one)"
        );
    }
    let dir = night.dir.join("verify");
    std::fs::create_dir_all(&dir)?;
    let json = dir.join(format!("{name}.json"));
    let evidence = dir.join(format!("{name}-evidence"));
    let mut args: Vec<OsString> = ["verify", "--authority", &night.authority(), "--manifest"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(night.manifest_path().into_os_string());
    for s in sources {
        args.push("--source".into());
        match s {
            Src::Url(u) => args.push(u.into()),
            Src::Dir(d) => args.push(d.clone().into_os_string()),
        }
    }
    if channels && night.via_binary {
        args.push("--backup-tallies".into());
        args.push(night.dir.join("backup").into_os_string());
        args.push("--observer-csv".into());
        args.push(night.dir.join("observers.csv").into_os_string());
        args.push("--receipts".into());
        args.push(night.dir.join("receipts").into_os_string());
    }
    args.push("--json".into());
    args.push(json.clone().into_os_string());
    args.push("--evidence".into());
    args.push(evidence.clone().into_os_string());
    let n = night.entries.len() as u64;
    let (code, out, err) = run_to_end(&night.exe, &args, Duration::from_secs(300 + n / 2_000))?;
    night.clock.done(
        "verify",
        &format!(
            "tallyboard verify from {} sources: {}",
            sources.len(),
            crate::exit_words(code)
        ),
    );
    println!("\n---- the verifier's report ----\n{}", out.trim_end());
    if !err.trim().is_empty() {
        std::fs::write(dir.join(format!("{name}.stderr")), &err)?;
    }
    println!("---- end of the verifier's report ----\n");
    let bytes = std::fs::read(&json).with_context(|| {
        format!(
            "the verifier wrote no JSON report (exit {code:?}); its stderr:\n{}",
            err.trim()
        )
    })?;
    let json = serde_json::from_slice(&bytes).context("the verifier's JSON report")?;
    Ok(Report {
        json,
        exit: code,
        evidence_dir: evidence,
    })
}

/// Every source of a finished night: origin, mirrors, mirror-2's files.
fn all_sources(night: &Night) -> Result<Vec<Src>> {
    let mut v = vec![Src::Url(night.origin_url()?)];
    for m in &night.mirrors {
        v.push(Src::Url(m.url.clone()));
    }
    if let Some(m) = night.mirrors.last() {
        let _ = m;
        v.push(Src::Dir(night.dir.join("mirror-2/public")));
    }
    // The bucket the origin keeps its log in, read directly.
    if let Some(url) = &night.opts.storage {
        v.push(Src::Url(url.clone()));
    }
    Ok(v)
}

fn clean(night: &mut Night) -> Result<Outcome> {
    let (_, mut checks) = base(night, &[], true)?;
    if night.via_binary {
        checks.extend(certify(night)?);
    }
    let sources = all_sources(night)?;
    let report = verify(night, "clean", &sources, true)?;
    if night.via_binary {
        let status = report.json["status"]["results"]
            .as_str()
            .unwrap_or("(none)");
        checks.push((
            format!("the verifier reports {status} results (expected: final, certified)"),
            status == "final",
        ));
    }
    Ok(Outcome { report, checks })
}

/// The authority closes the count (`tallyboard certify`); the server then
/// refuses a tally, and both mirrors serve the certification.
fn certify(night: &mut Night) -> Result<Vec<(String, bool)>> {
    let origin = night.origin_url()?;
    let key = night
        .dir
        .join("election/keys")
        .join(format!("{}.key", night.election.authority.file));
    let mut args: Vec<OsString> = vec!["certify".into(), "--key".into(), key.into_os_string()];
    args.push("--server".into());
    args.push(origin.clone().into());
    args.push("--manifest".into());
    args.push(night.manifest_path().into_os_string());
    args.push("--out".into());
    args.push(night.dir.join("verify/certification").into_os_string());
    std::fs::create_dir_all(night.dir.join("verify"))?;
    let (code, out, err) = run_to_end(&night.exe, &args, Duration::from_secs(300))?;
    night.clock.done(
        "certify",
        &format!(
            "tallyboard certify: {} {}",
            crate::exit_words(code),
            out.trim()
        ),
    );
    if code != Some(0) {
        bail!(
            "tallyboard certify failed ({code:?}):\n{}\n{}",
            out.trim(),
            err.trim()
        );
    }
    let mut checks = vec![(
        "the election authority certified the results".to_owned(),
        true,
    )];
    // A tally after the count closed is refused.
    let http = Http::parse(&origin)?;
    let entry = night.entries[0].signed.as_bytes().to_vec();
    let r = http.post("/submit", &entry, 64 * 1024)?;
    let body = String::from_utf8_lossy(&r.body).into_owned();
    checks.push((
        format!(
            "a tally sent after the certification was refused (HTTP {}, count-closed)",
            r.status
        ),
        r.status == 409 && body.contains("count-closed"),
    ));
    // The mirrors copy it once they have checked it.
    let deadline = Instant::now() + Duration::from_secs(60);
    for m in &night.mirrors {
        let h = Http::parse(&m.url)?;
        let served = loop {
            let ok = h
                .get("/certification", 64 * 1024)
                .is_ok_and(|r| r.status == 200);
            if ok || Instant::now() > deadline {
                break ok;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        checks.push((format!("{} serves the certification", m.name), served));
    }
    Ok(checks)
}

/// A unit's history as `/units/<id>` serves it (JSON).
fn unit_history(night: &Night, unit: &str) -> Result<serde_json::Value> {
    let http = Http::parse(&night.origin_url()?)?;
    let r = http
        .get(&format!("/units/{unit}"), 16 << 20)
        .with_context(|| format!("GET /units/{unit}"))?;
    if r.status != 200 {
        bail!("GET /units/{unit}: HTTP {}", r.status);
    }
    serde_json::from_slice(&r.body).context("the unit view is not JSON")
}

fn correction(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let i = 0;
    let (centre, at) = {
        let e = &night.entries[i];
        (e.centre.clone(), e.tally().counted_at + 3600)
    };
    let key = night
        .election
        .centre_key(&centre, at)
        .ok_or_else(|| failed!("no key for {centre}"))?;
    let fix = make(
        night,
        i,
        key,
        "recount ordered by the district commission: 7 ballots had been put on the wrong pile",
        |t| {
            move_votes(t, 7);
        },
    );
    let unit = fix.tally().unit.clone();
    let path = night.write_centre_file(&fix)?;
    let url = night.origin_url()?;
    let (code, out, _) = night.submit_files(&url, &centre, &[path], 6)?;
    night.entries.push(fix.clone());
    let size = night.wait_size(&url, night.entries.len() as u64, Duration::from_secs(60))?;
    night.clock.done(
        "correction",
        &format!(
            "{centre} submitted revision 2 of {unit} (exit {code:?}): {}",
            out.lines().next().unwrap_or("")
        ),
    );
    night.wait_mirrors(size)?;
    let all = night.entries.clone();
    night.write_backup_channels(&all)?;
    let h = unit_history(night, &unit)?;
    println!("History of unit {unit} as the server shows it (/units/{unit}):");
    let mut revisions = Vec::new();
    for e in h["entries"].as_array().into_iter().flatten() {
        println!(
            "  entry {:>4}  {} revision {}  latest={}  {}",
            e["index"],
            e["contest"].as_str().unwrap_or(""),
            e["revision"],
            e["latest"],
            e["reason"].as_str().unwrap_or("(first count)")
        );
        if e["contest"] == fix.tally().contest.as_str() {
            revisions.push((
                e["revision"].as_u64().unwrap_or(0),
                e["latest"].as_bool().unwrap_or(false),
            ));
        }
    }
    // The published totals of the contest follow the latest revision.
    let contest = fix.tally().contest.clone();
    let (published, expected) = {
        let http = Http::parse(&night.origin_url()?)?;
        let r = http.get("/totals", tallyboard_core::limits::MAX_SIGNED_TOTALS)?;
        let m = night.election.manifest.manifest();
        let totals =
            SignedTotals::from_bytes(&r.body, &m.log.key).context("the origin's /totals")?;
        let published = totals
            .totals()
            .row(&contest, None)
            .map(|r| r.choices.clone());
        let mut latest: std::collections::BTreeMap<&str, &Tally> =
            std::collections::BTreeMap::new();
        for e in night
            .entries
            .iter()
            .filter(|e| e.tally().contest == contest)
        {
            let t = e.tally();
            if latest
                .get(t.unit.as_str())
                .is_none_or(|l| l.revision < t.revision)
            {
                latest.insert(&t.unit, t);
            }
        }
        let mut expected: std::collections::BTreeMap<String, u64> =
            std::collections::BTreeMap::new();
        for t in latest.values() {
            for (c, n) in &t.choices {
                *expected.entry(c.clone()).or_default() += n;
            }
        }
        (published, expected)
    };
    println!("Published totals of {contest}, whole election: {published:?}");
    let sources = all_sources(night)?;
    let report = verify(night, "correction", &sources, true)?;
    let checks = vec![
        (
            format!("the published {contest} totals are the sums of the latest revisions"),
            published.as_ref() == Some(&expected),
        ),
        (
            format!("the correction was accepted (submit exit {code:?})"),
            code == Some(0),
        ),
        (
            format!("/units/{unit} shows revision 1 and revision 2, the latest being 2"),
            revisions == vec![(1, false), (2, true)],
        ),
    ];
    Ok(Outcome { report, checks })
}

/// Moves up to `n` votes from the first choice to the second.
fn move_votes(t: &mut Tally, n: u64) {
    let ids: Vec<String> = t.choices.keys().cloned().collect();
    if let [a, b, ..] = ids.as_slice() {
        let moved = n.min(t.choices[a]);
        if let Some(v) = t.choices.get_mut(a) {
            *v -= moved;
        }
        if let Some(v) = t.choices.get_mut(b) {
            *v += moved;
        }
    }
}

/// A correction (revision + 1) of `night.entries[i]` signed by `key`,
/// counted an hour later, changed by `f`.
fn make(
    night: &Night,
    i: usize,
    key: &CentreKeySpec,
    reason: &str,
    f: impl FnOnce(&mut Tally),
) -> Entry {
    let e = &night.entries[i];
    let mut t = e.tally().correction(e.signed.leaf_hash(), reason);
    t.counted_at += 3600;
    t.signer = key.key.signer.secret().public_key();
    f(&mut t);
    Entry {
        unit: e.unit,
        contest: e.contest,
        centre: e.centre.clone(),
        file: format!("{}.{}.r{}.tally", t.unit, t.contest, t.revision),
        signed: t.sign(key.key.signer.secret()),
    }
}

fn tampered_mirror(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let from = if night.mirrors.is_empty() {
        night.dir.join("origin/public")
    } else {
        night.dir.join("mirror-1/public")
    };
    let copy = night.dir.join("tampered-mirror");
    copy_tree(&from, &copy)?;
    // One tally's body with a count raised, same encoded length, the old
    // signature kept: what a doctored copy would hold.
    let mut done = None;
    for e in &night.entries {
        let body = e.signed.body_bytes().to_vec();
        let mut t = e.tally().clone();
        let Some((choice, v)) = t.choices.iter_mut().next() else {
            continue;
        };
        let choice = choice.clone();
        *v += 50;
        t.ballots_cast += 50;
        let altered = t.to_body_bytes();
        if altered.len() == body.len() {
            let n = replace_in_tree(&copy.join("tile/entries"), &body, &altered)?;
            if n > 0 {
                done = Some((e.tally().unit.clone(), e.tally().contest.clone(), choice, n));
                break;
            }
        }
    }
    let (unit, contest, choice, files) =
        done.ok_or_else(|| failed!("found no tally to alter in {}", copy.display()))?;
    let server = FileServer::start(copy)?;
    let url = server.url.clone();
    night.file_servers.push(server);
    night.clock.done(
        "tamper",
        &format!("a copy of mirror-1 with {unit} {contest} {choice} +50 votes ({files} bundle files) served at {url}"),
    );
    let report = verify(
        night,
        "tampered-mirror",
        &[Src::Url(night.origin_url()?), Src::Url(url)],
        false,
    )?;
    Ok(Outcome::of(report))
}

/// Writes a log of `entries` signed with the night's log key in `dir`
/// (C2SP layout under `dir/public/`, with `manifest` and signed `totals`);
/// returns (size, root).
fn forged_log(night: &Night, dir: &Path, entries: &[Vec<u8>]) -> Result<(u64, String)> {
    let signer = night.election.log.signer.clone();
    let mut log = tallyboard_log::Log::open(dir, signer, tallyboard_log::Options::default())
        .context("creating the forged log")?;
    let batch = log.append(entries).context("writing the forged log")?;
    drop(log);
    let cp = batch.checkpoint;
    let m = night.election.manifest.manifest();
    let mut b = TotalsBuilder::new(m);
    for e in entries {
        if let Ok(t) = tallyboard_core::SignedTally::from_bytes(e) {
            let _ = b.add(t.tally());
        }
    }
    let totals = b.finish(&m.log.origin, cp.size, cp.root);
    let public = dir.join("public");
    std::fs::write(
        public.join("totals"),
        totals.sign(night.election.log.signer.secret()).as_bytes(),
    )?;
    std::fs::write(public.join("manifest"), night.election.manifest.as_bytes())?;
    Ok((cp.size, hex::encode(cp.root.0)))
}

fn equivocating_origin(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    // The public's log: every tally but the last, in reverse order.
    let mut entries: Vec<Vec<u8>> = night
        .entries
        .iter()
        .rev()
        .map(|e| e.signed.to_bytes())
        .collect();
    let dropped = night
        .entries
        .last()
        .map(|e| format!("{} {}", e.tally().unit, e.tally().contest));
    entries.remove(0);
    let dir = night.dir.join("forked-origin");
    let (size, root) = forged_log(night, &dir, &entries)?;
    let server = FileServer::start(dir.join("public"))?;
    let url = server.url.clone();
    night.file_servers.push(server);
    night.clock.done(
        "fork",
        &format!(
            "a second log (size {size}, root {}…, without {}) signed with the log key, served to the public at {url}",
            &root[..12],
            dropped.unwrap_or_default()
        ),
    );
    let mut sources = vec![Src::Url(url)];
    for m in &night.mirrors {
        sources.push(Src::Url(m.url.clone()));
    }
    if night.mirrors.is_empty() {
        sources.push(Src::Url(night.origin_url()?));
    }
    let report = verify(night, "equivocating-origin", &sources, false)?;
    Ok(Outcome::of(report))
}

fn frozen_mirror(night: &mut Night) -> Result<Outcome> {
    if !night.pieces.mirror {
        bail!("this build has no `tallyboard mirror`: frozen-mirror cannot run");
    }
    night.start_all(false)?;
    let all = night.all();
    let half = all.len() / 2;
    let (first, second) = all.split_at(half.max(1));
    let size = night.run_night(first)?;
    if let Some(m) = night.mirrors.get(1) {
        m.freeze();
    }
    night.clock.done(
        "freeze",
        &format!("mirror-2 frozen (SIGSTOP) at tree size {size}"),
    );
    let (accepted, problems) = night.submit(second)?;
    if !problems.is_empty() {
        bail!("tallies not accepted: {}", problems.join("; "));
    }
    let total = night.entries.len() as u64;
    let url = night.origin_url()?;
    night.wait_size(&url, total, Duration::from_secs(60))?;
    if let Some(m) = night.mirrors.first() {
        let u = m.url.clone();
        night.wait_size(&u, total, Duration::from_secs(60))?;
    }
    night.clock.done(
        "submit",
        &format!("{accepted} more tallies; origin and mirror-1 at {total}"),
    );
    let mut sources = vec![Src::Url(url)];
    if let Some(m) = night.mirrors.first() {
        sources.push(Src::Url(m.url.clone()));
    }
    sources.push(Src::Dir(night.dir.join("mirror-2/public")));
    let report = verify(night, "frozen-mirror", &sources, false)?;
    let stale = checkpoint_size(&std::fs::read(
        night.dir.join("mirror-2/public/checkpoint"),
    )?);
    Ok(Outcome {
        report,
        checks: vec![(
            format!(
                "mirror-2's files stayed at tree size {stale:?} while the origin reached {total}"
            ),
            stale.is_some_and(|s| s < total),
        )],
    })
}

/// The two halves of an attack a correct server refuses: submission
/// (refused, naming `code`), then the compromised origin logging it anyway.
fn refused_then_logged(night: &mut Night, bad: Entry, code: &str) -> Result<Vec<(String, bool)>> {
    let attack = night.dir.join("attack");
    std::fs::create_dir_all(&attack)?;
    let path = attack.join(&bad.file);
    std::fs::write(&path, bad.signed.as_bytes())?;
    let url = night.origin_url()?;
    let (exit, out, _) = night.submit_files(&url, "attacker", &[path], 1)?;
    let line = out
        .lines()
        .find(|l| l.contains("refused"))
        .unwrap_or("")
        .to_owned();
    night
        .clock
        .done("submit", &format!("the server's answer: {line}"));
    let mut checks = vec![(
        format!(
            "the publication server refused the submission with {code} (submit: {})",
            crate::exit_words(exit)
        ),
        exit == Some(1) && line.contains(code),
    )];
    let size = night.compromise_origin(&[bad.signed.to_bytes()])?;
    night.clock.done(
        "compromise",
        &format!("the attacker holding the server appended it to the log with the log key: tree size {size}"),
    );
    // The mirrors check every entry before they advance: they stay behind
    // (and keep evidence) instead of serving the bad entry.
    std::thread::sleep(Duration::from_millis(1500));
    for m in &night.mirrors {
        let http = Http::parse(&m.url)?;
        let n = http
            .get("/checkpoint", tallyboard_core::limits::MAX_NOTE)
            .ok()
            .and_then(|r| checkpoint_size(&r.body));
        checks.push((
            format!(
                "{} did not serve the bad entry (its tree size {n:?} < {size})",
                m.name
            ),
            n.is_some_and(|n| n < size),
        ));
    }
    Ok(checks)
}

fn origin_sources(night: &Night) -> Result<Vec<Src>> {
    Ok(vec![Src::Url(night.origin_url()?)])
}

fn stolen_key(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let thief = night.election.centre_keys[0].centre.clone();
    let i = night
        .entries
        .iter()
        .position(|e| e.centre != thief)
        .ok_or_else(|| failed!("the election has a single count centre"))?;
    let at = night.entries[i].tally().counted_at + 3600;
    let key = night
        .election
        .centre_key(&thief, at)
        .ok_or_else(|| failed!("no key for {thief}"))?;
    let bad = make(night, i, key, "recount", |t| move_votes(t, 40));
    night.clock.note(&format!(
        "{thief}'s key signs a correction of {} {}, which {} is responsible for",
        bad.tally().unit,
        bad.tally().contest,
        night.entries[i].centre
    ));
    let checks = refused_then_logged(night, bad, "signer-not-responsible")?;
    let sources = origin_sources(night)?;
    let report = verify(night, "stolen-key", &sources, false)?;
    Ok(Outcome { report, checks })
}

fn revoked_key(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let key = night
        .election
        .centre_keys
        .iter()
        .find(|k| k.revoked_at.is_some())
        .ok_or_else(|| failed!("the election has no revoked key"))?;
    let centre = key.centre.clone();
    let i = night
        .entries
        .iter()
        .position(|e| e.centre == centre)
        .ok_or_else(|| failed!("{centre} has no unit"))?;
    let bad = make(night, i, key, "recount", |t| move_votes(t, 40));
    night.clock.note(&format!(
        "{centre}'s revoked key signs a correction of {} {}",
        bad.tally().unit,
        bad.tally().contest
    ));
    let checks = refused_then_logged(night, bad, "key-revoked")?;
    let sources = origin_sources(night)?;
    let report = verify(night, "revoked-key", &sources, false)?;
    Ok(Outcome { report, checks })
}

fn valid_key_for(night: &Night, i: usize) -> Result<&CentreKeySpec> {
    let e = &night.entries[i];
    night
        .election
        .centre_key(&e.centre, e.tally().counted_at + 3600)
        .ok_or_else(|| failed!("no key for {}", e.centre))
}

fn bad_arithmetic(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let i = night.entries.len() / 2;
    let key = valid_key_for(night, i)?;
    let bad = make(night, i, key, "recount", |t| t.ballots_cast += 7);
    night.clock.note(&format!(
        "{} signs a correction of {} {} whose figures do not add up",
        bad.centre,
        bad.tally().unit,
        bad.tally().contest
    ));
    let checks = refused_then_logged(night, bad, "arithmetic-mismatch")?;
    let sources = origin_sources(night)?;
    let report = verify(night, "bad-arithmetic", &sources, false)?;
    Ok(Outcome { report, checks })
}

fn replay(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let i = 1.min(night.entries.len() - 1);
    let key = valid_key_for(night, i)?;
    // Two corrections of revision 1 were signed; the second (the final
    // recount) is published, the first is intercepted.
    let withdrawn = make(night, i, key, "first recount (later redone)", |t| {
        move_votes(t, 30)
    });
    let official = make(night, i, key, "second recount, the official one", |t| {
        move_votes(t, 12);
        t.counted_at += 600;
    });
    let path = night.write_centre_file(&official)?;
    let url = night.origin_url()?;
    let centre = official.centre.clone();
    let (code, _, _) = night.submit_files(&url, &centre, &[path], 6)?;
    night.entries.push(official.clone());
    let size = night.wait_size(&url, night.entries.len() as u64, Duration::from_secs(60))?;
    night.wait_mirrors(size)?;
    night.clock.done(
        "correction",
        &format!(
            "{centre} published revision 2 of {} {} (exit {code:?})",
            official.tally().unit,
            official.tally().contest
        ),
    );
    // Replay of the identical revision 1: answered with its old receipt.
    let old = night.entries[i].clone();
    let path = night.dir.join("attack");
    std::fs::create_dir_all(&path)?;
    let old_path = path.join(format!("replayed-{}", old.file));
    std::fs::write(&old_path, old.signed.as_bytes())?;
    let (code1, out1, _) = night.submit_files(&url, "attacker", &[old_path], 1)?;
    let after = Http::parse(&url)?
        .get("/checkpoint", tallyboard_core::limits::MAX_NOTE)
        .ok()
        .and_then(|r| checkpoint_size(&r.body));
    night.clock.note(&format!(
        "replaying the old revision 1 byte for byte: {} (tree size stays {after:?})",
        out1.lines().next().unwrap_or("")
    ));
    let mut checks = vec![(
        "the identical old entry was answered with its existing receipt and changed nothing"
            .to_owned(),
        code1 == Some(0) && after == Some(size),
    )];
    checks.extend(refused_then_logged(
        night,
        withdrawn,
        "supersedes-stale-revision",
    )?);
    let sources = origin_sources(night)?;
    let report = verify(night, "replay", &sources, false)?;
    Ok(Outcome { report, checks })
}

fn inflated_totals(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    let copy = night.dir.join("inflated-origin");
    copy_tree(&night.dir.join("origin/public"), &copy)?;
    let m = night.election.manifest.manifest();
    // The origin serves its totals and manifest from memory; a static copy
    // holds them as files.
    let http = Http::parse(&night.origin_url()?)?;
    let r = http.get("/totals", tallyboard_core::limits::MAX_SIGNED_TOTALS)?;
    if r.status != 200 {
        bail!("GET /totals of the origin: HTTP {}", r.status);
    }
    let bytes = r.body;
    let signed = SignedTotals::from_bytes(&bytes, &m.log.key).context("the origin's totals")?;
    let mut body: TotalsBody = signed.totals().clone();
    let (contest, choice) = {
        let row = body
            .rows
            .first_mut()
            .ok_or_else(|| failed!("the totals have no row"))?;
        let (choice, v) = row
            .choices
            .iter_mut()
            .next()
            .ok_or_else(|| failed!("no choice"))?;
        *v += 1000;
        row.ballots_cast += 1000;
        (row.contest.clone(), choice.clone())
    };
    std::fs::write(
        copy.join("totals"),
        body.sign(night.election.log.signer.secret()).as_bytes(),
    )?;
    std::fs::write(copy.join("manifest"), night.election.manifest.as_bytes())?;
    let server = FileServer::start(copy)?;
    let url = server.url.clone();
    night.file_servers.push(server);
    night.clock.done(
        "inflate",
        &format!("totals re-signed with {contest} {choice} +1000 votes, served at {url}"),
    );
    let report = verify(night, "inflated-totals", &[Src::Url(url)], false)?;
    Ok(Outcome::of(report))
}

fn missing_units(night: &mut Night) -> Result<Outcome> {
    // Every tally of the last three units.
    let last: Vec<usize> = {
        let mut units: Vec<usize> = night.entries.iter().map(|e| e.unit).collect();
        units.dedup();
        units.into_iter().rev().take(3).collect()
    };
    let skip: Vec<usize> = night
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| last.contains(&e.unit))
        .map(|(i, _)| i)
        .collect();
    let names: Vec<String> = last
        .iter()
        .map(|&u| night.election.units[u].id.clone())
        .collect();
    night
        .clock
        .note(&format!("units {} will not report", names.join(", ")));
    base(night, &skip, false)?;
    let sources = all_sources(night)?;
    let report = verify(night, "missing-units", &sources, false)?;
    Ok(Outcome::of(report))
}

fn backup_mismatch(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    if !night.via_binary {
        bail!(
            "backup-mismatch needs the backup channel, written for elections of at most 5,000 tallies"
        );
    }
    let i = night.entries.len() / 3;
    let e = night.entries[i].clone();
    let key = night
        .election
        .centre_key(&e.centre, e.tally().counted_at)
        .ok_or_else(|| failed!("no key for {}", e.centre))?;
    let mut t = e.tally().clone();
    move_votes(&mut t, 25);
    let other = t.sign(key.key.signer.secret());
    std::fs::write(night.dir.join("backup").join(&e.file), other.as_bytes())?;
    night.clock.done(
        "backup",
        &format!(
            "{}'s kept copy of {} says 25 votes moved between the first two choices",
            e.centre, e.file
        ),
    );
    let sources = all_sources(night)?;
    let report = verify(night, "backup-mismatch", &sources, true)?;
    Ok(Outcome::of(report))
}

fn observer_mismatch(night: &mut Night) -> Result<Outcome> {
    base(night, &[], false)?;
    if !night.via_binary {
        bail!(
            "observer-mismatch needs the observers' CSV, written for elections of at most 5,000 tallies"
        );
    }
    let path = night.dir.join("observers.csv");
    let text = std::fs::read_to_string(&path)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let k = lines.len() / 2;
    let changed = {
        let l = &mut lines[k];
        let (head, n) = l
            .rsplit_once(',')
            .ok_or_else(|| failed!("bad CSV line {l}"))?;
        let n: u64 = n
            .parse()
            .with_context(|| format!("bad count in CSV line {l}"))?;
        *l = format!("{head},{}", n + 9);
        l.clone()
    };
    std::fs::write(&path, lines.join("\n") + "\n")?;
    night.clock.done(
        "observers",
        &format!("the observers wrote {changed} (9 more than the sheet)"),
    );
    let sources = all_sources(night)?;
    let report = verify(night, "observer-mismatch", &sources, true)?;
    Ok(Outcome::of(report))
}

fn origin_down(night: &mut Night) -> Result<Outcome> {
    if !night.pieces.mirror {
        bail!("this build has no `tallyboard mirror`: origin-down cannot run");
    }
    night.start_all(false)?;
    let all = night.all();
    let (first, rest) = all.split_at(all.len() / 2);
    let size = night.run_night(first)?;
    let url = night.origin_url()?;
    if let Some(o) = night.origin.as_mut() {
        o.crash();
    }
    night.clock.done(
        "crash",
        &format!("the origin was killed (SIGKILL) at tree size {size}"),
    );
    // The remaining tallies cannot be sent: they stay pending at the centres.
    let mut pending_ok = true;
    if night.via_binary
        && let Some(&k) = rest.first()
    {
        let e = night.entries[k].clone();
        let path = night.write_centre_file(&e)?;
        let (code, out, _) = night.submit_files(&url, &e.centre, &[path], 1)?;
        night.clock.note(&format!(
            "{}: {}",
            e.centre,
            out.lines().next().unwrap_or("")
        ));
        pending_ok = code == Some(2);
    }
    let mut sources = vec![Src::Url(url)];
    for m in &night.mirrors {
        sources.push(Src::Url(m.url.clone()));
    }
    let report = verify(night, "origin-down", &sources, false)?;
    let checked = report.json["log"]["size"].as_u64();
    Ok(Outcome {
        checks: vec![
            (
                "a count centre's tally sent after the crash stays pending (submit exit 2)".into(),
                pending_ok,
            ),
            (
                format!("the verifier checked the log from the mirrors: size {checked:?} = {size}"),
                checked == Some(size),
            ),
        ],
        report,
    })
}

fn submission_flood(night: &mut Night) -> Result<Outcome> {
    night.start_all(true)?;
    let url = night.origin_url()?;
    // Junk as fast as it can: the rate limit is checked before anything
    // else, so the flood costs the server little.
    let junk = b"flood flood flood flood flood flood flood flood".to_vec();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let limited = std::sync::atomic::AtomicUsize::new(0);
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let reads = std::sync::atomic::AtomicUsize::new(0);
    let failed_reads = std::sync::atomic::AtomicUsize::new(0);
    let slowest = std::sync::Mutex::new(Duration::ZERO);
    let flood = Http::parse(&url)?
        .bind_to(std::net::Ipv4Addr::new(127, 0, 0, 2).into())?
        .with_timeout(Duration::from_secs(10))?;
    let reader = Http::parse(&url)?
        .bind_to(std::net::Ipv4Addr::new(127, 0, 0, 3).into())?
        .with_timeout(Duration::from_secs(10))?;
    use std::sync::atomic::Ordering::Relaxed;
    let all = night.all();
    let result = std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Relaxed) && Instant::now() < deadline {
                    sent.fetch_add(1, Relaxed);
                    if let Ok(r) = flood.post("/submit", &junk, 1 << 16)
                        && r.status == 429
                    {
                        limited.fetch_add(1, Relaxed);
                    }
                }
            });
        }
        s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stop.load(Relaxed) && Instant::now() < deadline {
                let t = Instant::now();
                match reader.get("/checkpoint", tallyboard_core::limits::MAX_NOTE) {
                    Ok(r) if r.status == 200 => {
                        reads.fetch_add(1, Relaxed);
                        let took = t.elapsed();
                        let mut m = slowest
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        *m = (*m).max(took);
                    }
                    _ => {
                        failed_reads.fetch_add(1, Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // Let the flood build up before the centres start.
        std::thread::sleep(Duration::from_millis(1000));
        let r = night.run_night(&all);
        // Keep flooding while the verifier below reads, a little longer.
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Relaxed);
        r
    });
    let size = result?;
    if night.via_binary {
        let entries = night.entries.clone();
        night.write_backup_channels(&entries)?;
    }
    let (sent, limited) = (sent.into_inner(), limited.into_inner());
    let (reads, failed) = (reads.into_inner(), failed_reads.into_inner());
    let slowest = slowest
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    night.clock.done(
        "flood",
        &format!(
            "flooder sent {sent} submissions, {limited} answered 429; reader: {reads} reads ok, {failed} failed, slowest {} ms",
            slowest.as_millis()
        ),
    );
    let sources = all_sources(night)?;
    let report = verify(night, "submission-flood", &sources, true)?;
    Ok(Outcome {
        report,
        checks: vec![
            (
                format!("the flooding client was rate-limited ({limited} of {sent} answered 429)"),
                limited > 0 && limited * 2 > sent,
            ),
            (
                format!("every count-centre tally got through (tree size {size})"),
                size == night.entries.len() as u64,
            ),
            (
                format!("readers kept reading ({reads} ok, {failed} failed)"),
                reads > 0 && failed == 0,
            ),
        ],
    })
}
