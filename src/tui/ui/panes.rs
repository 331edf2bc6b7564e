//! The input side of the screen: prompt, references, aspect and options, credits; and the
//! full-screen image view.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::layout::{self, wrap};
use super::{
    ellipsize, focused, format_bytes, format_elapsed, history, message_look, pane_block,
    status_line_with, width as text_width,
};
use crate::api::types::MAX_REFERENCES;
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::text::escape_controls;
use crate::tui::app::refs::{RefEntry, RefState};
use crate::tui::app::{App, Focus, OptionRow, Screen};

pub fn prompt(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let count = app.char_count();
    let title = match app.recall.position() {
        Some((n, total)) => format!("Prompt · earlier {n}/{total}"),
        None => "Prompt".to_owned(),
    };
    let block = pane_block(t, &title, focused(app, Focus::Prompt))
        .title(
            Line::from(format!(" {count} chars "))
                .right_aligned()
                .fg(t.muted),
        )
        .title_bottom(prompt_footer(app, area.width.saturating_sub(4) as usize));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&app.prompt, inner);
}

/// Under the prompt: the reverse search while it is open; else what Ctrl-S would submit and
/// what it should cost, where the submit is decided.
fn prompt_footer(app: &App, width: usize) -> Line<'static> {
    let t = &app.config.theme;
    if let Some(search) = &app.recall.search {
        let state = if app.recall.is_loading() {
            " (reading…)"
        } else if search.found.is_none() && !search.query.is_empty() {
            " (no match)"
        } else {
            ""
        };
        let text = format!(
            " search earlier prompts: {}▏{state} ",
            escape_controls(search.query.text())
        );
        return Line::from(ellipsize(&text, width)).fg(t.accent);
    }
    let estimate = app.estimate(app.options.variants.count());
    let submit = app.config.keys.first(crate::config::keys::Command::Submit);
    let text = format!(" {submit}: {estimate} ");
    let text = if super::width(&text) <= width {
        text
    } else {
        format!(" {estimate} ")
    };
    Line::from(ellipsize(&text, width)).fg(t.muted)
}

pub fn references(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let refs = &app.refs;
    let is_focused = focused(app, Focus::References);
    let block = pane_block(
        &app.config.theme,
        &format!("References {}/{MAX_REFERENCES}", refs.entries.len()),
        is_focused,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let selected = |i: usize| {
        if i == refs.selected && is_focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        }
    };
    let mut lines = Vec::new();
    if refs.entries.is_empty() {
        lines.push(
            Line::from(ellipsize(
                &format!(
                    "none yet: {} adds a file, {} a URL",
                    refs_key(app, "a"),
                    refs_key(app, "u")
                ),
                width,
            ))
            .fg(t.muted),
        );
    }
    for (i, e) in refs.entries.iter().enumerate() {
        lines.push(entry_line(t, &format!("{}", i + 1), e, width).style(selected(i)));
    }
    let mask_row = refs.entries.len();
    lines.push(match &refs.mask {
        Some(m) => entry_line(t, "M", m, width).style(selected(mask_row)),
        None => Line::from(ellipsize(
            &format!("M  no mask ({} sets one)", refs_key(app, "m")),
            width,
        ))
        .fg(t.muted)
        .style(selected(mask_row)),
    });
    if let Some(why) = &refs.refusal {
        for l in wrap(&format!("✗ {why}"), width).into_iter().take(3) {
            lines.push(Line::from(l).fg(t.error));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `1  assets/ref-sunset.png ........ 256×256 2.1 KB`
fn entry_line(t: &Theme, mark: &str, e: &RefEntry, width: usize) -> Line<'static> {
    let info = match &e.state {
        RefState::Checking => "checking…".to_owned(),
        RefState::Ready(c) => match (c.dims, c.bytes) {
            (Some((w, h)), Some(b)) => format!("{w}×{h} {}", format_bytes(b)),
            (Some((w, h)), None) => format!("{w}×{h}"),
            (None, _) => "URL".to_owned(),
        },
    };
    let head = format!("{mark}  ");
    let room = width.saturating_sub(text_width(&head) + text_width(&info) + 1);
    let label = ellipsize(&e.label, room);
    let pad = width.saturating_sub(text_width(&head) + text_width(&label) + text_width(&info));
    Line::from(vec![
        Span::styled(head, Style::default().fg(t.muted)),
        Span::raw(label),
        Span::raw(" ".repeat(pad)),
        Span::styled(info, Style::default().fg(t.muted)),
    ])
}

/// The three aspect ratios as boxes in proportion (1024 px = `unit` rows, a cell being
/// twice as tall as wide), the chosen one accented; the other options beside them.
pub fn options(app: &App, frame: &mut Frame, area: Rect, compact: bool) {
    let t = &app.config.theme;
    let is_focused = focused(app, Focus::Options);
    let block = pane_block(t, "Aspect & options", is_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let geometry = layout::options_geometry(inner, compact);
    for (size, rect, label) in geometry.boxes {
        let chosen = app.options.size == size;
        // The chosen box is thick, and its label reversed: visible without colour too.
        let (style, border) = if chosen {
            (Style::default().fg(t.accent).bold(), BorderType::Thick)
        } else {
            (Style::default().fg(t.muted), BorderType::Plain)
        };
        let block = Block::bordered().border_type(border).border_style(style);
        frame.render_widget(block, rect);
        let style = if chosen { style.reversed() } else { style };
        frame.render_widget(Paragraph::new(Span::styled(size.as_str(), style)), label);
    }
    let rows_area = geometry.rows;
    let o = &app.options;
    let pick = |on: bool| {
        if on {
            Style::default().fg(t.accent).bold()
        } else {
            Style::default().fg(t.muted)
        }
    };
    let mut lines = Vec::new();
    for (i, row) in OptionRow::ALL.iter().enumerate() {
        let cursor = if is_focused && o.row == i { "›" } else { " " };
        let mut spans = vec![Span::styled(cursor, Style::default().fg(t.accent).bold())];
        let label = |s: &str| Span::raw(format!("{s:<9}"));
        match row {
            OptionRow::Aspect => {
                spans.push(label("Aspect"));
                spans.push(Span::styled(o.size.as_str(), pick(true)));
            }
            OptionRow::Variants => {
                spans.push(label("Variants"));
                if compact {
                    spans.push(Span::styled(o.variants.to_string(), pick(true)));
                } else {
                    // The chosen count in reverse video: visible without colour too.
                    for n in ["1", "2", "4"] {
                        let chosen = o.variants.to_string() == n;
                        let style = if chosen {
                            pick(true).reversed()
                        } else {
                            pick(false)
                        };
                        spans.push(Span::styled(n, style));
                        spans.push(Span::raw(" "));
                    }
                }
            }
            OptionRow::Enhance => {
                spans.push(label("Enhance"));
                spans.push(Span::styled(
                    if o.enhance { "on" } else { "off" },
                    pick(o.enhance),
                ));
            }
            OptionRow::Fallback => {
                spans.push(label("Fallback"));
                let v = o.fallback.map(|f| f.as_str()).unwrap_or("off");
                spans.push(Span::styled(v, pick(o.fallback.is_some())));
            }
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), rows_area);
}

pub fn credits(app: &App, frame: &mut Frame, area: Rect, compact: bool) {
    let t = &app.config.theme;
    let c = &app.credits;
    let block = pane_block(t, "Credits", false).title(
        Line::from(format!(" {} ", app.config.endpoint))
            .right_aligned()
            .fg(t.muted),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut first = Vec::new();
    let mut second = None;
    // Below the low-balance threshold: the number in yellow, and said.
    let low = app.low_balance();
    let balance = |v: f64| {
        let style = match low {
            Some(_) => Style::default().fg(t.warning).bold(),
            None => Style::default().bold(),
        };
        let mut spans = vec![Span::styled(
            format!("{} credits", format_credits(v)),
            style,
        )];
        if let Some(floor) = low {
            spans.push(Span::styled(
                format!("  low · below {}", format_credits(floor)),
                Style::default().fg(t.badge_text).bg(t.warning),
            ));
        }
        spans
    };
    match (c.value, &c.error) {
        (Some(v), None) => {
            first.extend(balance(v));
            if c.loading {
                first.push(Span::styled("  refreshing…", Style::default().fg(t.muted)));
            }
        }
        (Some(v), Some(err)) => {
            let age = c
                .updated
                .map(|t| app.now.saturating_duration_since(t))
                .unwrap_or_default();
            let age = if age.as_secs() < 60 {
                "<1 min".to_owned()
            } else {
                format!("{} min", age.as_secs() / 60)
            };
            first.extend(balance(v));
            first.push(Span::styled(
                format!("  stale · {age} old"),
                Style::default().fg(t.warning),
            ));
            if c.loading {
                first.push(Span::styled(" · refreshing…", Style::default().fg(t.muted)));
            }
            second = Some((format!("refresh failed: {err}"), t.warning));
        }
        (None, Some(err)) => {
            first.push(Span::styled(
                "balance unknown",
                Style::default().fg(t.error).bold(),
            ));
            if c.loading {
                first.push(Span::styled(" · refreshing…", Style::default().fg(t.muted)));
            }
            second = Some((err.clone(), t.error));
        }
        (None, None) => first.push(Span::styled(
            "reading the balance…",
            Style::default().fg(t.muted),
        )),
    }
    let mut lines = vec![Line::from(first)];
    match second {
        // One row, cut with an ellipsis (the whole reason is in the log and on F5).
        Some((text, color)) => lines.push(Line::from(ellipsize(&text, width)).fg(color)),
        None if !compact => lines.push(Line::from("F5 refreshes · F4 account").fg(t.muted)),
        None => {}
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The selected image over the whole screen, with a title row (or the message, when there is
/// one: it would be hidden otherwise) and the status line.
pub fn fullscreen(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let history = app.screen == Screen::History;
    let task = app.tasks.selected().filter(|_| !history);
    let n = task.map(|t| t.images.len()).unwrap_or(0);
    let title_row = Rect {
        height: 1.min(area.height),
        ..area
    };
    if let Some(msg) = &app.message {
        let (title, color) = message_look(t, msg.level);
        let text = format!(" {title}: {} (Esc dismisses)", msg.text);
        frame.render_widget(
            Paragraph::new(ellipsize(&text, area.width as usize))
                .style(Style::default().fg(t.badge_text).bg(color)),
            title_row,
        );
    } else {
        let mut title = match (task, app.history.selected_entry()) {
            (Some(t), _) => format!(
                " {} · {} · image {}/{n}",
                t.id,
                t.size,
                app.tasks.variant + 1
            ),
            (None, Some(e)) if history => format!(
                " {} · {} · image {}/{} · {}",
                escape_controls(&e.task_id),
                e.params.size,
                app.history.variant + 1,
                e.images.len(),
                history::local_time(e.created_at, app.config.utc_offset_secs, "%Y-%m-%d %H:%M")
            ),
            _ => String::new(),
        };
        if let Some(f) = app.preview_image() {
            title.push_str(&format!(" · {}×{}", f.source_dims.0, f.source_dims.1));
        }
        frame.render_widget(
            Paragraph::new(ellipsize(&title, area.width as usize))
                .style(Style::default().add_modifier(Modifier::REVERSED)),
            title_row,
        );
    }
    let image_area = layout::fullscreen_image_area(area);
    if app.preview_image().is_none() {
        let text = app
            .preview_error()
            .map(|e| format!("cannot show the image: {e}"))
            .unwrap_or_else(|| "decoding…".into());
        frame.render_widget(
            Paragraph::new(ellipsize(&text, image_area.width as usize))
                .alignment(Alignment::Center)
                .fg(t.muted),
            layout::centered(image_area, (image_area.width, 1)),
        );
    }
    let status = Rect::new(
        area.x,
        area.bottom().saturating_sub(1),
        area.width,
        1.min(area.height),
    );
    let took = task
        .map(|t| format!("  took {}", format_elapsed(t.elapsed(app.now))))
        .unwrap_or_default();
    status_line_with(app, frame, status, &took);
}

/// The key bound now to a references command whose default is `default`.
fn refs_key(app: &App, default: &str) -> String {
    let place = crate::tui::keys::Place::Pane(crate::tui::app::Focus::References);
    crate::tui::keys_table::key_in(&app.config.keys, place, default)
}
