//! The sheet as a PDF (`spec/paper.md` §4): one or more pages of A4 or US
//! Letter, the standard Helvetica and Courier fonts (nothing embedded), the
//! QR codes drawn as filled rectangles. The bytes depend on the signed
//! tally, the manifest and the paper size only (no dates, no random ids),
//! so printing the same tally twice gives the same file.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};
use tallyboard_core::SignedTally;
use tallyboard_core::manifest::Manifest;
use tallyboard_core::paper::split;

use crate::SheetError;
use crate::words::{Description, describe};

/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;
/// Page margin.
const MARGIN: f32 = 15.0 * MM;
/// Width of one QR module: 1 mm, about 5.9 pixels in a 150-dpi scan
/// (smaller modules read with zbar but not always with rqrr at 150 dpi).
const MODULE: f32 = 1.0 * MM;
/// Quiet zone around each code, in modules.
const QUIET: usize = 4;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const MONO: Name<'static> = Name(b"F3");

/// The paper sizes a sheet is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperSize {
    /// ISO A4, 210 × 297 mm.
    A4,
    /// US Letter, 8.5 × 11 in.
    Letter,
}

impl PaperSize {
    /// Width and height in points.
    fn points(self) -> (f32, f32) {
        match self {
            PaperSize::A4 => (210.0 * MM, 297.0 * MM),
            PaperSize::Letter => (612.0, 792.0),
        }
    }
}

/// Text in the standard fonts' WinAnsi encoding: Latin-1 characters and
/// common punctuation as themselves, anything else as `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20ac}' => 0x80,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            c => match u32::from(c) {
                n @ (0x20..=0x7e | 0xa0..=0xff) => n as u8,
                _ => b'?',
            },
        })
        .collect()
}

/// Splits `s` into lines of at most `max` characters, at spaces when it can.
fn wrap(s: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > max {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(head);
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Pages laid out from the top down.
struct Layout {
    width: f32,
    height: f32,
    pages: Vec<Content>,
    page: Content,
    /// Distance of the next line from the top of the page.
    y: f32,
}

impl Layout {
    fn new(size: PaperSize) -> Layout {
        let (width, height) = size.points();
        Layout {
            width,
            height,
            pages: Vec::new(),
            page: Content::new(),
            y: MARGIN,
        }
    }

    /// Starts a new page if `needed` points do not fit on this one.
    fn room(&mut self, needed: f32) {
        if self.y + needed > self.height - MARGIN {
            let done = std::mem::replace(&mut self.page, Content::new());
            self.pages.push(done);
            self.y = MARGIN;
        }
    }

    fn text(&mut self, font: Name<'_>, size: f32, x: f32, text: &str) {
        let base = self.height - self.y - size;
        self.page
            .begin_text()
            .set_font(font, size)
            .next_line(x, base)
            .show(Str(&win_ansi(text)))
            .end_text();
    }

    /// Monospaced text ending at `right`.
    fn text_right(&mut self, size: f32, right: f32, text: &str) {
        let w = 0.6 * size * text.chars().count() as f32;
        self.text(MONO, size, right - w, text);
    }

    fn rule(&mut self, x0: f32, x1: f32, gray: f32) {
        let y = self.height - self.y;
        self.page
            .set_stroke_gray(gray)
            .set_line_width(0.5)
            .move_to(x0, y)
            .line_to(x1, y)
            .stroke();
    }

    /// Labelled lines: bold label, regular value wrapped.
    fn labelled(&mut self, lines: &[crate::Line], size: f32) {
        let value_x = MARGIN + 32.0 * MM;
        let max = ((self.width - MARGIN - value_x) / (0.5 * size)) as usize;
        for l in lines {
            let wrapped = wrap(&l.value, max.max(10));
            self.room(size * 1.4 * wrapped.len() as f32);
            self.text(BOLD, size, MARGIN, &l.label);
            for w in wrapped {
                self.text(REGULAR, size, value_x, &w);
                self.y += size * 1.4;
            }
        }
    }

    fn finish(mut self) -> Vec<Content> {
        self.pages.push(self.page);
        self.pages
    }
}

/// The sheet of `signed` as a PDF. Names come from `manifest` when given.
pub fn render_pdf(
    signed: &SignedTally,
    manifest: Option<&Manifest>,
    size: PaperSize,
) -> Result<Vec<u8>, SheetError> {
    let d = describe(signed, manifest);
    let codes = codes(signed)?;
    let mut l = Layout::new(size);
    draw_words(&mut l, &d);
    draw_codes(&mut l, &codes);
    Ok(assemble(l, &d))
}

/// Each part's QR code: its width in modules and its dark modules.
fn codes(signed: &SignedTally) -> Result<Vec<(usize, Vec<Color>)>, SheetError> {
    split(signed.as_bytes())
        .iter()
        .map(|p| {
            let code =
                QrCode::with_error_correction_level(p.to_text(), EcLevel::M).map_err(|e| {
                    SheetError::Qr {
                        index: p.index,
                        reason: e.to_string(),
                    }
                })?;
            Ok((code.width(), code.to_colors()))
        })
        .collect()
}

fn draw_words(l: &mut Layout, d: &Description) {
    let max = ((l.width - 2.0 * MARGIN) / (0.6 * 16.0)) as usize;
    for line in wrap(&d.title, max) {
        l.text(BOLD, 16.0, MARGIN, &line);
        l.y += 20.0;
    }
    l.y += 2.0;
    l.text(
        REGULAR,
        10.0,
        MARGIN,
        "Signed tally sheet. Check the figures by eye; the codes carry the signed tally \
         that the published log must hold.",
    );
    l.y += 20.0;
    l.labelled(&d.header, 11.0);
    l.y += 6.0;

    // The figures: label left, number right-aligned, a rule between rows.
    let right = MARGIN + 120.0 * MM;
    l.room(20.0);
    l.rule(MARGIN, right + 4.0, 0.0);
    l.y += 4.0;
    let last = d.figures.len().saturating_sub(1);
    for (i, f) in d.figures.iter().enumerate() {
        l.room(20.0);
        let font = if f.label == "Ballots cast" {
            BOLD
        } else {
            REGULAR
        };
        l.text(font, 12.0, MARGIN + 2.0 * MM, &f.label);
        l.text_right(13.0, right, &f.value);
        l.y += 17.0;
        l.rule(MARGIN, right + 4.0, if i == last { 0.0 } else { 0.7 });
        l.y += 3.0;
    }
    l.y += 10.0;
    l.labelled(&d.footer, 10.0);
    l.y += 6.0;
    l.room(26.0);
    l.text(BOLD, 12.0, MARGIN, "Fingerprint");
    l.text(MONO, 18.0, MARGIN + 32.0 * MM, &d.fingerprint);
    l.y += 28.0;
}

fn draw_codes(l: &mut Layout, codes: &[(usize, Vec<Color>)]) {
    let n = codes.len();
    l.room(14.0);
    l.text(
        REGULAR,
        9.0,
        MARGIN,
        &format!(
            "{} QR code{} (tallyboard sheet format TBT1, spec/paper.md): scan {} with any reader, \
             or check with `tallyboard verify --paper`.",
            n,
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "all" }
        ),
    );
    l.y += 14.0;
    let mut x = MARGIN;
    let mut row_height = 0.0f32;
    for (i, (w, colors)) in codes.iter().enumerate() {
        let side = (w + 2 * QUIET) as f32 * MODULE;
        if x + side > l.width - MARGIN + 1.0 {
            l.y += row_height;
            x = MARGIN;
            row_height = 0.0;
        }
        if x == MARGIN {
            l.room(side + 14.0);
        }
        let top = l.height - l.y - QUIET as f32 * MODULE;
        let left = x + QUIET as f32 * MODULE;
        l.page.set_fill_gray(0.0);
        for (r, row) in colors.chunks(*w).enumerate() {
            // Runs of dark modules as one rectangle each.
            let mut c = 0;
            while c < row.len() {
                if row[c] == Color::Dark {
                    let start = c;
                    while c < row.len() && row[c] == Color::Dark {
                        c += 1;
                    }
                    l.page.rect(
                        left + start as f32 * MODULE,
                        top - (r + 1) as f32 * MODULE,
                        (c - start) as f32 * MODULE,
                        MODULE,
                    );
                } else {
                    c += 1;
                }
            }
        }
        l.page.fill_nonzero();
        let saved = l.y;
        l.y += side;
        l.text(
            REGULAR,
            9.0,
            x + QUIET as f32 * MODULE,
            &format!("part {} of {n}", i + 1),
        );
        l.y = saved;
        x += side + 4.0 * MM;
        row_height = row_height.max(side + 14.0);
    }
    l.y += row_height;
}

fn assemble(l: Layout, d: &Description) -> Vec<u8> {
    let (width, height) = (l.width, l.height);
    let pages = l.finish();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let fonts = [Ref::new(3), Ref::new(4), Ref::new(5)];
    let info = Ref::new(6);
    let first = 7;
    let page_ref = |i: usize| Ref::new(first + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(first + 2 * i as i32 + 1);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages.len()).map(page_ref))
        .count(pages.len() as i32);
    for (r, base) in fonts.iter().zip([
        &b"Helvetica"[..],
        &b"Helvetica-Bold"[..],
        &b"Courier-Bold"[..],
    ]) {
        pdf.type1_font(*r)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(&format!("{}: {}", d.title, d.fingerprint)))
        .creator(TextStr("tallyboard"));
    for (i, content) in pages.into_iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, width, height))
            .parent(tree)
            .contents(content_ref(i));
        let mut res = page.resources();
        let mut f = res.fonts();
        f.pair(REGULAR, fonts[0]);
        f.pair(BOLD, fonts[1]);
        f.pair(MONO, fonts[2]);
        f.finish();
        res.finish();
        page.finish();
        pdf.stream(content_ref(i), &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("recount, ordered by the board", 12),
            ["recount,", "ordered by", "the board"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(win_ansi("Zoë → 1 — 2"), b"Zo\xeb ? 1 \x97 2");
    }
}
