//! The preview pane's side of the state: which saved image is wanted, where it goes, and the
//! decoded image once it arrives.

use std::path::PathBuf;

use ratatui::layout::Rect;

use super::tasks::ImageSlot;
use super::{App, DecodeRequest, PreviewTarget, Screen};
use crate::tui::action::{Effect, Fitted};
use crate::tui::ui::layout;

impl App {
    /// Where the image goes: the preview pane's inside (of the screen shown), or the screen in
    /// full-screen mode.
    pub fn preview_area(&self) -> Rect {
        if self.fullscreen {
            layout::fullscreen_image_area(self.area)
        } else if self.screen == Screen::History {
            layout::history(self.area).preview_inner
        } else {
            layout::panes(self).preview_inner
        }
    }

    /// The saved image the preview should show now, if any: the selected task's on the main
    /// screen, the selected entry's on the history screen; none on the others.
    pub(super) fn wanted_image(&self) -> Option<(String, usize, PathBuf)> {
        if matches!(self.screen, Screen::Welcome | Screen::Account) {
            return None;
        }
        if self.screen == Screen::History {
            let (entry, image) = self.history_image()?;
            return Some((entry.task_id.clone(), image.index, image.path.clone()?));
        }
        let task = self.tasks.selected()?;
        match task.images.get(self.tasks.variant)? {
            ImageSlot::Saved(path) => Some((task.id.clone(), self.tasks.variant, path.clone())),
            _ => None,
        }
    }

    /// Asks for a decode when the wanted image or its box changed; leaves full screen when
    /// there is nothing to show there.
    pub(super) fn sync_preview(&mut self) {
        let Some((task_id, index, path)) = self.wanted_image() else {
            self.preview.requested = None;
            self.fullscreen = false;
            return;
        };
        let area = self.preview_area();
        let cells = (area.width, area.height);
        if cells.0 == 0 || cells.1 == 0 {
            return;
        }
        let same = self
            .preview
            .requested
            .as_ref()
            .is_some_and(|r| r.task_id == task_id && r.index == index && r.cells == cells);
        if !same {
            let req = self.id();
            self.preview.requested = Some(DecodeRequest {
                req,
                task_id,
                index,
                cells,
            });
            self.emit(Effect::Decode { req, path, cells });
        }
    }

    /// The decoded image of the current request, if it has arrived.
    pub fn preview_image(&self) -> Option<&Fitted> {
        let req = self.preview.requested.as_ref()?.req;
        self.preview
            .image
            .as_ref()
            .filter(|(r, _)| *r == req)
            .map(|(_, f)| f)
    }

    pub fn preview_error(&self) -> Option<&str> {
        let req = self.preview.requested.as_ref()?.req;
        self.preview
            .error
            .as_ref()
            .filter(|(r, _)| *r == req)
            .map(|(_, e)| e.as_str())
    }

    /// The image to print and where, or `None` (nothing ready, or an overlay is open).
    pub fn preview_target(&self) -> Option<PreviewTarget<'_>> {
        if self.overlay.is_some() {
            return None;
        }
        let fitted = self.preview_image()?;
        let area = self.preview_area();
        let rect = layout::centered(area, fitted.cells);
        let serial = self.preview.requested.as_ref()?.req;
        Some(PreviewTarget {
            serial,
            payload: &fitted.payload,
            rect,
            area,
        })
    }
}
