//! The account screen's windows: the profile form (add, edit, a new key) and the remove
//! question. What is typed in a key field is shown as bullets only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::ellipsize;
use super::layout::{dialog, wrap};
use super::overlays::{answer_keys, frame_block, input_text};
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::text::escape_controls;
use crate::tui::app::App;
use crate::tui::app::profile_form::{Field, FormKind, ProfileForm};

/// The profile form: add, edit, or a new key.
pub fn form(t: &Theme, frame: &mut Frame, area: Rect, form: &ProfileForm) {
    const W: u16 = 76;
    let width = W.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let label_w = 12;
    let title = match form.kind {
        FormKind::Add => " Add a profile ".to_owned(),
        FormKind::Edit => format!(" Edit profile \"{}\" ", escape_controls(form.name.text())),
        FormKind::Key => format!(" New key for \"{}\" ", escape_controls(form.name.text())),
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    if form.kind == FormKind::Key {
        for l in wrap(
            "Paste the new key. It is checked with the service first; only a key that works replaces the old one.",
            width,
        ) {
            lines.push(Line::from(l).fg(t.muted));
        }
        lines.push(Line::from(""));
    }
    let idle = form.waiting.is_none();
    for field in form.fields() {
        let focused = *field == form.field && idle;
        let label_style = if focused {
            Style::default().fg(t.accent).bold()
        } else {
            Style::default()
        };
        let mut spans = vec![Span::styled(
            format!("{:<label_w$}", field.label()),
            label_style,
        )];
        match form.input(*field) {
            Some(input) => spans.extend(
                input_text(
                    t,
                    input,
                    *field == Field::Key,
                    focused,
                    width.saturating_sub(label_w),
                )
                .spans,
            ),
            None => {
                let style = if focused {
                    Style::default().fg(t.accent).bold()
                } else {
                    Style::default()
                };
                spans.push(Span::styled(if focused { "‹ " } else { "  " }, style));
                spans.push(Span::styled(form.service.label(), style));
                spans.push(Span::styled(if focused { " ›" } else { "" }, style));
            }
        }
        lines.push(Line::from(spans));
    }
    if form.kind == FormKind::Add {
        lines.push(
            Line::from(ellipsize(
                "the key may stay empty (k sets it later); upload URL empty: the base URL",
                width,
            ))
            .fg(t.muted),
        );
    }
    lines.push(Line::from(""));
    let status = match (&form.error, form.waiting, form.works) {
        (_, Some(_), Some(b)) => Some((
            format!("✓ key works: {} credits — saving…", format_credits(b)),
            t.ok,
        )),
        (_, Some(_), None) if form.kind == FormKind::Edit => {
            Some(("saving…".to_owned(), t.running))
        }
        (_, Some(_), None) if !form.key.is_empty() => {
            Some(("checking the key with the service…".to_owned(), t.running))
        }
        (_, Some(_), None) => Some(("saving…".to_owned(), t.running)),
        (Some(why), None, _) => Some((format!("✗ {why}"), t.error)),
        (None, None, _) => None,
    };
    if let Some((text, color)) = status {
        for l in wrap(&text, width) {
            lines.push(Line::from(l).fg(color));
        }
        lines.push(Line::from(""));
    }
    let enter = match form.kind {
        FormKind::Edit => "save",
        FormKind::Key => "check and save",
        FormKind::Add if form.key.is_empty() => "save",
        FormKind::Add => "check the key and save",
    };
    let mut keys = vec![("Enter", enter)];
    if form.fields().len() > 1 {
        keys.push(("Tab", "next field"));
    }
    keys.push(("Esc", "cancel"));
    lines.push(answer_keys(&keys));
    let rect = dialog(area, W, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(frame_block(&title, t.accent)),
        rect,
    );
}

/// Whether to remove a profile: `y` removes, anything else keeps.
pub fn confirm_remove(app: &App, frame: &mut Frame, area: Rect, name: &str) {
    let t = &app.config.theme;
    const W: u16 = 64;
    let width = W.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let file = app
        .account
        .profiles
        .as_ref()
        .map(|v| v.path.display().to_string())
        .unwrap_or_else(|| "config.toml".into());
    let name = escape_controls(name);
    let mut text = vec![format!(
        "Remove profile \"{name}\" from {file}? Its saved key goes with it."
    )];
    if app.config.account.profile.as_deref() == Some(&*name) {
        text.push(
            "It is the profile in use: this run keeps using its key until you switch.".into(),
        );
    }
    let mut lines: Vec<Line<'static>> = Vec::new();
    for t in text {
        lines.extend(wrap(&t, width).into_iter().map(Line::from));
    }
    lines.push(Line::from(""));
    lines.push(answer_keys(&[("y", "remove"), ("n", "keep")]));
    let rect = dialog(area, W, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(frame_block(" Remove a profile? ", t.warning)),
        rect,
    );
}
