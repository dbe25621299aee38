//! `verify --paper PATH...`: reading the codes of printed sheets from
//! photos, scans (PNG, JPEG, decoded by `tallyboard-paper`) and text files
//! of decoded codes, for the verifier's paper channel.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use tallyboard_core::limits::{MAX_BACKUP_FILES, MAX_PAPER_PART_TEXT, MAX_PAPER_PARTS};
use tallyboard_paper::{MAX_IMAGE_BYTES, decode_image};
use tallyboard_verify::paper::PaperInput;

use crate::fsutil::read_capped;

/// Largest text file of decoded codes read, in bytes.
const MAX_TEXT: usize = MAX_PAPER_PARTS * 4 * (MAX_PAPER_PART_TEXT + 2);

fn kind(p: &Path) -> Option<&'static str> {
    let ext = p.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" | "jpg" | "jpeg" => Some("image"),
        "txt" => Some("text"),
        _ => None,
    }
}

/// Every input of `paths`: files as given, directories' `*.png`, `*.jpg`,
/// `*.jpeg` and `*.txt` files (sorted, not recursive).
pub(crate) fn read_paper(paths: &[PathBuf]) -> Result<Vec<PaperInput>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("--paper {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| kind(f).is_some())
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(anyhow!(
                "--paper {}: no such file or directory",
                p.display()
            ));
        }
        if files.len() > MAX_BACKUP_FILES {
            return Err(anyhow!("--paper: more than {MAX_BACKUP_FILES} files"));
        }
    }
    files.iter().map(|f| read_one(f)).collect()
}

fn read_one(f: &Path) -> Result<PaperInput> {
    let name = f.display().to_string();
    let bytes = read_capped(f, MAX_IMAGE_BYTES)?;
    let is_image = bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xff\xd8");
    let texts = if is_image {
        decode_image(&bytes).with_context(|| format!("--paper {name}"))?
    } else {
        if bytes.len() > MAX_TEXT {
            return Err(anyhow!(
                "--paper {name}: a text file of codes is at most {MAX_TEXT} bytes"
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("--paper {name}: neither a PNG or JPEG image nor UTF-8 text"))?;
        text.lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    };
    Ok(PaperInput { name, texts })
}
