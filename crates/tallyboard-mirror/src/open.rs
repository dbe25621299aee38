//! Opening a mirror: its data directory, the election state rebuilt from
//! its copy, the totals it had verified.

use std::sync::{Arc, RwLock};

use tallyboard_core::checkpoint::open_checkpoint;
use tallyboard_core::manifest::{Manifest, SignedManifest};
use tallyboard_core::note::{KeyKind, VerifierKey};
use tallyboard_log::{Log, LogError, Options};
use tallyboard_read::ReadApi;
use tallyboard_read::static_copy::write_manifest;
use tallyboard_verify::FindingCode;
use tallyboard_verify::follow::Trusted;
use tallyboard_verify::source::Source;

use tallyboard_check::Signatures;

use crate::config::{Config, StartError};
use crate::entries;
use crate::state::{Inner, Mirror, SyncState, edge_of};
use crate::status::{Problem, Status, list_evidence};
use crate::totals::verified_on_disk;

/// The manifest's log key as a note verifier.
fn log_verifier(m: &Manifest) -> Result<VerifierKey, StartError> {
    VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key).map_err(|e| StartError::Manifest {
        what: format!("log key ({})", m.log.origin),
        reason: e.to_string(),
    })
}

impl Mirror {
    /// Opens (or creates) the mirror in `config.data_dir` for the election
    /// of `manifest` (checked by the caller against the authority key).
    /// Recovers the copy on disk (the checkpoint must verify under the log
    /// key and the tiles hash to it), re-reads its entries to rebuild the
    /// election state, and serves the totals it had verified. A mirror
    /// holding evidence stays stopped.
    pub fn open(manifest: SignedManifest, config: Config) -> Result<Mirror, StartError> {
        let manifest_bytes = manifest.to_bytes();
        let manifest = Arc::new(manifest.into_manifest());
        let log_key = log_verifier(&manifest)?;
        let witnesses = manifest
            .witnesses
            .iter()
            .map(|w| {
                VerifierKey::new(&w.name, KeyKind::CosignatureV1, w.key).map_err(|e| {
                    StartError::Manifest {
                        what: format!("witness key {}", w.name),
                        reason: e.to_string(),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = config
            .quorum
            .unwrap_or(usize::try_from(manifest.quorum).unwrap_or(usize::MAX));
        if quorum > witnesses.len() {
            return Err(StartError::Quorum {
                quorum,
                witnesses: witnesses.len(),
            });
        }
        let client = tallyboard_verify::source::http_client(&config.http).map_err(|e| {
            StartError::Upstream {
                upstream: config.upstream.clone(),
                reason: e.to_string(),
            }
        })?;
        let source =
            Source::parse(&config.upstream, &client).map_err(|e| StartError::Upstream {
                upstream: config.upstream.clone(),
                reason: e.to_string(),
            })?;
        let log = Log::open_mirror(&config.data_dir, log_key.clone(), Options::default())?;
        let public = config.data_dir.join("public");
        let evidence_dir = public.join("evidence");
        write_manifest(&public, &manifest_bytes)?;
        let read = ReadApi::new(manifest.clone(), manifest_bytes, log.reader());
        // The pages are written from what `read` is given below: the
        // copy's entries and totals, both checked.
        let mut site = config.site.clone();
        if site.mirror.is_none() {
            site.mirror = Config::new("", Default::default()).site.mirror;
        }
        read.start_site(site).map_err(StartError::Site)?;

        // Rebuild the election state from the copy.
        let reader = log.reader();
        let cp = reader.checkpoint();
        let mut checker = entries::State::new(manifest.clone());
        let mut units = Vec::new();
        for b in 0..cp.size.div_ceil(256) {
            let entries = reader.bundle(b)?;
            let first = checker.applied();
            let u = entries::check(&mut checker, &entries, Signatures::Trusted)
                .map_err(StartError::Damaged)?;
            units.extend(
                u.into_iter()
                    .enumerate()
                    .map(|(i, u)| (u, first + i as u64)),
            );
        }
        read.add_unit_entries(units);
        let mut trusted = Trusted::empty();
        let mut cosignatures = Vec::new();
        if !cp.note.is_empty() {
            let opened = open_checkpoint(&cp.note, &log_key, &witnesses, 0)
                .map_err(LogError::BadCheckpoint)?;
            cosignatures = opened.cosignatures.iter().map(|c| c.name.clone()).collect();
            trusted = Trusted {
                builder: edge_of(&reader, cp.size)?,
                // Where it was read before the restart is not recorded:
                // name the mirror's own copy, which holds it.
                checkpoint: Some((public.display().to_string(), opened)),
            };
        }
        // Totals verified before the restart.
        let mut totals_size = None;
        if let Some((bytes, body)) = verified_on_disk(&public, &manifest, &checker, &cp) {
            totals_size = Some(cp.size);
            read.set_totals(bytes, body);
        }
        let evidence = list_evidence(&evidence_dir);
        let stopped = !evidence.is_empty();
        let status = Status {
            upstream: source.label().to_owned(),
            origin: manifest.log.origin.clone(),
            state: if stopped {
                "stopped"
            } else if cp.note.is_empty() {
                "not-synced"
            } else {
                "following"
            },
            size: cp.size,
            root: cp.root.to_hex(),
            cosignatures,
            totals_size,
            last_sync: None,
            last_attempt: None,
            problem: evidence.first().map(|f| Problem {
                // Evidence files are named after their finding code
                // (`split-view-…`, `source-bad-data-…`); an entry's
                // evidence (`log-entry-…`) is a bad entry.
                code: FindingCode::ALL
                    .iter()
                    .copied()
                    .find(|c| f.starts_with(&format!("{}-", c.as_str())))
                    .unwrap_or(FindingCode::BadEntry),
                message: format!(
                    "this mirror holds evidence that its upstream misbehaved ({f}) and does not advance; an operator must review it (move the file out of {} to resume)",
                    evidence_dir.display()
                ),
                evidence: Some(f.clone()),
            }),
            evidence,
        };
        let mirror = Mirror {
            inner: Arc::new(Inner {
                manifest,
                log_key,
                witnesses,
                quorum,
                source,
                local: Source::dir(&public),
                public,
                evidence_dir,
                read,
                concurrency: config.concurrency.max(1),
                poll_interval: config.poll_interval,
                state: tokio::sync::Mutex::new(SyncState {
                    log,
                    checker,
                    trusted,
                    manifest_checked: false,
                }),
                status: RwLock::new(status),
                replica: config.storage.clone().map(crate::bucket::Replica::new),
            }),
        };
        mirror.show_notice();
        Ok(mirror)
    }
}
