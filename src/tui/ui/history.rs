//! The history screen: the list (only its visible rows are drawn, from the pages loaded),
//! the search and filter line, the selected entry's preview and summary. Its two windows,
//! the details and the delete question, are in `details.rs`.
//!
//! Everything from the database is shown through `escape_controls`: a stored prompt, path
//! or message never moves the cursor or changes colours. Times are local through the offset
//! the runner read at start (`AppConfig::utc_offset_secs`), never the clock.

use chrono::{DateTime, FixedOffset};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};

use super::layout::{self, HistoryPanes, wrap};
use super::{ellipsize, pane_block, width as text_width};
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::history::Image;
use crate::store::text::escape_controls;
use crate::store::{Entry, Query, Status};
use crate::tui::app::App;
use crate::tui::app::history::HistoryView;
use crate::tui::app::tasks::Extras;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let p = layout::history(area);
    list(app, frame, &p);
    preview(app, frame, p.preview);
    info(app, frame, p.info);
    super::status_line_with(app, frame, p.status, "");
    super::message(app, frame, p.list);
}

/// A time from the history (ms since the epoch) in local time.
pub fn local_time(ms: i64, offset_secs: i32, format: &str) -> String {
    let offset = FixedOffset::east_opt(offset_secs).or_else(|| FixedOffset::east_opt(0));
    match (DateTime::from_timestamp_millis(ms), offset) {
        (Some(t), Some(offset)) => t.with_timezone(&offset).format(format).to_string(),
        _ => "unknown time".to_owned(),
    }
}

/// `10,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A status as the list shows it (both kinds of failure are "failed"; the details tell
/// which), and its colour.
pub fn status_look(t: &Theme, status: Status) -> (&'static str, Color) {
    match status {
        Status::Generating => ("generating", t.running),
        Status::Success => ("success", t.ok),
        Status::CreateTaskFailed | Status::GenerateFailed => ("failed", t.error),
        Status::Expired => ("expired", t.muted),
    }
}

fn prompt_text(e: &Entry) -> String {
    match e.params.prompt.as_deref() {
        Some(p) if !p.trim().is_empty() => escape_controls(p).into_owned(),
        _ => "(references only)".to_owned(),
    }
}

fn cost_text(cost: Option<f64>) -> Option<String> {
    cost.map(|c| format!("{} cr", format_credits(c)))
}

fn list(app: &App, frame: &mut Frame, p: &HistoryPanes) {
    let t = &app.config.theme;
    let v = &app.history;
    let filtered = v.query != Query::default();
    let mut title = match v.total {
        None => "History".to_owned(),
        Some(n) if filtered => {
            let what = if n == 1 && !v.more {
                "match"
            } else {
                "matches"
            };
            let plus = if v.more { "+" } else { "" };
            format!("History · {}{plus} {what}", thousands(n))
        }
        Some(n) => {
            let what = if n == 1 { "generation" } else { "generations" };
            format!("History · {} {what}", thousands(n))
        }
    };
    if v.scoped {
        title.push_str(&format!(
            " in the newest {} · a 3rd character searches all",
            thousands(crate::store::SHORT_SEARCH_SCOPE)
        ));
    }
    if v.is_searching() {
        title.push_str(" · searching…");
    }
    let focused = app.overlay.is_none();
    let mut block = pane_block(t, &title, focused);
    if let Some(total) = v.total.filter(|t| *t > 0) {
        block = block.title_bottom(
            Line::from(format!(
                " {}/{} ",
                thousands(v.selected + 1),
                thousands(total)
            ))
            .right_aligned()
            .fg(t.muted),
        );
    }
    frame.render_widget(block, p.list);
    frame.render_widget(
        Paragraph::new(query_line(t, v, p.query.width as usize)),
        p.query,
    );

    let width = p.rows.width as usize;
    let height = p.rows.height as usize;
    let offset = app.config.utc_offset_secs;
    let mut lines = Vec::new();
    match v.total {
        None => lines.push(match &v.error {
            Some(e) => Line::from(ellipsize(
                &format!("could not read the history: {e}"),
                width,
            ))
            .fg(t.error),
            None => Line::from("reading the history…").fg(t.muted),
        }),
        Some(0) => {
            let text = if filtered {
                "Nothing matches: / edits the search (Esc there clears it); s and a change the filters."
            } else {
                "No generations yet: what you submit is kept here."
            };
            lines.extend(
                wrap(text, width)
                    .into_iter()
                    .map(|l| Line::from(l).fg(t.muted)),
            );
        }
        Some(total) => {
            let top = v.top_for(height);
            let mut error_shown = false;
            for row in top..(top + height).min(total) {
                let selected = row == v.selected;
                let line = match (v.entry(row), &v.error) {
                    (Some(e), _) => entry_line(t, e, offset, width, selected),
                    (None, Some(err)) if !error_shown => {
                        error_shown = true;
                        let text = format!("  could not read the history: {err} (a key retries)");
                        Line::from(ellipsize(&text, width)).fg(t.error)
                    }
                    (None, _) => Line::from("  loading…").fg(t.muted),
                };
                let style = match (selected, focused) {
                    (true, true) => Style::default().add_modifier(Modifier::REVERSED),
                    (true, false) => Style::default().add_modifier(Modifier::BOLD),
                    _ => Style::default(),
                };
                lines.push(line.style(style));
            }
            if total > height {
                let mut state = ScrollbarState::new(total.saturating_sub(height))
                    .position(top)
                    .viewport_content_length(height);
                let bar = Rect::new(
                    p.list.right().saturating_sub(1),
                    p.rows.y,
                    1.min(p.list.width),
                    p.rows.height,
                );
                frame.render_stateful_widget(
                    Scrollbar::new(ScrollbarOrientation::VerticalRight)
                        .begin_symbol(None)
                        .end_symbol(None)
                        .track_style(Style::default().fg(t.muted)),
                    bar,
                    &mut state,
                );
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), p.rows);
}

/// `/ fox▏  status all · aspect 3:2`: the search (being typed, with its cursor) and the
/// filters, the active ones accented.
fn query_line(t: &Theme, v: &HistoryView, width: usize) -> Line<'static> {
    let status = v.query.status.map_or("all", |s| s.as_str());
    let aspect = v.query.size.map_or("all", |s| s.as_str());
    let pick = |on: bool| {
        if on {
            Style::default().fg(t.accent).bold()
        } else {
            Style::default().fg(t.muted)
        }
    };
    let right = vec![
        Span::styled("status ", Style::default().fg(t.muted)),
        Span::styled(status, pick(v.query.status.is_some())),
        Span::styled(" · aspect ", Style::default().fg(t.muted)),
        Span::styled(aspect, pick(v.query.size.is_some())),
    ];
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let room = width.saturating_sub(right_w + 4);
    let mut spans = vec![Span::styled("/ ", Style::default().fg(t.accent).bold())];
    match (&v.search, &v.query.search) {
        (Some(input), _) => {
            let text: Vec<char> = input.text().chars().collect();
            let at = input.cursor().min(text.len());
            // The end of a long search stays in view: that is where one types.
            let before: String = text[..at].iter().collect();
            let before_w = text_width(&before);
            let before = if before_w + 1 > room {
                let skip = before_w + 1 - room;
                let mut cut = 0;
                let mut dropped = 0;
                for (i, c) in before.char_indices() {
                    if dropped >= skip {
                        cut = i;
                        break;
                    }
                    dropped += super::char_width(c);
                    cut = i + c.len_utf8();
                }
                before[cut..].to_owned()
            } else {
                before
            };
            let under: String = text.get(at).map_or(" ".to_owned(), |c| c.to_string());
            let after: String = text
                .get(at + 1..)
                .map(|s| s.iter().collect())
                .unwrap_or_default();
            let after = ellipsize(
                &after,
                room.saturating_sub(text_width(&before) + text_width(&under)),
            );
            spans.push(Span::raw(before));
            spans.push(Span::styled(
                under,
                Style::default().add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::raw(after));
        }
        (None, Some(text)) => {
            spans.push(Span::styled(
                ellipsize(&escape_controls(text), room),
                Style::default().bold(),
            ));
        }
        (None, None) => spans.push(Span::styled("search", Style::default().fg(t.muted))),
    }
    let left_w: usize = spans.iter().map(|s| s.width()).sum();
    if left_w + right_w < width {
        spans.push(Span::raw(" ".repeat(width - left_w - right_w)));
        spans.extend(right);
    }
    Line::from(spans)
}

/// `▶ 2026-11-26 08:08 success    3:2 ×4     6 cr a red fox…`
fn entry_line(t: &Theme, e: &Entry, offset: i32, width: usize, selected: bool) -> Line<'static> {
    let marker = if selected { "▶ " } else { "  " };
    let date = local_time(e.created_at, offset, "%Y-%m-%d %H:%M");
    let (word, color) = status_look(t, e.status);
    let mut middle = format!(
        " {} ×{} {:>8} ",
        e.params.size,
        e.params.variants.count(),
        cost_text(e.cost).unwrap_or_default()
    );
    // The references, mask and enhancement too (the variants have their column), where the
    // prompt keeps room enough beside them.
    let p = &e.params;
    let extras = super::tasks::extras(
        1,
        Extras {
            refs: p.refs.len(),
            mask: p.mask.is_some(),
            enhance: p.enhance,
        },
    );
    let used = text_width(marker) + text_width(&date) + 11 + text_width(&middle);
    if !extras.is_empty() && width.saturating_sub(used + text_width(&extras) + 1) >= 24 {
        middle.push_str(&extras);
        middle.push(' ');
    }
    let used = text_width(marker) + text_width(&date) + 11 + text_width(&middle);
    Line::from(vec![
        Span::raw(marker),
        Span::raw(date),
        Span::raw(" "),
        Span::styled(format!("{word:<10}"), Style::default().fg(color).bold()),
        Span::raw(middle),
        Span::raw(ellipsize(&prompt_text(e), width.saturating_sub(used))),
    ])
}

/// Why image `variant` of `entry` has no file to show; empty when it has one.
pub fn no_file_reason(entry: &Entry, variant: usize) -> String {
    match entry.images.get(variant) {
        Some(Image { path: Some(_), .. }) => String::new(),
        Some(i) if i.gone => {
            "expired: it was never downloaded, and the service no longer keeps it".to_owned()
        }
        Some(Image { error: Some(e), .. }) => format!("not downloaded: {}", escape_controls(e)),
        Some(_) => "not downloaded yet".to_owned(),
        None => match entry.status {
            Status::Generating => {
                format!(
                    "still generating ({:.0}%)",
                    entry.progress.clamp(0.0, 1.0) * 100.0
                )
            }
            Status::Expired => "expired: the service no longer keeps this task".to_owned(),
            s if s.is_failure() => "the task failed: it has no image".to_owned(),
            _ => "no image in the result".to_owned(),
        },
    }
}

fn preview(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let v = &app.history;
    let entry = v.selected_entry();
    let n = entry.map_or(0, |e| e.images.len());
    let mut title = "Preview".to_owned();
    if n > 0 {
        title.push_str(&format!(" {}/{n}", v.variant + 1));
    }
    if let Some(f) = app.preview_image() {
        title.push_str(&format!(" · {}×{}", f.source_dims.0, f.source_dims.1));
    }
    let mut block = pane_block(t, &title, false);
    if n > 1 {
        block = block.title_bottom(Line::from(" ←/→ variant ").right_aligned().fg(t.muted));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.preview_target().is_some() {
        return;
    }
    let text = match entry {
        _ if app.overlay.is_some() && app.preview_image().is_some() => {
            "(hidden while the dialog is open)".to_owned()
        }
        None if v.total == Some(0) => String::new(),
        None if v.total.is_none() => String::new(),
        None => "loading…".to_owned(),
        Some(e) => match no_file_reason(e, v.variant) {
            why if !why.is_empty() => why,
            _ => match app.preview_error() {
                Some(e) => format!("cannot show the image: {e}"),
                None => "decoding…".to_owned(),
            },
        },
    };
    super::centered_note(t, frame, inner, &text);
}

/// The selected entry in brief: status and options, times, references, error, prompt.
fn info(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let entry = app.history.selected_entry();
    let title = entry.map_or_else(
        || "Selected".to_owned(),
        |e| escape_controls(&e.task_id).into_owned(),
    );
    let width = area.width.saturating_sub(2) as usize;
    let block = pane_block(
        &app.config.theme,
        &ellipsize(&title, width.saturating_sub(2)),
        false,
    )
    .title_bottom(Line::from(selected_hint(app)).right_aligned().fg(t.muted));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(e) = entry else { return };
    let offset = app.config.utc_offset_secs;
    let p = &e.params;
    let (word, color) = status_look(t, e.status);
    let mut head = vec![Span::styled(word, Style::default().fg(color).bold())];
    if e.status == Status::Generating {
        head.push(Span::raw(format!(
            " {:.0}%",
            e.progress.clamp(0.0, 1.0) * 100.0
        )));
    }
    if let Some(c) = cost_text(e.cost) {
        head.push(Span::raw(format!(" · {c}")));
    }
    let mut lines = vec![Line::from(head)];
    let mut facts = vec![
        p.size.to_string(),
        match p.variants.count() {
            1 => "1 variant".to_owned(),
            n => format!("{n} variants"),
        },
    ];
    if p.enhance {
        facts.push("enhance".to_owned());
    }
    if let Some(f) = p.fallback {
        facts.push(format!("fallback {f}"));
    }
    for l in wrap(&facts.join(" · "), width).into_iter().take(2) {
        lines.push(Line::from(l));
    }
    let mut when = format!(
        "created {}",
        local_time(e.created_at, offset, "%Y-%m-%d %H:%M:%S")
    );
    if let Some(done) = e.completed_at {
        let secs = done.saturating_sub(e.created_at).max(0) / 1000;
        when.push_str(&format!(
            " · took {}",
            super::format_elapsed(std::time::Duration::from_secs(
                u64::try_from(secs).unwrap_or(0)
            ))
        ));
    }
    lines.push(Line::from(ellipsize(&when, width)).fg(t.muted));
    let refs = match p.refs.len() {
        0 => "no references".to_owned(),
        1 => "1 reference".to_owned(),
        n => format!("{n} references"),
    };
    let mask = if p.mask.is_some() { " and a mask" } else { "" };
    lines.push(Line::from(ellipsize(&format!("{refs}{mask}"), width)).fg(t.muted));
    if let Some(err) = error_text(e) {
        for l in wrap(&err, width).into_iter().take(2) {
            lines.push(Line::from(l).fg(t.error));
        }
    }
    lines.push(Line::from(""));
    let room = (inner.height as usize).saturating_sub(lines.len());
    let prompt = wrap(&prompt_text(e), width);
    let cut = prompt.len() > room;
    for (i, l) in prompt.into_iter().take(room).enumerate() {
        let l = if cut && i + 1 == room {
            ellipsize(&format!("{l} …"), width)
        } else {
            l
        };
        lines.push(Line::from(l));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `error 500: the model is overloaded`, escaped; none for a task that did not fail.
pub(super) fn error_text(e: &Entry) -> Option<String> {
    let message = e.error_message.as_deref().map(escape_controls);
    match (e.error_code, message) {
        (Some(c), Some(m)) => Some(format!("error {c}: {m}")),
        (None, Some(m)) => Some(format!("error: {m}")),
        (Some(c), None) => Some(format!("error {c}")),
        (None, None) => None,
    }
}

/// The selected entry's commands under its pane, with the keys bound to them now.
fn selected_hint(app: &App) -> String {
    let place = crate::tui::keys::Place::History;
    let key = |k, what| crate::tui::keys_table::relabel(&app.config.keys, place, k, what);
    format!(
        " {} details · {} remix · {} re-run ",
        key("i", "details"),
        key("r", "remix"),
        key("R", "re-run")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_through_the_given_offset() {
        // 2026-11-26 08:08:00 UTC.
        let ms = 1_795_680_480_000;
        assert_eq!(local_time(ms, 0, "%Y-%m-%d %H:%M"), "2026-11-26 08:08");
        assert_eq!(local_time(ms, 3600, "%H:%M"), "09:08");
        assert_eq!(local_time(ms, -5 * 3600, "%d %H:%M"), "26 03:08");
        assert_eq!(
            local_time(ms, i32::MAX, "%H:%M"),
            "08:08",
            "a bad offset is UTC"
        );
        assert_eq!(local_time(i64::MAX, 0, "%H"), "unknown time");
    }

    #[test]
    fn counts_read_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
