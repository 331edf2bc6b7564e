//! Drawing: pure functions from `&App` to a frame. No I/O, no decoding, no clock.
//!
//! The inline image is not drawn here: its cells are only marked to be skipped by ratatui's
//! diff, and `preview.rs` prints the image over them after the frame.

pub mod layout;
mod overlays;
mod panes;
mod tasks;

use std::time::Duration;

use ratatui::Frame;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::api::TaskStatus;
use crate::tui::app::{App, Focus, Level};
use crate::tui::keys;

pub const ACCENT: Color = Color::Cyan;
pub const DIM: Color = Color::DarkGray;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if app.fullscreen {
        panes::fullscreen(app, frame, area);
    } else {
        let p = layout::panes_in(app, area);
        panes::prompt(app, frame, p.prompt);
        panes::references(app, frame, p.refs);
        panes::options(app, frame, p.options, p.compact);
        panes::credits(app, frame, p.credits, p.compact);
        tasks::tasks(app, frame, p.tasks);
        tasks::preview(app, frame, p.preview);
        status_line(app, frame, p.status);
        message(app, frame, p.left);
    }
    overlays::render(app, frame, area);
    if let Some(target) = app.preview_target() {
        skip_cells(frame.buffer_mut(), target.rect);
    }
}

/// Leaves the image's cells to the image: ratatui neither writes nor clears them. When the
/// image goes, the cells lose the mark, differ from the last frame, and are redrawn.
fn skip_cells(buf: &mut Buffer, rect: Rect) {
    let rect = rect.intersection(buf.area);
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            if let Some(cell) = buf.cell_mut((x, y)) {
                cell.reset();
                cell.set_diff_option(CellDiffOption::Skip);
            }
        }
    }
}

/// A pane's frame: accented and bold when focused.
pub fn pane_block(title: &str, focused: bool) -> Block<'static> {
    let (border, title_style) = if focused {
        (
            Style::default().fg(ACCENT),
            Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        )
    } else {
        (Style::default().fg(DIM), Style::default())
    };
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(Span::styled(format!(" {title} "), title_style))
}

pub fn focused(app: &App, focus: Focus) -> bool {
    app.focus == focus && app.overlay.is_none()
}

/// The colour of a status word, as the service names it.
pub fn status_color(status: TaskStatus) -> Color {
    match status {
        TaskStatus::Generating => Color::Yellow,
        TaskStatus::Success => Color::Green,
        TaskStatus::CreateTaskFailed | TaskStatus::GenerateFailed => Color::Red,
    }
}

/// `0:07`, `12:30`, `1:02:03`.
pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Cuts `text` to `width` columns with an ellipsis (one line, newlines as spaces).
pub fn ellipsize(text: &str, width: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= width {
        return flat;
    }
    if width == 0 {
        return String::new();
    }
    let mut s: String = flat.chars().take(width - 1).collect();
    s.push('…');
    s
}

/// Bytes as people read them.
pub fn format_bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    let n = n as f64;
    if n < KB {
        format!("{n} B")
    } else if n < KB * KB {
        format!("{:.1} KB", n / KB)
    } else {
        format!("{:.1} MB", n / (KB * KB))
    }
}

fn status_line(app: &App, frame: &mut Frame, area: Rect) {
    let key = |k: &str| {
        Span::styled(
            format!(" {k} "),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    };
    let (help_key, help_what) = keys::help_hint(app.focus);
    let help_w = help_key.chars().count() + help_what.chars().count() + 3;
    let room = (area.width as usize).saturating_sub(help_w);
    let mut spans = Vec::new();
    let mut used = 0;
    for (k, what) in keys::hints(app.focus) {
        let w = k.chars().count() + what.chars().count() + 5;
        if used + w > room {
            break;
        }
        used += w;
        spans.push(key(k));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    spans.push(Span::raw(" ".repeat(room - used)));
    spans.push(key(help_key));
    spans.push(Span::raw(format!(" {help_what}")));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A message the person dismisses with Esc, over the bottom of the left column (never over
/// the preview).
fn message(app: &App, frame: &mut Frame, left: Rect) {
    let Some(msg) = &app.message else { return };
    let (title, color) = match msg.level {
        Level::Info => ("Note", ACCENT),
        Level::Warning => ("Warning", Color::Yellow),
        Level::Error => ("Error", Color::Red),
    };
    let width = left.width.saturating_sub(2) as usize;
    let mut lines = layout::wrap(&msg.text, width);
    lines.truncate(6);
    let h = (lines.len() as u16 + 2).min(left.height);
    let area = Rect::new(left.x, left.bottom().saturating_sub(h), left.width, h);
    let block = Block::bordered()
        .border_style(Style::default().fg(color))
        .title(Span::styled(
            format!(" {title} "),
            Style::default().fg(color).bold(),
        ))
        .title_bottom(Line::from(" Esc dismisses ").right_aligned().fg(DIM));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines.into_iter().map(Line::from).collect::<Vec<_>>()).block(block),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_for_people() {
        assert_eq!(format_elapsed(Duration::from_secs(7)), "0:07");
        assert_eq!(format_elapsed(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(ellipsize("a red fox\nin snow", 8), "a red f…");
        assert_eq!(format_bytes(2150), "2.1 KB");
        assert_eq!(format_bytes(30 * 1024 * 1024), "30.0 MB");
    }
}
