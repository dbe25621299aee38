//! C2SP tlog-tiles resource paths (`TilePath::parse`, `TileId::parse`,
//! `BundleId::parse`) on arbitrary text, and paths of arbitrary tile
//! coordinates.
//!
//! Asserts: an accepted path formats back to exactly the input (one path
//! per tile); the three parsers agree; `tlog_tiles`' independent parser
//! (Go's `tile/<H>/<L>/<N>` form, so the path is translated with height 8)
//! reads the same level, index and width from every path we accept; the
//! path of any valid coordinates parses back to them.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::tile::{BundleId, TileId, TilePath};

/// Our path in the Go / `tlog_tiles` form, with the tile height.
fn go_form(path: &str) -> Option<String> {
    let rest = path.strip_prefix("tile/")?;
    Some(match rest.strip_prefix("entries/") {
        Some(n) => format!("tile/8/data/{n}"),
        None => format!("tile/8/{rest}"),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = core::str::from_utf8(data) {
        path(s);
    }
    let _ = coordinates(&mut Unstructured::new(data));
});

fn path(s: &str) {
    let parsed = TilePath::parse(s);
    match parsed {
        Ok(TilePath::Hashes(t)) => {
            assert_eq!(t.path(), s, "re-encoding differs");
            assert_eq!(TileId::parse(s), Ok(t));
            assert!(BundleId::parse(s).is_err());
        }
        Ok(TilePath::Entries(b)) => {
            assert_eq!(b.path(), s, "re-encoding differs");
            assert_eq!(BundleId::parse(s), Ok(b));
            assert!(TileId::parse(s).is_err());
        }
        Err(_) => {
            assert!(TileId::parse(s).is_err());
            assert!(BundleId::parse(s).is_err());
        }
    }
    if let (Ok(p), Some(go)) = (parsed, go_form(s)) {
        // tlog_tiles refuses Go-form paths over 52 bytes; compare the rest.
        if let Ok(t) = tlog_tiles::Tile::from_path(&go) {
            assert_eq!(t.height(), 8);
            match p {
                TilePath::Hashes(id) => {
                    assert!(!t.is_data());
                    assert_eq!(t.level(), id.level());
                    assert_eq!(t.level_index(), id.index());
                    assert_eq!(t.width(), u32::from(id.width()));
                }
                TilePath::Entries(b) => {
                    assert!(t.is_data());
                    assert_eq!(t.level_index(), b.index());
                    assert_eq!(t.width(), u32::from(b.width()));
                }
            }
        } else {
            assert!(go.len() > 52, "tlog_tiles rejects {go:?}, we accept {s:?}");
        }
    }
}

/// Coordinates => path => the same coordinates.
fn coordinates(u: &mut Unstructured) -> Result<()> {
    let level: u8 = u.arbitrary()?;
    let index: u64 = u.arbitrary()?;
    let width: u16 = u.arbitrary()?;
    if let Ok(t) = TileId::new(level, index, width) {
        let p = t.path();
        assert_eq!(TilePath::parse(&p), Ok(TilePath::Hashes(t)));
        assert_eq!(t.to_string(), p);
        let b = t.bundle();
        assert_eq!(TilePath::parse(&b.path()), Ok(TilePath::Entries(b)));
    }
    if let Ok(b) = BundleId::new(index, width) {
        assert_eq!(BundleId::parse(&b.path()), Ok(b));
    }
    Ok(())
}
