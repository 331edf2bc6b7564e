//! Drawing: pure functions from `&App` to a frame. No I/O, no decoding, no clock.
//!
//! The inline image is not drawn here: its cells are only marked to be skipped by ratatui's
//! diff, and `preview.rs` prints the image over them after the frame.

pub mod account;
mod charts;
pub mod details;
pub mod history;
pub mod layout;
pub mod overlays;
mod panes;
mod profile_form;
pub mod queue;
mod tasks;
mod welcome;

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::api::TaskStatus;
use crate::config::Theme;
use crate::tui::app::{App, Focus, Level, Screen};
use crate::tui::keys;

/// Tells crossterm to write every colour it is given, `NO_COLOR` or not: the app decides
/// (`--color`), and without colour draws frames with their colours taken out (bold, reverse
/// video and the characters stay). Left to itself under `NO_COLOR`, crossterm would write a
/// colour reset as an empty `ESC[m`, which resets the bold and the reverse video too.
pub fn write_colour_resets() {
    crossterm::style::force_color_output(true);
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if app.fullscreen {
        panes::fullscreen(app, frame, area);
    } else if app.screen == Screen::History {
        history::render(app, frame, area);
    } else if app.screen == Screen::Welcome {
        welcome::render(app, frame, area);
    } else if app.screen == Screen::Account {
        account::render(app, frame, area);
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
    if app.config.no_colour {
        for cell in &mut frame.buffer_mut().content {
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
        }
    }
    if let Some(target) = app.preview_target() {
        crate::tui::preview::mark_cells(frame.buffer_mut(), target.payload, target.rect);
    }
}

/// A pane's frame: accented and bold when focused.
/// A dim note, wrapped and centred in `inner` (where a preview has no image to show).
pub fn centered_note(t: &Theme, frame: &mut Frame, inner: Rect, text: &str) {
    let lines: Vec<Line> = layout::wrap(text, inner.width as usize)
        .into_iter()
        .map(Line::from)
        .collect();
    let h = (lines.len() as u16).min(inner.height);
    let y = inner.y + inner.height.saturating_sub(h) / 2;
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(ratatui::layout::Alignment::Center)
            .fg(t.muted),
        Rect::new(inner.x, y, inner.width, h),
    );
}

pub fn pane_block(t: &Theme, title: &str, focused: bool) -> Block<'static> {
    let (border, title_style) = if focused {
        (
            Style::default().fg(t.focused_border),
            Style::default().fg(t.accent).add_modifier(Modifier::BOLD),
        )
    } else {
        (Style::default().fg(t.border), Style::default())
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
pub fn status_color(t: &Theme, status: TaskStatus) -> Color {
    match status {
        TaskStatus::Generating => t.running,
        TaskStatus::Success => t.ok,
        TaskStatus::CreateTaskFailed | TaskStatus::GenerateFailed => t.error,
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

/// Columns `text` takes on screen, as ratatui counts them (wide CJK and emoji take two).
pub fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// Columns one character takes.
pub fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

/// The longest start of `text` that fits in `columns`, and the rest. At least one character
/// goes to the start (so that a glyph wider than `columns` still moves on).
pub fn split_at_width(text: &str, columns: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        let w = char_width(c);
        if used + w > columns && i > 0 {
            return text.split_at(i);
        }
        used += w;
    }
    (text, "")
}

/// Cuts `text` to `columns` with an ellipsis (one line, newlines as spaces).
pub fn ellipsize(text: &str, columns: usize) -> String {
    // One row: line breaks and tabs become spaces; any other control character (an escape
    // sequence from the service) is shown escaped, never sent to the terminal.
    let flat =
        crate::store::text::escape_controls(&text.replace(['\n', '\r', '\t'], " ")).into_owned();
    if width(&flat) <= columns {
        return flat;
    }
    if columns == 0 {
        return String::new();
    }
    let mut s = String::new();
    let mut used = 0;
    for c in flat.chars() {
        let w = char_width(c);
        if used + w > columns - 1 {
            break;
        }
        used += w;
        s.push(c);
    }
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

/// The keys that work where the keys go now (a pane, full screen, a dialog), as many as fit;
/// in the panes the help key sits at the right end. `extra` follows the hints if there is
/// room (full screen's elapsed time).
pub fn status_line_with(app: &App, frame: &mut Frame, area: Rect, extra: &str) {
    let key = |k: &str| {
        Span::styled(
            format!(" {k} "),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    };
    let place = keys::Place::of(app);
    let help = keys::help_hint(app).map(|(k, what)| {
        (
            crate::tui::keys_table::relabel(&app.config.keys, place, k, what),
            what,
        )
    });
    let help_w = help
        .as_ref()
        .map_or(0, |(k, what)| width(k) + width(what) + 3);
    let room = (area.width as usize).saturating_sub(help_w);
    let mut spans = Vec::new();
    let mut used = 0;
    for (k, what) in with_estimate(app) {
        let (k, what) = (k.as_str(), what.as_str());
        let w = width(k) + width(what) + 5;
        if used + w > room {
            break;
        }
        used += w;
        spans.push(key(k));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    let t = &app.config.theme;
    if !extra.is_empty() && used + width(extra) <= room {
        used += width(extra);
        spans.push(Span::styled(extra.to_owned(), Style::default().fg(t.muted)));
    }
    if let Some((k, what)) = help {
        spans.push(Span::raw(" ".repeat(room - used)));
        spans.push(key(&k));
        spans.push(Span::raw(format!(" {what}")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The hints, Ctrl-S's with what the editor's draft should cost where the prompt's own line
/// (which says it) is not on screen; on the history and account screens, where Ctrl-S
/// submits too, it comes among the first.
fn with_estimate(app: &App) -> Vec<(String, String)> {
    let place = keys::Place::of(app);
    let mut hints: Vec<(String, String)> = keys::hints(place)
        .iter()
        .map(|(k, what)| {
            let k = crate::tui::keys_table::relabel(&app.config.keys, place, k, what);
            (k, (*what).to_owned())
        })
        .collect();
    if place == keys::Place::Welcome && app.welcome_target().preset.is_none() {
        // Pointed at another service (`--base-url`): there is no service to switch to.
        hints.retain(|(_, what)| what != "service");
    }
    if matches!(place, keys::Place::Pane(_) | keys::Place::PromptSearch) {
        // With entries queued, its keys come right after Ctrl-S.
        if matches!(place, keys::Place::Pane(_)) && !app.queue.entries.is_empty() {
            let toggle = if app.queue.running { "pause" } else { "start" };
            let at = 1.min(hints.len());
            let what = format!("{toggle} the queue");
            let relabel =
                |k, what| crate::tui::keys_table::relabel(&app.config.keys, place, k, what);
            hints.insert(at, (relabel("F6", &what), what.clone()));
            hints.insert(at, (relabel("Alt-S", "stage"), "stage".to_owned()));
        }
        return hints;
    }
    let estimate = format!("submit: {}", app.estimate(app.options.variants.count()));
    let submit = crate::tui::keys_table::relabel(&app.config.keys, place, "Ctrl-S", "submit");
    match hints
        .iter()
        .position(|(k, what)| *k == submit && what == "submit")
    {
        // First, so that a narrow screen leaves out another hint rather than this one.
        Some(i) => {
            hints.remove(i);
            hints.insert(0, (submit, estimate));
        }
        // After "back" and "search": the history's own keys are under its preview too.
        None if place == keys::Place::History => {
            hints.insert(2.min(hints.len()), (submit, estimate));
        }
        None if place == keys::Place::Account => {
            hints.insert(1.min(hints.len()), (submit, estimate));
        }
        None => {}
    }
    hints
}

fn status_line(app: &App, frame: &mut Frame, area: Rect) {
    status_line_with(app, frame, area, "");
}

/// A message's title and colour.
pub fn message_look(t: &Theme, level: Level) -> (&'static str, Color) {
    match level {
        Level::Info => ("Note", t.accent),
        Level::Warning => ("Warning", t.warning),
        Level::Error => ("Error", t.error),
    }
}

/// A message the person dismisses with Esc, over the bottom of the left column (or of the
/// history's list): never over the preview.
fn message(app: &App, frame: &mut Frame, left: Rect) {
    let Some(msg) = &app.message else { return };
    let t = &app.config.theme;
    let (title, color) = message_look(t, msg.level);
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
        .title_bottom(Line::from(" Esc dismisses ").right_aligned().fg(t.muted));
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
        // Wide characters take two columns each.
        assert_eq!(ellipsize("東京の夜景", 6), "東京…");
        assert_eq!(width(&ellipsize("東京の夜景", 5)), 5);
        assert_eq!(ellipsize("東京", 4), "東京");
        assert_eq!(split_at_width("a東b", 2), ("a", "東b"));
        assert_eq!(split_at_width("東", 1), ("東", ""));
        assert_eq!(format_bytes(2150), "2.1 KB");
        assert_eq!(format_bytes(30 * 1024 * 1024), "30.0 MB");
    }
}
