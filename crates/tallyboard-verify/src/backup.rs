//! The backup channels' inputs (spec/verify.md §4.6): signed tallies
//! obtained directly from count centres, observers' counts copied from the
//! posted paper sheets (CSV), and receipts held by count centres. Each is
//! read, size-capped and parsed here; the comparison with the log is done
//! by the verifier after the full check.

use std::path::{Path, PathBuf};

use tallyboard_check::{Checked, Signatures};
use tallyboard_core::SignedTally;
use tallyboard_core::limits::{MAX_BACKUP_FILES, MAX_OBSERVER_CSV, MAX_RECEIPT, MAX_SIGNED_TALLY};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::receipt::Receipt;

/// Where the backup channels are.
#[derive(Clone, Debug, Default)]
pub struct BackupInputs {
    /// A directory of signed tallies (`*.tally`) from count centres.
    pub tallies: Option<PathBuf>,
    /// Observers' CSV: `unit,contest,choice,count`.
    pub observer_csv: Option<PathBuf>,
    /// Observers' rows read by the caller instead (the count centres' sheet
    /// format, parsed by the sheet reader of `tallyboard sign`); used in
    /// place of `observer_csv` when set.
    pub observer_rows: Option<ObserverFile>,
    /// A directory of receipts (`*.tlog-proof`), each beside the tally it
    /// acknowledges (same name without `.tlog-proof`) when available.
    pub receipts: Option<PathBuf>,
    /// The codes read off printed sheets (spec/paper.md), one input per
    /// photo, scan or text file.
    pub paper: Vec<crate::paper::PaperInput>,
}

/// A backup input that cannot be read at all (the verifier exits 2).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{path}: {reason}")]
pub struct InputError {
    /// The file or directory.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

fn input_err(path: &Path, reason: impl Into<String>) -> InputError {
    InputError {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads a file of at most `cap` bytes.
pub fn read_capped(path: &Path, cap: usize) -> Result<Vec<u8>, InputError> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(|e| input_err(path, e.to_string()))?;
    let mut buf = Vec::new();
    f.take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| input_err(path, e.to_string()))?;
    if buf.len() > cap {
        return Err(input_err(
            path,
            format!("larger than the limit of {cap} bytes"),
        ));
    }
    Ok(buf)
}

/// The files of `dir` whose names end in `suffix`, sorted, recursively.
fn files_with(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| input_err(&d, e.to_string()))?;
        for e in rd {
            let e = e.map_err(|e| input_err(&d, e.to_string()))?;
            let p = e.path();
            let ft = e.file_type().map_err(|e| input_err(&p, e.to_string()))?;
            if ft.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
                if out.len() > MAX_BACKUP_FILES {
                    return Err(input_err(
                        dir,
                        format!("more than {MAX_BACKUP_FILES} files"),
                    ));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A backup tally file.
#[derive(Clone, Debug)]
pub struct BackupTally {
    /// The file.
    pub path: PathBuf,
    /// The tally, if it is a validly signed tally of this election that
    /// passes the manifest's rules; otherwise why not.
    pub tally: Result<SignedTally, String>,
}

/// Reads every `*.tally` of `dir`.
pub fn load_tallies(dir: &Path, manifest: &Manifest) -> Result<Vec<BackupTally>, InputError> {
    let mut out = Vec::new();
    for path in files_with(dir, ".tally")? {
        let bytes = read_capped(&path, MAX_SIGNED_TALLY)?;
        let tally = Checked::one(manifest, &bytes, Signatures::Verify)
            .genuine()
            .map_err(|e| e.to_string());
        out.push(BackupTally { path, tally });
    }
    Ok(out)
}

/// One row of the observers' CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObserverRow {
    /// Line number in the file (1 is the header).
    pub line: u64,
    /// Unit id.
    pub unit: String,
    /// Contest id.
    pub contest: String,
    /// A choice id, or `blank`, `invalid`, `ballots_cast`.
    pub choice: String,
    /// The count on the paper sheet.
    pub count: u64,
}

/// A row of an observers' file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedRow {
    /// Line number in the file (1 is the first line).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// An observers' file as read: the rows that could be read and those that
/// could not (each a finding, spec/verify.md §4.6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObserverFile {
    /// The file, as named to the verifier.
    pub file: String,
    /// The rows read.
    pub rows: Vec<ObserverRow>,
    /// The rows that could not be read.
    pub malformed: Vec<MalformedRow>,
}

/// Most malformed rows listed one by one; past it they are counted in one
/// more entry.
pub const MAX_MALFORMED_ROWS: usize = 1000;

/// Reads an observers' CSV of the header `unit,contest,choice,count`
/// leniently: each row that cannot be read (wrong number of fields, a count
/// that is not a whole number, an empty or too long id, bytes that are not
/// CSV) is listed with its line, and the others are kept. A file without
/// that header has no row: its first line is the malformed one. At most
/// [`MAX_OBSERVER_CSV`] bytes (else one malformed entry at line 0).
pub fn read_observers(file: &str, bytes: &[u8]) -> ObserverFile {
    let mut out = ObserverFile {
        file: file.to_owned(),
        ..ObserverFile::default()
    };
    let bad = |out: &mut ObserverFile, line: u64, message: String| {
        if out.malformed.len() < MAX_MALFORMED_ROWS {
            out.malformed.push(MalformedRow { line, message });
        }
    };
    if bytes.len() > MAX_OBSERVER_CSV {
        bad(
            &mut out,
            0,
            format!("larger than the limit of {MAX_OBSERVER_CSV} bytes"),
        );
        return out;
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut header = false;
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map_or(line, csv::Position::line);
                bad(&mut out, at, format!("not valid CSV: {e}"));
                // The reader cannot resume inside a broken record.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map_or(line, csv::Position::line);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if !header {
            let h: Vec<&str> = rec.iter().collect();
            if h != ["unit", "contest", "choice", "count"] {
                bad(
                    &mut out,
                    line,
                    format!(
                        "the header must be unit,contest,choice,count (got {})",
                        h.join(",")
                    ),
                );
                return out;
            }
            header = true;
            continue;
        }
        match observer_row(line, &rec) {
            Ok(r) => out.rows.push(r),
            Err(m) => bad(&mut out, line, m),
        }
    }
    if !header && out.malformed.is_empty() {
        bad(
            &mut out,
            0,
            "the file is empty: it needs the header unit,contest,choice,count".to_owned(),
        );
    }
    out
}

fn observer_row(line: u64, rec: &csv::StringRecord) -> Result<ObserverRow, String> {
    if rec.len() != 4 {
        return Err(format!(
            "expected 4 fields (unit,contest,choice,count), got {}",
            rec.len()
        ));
    }
    let count = rec[3]
        .parse::<u64>()
        .map_err(|_| format!("the count {:?} is not a whole number", &rec[3]))?;
    for (i, what) in [(0, "unit"), (1, "contest"), (2, "choice")] {
        if rec[i].is_empty() || rec[i].len() > tallyboard_core::limits::MAX_ID_LEN {
            return Err(format!("the {what} is empty or too long"));
        }
    }
    Ok(ObserverRow {
        line,
        unit: rec[0].to_owned(),
        contest: rec[1].to_owned(),
        choice: rec[2].to_owned(),
        count,
    })
}

/// Parses an observers' CSV: a header `unit,contest,choice,count` (in that
/// order), then one row per figure; blank lines and lines starting with `#`
/// are skipped. At most [`MAX_OBSERVER_CSV`] bytes.
pub fn parse_observer_csv(bytes: &[u8]) -> Result<Vec<ObserverRow>, String> {
    if bytes.len() > MAX_OBSERVER_CSV {
        return Err(format!("larger than the limit of {MAX_OBSERVER_CSV} bytes"));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut rows = Vec::new();
    let mut header = false;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("not valid CSV: {e}"))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if !header {
            let h: Vec<&str> = rec.iter().collect();
            if h != ["unit", "contest", "choice", "count"] {
                return Err(format!(
                    "line {line}: the header must be unit,contest,choice,count (got {})",
                    h.join(",")
                ));
            }
            header = true;
            continue;
        }
        if rec.len() != 4 {
            return Err(format!(
                "line {line}: expected 4 fields (unit,contest,choice,count), got {}",
                rec.len()
            ));
        }
        let count = rec[3]
            .parse::<u64>()
            .map_err(|_| format!("line {line}: the count {:?} is not a whole number", &rec[3]))?;
        for (i, what) in [(0, "unit"), (1, "contest"), (2, "choice")] {
            if rec[i].is_empty() || rec[i].len() > tallyboard_core::limits::MAX_ID_LEN {
                return Err(format!("line {line}: the {what} is empty or too long"));
            }
        }
        rows.push(ObserverRow {
            line,
            unit: rec[0].to_owned(),
            contest: rec[1].to_owned(),
            choice: rec[2].to_owned(),
            count,
        });
    }
    if !header {
        return Err("the file is empty: it needs the header unit,contest,choice,count".to_owned());
    }
    Ok(rows)
}

/// Reads and parses the observers' CSV file.
pub fn load_observer_csv(path: &Path) -> Result<Vec<ObserverRow>, InputError> {
    let bytes = read_capped(path, MAX_OBSERVER_CSV)?;
    parse_observer_csv(&bytes).map_err(|r| input_err(path, r))
}

/// A receipt file and the tally beside it.
#[derive(Clone, Debug)]
pub struct HeldReceipt {
    /// The receipt file.
    pub path: PathBuf,
    /// The parsed receipt, or why it does not parse.
    pub receipt: Result<Receipt, String>,
    /// The tally it acknowledges, when the file is beside it.
    pub entry: Option<Vec<u8>>,
}

/// Reads every `*.tlog-proof` of `dir`.
pub fn load_receipts(dir: &Path) -> Result<Vec<HeldReceipt>, InputError> {
    let mut out = Vec::new();
    for path in files_with(dir, ".tlog-proof")? {
        let bytes = read_capped(&path, MAX_RECEIPT)?;
        let receipt = Receipt::parse(&bytes).map_err(|e| e.to_string());
        let name = path.to_string_lossy();
        let beside = PathBuf::from(name.trim_end_matches(".tlog-proof"));
        let entry = if beside.is_file() {
            Some(read_capped(&beside, MAX_SIGNED_TALLY)?)
        } else {
            None
        };
        out.push(HeldReceipt {
            path,
            receipt,
            entry,
        });
    }
    Ok(out)
}

/// The backup inputs, read before the full check.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Backup tallies.
    pub tallies: Vec<BackupTally>,
    /// Observers' rows, if a CSV was given.
    pub observers: Option<Vec<ObserverRow>>,
    /// The observers' file and its rows that could not be read.
    pub observers_malformed: Option<(String, Vec<MalformedRow>)>,
    /// Receipts.
    pub receipts: Vec<HeldReceipt>,
    /// Printed sheets.
    pub paper: Vec<crate::paper::PaperSheet>,
}

/// Reads every backup input.
pub fn load(inputs: &BackupInputs, manifest: &Manifest) -> Result<Loaded, InputError> {
    let observers = match (&inputs.observer_rows, &inputs.observer_csv) {
        (Some(o), _) => Some(o.clone()),
        (None, Some(p)) => {
            let bytes = read_capped(p, MAX_OBSERVER_CSV)?;
            Some(read_observers(&p.display().to_string(), &bytes))
        }
        (None, None) => None,
    };
    Ok(Loaded {
        tallies: match &inputs.tallies {
            Some(d) => load_tallies(d, manifest)?,
            None => Vec::new(),
        },
        observers: observers.as_ref().map(|o| o.rows.clone()),
        observers_malformed: observers.map(|o| (o.file, o.malformed)),
        receipts: match &inputs.receipts {
            Some(d) => load_receipts(d)?,
            None => Vec::new(),
        },
        paper: crate::paper::sheets(&inputs.paper, manifest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_observer_row_is_named_and_the_others_kept() {
        let data = b"unit,contest,choice,count\nP-1,mayor,alice,12\nP-1,mayor,bob,twelve\nP-1,mayor\nP-2,mayor,alice,3\n";
        let o = read_observers("obs.csv", data);
        assert_eq!(o.rows.len(), 2);
        assert_eq!(o.rows[1].unit, "P-2");
        let lines: Vec<u64> = o.malformed.iter().map(|m| m.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(o.malformed[0].message.contains("whole number"));
        let h = read_observers("obs.csv", b"unit,contest,line,count\nP,m,a,1\n");
        assert!(h.rows.is_empty());
        assert_eq!(h.malformed[0].line, 1);
        assert_eq!(read_observers("e", b"").malformed.len(), 1);
    }

    #[test]
    fn observer_csv_is_parsed_strictly() {
        let ok = b"# copied from the sheets\nunit,contest,choice,count\nP-1, mayor ,alice,12\n\nP-1,mayor,blank,0\n";
        let rows = parse_observer_csv(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].contest, "mayor");
        assert_eq!(rows[1].choice, "blank");
        assert!(parse_observer_csv(b"").unwrap_err().contains("empty"));
        assert!(
            parse_observer_csv(b"unit,contest,count\n")
                .unwrap_err()
                .contains("header")
        );
        assert!(
            parse_observer_csv(b"unit,contest,choice,count\nP,m,a,-3\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(
            parse_observer_csv(b"unit,contest,choice,count\nP,m,a\n")
                .unwrap_err()
                .contains("4 fields")
        );
    }
}
