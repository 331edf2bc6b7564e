//! The inline image, printed outside ratatui's buffer. Everything about it is in this module.
//!
//! The technique (spotify-player's before it moved to ratatui-image):
//! - the renderer marks the image's cells to be skipped by ratatui's diff on every frame;
//! - after the frame, the image is printed only when (image, rect) changed, or after the
//!   screen was cleared or resized; never on a timer;
//! - before a frame that moves or drops the image, the old rect is blanked (kitty images,
//!   which are not cells, lose their placement);
//! - while an overlay is open there is no target, so nothing is printed over it;
//! - the image never reaches the last row (layout keeps it two rows clear), and no payload
//!   ends with a newline, so printing cannot scroll the screen;
//! - the fitted size is computed here (given both sizes viuer stretches);
//! - the protocol is detected once, before the event reader starts reading stdin
//!   (`detect.rs`).
//!
//! Decoding and scaling happen in [`decode_fitted`], on a blocking task: the image reaches the
//! render loop already fitted to its cells. Half blocks, iTerm2 and sixel are then printed by
//! viuer, only when (image, rect) changed, so its encoding runs once per change and never on a
//! timer. Kitty goes through a short writer of our own (`encode.rs`): viuer's kitty printer
//! reads the terminal's answer from stdin, which would race with the event reader; the image
//! is sent once under an id and placed again (`a=p`) when it must be reprinted.
//!
//! Half blocks work everywhere, tmux included; kitty, iTerm2 and sixel where the terminal has
//! them.

mod detect;
pub mod encode;

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{MoveTo, RestorePosition, SavePosition};
use crossterm::queue;
use crossterm::style::ResetColor;
use image::{GenericImageView, ImageReader, imageops::FilterType};
use ratatui::layout::Rect;

pub use detect::PROBE_TIMEOUT;

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
}

/// A fitted image, ready to print.
#[derive(Debug, PartialEq)]
pub enum Payload {
    /// For viuer (half blocks, iTerm2, sixel): the image scaled to its cells (half blocks: one
    /// pixel per column, two per row; the others: at most the cells' size in pixels).
    Viuer(image::DynamicImage),
    /// Kitty: the image data, sent once under `id`; each print then only places it.
    Kitty { id: u32, transmit: Vec<u8> },
}

/// How [`decode_fitted`] encodes: the protocol, and what it needs to know of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub protocol: Protocol,
    /// A cell's size in pixels (what the terminal reports, or a guess).
    pub cell_px: (u32, u32),
    /// The kitty image id of this decode.
    pub kitty_id: u32,
}

impl Encoding {
    /// What the terminal looks like now: colour depth from the environment, the cell size
    /// from the window size in pixels when the terminal reports it.
    pub fn probe(protocol: Protocol, kitty_id: u32) -> Encoding {
        let cell_px = crossterm::terminal::window_size()
            .ok()
            .filter(|s| s.columns > 0 && s.rows > 0 && s.width > 0 && s.height > 0)
            .map(|s| {
                (
                    u32::from(s.width / s.columns).max(1),
                    u32::from(s.height / s.rows).max(1),
                )
            })
            .unwrap_or((8, 16));
        Encoding {
            protocol,
            cell_px,
            kitty_id,
        }
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

/// Decodes an image file, fits it to a box of cells and encodes it for the terminal (off the
/// render path: a blocking task).
pub fn decode_fitted(path: &Path, cells: (u16, u16), how: Encoding) -> Result<Fitted, String> {
    let img = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("cannot decode {}: {e}", path.display()))?;
    let source_dims = img.dimensions();
    let fit = fit_cells(source_dims, cells);
    let (w, h) = (u32::from(fit.0), u32::from(fit.1));
    let px = (w * how.cell_px.0, h * how.cell_px.1);
    let payload = match how.protocol {
        // One pixel per cell column, two per row: exactly what the half blocks show.
        Protocol::Blocks => Payload::Viuer(img.resize_exact(w, h * 2, FilterType::Triangle)),
        Protocol::Iterm | Protocol::Sixel => Payload::Viuer(encode::shrink(&img, px)),
        Protocol::Kitty => encode::kitty(&img, px, how.kitty_id)?,
    };
    Ok(Fitted {
        cells: fit,
        source_dims,
        payload: Arc::new(payload),
    })
}

/// Set while kitty images may be on screen: the terminal's restore deletes them then (and only
/// then: other terminals would print the sequence's text).
static KITTY: AtomicBool = AtomicBool::new(false);

/// Deletes every kitty image (placements and data) if the app used kitty graphics.
pub fn kitty_cleanup(out: &mut impl Write) {
    if KITTY.load(Ordering::SeqCst) {
        let _ = out.write_all(b"\x1b_Ga=d,d=A,q=2\x1b\\");
    }
}

/// What is on screen, and what to do about it around each frame.
#[derive(Debug)]
pub struct Preview {
    protocol: Protocol,
    /// (image serial, rect) of what is printed now.
    shown: Option<(u64, Rect)>,
    /// Kitty: the image whose data the terminal holds.
    kitty_loaded: Option<u32>,
}

impl Preview {
    pub fn new(protocol: Protocol) -> Preview {
        if protocol == Protocol::Kitty {
            KITTY.store(true, Ordering::SeqCst);
        }
        Preview {
            protocol,
            shown: None,
            kitty_loaded: None,
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The screen was cleared or resized: print again on the next frame (kitty keeps the
    /// image's data; only its placement goes).
    pub fn invalidate(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.protocol == Protocol::Kitty && self.shown.is_some() {
            out.write_all(b"\x1b_Ga=d,d=a,q=2\x1b\\")?;
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
        match (self.protocol, self.kitty_loaded) {
            (Protocol::Kitty, Some(id)) => write!(out, "\x1b_Ga=d,d=i,i={id},q=2\x1b\\")?,
            (Protocol::Kitty, None) => {}
            _ => blank(out, old)?,
        }
        self.shown = None;
        Ok(())
    }

    /// After the frame: print the image if it is not on screen already (viuer, or for kitty
    /// the prepared transmission and a short placement command).
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
        match t.payload {
            Payload::Viuer(image) => {
                // viuer writes to the terminal itself: what is queued goes first.
                out.flush()?;
                self.viuer_print(image, t.rect)?;
            }
            Payload::Kitty { id, transmit } => {
                queue!(out, SavePosition)?;
                if self.kitty_loaded != Some(*id) {
                    if let Some(old) = self.kitty_loaded.take() {
                        write!(out, "\x1b_Ga=d,d=I,i={old},q=2\x1b\\")?;
                    }
                    out.write_all(transmit)?;
                    self.kitty_loaded = Some(*id);
                }
                queue!(out, MoveTo(t.rect.x, t.rect.y))?;
                write!(
                    out,
                    "\x1b_Ga=p,i={id},p=1,c={},r={},C=1,q=2\x1b\\",
                    t.rect.width, t.rect.height
                )?;
                queue!(out, ResetColor, RestorePosition)?;
            }
        }
        self.shown = Some((t.serial, t.rect));
        Ok(())
    }

    /// Prints at the rect's top-left cell. The image is already fitted, so viuer, given the
    /// rect's width and height, scales nothing that matters and stretches nothing.
    fn viuer_print(&self, image: &image::DynamicImage, rect: Rect) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKS: Encoding = Encoding {
        protocol: Protocol::Blocks,
        cell_px: (8, 16),
        kitty_id: 1,
    };

    #[test]
    fn fits_each_aspect_without_stretching() {
        // 60x30 cells hold 60x60 "pixels".
        assert_eq!(fit_cells((1024, 1024), (60, 30)), (60, 30));
        assert_eq!(fit_cells((1536, 1024), (60, 30)), (60, 20));
        assert_eq!(fit_cells((1024, 1536), (60, 30)), (40, 30));
        assert_eq!(fit_cells((1024, 1024), (38, 10)), (20, 10));
        assert_eq!(fit_cells((0, 0), (0, 0)), (1, 1));
    }

    fn png(dir: &Path, w: u32, h: u32) -> std::path::PathBuf {
        let path = dir.join("i.png");
        image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]))
            .save(&path)
            .unwrap();
        path
    }

    #[test]
    fn blocks_get_one_pixel_per_column_and_two_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = png(dir.path(), 300, 200);
        let f = decode_fitted(&path, (30, 30), BLOCKS).unwrap();
        assert_eq!(f.cells, (30, 10));
        assert_eq!(f.source_dims, (300, 200));
        let Payload::Viuer(img) = &*f.payload else {
            unreachable!()
        };
        assert_eq!((img.width(), img.height()), (30, 20));
        assert!(decode_fitted(&dir.path().join("missing.png"), (3, 3), BLOCKS).is_err());
    }

    #[test]
    fn other_protocols_get_the_image_scaled_to_the_cells_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let path = png(dir.path(), 3000, 2000);
        let how = |protocol| Encoding { protocol, ..BLOCKS };
        for protocol in [Protocol::Iterm, Protocol::Sixel] {
            let f = decode_fitted(&path, (30, 30), how(protocol)).unwrap();
            let Payload::Viuer(img) = &*f.payload else {
                unreachable!()
            };
            // 30x10 cells of 8x16 pixels: scaled down to 240x160.
            assert_eq!((img.width(), img.height()), (240, 160), "{protocol:?}");
        }
        let f = decode_fitted(&path, (30, 30), how(Protocol::Kitty)).unwrap();
        assert!(matches!(&*f.payload, Payload::Kitty { id: 1, .. }));
    }

    fn target(payload: &Payload, serial: u64, rect: Rect) -> PreviewTarget<'_> {
        PreviewTarget {
            serial,
            payload,
            rect,
        }
    }

    #[test]
    fn the_same_image_in_the_same_place_is_not_printed_again() {
        let mut p = Preview::new(Protocol::Kitty);
        let payload = Arc::new(Payload::Kitty {
            id: 3,
            transmit: b"<DATA>".to_vec(),
        });
        let rect = Rect::new(4, 2, 2, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        assert!(!out.is_empty());
        out.clear();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        assert!(out.is_empty(), "same image, same place: nothing is written");
    }

    #[test]
    fn kitty_sends_the_data_once_and_places_it_again() {
        let mut p = Preview::new(Protocol::Kitty);
        let payload = Arc::new(Payload::Kitty {
            id: 9,
            transmit: b"<DATA>".to_vec(),
        });
        let rect = Rect::new(0, 0, 4, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out).into_owned();
        assert!(
            s.contains("<DATA>") && s.contains("a=p,i=9,p=1,c=4,r=2"),
            "{s:?}"
        );
        // A dialog hides it, then it comes back: placed again, not sent again.
        out.clear();
        p.before_frame(None, &mut out).unwrap();
        p.after_frame(None, &mut out).unwrap();
        assert_eq!(String::from_utf8_lossy(&out), "\x1b_Ga=d,d=i,i=9,q=2\x1b\\");
        out.clear();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(!s.contains("<DATA>") && s.contains("a=p,i=9"), "{s:?}");
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
