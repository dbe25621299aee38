//! # tallyboard-paper: the printed sheet of a signed tally
//!
//! A count centre prints, for every signed tally, a sheet that the polling
//! station posts and hands to party agents (`spec/paper.md` §4): the
//! figures in words a person checks by eye, and QR codes carrying the
//! signed tally's exact bytes (`tallyboard_core::paper`).
//!
//! - [`describe`]: the sheet's content in words (also `tallyboard show`).
//! - [`render_pdf`]: the PDF, A4 or US Letter, deterministic bytes.
//! - [`decode_image`]: the sheet codes found in a photo or scan (PNG,
//!   JPEG), size-capped.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod image_read;
mod pdf;
mod words;

pub use image_read::{MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, decode_image, decode_image_within};
pub use pdf::{PaperSize, render_pdf};
pub use words::{Description, Line, describe, thousands};

/// Why a sheet could not be written or an image read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SheetError {
    /// The QR encoder refused a part (it does not fit any QR version).
    #[error("cannot encode part {index} as a QR code: {reason}")]
    Qr {
        /// The part number.
        index: u32,
        /// The encoder's reason.
        reason: String,
    },
    /// The image is larger than [`MAX_IMAGE_BYTES`] bytes.
    #[error("the image is {len} bytes; at most {max} are read")]
    ImageTooLarge {
        /// Its size.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The image cannot be decoded (not PNG or JPEG, corrupt, or more
    /// pixels than [`MAX_IMAGE_PIXELS`]).
    #[error("the image cannot be read: {0}")]
    Image(String),
}
