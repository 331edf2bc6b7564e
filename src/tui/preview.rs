//! The inline image, printed outside ratatui's buffer. Everything about it is in this module.
//!
//! The technique (spotify-player's before it moved to ratatui-image):
//! - the renderer marks the image's cells to be skipped by ratatui's diff on every frame;
//! - after the frame, the image is printed only when (image, rect) changed, or after the
//!   screen was cleared or resized;
//! - before a frame that moves or drops the image, the old rect is blanked (kitty images,
//!   which are not cells, are deleted);
//! - while an overlay is open there is no target, so nothing is printed over it;
//! - the image never reaches the last row (layout keeps it two rows clear), so the newline
//!   viuer ends with cannot scroll the screen;
//! - the fitted size is computed here, not by viuer (given both sizes viuer stretches);
//! - the protocol is detected once, before the event reader starts reading stdin.
//!
//! Half blocks work everywhere, tmux included; kitty images go out as escape codes directly
//! (viuer's kitty printer reads the terminal's answer from stdin, which would race with the
//! event reader); iTerm2 and sixel go through viuer.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use crossterm::cursor::{MoveTo, RestorePosition, SavePosition};
use crossterm::queue;
use crossterm::style::ResetColor;
use image::{DynamicImage, GenericImageView, ImageReader, imageops::FilterType};
use ratatui::layout::Rect;

use crate::tui::action::Fitted;
use crate::tui::app::PreviewTarget;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Unicode half blocks in 24-bit (or 256) colour: works in every terminal.
    Blocks,
    Kitty,
    Iterm,
    Sixel,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Blocks => "half blocks",
            Protocol::Kitty => "kitty graphics",
            Protocol::Iterm => "iTerm2 inline images",
            Protocol::Sixel => "sixel",
        }
    }

    fn from_name(name: &str) -> Option<Protocol> {
        match name.trim().to_ascii_lowercase().as_str() {
            "blocks" | "halfblocks" | "half-blocks" => Some(Protocol::Blocks),
            "kitty" => Some(Protocol::Kitty),
            "iterm" | "iterm2" => Some(Protocol::Iterm),
            "sixel" => Some(Protocol::Sixel),
            _ => None,
        }
    }

    /// Picks the protocol: `FOURO_IMAGE_PROTOCOL` (blocks, kitty, iterm, sixel) if set; half
    /// blocks inside tmux/screen; else what the terminal answers to. Queries the terminal:
    /// call once, in raw mode, before the event reader starts.
    pub fn detect() -> Protocol {
        if let Some(p) = std::env::var("FOURO_IMAGE_PROTOCOL")
            .ok()
            .as_deref()
            .and_then(Protocol::from_name)
        {
            return p;
        }
        let term = std::env::var("TERM").unwrap_or_default();
        if std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
            || term.starts_with("tmux")
            || term.starts_with("screen")
        {
            return Protocol::Blocks;
        }
        if viuer::is_iterm_supported() {
            return Protocol::Iterm;
        }
        if viuer::get_kitty_support() != viuer::KittySupport::None {
            return Protocol::Kitty;
        }
        if viuer::is_sixel_supported() {
            return Protocol::Sixel;
        }
        Protocol::Blocks
    }
}

/// Whether 24-bit colour can be used for half blocks (tmux downsamples when it must).
fn truecolor() -> bool {
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    colorterm.contains("truecolor")
        || colorterm.contains("24bit")
        || std::env::var_os("TMUX").is_some()
}

/// The size in cells of an image of `px` pixels fitted into `cells`, keeping its aspect
/// (a cell is taken as twice as tall as wide, exactly so for half blocks).
pub fn fit_cells(px: (u32, u32), cells: (u16, u16)) -> (u16, u16) {
    let (iw, ih) = (f64::from(px.0.max(1)), f64::from(px.1.max(1)));
    let (bw, bh) = (f64::from(cells.0), f64::from(cells.1) * 2.0);
    let scale = (bw / iw).min(bh / ih);
    let w = (iw * scale).floor().clamp(1.0, bw.max(1.0));
    let h = (ih * scale / 2.0)
        .floor()
        .clamp(1.0, f64::from(cells.1).max(1.0));
    (w as u16, h as u16)
}

/// Decodes an image file and fits it to a box of cells (off the render path: a blocking task).
pub fn decode_fitted(path: &Path, cells: (u16, u16), protocol: Protocol) -> Result<Fitted, String> {
    let img = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("cannot decode {}: {e}", path.display()))?;
    let source_dims = img.dimensions();
    let fit = fit_cells(source_dims, cells);
    let (w, h) = (u32::from(fit.0), u32::from(fit.1));
    let image = match protocol {
        // One pixel per cell column, two per row: exactly what the half blocks show.
        Protocol::Blocks => img.resize_exact(w, h * 2, FilterType::Triangle),
        // The terminal scales; send enough pixels for a sharp picture, never more than there are.
        _ if source_dims.0 > w * 10 || source_dims.1 > h * 20 => {
            img.resize(w * 10, h * 20, FilterType::Triangle)
        }
        _ => img,
    };
    Ok(Fitted {
        cells: fit,
        source_dims,
        image: Arc::new(image),
    })
}

/// What is on screen, and what to do about it around each frame.
#[derive(Debug)]
pub struct Preview {
    protocol: Protocol,
    /// (image serial, rect) of what is printed now.
    shown: Option<(u64, Rect)>,
}

impl Preview {
    pub fn new(protocol: Protocol) -> Preview {
        Preview {
            protocol,
            shown: None,
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The screen was cleared or resized: print again on the next frame.
    pub fn invalidate(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.protocol == Protocol::Kitty && self.shown.is_some() {
            kitty_delete(out)?;
        }
        self.shown = None;
        Ok(())
    }

    /// Before the frame: if the image moves, changes or goes, blank the old rect, so nothing
    /// of it survives where ratatui will not write.
    pub fn before_frame(
        &mut self,
        target: Option<(u64, Rect)>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let Some((_, old)) = self.shown.filter(|s| Some(*s) != target) else {
            return Ok(());
        };
        if self.protocol == Protocol::Kitty {
            kitty_delete(out)?;
        } else {
            blank(out, old)?;
        }
        self.shown = None;
        Ok(())
    }

    /// After the frame: print the image if it is not on screen already.
    pub fn after_frame(
        &mut self,
        target: Option<PreviewTarget<'_>>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let Some(t) = target else {
            self.shown = None;
            return Ok(());
        };
        if self.shown == Some((t.serial, t.rect)) || t.rect.is_empty() {
            return Ok(());
        }
        out.flush()?;
        match self.protocol {
            Protocol::Kitty => kitty_print(out, t.image, t.rect)?,
            _ => self.viuer_print(t.image, t.rect)?,
        }
        self.shown = Some((t.serial, t.rect));
        Ok(())
    }

    fn viuer_print(&self, image: &DynamicImage, rect: Rect) -> io::Result<()> {
        let config = viuer::Config {
            transparent: false,
            absolute_offset: true,
            x: rect.x,
            y: i16::try_from(rect.y).unwrap_or(i16::MAX),
            restore_cursor: true,
            width: Some(u32::from(rect.width)),
            height: Some(u32::from(rect.height)),
            truecolor: truecolor(),
            use_kitty: false,
            use_iterm: self.protocol == Protocol::Iterm,
            use_sixel: self.protocol == Protocol::Sixel,
            ..viuer::Config::default()
        };
        viuer::print(image, &config)
            .map(|_| ())
            .map_err(io::Error::other)
    }
}

/// Spaces over `rect`, in the default colours.
fn blank(out: &mut impl Write, rect: Rect) -> io::Result<()> {
    let spaces = " ".repeat(rect.width as usize);
    queue!(out, SavePosition, ResetColor)?;
    for y in rect.top()..rect.bottom() {
        queue!(out, MoveTo(rect.x, y))?;
        out.write_all(spaces.as_bytes())?;
    }
    queue!(out, RestorePosition)?;
    Ok(())
}

/// Deletes every kitty image on screen (quietly: `q=2` asks for no answer on stdin).
fn kitty_delete(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\x1b_Ga=d,d=A,q=2\x1b\\")
}

/// Sends the image as RGBA through escape codes, scaled by the terminal to `rect`; the
/// cursor does not move (`C=1`) and no answer comes back (`q=2`).
fn kitty_print(out: &mut impl Write, image: &DynamicImage, rect: Rect) -> io::Result<()> {
    let rgba = image.to_rgba8();
    let data = base64::engine::general_purpose::STANDARD.encode(rgba.as_raw());
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(4096).collect();
    queue!(out, SavePosition, MoveTo(rect.x, rect.y))?;
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        if i == 0 {
            write!(
                out,
                "\x1b_Gf=32,a=T,t=d,q=2,C=1,s={},v={},c={},r={},m={more};",
                rgba.width(),
                rgba.height(),
                rect.width,
                rect.height
            )?;
        } else {
            write!(out, "\x1b_Gm={more};")?;
        }
        out.write_all(chunk)?;
        out.write_all(b"\x1b\\")?;
    }
    queue!(out, RestorePosition)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_each_aspect_without_stretching() {
        // 60x30 cells hold 60x60 "pixels".
        assert_eq!(fit_cells((1024, 1024), (60, 30)), (60, 30));
        assert_eq!(fit_cells((1536, 1024), (60, 30)), (60, 20));
        assert_eq!(fit_cells((1024, 1536), (60, 30)), (40, 30));
        assert_eq!(fit_cells((1024, 1024), (38, 10)), (20, 10));
        assert_eq!(fit_cells((0, 0), (0, 0)), (1, 1));
    }

    #[test]
    fn blocks_get_one_pixel_per_column_and_two_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.png");
        image::RgbImage::from_pixel(300, 200, image::Rgb([200, 10, 10]))
            .save(&path)
            .unwrap();
        let f = decode_fitted(&path, (30, 30), Protocol::Blocks).unwrap();
        assert_eq!(f.cells, (30, 10));
        assert_eq!(f.image.dimensions(), (30, 20));
        assert_eq!(f.source_dims, (300, 200));
        assert!(decode_fitted(&dir.path().join("missing.png"), (3, 3), Protocol::Blocks).is_err());
    }

    #[test]
    fn moving_the_image_blanks_the_old_rect_first() {
        let mut p = Preview::new(Protocol::Blocks);
        p.shown = Some((1, Rect::new(2, 3, 4, 2)));
        let mut out = Vec::new();
        p.before_frame(Some((1, Rect::new(2, 3, 4, 2))), &mut out)
            .unwrap();
        assert!(out.is_empty(), "same image, same place: nothing to do");
        p.before_frame(None, &mut out).unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(
            s.contains("\x1b[4;3H    ") && s.contains("\x1b[5;3H    "),
            "{s:?}"
        );
        assert_eq!(p.shown, None);
    }
}
