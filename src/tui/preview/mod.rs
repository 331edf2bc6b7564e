//! The inline image, printed outside ratatui's buffer. Everything about it is in this module,
//! behind a narrow interface: [`probe`] once at start, [`decode_fitted`] on a blocking task,
//! and a [`Preview`] that the runner calls around each frame.
//!
//! - `detect.rs`: one bounded question to the terminal before the event reader starts: kitty
//!   graphics, sixel, the cell size in pixels. Nothing else ever reads the terminal.
//! - `fit.rs`: the size, from the real cell size: the pane filled as far as the aspect allows.
//! - `encode.rs`: the bytes of each protocol, built off the render path (viuer prints only
//!   half blocks: its other printers probe the terminal).
//! - `screen.rs`: printing and removing around frames: the image's cells are skipped by
//!   ratatui's diff, the image is printed only when (image, rect) changed or the screen was
//!   cleared, its rect is blanked first so nothing stale shows around a smaller image, and it
//!   is removed before anything covers it, in the way the terminal honours.

pub mod cache;
mod detect;
pub mod encode;
mod fit;
mod placeholder;
mod screen;
mod tmux;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use image::{GenericImageView, ImageReader};

pub use detect::{Env, GUESS, PROBE_TIMEOUT, Reply, decide, probe};
pub use fit::{Fit, fit, fit_blocks, fit_cells};
pub use placeholder::mark_cells;
pub use screen::{Preview, Removal};
pub use tmux::Outer;

use crate::tui::action::Fitted;

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

/// A cell's size in pixels, and how it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellSize {
    /// The terminal said (`CSI 16 t`).
    Reported((u32, u32)),
    /// The window's size in pixels (`CSI 14 t`) over its size in cells.
    Window((u32, u32)),
    /// The kernel's window size in pixels over the cells.
    Ioctl((u32, u32)),
    /// Nothing said: a common size.
    Guess((u32, u32)),
}

impl CellSize {
    pub fn px(self) -> (u32, u32) {
        match self {
            CellSize::Reported(p)
            | CellSize::Window(p)
            | CellSize::Ioctl(p)
            | CellSize::Guess(p) => p,
        }
    }

    pub fn describe(self) -> String {
        let (w, h) = self.px();
        let how = match self {
            CellSize::Reported(_) => "reported",
            CellSize::Window(_) => "from the window size",
            CellSize::Ioctl(_) => "from the kernel",
            CellSize::Guess(_) => "guessed",
        };
        format!("{w}×{h} px ({how})")
    }
}

/// What the terminal can show, decided once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graphics {
    pub protocol: Protocol,
    pub cell: CellSize,
    /// The largest sixel image the terminal takes, when it said.
    pub sixel_max: Option<(u32, u32)>,
    /// The terminal keeps sixel and iTerm2 images until the screen is erased (Konsole).
    pub erase_to_remove: bool,
    /// Kitty graphics through tmux: sent through its passthrough, shown by placeholder cells.
    pub tmux: bool,
    /// Why a forced protocol may not work, to be shown once.
    pub note: Option<String>,
}

impl Graphics {
    /// Half blocks, no probe: for tests and terminals that are not asked.
    pub fn blocks() -> Graphics {
        Graphics {
            protocol: Protocol::Blocks,
            cell: CellSize::Guess(GUESS),
            sixel_max: None,
            erase_to_remove: false,
            tmux: false,
            note: None,
        }
    }

    /// "sixel · cells 8×17 px (reported)", for the help and the log.
    pub fn describe(&self) -> String {
        let through = if self.tmux { " through tmux" } else { "" };
        format!(
            "{}{through} · cells {}",
            self.protocol.label(),
            self.cell.describe()
        )
    }

    /// How [`decode_fitted`] encodes for this terminal.
    pub fn encoding(&self) -> Encoding {
        Encoding {
            protocol: self.protocol,
            cell_px: self.cell.px(),
            sixel_max: self.sixel_max,
            tmux: self.tmux,
            kitty_id: 1,
        }
    }
}

/// A fitted image, ready to print.
#[derive(Debug, PartialEq)]
pub enum Payload {
    /// For viuer's half blocks: the image at one pixel per column and two per row.
    Viuer(image::DynamicImage),
    /// Kitty: the image data, sent once under `id`; each print then only places it.
    Kitty { id: u32, transmit: Vec<u8> },
    /// Sixel or iTerm2: the bytes that draw the image at the cursor.
    Bytes(Vec<u8>),
    /// Kitty through tmux: the image sent once as a virtual placement under `id` (a
    /// 256-colour index); the frame's placeholder cells show it.
    KittyCells { id: u8, transmit: Vec<u8> },
}

/// How [`decode_fitted`] encodes: the protocol, and what it needs to know of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub protocol: Protocol,
    /// A cell's size in pixels (what the terminal reports, or a guess).
    pub cell_px: (u32, u32),
    pub sixel_max: Option<(u32, u32)>,
    /// Kitty through tmux's passthrough, with placeholder cells.
    pub tmux: bool,
    /// The kitty image id of this decode.
    pub kitty_id: u32,
}

impl From<Protocol> for Encoding {
    fn from(protocol: Protocol) -> Encoding {
        Graphics {
            protocol,
            ..Graphics::blocks()
        }
        .encoding()
    }
}

/// Decodes an image file, fits it to a box of cells and encodes it for the terminal (off the
/// render path: a blocking task).
pub fn decode_fitted(path: &Path, cells: (u16, u16), how: Encoding) -> Result<Fitted, String> {
    let img = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("cannot decode {}: {e}", path.display()))?;
    encode_fitted(&img, cells, how)
}

/// Fits a decoded image to a box of cells and encodes it for the terminal.
pub fn encode_fitted(
    img: &image::DynamicImage,
    cells: (u16, u16),
    how: Encoding,
) -> Result<Fitted, String> {
    let source_dims = img.dimensions();
    let (cw, ch) = how.cell_px;
    let fit = match how.protocol {
        Protocol::Blocks => fit::fit_blocks(source_dims, cells, how.cell_px),
        Protocol::Sixel => fit::fit(source_dims, cells, how.cell_px, how.sixel_max, 6),
        Protocol::Kitty if how.tmux => {
            let most = placeholder::MAX_CELLS;
            let cells = (cells.0.min(most), cells.1.min(most));
            fit::fit(source_dims, cells, how.cell_px, None, 1)
        }
        Protocol::Kitty | Protocol::Iterm => fit::fit(source_dims, cells, how.cell_px, None, 1),
    };
    let canvas = (u32::from(fit.cells.0) * cw, u32::from(fit.cells.1) * ch);
    let payload = match how.protocol {
        // One pixel per cell column, two per row: exactly what the half blocks show.
        Protocol::Blocks => Payload::Viuer(encode::scale(img, fit.px)),
        Protocol::Sixel => Payload::Bytes(encode::sixel(img, fit.px)?),
        Protocol::Iterm => {
            let png = encode::png(&encode::on_canvas(img, fit.px, canvas))?;
            Payload::Bytes(encode::iterm(&png, fit.cells.0, fit.cells.1))
        }
        Protocol::Kitty if how.tmux => {
            let png = encode::png(&encode::on_canvas(img, fit.px, canvas))?;
            // Placeholder cells name the image by a 256-colour index, which tmux passes on.
            let id = (how.kitty_id % 255) as u8 + 1;
            Payload::KittyCells {
                id,
                transmit: encode::kitty_virtual(&png, id, fit.cells.0, fit.cells.1),
            }
        }
        Protocol::Kitty => {
            let png = encode::png(&encode::on_canvas(img, fit.px, canvas))?;
            Payload::Kitty {
                id: how.kitty_id,
                transmit: encode::kitty_transmit(&png, how.kitty_id),
            }
        }
    };
    Ok(Fitted {
        cells: fit.cells,
        source_dims,
        payload: Arc::new(payload),
    })
}

/// Set while kitty images may be on screen: the terminal's restore deletes them then (and only
/// then: other terminals would print the sequence's text). `KITTY_TMUX`: through tmux.
static KITTY: AtomicBool = AtomicBool::new(false);
static KITTY_TMUX: AtomicBool = AtomicBool::new(false);

/// Deletes every kitty image (placements and data) if the app used kitty graphics.
pub fn kitty_cleanup(out: &mut impl std::io::Write) {
    const ALL: &[u8] = b"\x1b_Ga=d,d=A,q=2\x1b\\";
    if KITTY_TMUX.load(Ordering::SeqCst) {
        let _ = out.write_all(&encode::tmux_wrap(ALL));
    } else if KITTY.load(Ordering::SeqCst) {
        let _ = out.write_all(ALL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKS: Encoding = Encoding {
        protocol: Protocol::Blocks,
        cell_px: (8, 16),
        sixel_max: None,
        tmux: false,
        kitty_id: 1,
    };

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
    fn each_protocol_is_sized_from_the_real_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = png(dir.path(), 1536, 1024);
        let how = |protocol, cell_px| Encoding {
            protocol,
            cell_px,
            ..BLOCKS
        };
        // A 50x30-cell pane of 8x17 cells is 400x510 px: a 3:2 image fills its width.
        let f = decode_fitted(&path, (50, 30), how(Protocol::Sixel, (8, 17))).unwrap();
        assert_eq!(f.cells, (50, 16));
        let Payload::Bytes(b) = &*f.payload else {
            unreachable!()
        };
        assert!(String::from_utf8_lossy(b).contains("q\"1;1;400;267"));
        // 6x10 cells: 300x300 px; the image never grows past the pane.
        let f = decode_fitted(&path, (50, 30), how(Protocol::Sixel, (6, 10))).unwrap();
        assert_eq!(f.cells, (50, 20));
        let f = decode_fitted(&path, (50, 30), how(Protocol::Iterm, (10, 20))).unwrap();
        assert_eq!(f.cells, (50, 17));
        let Payload::Bytes(b) = &*f.payload else {
            unreachable!()
        };
        assert!(String::from_utf8_lossy(b).contains(";width=50;height=17;"));
        let f = decode_fitted(&path, (50, 30), how(Protocol::Kitty, (9, 18))).unwrap();
        assert!(matches!(&*f.payload, Payload::Kitty { id: 1, .. }));
        assert_eq!(f.cells, (50, 17));
    }

    #[test]
    fn the_description_says_how_the_cell_is_known() {
        let g = Graphics {
            protocol: Protocol::Sixel,
            cell: CellSize::Reported((8, 17)),
            ..Graphics::blocks()
        };
        assert_eq!(g.describe(), "sixel · cells 8×17 px (reported)");
        assert_eq!(
            Graphics::blocks().describe(),
            "half blocks · cells 8×16 px (guessed)"
        );
        assert_eq!(Encoding::from(Protocol::Kitty).cell_px, GUESS);
    }
}
