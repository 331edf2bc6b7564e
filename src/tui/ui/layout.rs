//! Where each pane goes, from the screen size and the app's state. The renderer, the mouse
//! and the preview's fitting all ask here, so they agree to the cell.

use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::widgets::{Block, Borders};

use super::{split_at_width, width as text_width};
use crate::api::Size;
use crate::tui::app::{App, OptionRow};

/// Below this the layout is the compact one (80x24 is the smallest it is made for).
const WIDE_MIN: (u16, u16) = (120, 36);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Panes {
    pub prompt: Rect,
    pub refs: Rect,
    pub options: Rect,
    pub credits: Rect,
    pub tasks: Rect,
    pub preview: Rect,
    /// Inside the preview's border: where the image goes.
    pub preview_inner: Rect,
    /// The left column, where messages pop up (never over the preview).
    pub left: Rect,
    pub status: Rect,
    pub compact: bool,
}

pub fn is_compact(area: Rect) -> bool {
    area.width < WIDE_MIN.0 || area.height < WIDE_MIN.1
}

pub fn inner(r: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(r)
}

/// Where the history screen's parts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryPanes {
    /// The list's frame.
    pub list: Rect,
    /// The search and filter line, the list's first inner row.
    pub query: Rect,
    /// The entries, below it.
    pub rows: Rect,
    pub preview: Rect,
    /// Inside the preview's border: where the image goes.
    pub preview_inner: Rect,
    /// What the selected entry is.
    pub info: Rect,
    pub status: Rect,
}

/// The history screen: the list beside the preview and the selected entry (wide), or above
/// them (compact).
pub fn history(area: Rect) -> HistoryPanes {
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let (list, preview, info) = if is_compact(area) {
        let [list, bottom] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(main.height / 2 + 1)])
                .areas(main);
        let [preview, info] =
            Layout::horizontal([Constraint::Length(bottom.width * 2 / 5), Constraint::Min(0)])
                .areas(bottom);
        (list, preview, info)
    } else {
        let [list, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Min(0)]).areas(main);
        let [preview, info] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length((right.height * 3 / 10).max(8)),
        ])
        .areas(right);
        (list, preview, info)
    };
    let inside = inner(list);
    let [query, rows] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inside);
    HistoryPanes {
        list,
        query,
        rows,
        preview,
        preview_inner: inner(preview),
        info,
        status,
    }
}

/// The panes for the app's own idea of the screen size.
pub fn panes(app: &App) -> Panes {
    panes_in(app, app.area)
}

pub fn panes_in(app: &App, area: Rect) -> Panes {
    let compact = is_compact(area);
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let left_w = if compact {
        main.width / 2
    } else {
        main.width * 2 / 5
    };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(0)]).areas(main);

    let refs_h = refs_height(app, left.width, compact)
        .min(left.height.saturating_sub(3 + options_height(compact)));
    let [prompt, refs, options] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(refs_h.max(3)),
        Constraint::Length(options_height(compact)),
    ])
    .areas(left);

    let credits_h = credits_height(app, compact);
    // Compact: room for four tasks (two rows each) and the border.
    let tasks_h = if compact {
        10
    } else {
        (main.height * 3 / 10).max(10)
    };
    let [credits, tasks, preview] = Layout::vertical([
        Constraint::Length(credits_h),
        Constraint::Length(tasks_h),
        Constraint::Min(3),
    ])
    .areas(right);

    Panes {
        prompt,
        refs,
        options,
        credits,
        tasks,
        preview,
        preview_inner: inner(preview),
        left,
        status,
        compact,
    }
}

/// The credits pane: the balance, and a second row when a refresh failed (why, and since
/// when the balance is stale) or, when not compact, the refresh key.
pub fn credits_height(app: &App, compact: bool) -> u16 {
    if compact && app.credits.error.is_none() {
        3
    } else {
        4
    }
}

pub fn options_height(compact: bool) -> u16 {
    if compact { 6 } else { 8 }
}

/// Where the options pane draws: the three aspect boxes (box, label) and the option rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionsGeometry {
    pub boxes: [(Size, Rect, Rect); 3],
    pub rows: Rect,
}

/// The aspect ratios as boxes in proportion: 1024 px is `unit` rows, a cell being twice as
/// tall as wide; bottoms aligned, labels below; the option rows to their right.
pub fn options_geometry(inner: Rect, compact: bool) -> OptionsGeometry {
    let unit: f32 = if compact { 2.0 } else { 3.0 };
    let label_y = inner.y + ((1.5 * unit).round() as u16).min(inner.height.saturating_sub(1));
    let mut x = inner.x;
    let boxes = Size::ALL.map(|size| {
        let (pw, ph) = size.pixels();
        let h = (ph as f32 / 1024.0 * unit).round() as u16;
        let w = (pw as f32 / 1024.0 * unit * 2.0).round() as u16;
        let rect = Rect::new(x, label_y.saturating_sub(h), w, h).intersection(inner);
        let label = Rect::new(x, label_y, w + 1, 1).intersection(inner);
        x += w + 1;
        (size, rect, label)
    });
    let rows =
        Rect::new(x, inner.y, inner.right().saturating_sub(x), inner.height).intersection(inner);
    OptionsGeometry { boxes, rows }
}

/// What a click in the options pane picks: an aspect ratio, or an option row.
pub fn option_at(pane: Rect, compact: bool, at: Position) -> Option<Result<Size, usize>> {
    let g = options_geometry(inner(pane), compact);
    if let Some((size, _, _)) = g
        .boxes
        .iter()
        .find(|(_, b, l)| b.contains(at) || l.contains(at))
    {
        return Some(Ok(*size));
    }
    let row = (at.y.checked_sub(g.rows.y)?) as usize;
    (g.rows.contains(at) && row < OptionRow::ALL.len()).then_some(Err(row))
}

/// Rows the references pane wants: one per entry (at least one), the mask row, and the
/// wrapped refusal (at most three lines), plus the border.
pub fn refs_height(app: &App, width: u16, _compact: bool) -> u16 {
    let entries = app.refs.entries.len().max(1) as u16;
    let refusal = app
        .refs
        .refusal
        .as_deref()
        .map(|r| {
            wrap(&format!("✗ {r}"), width.saturating_sub(2) as usize)
                .len()
                .min(3) as u16
        })
        .unwrap_or(0);
    entries + 1 + refusal + 2
}

/// Where the image goes in full-screen mode: below the title row, and two rows clear of the
/// bottom (the status line, and one row so a terminal that moves the cursor below an inline
/// image never scrolls).
pub fn fullscreen_image_area(area: Rect) -> Rect {
    Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(3),
    )
}

/// A box of `cells` centred in `area` (clipped to it).
pub fn centered(area: Rect, cells: (u16, u16)) -> Rect {
    let w = cells.0.min(area.width);
    let h = cells.1.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A centred box for an overlay, at most `w` x `h`, leaving a margin.
pub fn dialog(area: Rect, w: u16, h: u16) -> Rect {
    centered(
        area,
        (
            w.min(area.width.saturating_sub(4)),
            h.min(area.height.saturating_sub(2)),
        ),
    )
}

/// Rows the submission line takes at the top of the tasks pane.
pub fn submission_rows(app: &App, height: u16) -> u16 {
    u16::from(app.submission.is_some()) + super::queue::rows(app, height)
}

/// The tasks shown in a tasks pane of `height` inner rows: (first index, how many). Each task
/// takes two rows; the selected one is always in view.
pub fn tasks_window(app: &App, height: u16) -> (usize, usize) {
    let capacity = (height.saturating_sub(submission_rows(app, height)) / 2).max(1) as usize;
    let first = (app.tasks.selected + 1).saturating_sub(capacity);
    (
        first,
        capacity.min(app.tasks.list.len().saturating_sub(first)),
    )
}

/// Which task a click at `at` in the tasks pane lands on.
pub fn task_at(app: &App, pane: Rect, at: Position) -> Option<usize> {
    let inner = inner(pane);
    if !inner.contains(at) {
        return None;
    }
    let row = at.y - inner.y;
    let row = row.checked_sub(submission_rows(app, inner.height))?;
    let (first, count) = tasks_window(app, inner.height);
    let i = (row / 2) as usize;
    (i < count).then_some(first + i)
}

/// Which reference row (the mask row is the last) a click lands on.
pub fn reference_at(app: &App, pane: Rect, at: Position) -> Option<usize> {
    let inner = inner(pane);
    if !inner.contains(at) {
        return None;
    }
    let row = (at.y - inner.y) as usize;
    let entries = app.refs.entries.len();
    if row < entries {
        Some(row)
    } else if row == entries.max(1) {
        Some(entries)
    } else {
        None
    }
}

/// Word-wraps `text` to `width` columns of display width (long words are cut; wide
/// characters count two). Counting and drawing both use it, so a pane is exactly as tall as
/// its text.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for mut word in paragraph.split(' ') {
            loop {
                let sep = usize::from(len > 0);
                let word_w = text_width(word);
                if len + sep + word_w <= width {
                    if sep == 1 {
                        line.push(' ');
                    }
                    line.push_str(word);
                    len += sep + word_w;
                    break;
                }
                if len > 0 {
                    lines.push(std::mem::take(&mut line));
                    len = 0;
                    continue;
                }
                let (head, rest) = split_at_width(word, width);
                if rest.is_empty() {
                    // Only a glyph wider than the line: it takes the line.
                    line.push_str(head);
                    len = text_width(head);
                    break;
                }
                lines.push(head.to_owned());
                word = rest;
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("x\ny", 10), vec!["x", "y"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("東京の夜 景色", 6), vec!["東京の", "夜", "景色"]);
        assert_eq!(wrap("東京", 1), vec!["東", "京"]);
    }

    #[test]
    fn centring_clips_to_the_area() {
        let area = Rect::new(2, 3, 10, 4);
        assert_eq!(centered(area, (4, 2)), Rect::new(5, 4, 4, 2));
        assert_eq!(centered(area, (40, 20)), area);
    }
}
