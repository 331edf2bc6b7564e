//! The account screen: the account in use and its balance, the balance over 30 days (a
//! sparkline), the spending per day (a bar chart), the recent tasks with what they cost,
//! and `config.toml`'s profiles. Its windows (the profile form, the remove question) are in
//! `profile_form.rs`.
//!
//! Keys are only ever shown masked, as the worker sends them.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::charts::{balance, ellipsize_line, spending, usage_placeholder};
use super::history::{local_time, status_look};
use super::layout::{self, wrap};
use super::{ellipsize, pane_block, width as text_width};
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::Status;
use crate::store::text::escape_controls;
use crate::store::usage::Usage;
use crate::tui::action::ProfileSummary;
use crate::tui::app::App;
use crate::tui::app::account::Pending;
use crate::tui::app::profile_form::Service;

/// Where the account screen's parts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Panes {
    info: Rect,
    balance: Rect,
    spending: Rect,
    profiles: Rect,
    tasks: Rect,
    status: Rect,
}

fn panes(area: Rect) -> Panes {
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let compact = layout::is_compact(area);
    let top_h = if compact {
        9
    } else {
        (main.height * 2 / 5).max(12)
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(0)]).areas(main);
    let left_w = if compact {
        main.width / 2
    } else {
        main.width * 2 / 5
    };
    let [info, charts] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(0)]).areas(top);
    let balance_h = if compact { 4 } else { (top_h * 2 / 5).max(4) };
    let [balance, spending] =
        Layout::vertical([Constraint::Length(balance_h), Constraint::Min(0)]).areas(charts);
    let [profiles, tasks] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(0)]).areas(bottom);
    Panes {
        info,
        balance,
        spending,
        profiles,
        tasks,
        status,
    }
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let p = panes(area);
    info(app, frame, p.info);
    balance(app, frame, p.balance);
    spending(app, frame, p.spending);
    profiles(app, frame, p.profiles);
    tasks(app, frame, p.tasks);
    super::status_line_with(app, frame, p.status, "");
    super::message(app, frame, p.profiles);
}

const LABEL: usize = 10;

fn row(t: &Theme, label: &str, value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{label:<LABEL$}"),
        Style::default().fg(t.muted),
    )];
    spans.extend(value);
    Line::from(spans)
}

/// `just now`, `3 min ago`, `2 h ago`.
fn ago(d: Duration) -> String {
    match d.as_secs() {
        s if s < 60 => "just now".to_owned(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}

fn info(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let block = pane_block(t, "Account", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let a = &app.config.account;
    let width = inner.width as usize;
    let value_w = width.saturating_sub(LABEL);
    let fit = |s: &str| ellipsize(&escape_controls(s), value_w);
    let default = app
        .account
        .profiles
        .as_ref()
        .and_then(|v| v.default.clone());
    let profile = match &a.profile {
        Some(name) if default.as_deref() == Some(name.as_str()) => {
            vec![Span::raw(fit(&format!("{name} · default")))]
        }
        Some(name) => vec![Span::raw(fit(name))],
        None => vec![Span::styled("none", Style::default().fg(t.muted))],
    };
    let key = match &a.masked_key {
        Some(masked) => vec![Span::raw(fit(&format!("{masked} ({})", a.key_source)))],
        None => vec![Span::styled("none", Style::default().fg(t.error))],
    };
    let c = &app.credits;
    let low = app.low_balance();
    let balance = match (c.value, &c.error) {
        (Some(v), _) => {
            let style = if low.is_some() {
                Style::default().fg(t.warning).bold()
            } else {
                Style::default().bold()
            };
            let mut spans = vec![Span::styled(
                format!("{} credits", format_credits(v)),
                style,
            )];
            if let Some(read) = c.updated {
                let when = ago(app.now.saturating_duration_since(read));
                spans.push(Span::styled(
                    format!(" · read {when}"),
                    Style::default().fg(t.muted),
                ));
            }
            if low.is_some() {
                spans.push(Span::styled(" · low", Style::default().fg(t.warning)));
            }
            if c.error.is_some() {
                spans.push(Span::styled(" · stale", Style::default().fg(t.warning)));
            }
            spans
        }
        (None, Some(err)) => vec![Span::styled(
            ellipsize(&format!("unknown: {err}"), value_w),
            Style::default().fg(t.error),
        )],
        (None, None) => vec![Span::styled("reading…", Style::default().fg(t.muted))],
    };
    let low_at = match a.low_balance {
        Some(t) => vec![Span::raw(format!("{} credits", format_credits(t)))],
        None => vec![Span::styled(
            ellipsize("not set (low_balance in config.toml)", value_w),
            Style::default().fg(t.muted),
        )],
    };
    let callback = match &a.callback_url {
        Some(url) => vec![Span::raw(fit(url))],
        None => vec![Span::styled(
            "no listener (polling)",
            Style::default().fg(t.muted),
        )],
    };
    let spent = match (&app.usage.data, &app.usage.error) {
        (Some(u), _) => vec![Span::raw(fit(&format!(
            "{} cr · {} {} · {} days",
            format_credits(u.spent),
            u.tasks.len(),
            if u.tasks.len() == 1 { "task" } else { "tasks" },
            u.days.len()
        )))],
        (None, Some(_)) => vec![Span::styled("unknown", Style::default().fg(t.error))],
        (None, None) => vec![Span::styled("reading…", Style::default().fg(t.muted))],
    };
    let per_image = app
        .usage
        .data
        .as_ref()
        .and_then(Usage::cost_per_image)
        .map_or_else(
            || {
                vec![Span::styled(
                    "no cost observed yet",
                    Style::default().fg(t.muted),
                )]
            },
            |c| {
                vec![Span::raw(fit(&format!(
                    "~{} credits (as observed)",
                    format_credits(c)
                )))]
            },
        );
    let lines = vec![
        row(t, "Profile", profile),
        row(t, "Key", key),
        row(t, "Service", vec![Span::raw(fit(&a.base_url))]),
        row(t, "Balance", balance),
        row(t, "Low at", low_at),
        row(t, "Callback", callback),
        row(t, "Spent", spent),
        row(t, "Per image", per_image),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The service a profile's URLs are, as people know it; else its host.
fn service_label(p: &ProfileSummary) -> String {
    match Service::of(&p.base_url, p.upload_url.as_deref()) {
        Service::Preset(preset) => crate::tui::app::profile_form::service_name(preset).to_owned(),
        Service::Custom => {
            let rest = p
                .base_url
                .split_once("://")
                .map_or(&*p.base_url, |(_, r)| r);
            rest.split('/').next().unwrap_or(rest).to_owned()
        }
    }
}

fn pending_text(pending: &Pending) -> String {
    match pending {
        Pending::Save { name, .. } => format!("saving \"{name}\"…"),
        Pending::Remove { name } => format!("removing \"{name}\"…"),
        Pending::Use { name } => format!("switching to \"{name}\"…"),
        Pending::Key {
            name,
            balance: None,
        } => format!("checking the key for \"{name}\"…"),
        Pending::Key { name, .. } => format!("the key works; saving it in \"{name}\"…"),
    }
}

fn profiles(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let v = &app.account;
    let focused = app.overlay.is_none();
    let mut title = "Profiles".to_owned();
    if let Some(view) = &v.profiles {
        title.push_str(&format!(" · {}", view.path.display()));
    }
    if v.loading {
        title.push_str(" · reading…");
    }
    let title = ellipsize(
        &escape_controls(&title),
        area.width.saturating_sub(4) as usize,
    );
    let block = pane_block(t, &title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some(why) = &v.error {
        for l in wrap(&format!("✗ {why}"), width).into_iter().take(3) {
            lines.push(Line::from(l).fg(t.error));
        }
    }
    let mut tail: Vec<Line<'static>> = Vec::new();
    if let Some((_, pending)) = &v.op {
        tail.push(Line::from(ellipsize(&pending_text(pending), width)).fg(t.accent));
    }
    if v.testing.is_some() {
        tail.push(Line::from(ellipsize("testing the connection…", width)).fg(t.accent));
    }
    if let Some(view) = &v.profiles {
        for w in &view.warnings {
            for l in wrap(&format!("⚠ {}", escape_controls(w)), width) {
                tail.push(Line::from(l).fg(t.warning));
            }
        }
    }
    match &v.profiles {
        None if v.error.is_none() => lines.push(Line::from("reading config.toml…").fg(t.muted)),
        None => {}
        Some(view) if view.profiles.is_empty() => {
            let add = crate::tui::keys_table::key_in(
                &app.config.keys,
                crate::tui::keys::Place::Account,
                "a",
            );
            let text =
                format!("no profile yet: {add} adds one (the key in use comes from elsewhere)");
            for l in wrap(&text, width) {
                lines.push(Line::from(l).fg(t.muted));
            }
        }
        Some(view) => {
            let rows = (inner.height as usize)
                .saturating_sub(lines.len() + tail.len())
                .max(1);
            let first = (v.selected + 1).saturating_sub(rows);
            let name_w = view
                .profiles
                .iter()
                .map(|p| text_width(&p.name))
                .max()
                .unwrap_or(0)
                .clamp(4, 16);
            for (i, p) in view.profiles.iter().enumerate().skip(first).take(rows) {
                let active = app.config.account.profile.as_deref() == Some(p.name.as_str());
                let is_default = view.default.as_deref() == Some(p.name.as_str());
                let mark = if active { "● " } else { "  " };
                let name = ellipsize(&escape_controls(&p.name), name_w);
                let pad = name_w.saturating_sub(text_width(&name));
                let key = p.masked_key.clone().unwrap_or_else(|| "no key".into());
                let mut tags = Vec::new();
                if is_default {
                    tags.push("default");
                }
                if p.has_webhook_key {
                    tags.push("webhook");
                }
                let tags = if tags.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", tags.join(" · "))
                };
                let rest = ellipsize(
                    &format!("  {key:<10} {}{tags}", escape_controls(&service_label(p))),
                    width.saturating_sub(2 + name_w),
                );
                let mut line = Line::from(vec![
                    Span::styled(mark, Style::default().fg(t.ok).bold()),
                    Span::styled(
                        format!("{name}{}", " ".repeat(pad)),
                        Style::default().bold(),
                    ),
                    Span::styled(
                        rest,
                        if p.masked_key.is_some() {
                            Style::default()
                        } else {
                            Style::default().fg(t.muted)
                        },
                    ),
                ]);
                if i == v.selected && focused {
                    line = line.style(Style::default().add_modifier(Modifier::REVERSED));
                }
                lines.push(line);
            }
        }
    }
    let room = (inner.height as usize).saturating_sub(lines.len());
    let skip = tail.len().saturating_sub(room);
    lines.extend(tail.into_iter().skip(skip));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn tasks(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let usage = app.usage.data.as_ref();
    let block = pane_block(t, "Recent tasks · cost", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(u) = usage.filter(|u| !u.tasks.is_empty()) else {
        let line = usage_placeholder(t, usage, app.usage.error.as_deref(), "no task in 30 days");
        frame.render_widget(Paragraph::new(ellipsize_line(line, width)), inner);
        return;
    };
    let offset = app.config.utc_offset_secs;
    let wide = width >= 60;
    let lines: Vec<Line<'static>> = u
        .tasks
        .iter()
        .take(inner.height as usize)
        .map(|task| {
            let (word, color) = status_look(t, task.status);
            // Narrow: a sign for the status, so that the prompt has room.
            let status = match (wide, task.status) {
                (true, _) => format!("{word:<10} "),
                (false, Status::Success) => "✓ ".to_owned(),
                (false, Status::Generating) => "… ".to_owned(),
                (false, Status::Expired) => "- ".to_owned(),
                (false, _) => "✗ ".to_owned(),
            };
            let cost = match task.cost {
                Some(c) => format!("{} cr", format_credits(c)),
                None => "—".to_owned(),
            };
            let when = local_time(task.created_at, offset, "%m-%d %H:%M");
            let prompt = match task.prompt.as_deref().map(str::trim) {
                Some(p) if !p.is_empty() => escape_controls(p).into_owned(),
                _ => "(references only)".to_owned(),
            };
            let head = format!("{when}  ");
            let cost = format!("{cost:>6}  ");
            let used = text_width(&head) + text_width(&status) + text_width(&cost);
            Line::from(vec![
                Span::styled(head, Style::default().fg(t.muted)),
                Span::styled(status, Style::default().fg(color)),
                Span::styled(
                    cost,
                    if task.cost.is_some() {
                        Style::default().bold()
                    } else {
                        Style::default().fg(t.muted)
                    },
                ),
                Span::raw(ellipsize(&prompt, width.saturating_sub(used))),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
