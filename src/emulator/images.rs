//! The emulator's "model": real PNGs of the documented sizes, deterministic for (prompt,
//! variant, references). A prompt seeds a palette and a tiling, a variant changes the tiling, and
//! references are pasted in as panels (or, with a mask, kept where the mask is white).
//!
//! The pattern is built a row at a time and copied, so a 1.5 MP image stays quick even in an
//! unoptimised build. Everything here is blocking: call it from `spawn_blocking`.

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::png::PngEncoder;
use image::imageops::{self, FilterType};
use image::{
    DynamicImage, ExtendedColorType, GrayImage, ImageEncoder, ImageReader, Limits, RgbImage,
};
use sha2::{Digest, Sha256};

use crate::api::types::Size;

/// Largest side kept of a reference after decoding: enough for any panel or base image.
const REFERENCE_MAX_SIDE: u32 = 1536;
/// Margin around reference panels, in pixels.
const PANEL_MARGIN: u32 = 24;

/// What a task's images are made from, besides the prompt.
#[derive(Debug, Default)]
pub(crate) struct RenderInputs {
    pub refs: Vec<RgbImage>,
    pub mask: Option<GrayImage>,
}

/// Decodes an image from untrusted bytes, with limits against decompression bombs.
pub(crate) fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("not an image".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|e| e.to_string())
}

/// A reference image, shrunk to at most [`REFERENCE_MAX_SIDE`].
pub(crate) fn reference(bytes: &[u8]) -> Result<RgbImage, String> {
    let image = decode(bytes)?;
    let image = if image.width().max(image.height()) > REFERENCE_MAX_SIDE {
        image.thumbnail(REFERENCE_MAX_SIDE, REFERENCE_MAX_SIDE)
    } else {
        image
    };
    Ok(image.to_rgb8())
}

/// A mask image as luminance (black = area to edit, white = keep).
pub(crate) fn mask(bytes: &[u8]) -> Result<GrayImage, String> {
    let image = decode(bytes)?;
    let image = if image.width().max(image.height()) > REFERENCE_MAX_SIDE {
        image.thumbnail(REFERENCE_MAX_SIDE, REFERENCE_MAX_SIDE)
    } else {
        image
    };
    Ok(image.to_luma8())
}

/// Renders variant `variant` (from 1) and encodes it as PNG.
pub(crate) fn render_png(
    prompt: &str,
    variant: u32,
    size: Size,
    inputs: &RenderInputs,
) -> Result<Bytes, String> {
    let image = render(prompt, variant, size, inputs);
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(Bytes::from(png))
}

pub(crate) fn render(prompt: &str, variant: u32, size: Size, inputs: &RenderInputs) -> RgbImage {
    let (width, height) = size.pixels();
    let digest = Sha256::digest(prompt.as_bytes());
    let palette = palette(&digest);
    let seed = u64::from_le_bytes(first_eight(&digest))
        ^ u64::from(variant).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut image = pattern(width, height, variant, seed, &palette);
    match (&inputs.mask, inputs.refs.as_slice()) {
        (Some(mask), [base]) => keep_unmasked(&mut image, base, mask),
        (_, []) => {}
        (_, refs) => paste_panels(&mut image, refs),
    }
    image
}

fn first_eight(digest: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, d) in out.iter_mut().zip(digest) {
        *o = *d;
    }
    out
}

/// Four colours from the prompt's hash; the fourth is a dark one for contrast.
fn palette(digest: &[u8]) -> [[u8; 3]; 4] {
    let byte = |i: usize| digest.get(i).copied().unwrap_or(0);
    let mut colours = [[0u8; 3]; 4];
    for (i, colour) in colours.iter_mut().enumerate() {
        let base = 8 + i * 3;
        *colour = [byte(base), byte(base + 1), byte(base + 2)];
    }
    colours[3] = colours[3].map(|c| c / 4);
    colours
}

/// A cheap, well-mixed hash (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Tiles of a size that depends on the variant, each a palette colour with a square inset of
/// another; every pixel row of a band is one of two precomputed rows.
fn pattern(width: u32, height: u32, variant: u32, seed: u64, palette: &[[u8; 3]; 4]) -> RgbImage {
    let cell = [64u32, 96, 128, 80][(variant.saturating_sub(1) % 4) as usize];
    let (inset_from, inset_to) = (cell / 4, cell - cell / 4);
    let row_len = width as usize * 3;
    let mut raw = vec![0u8; row_len * height as usize];
    let mut outer = vec![0u8; row_len];
    let mut inner = vec![0u8; row_len];
    for band in 0..height.div_ceil(cell) {
        for x in 0..width {
            let cx = x / cell;
            let h = mix(seed ^ (u64::from(band) << 32) ^ u64::from(cx));
            let a = (h % 4) as usize;
            let b = (a + 1 + ((h >> 8) % 3) as usize) % 4;
            let local = x % cell;
            let in_inset = (inset_from..inset_to).contains(&local);
            let at = x as usize * 3;
            outer[at..at + 3].copy_from_slice(&palette[a]);
            inner[at..at + 3].copy_from_slice(if in_inset { &palette[b] } else { &palette[a] });
        }
        let top = band * cell;
        for y in top..(top + cell).min(height) {
            let row = if (inset_from..inset_to).contains(&(y - top)) {
                &inner
            } else {
                &outer
            };
            let at = y as usize * row_len;
            raw[at..at + row_len].copy_from_slice(row);
        }
    }
    // The buffer has exactly width * height * 3 bytes, so this cannot fail.
    RgbImage::from_raw(width, height, raw).unwrap_or_else(|| RgbImage::new(width, height))
}

/// The references side by side across the middle half of the image, each fitted to its panel.
fn paste_panels(image: &mut RgbImage, refs: &[RgbImage]) {
    let (width, height) = image.dimensions();
    let count = refs.len() as u32;
    let panel_w = width.saturating_sub(PANEL_MARGIN * (count + 1)) / count;
    let panel_h = height / 2;
    if panel_w == 0 || panel_h == 0 {
        return;
    }
    for (i, reference) in refs.iter().enumerate() {
        let (rw, rh) = reference.dimensions();
        if rw == 0 || rh == 0 {
            continue;
        }
        let scale = f64::min(
            f64::from(panel_w) / f64::from(rw),
            f64::from(panel_h) / f64::from(rh),
        );
        let w = ((f64::from(rw) * scale) as u32).clamp(1, panel_w);
        let h = ((f64::from(rh) * scale) as u32).clamp(1, panel_h);
        let resized = imageops::resize(reference, w, h, FilterType::Triangle);
        let x = PANEL_MARGIN + i as u32 * (panel_w + PANEL_MARGIN) + (panel_w - w) / 2;
        let y = height / 4 + (panel_h - h) / 2;
        imageops::replace(image, &resized, i64::from(x), i64::from(y));
    }
}

/// An edit: the reference where the mask is white, the generated pattern where it is black.
fn keep_unmasked(image: &mut RgbImage, base: &RgbImage, mask: &GrayImage) {
    let (width, height) = image.dimensions();
    if base.width() == 0 || base.height() == 0 || mask.width() == 0 || mask.height() == 0 {
        return;
    }
    let base = imageops::resize(base, width, height, FilterType::Triangle);
    let mask = imageops::resize(mask, width, height, FilterType::Nearest);
    let out: &mut [u8] = image;
    for ((px, keep), m) in out
        .chunks_exact_mut(3)
        .zip(base.as_raw().chunks_exact(3))
        .zip(mask.as_raw())
    {
        if *m >= 128 {
            px.copy_from_slice(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        let none = RenderInputs::default();
        for size in Size::ALL {
            assert_eq!(render("a", 1, size, &none).dimensions(), size.pixels());
        }
        assert_eq!(
            render("cat", 1, Size::Square, &none),
            render("cat", 1, Size::Square, &none)
        );
        assert_ne!(
            render("cat", 1, Size::Square, &none),
            render("dog", 1, Size::Square, &none)
        );
        assert_ne!(
            render("cat", 1, Size::Square, &none),
            render("cat", 2, Size::Square, &none)
        );
    }

    #[test]
    fn references_show_through() {
        let red = RgbImage::from_pixel(40, 30, image::Rgb([255, 0, 0]));
        let inputs = RenderInputs {
            refs: vec![red],
            mask: None,
        };
        let image = render("x", 1, Size::Landscape, &inputs);
        let reds = image.pixels().filter(|p| p.0 == [255, 0, 0]).count();
        assert!(reds > 100_000, "only {reds} red pixels");
    }

    #[test]
    fn a_mask_keeps_the_white_side_of_the_reference() {
        let red = RgbImage::from_pixel(64, 64, image::Rgb([255, 0, 0]));
        let mask = GrayImage::from_fn(64, 64, |x, _| image::Luma([if x < 32 { 0 } else { 255 }]));
        let inputs = RenderInputs {
            refs: vec![red],
            mask: Some(mask),
        };
        let image = render("edit", 1, Size::Square, &inputs);
        let right_red = (0..1024)
            .step_by(64)
            .all(|y| image.get_pixel(900, y).0 == [255, 0, 0]);
        let left_red = (0..1024)
            .step_by(64)
            .filter(|&y| image.get_pixel(100, y).0 == [255, 0, 0])
            .count();
        assert!(
            right_red && left_red < 4,
            "right side kept, left side edited ({left_red})"
        );
    }

    #[test]
    fn garbage_is_not_an_image() {
        assert!(decode(b"hello").is_err());
        assert!(decode(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]).is_err());
    }
}
