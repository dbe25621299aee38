//! The static, sharded search index: finding a unit by id, by name or by a
//! distinctive word of its name without any page listing every unit.
//!
//! Keys are normalised (lower case, letters and digits only: `U-000123`
//! and `u000123` are the same key). A key's shard is the FNV-1a 32-bit hash
//! of its UTF-8 bytes modulo the number of shards, written as
//! `search/<shard in hex, 4 digits>.json`: an object from key to the list of
//! `[unit id, unit name]` it finds. The number of shards is a power of two
//! chosen so that a shard holds about [`KEYS_PER_SHARD`] keys; the search
//! page carries it (`data-tb-shards`). Words of names are indexed when at
//! most [`MAX_WORD_UNITS`] units share them (not "polling", "station").

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::page::{Kind, esc};
use super::{Site, Status};

/// About how many keys one shard holds.
pub const KEYS_PER_SHARD: usize = 512;
/// A word of names shared by more units than this is not indexed.
pub const MAX_WORD_UNITS: usize = 50;

/// The search key of `s`: lower case, letters and digits only.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// FNV-1a, 32 bits, of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The number of shards for `keys` keys: a power of two, at least 1.
pub fn shard_count(keys: usize) -> u32 {
    let want = keys.div_ceil(KEYS_PER_SHARD).max(1);
    u32::try_from(want.next_power_of_two())
        .unwrap_or(1 << 16)
        .min(1 << 16)
}

/// The file of the shard of `key` (normalised) among `shards`.
pub fn shard_file(key: &str, shards: u32) -> String {
    format!("search/{:04x}.json", fnv1a(key.as_bytes()) % shards.max(1))
}

impl Site {
    /// The index keys of every unit: `(key, unit index)`.
    fn search_keys(&self) -> Vec<(String, usize)> {
        let units = &self.manifest.units;
        let words_of = |name: &str| -> Vec<String> {
            let mut w: Vec<String> = name
                .split(|c: char| !c.is_alphanumeric())
                .map(normalise)
                .filter(|w| w.chars().count() >= 3)
                .collect();
            w.sort();
            w.dedup();
            w
        };
        let mut freq: HashMap<String, usize> = HashMap::new();
        for u in units {
            for w in words_of(&u.name) {
                *freq.entry(w).or_default() += 1;
            }
        }
        let mut keys = Vec::with_capacity(units.len() * 2);
        for (i, u) in units.iter().enumerate() {
            let id = normalise(&u.id);
            let name = normalise(&u.name);
            let mut mine = vec![id, name];
            for w in words_of(&u.name) {
                if freq.get(&w).is_some_and(|&n| n <= MAX_WORD_UNITS) {
                    mine.push(w);
                }
            }
            mine.sort();
            mine.dedup();
            keys.extend(mine.into_iter().filter(|k| !k.is_empty()).map(|k| (k, i)));
        }
        keys
    }

    /// The shards of the search index, `(path under public/, contents)`,
    /// and their number.
    pub fn search_index(&self) -> (u32, Vec<(String, Vec<u8>)>) {
        let keys = self.search_keys();
        let mut distinct: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let n = shard_count(distinct.len());
        let mut shards: Vec<BTreeMap<&str, Vec<usize>>> = vec![BTreeMap::new(); n as usize];
        for (k, u) in &keys {
            let s = (fnv1a(k.as_bytes()) % n) as usize;
            if let Some(m) = shards.get_mut(s) {
                m.entry(k.as_str()).or_default().push(*u);
            }
        }
        let units = &self.manifest.units;
        let files = shards
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let obj: serde_json::Map<String, serde_json::Value> = m
                    .iter()
                    .map(|(k, us)| {
                        let list = us
                            .iter()
                            .filter_map(|&u| units.get(u))
                            .map(|u| serde_json::json!([u.id, u.name]))
                            .collect();
                        ((*k).to_owned(), serde_json::Value::Array(list))
                    })
                    .collect();
                (
                    format!("search/{i:04x}.json"),
                    serde_json::to_vec(&obj).unwrap_or_default(),
                )
            })
            .collect();
        (n, files)
    }
}

/// The search page: a form for the script, and region browsing without it.
pub(crate) fn page(site: &Site, shards: u32, st: &Status) -> String {
    let t = site.t;
    let extra = "\n<script type=\"module\" src=\"/site/search.js\"></script>";
    let mut s = site.open(
        &format!("{} – {}", t.search_title, site.manifest.title),
        &Kind::Search,
        &site.banner(st, false, true),
        extra,
    );
    let _ = write!(
        s,
        "<h1>{}</h1>\n<form id=\"tb-search\" role=\"search\" data-tb-shards=\"{shards}\" hidden>\
         <label for=\"tb-q\">{}</label> <input id=\"tb-q\" name=\"q\" type=\"search\" autocomplete=\"off\" aria-describedby=\"tb-q-hint\"> \
         <button type=\"submit\">{}</button><p id=\"tb-q-hint\">{}</p></form>\n\
         <div id=\"tb-results\" aria-live=\"polite\"></div>\n<p id=\"tb-nojs\">{}</p>\n",
        esc(t.search_title),
        esc(t.search_label),
        esc(t.search_button),
        esc(t.search_hint),
        esc(t.search_nojs),
    );
    site.region_links(&mut s, &site.top);
    site.close(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_shards() {
        assert_eq!(normalise("U-000123"), "u000123");
        assert_eq!(normalise("École Nº 5"), "écolenº5");
        // FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
        assert_eq!(shard_count(0), 1);
        assert_eq!(shard_count(513), 2);
        assert_eq!(shard_count(2_000_000), 4096);
    }
}
