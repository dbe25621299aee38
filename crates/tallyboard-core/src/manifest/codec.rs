//! Encoding and decoding of the manifest body (canonical CBOR).

use crate::cbor::{self, CborError, Encoder, Reader, required};
use crate::limits::{MAX_MIRROR_URL_LEN, MAX_SIGNED_MANIFEST};
use crate::note::is_valid_key_name;

use super::{
    Centre, CentreKey, Choice, Contest, LogInfo, ManifestBody, Region, Unit, Witness,
    is_valid_origin,
};

impl ManifestBody {
    /// The canonical CBOR body.
    pub fn to_body_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(256 + 96 * self.units.len());
        e.map(
            12 + usize::from(self.polls_close.is_some()) + usize::from(self.results_due.is_some()),
        );
        e.uint(0);
        e.uint(1);
        e.uint(1);
        e.text(&self.election);
        e.uint(2);
        e.text(&self.title);
        e.uint(3);
        e.bytes(self.authority.as_bytes());
        e.uint(4);
        e.map(2);
        e.uint(0);
        e.text(&self.log.origin);
        e.uint(1);
        e.bytes(self.log.key.as_bytes());
        e.uint(5);
        e.array(self.witnesses.len());
        for w in &self.witnesses {
            e.map(2);
            e.uint(0);
            e.text(&w.name);
            e.uint(1);
            e.bytes(w.key.as_bytes());
        }
        e.uint(6);
        e.uint(self.quorum);
        e.uint(7);
        e.array(self.mirrors.len());
        for m in &self.mirrors {
            e.text(m);
        }
        e.uint(8);
        e.array(self.contests.len());
        for c in &self.contests {
            e.map(3);
            e.uint(0);
            e.text(&c.id);
            e.uint(1);
            e.text(&c.title);
            e.uint(2);
            e.array(c.choices.len());
            for ch in &c.choices {
                e.map(2);
                e.uint(0);
                e.text(&ch.id);
                e.uint(1);
                e.text(&ch.name);
            }
        }
        e.uint(9);
        e.array(self.regions.len());
        for r in &self.regions {
            e.map(2 + usize::from(r.parent.is_some()));
            e.uint(0);
            e.text(&r.id);
            e.uint(1);
            e.text(&r.name);
            if let Some(p) = &r.parent {
                e.uint(2);
                e.text(p);
            }
        }
        e.uint(10);
        e.array(self.centres.len());
        for c in &self.centres {
            e.map(3);
            e.uint(0);
            e.text(&c.id);
            e.uint(1);
            e.text(&c.name);
            e.uint(2);
            e.array(c.keys.len());
            for k in &c.keys {
                e.map(3 + usize::from(k.revoked_at.is_some()));
                e.uint(0);
                e.bytes(k.key.as_bytes());
                e.uint(1);
                e.uint(k.valid_from);
                e.uint(2);
                e.uint(k.valid_until);
                if let Some(r) = k.revoked_at {
                    e.uint(3);
                    e.uint(r);
                }
            }
        }
        e.uint(11);
        e.array(self.units.len());
        for u in &self.units {
            e.map(6);
            e.uint(0);
            e.text(&u.id);
            e.uint(1);
            e.text(&u.name);
            e.uint(2);
            e.text(&u.region);
            e.uint(3);
            e.uint(u.registered);
            e.uint(4);
            e.array(u.contests.len());
            for c in &u.contests {
                e.text(c);
            }
            e.uint(5);
            e.text(&u.centre);
        }
        if let Some(t) = self.polls_close {
            e.uint(12);
            e.uint(t);
        }
        if let Some(t) = self.results_due {
            e.uint(13);
            e.uint(t);
        }
        e.into_bytes()
    }

    /// Decodes a canonical manifest body (size cap, types, canonical form).
    /// No signature check and no structural validation: see
    /// [`SignedManifest::from_bytes`](super::SignedManifest::from_bytes) and [`ManifestBody::validate`].
    pub fn from_body_bytes(body: &[u8]) -> Result<ManifestBody, CborError> {
        let mut r = Reader::new(body, MAX_SIGNED_MANIFEST)?;
        let (mut version, mut election, mut title, mut authority, mut log) =
            (None, None, None, None, None);
        let (mut witnesses, mut quorum, mut mirrors, mut contests) = (None, None, None, None);
        let (mut regions, mut centres, mut units) = (None, None, None);
        let (mut polls_close, mut results_due) = (None, None);
        struct_map(
            &mut r,
            "manifest",
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
            |r, k| {
                match k {
                    0 => version = Some(r.version("manifest.version")?),
                    1 => election = Some(r.id("manifest.election")?.to_string()),
                    2 => title = Some(r.name("manifest.title")?.to_string()),
                    3 => authority = Some(r.key32("manifest.authority")?),
                    4 => log = Some(read_log(r)?),
                    5 => witnesses = Some(array_of(r, "manifest.witnesses", read_witness)?),
                    6 => quorum = Some(r.uint("manifest.quorum")?),
                    7 => {
                        mirrors = Some(array_of(r, "manifest.mirrors", |r| {
                            Ok(r.text_limited("manifest.mirrors[]", MAX_MIRROR_URL_LEN)?
                                .to_string())
                        })?)
                    }
                    8 => contests = Some(array_of(r, "manifest.contests", read_contest)?),
                    9 => regions = Some(array_of(r, "manifest.regions", read_region)?),
                    10 => centres = Some(array_of(r, "manifest.centres", read_centre)?),
                    11 => units = Some(array_of(r, "manifest.units", read_unit)?),
                    12 => polls_close = Some(r.uint("manifest.polls_close")?),
                    _ => results_due = Some(r.uint("manifest.results_due")?),
                }
                Ok(())
            },
        )?;
        r.finish()?;
        required(version, "manifest.version")?;
        let m = ManifestBody {
            election: required(election, "manifest.election")?,
            title: required(title, "manifest.title")?,
            authority: required(authority, "manifest.authority")?,
            log: required(log, "manifest.log")?,
            witnesses: required(witnesses, "manifest.witnesses")?,
            quorum: required(quorum, "manifest.quorum")?,
            mirrors: required(mirrors, "manifest.mirrors")?,
            contests: required(contests, "manifest.contests")?,
            regions: required(regions, "manifest.regions")?,
            centres: required(centres, "manifest.centres")?,
            units: required(units, "manifest.units")?,
            polls_close,
            results_due,
        };
        cbor::require_canonical(body, &m.to_body_bytes())?;
        Ok(m)
    }
}

/// Reads a struct-like map, calling `f` with each key (unknown and
/// repeated keys are errors).
fn struct_map<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
    known: &[u8],
    mut f: impl FnMut(&mut Reader<'a>, u8) -> Result<(), CborError>,
) -> Result<(), CborError> {
    let n = r.map(field)?;
    let mut seen = 0u32;
    for _ in 0..n {
        let k = r.key(field, known, &mut seen)?;
        f(r, k)?;
    }
    Ok(())
}

fn array_of<'a, T>(
    r: &mut Reader<'a>,
    field: &'static str,
    mut f: impl FnMut(&mut Reader<'a>) -> Result<T, CborError>,
) -> Result<Vec<T>, CborError> {
    let n = r.array(field)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(f(r)?);
    }
    Ok(out)
}

fn read_log(r: &mut Reader<'_>) -> Result<LogInfo, CborError> {
    let (mut origin, mut key) = (None, None);
    struct_map(r, "manifest.log", &[0, 1], |r, k| {
        if k == 0 {
            let o = r.text("manifest.log.origin")?;
            if !is_valid_origin(o) {
                return Err(CborError::InvalidText {
                    field: "manifest.log.origin",
                });
            }
            origin = Some(o.to_string());
        } else {
            key = Some(r.key32("manifest.log.key")?);
        }
        Ok(())
    })?;
    Ok(LogInfo {
        origin: required(origin, "manifest.log.origin")?,
        key: required(key, "manifest.log.key")?,
    })
}

fn read_witness(r: &mut Reader<'_>) -> Result<Witness, CborError> {
    let (mut name, mut key) = (None, None);
    struct_map(r, "manifest.witnesses[]", &[0, 1], |r, k| {
        if k == 0 {
            let n = r.text("manifest.witnesses[].name")?;
            if !is_valid_key_name(n) {
                return Err(CborError::InvalidText {
                    field: "manifest.witnesses[].name",
                });
            }
            name = Some(n.to_string());
        } else {
            key = Some(r.key32("manifest.witnesses[].key")?);
        }
        Ok(())
    })?;
    Ok(Witness {
        name: required(name, "manifest.witnesses[].name")?,
        key: required(key, "manifest.witnesses[].key")?,
    })
}

fn read_contest(r: &mut Reader<'_>) -> Result<Contest, CborError> {
    let (mut id, mut title, mut choices) = (None, None, None);
    struct_map(r, "contest", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("contest.id")?.to_string()),
            1 => title = Some(r.name("contest.title")?.to_string()),
            _ => {
                choices = Some(array_of(r, "contest.choices", |r| {
                    let (mut id, mut name) = (None, None);
                    struct_map(r, "choice", &[0, 1], |r, k| {
                        if k == 0 {
                            id = Some(r.id("choice.id")?.to_string());
                        } else {
                            name = Some(r.name("choice.name")?.to_string());
                        }
                        Ok(())
                    })?;
                    Ok(Choice {
                        id: required(id, "choice.id")?,
                        name: required(name, "choice.name")?,
                    })
                })?)
            }
        }
        Ok(())
    })?;
    Ok(Contest {
        id: required(id, "contest.id")?,
        title: required(title, "contest.title")?,
        choices: required(choices, "contest.choices")?,
    })
}

fn read_region(r: &mut Reader<'_>) -> Result<Region, CborError> {
    let (mut id, mut name, mut parent) = (None, None, None);
    struct_map(r, "region", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("region.id")?.to_string()),
            1 => name = Some(r.name("region.name")?.to_string()),
            _ => parent = Some(r.id("region.parent")?.to_string()),
        }
        Ok(())
    })?;
    Ok(Region {
        id: required(id, "region.id")?,
        name: required(name, "region.name")?,
        parent,
    })
}

fn read_centre(r: &mut Reader<'_>) -> Result<Centre, CborError> {
    let (mut id, mut name, mut keys) = (None, None, None);
    struct_map(r, "centre", &[0, 1, 2], |r, k| {
        match k {
            0 => id = Some(r.id("centre.id")?.to_string()),
            1 => name = Some(r.name("centre.name")?.to_string()),
            _ => keys = Some(array_of(r, "centre.keys", read_centre_key)?),
        }
        Ok(())
    })?;
    Ok(Centre {
        id: required(id, "centre.id")?,
        name: required(name, "centre.name")?,
        keys: required(keys, "centre.keys")?,
    })
}

fn read_centre_key(r: &mut Reader<'_>) -> Result<CentreKey, CborError> {
    let (mut key, mut from, mut until, mut revoked) = (None, None, None, None);
    struct_map(r, "centre.keys[]", &[0, 1, 2, 3], |r, k| {
        match k {
            0 => key = Some(r.key32("centre.keys[].key")?),
            1 => from = Some(r.uint("centre.keys[].valid_from")?),
            2 => until = Some(r.uint("centre.keys[].valid_until")?),
            _ => revoked = Some(r.uint("centre.keys[].revoked_at")?),
        }
        Ok(())
    })?;
    Ok(CentreKey {
        key: required(key, "centre.keys[].key")?,
        valid_from: required(from, "centre.keys[].valid_from")?,
        valid_until: required(until, "centre.keys[].valid_until")?,
        revoked_at: revoked,
    })
}

fn read_unit(r: &mut Reader<'_>) -> Result<Unit, CborError> {
    let (mut id, mut name, mut region, mut registered, mut contests, mut centre) =
        (None, None, None, None, None, None);
    struct_map(r, "unit", &[0, 1, 2, 3, 4, 5], |r, k| {
        match k {
            0 => id = Some(r.id("unit.id")?.to_string()),
            1 => name = Some(r.name("unit.name")?.to_string()),
            2 => region = Some(r.id("unit.region")?.to_string()),
            3 => registered = Some(r.uint("unit.registered")?),
            4 => {
                contests = Some(array_of(r, "unit.contests", |r| {
                    Ok(r.id("unit.contests[]")?.to_string())
                })?)
            }
            _ => centre = Some(r.id("unit.centre")?.to_string()),
        }
        Ok(())
    })?;
    Ok(Unit {
        id: required(id, "unit.id")?,
        name: required(name, "unit.name")?,
        region: required(region, "unit.region")?,
        registered: required(registered, "unit.registered")?,
        contests: required(contests, "unit.contests")?,
        centre: required(centre, "unit.centre")?,
    })
}
