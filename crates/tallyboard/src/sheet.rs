//! Tally sheets: the CSV a count-centre official fills in, one line per
//! figure (`spec/cli.md` §4).
//!
//! ```text
//! unit,contest,line,count
//! P-017,mayor,alice,412
//! P-017,mayor,bob,400
//! P-017,mayor,blank,9
//! P-017,mayor,invalid,4
//! P-017,mayor,ballots_cast,825
//! ```
//!
//! `line` is a choice id or one of the reserved words in [`RESERVED`].
//! Parsing checks the form (header, numbers, duplicates) and reports errors
//! with file, line and column; whether the figures obey the election's rules
//! is for `rules::check_tally`.

use std::collections::BTreeMap;
use std::fmt;

use tallyboard_core::Hash;

use crate::timefmt::parse_rfc3339;

/// The header every sheet starts with.
pub(crate) const HEADER: [&str; 4] = ["unit", "contest", "line", "count"];

/// Line names that are not choices. A contest cannot have a choice with one
/// of these ids (`manifest build` refuses it).
pub(crate) const RESERVED: [&str; 7] = [
    "blank",
    "invalid",
    "ballots_cast",
    "counted_at",
    "revision",
    "supersedes",
    "reason",
];

/// Largest sheet accepted, in bytes.
pub(crate) const MAX_SHEET: usize = 64 * 1024 * 1024;

/// The figures of one (unit, contest) read off a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetTally {
    /// Reporting unit id as written.
    pub(crate) unit: String,
    /// Contest id as written.
    pub(crate) contest: String,
    /// Line number of the first line of this (unit, contest).
    pub(crate) first_line: u64,
    /// Votes per choice.
    pub(crate) choices: BTreeMap<String, u64>,
    /// `blank`, if present.
    pub(crate) blank: Option<u64>,
    /// `invalid`, if present.
    pub(crate) invalid: Option<u64>,
    /// `ballots_cast`, if present.
    pub(crate) ballots_cast: Option<u64>,
    /// `counted_at`, if present (POSIX seconds).
    pub(crate) counted_at: Option<u64>,
    /// `revision`, if present.
    pub(crate) revision: Option<u64>,
    /// `supersedes`, if present.
    pub(crate) supersedes: Option<Hash>,
    /// `reason`, if present.
    pub(crate) reason: Option<String>,
}

/// A sheet that is not well-formed: names the file, the line and the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetError {
    /// File name as given.
    pub(crate) file: String,
    /// 1-based line number (0 when the file as a whole is at fault).
    pub(crate) line: u64,
    /// Column name, if one is at fault.
    pub(crate) column: Option<&'static str>,
    /// What is wrong.
    pub(crate) message: String,
}

impl fmt::Display for SheetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ", line {}", self.line)?;
        }
        if let Some(c) = self.column {
            write!(f, ", column '{c}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SheetError {}

/// Parses a decimal count: ASCII digits only, fits in 64 bits.
pub(crate) fn parse_count(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("the count is empty".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a whole number (write digits only, no sign, spaces or separators)"
        ));
    }
    s.parse::<u64>().map_err(|_| format!("{s:?} is too large"))
}

/// Parses a sheet. `file` is used in error messages.
pub(crate) fn parse(file: &str, data: &[u8]) -> Result<Vec<SheetTally>, SheetError> {
    let err = |line: u64, column: Option<&'static str>, message: String| SheetError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let data = blank_comments(data);
    let lines = Lines::new(&data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(data.as_slice());
    let header = rdr
        .headers()
        .map_err(|e| err(lines.of(e.position()), None, csv_message(&e)))?
        .clone();
    if header.iter().collect::<Vec<_>>() != HEADER {
        return Err(err(
            1,
            None,
            format!("the first line must be the header `{}`", HEADER.join(",")),
        ));
    }

    let mut tallies: Vec<SheetTally> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    // (unit, contest, line name) => line number, to report duplicates.
    let mut seen: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(err(lines.of(e.position()), None, csv_message(&e))),
        }
        let line = lines.of(record.position());
        let field = |i: usize| record.get(i).unwrap_or("");
        let (unit, contest, name, value) = (field(0), field(1), field(2), field(3));
        for (col, v) in [("unit", unit), ("contest", contest), ("line", name)] {
            if v.is_empty() {
                return Err(err(line, Some(col), "this column is empty".into()));
            }
        }
        if let Some(first) = seen.insert(
            (unit.to_string(), contest.to_string(), name.to_string()),
            line,
        ) {
            return Err(err(
                line,
                Some("line"),
                format!(
                    "unit {unit}, contest {contest}: '{name}' is given twice (first on line {first})"
                ),
            ));
        }
        let slot = *index
            .entry((unit.to_string(), contest.to_string()))
            .or_insert_with(|| {
                tallies.push(SheetTally {
                    unit: unit.to_string(),
                    contest: contest.to_string(),
                    first_line: line,
                    choices: BTreeMap::new(),
                    blank: None,
                    invalid: None,
                    ballots_cast: None,
                    counted_at: None,
                    revision: None,
                    supersedes: None,
                    reason: None,
                });
                tallies.len() - 1
            });
        let t = &mut tallies[slot];
        let count = || parse_count(value).map_err(|m| err(line, Some("count"), m));
        match name {
            "blank" => t.blank = Some(count()?),
            "invalid" => t.invalid = Some(count()?),
            "ballots_cast" => t.ballots_cast = Some(count()?),
            "revision" => t.revision = Some(count()?),
            "counted_at" => {
                t.counted_at = Some(
                    parse_rfc3339(value).map_err(|e| err(line, Some("count"), e.to_string()))?,
                );
            }
            "supersedes" => {
                t.supersedes = Some(Hash::from_hex(value).ok_or_else(|| {
                    err(
                        line,
                        Some("count"),
                        format!(
                            "{value:?} is not the 64 hex digits of the entry being corrected (its leaf hash)"
                        ),
                    )
                })?);
            }
            "reason" => {
                if value.is_empty() {
                    return Err(err(line, Some("count"), "the reason is empty".into()));
                }
                t.reason = Some(value.to_string());
            }
            choice => {
                t.choices.insert(choice.to_string(), count()?);
            }
        }
    }
    if tallies.is_empty() {
        return Err(err(
            0,
            None,
            "the sheet has no lines after the header".into(),
        ));
    }
    Ok(tallies)
}

/// Line numbers from byte offsets. The `csv` crate's own line counter
/// skips empty lines, and the byte offset it reports for a record is where
/// reading started, before the empty lines it skipped: so the record's line
/// is the first non-empty line at or after that offset.
pub(crate) struct Lines {
    /// Byte offset of each line start.
    starts: Vec<usize>,
    /// Whether each line is empty (only its line ending).
    empty: Vec<bool>,
}

impl Lines {
    /// Indexes the lines of `data`.
    pub(crate) fn new(data: &[u8]) -> Lines {
        let mut starts = Vec::new();
        let mut empty = Vec::new();
        let mut start = 0;
        for line in data.split_inclusive(|&b| b == b'\n') {
            starts.push(start);
            empty.push(matches!(line, b"\n" | b"\r\n"));
            start += line.len();
        }
        Lines { starts, empty }
    }

    /// The 1-based line of the record read from byte `offset`.
    pub(crate) fn line(&self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let mut i = self.starts.partition_point(|&start| start <= offset).max(1) - 1;
        while self.empty.get(i) == Some(&true) {
            i += 1;
        }
        i as u64 + 1
    }

    /// The line of a csv position, 0 if unknown.
    pub(crate) fn of(&self, pos: Option<&csv::Position>) -> u64 {
        pos.map_or(0, |p| self.line(p.byte()))
    }
}

/// Empties every line whose first non-blank character is `#` (keeping its
/// newline), so that comments are ignored and line numbers stay exact.
pub(crate) fn blank_comments(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.trim_ascii_start();
        if trimmed.first() == Some(&b'#') {
            if line.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            } else if line.ends_with(b"\n") {
                out.push(b'\n');
            }
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this line has {len} columns; the sheet has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "this line is not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "unit,contest,line,count\n\
        # a comment\n\
        P-1,mayor,alice,10\n\
        P-1,mayor,bob,5\n\
        P-1,mayor,blank,1\n\
        P-1,mayor,invalid,0\n\
        P-1,mayor,ballots_cast,16\n\
        P-2,mayor,alice,3\n\
        # a final comment, with \"quotes\n\
        \n\
        P-3,mayor,bob,1\n";

    #[test]
    fn groups_lines_by_unit_and_contest() {
        let t = parse("s.csv", GOOD.as_bytes()).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[2].first_line, 11);
        assert_eq!(t[0].unit, "P-1");
        assert_eq!(t[0].choices.get("alice"), Some(&10));
        assert_eq!(t[0].ballots_cast, Some(16));
        assert_eq!(t[0].first_line, 3);
        assert_eq!(t[1].unit, "P-2");
        assert_eq!(t[1].blank, None);
    }

    #[test]
    fn rejects_a_count_that_is_not_a_whole_number() {
        let e = parse("s.csv", b"unit,contest,line,count\nP-1,mayor,alice,1 000\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, Some("count")));
        assert!(e.to_string().starts_with("s.csv, line 2, column 'count': "));
        for bad in ["-1", "+1", "1.5", "", "18446744073709551616"] {
            let data = format!("unit,contest,line,count\nP-1,mayor,alice,{bad}\n");
            assert!(parse("s.csv", data.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_a_line_given_twice() {
        let e = parse(
            "s.csv",
            b"unit,contest,line,count\nP-1,mayor,alice,1\nP-1,mayor,alice,2\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("first on line 2"), "{}", e.message);
    }

    #[test]
    fn rejects_a_wrong_header_or_ragged_line() {
        assert_eq!(
            parse("s.csv", b"unit,contest,choice,count\n")
                .unwrap_err()
                .line,
            1
        );
        let e = parse("s.csv", b"unit,contest,line,count\nP-1,mayor,alice\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("s.csv", b"unit,contest,line,count\n").is_err());
    }

    #[test]
    fn reads_correction_lines() {
        let h = "ab".repeat(32);
        let data = format!(
            "unit,contest,line,count\nP-1,mayor,revision,2\nP-1,mayor,supersedes,{h}\n\
             P-1,mayor,reason,\"recount, ordered by the district board\"\n\
             P-1,mayor,counted_at,2026-05-10T21:00:00Z\n"
        );
        let t = parse("s.csv", data.as_bytes()).unwrap();
        assert_eq!(t[0].revision, Some(2));
        assert_eq!(t[0].supersedes.map(|h| h.to_hex()), Some(h));
        assert_eq!(
            t[0].reason.as_deref(),
            Some("recount, ordered by the district board")
        );
        assert_eq!(t[0].counted_at, Some(1_778_446_800));
        let bad = "unit,contest,line,count\nP-1,mayor,supersedes,abc\n";
        assert_eq!(parse("s.csv", bad.as_bytes()).unwrap_err().line, 2);
    }
}
