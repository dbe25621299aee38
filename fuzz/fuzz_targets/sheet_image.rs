//! `tallyboard_paper::decode_image_within`: the codes of a printed sheet
//! read from a photo or a scan (PNG or JPEG, outside input; spec/paper.md
//! §3), with a small pixel cap so that the target stays fast.
//!
//! Input: the first byte chooses the recipe. Even: the rest is the image
//! file. Odd: the rest is a recipe for a picture of one QR code (of a real
//! sheet part of some bytes, or of arbitrary text), drawn at a scale of 1
//! to 3 pixels a module, saved as PNG, with up to 4 bytes of the file then
//! changed.
//!
//! Asserts: decoding never panics; an image with more pixels than the cap
//! is refused before it is decoded (whatever else is wrong with it); the
//! texts found are distinct, and every one that parses as a sheet part
//! writes back to exactly its text; when the texts found reassemble, the
//! bytes are within the signed tally's cap and their leaf hash is the
//! fingerprint the parts name. A code drawn at 2 or 3 pixels a module and
//! left intact is found, with exactly its text.
#![no_main]

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader, Luma};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::limits::MAX_SIGNED_TALLY;
use tallyboard_core::paper::{Part, encode, reassemble};
use tallyboard_paper::decode_image_within;

/// Most pixels decoded here (a 256 x 256 picture).
const CAP: u64 = 256 * 256;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        decode(rest);
    } else {
        let _ = drawn(&mut Unstructured::new(rest));
    }
});

/// Decodes `bytes` and checks what is found; the texts found.
fn decode(bytes: &[u8]) -> Option<Vec<String>> {
    let result = decode_image_within(bytes, CAP);
    // The cap, read independently: the image crate's own header reading.
    let format = image::guess_format(bytes).ok();
    if let Some(f @ (ImageFormat::Png | ImageFormat::Jpeg)) = format
        && let Ok((w, h)) = ImageReader::with_format(Cursor::new(bytes), f).into_dimensions()
        && u64::from(w) * u64::from(h) > CAP
    {
        let e = result
            .as_ref()
            .expect_err("an image over the cap is refused");
        let m = e.to_string();
        assert!(m.contains("pixels is more than"), "{m}");
    }
    let texts = result.ok()?;
    for (i, t) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(t), "{t:?} found twice");
        if let Ok(p) = Part::parse(t) {
            assert_eq!(&p.to_text(), t, "a part has one text");
        }
    }
    if let Ok(bytes) = reassemble(texts.iter().map(String::as_str)) {
        assert!(bytes.len() <= MAX_SIGNED_TALLY);
        let named = texts
            .iter()
            .find_map(|t| Part::parse(t).ok())
            .expect("a reassembly has parts")
            .leaf;
        assert_eq!(leaf_hash(&bytes), named);
    }
    Some(texts)
}

/// A picture of one QR code, maybe damaged, decoded.
fn drawn(u: &mut Unstructured<'_>) -> ArbResult<()> {
    let text: String = if u.arbitrary()? {
        let len = u.int_in_range(1..=200usize)?;
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ 0x5a).collect();
        let parts = encode(&bytes);
        parts[u.choose_index(parts.len())?].clone()
    } else {
        // Printable ASCII: other bytes may be taken for Kanji (Shift JIS)
        // by the encoder's mode choice, which a reader gives back as
        // other text.
        let raw: Vec<u8> = u.arbitrary()?;
        raw.iter().map(|b| char::from(0x20 + b % 95)).collect()
    };
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return Ok(());
    };
    let scale = u.int_in_range(1..=3u32)?;
    let quiet = 4;
    let modules = u32::try_from(code.width()).unwrap_or(u32::MAX);
    let side = (modules + 2 * quiet) * scale;
    if u64::from(side) * u64::from(side) > CAP {
        return Ok(());
    }
    let colors = code.to_colors();
    let img = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < quiet + modules
            && my < quiet + modules
            && colors[((my - quiet) * modules + (mx - quiet)) as usize] == qrcode::Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .expect("a PNG is written");
    let changes = u.int_in_range(0..=4u8)?;
    for _ in 0..changes {
        let i = u.choose_index(png.len())?;
        png[i] ^= u.arbitrary::<u8>()?.max(1);
    }
    let found = decode(&png);
    if changes == 0 && scale >= 2 {
        assert_eq!(found, Some(vec![text]), "the code drawn is read back");
    }
    Ok(())
}
