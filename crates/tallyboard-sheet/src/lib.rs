//! The tally sheet: the CSV a count-centre official fills in, one line per
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

use tallyboard_core::Hash;

use tallyboard_core::time::parse_rfc3339;

/// The header every sheet starts with.
pub const HEADER: [&str; 4] = ["unit", "contest", "line", "count"];

/// Line names that are not choices. A contest cannot have a choice with one
/// of these ids (`manifest build` refuses it).
pub const RESERVED: [&str; 7] = [
    "blank",
    "invalid",
    "ballots_cast",
    "counted_at",
    "revision",
    "supersedes",
    "reason",
];

/// Largest sheet accepted, in bytes.
pub const MAX_SHEET: usize = 64 * 1024 * 1024;

/// The figures of one (unit, contest) read off a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetTally {
    /// Reporting unit id as written.
    pub unit: String,
    /// Contest id as written.
    pub contest: String,
    /// Line number of the first line of this (unit, contest).
    pub first_line: u64,
    /// Votes per choice.
    pub choices: BTreeMap<String, u64>,
    /// `blank`, if present.
    pub blank: Option<u64>,
    /// `invalid`, if present.
    pub invalid: Option<u64>,
    /// `ballots_cast`, if present.
    pub ballots_cast: Option<u64>,
    /// `counted_at`, if present (POSIX seconds).
    pub counted_at: Option<u64>,
    /// `revision`, if present.
    pub revision: Option<u64>,
    /// `supersedes`, if present.
    pub supersedes: Option<Supersedes>,
    /// `reason`, if present.
    pub reason: Option<String>,
}

/// A sheet that is not well-formed: names the file, the line and the column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", place(*.line, *.column))]
pub struct SheetError {
    /// File name as given.
    pub file: String,
    /// 1-based line number (0 when the file as a whole is at fault).
    pub line: u64,
    /// Column name, if one is at fault.
    pub column: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

/// `, line N, column 'C'` of an error message (each part when known).
fn place(line: u64, column: Option<&'static str>) -> String {
    let mut s = String::new();
    if line > 0 {
        s.push_str(&format!(", line {line}"));
    }
    if let Some(c) = column {
        s.push_str(&format!(", column '{c}'"));
    }
    s
}

/// Parses a decimal count: ASCII digits only, fits in 64 bits.
pub fn parse_count(s: &str) -> Result<u64, String> {
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

/// What a correction line `supersedes` names: the tally being corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supersedes {
    /// Its leaf hash, 64 hex digits.
    Leaf(Hash),
    /// The file of that signed tally (`*.tally`), relative to the sheet's
    /// directory or the current one.
    File(String),
    /// The word `previous`: the latest revision of the same unit and
    /// contest among the signed tallies of the output directory.
    Previous,
}

/// Most problems listed for one sheet; past that the rest are counted.
pub const MAX_PROBLEMS: usize = 200;

/// Parses a sheet. `file` is used in error messages. Every problem of the
/// form is listed (up to [`MAX_PROBLEMS`]), not only the first: one run
/// shows the official all that must be fixed.
pub fn parse(file: &str, data: &[u8]) -> Result<Vec<SheetTally>, Vec<SheetError>> {
    let err = |line: u64, column: Option<&'static str>, message: String| SheetError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let data = blank_comments(data);
    let lines = Lines::new(&data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::None)
        .flexible(true)
        .from_reader(data.as_slice());
    let mut errors: Vec<SheetError> = Vec::new();
    let mut record = csv::StringRecord::new();

    // The header.
    let header_line = loop {
        match rdr.read_record(&mut record) {
            Ok(true) if record.iter().all(|f| f.trim().is_empty()) => continue,
            Ok(true) => break lines.of(record.position()),
            Ok(false) => {
                return Err(vec![err(
                    0,
                    None,
                    format!(
                        "the sheet is empty: it must start with the header `{}`",
                        HEADER.join(",")
                    ),
                )]);
            }
            Err(e) => return Err(vec![err(lines.of(e.position()), None, csv_message(&e))]),
        }
    };
    let header: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
    if let Some(problem) = header_problem(&header, HEADER.as_slice()) {
        return Err(vec![err(header_line, None, problem)]);
    }

    let mut tallies: Vec<SheetTally> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    // (unit, contest, line name) => line number, to report duplicates.
    let mut seen: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                errors.push(err(lines.of(e.position()), None, csv_message(&e)));
                break;
            }
        }
        if errors.len() >= MAX_PROBLEMS {
            break;
        }
        let line = lines.of(record.position());
        let fields: Vec<&str> = record.iter().collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| fields.get(i).map_or("", |f| f.trim());
        let (unit, contest, name) = (field(0), field(1), field(2));
        let value: String = if fields.len() == HEADER.len() {
            field(3).to_string()
        } else if name == "reason" && fields.len() > HEADER.len() {
            // A reason written with commas but without quotes: everything
            // after the third comma is the reason.
            reason_after_third_comma(lines.raw(&data, line)).unwrap_or_default()
        } else {
            errors.push(err(line, None, column_count_message(&fields)));
            continue;
        };
        let value = value.as_str();
        let mut bad = false;
        for (col, v) in [("unit", unit), ("contest", contest), ("line", name)] {
            if v.is_empty() {
                errors.push(err(line, Some(col), "this column is empty".into()));
                bad = true;
            }
        }
        if bad {
            continue;
        }
        if let Some(first) = seen.insert(
            (unit.to_string(), contest.to_string(), name.to_string()),
            line,
        ) {
            errors.push(err(
                line,
                Some("line"),
                format!(
                    "unit {unit}, contest {contest}: '{name}' is given twice (first on line {first})"
                ),
            ));
            continue;
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
        let result: Result<(), SheetError> = (|| {
            match name {
                "blank" => t.blank = Some(count()?),
                "invalid" => t.invalid = Some(count()?),
                "ballots_cast" => t.ballots_cast = Some(count()?),
                "revision" => t.revision = Some(count()?),
                "counted_at" => {
                    t.counted_at = Some(
                        parse_rfc3339(value)
                            .map_err(|e| err(line, Some("count"), e.to_string()))?,
                    );
                }
                "supersedes" => {
                    t.supersedes =
                        Some(parse_supersedes(value).map_err(|m| err(line, Some("count"), m))?)
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
            Ok(())
        })();
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if tallies.is_empty() {
        return Err(vec![err(
            0,
            None,
            "the sheet has no lines after the header".into(),
        )]);
    }
    Ok(tallies)
}

/// What a `supersedes` value names.
fn parse_supersedes(value: &str) -> Result<Supersedes, String> {
    if let Some(h) = Hash::from_hex(value) {
        return Ok(Supersedes::Leaf(h));
    }
    if value == "previous" {
        return Ok(Supersedes::Previous);
    }
    if value.ends_with(".tally") {
        return Ok(Supersedes::File(value.to_string()));
    }
    Err(format!(
        "{value:?} does not name the tally being corrected: write the file of that signed tally \
         (e.g. P-017.mayor.r1.tally), the word previous (its latest revision in the output \
         directory), or its 64-hex leaf hash (as `tallyboard show` prints it)"
    ))
}

/// The text after the third comma of a raw line, trimmed, without quotes
/// around it.
fn reason_after_third_comma(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut rest = text;
    for _ in 0..3 {
        rest = rest.split_once(',')?.1;
    }
    let rest = rest.trim();
    Some(rest.to_string())
}

/// Why a header is not `expected`, naming the missing or unknown column and
/// recognising a file separated by semicolons or tabs.
pub fn header_problem(header: &[String], expected: &[&str]) -> Option<String> {
    if header
        .iter()
        .map(String::as_str)
        .eq(expected.iter().copied())
    {
        return None;
    }
    let joined = header.join(",");
    for (sep, what) in [(';', "semicolons"), ('\t', "tabs")] {
        if header.len() == 1 && joined.contains(sep) {
            return Some(format!(
                "this file's columns are separated by {what}, not commas (spreadsheets in many \
                 languages save CSV this way): save it again as CSV with commas (in the save \
                 dialog choose the comma as field delimiter); the first line must be `{}`",
                expected.join(",")
            ));
        }
    }
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    let unknown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| !expected.contains(h))
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "the header has no column {}",
            missing
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "column{} {} {} not expected",
            if unknown.len() == 1 { "" } else { "s" },
            unknown
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if unknown.len() == 1 { "is" } else { "are" }
        ));
    }
    if parts.is_empty() {
        parts.push("the columns are in another order".to_string());
    }
    Some(format!(
        "{}; the first line must be the header `{}`",
        parts.join("; "),
        expected.join(",")
    ))
}

/// A line whose number of columns is not the header's: which column is
/// probably at fault, and how to fix it.
pub fn column_count_message(fields: &[&str]) -> String {
    column_count_message_for(fields, HEADER.as_slice())
}

/// [`column_count_message`] for any header.
pub fn column_count_message_for(fields: &[&str], header: &[&str]) -> String {
    let (n, want) = (fields.len(), header.len());
    if n < want {
        let missing = header[n..]
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return format!(
            "this line has {n} column{}; the header has {want} ({}): {missing} {} missing",
            if n == 1 { "" } else { "s" },
            header.join(","),
            if want - n == 1 { "is" } else { "are" }
        );
    }
    // A comma in free text is usually followed by a space: the column
    // before the first field that starts with a space holds the comma.
    let spaced = fields
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, f)| f.starts_with(' '))
        .map(|(i, _)| i - 1);
    let last_two_digits = n == want + 1
        && fields[n - 1].trim().len() == 3
        && [fields[n - 2], fields[n - 1]]
            .iter()
            .all(|f| !f.trim().is_empty() && f.trim().bytes().all(|b| b.is_ascii_digit()));
    if spaced.is_none() && last_two_digits {
        return format!(
            "this line has {n} columns; the header has {want}: the number {},{} seems to be \
             written with a thousands separator: write digits only ({}{})",
            fields[n - 2].trim(),
            fields[n - 1].trim(),
            fields[n - 2].trim(),
            fields[n - 1].trim()
        );
    }
    let col = spaced.unwrap_or(want.saturating_sub(2)).min(want - 1);
    format!(
        "this line has {n} columns; the header has {want}: column '{}' probably contains a \
         comma without quotes (a name containing a comma must be in double quotes, \
         e.g. \"Smith, Ann\")",
        header[col]
    )
}

/// Line numbers from byte offsets. The `csv` crate's own line counter
/// skips empty lines, and the byte offset it reports for a record is where
/// reading started, before the empty lines it skipped: so the record's line
/// is the first non-empty line at or after that offset.
pub struct Lines {
    /// Byte offset of each line start.
    starts: Vec<usize>,
    /// Whether each line is empty (only its line ending).
    empty: Vec<bool>,
}

impl Lines {
    /// Indexes the lines of `data`.
    pub fn new(data: &[u8]) -> Lines {
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
    pub fn line(&self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let mut i = self.starts.partition_point(|&start| start <= offset).max(1) - 1;
        while self.empty.get(i) == Some(&true) {
            i += 1;
        }
        i as u64 + 1
    }

    /// The bytes of 1-based line `line` of `data` (what [`Lines::new`]
    /// indexed), without its line ending.
    pub fn raw<'a>(&self, data: &'a [u8], line: u64) -> &'a [u8] {
        let i = usize::try_from(line)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let Some(&start) = self.starts.get(i) else {
            return &[];
        };
        let end = self.starts.get(i + 1).copied().unwrap_or(data.len());
        let raw = data.get(start..end).unwrap_or(&[]);
        raw.strip_suffix(b"\n")
            .map(|r| r.strip_suffix(b"\r").unwrap_or(r))
            .unwrap_or(raw)
    }

    /// The line of a csv position, 0 if unknown.
    pub fn of(&self, pos: Option<&csv::Position>) -> u64 {
        pos.map_or(0, |p| self.line(p.byte()))
    }
}

/// Empties every line whose first non-blank character is `#` (keeping its
/// newline), so that comments are ignored and line numbers stay exact.
pub fn blank_comments(data: &[u8]) -> Vec<u8> {
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

/// Whether `data` is in the sheet format: its first line that is neither
/// empty nor a comment is the header [`HEADER`] (fields trimmed). An
/// observers' file may be in this format or in the verifier's own.
pub fn is_sheet(data: &[u8]) -> bool {
    let first = data
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    first.is_some_and(|l| l.split(',').map(str::trim).collect::<Vec<_>>() == HEADER)
}

/// A line left out of a sheet read by [`parse_leaving_out`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// 1-based line number (0: the file as a whole).
    pub line: u64,
    /// What is wrong with it (`column 'C': ` first when a column is at
    /// fault).
    pub message: String,
}

/// Reads a sheet whose bad lines are not fatal (an observers' file in the
/// sheet format): each problem that stops [`parse`] is recorded with its
/// line, that line is left out (blanked, so the others keep their numbers)
/// and the sheet is read again. Reading stops with no tallies when the
/// header or the file as a whole is at fault, when a line already left out
/// is named again, or after more than `max_left_out` lines.
pub fn parse_leaving_out(
    file: &str,
    data: &[u8],
    max_left_out: usize,
) -> (Vec<SheetTally>, Vec<LeftOut>) {
    let mut data = data.to_vec();
    let mut left_out: Vec<LeftOut> = Vec::new();
    let tallies = loop {
        match parse(file, &data) {
            Ok(t) => break t,
            Err(errors) => {
                // Taken one at a time: the line is left out and the rest
                // read again.
                let Some(e) = errors.into_iter().next() else {
                    break Vec::new();
                };
                let message = match e.column {
                    Some(c) => format!("column '{c}': {}", e.message),
                    None => e.message.clone(),
                };
                let start = line_start(&data, e.line);
                left_out.push(LeftOut {
                    line: e.line,
                    message,
                });
                // The header, the file as a whole, or a line already left
                // out: nothing more can be read.
                let Some(start) = start.filter(|_| e.line > 1) else {
                    break Vec::new();
                };
                if left_out.len() > max_left_out {
                    break Vec::new();
                }
                let end = data[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(data.len(), |p| start + p);
                if data[start..end].iter().all(|b| b.is_ascii_whitespace()) {
                    break Vec::new();
                }
                // Blank the line, keeping the line numbers of the others.
                data.drain(start..end);
            }
        }
    };
    (tallies, left_out)
}

/// The byte offset where 1-based line `line` starts.
fn line_start(data: &[u8], line: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut n = 1u64;
    if line == 1 {
        return Some(0);
    }
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            n += 1;
            if n == line {
                return Some(i + 1);
            }
        }
    }
    None
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
        let e = parse("s.csv", b"unit,contest,line,count\nP-1,mayor,alice,1 000\n").unwrap_err()[0]
            .clone();
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
        .unwrap_err()[0]
            .clone();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("first on line 2"), "{}", e.message);
    }

    #[test]
    fn rejects_a_wrong_header_or_ragged_line() {
        assert_eq!(
            parse("s.csv", b"unit,contest,choice,count\n").unwrap_err()[0]
                .clone()
                .line,
            1
        );
        let e =
            parse("s.csv", b"unit,contest,line,count\nP-1,mayor,alice\n").unwrap_err()[0].clone();
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
        assert_eq!(
            t[0].supersedes,
            Some(Supersedes::Leaf(Hash::from_hex(&h).unwrap()))
        );
        assert_eq!(
            t[0].reason.as_deref(),
            Some("recount, ordered by the district board")
        );
        assert_eq!(t[0].counted_at, Some(1_778_446_800));
        let bad = "unit,contest,line,count\nP-1,mayor,supersedes,abc\n";
        assert_eq!(
            parse("s.csv", bad.as_bytes()).unwrap_err()[0].clone().line,
            2
        );
    }

    #[test]
    fn lists_every_problem_and_names_the_unquoted_column() {
        let data = "unit,contest,line,count\n\
            P-1,mayor,Smith, Ann,12\n\
            P-1,mayor,bob,1,234\n\
            P-1,mayor,carol\n\
            P-1,mayor,dan,x\n\
            P-1,mayor,reason,recount, ordered by the board\n";
        let e = parse("s.csv", data.as_bytes()).unwrap_err();
        let m: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(e.len(), 4, "{m:#?}");
        assert!(
            m[0].contains("line 2") && m[0].contains("column 'line' probably contains a comma"),
            "{}",
            m[0]
        );
        assert!(m[0].contains("must be in double quotes"), "{}", m[0]);
        assert!(
            m[1].contains("line 3")
                && m[1].contains("thousands separator")
                && m[1].contains("(1234)"),
            "{}",
            m[1]
        );
        assert!(
            m[2].contains("line 4") && m[2].contains("'count' is missing"),
            "{}",
            m[2]
        );
        assert!(m[3].contains("line 5, column 'count'"), "{}", m[3]);
    }

    #[test]
    fn a_reason_with_commas_needs_no_quotes() {
        let data =
            "unit,contest,line,count\nP-1,mayor,reason,recount, ordered by the board, twice\n";
        let t = parse("s.csv", data.as_bytes()).unwrap();
        assert_eq!(
            t[0].reason.as_deref(),
            Some("recount, ordered by the board, twice")
        );
    }

    #[test]
    fn names_a_missing_header_column_and_recognises_semicolons() {
        let e = parse("s.csv", b"unit,contest,count\n").unwrap_err();
        assert!(e[0].message.contains("no column 'line'"), "{}", e[0]);
        let e = parse("s.csv", b"unit;contest;line;count\nP-1;mayor;a;1\n").unwrap_err();
        assert!(e[0].message.contains("separated by semicolons"), "{}", e[0]);
        let e = parse("s.csv", b"unit,contest,choice,count\n").unwrap_err();
        assert!(
            e[0].message.contains("no column 'line'")
                && e[0].message.contains("'choice' is not expected"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn supersedes_names_a_file_previous_or_a_hash() {
        for (v, want) in [
            ("previous", Supersedes::Previous),
            (
                "t/P-1.mayor.r1.tally",
                Supersedes::File("t/P-1.mayor.r1.tally".into()),
            ),
        ] {
            let data = format!("unit,contest,line,count\nP-1,mayor,supersedes,{v}\n");
            assert_eq!(
                parse("s.csv", data.as_bytes()).unwrap()[0].supersedes,
                Some(want)
            );
        }
        let e = parse(
            "s.csv",
            b"unit,contest,line,count\nP-1,mayor,supersedes,yesterday\n",
        )
        .unwrap_err();
        assert!(e[0].message.contains("previous"), "{}", e[0]);
    }
}
