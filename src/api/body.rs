//! What an answer may be: a body read by chunks under a cap, and an image that is an image.

use bytes::Bytes;

use crate::api::error::{Error, Result};

/// The largest image fouro downloads; anything bigger is not a result of this service.
pub const MAX_DOWNLOAD_BYTES: u64 = 128 * 1024 * 1024;
/// The largest JSON answer fouro reads: the service's answers are a few KB.
pub const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a body by chunks, never holding more than `cap` bytes: a body that says (by its
/// Content-Length) or turns out to be larger is a [`Error::TooLarge`] naming `what`, its
/// HTTP status and content type, and is not read further.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
    what: &str,
) -> Result<Bytes> {
    let kind = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| {
            crate::store::text::escape_controls(t)
                .chars()
                .take(80)
                .collect::<String>()
        })
        .unwrap_or_else(|| "no content type".to_owned());
    let status = resp.status().as_u16();
    let too_big = |size: String| Error::TooLarge {
        what: what.to_owned(),
        limit: format!("{} MB at most", cap / (1024 * 1024)),
        came: format!("HTTP {status}, {kind}, {size}"),
    };
    if let Some(n) = resp.content_length().filter(|n| *n > cap) {
        return Err(too_big(format!("{n} bytes announced")));
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| Error::from_reqwest(&e))? {
        if (buf.len() + chunk.len()) as u64 > cap {
            return Err(too_big(format!("more than {cap} bytes sent")));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The largest side of a result image fouro decodes; the service makes 1536 at most, so
/// anything past this is a decompression bomb, not a result.
const MAX_IMAGE_SIDE: u32 = 16_384;

/// `bytes` when they are an image of an allowed format (PNG, JPEG, WebP, GIF, by their magic
/// bytes) whose header decodes to a sane size; else [`Error::NotAnImage`] saying what came.
pub fn checked_image(bytes: Bytes) -> Result<Bytes> {
    let not = |detail: String| Err(Error::NotAnImage { detail });
    let format = match image::guess_format(&bytes) {
        Ok(
            f @ (image::ImageFormat::Png
            | image::ImageFormat::Jpeg
            | image::ImageFormat::WebP
            | image::ImageFormat::Gif),
        ) => f,
        _ => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
            let what = if head.trim_start().starts_with('<') {
                "an HTML page".to_owned()
            } else if bytes.is_empty() {
                "an empty body".to_owned()
            } else {
                format!("{} bytes of an unknown kind", bytes.len())
            };
            return not(what);
        }
    };
    let reader = image::ImageReader::with_format(std::io::Cursor::new(&bytes[..]), format);
    match reader.into_dimensions() {
        Ok((w, h)) if w > 0 && h > 0 && w <= MAX_IMAGE_SIDE && h <= MAX_IMAGE_SIDE => Ok(bytes),
        Ok((w, h)) => not(format!("a {format:?} image of {w}x{h} pixels")),
        Err(e) => not(format!(
            "a {format:?} image whose header does not decode: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG whose header claims `w`x`h` pixels (its data is not there).
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(w.to_be_bytes());
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(13u32.to_be_bytes());
        png.extend(&ihdr);
        png.extend(crc32(&ihdr).to_be_bytes());
        png.extend(0u32.to_be_bytes());
        png.extend(b"IDAT");
        png.extend(crc32(b"IDAT").to_be_bytes());
        png
    }

    #[test]
    fn only_images_of_a_sane_size_pass() {
        assert!(checked_image(Bytes::from(png_header(1024, 1536))).is_ok());
        let bomb = checked_image(Bytes::from(png_header(100_000, 100_000)))
            .unwrap_err()
            .to_string();
        assert!(bomb.contains("100000x100000"), "{bomb}");
        let html = checked_image(Bytes::from_static(b"\n <html>login</html>"))
            .unwrap_err()
            .to_string();
        assert!(html.contains("not an image (an HTML page)"), "{html}");
        assert!(checked_image(Bytes::new()).is_err());
        assert!(checked_image(Bytes::from_static(b"\x89PNG\r\n\x1a\ngarbage")).is_err());
    }
}
