//! The preview pane's side of the state: which saved image is wanted, where it goes, and the
//! decoded image once it arrives.

use std::path::PathBuf;

use ratatui::layout::Rect;

use super::tasks::ImageSlot;
use super::{App, DecodeRequest, PreviewTarget, Screen};
use crate::tui::action::{Effect, Fitted};
use crate::tui::ui::layout;

/// How many images are decoded ahead of the selection at most.
const AHEAD: usize = 6;

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
            let paths = self.neighbour_images();
            if !paths.is_empty() {
                self.emit(Effect::Prefetch { paths, cells });
            }
        }
    }

    /// The saved images likely shown next, nearest first: the selected task's other images,
    /// then the first image of the entries below and above (on the main screen or the
    /// history's).
    fn neighbour_images(&self) -> Vec<PathBuf> {
        let (row, variant) = if self.screen == Screen::History {
            (self.history.selected, self.history.variant)
        } else {
            (self.tasks.selected, self.tasks.variant)
        };
        let mut paths: Vec<PathBuf> = self
            .row_images(row)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != variant)
            .filter_map(|(_, path)| path)
            .collect();
        for near in [row.checked_add(1), row.checked_sub(1)]
            .into_iter()
            .flatten()
        {
            paths.extend(self.row_images(near).into_iter().next().flatten());
        }
        paths.truncate(AHEAD);
        paths
    }

    /// The saved files of row `row`'s images (none for an image not saved), on the main
    /// screen's task list or the history's.
    fn row_images(&self, row: usize) -> Vec<Option<PathBuf>> {
        if self.screen == Screen::History {
            let entry = self.history.entry(row);
            entry.map_or_else(Vec::new, |e| {
                e.images.iter().map(|i| i.path.clone()).collect()
            })
        } else {
            let saved = |slot: &ImageSlot| match slot {
                ImageSlot::Saved(path) => Some(path.clone()),
                _ => None,
            };
            let task = self.tasks.list.get(row);
            task.map_or_else(Vec::new, |t| t.images.iter().map(saved).collect())
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::tui::app::tasks::TaskView;

    fn task(id: &str, images: &[&str]) -> TaskView {
        let mut t = TaskView::new(
            id.into(),
            "a fox".into(),
            crate::api::Size::Square,
            images.len() as u32,
            Instant::now(),
            1,
        );
        t.images = images
            .iter()
            .map(|p| ImageSlot::Saved(PathBuf::from(p)))
            .collect();
        t
    }

    #[test]
    fn the_neighbours_of_the_selection_are_decoded_ahead() {
        let mut a = crate::tui::testing::app(160, 48, Instant::now());
        a.tasks.list = vec![
            task("t0", &["/d/t0-1.png"]),
            task("t1", &["/d/t1-1.png", "/d/t1-2.png"]),
            task("t2", &["/d/t2-1.png", "/d/t2-2.png"]),
        ];
        a.tasks.list.push(TaskView::new(
            "t3".into(),
            "still generating".into(),
            crate::api::Size::Square,
            1,
            Instant::now(),
            1,
        ));
        a.tasks.selected = 1;
        a.take_effects();
        a.sync_preview();
        let effects = a.take_effects();
        let decode = effects.iter().find_map(|e| match e {
            Effect::Decode { path, cells, .. } => Some((path.clone(), *cells)),
            _ => None,
        });
        let ahead = effects.iter().find_map(|e| match e {
            Effect::Prefetch { paths, cells } => Some((paths.clone(), *cells)),
            _ => None,
        });
        let (shown, cells) = decode.expect("the selected image is decoded");
        assert_eq!(shown, PathBuf::from("/d/t1-1.png"));
        let (paths, ahead_cells) = ahead.expect("its neighbours are asked ahead");
        assert_eq!(ahead_cells, cells, "fitted to the same box");
        let want = ["/d/t1-2.png", "/d/t2-1.png", "/d/t0-1.png"].map(PathBuf::from);
        assert_eq!(paths, want, "the other image, the row below, the row above");
        // Nothing changed: nothing asked again.
        a.sync_preview();
        assert!(a.take_effects().is_empty());
        // At the last row with an image, the one below has none yet.
        a.tasks.selected = 2;
        a.sync_preview();
        let ahead = a.take_effects().into_iter().find_map(|e| match e {
            Effect::Prefetch { paths, .. } => Some(paths),
            _ => None,
        });
        let want = ["/d/t2-2.png", "/d/t1-1.png"].map(PathBuf::from);
        assert_eq!(ahead.as_deref(), Some(&want[..]));
    }
}
