//! The backup channels' inputs (spec/verify.md §4.6): signed tallies
//! obtained directly from count centres, observers' counts copied from the
//! posted paper sheets (CSV), and receipts held by count centres. Each is
//! read, size-capped and parsed here; the comparison with the log is done
//! by the verifier after the full check.

use std::path::{Path, PathBuf};

use tallyboard_core::SignedTally;
use tallyboard_core::limits::{MAX_BACKUP_FILES, MAX_OBSERVER_CSV, MAX_RECEIPT, MAX_SIGNED_TALLY};
use tallyboard_core::manifest::Manifest;
use tallyboard_core::receipt::Receipt;
use tallyboard_core::rules::check_tally;

/// Where the backup channels are.
#[derive(Clone, Debug, Default)]
pub struct BackupInputs {
    /// A directory of signed tallies (`*.tally`) from count centres.
    pub tallies: Option<PathBuf>,
    /// Observers' CSV: `unit,contest,choice,count`.
    pub observer_csv: Option<PathBuf>,
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
        let tally = match SignedTally::from_bytes_in(&bytes, manifest) {
            Err(e) => Err(format!("not a validly signed tally: {e}")),
            Ok(t) => {
                let v = check_tally(manifest, t.tally());
                if v.is_empty() {
                    Ok(t)
                } else {
                    Err(format!(
                        "breaks the rules of the manifest: {}",
                        v.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                }
            }
        };
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
    /// Receipts.
    pub receipts: Vec<HeldReceipt>,
    /// Printed sheets.
    pub paper: Vec<crate::paper::PaperSheet>,
}

/// Reads every backup input.
pub fn load(inputs: &BackupInputs, manifest: &Manifest) -> Result<Loaded, InputError> {
    Ok(Loaded {
        tallies: match &inputs.tallies {
            Some(d) => load_tallies(d, manifest)?,
            None => Vec::new(),
        },
        observers: match &inputs.observer_csv {
            Some(p) => Some(load_observer_csv(p)?),
            None => None,
        },
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
