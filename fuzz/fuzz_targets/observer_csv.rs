//! `backup::parse_observer_csv` on arbitrary bytes (the observers' CSV of
//! spec/verify.md §4.6).
//!
//! Asserts: parsing never panics; every accepted row has non-empty fields
//! within the identifier limit and line numbers that increase; writing the
//! rows back as CSV and parsing that gives the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::limits::MAX_ID_LEN;
use tallyboard_verify::backup::parse_observer_csv;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = parse_observer_csv(data) else {
        return;
    };
    let mut last = 0;
    for r in &rows {
        for f in [&r.unit, &r.contest, &r.choice] {
            assert!(!f.is_empty() && f.len() <= MAX_ID_LEN);
        }
        assert!(r.line > last);
        last = r.line;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["unit", "contest", "choice", "count"]).expect("header");
    for r in &rows {
        w.write_record([r.unit.as_str(), r.contest.as_str(), r.choice.as_str(), &r.count.to_string()])
            .expect("row");
    }
    let bytes = w.into_inner().expect("csv bytes");
    let back = parse_observer_csv(&bytes).expect("written rows parse");
    assert_eq!(back.len(), rows.len());
    for (a, b) in back.iter().zip(&rows) {
        assert_eq!((&a.unit, &a.contest, &a.choice, a.count), (&b.unit, &b.contest, &b.choice, b.count));
    }
});
