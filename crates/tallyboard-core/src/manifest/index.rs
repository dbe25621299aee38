//! Validation and the lookup indexes of a manifest.

use std::collections::HashMap;

use crate::cbor;
use crate::keys::{Context, PublicKey};
use crate::limits::{MAX_MIRROR_URL_LEN, MAX_NAME_LEN};
use crate::note::is_valid_key_name;

use super::{
    Centre, CentreKey, Contest, Manifest, ManifestBody, ManifestError, ManifestProblem, Region,
    Unit, is_valid_origin,
};

/// An open-addressing hash table from id to position, storing positions
/// only (4 bytes a slot, load factor at most 1/2): no copy of the ids, a
/// couple of memory accesses a lookup even with a million units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct IdIndex {
    slots: Vec<u32>,
}

const EMPTY_SLOT: u32 = u32::MAX;

fn hash_id(id: &str) -> u64 {
    use core::hash::{Hash as _, Hasher as _};
    // SipHash with fixed keys: deterministic, no randomness needed.
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl IdIndex {
    /// Indexes `items` by id; returns the index and the ids that occur more
    /// than once (each once). Callers keep `items.len() < u32::MAX`.
    fn build<T>(items: &[T], get: impl Fn(&T) -> &str) -> (IdIndex, Vec<String>) {
        let cap = (items.len() * 2).next_power_of_two().max(4);
        let mut slots = vec![EMPTY_SLOT; cap];
        let mask = cap - 1;
        let mut dups: Vec<String> = Vec::new();
        // Which first occurrences have been reported as duplicated.
        let mut reported: Vec<bool> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let id = get(item);
            let mut pos = (hash_id(id) as usize) & mask;
            loop {
                let slot = slots[pos];
                if slot == EMPTY_SLOT {
                    slots[pos] = i as u32;
                    break;
                }
                if items.get(slot as usize).map(&get) == Some(id) {
                    if reported.is_empty() {
                        reported = vec![false; items.len()];
                    }
                    if !reported[slot as usize] {
                        reported[slot as usize] = true;
                        dups.push(id.to_string());
                    }
                    break;
                }
                pos = (pos + 1) & mask;
            }
        }
        (IdIndex { slots }, dups)
    }

    fn find<T>(&self, items: &[T], get: impl Fn(&T) -> &str, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut pos = (hash_id(id) as usize) & mask;
        loop {
            let slot = *self.slots.get(pos)?;
            if slot == EMPTY_SLOT {
                return None;
            }
            if items.get(slot as usize).map(&get) == Some(id) {
                return Some(slot as usize);
            }
            pos = (pos + 1) & mask;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Index {
    units: IdIndex,
    contests: IdIndex,
    regions: IdIndex,
    centres: IdIndex,
    choices: Vec<IdIndex>,
    keys: HashMap<[u8; 32], (u32, u32)>,
    unit_region: Vec<u32>,
    unit_centre: Vec<u32>,
    /// Flattened ancestor chains: region i's chain (itself first) is
    /// `chain[chain_start[i]..chain_start[i + 1]]`.
    chain: Vec<u32>,
    chain_start: Vec<u32>,
}

fn find_in<T>(idx: &IdIndex, items: &[T], id: &str, get: fn(&T) -> &str) -> Option<usize> {
    idx.find(items, get, id)
}

impl Index {
    pub(super) fn build(m: &ManifestBody) -> Result<Index, Vec<ManifestProblem>> {
        let mut p = Vec::new();
        let id_ok = |kind: &'static str, id: &str, p: &mut Vec<ManifestProblem>| {
            if !cbor::is_valid_id(id) {
                p.push(ManifestProblem::InvalidId {
                    kind,
                    id: id.to_string(),
                });
            }
        };
        let text_ok = |what: &dyn Fn() -> String, t: &str, p: &mut Vec<ManifestProblem>| {
            if !cbor::is_valid_text(t, MAX_NAME_LEN) {
                p.push(ManifestProblem::InvalidText { what: what() });
            }
        };
        let too_many = |n: usize| n > u32::MAX as usize;
        if too_many(m.units.len()) || too_many(m.regions.len()) {
            return Err(vec![ManifestProblem::InvalidText {
                what: "the number of units or regions".to_string(),
            }]);
        }

        id_ok("election", &m.election, &mut p);
        text_ok(&|| "the manifest title".to_string(), &m.title, &mut p);
        if !is_valid_origin(&m.log.origin) {
            p.push(ManifestProblem::InvalidText {
                what: format!("log origin {:?}", m.log.origin),
            });
        }
        for ctx in [
            Context::Tally,
            Context::Manifest,
            Context::Totals,
            Context::Certification,
        ] {
            let label = ctx.label();
            if m.log.origin.as_bytes() == &label[..label.len() - 1] {
                p.push(ManifestProblem::OriginIsContextLabel {
                    origin: m.log.origin.clone(),
                });
            }
        }
        for w in &m.witnesses {
            if !is_valid_key_name(&w.name) {
                p.push(ManifestProblem::InvalidText {
                    what: format!("witness name {:?}", w.name),
                });
            }
        }
        let (_, dup) = IdIndex::build(&m.witnesses, |w| &w.name);
        p.extend(dup.into_iter().map(|id| ManifestProblem::DuplicateId {
            kind: "witness",
            id,
        }));
        if let (Some(polls_close), Some(results_due)) = (m.polls_close, m.results_due)
            && results_due < polls_close
        {
            p.push(ManifestProblem::DueBeforeClose {
                polls_close,
                results_due,
            });
        }
        if m.quorum > m.witnesses.len() as u64 {
            p.push(ManifestProblem::QuorumTooLarge {
                quorum: m.quorum,
                witnesses: m.witnesses.len(),
            });
        }
        for u in &m.mirrors {
            if !cbor::is_valid_text(u, MAX_MIRROR_URL_LEN) {
                p.push(ManifestProblem::InvalidText {
                    what: format!("mirror URL {u:?}"),
                });
            }
        }

        // Contests and choices.
        if m.contests.is_empty() {
            p.push(ManifestProblem::NoContests);
        }
        let (contests, dup) = IdIndex::build(&m.contests, |c| &c.id);
        p.extend(dup.into_iter().map(|id| ManifestProblem::DuplicateId {
            kind: "contest",
            id,
        }));
        let mut choices = Vec::with_capacity(m.contests.len());
        for c in &m.contests {
            id_ok("contest", &c.id, &mut p);
            text_ok(&|| format!("title of contest {}", c.id), &c.title, &mut p);
            if c.choices.is_empty() {
                p.push(ManifestProblem::ContestWithoutChoices {
                    contest: c.id.clone(),
                });
            }
            for ch in &c.choices {
                id_ok("choice", &ch.id, &mut p);
                text_ok(
                    &|| format!("name of choice {} of contest {}", ch.id, c.id),
                    &ch.name,
                    &mut p,
                );
            }
            let (ix, dup) = IdIndex::build(&c.choices, |ch| &ch.id);
            p.extend(
                dup.into_iter()
                    .map(|choice| ManifestProblem::DuplicateChoice {
                        contest: c.id.clone(),
                        choice,
                    }),
            );
            choices.push(ix);
        }

        // Regions: references, cycles, ancestor chains.
        let (regions, dup) = IdIndex::build(&m.regions, |r| &r.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "region", id }),
        );
        let region_of = |id: &str| find_in(&regions, &m.regions, id, |r| &r.id);
        let mut parent: Vec<Option<u32>> = Vec::with_capacity(m.regions.len());
        for r in &m.regions {
            id_ok("region", &r.id, &mut p);
            text_ok(&|| format!("name of region {}", r.id), &r.name, &mut p);
            parent.push(match &r.parent {
                None => None,
                Some(pid) => match region_of(pid) {
                    Some(i) => Some(i as u32),
                    None => {
                        p.push(ManifestProblem::UnknownParent {
                            region: r.id.clone(),
                            parent: pid.clone(),
                        });
                        None
                    }
                },
            });
        }
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; m.regions.len()];
        let mut on_cycle = vec![false; m.regions.len()];
        let mut path = Vec::new();
        for start in 0..m.regions.len() {
            let mut cur = Some(start);
            path.clear();
            while let Some(i) = cur {
                match state[i] {
                    2 => break,
                    1 => {
                        // `i` is on the current path: the path from `i` on is a cycle.
                        let from = path.iter().position(|&x| x == i).unwrap_or(0);
                        for &x in &path[from..] {
                            on_cycle[x] = true;
                        }
                        p.push(ManifestProblem::RegionCycle {
                            region: m.regions[i].id.clone(),
                        });
                        break;
                    }
                    _ => {
                        state[i] = 1;
                        path.push(i);
                        cur = parent[i].map(|x| x as usize);
                    }
                }
            }
            for &x in &path {
                state[x] = 2;
            }
        }
        let mut chain = Vec::new();
        let mut chain_start = Vec::with_capacity(m.regions.len() + 1);
        for start in 0..m.regions.len() {
            chain_start.push(chain.len() as u32);
            let mut cur = Some(start);
            let mut steps = 0;
            while let Some(i) = cur {
                if on_cycle[i] || steps > m.regions.len() {
                    break;
                }
                chain.push(i as u32);
                steps += 1;
                cur = parent[i].map(|x| x as usize);
            }
        }
        chain_start.push(chain.len() as u32);

        // Centres and keys.
        let (centres, dup) = IdIndex::build(&m.centres, |c| &c.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "centre", id }),
        );
        let mut keys: HashMap<[u8; 32], (u32, u32)> = HashMap::new();
        for (ci, c) in m.centres.iter().enumerate() {
            id_ok("centre", &c.id, &mut p);
            text_ok(
                &|| format!("name of count centre {}", c.id),
                &c.name,
                &mut p,
            );
            for (ki, k) in c.keys.iter().enumerate() {
                if k.valid_from >= k.valid_until {
                    p.push(ManifestProblem::EmptyKeyWindow {
                        centre: c.id.clone(),
                        key: k.key.to_hex(),
                        valid_from: k.valid_from,
                        valid_until: k.valid_until,
                    });
                }
                match keys.get(k.key.as_bytes()) {
                    Some(&(other, _)) if other as usize == ci => {
                        p.push(ManifestProblem::DuplicateCentreKey {
                            centre: c.id.clone(),
                            key: k.key.to_hex(),
                        })
                    }
                    Some(&(other, _)) => p.push(ManifestProblem::KeyInTwoCentres {
                        key: k.key.to_hex(),
                        first: m.centres[other as usize].id.clone(),
                        second: c.id.clone(),
                    }),
                    None => {
                        keys.insert(*k.key.as_bytes(), (ci as u32, ki as u32));
                    }
                }
            }
        }

        // Units.
        if m.units.is_empty() {
            p.push(ManifestProblem::NoUnits);
        }
        let (units, dup) = IdIndex::build(&m.units, |u| &u.id);
        p.extend(
            dup.into_iter()
                .map(|id| ManifestProblem::DuplicateId { kind: "unit", id }),
        );
        let mut unit_region = Vec::with_capacity(m.units.len());
        let mut unit_centre = Vec::with_capacity(m.units.len());
        for u in &m.units {
            id_ok("unit", &u.id, &mut p);
            text_ok(&|| format!("name of unit {}", u.id), &u.name, &mut p);
            match region_of(&u.region) {
                Some(i) => unit_region.push(i as u32),
                None => {
                    unit_region.push(0);
                    p.push(ManifestProblem::UnknownRegion {
                        unit: u.id.clone(),
                        region: u.region.clone(),
                    });
                }
            }
            match find_in(&centres, &m.centres, &u.centre, |c| &c.id) {
                Some(i) => unit_centre.push(i as u32),
                None => {
                    unit_centre.push(0);
                    p.push(ManifestProblem::UnknownCentre {
                        unit: u.id.clone(),
                        centre: u.centre.clone(),
                    });
                }
            }
            for (i, c) in u.contests.iter().enumerate() {
                if find_in(&contests, &m.contests, c, |c| &c.id).is_none() {
                    p.push(ManifestProblem::UnknownUnitContest {
                        unit: u.id.clone(),
                        contest: c.clone(),
                    });
                }
                if u.contests[..i].contains(c) {
                    p.push(ManifestProblem::DuplicateUnitContest {
                        unit: u.id.clone(),
                        contest: c.clone(),
                    });
                }
            }
        }

        if !p.is_empty() {
            return Err(p);
        }
        Ok(Index {
            units,
            contests,
            regions,
            centres,
            choices,
            keys,
            unit_region,
            unit_centre,
            chain,
            chain_start,
        })
    }
}

impl ManifestBody {
    /// Checks every structural rule and returns every problem found (empty
    /// when the body is valid).
    pub fn problems(&self) -> Vec<ManifestProblem> {
        Index::build(self).err().unwrap_or_default()
    }

    /// Validates the body and builds the lookup indexes.
    pub fn validate(self) -> Result<Manifest, ManifestError> {
        Manifest::new(self)
    }
}

impl Manifest {
    /// Position of the unit with this id.
    pub fn unit_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.units, &self.body.units, id, |u| &u.id)
    }

    /// The unit with this id.
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.unit_index(id).and_then(|i| self.body.units.get(i))
    }

    /// Position of the contest with this id.
    pub fn contest_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.contests, &self.body.contests, id, |c| &c.id)
    }

    /// The contest with this id.
    pub fn contest(&self, id: &str) -> Option<&Contest> {
        self.contest_index(id)
            .and_then(|i| self.body.contests.get(i))
    }

    /// Position of a choice within contest number `contest` (a position
    /// from [`Manifest::contest_index`]).
    pub fn choice_index(&self, contest: usize, choice: &str) -> Option<usize> {
        let c = self.body.contests.get(contest)?;
        find_in(self.index.choices.get(contest)?, &c.choices, choice, |ch| {
            &ch.id
        })
    }

    /// Position of the region with this id.
    pub fn region_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.regions, &self.body.regions, id, |r| &r.id)
    }

    /// The region with this id.
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.region_index(id).and_then(|i| self.body.regions.get(i))
    }

    /// Position of the count centre with this id.
    pub fn centre_index(&self, id: &str) -> Option<usize> {
        find_in(&self.index.centres, &self.body.centres, id, |c| &c.id)
    }

    /// The count centre with this id.
    pub fn centre(&self, id: &str) -> Option<&Centre> {
        self.centre_index(id).and_then(|i| self.body.centres.get(i))
    }

    /// The centre that lists `key`, with the key's window; positions are
    /// (centre, key within the centre).
    pub fn key_position(&self, key: &PublicKey) -> Option<(usize, usize)> {
        self.index
            .keys
            .get(key.as_bytes())
            .map(|&(c, k)| (c as usize, k as usize))
    }

    /// The validated key with these bytes, if the manifest lists it.
    pub fn key_by_bytes(&self, bytes: &[u8; 32]) -> Option<PublicKey> {
        let &(c, k) = self.index.keys.get(bytes)?;
        Some(self.body.centres.get(c as usize)?.keys.get(k as usize)?.key)
    }

    /// The centre that lists `key`, and the key's entry there.
    pub fn key(&self, key: &PublicKey) -> Option<(&Centre, &CentreKey)> {
        let (c, k) = self.key_position(key)?;
        let centre = self.body.centres.get(c)?;
        Some((centre, centre.keys.get(k)?))
    }

    /// Position of the region of unit number `unit`.
    pub fn unit_region_index(&self, unit: usize) -> Option<usize> {
        self.index.unit_region.get(unit).map(|&r| r as usize)
    }

    /// Position of the count centre of unit number `unit`.
    pub fn unit_centre_index(&self, unit: usize) -> Option<usize> {
        self.index.unit_centre.get(unit).map(|&c| c as usize)
    }

    /// Region number `region` and all its ancestors, the region itself
    /// first and a top-level region last (positions in `regions`).
    pub fn region_ancestors(&self, region: usize) -> &[u32] {
        let s = self.index.chain_start.get(region).copied().unwrap_or(0) as usize;
        let e = self.index.chain_start.get(region + 1).copied().unwrap_or(0) as usize;
        self.index.chain.get(s..e).unwrap_or(&[])
    }

    /// Every region unit number `unit` counts in: its own region first,
    /// then each ancestor.
    pub fn unit_regions(&self, unit: usize) -> &[u32] {
        match self.unit_region_index(unit) {
            Some(r) => self.region_ancestors(r),
            None => &[],
        }
    }
}
