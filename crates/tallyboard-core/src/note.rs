//! C2SP signed notes (`c2sp.org/signed-note`) and their key strings.
//!
//! A signed note is a UTF-8 text ending in a newline, a blank line, and one
//! or more signature lines `— <key name> base64(key id || signature)`.
//! `spec/notes-and-checkpoints.md` states every rule this module enforces;
//! the parser is strict: size caps first, then UTF-8, no control characters
//! other than newline, canonical base64 only, and a bounded number of
//! signature lines.
//!
//! Key strings follow the formats used by the Go reference implementation
//! (`golang.org/x/mod/sumdb/note`):
//!
//! ```text
//! verifier key:  <name>+<8 hex digits key id>+base64(type || 32-byte public key)
//! private key:   PRIVATE+KEY+<name>+<8 hex digits key id>+base64(type || 32-byte seed)
//! key id      =  first 4 bytes, big-endian, of SHA-256(name || 0x0A || type || public key)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::cosignature_v1;
use crate::hash::Hash;
use crate::keys::{PublicKey, SecretKey, Signature};
use crate::limits::{MAX_NOTE, MAX_NOTE_SIGNATURES};

/// Signature type byte of plain Ed25519 note signatures (C2SP signed-note).
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 checkpoint cosignatures
/// (C2SP tlog-cosignature, `cosignature/v1`).
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The em dash and space that open every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Longest key name accepted in a key string or signature line, in bytes.
pub const MAX_KEY_NAME_LEN: usize = 256;

/// The kind of a note key: which signature type byte and message format it
/// uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// Type `0x01`: Ed25519 over the note text (logs, plain note signers).
    Ed25519,
    /// Type `0x04`: timestamped Ed25519 cosignature (`cosignature/v1`),
    /// used by witnesses.
    CosignatureV1,
}

impl KeyKind {
    /// The signature type byte that goes into the key id and the key string.
    pub const fn type_byte(self) -> u8 {
        match self {
            KeyKind::Ed25519 => SIG_TYPE_ED25519,
            KeyKind::CosignatureV1 => SIG_TYPE_COSIGNATURE_V1,
        }
    }

    /// The kind for a type byte, if it is one this crate supports.
    pub const fn from_type_byte(b: u8) -> Option<KeyKind> {
        match b {
            SIG_TYPE_ED25519 => Some(KeyKind::Ed25519),
            SIG_TYPE_COSIGNATURE_V1 => Some(KeyKind::CosignatureV1),
            _ => None,
        }
    }

    /// Length of the signature bytes after the 4-byte key id.
    pub const fn signature_len(self) -> usize {
        match self {
            KeyKind::Ed25519 => 64,
            KeyKind::CosignatureV1 => 8 + 64,
        }
    }
}

/// Errors from parsing key strings.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum KeyStringError {
    /// The string is not `<name>+<hex id>+<base64>` (or the `PRIVATE+KEY+`
    /// form for private keys).
    #[error("malformed key string")]
    Malformed,
    /// The key name is empty, too long, or contains a space, a control
    /// character or `+`.
    #[error("invalid key name")]
    InvalidName,
    /// The key id is not exactly 8 lower-case hex digits.
    #[error("key id is not 8 lower-case hex digits")]
    BadKeyIdEncoding,
    /// The key material is not canonical standard base64.
    #[error("key material is not canonical base64")]
    NonCanonicalBase64,
    /// The signature type byte is not 0x01 or 0x04.
    #[error("unsupported signature type {0:#04x}")]
    UnsupportedType(u8),
    /// The key material after the type byte is not 32 bytes.
    #[error("key material has the wrong length")]
    BadKeyLength,
    /// The public key is not a valid, non-weak Ed25519 key.
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
    /// The key id in the string is not the one computed from name, type and key.
    #[error("key id does not match name and key")]
    KeyIdMismatch,
}

impl KeyStringError {
    /// Stable kebab-case code of the error (`spec/notes-and-checkpoints.md`
    /// §4.3).
    pub fn code(&self) -> &'static str {
        match self {
            KeyStringError::Malformed => "malformed-key-string",
            KeyStringError::InvalidName => "invalid-key-name",
            KeyStringError::BadKeyIdEncoding => "bad-key-id",
            KeyStringError::NonCanonicalBase64 => "non-canonical-base64",
            KeyStringError::UnsupportedType(_) => "unsupported-key-type",
            KeyStringError::BadKeyLength => "bad-key-length",
            KeyStringError::InvalidPublicKey => "invalid-public-key",
            KeyStringError::KeyIdMismatch => "key-id-mismatch",
        }
    }
}

/// Whether `name` is a valid key name: non-empty, at most
/// [`MAX_KEY_NAME_LEN`] bytes, no Unicode white space, no control character,
/// no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_KEY_NAME_LEN
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// The C2SP key id: the first four bytes (big-endian) of
/// `SHA-256(name || 0x0A || type || public key)`.
pub fn key_id(name: &str, kind: KeyKind, key: &PublicKey) -> u32 {
    let mut buf = Vec::with_capacity(name.len() + 2 + 32);
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(kind.type_byte());
    buf.extend_from_slice(key.as_bytes());
    let h = Hash::sha256(&buf);
    u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
}

/// Decodes canonical standard base64 (RFC 4648 §4 with padding, zero
/// trailing bits). Returns `None` for anything else.
pub(crate) fn b64_decode_canonical(s: &str) -> Option<Vec<u8>> {
    let v = B64.decode(s).ok()?;
    // The engine already rejects bad padding and non-zero trailing bits;
    // re-encoding makes the canonical-form rule independent of that detail.
    if B64.encode(&v) != s {
        return None;
    }
    Some(v)
}

/// Standard base64 with padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn parse_hex_id(s: &str) -> Result<u32, KeyStringError> {
    if s.len() != 8 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(KeyStringError::BadKeyIdEncoding);
    }
    u32::from_str_radix(s, 16).map_err(|_| KeyStringError::BadKeyIdEncoding)
}

/// Splits `name+hexid+base64` and decodes the typed key material.
fn split_key_string(s: &str) -> Result<(&str, u32, KeyKind, [u8; 32]), KeyStringError> {
    let (name, rest) = s.split_once('+').ok_or(KeyStringError::Malformed)?;
    let (id, material) = rest.split_once('+').ok_or(KeyStringError::Malformed)?;
    if !is_valid_key_name(name) {
        return Err(KeyStringError::InvalidName);
    }
    let id = parse_hex_id(id)?;
    let raw = b64_decode_canonical(material).ok_or(KeyStringError::NonCanonicalBase64)?;
    let (&ty, key) = raw.split_first().ok_or(KeyStringError::BadKeyLength)?;
    let kind = KeyKind::from_type_byte(ty).ok_or(KeyStringError::UnsupportedType(ty))?;
    let key: [u8; 32] = key.try_into().map_err(|_| KeyStringError::BadKeyLength)?;
    Ok((name, id, kind, key))
}

/// A note verifier key (C2SP "vkey"): a name, a key id, a signature type and
/// an Ed25519 public key. Invariant: the key id is the one computed from the
/// other three fields, and the name is valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    kind: KeyKind,
    key: PublicKey,
}

impl VerifierKey {
    /// A verifier key for `name`, `kind` and `key`; computes the key id.
    pub fn new(name: &str, kind: KeyKind, key: PublicKey) -> Result<VerifierKey, KeyStringError> {
        if !is_valid_key_name(name) {
            return Err(KeyStringError::InvalidName);
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, kind, &key),
            kind,
            key,
        })
    }

    /// Parses `<name>+<hex key id>+<base64(type || public key)>`, checking
    /// that the key id matches.
    pub fn parse(s: &str) -> Result<VerifierKey, KeyStringError> {
        if s.len() > MAX_KEY_NAME_LEN + 64 {
            return Err(KeyStringError::Malformed);
        }
        let (name, id, kind, key) = split_key_string(s)?;
        let key = PublicKey::from_bytes(&key).map_err(|_| KeyStringError::InvalidPublicKey)?;
        let vk = VerifierKey::new(name, kind, key)?;
        if vk.key_id != id {
            return Err(KeyStringError::KeyIdMismatch);
        }
        Ok(vk)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl core::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.kind.type_byte());
        material.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            b64_encode(&material)
        )
    }
}

impl core::str::FromStr for VerifierKey {
    type Err = KeyStringError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerifierKey::parse(s)
    }
}

/// A note signer: name, kind and Ed25519 private key. `Debug` never shows
/// the seed; [`SignerKey::to_secret_string`] is the only way out.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    kind: KeyKind,
    secret: SecretKey,
    verifier: VerifierKey,
}

impl SignerKey {
    /// A signer for `name` and `kind` with private key `secret`.
    pub fn new(name: &str, kind: KeyKind, secret: SecretKey) -> Result<SignerKey, KeyStringError> {
        let verifier = VerifierKey::new(name, kind, secret.public_key())?;
        Ok(SignerKey {
            name: name.to_owned(),
            kind,
            secret,
            verifier,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`
    /// (the Go `sumdb/note` private key format), checking the key id.
    pub fn parse(s: &str) -> Result<SignerKey, KeyStringError> {
        if s.len() > MAX_KEY_NAME_LEN + 80 {
            return Err(KeyStringError::Malformed);
        }
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyStringError::Malformed)?;
        let (name, id, kind, seed) = split_key_string(rest)?;
        let seed = Zeroizing::new(seed);
        let signer = SignerKey::new(name, kind, SecretKey::from_seed(&seed))?;
        if signer.verifier.key_id != id {
            return Err(KeyStringError::KeyIdMismatch);
        }
        Ok(signer)
    }

    /// The private key string, for writing to the owner-only key file.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let seed = self.secret.seed();
        let mut material = Zeroizing::new(Vec::with_capacity(33));
        material.push(self.kind.type_byte());
        material.extend_from_slice(seed.as_ref());
        let encoded = Zeroizing::new(b64_encode(&material));
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier.key_id,
            encoded.as_str()
        ))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.verifier.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }

    /// The Ed25519 private key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl core::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignerKey")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}

/// Errors from parsing, signing or opening a signed note.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE`] bytes.
    #[error("note larger than {MAX_NOTE} bytes")]
    TooLarge,
    /// The note is not valid UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// The note contains an ASCII control character other than newline.
    #[error("note contains a control character")]
    ControlCharacter,
    /// The note does not end with a newline.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// No blank line separates the text from the signatures.
    #[error("no blank line before the signatures")]
    MissingBlankLine,
    /// A line after the last blank line is not `— <name> <base64>`.
    #[error("malformed signature line")]
    MalformedSignatureLine,
    /// A signature's key name is invalid.
    #[error("invalid key name in signature line")]
    InvalidKeyName,
    /// A signature is not canonical standard base64.
    #[error("signature is not canonical base64")]
    NonCanonicalBase64,
    /// A signature is shorter than the 4-byte key id plus one byte.
    #[error("signature too short")]
    SignatureTooShort,
    /// The blank line is the last line: the note has no signature lines.
    #[error("note has no signature lines")]
    NoSignatures,
    /// More than [`MAX_NOTE_SIGNATURES`] signature lines.
    #[error("more than {MAX_NOTE_SIGNATURES} signatures")]
    TooManySignatures,
    /// The note text to sign is empty or does not end with a newline.
    #[error("note text must be non-empty and end with a newline")]
    BadText,
    /// A signature from a known key does not verify.
    #[error("signature from known key {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// A known key signed the note more than once.
    #[error("duplicate signature from known key {name}+{key_id:08x}")]
    DuplicateSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// A cosignature timestamp is above 2^63 - 1.
    #[error("cosignature timestamp out of range")]
    TimestampOutOfRange,
    /// Two configured verifier keys share the same name and key id.
    #[error("ambiguous verifier keys {name}+{key_id:08x}")]
    AmbiguousVerifiers {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// The signer's key kind cannot make this signature (e.g. a cosigner key
    /// used for a plain note signature).
    #[error("wrong key kind for this signature")]
    WrongKeyKind,
    /// No signature from a known key is on the note.
    #[error("no signature from a known key")]
    NoKnownSignature,
}

impl NoteError {
    /// A stable, kebab-case code for the error (used in test vectors and
    /// JSON reports).
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::TooLarge => "too-large",
            NoteError::NotUtf8 => "not-utf8",
            NoteError::ControlCharacter => "control-character",
            NoteError::MissingFinalNewline => "missing-final-newline",
            NoteError::MissingBlankLine => "missing-blank-line",
            NoteError::MalformedSignatureLine => "malformed-signature-line",
            NoteError::InvalidKeyName => "invalid-key-name",
            NoteError::NonCanonicalBase64 => "non-canonical-base64",
            NoteError::SignatureTooShort => "signature-too-short",
            NoteError::NoSignatures => "no-signatures",
            NoteError::TooManySignatures => "too-many-signatures",
            NoteError::BadText => "bad-text",
            NoteError::BadSignature { .. } => "bad-signature",
            NoteError::DuplicateSignature { .. } => "duplicate-signature",
            NoteError::TimestampOutOfRange => "timestamp-out-of-range",
            NoteError::AmbiguousVerifiers { .. } => "ambiguous-verifiers",
            NoteError::WrongKeyKind => "wrong-key-kind",
            NoteError::NoKnownSignature => "no-known-signature",
        }
    }
}

/// One signature line of a note: key name, key id and signature bytes
/// (everything after the key id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// Signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(key id || signature)>\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, b64_encode(&raw))
    }

    /// Parses one signature line (without its final newline):
    /// `— <name> <canonical base64(key id || signature)>`.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(NoteError::MalformedSignatureLine)?;
        let (name, sig) = rest
            .split_once(' ')
            .ok_or(NoteError::MalformedSignatureLine)?;
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        if sig.contains(' ') {
            return Err(NoteError::MalformedSignatureLine);
        }
        let raw = b64_decode_canonical(sig).ok_or(NoteError::NonCanonicalBase64)?;
        if raw.len() < 5 {
            return Err(NoteError::SignatureTooShort);
        }
        let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id,
            signature: raw[4..].to_vec(),
        })
    }
}

/// A parsed (not yet verified) signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_chars(s: &str) -> Result<(), NoteError> {
    if s.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

impl Note {
    /// An unsigned note with `text`, which must be non-empty, end with a
    /// newline, be at most [`MAX_NOTE`] bytes and contain no control
    /// characters other than newline.
    pub fn new(text: &str) -> Result<Note, NoteError> {
        if text.len() > MAX_NOTE {
            return Err(NoteError::TooLarge);
        }
        check_chars(text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::BadText);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note (no signature is checked: use [`open`]).
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE {
            return Err(NoteError::TooLarge);
        }
        let s = core::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_chars(s)?;
        if !s.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let split = s.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
        let text = &s[..split + 1];
        let block = &s[split + 2..];
        if block.is_empty() {
            // The blank line is the last line: there are no signatures.
            return Err(NoteError::NoSignatures);
        }
        let mut signatures = Vec::new();
        for line in block.split_terminator('\n') {
            if signatures.len() == MAX_NOTE_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line; a signature already present from the same
    /// name and key id is replaced (as the Go implementation does).
    pub fn add_signature(&mut self, sig: NoteSignature) -> Result<(), NoteError> {
        if !is_valid_key_name(&sig.name) {
            return Err(NoteError::InvalidKeyName);
        }
        if sig.signature.is_empty() {
            return Err(NoteError::SignatureTooShort);
        }
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        if self.signatures.len() == MAX_NOTE_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        self.signatures.push(sig);
        Ok(())
    }

    /// Signs the text with an Ed25519 ([`KeyKind::Ed25519`]) signer and adds
    /// the signature line.
    pub fn sign(&mut self, signer: &SignerKey) -> Result<(), NoteError> {
        let sig = sign_text(&self.text, signer)?;
        self.add_signature(sig)
    }

    /// The encoded note: text, blank line, signature lines. Fails if the
    /// result would exceed [`MAX_NOTE`] or has no signature.
    pub fn to_bytes(&self) -> Result<Vec<u8>, NoteError> {
        if self.signatures.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let mut out = Vec::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.extend_from_slice(self.text.as_bytes());
        out.push(b'\n');
        for s in &self.signatures {
            out.extend_from_slice(s.to_line().as_bytes());
        }
        if out.len() > MAX_NOTE {
            return Err(NoteError::TooLarge);
        }
        Ok(out)
    }
}

/// A plain Ed25519 note signature of `text` by `signer` (which must be of
/// kind [`KeyKind::Ed25519`]).
pub fn sign_text(text: &str, signer: &SignerKey) -> Result<NoteSignature, NoteError> {
    if signer.kind != KeyKind::Ed25519 {
        return Err(NoteError::WrongKeyKind);
    }
    let sig = signer.secret.sign_raw(text.as_bytes());
    Ok(NoteSignature {
        name: signer.name.clone(),
        key_id: signer.key_id(),
        signature: sig.0.to_vec(),
    })
}

/// Signs `text` with every signer (all of kind [`KeyKind::Ed25519`]) and
/// returns the encoded note.
pub fn sign(text: &str, signers: &[&SignerKey]) -> Result<Vec<u8>, NoteError> {
    let mut note = Note::new(text)?;
    for s in signers {
        note.sign(s)?;
    }
    note.to_bytes()
}

/// A known key that signed a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Index of the key in the `verifiers` slice given to [`open`].
    pub verifier: usize,
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// Cosignature timestamp (POSIX seconds) for [`KeyKind::CosignatureV1`]
    /// keys; `None` for plain Ed25519 signatures.
    pub timestamp: Option<u64>,
}

/// A note whose known signatures all verified, at least one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The parsed note (all signature lines, including unknown ones).
    pub note: Note,
    /// The known keys that signed, in signature-line order.
    pub signed_by: Vec<VerifiedSignature>,
}

impl VerifiedNote {
    /// The note text.
    pub fn text(&self) -> &str {
        self.note.text()
    }

    /// Whether the verifier at `index` (in the slice given to [`open`]) signed.
    pub fn is_signed_by(&self, index: usize) -> bool {
        self.signed_by.iter().any(|s| s.verifier == index)
    }
}

/// Verifies one signature from a known key over `text`; returns the
/// cosignature timestamp for cosigner keys.
pub(crate) fn verify_signature(
    text: &str,
    key: &VerifierKey,
    sig: &[u8],
) -> Result<Option<u64>, NoteError> {
    let bad = || NoteError::BadSignature {
        name: key.name.clone(),
        key_id: key.key_id,
    };
    match key.kind {
        KeyKind::Ed25519 => {
            let s = Signature::from_slice(sig).map_err(|_| bad())?;
            key.key.verify_raw(text.as_bytes(), &s).map_err(|_| bad())?;
            Ok(None)
        }
        KeyKind::CosignatureV1 => match cosignature_v1::verify_bytes(text, key.public_key(), sig) {
            Ok(t) => Ok(Some(t)),
            Err(cosignature_v1::CosignatureError::TimestampOutOfRange) => {
                Err(NoteError::TimestampOutOfRange)
            }
            Err(_) => Err(bad()),
        },
    }
}

/// Parses `bytes` as a signed note and checks it against `verifiers`.
///
/// Signature lines whose (name, key id) match no verifier are ignored. A
/// signature from a known key that fails to verify rejects the whole note,
/// as does a second signature line from the same known key. At least one
/// known key must have signed.
pub fn open(bytes: &[u8], verifiers: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    let note = Note::parse(bytes)?;
    for (i, a) in verifiers.iter().enumerate() {
        if verifiers[..i]
            .iter()
            .any(|b| b.name == a.name && b.key_id == a.key_id && b != a)
        {
            return Err(NoteError::AmbiguousVerifiers {
                name: a.name.clone(),
                key_id: a.key_id,
            });
        }
    }
    let mut signed_by: Vec<VerifiedSignature> = Vec::new();
    for sig in &note.signatures {
        let Some(idx) = verifiers
            .iter()
            .position(|v| v.name == sig.name && v.key_id == sig.key_id)
        else {
            continue;
        };
        if signed_by.iter().any(|s| s.verifier == idx) {
            return Err(NoteError::DuplicateSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        }
        let timestamp = verify_signature(&note.text, &verifiers[idx], &sig.signature)?;
        signed_by.push(VerifiedSignature {
            verifier: idx,
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp,
        });
    }
    if signed_by.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(VerifiedNote { note, signed_by })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, kind: KeyKind, b: u8) -> SignerKey {
        SignerKey::new(name, kind, SecretKey::from_seed(&[b; 32])).unwrap()
    }

    #[test]
    fn key_strings_round_trip() {
        for kind in [KeyKind::Ed25519, KeyKind::CosignatureV1] {
            let s = signer("example.com/log", kind, 3);
            let secret = s.to_secret_string();
            let back = SignerKey::parse(&secret).unwrap();
            assert_eq!(back.verifier(), s.verifier());
            let vk = s.verifier().to_string();
            assert_eq!(VerifierKey::parse(&vk).unwrap(), *s.verifier());
        }
    }

    #[test]
    fn signer_debug_hides_seed() {
        let s = signer("a", KeyKind::Ed25519, 9);
        let shown = format!("{s:?}");
        assert!(!shown.contains("PRIVATE"));
        assert!(!shown.contains(&hex::encode([9u8; 32])));
    }

    #[test]
    fn rejects_key_id_mismatch_and_bad_names() {
        let s = signer("a", KeyKind::Ed25519, 9);
        let vk = s.verifier().to_string();
        let (name, rest) = vk.split_once('+').unwrap();
        let (_, material) = rest.split_once('+').unwrap();
        assert_eq!(
            VerifierKey::parse(&format!("{name}+00000000+{material}")),
            Err(KeyStringError::KeyIdMismatch)
        );
        assert_eq!(
            VerifierKey::parse(&format!("{name}+{}+{material}", &rest[..8].to_uppercase())),
            Err(KeyStringError::BadKeyIdEncoding)
        );
        assert!(!is_valid_key_name(""));
        assert!(!is_valid_key_name("a b"));
        assert!(!is_valid_key_name("a+b"));
        assert!(!is_valid_key_name("a\u{00a0}b"));
        assert!(is_valid_key_name("example.com/log"));
    }
}
