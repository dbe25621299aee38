//! The example election of `keys-example/` (EXAMPLE ONLY keys): its files,
//! its keys, its manifest, and every tally of it signed.

use std::path::PathBuf;

use tallyboard_core::PublicKey;
use tallyboard_core::manifest::{CentreKey, Contest, Manifest, SignedManifest, Unit};
use tallyboard_core::note::{KeyKind, SignerKey, VerifierKey};
use tallyboard_core::tally::{SignedTally, Tally};

/// `keys-example/<path>`.
pub fn example(path: &str) -> PathBuf {
    crate::repo_root().join("keys-example").join(path)
}

/// The directory of the example keys, `keys-example/keys`.
pub fn keys_dir() -> PathBuf {
    example("keys")
}

/// The example private key in `keys-example/keys/<file>`.
pub fn signer(file: &str) -> SignerKey {
    let path = keys_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    SignerKey::parse(text.trim_end()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The log's key (`EXAMPLE-ONLY.log.key`).
pub fn log_signer() -> SignerKey {
    signer("EXAMPLE-ONLY.log.key")
}

/// The current key of count centre `centre` (`EXAMPLE-ONLY.centre-<centre>.key`).
pub fn centre_signer(centre: &str) -> SignerKey {
    signer(&format!("EXAMPLE-ONLY.centre-{centre}.key"))
}

/// The bytes of `keys-example/manifest.signed`.
pub fn manifest_bytes() -> Vec<u8> {
    std::fs::read(example("manifest.signed")).unwrap()
}

/// The signed example manifest (its signature checked against itself only).
pub fn signed_manifest() -> SignedManifest {
    SignedManifest::from_bytes(&manifest_bytes(), None).unwrap()
}

/// The log's verifier key as the example manifest names it.
pub fn log_verifier() -> VerifierKey {
    let m = signed_manifest().into_manifest();
    VerifierKey::new(&m.log.origin, KeyKind::Ed25519, m.log.key).unwrap()
}

/// The example election with its units replaced by `units` copies of its
/// first unit of count centre C-NORTH (all that unit's contests), signed by
/// the example authority: a larger election of the same shape.
pub fn scaled_example(units: usize) -> SignedManifest {
    let mut body = signed_manifest().into_manifest().into_body();
    let template = body
        .units
        .iter()
        .find(|u| u.centre == "C-NORTH")
        .unwrap()
        .clone();
    body.units = (0..units)
        .map(|i| Unit {
            id: format!("U{i:07}"),
            name: format!("Scaled unit {i}"),
            ..template.clone()
        })
        .collect();
    body.validate()
        .unwrap()
        .sign(signer("EXAMPLE-ONLY.authority.key").secret())
}

/// The figures of one tally.
#[derive(Clone, Debug)]
pub struct Figures {
    /// Votes per choice id.
    pub choices: Vec<(String, u64)>,
    /// Blank ballots.
    pub blank: u64,
    /// Invalid ballots.
    pub invalid: u64,
    /// Ballots cast.
    pub cast: u64,
    /// When the unit was counted (Unix seconds).
    pub counted_at: u64,
}

impl Figures {
    /// The figures of a valid tally of `contest` counted under key `ck`:
    /// `base` votes per choice (the first choice one more), 2 blank, 1
    /// invalid, counted a minute after the key became valid or election
    /// day began (2026-05-10T20:00:00Z), whichever is later.
    pub fn base(contest: &Contest, ck: &CentreKey, base: u64) -> Figures {
        let choices: Vec<(String, u64)> = contest
            .choices
            .iter()
            .enumerate()
            .map(|(i, ch)| (ch.id.clone(), base + u64::from(i == 0)))
            .collect();
        let votes: u64 = choices.iter().map(|(_, v)| v).sum();
        Figures {
            choices,
            blank: 2,
            invalid: 1,
            cast: votes + 3,
            counted_at: ck.valid_from.max(1_778_443_200) + 60,
        }
    }
}

impl Figures {
    /// The first-revision tally of `unit` for `contest` of `election`
    /// with these figures, signed by `key`.
    pub fn tally(self, election: &str, contest: &str, unit: &str, key: PublicKey) -> Tally {
        Tally::new(
            election,
            contest,
            unit,
            self.choices,
            self.blank,
            self.invalid,
            self.cast,
            self.counted_at,
            key,
        )
    }
}

/// One first-revision tally per (unit, contest) of `m`, in manifest order,
/// each signed by the current key of its unit's count centre
/// (`EXAMPLE-ONLY.centre-<centre>.key`); `figures` gives each tally's
/// figures from the unit, the contest and the signing key's manifest entry.
/// Units whose centre has no such key file are skipped.
pub fn sign_every_tally(
    m: &Manifest,
    figures: impl Fn(&Unit, &Contest, &CentreKey) -> Figures,
) -> Vec<SignedTally> {
    let mut out = Vec::new();
    for u in &m.units {
        if !keys_dir()
            .join(format!("EXAMPLE-ONLY.centre-{}.key", u.centre))
            .is_file()
        {
            continue;
        }
        let key = centre_signer(&u.centre);
        let pk = key.secret().public_key();
        let Some((_, ck)) = m.key(&pk) else {
            continue;
        };
        for c in &u.contests {
            let contest = m.contest(c).unwrap();
            let t = figures(u, contest, ck).tally(&m.election, c, &u.id, pk);
            out.push(t.sign(key.secret()));
        }
    }
    out
}

/// The example election scaled (see [`scaled_example`]) to at least `n`
/// tallies, and its first `n` tallies (every contest of each unit in
/// order), signed by count centre C-NORTH's example key on every core:
/// the generator of the benchmarks' large logs.
pub fn scaled_tallies(n: u64) -> (SignedManifest, Vec<Vec<u8>>) {
    let per = signed_manifest()
        .into_manifest()
        .units
        .iter()
        .find(|u| u.centre == "C-NORTH")
        .map_or(1, |u| u.contests.len() as u64);
    let signed = scaled_example(n.div_ceil(per) as usize);
    let m = signed.manifest();
    let centre = centre_signer("C-NORTH").secret().clone();
    let pk = centre.public_key();
    let (_, ck) = m.key(&pk).unwrap();
    let jobs: Vec<(&Unit, &Contest)> = m
        .units
        .iter()
        .flat_map(|u| u.contests.iter().map(move |c| (u, m.contest(c).unwrap())))
        .take(n as usize)
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = jobs.len().div_ceil(threads).max(1);
    let tallies = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(per)
            .map(|chunk| {
                let centre = centre.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(u, c)| {
                            Figures::base(c, ck, 10)
                                .tally(&m.election, &c.id, &u.id, pk)
                                .sign(&centre)
                                .to_bytes()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    (signed, tallies)
}
