//! `tallyboard_sheet::parse` and `parse_leaving_out` on arbitrary bytes:
//! the count centres' tally sheet of spec/cli.md §4.1 (what `sign` reads,
//! and `verify --observers` in the sheet format).
//!
//! Asserts: parsing never panics and lists at most the cap of problems,
//! each naming a line within the file. An accepted sheet:
//! - agrees with the `csv` crate's own reading of its fields (comments
//!   blanked): every non-empty record after the header is exactly one
//!   figure of one tally, with the same unit, contest, line and value;
//! - written back as CSV (every field quoted) parses to the same tallies;
//! - with one bad line appended, is refused naming that line alone, and
//!   read leaving out bad lines gives the same tallies back;
//! - saved with semicolons or tabs instead of commas, is refused on line 1
//!   with the separator message; a figure written with a thousands
//!   separator, with a field too many after a column, or with the count
//!   missing gets the spec's message for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tallyboard_core::time::format_rfc3339;
use tallyboard_sheet::{
    HEADER, MAX_PROBLEMS, SheetTally, Supersedes, blank_comments, parse, parse_leaving_out,
};

/// Every figure of a tally as (line name, value text), in writing order.
fn figures(t: &SheetTally) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = t
        .choices
        .iter()
        .map(|(c, n)| (c.clone(), n.to_string()))
        .collect();
    for (name, v) in [
        ("blank", t.blank),
        ("invalid", t.invalid),
        ("ballots_cast", t.ballots_cast),
        ("revision", t.revision),
    ] {
        if let Some(v) = v {
            out.push((name.into(), v.to_string()));
        }
    }
    if let Some(at) = t.counted_at {
        out.push(("counted_at".into(), format_rfc3339(at)));
    }
    if let Some(s) = &t.supersedes {
        let v = match s {
            Supersedes::Leaf(h) => h.to_hex(),
            Supersedes::File(f) => f.clone(),
            Supersedes::Previous => "previous".into(),
        };
        out.push(("supersedes".into(), v));
    }
    if let Some(r) = &t.reason {
        out.push(("reason".into(), r.clone()));
    }
    out
}

/// The tallies without their line numbers (a sheet written back has other
/// line numbers: no comments, no empty lines).
fn strip_lines(t: &[SheetTally]) -> Vec<SheetTally> {
    t.iter()
        .map(|t| SheetTally {
            first_line: 0,
            ..t.clone()
        })
        .collect()
}

/// The tallies written as a sheet, every field quoted (so that a unit
/// starting with `#` is not taken for a comment), with `delimiter`.
fn write_sheet(tallies: &[SheetTally], delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    for t in tallies {
        for (name, value) in figures(t) {
            w.write_record([t.unit.as_str(), t.contest.as_str(), &name, &value])
                .expect("write a row");
        }
    }
    let rows = w.into_inner().expect("csv bytes");
    let sep = char::from(delimiter).to_string();
    let mut out = format!("{}\n", HEADER.join(&sep)).into_bytes();
    out.extend_from_slice(&rows);
    out
}

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    let tallies = match parse("fuzz.csv", data) {
        Ok(t) => t,
        Err(errors) => {
            // A line can add up to three problems (its empty columns).
            assert!(!errors.is_empty() && errors.len() <= MAX_PROBLEMS + 2);
            for e in &errors {
                assert!(e.line <= lines, "line {} of {lines}", e.line);
                assert!(e.to_string().starts_with("fuzz.csv"));
            }
            let (_, left) = parse_leaving_out("fuzz.csv", data, 3);
            assert!(!left.is_empty() && left.len() <= 4);
            assert_eq!(left[0].line, errors[0].line);
            for l in &left {
                assert!(l.line <= lines);
            }
            return;
        }
    };
    assert!(!tallies.is_empty());
    let ok = parse_leaving_out("fuzz.csv", data, 3);
    assert_eq!((&ok.0, ok.1.len()), (&tallies, 0));

    // Agreement with the csv crate's reading of the fields.
    let blanked = blank_comments(data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(blanked.as_slice());
    let mut records = rdr.records().map(|r| r.expect("an accepted sheet is CSV"));
    let header = records
        .by_ref()
        .find(|r| r.iter().any(|f| !f.trim().is_empty()))
        .expect("a header");
    assert!(header.iter().map(str::trim).eq(HEADER));
    let mut want: Vec<(String, String, String, String)> = tallies
        .iter()
        .flat_map(|t| {
            figures(t)
                .into_iter()
                .map(|(n, v)| (t.unit.clone(), t.contest.clone(), n, v))
        })
        .collect();
    want.sort();
    let mut got = Vec::new();
    for r in records {
        let f: Vec<&str> = r.iter().map(str::trim).collect();
        if f.iter().all(|f| f.is_empty()) {
            continue;
        }
        let value = match f.len() {
            4 => f[3].to_string(),
            n => {
                assert!(n > 4 && f[2] == "reason", "{f:?}");
                // The reason written with commas and no quotes.
                got.push((f[0].into(), f[1].into(), f[2].into(), String::new()));
                continue;
            }
        };
        let value = match f[2] {
            "counted_at" => format_rfc3339(
                tallyboard_core::time::parse_rfc3339(&value).expect("an accepted time"),
            ),
            "supersedes" => match tallyboard_core::Hash::from_hex(&value) {
                Some(h) => h.to_hex(),
                None => value,
            },
            "reason" => value,
            _ => value.parse::<u64>().expect("an accepted count").to_string(),
        };
        got.push((f[0].into(), f[1].into(), f[2].into(), value));
    }
    got.sort();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        if g.2 == "reason" && g.3.is_empty() {
            assert_eq!((&g.0, &g.1, &g.2), (&w.0, &w.1, &w.2));
        } else {
            assert_eq!(g, w);
        }
    }

    // Written back, the same tallies.
    let written = write_sheet(&tallies, b',');
    let back = parse("fuzz.csv", &written).expect("a written sheet parses");
    assert_eq!(strip_lines(&back), strip_lines(&tallies));

    // One bad line appended: named alone, and left out.
    let mut bad = written.clone();
    let bad_line = bad.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut unit = String::from("U-bad");
    while tallies.iter().any(|t| t.unit == unit) {
        unit.push('x');
    }
    bad.extend_from_slice(format!("{unit},C,x,not-a-number\n").as_bytes());
    let errors = parse("fuzz.csv", &bad).expect_err("a bad count");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].line, errors[0].column),
        (bad_line, Some("count"))
    );
    let (kept, left) = parse_leaving_out("fuzz.csv", &bad, 3);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].line, bad_line);
    assert_eq!(strip_lines(&kept), strip_lines(&tallies));

    // Another separator: the message of spec/cli.md §4.1.
    for (sep, what) in [(b';', "semicolons"), (b'\t', "tabs")] {
        let other = write_sheet(&tallies, sep);
        let e = parse("fuzz.csv", &other).expect_err("another separator");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 1);
        assert!(
            e[0].message.contains(&format!("separated by {what}")),
            "{}",
            e[0]
        );
    }

    // Comma messages, on a sheet of one figure of the first tally.
    let t = &tallies[0];
    let Some((choice, n)) = t.choices.iter().next() else {
        return;
    };
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let (u, c, ch) = (q(&t.unit), q(&t.contest), q(choice));
    let one = |row: String| {
        let text = format!("{}\n{row}\n", HEADER.join(","));
        let e = parse("fuzz.csv", text.as_bytes()).expect_err("a bad line");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!((e[0].line, e[0].column), (2, None));
        e[0].message.clone()
    };
    if *n >= 1000 {
        let m = one(format!("{u},{c},{ch},{},{:03}", n / 1000, n % 1000));
        assert!(
            m.contains("thousands separator") && m.contains(&format!("({n})")),
            "{m}"
        );
    }
    for (k, col) in HEADER[..3].iter().enumerate() {
        let mut fields = vec![u.clone(), c.clone(), ch.clone(), n.to_string()];
        fields.insert(k + 1, " extra".into());
        let m = one(fields.join(","));
        assert!(
            m.contains(&format!("column '{col}' probably contains a comma")),
            "{m}"
        );
    }
    let m = one(format!("{u},{c},{ch}"));
    assert!(m.contains("'count' is missing"), "{m}");
});
