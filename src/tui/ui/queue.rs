//! The queue on screen: its rows above the tasks, the staging dialog and the start question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};

use super::ellipsize;
use super::layout::wrap;
use super::overlays::{answer_keys, simple};
use crate::api::{Size, Variants};
use crate::store::text::escape_controls;
use crate::tui::app::App;
use crate::tui::app::low_balance::Shortfall;
use crate::tui::app::staging::StageForm;

/// The tasks pane's title: the queue's size and state follow the tasks'.
pub fn title(app: &App) -> String {
    let mut title = match app.tasks.list.len() {
        0 => "Tasks".to_owned(),
        n => format!("Tasks ({n})"),
    };
    let q = &app.queue;
    if !q.entries.is_empty() {
        let state = if q.running {
            "▶ running"
        } else {
            "⏸ paused"
        };
        title.push_str(&format!(" · queue {} {state}", q.entries.len()));
    }
    title
}

/// How many rows the queue takes in a tasks pane of `height` rows: at most half of it.
pub fn rows(app: &App, height: u16) -> u16 {
    let n = app.queue.entries.len();
    if n == 0 {
        return 0;
    }
    // Half the pane when there are tasks to show below it.
    let room = if app.tasks.list.is_empty() {
        usize::from(height.max(1))
    } else {
        usize::from((height / 2).max(1))
    };
    n.min(room) as u16
}

/// One row per entry shown (the selected one in view); the last says how many are not.
pub fn lines(app: &App, height: u16, width: usize, focused: bool) -> Vec<Line<'static>> {
    let t = &app.config.theme;
    let q = &app.queue;
    let room = usize::from(rows(app, height));
    if room == 0 {
        return Vec::new();
    }
    let more = q.entries.len() > room;
    let shown = if more { room - 1 } else { room };
    let first = q.cursor.map_or(0, |c| (c + 1).saturating_sub(shown.max(1)));
    let mut lines = Vec::new();
    for (i, e) in q.entries.iter().enumerate().skip(first).take(shown) {
        let selected = q.cursor == Some(i);
        let marker = if selected { "▶ " } else { "  " };
        let state = if e.job.is_some() {
            "SENDING"
        } else if q.running {
            "QUEUED"
        } else {
            "PAUSED"
        };
        let head = format!(
            "{marker}{:>2}. {state} {} ×{} ",
            i + 1,
            e.draft.size,
            e.draft.variants
        );
        let prompt = e.draft.prompt.as_deref().unwrap_or("(references only)");
        let prompt = ellipsize(
            &escape_controls(prompt),
            width.saturating_sub(super::width(&head)),
        );
        let style = if selected && focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else if selected {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        lines.push(
            Line::from(vec![
                Span::raw(format!("{marker}{:>2}. ", i + 1)),
                Span::styled(state, Style::default().fg(t.accent).bold()),
                Span::raw(format!(" {} ×{} ", e.draft.size, e.draft.variants)),
                Span::raw(prompt),
            ])
            .style(style),
        );
    }
    if more {
        let rest = q.entries.len() - shown;
        lines.push(Line::from(format!("  … {rest} more queued")).fg(t.muted));
    }
    lines
}

fn check(on: bool, cursor: bool, label: &str) -> Span<'static> {
    let text = format!("[{}]{label}", if on { 'x' } else { ' ' });
    if cursor {
        Span::styled(text, Style::default().add_modifier(Modifier::REVERSED))
    } else {
        Span::raw(text)
    }
}

pub fn stage_dialog(app: &App, frame: &mut Frame, area: Rect, form: &StageForm) {
    let t = &app.config.theme;
    let width = 64u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let prompt = form.draft.prompt.as_deref().unwrap_or("(references only)");
    let mut lines: Vec<Line> = wrap(&format!("\"{}\"", escape_controls(prompt)), width)
        .into_iter()
        .take(3)
        .map(Line::from)
        .collect();
    lines.push(Line::from(""));
    let mut aspects = vec![Span::raw("aspects   ")];
    for (i, size) in Size::ALL.iter().enumerate() {
        aspects.push(check(form.sizes[i], form.row == i, size.as_str()));
        aspects.push(Span::raw(" "));
    }
    lines.push(Line::from(aspects));
    let mut variants = vec![Span::raw("variants  ")];
    for (i, v) in Variants::ALL.iter().enumerate() {
        variants.push(check(form.variants[i], form.row == 3 + i, &v.to_string()));
        variants.push(Span::raw(" "));
    }
    lines.push(Line::from(variants));
    lines.push(Line::from(""));
    let n = form.drafts().len();
    let what = if n == 1 { "entry" } else { "entries" };
    lines.push(Line::from(format!("{n} {what}: {}", app.estimate(form.images()))).fg(t.accent));
    lines.push(Line::from("Staging spends nothing: F6 starts the queue.").fg(t.muted));
    lines.push(Line::from("←→↑↓ move · Space ticks · Enter stages · Esc cancels").fg(t.muted));
    simple(frame, area, " Stage in the queue ", lines, 64, t.accent);
}

pub fn confirm_queue(app: &App, frame: &mut Frame, area: Rect, shortfall: Option<&Shortfall>) {
    let t = &app.config.theme;
    let width = 64u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let q = &app.queue;
    let n = q.waiting().count();
    let what = if n == 1 { "entry" } else { "entries" };
    let mut lines = vec![
        Line::from(format!("Start the queue: {n} {what}.")),
        Line::from(app.estimate(q.images())).fg(t.accent),
    ];
    let pace = format!(
        "At the service's pace (20 per 10 s), at most {} generating at once.",
        q.parallel
    );
    lines.extend(
        wrap(&pace, width)
            .into_iter()
            .map(|l| Line::from(l).fg(t.muted)),
    );
    if let Some(s) = shortfall {
        lines.push(Line::from(""));
        lines.extend(wrap(&s.question(), width).into_iter().map(Line::from));
        lines.extend(
            wrap(&s.basis(), width)
                .into_iter()
                .map(|l| Line::from(l).fg(t.muted)),
        );
    }
    lines.push(Line::from(""));
    let go = if shortfall.is_some() {
        "start anyway"
    } else {
        "start"
    };
    lines.push(answer_keys(&[("y", go), ("n", "not now")]));
    simple(frame, area, " Start the queue? ", lines, 64, t.warning);
}
