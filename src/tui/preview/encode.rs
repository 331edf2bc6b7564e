//! The bytes of each image protocol, built on a blocking task so that the render loop only
//! writes them. viuer prints half blocks; kitty, sixel and iTerm2 are written here, since
//! viuer's printers for them ask the terminal things and read stdin, which would race with the
//! event reader.

use base64::Engine as _;
use fast_image_resize::{FilterType as Filter, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, GenericImageView, ImageEncoder, RgbaImage};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The image scaled to exactly `px` (SIMD convolution through fast_image_resize: the image
/// crate's own resize takes most of the time to the screen).
pub fn scale(img: &DynamicImage, px: (u32, u32)) -> DynamicImage {
    let (w, h) = (px.0.max(1), px.1.max(1));
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let mut out = DynamicImage::new(w, h, img.color());
    let how = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(Filter::Bilinear));
    match Resizer::new().resize(img, &mut out, &how) {
        Ok(()) => out,
        // A pixel type it does not take: the slower way.
        Err(_) => img.resize_exact(w, h, FilterType::Triangle),
    }
}

/// The image scaled to exactly `px`, then centred on a transparent canvas of `canvas` pixels
/// (the whole cells it covers), so that a terminal that fills the cells scales nothing.
pub fn on_canvas(img: &DynamicImage, px: (u32, u32), canvas: (u32, u32)) -> RgbaImage {
    let scaled = scale(img, px).to_rgba8();
    let (cw, ch) = (canvas.0.max(px.0), canvas.1.max(px.1));
    if (cw, ch) == px {
        return scaled;
    }
    let mut out = RgbaImage::new(cw, ch);
    let (x, y) = ((cw - px.0) / 2, (ch - px.1) / 2);
    image::imageops::replace(&mut out, &scaled, i64::from(x), i64::from(y));
    out
}

/// PNG bytes, compressed for speed: the terminal is local, the encoding is on the clock.
pub fn png(img: &RgbaImage) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, PngFilter::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgba8,
        )
        .map_err(|e| format!("cannot encode the preview: {e}"))?;
    Ok(bytes)
}

/// Kitty: the PNG sent once under `id` (`a=t`: stored, not shown; `q=2`: no answer), in
/// chunks of 4096 base64 bytes. Placing it is a short command ([`kitty_place`]).
pub fn kitty_transmit(png: &[u8], id: u32) -> Vec<u8> {
    let data = B64.encode(png);
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(4096).collect();
    let mut out = Vec::with_capacity(data.len() + chunks.len() * 32);
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        if i == 0 {
            out.extend_from_slice(format!("\x1b_Gf=100,a=t,t=d,i={id},q=2,m={more};").as_bytes());
        } else {
            out.extend_from_slice(format!("\x1b_Gm={more};").as_bytes());
        }
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\x1b\\");
    }
    out
}

/// Kitty through tmux: the PNG sent as a virtual placement of `cols` x `rows` cells (`U=1`),
/// shown wherever the app draws its placeholder cells, each chunk wrapped for tmux's
/// passthrough.
pub fn kitty_virtual(png: &[u8], id: u8, cols: u16, rows: u16) -> Vec<u8> {
    let data = B64.encode(png);
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(4096).collect();
    let mut out = Vec::with_capacity(data.len() + chunks.len() * 48);
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        let mut apc = if i == 0 {
            format!("\x1b_Gf=100,a=T,U=1,t=d,i={id},c={cols},r={rows},q=2,m={more};").into_bytes()
        } else {
            format!("\x1b_Gm={more};").into_bytes()
        };
        apc.extend_from_slice(chunk);
        apc.extend_from_slice(b"\x1b\\");
        out.extend_from_slice(&tmux_wrap(&apc));
    }
    out
}

/// Wraps a sequence for tmux's passthrough (`allow-passthrough on`): tmux hands it to the
/// outer terminal unchanged.
pub fn tmux_wrap(seq: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(seq.len() + 16);
    out.extend_from_slice(b"\x1bPtmux;");
    for &b in seq {
        if b == 0x1b {
            out.push(0x1b);
        }
        out.push(b);
    }
    out.extend_from_slice(b"\x1b\\");
    out
}

/// Kitty: shows image `id` over `cols` x `rows` cells at the cursor, which stays put (`C=1`).
pub fn kitty_place(id: u32, cols: u16, rows: u16) -> String {
    format!("\x1b_Ga=p,i={id},p=1,c={cols},r={rows},C=1,q=2\x1b\\")
}

/// Kitty: removes image `id`'s placement (the terminal keeps its data).
pub fn kitty_unplace(id: u32) -> String {
    format!("\x1b_Ga=d,d=i,i={id},q=2\x1b\\")
}

/// Kitty: removes image `id`, placements and data.
pub fn kitty_forget(id: u32) -> String {
    format!("\x1b_Ga=d,d=I,i={id},q=2\x1b\\")
}

/// iTerm2 (OSC 1337): the PNG shown over `cols` x `rows` cells, the image already shaped to
/// them; the cursor is not moved (`doNotMoveCursor`).
pub fn iterm(png: &[u8], cols: u16, rows: u16) -> Vec<u8> {
    let data = B64.encode(png);
    let mut out = format!(
        "\x1b]1337;File=inline=1;size={};width={cols};height={rows};preserveAspectRatio=0;doNotMoveCursor=1:",
        png.len()
    )
    .into_bytes();
    out.extend_from_slice(data.as_bytes());
    out.push(0x07);
    out
}

/// Sixel, through icy_sixel: 256 colours by Wu's quantiser, Floyd-Steinberg diffusion.
pub fn sixel(img: &DynamicImage, px: (u32, u32)) -> Result<Vec<u8>, String> {
    let rgba = scale(img, px).to_rgba8();
    let options = icy_sixel::EncodeOptions {
        max_colors: 256,
        diffusion: 0.875,
        quantize_method: icy_sixel::QuantizeMethod::Wu,
    };
    icy_sixel::sixel_encode(
        rgba.as_raw(),
        rgba.width() as usize,
        rgba.height() as usize,
        &options,
    )
    .map(String::into_bytes)
    .map_err(|e| format!("cannot encode the preview as sixel: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x * 4) as u8, (y * 4) as u8, ((x * y) % 256) as u8, 255])
        }))
    }

    #[test]
    fn kitty_sends_the_data_in_chunks_under_one_id() {
        let png = vec![7u8; 10_000];
        let s = String::from_utf8(kitty_transmit(&png, 7)).unwrap();
        assert!(s.starts_with("\x1b_Gf=100,a=t,t=d,i=7,q=2,m=1;"), "{s:.40}");
        assert!(s.ends_with("\x1b\\"));
        assert_eq!(s.matches("m=0;").count(), 1, "one last chunk");
        assert_eq!(
            s.matches("\x1b_G").count(),
            4,
            "13,336 base64 bytes in 4 chunks"
        );
        let data: String = s
            .split("\x1b\\")
            .filter_map(|c| c.split_once(';').map(|(_, d)| d))
            .collect();
        assert_eq!(B64.decode(data).unwrap(), png);
        assert_eq!(
            kitty_place(7, 40, 12),
            "\x1b_Ga=p,i=7,p=1,c=40,r=12,C=1,q=2\x1b\\"
        );
        assert_eq!(kitty_unplace(7), "\x1b_Ga=d,d=i,i=7,q=2\x1b\\");
        assert_eq!(kitty_forget(7), "\x1b_Ga=d,d=I,i=7,q=2\x1b\\");
    }

    #[test]
    fn tmux_gets_a_virtual_placement_through_passthrough() {
        assert_eq!(
            tmux_wrap(b"\x1b_Ga=d\x1b\\"),
            b"\x1bPtmux;\x1b\x1b_Ga=d\x1b\x1b\\\x1b\\"
        );
        let png = vec![1u8; 5000];
        let s = String::from_utf8(kitty_virtual(&png, 42, 30, 10)).unwrap();
        assert!(
            s.starts_with("\x1bPtmux;\x1b\x1b_Gf=100,a=T,U=1,t=d,i=42,c=30,r=10,q=2,m=1;"),
            "{s:.70}"
        );
        assert_eq!(
            s.matches("\x1bPtmux;").count(),
            2,
            "one passthrough per chunk"
        );
        assert!(s.ends_with("\x1b\x1b\\\x1b\\"));
    }

    #[test]
    fn iterm_names_the_cells_and_carries_the_png() {
        let img = on_canvas(&gradient(64, 32), (60, 30), (64, 34));
        assert_eq!(img.dimensions(), (64, 34));
        // Centred: the transparent margin is split.
        assert_eq!(img.get_pixel(0, 0)[3], 0);
        assert_eq!(img.get_pixel(2, 2)[3], 255);
        let bytes = png(&img).unwrap();
        let s = String::from_utf8(iterm(&bytes, 8, 2)).unwrap();
        let head = format!(
            "\x1b]1337;File=inline=1;size={};width=8;height=2;",
            bytes.len()
        );
        assert!(s.starts_with(&head), "{s:.80}");
        assert!(s.ends_with('\x07'));
        let (_, data) = s.trim_end_matches('\x07').split_once(':').unwrap();
        let back = image::load_from_memory(&B64.decode(data).unwrap()).unwrap();
        assert_eq!((back.width(), back.height()), (64, 34));
    }

    #[test]
    fn sixel_is_one_dcs_string_of_the_asked_size() {
        let s = String::from_utf8(sixel(&gradient(300, 200), (90, 60)).unwrap()).unwrap();
        // Square pixels (9), the cells behind left as they are (1): fouro blanks them first.
        assert!(s.starts_with("\x1bP9;1;0q\"1;1;90;60"), "{:?}", &s[..20]);
        assert!(s.ends_with("\x1b\\"));
        // No newline that could scroll, no other escape inside the DCS string.
        assert!(!s.contains('\n'));
        assert_eq!(s.matches('\x1b').count(), 2);
        // A single pixel is still an image.
        assert!(sixel(&gradient(1, 1), (1, 1)).is_ok());
    }
}
