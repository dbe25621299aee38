//! Exit statuses and the error that means "the command ran and refused".

use std::fmt;

/// Success.
pub(crate) const OK: u8 = 0;
/// The command ran and refused, or found a problem (a sheet breaks a rule,
/// a manifest does not verify).
pub(crate) const REFUSED: u8 = 1;
/// The command could not run: bad arguments, unreadable input, I/O error.
pub(crate) const CANNOT_RUN: u8 = 2;

/// The exit-status paragraph shown by `--help` of every command.
pub(crate) const EXIT_HELP: &str = "\
Exit status:
  0  success
  1  the command ran and refused, or found a problem (for example a tally
     sheet that breaks a rule, a manifest that does not verify); every
     problem is listed on stderr and nothing is written
  2  the command could not run: bad arguments, unreadable or malformed
     input, I/O error";

/// The command ran and refused: its input breaks a rule. `main` prints the
/// message to stderr and exits with status 1. Any other error exits with 2.
#[derive(Debug)]
pub(crate) struct Refused {
    message: String,
}

impl Refused {
    /// A refusal with a complete, human-readable message (may be several
    /// lines).
    pub(crate) fn new(message: impl Into<String>) -> Refused {
        Refused {
            message: message.into(),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}
