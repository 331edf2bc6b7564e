//! The history's windows: every detail of an entry, and the delete question. Stored text is
//! shown through `escape_controls`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::ellipsize;
use super::history::{error_text, local_time, no_file_reason, status_look};
use super::layout::{dialog, wrap};
use super::overlays::frame_block;
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::Entry;
use crate::store::text::escape_controls;
use crate::tui::app::App;

/// The details window's width on a screen of `area`.
fn details_width(area: Rect) -> u16 {
    area.width.saturating_sub(4).min(100)
}

/// Where the details window of `entry` goes: as tall as its lines, at most the screen.
pub fn details_rect(entry: &Entry, offset: i32, area: Rect) -> Rect {
    // The colours do not change the size.
    let lines = details_lines(
        &Theme::DARK,
        entry,
        offset,
        details_width(area).saturating_sub(2) as usize,
    );
    dialog(
        area,
        100,
        u16::try_from(lines.len() + 2).unwrap_or(u16::MAX),
    )
}

const LABEL_W: usize = 13;

/// Every field of an entry, one per line (long values wrapped under their label).
pub fn details_lines(t: &Theme, e: &Entry, offset: i32, width: usize) -> Vec<Line<'static>> {
    let value_w = width.saturating_sub(LABEL_W).max(10);
    let mut lines = Vec::new();
    let mut field = |label: &str, value: &str, style: Style| {
        for (i, part) in wrap(value, value_w).into_iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<LABEL_W$}"), Style::default().fg(t.muted)),
                Span::styled(part, style),
            ]));
        }
    };
    let plain = Style::default();
    let time = |ms: i64| local_time(ms, offset, "%Y-%m-%d %H:%M:%S");
    let p = &e.params;
    field("Task id", &escape_controls(&e.task_id), plain.bold());
    field("Service", &escape_controls(&e.base_url), plain);
    let (_, color) = status_look(t, e.status);
    field(
        "Status",
        &format!(
            "{} · progress {:.0}%",
            e.status,
            e.progress.clamp(0.0, 1.0) * 100.0
        ),
        plain.fg(color),
    );
    field(
        "Error",
        &error_text(e).unwrap_or_else(|| "none".to_owned()),
        if e.error_message.is_some() || e.error_code.is_some() {
            plain.fg(t.error)
        } else {
            plain
        },
    );
    field("Created", &time(e.created_at), plain);
    field(
        "Completed",
        &e.completed_at.map_or_else(|| "not yet".to_owned(), time),
        plain,
    );
    field(
        "Cost",
        &e.cost.map_or_else(
            || "unknown".to_owned(),
            |c| format!("{} credits", format_credits(c)),
        ),
        plain,
    );
    field("Aspect", p.size.as_str(), plain);
    field("Variants", &p.variants.count().to_string(), plain);
    field("Enhance", if p.enhance { "on" } else { "off" }, plain);
    field("Fallback", p.fallback.map_or("off", |f| f.as_str()), plain);
    field(
        "Callback",
        &p.callback_url
            .as_deref()
            .map_or_else(|| "none".to_owned(), |u| escape_controls(u).into_owned()),
        plain,
    );
    field(
        "Prompt",
        &p.prompt
            .as_deref()
            .map_or_else(|| "none".to_owned(), |t| escape_controls(t).into_owned()),
        plain,
    );
    if p.refs.is_empty() {
        field("References", "none", plain);
    }
    for (i, r) in p.refs.iter().enumerate() {
        field(
            &format!("Reference {}", i + 1),
            &escape_controls(&r.origin),
            plain,
        );
        field("  uploaded", &escape_controls(&r.url), plain.fg(t.muted));
    }
    match &p.mask {
        None => field("Mask", "none", plain),
        Some(m) => {
            field("Mask", &escape_controls(&m.origin), plain);
            field("  uploaded", &escape_controls(&m.url), plain.fg(t.muted));
        }
    }
    if e.images.is_empty() {
        field("Images", "none", plain);
    }
    for (i, image) in e.images.iter().enumerate() {
        field(
            &format!("Image {}", image.index + 1),
            &escape_controls(&image.url),
            plain,
        );
        match &image.path {
            Some(path) => field(
                "  file",
                &escape_controls(&path.display().to_string()),
                plain.fg(t.ok),
            ),
            None => field("  file", &no_file_reason(e, i), plain.fg(t.warning)),
        }
    }
    lines
}

/// How far the details of `entry` scroll on a screen of `area`.
pub fn details_max_scroll(entry: &Entry, offset: i32, area: Rect) -> u16 {
    let rect = details_rect(entry, offset, area);
    let lines = details_lines(
        &Theme::DARK,
        entry,
        offset,
        rect.width.saturating_sub(2) as usize,
    );
    let visible = rect.height.saturating_sub(2) as usize;
    u16::try_from(lines.len().saturating_sub(visible)).unwrap_or(u16::MAX)
}

pub fn details(app: &App, frame: &mut Frame, area: Rect, entry: &Entry, scroll: u16) {
    let t = &app.config.theme;
    let offset = app.config.utc_offset_secs;
    let rect = details_rect(entry, offset, area);
    let lines = details_lines(t, entry, offset, rect.width.saturating_sub(2) as usize);
    let max = details_max_scroll(entry, offset, area);
    let title = crate::tui::keys_table::scroll_title(
        &app.config.keys,
        crate::tui::keys::Place::Details,
        "Details",
        max > 0,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(max), 0))
            .block(frame_block(&title, t.accent)),
        rect,
    );
}

/// The delete question: the entry only, the entry and its files, or neither.
pub fn confirm_delete(
    t: &Theme,
    frame: &mut Frame,
    area: Rect,
    task_id: &str,
    prompt: &str,
    files: usize,
) {
    const W: u16 = 68;
    let width = W.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let key = |k: &str| {
        Span::styled(
            format!(" {k} "),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    };
    let prompt = match prompt.trim() {
        "" => "(references only)".to_owned(),
        p => format!("“{}”", escape_controls(p)),
    };
    let plural = if files == 1 { "file" } else { "files" };
    let mut lines = vec![
        Line::from(ellipsize(&escape_controls(task_id), width)).bold(),
        Line::from(ellipsize(&prompt, width)).fg(t.muted),
        Line::from(""),
    ];
    if files == 0 {
        lines.push(Line::from(vec![
            key("e"),
            Span::raw(" delete the entry (it has no image file)"),
        ]));
    } else {
        lines.push(Line::from(vec![
            key("e"),
            Span::raw(format!(
                " delete the entry only: its {files} image {plural} {}",
                if files == 1 { "stays" } else { "stay" }
            )),
        ]));
        lines.push(Line::from(vec![
            key("f"),
            Span::styled(
                format!(" delete the entry and its {files} image {plural}"),
                Style::default().fg(t.error),
            ),
        ]));
    }
    lines.push(Line::from(vec![key("Esc"), Span::raw(" cancel")]));
    let rect = dialog(area, W, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(frame_block(" Delete from the history? ", t.warning)),
        rect,
    );
}
