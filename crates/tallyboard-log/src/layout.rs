//! Paths of the public tree (C2SP tlog-tiles read paths) and entry bundles.
//!
//! Every public file lives at the path a tlog-tiles client requests, relative
//! to the `public/` directory of the data directory:
//!
//! ```text
//! checkpoint
//! tile/<L>/<N>[.p/<W>]          L = tile level 0..=63, W = 1..=255 (partial)
//! tile/entries/<N>[.p/<W>]
//! ```
//!
//! `<N>` is written in groups of three decimal digits, every group but the
//! last prefixed with `x` (`1234067` → `x001/x234/067`), exactly as C2SP
//! tlog-tiles specifies.

use tallyboard_core::Hash;

/// Number of hashes in a full tile and entries in a full entry bundle.
pub const TILE_WIDTH: u64 = 256;

/// Highest tile level a path may name (C2SP tlog-tiles).
pub const MAX_TILE_LEVEL: u8 = 63;

/// Longest read path [`ReadPath::parse`] looks at, in bytes.
pub const MAX_READ_PATH_LEN: usize = 64;

/// `<N>` of a tile path: zero-padded groups of three digits, all but the
/// last prefixed with `x`.
pub fn format_tile_index(n: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(groups.len() * 5);
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    out
}

/// Which kind of public file a [`ReadPath`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A Merkle tree tile at this tile level (level 0 holds leaf hashes).
    Tile(u8),
    /// An entry bundle.
    Entries,
}

/// A tile or entry bundle read path, as `tile/<L>/<N>[.p/<W>]` or
/// `tile/entries/<N>[.p/<W>]` (relative to the log prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReadPath {
    /// Tile level or entry bundle.
    pub kind: Kind,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes (or entries): 256 for a full tile, 1..=255 for a
    /// partial one.
    pub width: u16,
}

impl ReadPath {
    /// A full or partial tile at `level`; `width` must be 1..=256.
    pub fn tile(level: u8, index: u64, width: u16) -> ReadPath {
        ReadPath {
            kind: Kind::Tile(level),
            index,
            width,
        }
    }

    /// A full or partial entry bundle; `width` must be 1..=256.
    pub fn entries(index: u64, width: u16) -> ReadPath {
        ReadPath {
            kind: Kind::Entries,
            index,
            width,
        }
    }

    /// True for a full tile or bundle (256 wide).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The path relative to the log prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn to_path(&self) -> String {
        let mut s = match self.kind {
            Kind::Tile(l) => format!("tile/{l}/"),
            Kind::Entries => "tile/entries/".to_owned(),
        };
        s.push_str(&format_tile_index(self.index));
        if !self.is_full() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Parses a path relative to the log prefix (no leading `/`). Only the
    /// canonical form is accepted: no leading zeros in `<L>` or `<W>`, no
    /// superfluous `x000/` groups, level at most [`MAX_TILE_LEVEL`], width
    /// 1..=255 after `.p/`.
    pub fn parse(path: &str) -> Option<ReadPath> {
        if path.len() > MAX_READ_PATH_LEN {
            return None;
        }
        let rest = path.strip_prefix("tile/")?;
        let (kind, rest) = if let Some(r) = rest.strip_prefix("entries/") {
            (Kind::Entries, r)
        } else {
            let (l, r) = rest.split_once('/')?;
            let level: u8 = parse_decimal(l)?.try_into().ok()?;
            if level > MAX_TILE_LEVEL {
                return None;
            }
            (Kind::Tile(level), r)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = parse_decimal(w)?;
                if w == 0 || w >= TILE_WIDTH {
                    return None;
                }
                (i, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_part.split('/').collect();
        for (i, g) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                g.strip_prefix('x')?
            } else {
                g
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let d: u64 = digits.parse().ok()?;
            index = index.checked_mul(1000)?.checked_add(d)?;
        }
        let p = ReadPath { kind, index, width };
        // Canonical form only (rejects `x000/005` for `005`).
        (p.to_path() == path).then_some(p)
    }
}

/// A decimal number without sign or leading zeros.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Encodes a tile: the concatenated 32-byte hashes.
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * 32);
    for h in hashes {
        out.extend_from_slice(h.as_bytes());
    }
    out
}

/// Decodes a tile of exactly `width` hashes; `None` if the length differs.
pub fn decode_tile(bytes: &[u8], width: usize) -> Option<Vec<Hash>> {
    if bytes.len() != width.checked_mul(32)? {
        return None;
    }
    bytes.chunks_exact(32).map(Hash::from_slice).collect()
}

/// Encodes an entry bundle: each entry as a big-endian `u16` length and its
/// bytes. `None` if an entry is longer than 65,535 bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Option<Vec<u8>> {
    let total: usize = entries.iter().map(|e| 2 + e.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Some(out)
}

/// Decodes an entry bundle of exactly `width` entries, with no trailing
/// bytes; `None` otherwise.
pub fn decode_bundle(bytes: &[u8], width: usize) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(width.min(TILE_WIDTH as usize));
    let mut rest = bytes;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (entry, tail) = tail.split_at_checked(len)?;
        out.push(entry.to_vec());
        if out.len() > width {
            return None;
        }
        rest = tail;
    }
    (out.len() == width).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_index_in_groups_of_three() {
        assert_eq!(format_tile_index(0), "000");
        assert_eq!(format_tile_index(5), "005");
        assert_eq!(format_tile_index(999), "999");
        assert_eq!(format_tile_index(1000), "x001/000");
        assert_eq!(format_tile_index(1234067), "x001/x234/067");
    }

    #[test]
    fn formats_and_parses_paths() {
        let cases = [
            (ReadPath::tile(0, 1234067, 256), "tile/0/x001/x234/067"),
            (ReadPath::tile(2, 0, 1), "tile/2/000.p/1"),
            (ReadPath::entries(7, 255), "tile/entries/007.p/255"),
            (ReadPath::entries(1000, 256), "tile/entries/x001/000"),
        ];
        for (p, s) in cases {
            assert_eq!(p.to_path(), s);
            assert_eq!(ReadPath::parse(s), Some(p));
        }
    }

    #[test]
    fn rejects_non_canonical_paths() {
        for s in [
            "tile/00/000",
            "tile/64/000",
            "tile/0/5",
            "tile/0/x000/005",
            "tile/0/001/002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/entries/000.p/",
            "tile/0/000/",
            "tile//000",
            "checkpoint",
            "tile/0/x001",
        ] {
            assert_eq!(ReadPath::parse(s), None, "{s}");
        }
    }

    #[test]
    fn bundle_round_trips_and_rejects_trailing_bytes() {
        let entries = vec![b"a".to_vec(), Vec::new(), vec![7u8; 300]];
        let b = encode_bundle(&entries).unwrap();
        assert_eq!(decode_bundle(&b, 3).unwrap(), entries);
        assert_eq!(decode_bundle(&b, 2), None);
        assert_eq!(decode_bundle(&b, 4), None);
        let mut t = b.clone();
        t.push(0);
        assert_eq!(decode_bundle(&t, 3), None);
        assert_eq!(decode_bundle(&b[..b.len() - 1], 3), None);
    }

    #[test]
    fn tile_decoding_checks_width() {
        let h = [Hash::sha256(b"x"), Hash::sha256(b"y")];
        let t = encode_tile(&h);
        assert_eq!(decode_tile(&t, 2).unwrap(), h.to_vec());
        assert_eq!(decode_tile(&t, 1), None);
        assert_eq!(decode_tile(&t[..63], 2), None);
    }
}
