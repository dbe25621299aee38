//! C2SP tlog-tiles entry bundles (`EntryBundle::from_bytes`) and hash tiles
//! (`HashTile::from_bytes`) on arbitrary bytes.
//!
//! Asserts: a bundle parses with width `W` exactly when a straightforward
//! reference reader finds exactly `W` length-prefixed entries and nothing
//! else (1 <= W <= 256, within the size cap), with the same entries; an
//! accepted bundle or tile re-encodes to the input bytes; a bundle matches
//! the hash tile of its leaf hashes and no tile with one hash changed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::limits::MAX_ENTRY_BUNDLE;
use tallyboard_core::tile::{EntryBundle, HashTile};

/// Reads 16-bit big-endian length-prefixed entries until the input ends;
/// `None` if a prefix or an entry is cut short.
fn reference(mut b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        b = &b[2..];
        if b.len() < len {
            return None;
        }
        out.push(b[..len].to_vec());
        b = &b[len..];
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let want = reference(data).filter(|e| data.len() <= MAX_ENTRY_BUNDLE && !e.is_empty());
    let n = want.as_ref().map_or(0, Vec::len);
    for width in [n.saturating_sub(1), n, n + 1, 1, 256] {
        let Ok(w) = u16::try_from(width) else {
            continue;
        };
        let got = EntryBundle::from_bytes(data, w);
        let expect_ok = want.is_some() && width == n && (1..=256).contains(&width);
        assert_eq!(got.is_ok(), expect_ok, "width {w}: {got:?}");
        if let Ok(bundle) = got {
            assert_eq!(Some(bundle.entries()), want.as_deref());
            assert_eq!(bundle.to_bytes(), data, "re-encoding differs");
            assert_eq!(
                EntryBundle::new(bundle.entries().to_vec()).as_ref(),
                Ok(&bundle)
            );
            let leaves = bundle.leaf_hashes();
            let expected: Vec<_> = bundle.entries().iter().map(|e| leaf_hash(e)).collect();
            assert_eq!(leaves, expected);
            let tile = HashTile::new(leaves.clone()).expect("1..=256 hashes");
            assert_eq!(bundle.check_against_tile(&tile), Ok(()));
            let mut bad = leaves;
            let i = data.len() % bad.len();
            bad[i].0[0] ^= 1;
            let bad = HashTile::new(bad).expect("1..=256 hashes");
            assert!(bundle.check_against_tile(&bad).is_err());
        }
    }

    // The same bytes as a hash tile of the width they imply.
    if data.len() % 32 == 0 && !data.is_empty() && data.len() <= 256 * 32 {
        let w = (data.len() / 32) as u16;
        let tile = HashTile::from_bytes(data, w).expect("32·w bytes");
        assert_eq!(tile.to_bytes(), data);
        assert_eq!(tile.width(), w);
        assert!(HashTile::from_bytes(data, w + 1).is_err());
    } else {
        for w in [1u16, 256] {
            assert!(HashTile::from_bytes(data, w).is_err() || data.len() == usize::from(w) * 32);
        }
    }
});
