//! Size caps on every input, checked before any parsing work is done.
//!
//! Each constant is normative: `spec/protocol.md` repeats it, and an input
//! over the cap is rejected whole, with an error that names the cap.

/// Largest encoded signed tally, in bytes. A tally with a few hundred choices
/// is under 8 KiB; log entries must also fit a tile bundle's 16-bit length.
pub const MAX_SIGNED_TALLY: usize = 16 * 1024;

/// Largest encoded signed manifest, in bytes: room for about a million
/// reporting units (national scale).
pub const MAX_SIGNED_MANIFEST: usize = 256 * 1024 * 1024;

/// Largest signed note (checkpoint with cosignatures), in bytes.
pub const MAX_NOTE: usize = 16 * 1024;

/// Most signature lines accepted on one note (C2SP signed-note requires at
/// least 16).
pub const MAX_NOTE_SIGNATURES: usize = 64;

/// Largest encoded signed certification, in bytes (a few hundred in
/// practice: ids, one origin and three hashes).
pub const MAX_SIGNED_CERTIFICATION: usize = 4096;

/// Largest encoded signed totals, in bytes.
pub const MAX_SIGNED_TOTALS: usize = 64 * 1024 * 1024;

/// Largest receipt (C2SP tlog-proof), in bytes.
pub const MAX_RECEIPT: usize = 32 * 1024;

/// Most hashes in an inclusion or consistency proof: a tree of 2^63 leaves
/// needs at most 63 (inclusion) or 2·63 (consistency).
pub const MAX_PROOF_HASHES: usize = 128;

/// Largest entry bundle: 256 entries of at most [`MAX_SIGNED_TALLY`] bytes
/// each, with their 2-byte length prefixes.
pub const MAX_ENTRY_BUNDLE: usize = 256 * (2 + MAX_SIGNED_TALLY);

/// Longest identifier (election, contest, choice, region, unit, centre).
pub const MAX_ID_LEN: usize = 64;

/// Longest human-readable name or title, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Longest correction reason, in bytes.
pub const MAX_REASON_LEN: usize = 1024;

/// Largest tree size (number of log entries) any tallyboard log, proof or
/// tile computation accepts: 2^62, far above any election and small enough
/// that stored-hash indexes (about twice the size) never overflow 64 bits.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Longest tile or entry-bundle path, in bytes. The longest valid path,
/// `tile/entries/x018/x446/x744/x073/x709/x551/615.p/255`, has 52.
pub const MAX_TILE_PATH: usize = 64;

/// Longest mirror base URL listed in a manifest, in bytes.
pub const MAX_MIRROR_URL_LEN: usize = 1024;

/// Largest observers' CSV file (`unit,contest,choice,count` rows) the
/// verifier reads, in bytes: room for every figure of a national election.
pub const MAX_OBSERVER_CSV: usize = 256 * 1024 * 1024;

/// Most files read from a directory of backup tallies or receipts.
pub const MAX_BACKUP_FILES: usize = 4_000_000;

/// Most consistency proof lines in a C2SP tlog-witness `add-checkpoint`
/// request (the spec's limit: a client must not send more than 63).
pub const MAX_ADD_CHECKPOINT_PROOF_LINES: usize = 63;

/// Largest `add-checkpoint` request body, in bytes: the old size line
/// (`old ` + at most 20 digits + newline), 63 proof lines of 44 base64
/// characters and a newline, the blank line and a checkpoint note of at most
/// [`MAX_NOTE`] bytes.
pub const MAX_ADD_CHECKPOINT_REQUEST: usize =
    25 + MAX_ADD_CHECKPOINT_PROOF_LINES * 45 + 1 + MAX_NOTE;

/// Largest `add-checkpoint` success response (the witness's cosignature
/// lines), in bytes.
pub const MAX_ADD_CHECKPOINT_RESPONSE: usize = 8 * 1024;

/// Most parts (QR codes) one printed sheet's signed tally is split into:
/// room for the largest signed tally at 200 bytes a part (82 parts).
pub const MAX_PAPER_PARTS: usize = 100;

/// Longest text of one sheet code, in bytes (a part of 200 bytes is about
/// 375 characters; the largest QR code holds 4,296 alphanumeric ones).
pub const MAX_PAPER_PART_TEXT: usize = 2048;
