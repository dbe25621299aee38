//! `backup::parse_observer_csv` (strict) and `backup::read_observers`
//! (row by row) on arbitrary bytes: the observers' CSV of spec/verify.md
//! §4.6.
//!
//! Asserts: parsing never panics; every accepted row has non-empty fields
//! within the identifier limit and line numbers that increase; writing the
//! rows back as CSV and parsing that gives the same rows. Read row by row,
//! the file gives the strict parser's rows exactly when nothing is
//! malformed; no line is both a row and a malformed row; the malformed
//! rows are capped; and a file whose rows the strict parser accepts is
//! still accepted with one bad row appended, that row named by its line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::limits::MAX_ID_LEN;
use tallyboard_verify::backup::{MAX_MALFORMED_ROWS, parse_observer_csv, read_observers};

fuzz_target!(|data: &[u8]| {
    let lenient = read_observers("fuzz.csv", data);
    assert!(lenient.malformed.len() <= MAX_MALFORMED_ROWS);
    for r in &lenient.rows {
        assert!(
            !lenient.malformed.iter().any(|m| m.line == r.line),
            "line {} is both a row and malformed",
            r.line
        );
    }
    let strict = parse_observer_csv(data);
    if let Ok(rows) = &strict
        && lenient.malformed.is_empty()
    {
        assert_eq!(&lenient.rows, rows);
    }
    let Ok(rows) = strict else {
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
    w.write_record(["unit", "contest", "choice", "count"])
        .expect("header");
    for r in &rows {
        w.write_record([
            r.unit.as_str(),
            r.contest.as_str(),
            r.choice.as_str(),
            &r.count.to_string(),
        ])
        .expect("row");
    }
    let mut bytes = w.into_inner().expect("csv bytes");
    let back = parse_observer_csv(&bytes).expect("written rows parse");
    assert_eq!(back.len(), rows.len());
    for (a, b) in back.iter().zip(&rows) {
        assert_eq!(
            (&a.unit, &a.contest, &a.choice, a.count),
            (&b.unit, &b.contest, &b.choice, b.count)
        );
    }
    // One malformed row more: named by its line, the others kept.
    let bad_line = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    bytes.extend_from_slice(b"U,C,x,not-a-number\n");
    let o = read_observers("fuzz.csv", &bytes);
    assert_eq!(o.rows.len(), rows.len());
    assert_eq!(o.malformed.len(), 1);
    assert_eq!(o.malformed[0].line, bad_line);
});
