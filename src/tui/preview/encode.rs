//! The kitty transmission of a preview, built on a blocking task: viuer's kitty printer reads
//! the terminal's answer from stdin, which would race with the event reader, so fouro sends
//! the image itself (once, under an id; placing it is a short command the printer writes).

use base64::Engine as _;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, ImageEncoder};

use super::Payload;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The image scaled to fit `px` (never enlarged), as PNG bytes.
fn png(img: &DynamicImage, px: (u32, u32)) -> Result<Vec<u8>, String> {
    let img = shrink(img, px);
    let rgba = img.to_rgba8();
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            ExtendedColorType::Rgba8,
        )
        .map_err(|e| format!("cannot encode the preview: {e}"))?;
    Ok(bytes)
}

/// Scales down to fit `px`, keeping the aspect; a smaller image is left as it is.
pub fn shrink(img: &DynamicImage, px: (u32, u32)) -> DynamicImage {
    let (w, h) = (px.0.max(1), px.1.max(1));
    if img.width() > w || img.height() > h {
        img.resize(w, h, FilterType::Triangle)
    } else {
        img.clone()
    }
}

/// Kitty: the PNG sent once under `id` (`a=t`: stored, not shown; `q=2`: no answer), in
/// chunks of 4096 base64 bytes. Placing it is a short command the printer writes.
pub fn kitty(img: &DynamicImage, px: (u32, u32), id: u32) -> Result<Payload, String> {
    let data = B64.encode(png(img, px)?);
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
    Ok(Payload::Kitty { id, transmit: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbaImage;

    #[test]
    fn kitty_sends_the_data_in_chunks_under_one_id() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(64, 64, |x, y| {
            image::Rgba([(x * 4) as u8, (y * 4) as u8, ((x * y) % 256) as u8, 255])
        }));
        let Ok(Payload::Kitty { id, transmit }) = kitty(&img, (64, 64), 7) else {
            unreachable!()
        };
        assert_eq!(id, 7);
        let s = String::from_utf8(transmit).unwrap();
        assert!(s.starts_with("\x1b_Gf=100,a=t,t=d,i=7,q=2,m="), "{s:.40}");
        assert!(s.ends_with("\x1b\\"));
        assert_eq!(s.matches("m=0;").count(), 1, "one last chunk");
    }
}
