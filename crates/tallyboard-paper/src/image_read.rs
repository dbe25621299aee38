//! Reading the codes of a sheet from a photo or a scan (PNG, JPEG) with
//! `rqrr`, after capping the file size and the image's dimensions.

use image::{ImageFormat, ImageReader, Limits};

use crate::SheetError;

/// Largest image file read, in bytes.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024 * 1024;

/// Most pixels an image may have (a 600-dpi A4 scan is about 35 million).
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;

/// The texts of every QR code found in the image, in the order found.
/// Codes that are found but cannot be decoded are skipped; the caller
/// learns of them as missing parts.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>, SheetError> {
    decode_image_within(bytes, MAX_IMAGE_PIXELS)
}

/// [`decode_image`] with a lower cap on the pixels (at most
/// [`MAX_IMAGE_PIXELS`]): an image with more is refused before it is
/// decoded. The fuzz target uses a small cap to stay fast.
pub fn decode_image_within(bytes: &[u8], max_pixels: u64) -> Result<Vec<String>, SheetError> {
    let max_pixels = max_pixels.min(MAX_IMAGE_PIXELS);
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(SheetError::ImageTooLarge {
            len: bytes.len(),
            max: MAX_IMAGE_BYTES,
        });
    }
    let format = image::guess_format(bytes).map_err(|e| SheetError::Image(e.to_string()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(SheetError::Image(format!(
            "{format:?} images are not read; give a PNG or JPEG"
        )));
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(max_pixels.max(1 << 20) * 4);
    reader.limits(limits.clone());
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| SheetError::Image(e.to_string()))?;
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(SheetError::Image(format!(
            "{w} x {h} pixels is more than {max_pixels}"
        )));
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| SheetError::Image(e.to_string()))?
        .into_luma8();
    let mut texts = Vec::new();
    let failed = read_codes(img.clone(), &mut texts);
    // Codes found but not decoded at this scale (a 150-dpi scan gives a few
    // pixels a module) often decode at twice the size.
    if failed && u64::from(img.width()) * u64::from(img.height()) * 4 <= max_pixels {
        let big = image::imageops::resize(
            &img,
            img.width() * 2,
            img.height() * 2,
            image::imageops::FilterType::Triangle,
        );
        read_codes(big, &mut texts);
    }
    Ok(texts)
}

/// Adds the texts of the codes rqrr decodes in `img` to `texts`; whether
/// some code was found that did not decode.
fn read_codes(img: image::GrayImage, texts: &mut Vec<String>) -> bool {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut pixels: Vec<u8> = img.into_raw();
    let mut failed = false;
    // rqrr can miss codes when several stand side by side (their finder
    // patterns pair up wrongly): each round paints the codes it decoded
    // white and looks again, until a round finds nothing new.
    for _ in 0..MAX_ROUNDS {
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
        let mut found = false;
        for grid in prepared.detect_grids() {
            let Ok((_, text)) = grid.decode() else {
                failed = true;
                continue;
            };
            erase(&mut pixels, w, h, &grid.bounds);
            if !texts.contains(&text) {
                texts.push(text);
                found = true;
            }
        }
        if !found {
            break;
        }
    }
    failed
}

/// Rounds of detection in [`decode_image`].
const MAX_ROUNDS: usize = 32;

/// Paints white the axis-aligned box around `bounds` (a decoded code).
fn erase(pixels: &mut [u8], w: usize, h: usize, bounds: &[rqrr::Point; 4]) {
    let clamp = |v: i32, max: usize| usize::try_from(v.max(0)).unwrap_or(0).min(max);
    let x0 = clamp(bounds.iter().map(|p| p.x).min().unwrap_or(0), w);
    let x1 = clamp(bounds.iter().map(|p| p.x).max().unwrap_or(0) + 1, w);
    let y0 = clamp(bounds.iter().map(|p| p.y).min().unwrap_or(0), h);
    let y1 = clamp(bounds.iter().map(|p| p.y).max().unwrap_or(0) + 1, h);
    for y in y0..y1 {
        for px in &mut pixels[y * w + x0..y * w + x1] {
            *px = 255;
        }
    }
}
