//! Printing the image around ratatui's frames, and removing it (the technique of
//! spotify-player and ratatui-image):
//! - the renderer marks the image's cells to be skipped by ratatui's diff on every frame;
//! - after the frame, the image is printed only when (image, rect) changed, or after the
//!   screen was cleared or resized; never on a timer; its rect is blanked first, so the cells
//!   a smaller image leaves uncovered show nothing stale;
//! - before a frame that moves or drops the image, it is removed the way the terminal honours:
//!   kitty by deleting the placement, half blocks and sixel by writing spaces over them, and
//!   in a terminal that keeps images until the screen is erased, by erasing it (the caller
//!   then repaints everything);
//! - while an overlay is open there is no target, so nothing is printed over it;
//! - the image never reaches the last row (layout keeps it two rows clear), and no payload
//!   ends with a newline, so printing cannot scroll the screen.

use std::io::{self, Write};
use std::sync::atomic::Ordering;

use crossterm::cursor::{MoveTo, RestorePosition, SavePosition};
use crossterm::queue;
use crossterm::style::ResetColor;
use ratatui::layout::Rect;

use super::{Graphics, KITTY, KITTY_TMUX, Payload, Protocol, encode};
use crate::tui::app::PreviewTarget;

/// What removing the image asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Nothing more.
    Done,
    /// Erase the whole screen and repaint it: the terminal drops the image only so.
    Erase,
}

/// What is on screen, and what to do about it around each frame.
#[derive(Debug)]
pub struct Preview {
    protocol: Protocol,
    cell_px: (u32, u32),
    erase_to_remove: bool,
    /// Kitty through tmux: the image lives in placeholder cells that ratatui draws.
    tmux: bool,
    /// (image serial, rect) of what is printed now.
    shown: Option<(u64, Rect)>,
    /// The room around what is printed now (blank but for the image).
    shown_area: Rect,
    /// Kitty: the image whose data the terminal holds (its id, and the serial it was sent
    /// for: a kept preview shown again is sent again, its id may have been reused).
    kitty_loaded: Option<(u32, u64)>,
}

impl Preview {
    pub fn new(graphics: &Graphics) -> Preview {
        if graphics.protocol == Protocol::Kitty {
            let flag = if graphics.tmux { &KITTY_TMUX } else { &KITTY };
            flag.store(true, Ordering::SeqCst);
        }
        Preview {
            protocol: graphics.protocol,
            cell_px: graphics.cell.px(),
            erase_to_remove: graphics.erase_to_remove,
            tmux: graphics.tmux,
            shown: None,
            shown_area: Rect::default(),
            kitty_loaded: None,
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The screen was cleared or resized: print again on the next frame (kitty keeps the
    /// image's data; only its placement goes).
    pub fn invalidate(&mut self, out: &mut impl Write) -> io::Result<()> {
        if let (Some(_), Some((id, _)), false) = (self.shown, self.kitty_loaded, self.tmux) {
            out.write_all(encode::kitty_unplace(id).as_bytes())?;
        }
        if self.shown.take().is_some() {
            tracing::info!("image removed (screen cleared)");
        }
        Ok(())
    }

    /// Before the frame: if the image moves, changes or goes, remove it, so nothing of it
    /// survives where ratatui will not write. `Removal::Erase` asks the caller to erase the
    /// screen and repaint it whole.
    pub fn before_frame(
        &mut self,
        target: Option<(u64, Rect)>,
        out: &mut impl Write,
    ) -> io::Result<Removal> {
        let Some((_, old)) = self.shown.filter(|s| Some(*s) != target) else {
            return Ok(Removal::Done);
        };
        self.shown = None;
        tracing::info!("image removed");
        match self.protocol {
            // Placeholder cells are text: ratatui draws over them.
            Protocol::Kitty if self.tmux => Ok(Removal::Done),
            Protocol::Kitty => {
                if let Some((id, _)) = self.kitty_loaded {
                    out.write_all(encode::kitty_unplace(id).as_bytes())?;
                }
                Ok(Removal::Done)
            }
            Protocol::Sixel | Protocol::Iterm if self.erase_to_remove => Ok(Removal::Erase),
            Protocol::Blocks => {
                // Some terminals (mlterm) draw a block glyph a pixel past its cell: the blank
                // columns beside the image are written again too, where they are its room.
                blank(out, widened(old, self.shown_area))?;
                Ok(Removal::Done)
            }
            _ => {
                blank(out, old)?;
                Ok(Removal::Done)
            }
        }
    }

    /// After the frame: print the image if it is not on screen already (viuer's half blocks,
    /// or the prepared bytes: kitty's transmission once and a short placement command, sixel
    /// or iTerm2 at the rect's corner).
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
                viuer_print(image, t.rect)?;
            }
            Payload::Kitty { id, transmit } => {
                blank(out, t.rect)?;
                queue!(out, SavePosition)?;
                if self.kitty_loaded != Some((*id, t.serial)) {
                    if let Some((old, _)) = self.kitty_loaded.take() {
                        out.write_all(encode::kitty_forget(old).as_bytes())?;
                    }
                    out.write_all(transmit)?;
                    self.kitty_loaded = Some((*id, t.serial));
                }
                queue!(out, MoveTo(t.rect.x, t.rect.y))?;
                out.write_all(encode::kitty_place(*id, t.rect.width, t.rect.height).as_bytes())?;
                queue!(out, ResetColor, RestorePosition)?;
            }
            Payload::KittyCells { id, transmit } => {
                // The frame drew the placeholders; the terminal needs the image once.
                if self.kitty_loaded != Some((u32::from(*id), t.serial)) {
                    if let Some((old, _)) = self.kitty_loaded.take() {
                        out.write_all(&encode::tmux_wrap(encode::kitty_forget(old).as_bytes()))?;
                    }
                    out.write_all(transmit)?;
                    self.kitty_loaded = Some((u32::from(*id), t.serial));
                }
            }
            Payload::Bytes(bytes) => {
                blank(out, t.rect)?;
                queue!(out, SavePosition, MoveTo(t.rect.x, t.rect.y))?;
                out.write_all(bytes)?;
                queue!(out, ResetColor, RestorePosition)?;
            }
        }
        let (cw, ch) = match self.protocol {
            Protocol::Blocks => (1, 2),
            _ => self.cell_px,
        };
        tracing::info!(
            protocol = self.protocol.label(),
            col = t.rect.x,
            row = t.rect.y,
            cols = t.rect.width,
            rows = t.rect.height,
            px_w = u32::from(t.rect.width) * cw,
            px_h = u32::from(t.rect.height) * ch,
            "image shown"
        );
        self.shown = Some((t.serial, t.rect));
        self.shown_area = t.area;
        Ok(())
    }
}

/// `rect` one column wider on each side where that column is inside `area`.
fn widened(rect: Rect, area: Rect) -> Rect {
    let left = if rect.x > area.x && rect.x - 1 < area.right() {
        rect.x - 1
    } else {
        rect.x
    };
    let right = if rect.right() < area.right() && rect.right() >= area.x {
        rect.right() + 1
    } else {
        rect.right()
    };
    Rect::new(left, rect.y, right - left, rect.height)
}

/// Prints half blocks at the rect's top-left cell. The image is already fitted (one pixel per
/// column, two per row), so viuer, given the rect's size, scales nothing.
fn viuer_print(image: &image::DynamicImage, rect: Rect) -> io::Result<()> {
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
        use_iterm: false,
        ..viuer::Config::default()
    };
    viuer::print(image, &config)
        .map(|_| ())
        .map_err(io::Error::other)
}

/// Whether 24-bit colour can be used for half blocks (tmux downsamples when it must).
fn truecolor() -> bool {
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    colorterm.contains("truecolor")
        || colorterm.contains("24bit")
        || std::env::var_os("TMUX").is_some()
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
    use std::sync::Arc;

    use super::*;
    use crate::tui::preview::CellSize;

    fn graphics(protocol: Protocol) -> Graphics {
        Graphics {
            protocol,
            cell: CellSize::Reported((8, 17)),
            ..Graphics::blocks()
        }
    }

    fn target(payload: &Payload, serial: u64, rect: Rect) -> PreviewTarget<'_> {
        PreviewTarget {
            serial,
            payload,
            rect,
            area: rect,
        }
    }

    fn kitty(id: u32) -> Arc<Payload> {
        Arc::new(Payload::Kitty {
            id,
            transmit: b"<DATA>".to_vec(),
        })
    }

    #[test]
    fn the_same_image_in_the_same_place_is_not_printed_again() {
        let mut p = Preview::new(&graphics(Protocol::Kitty));
        let payload = kitty(3);
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
        let mut p = Preview::new(&graphics(Protocol::Kitty));
        let payload = kitty(9);
        let rect = Rect::new(0, 0, 4, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out).into_owned();
        assert!(
            s.contains("<DATA>") && s.contains("a=p,i=9,p=1,c=4,r=2"),
            "{s:?}"
        );
        // The rect is blanked before the image goes over it.
        assert!(s.find("\x1b[1;1H    ") < s.find("a=p"), "{s:?}");
        // A dialog hides it, then it comes back: placed again, not sent again.
        out.clear();
        assert_eq!(p.before_frame(None, &mut out).unwrap(), Removal::Done);
        p.after_frame(None, &mut out).unwrap();
        assert_eq!(String::from_utf8_lossy(&out), "\x1b_Ga=d,d=i,i=9,q=2\x1b\\");
        out.clear();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(!s.contains("<DATA>") && s.contains("a=p,i=9"), "{s:?}");
        // Another image: the old one's data is dropped before the new one is sent.
        out.clear();
        let other = kitty(10);
        p.before_frame(Some((2, rect)), &mut out).unwrap();
        p.after_frame(Some(target(&other, 2, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(s.find("d=I,i=9") < s.find("<DATA>"), "{s:?}");
    }

    #[test]
    fn moving_the_image_blanks_the_old_rect_first() {
        for protocol in [Protocol::Blocks, Protocol::Sixel] {
            let mut p = Preview::new(&graphics(protocol));
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

    #[test]
    fn half_blocks_are_blanked_a_column_wider_within_their_room() {
        let mut p = Preview::new(&graphics(Protocol::Blocks));
        p.shown = Some((1, Rect::new(5, 3, 4, 1)));
        p.shown_area = Rect::new(2, 2, 10, 5);
        let mut out = Vec::new();
        p.before_frame(None, &mut out).unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(
            s.contains("\x1b[4;5H      \x1b"),
            "columns 4 to 9 (1-based 5 to 10): {s:?}"
        );
        // At the room's edge, no wider than the room (its border stays).
        assert_eq!(
            widened(Rect::new(2, 2, 10, 1), Rect::new(2, 2, 10, 5)),
            Rect::new(2, 2, 10, 1)
        );
        assert_eq!(
            widened(Rect::new(3, 2, 4, 1), Rect::new(2, 2, 10, 5)),
            Rect::new(2, 2, 6, 1)
        );
    }

    #[test]
    fn sixel_bytes_go_to_the_rect_corner_after_a_blank() {
        let mut p = Preview::new(&graphics(Protocol::Sixel));
        let payload = Arc::new(Payload::Bytes(b"\x1bPq<SIXEL>\x1b\\".to_vec()));
        let rect = Rect::new(10, 5, 3, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 4, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out);
        let blanked = s.find("\x1b[7;11H   ").unwrap();
        let placed = s.find("\x1b[6;11H\x1bPq<SIXEL>").unwrap();
        assert!(blanked < placed, "{s:?}");
        assert!(
            s.starts_with("\x1b7") && s.ends_with("\x1b8"),
            "cursor saved and restored: {s:?}"
        );
        assert!(!s.contains('\n'));
    }

    #[test]
    fn through_tmux_the_image_is_sent_once_and_never_blanked() {
        let mut g = graphics(Protocol::Kitty);
        g.tmux = true;
        let mut p = Preview::new(&g);
        let payload = Arc::new(Payload::KittyCells {
            id: 5,
            transmit: b"<VIRTUAL>".to_vec(),
        });
        let rect = Rect::new(1, 1, 3, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        assert_eq!(
            out, b"<VIRTUAL>",
            "no cursor moves, no blanking: the cells are text"
        );
        out.clear();
        assert_eq!(p.before_frame(None, &mut out).unwrap(), Removal::Done);
        p.after_frame(None, &mut out).unwrap();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        assert!(
            out.is_empty(),
            "hidden and shown again: the terminal still has it"
        );
        let other = Arc::new(Payload::KittyCells {
            id: 6,
            transmit: b"<NEXT>".to_vec(),
        });
        p.after_frame(Some(target(&other, 2, rect)), &mut out)
            .unwrap();
        let s = String::from_utf8_lossy(&out);
        assert!(
            s.starts_with("\x1bPtmux;\x1b\x1b_Ga=d,d=I,i=5") && s.ends_with("<NEXT>"),
            "{s:?}"
        );
    }

    #[test]
    fn a_terminal_that_keeps_images_is_erased() {
        let mut g = graphics(Protocol::Iterm);
        g.erase_to_remove = true;
        let mut p = Preview::new(&g);
        let payload = Arc::new(Payload::Bytes(b"<ITERM>".to_vec()));
        let rect = Rect::new(1, 1, 3, 2);
        let mut out = Vec::new();
        p.after_frame(Some(target(&payload, 1, rect)), &mut out)
            .unwrap();
        out.clear();
        assert_eq!(
            p.before_frame(Some((1, rect)), &mut out).unwrap(),
            Removal::Done
        );
        assert_eq!(p.before_frame(None, &mut out).unwrap(), Removal::Erase);
        assert!(out.is_empty(), "the caller erases");
        assert_eq!(
            p.before_frame(None, &mut out).unwrap(),
            Removal::Done,
            "once"
        );
    }
}
