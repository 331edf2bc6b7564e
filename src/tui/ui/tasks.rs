//! The output side: the task list and the preview pane around the inline image.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::layout;
use super::{ellipsize, focused, format_elapsed, pane_block, status_color, width as text_width};
use crate::config::Theme;
use crate::tui::action::SubmitStage;
use crate::tui::app::tasks::{Extras, ImageSlot, TaskView};
use crate::tui::app::{App, Focus};

pub fn tasks(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let is_focused = focused(app, Focus::Tasks);
    let title = super::queue::title(app);
    let block = pane_block(t, &title, is_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = super::queue::lines(app, inner.height, width, is_focused);
    if let Some(s) = &app.submission {
        let text = match &s.stage {
            None => "⋯ preparing the submission…".to_owned(),
            Some(SubmitStage::CheckingBalance) => "⋯ reading the balance first…".to_owned(),
            Some(SubmitStage::Uploading { index, total, name }) => {
                format!("⇡ uploading {name} ({}/{total})…", index + 1)
            }
            Some(SubmitStage::Creating) => "⋯ creating the task…".to_owned(),
        };
        lines.push(Line::from(ellipsize(&text, width)).fg(t.accent));
    }
    if app.tasks.list.is_empty() && app.submission.is_none() && app.queue.entries.is_empty() {
        let submit = app.config.keys.first(crate::config::keys::Command::Submit);
        let text = format!("No tasks yet: {submit} submits.");
        lines.push(Line::from(ellipsize(&text, width)).fg(t.muted));
    }
    let (first, count) = layout::tasks_window(app, inner.height);
    for (i, task) in app.tasks.list.iter().enumerate().skip(first).take(count) {
        let selected = i == app.tasks.selected && app.queue.cursor.is_none();
        let (l1, l2) = task_lines(app, task, selected, width);
        let style = if selected && is_focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else if selected {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        lines.push(l1.style(style));
        lines.push(l2);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Columns the prompt keeps on a task's first row before the options move to the second.
const PROMPT_ROOM: usize = 16;

/// Two rows per task: status word, aspect, elapsed time and prompt; then the progress gauge,
/// the images, or the error.
fn task_lines(
    app: &App,
    task: &TaskView,
    selected: bool,
    width: usize,
) -> (Line<'static>, Line<'static>) {
    let t = &app.config.theme;
    let marker = if selected { "▶ " } else { "  " };
    let status = task.status.as_str();
    let elapsed = format_elapsed(task.elapsed(app.now));
    let asked = extras(task.variants, task.extras);
    let head = format!("{marker}{status} {} {elapsed} ", task.size);
    // Beside the aspect where the prompt keeps room; in a narrow pane, first on the second row.
    let beside = !asked.is_empty()
        && width.saturating_sub(text_width(&head) + text_width(&asked) + 1) >= PROMPT_ROOM;
    let (size, head) = if beside {
        (
            format!(" {} {asked} ", task.size),
            format!("{head}{asked} "),
        )
    } else {
        (format!(" {} ", task.size), head)
    };
    let prompt = ellipsize(&task.prompt, width.saturating_sub(text_width(&head)));
    let l1 = Line::from(vec![
        Span::raw(marker),
        Span::styled(
            status,
            Style::default().fg(status_color(t, task.status)).bold(),
        ),
        Span::raw(size),
        Span::styled(elapsed, Style::default().fg(t.muted)),
        Span::raw(" "),
        Span::raw(prompt),
    ]);
    let mut l2 = Line::from("  ");
    let mut room = width.saturating_sub(2);
    if !beside && !asked.is_empty() && room > text_width(&asked) + 10 {
        room -= text_width(&asked) + 3;
        l2.spans.push(Span::raw(format!("{asked} · ")));
    }
    let body: Line<'static> = if let Some(err) = &task.error {
        Line::from(ellipsize(err, room)).fg(t.error)
    } else if let Some(note) = &task.note {
        Line::from(ellipsize(note, room)).fg(t.warning)
    } else if task.is_generating() {
        gauge(t, task.progress, room)
    } else {
        Line::from(images_summary(app, task, selected, room)).fg(t.ok)
    };
    l2.spans
        .extend(body.spans.into_iter().map(|s| s.patch_style(body.style)));
    (l1, l2)
}

/// What sets a task apart beyond its prompt and aspect, only what was asked for:
/// `×4 ⧉2 mask +enh` (four variants, two references, a mask, the prompt enhanced).
pub(super) fn extras(variants: u32, e: Extras) -> String {
    let mut parts = Vec::new();
    if variants > 1 {
        parts.push(format!("×{variants}"));
    }
    if e.refs > 0 {
        parts.push(format!("⧉{}", e.refs));
    }
    if e.mask {
        parts.push("mask".to_owned());
    }
    if e.enhance {
        parts.push("+enh".to_owned());
    }
    parts.join(" ")
}

/// `██████░░░░░░  45%`, fed by the service's progress.
fn gauge(t: &Theme, progress: f64, width: usize) -> Line<'static> {
    let pct = (progress.clamp(0.0, 1.0) * 100.0).round() as usize;
    let bar_w = width.saturating_sub(6).min(40);
    let filled = (bar_w * pct / 100).min(bar_w);
    Line::from(vec![
        Span::styled("█".repeat(filled), Style::default().fg(t.running)),
        Span::styled("░".repeat(bar_w - filled), Style::default().fg(t.muted)),
        Span::raw(format!(" {pct:>3}%")),
    ])
}

fn images_summary(app: &App, task: &TaskView, selected: bool, width: usize) -> String {
    let n = task.images.len();
    let saved = task
        .images
        .iter()
        .filter(|i| matches!(i, ImageSlot::Saved(_)))
        .count();
    let failed = task.images.iter().find_map(|i| match i {
        ImageSlot::Failed(e) => Some(e.as_str()),
        _ => None,
    });
    let plural = if n == 1 { "image" } else { "images" };
    let mut text = match failed {
        Some(e) => format!("download failed ({} retries): {e}", retry_key(app)),
        None if saved == n => format!("{n} {plural} saved"),
        None => format!("downloading {saved}/{n}…"),
    };
    if task.via_callback {
        text.push_str(" · via callback");
    }
    if selected && n > 1 {
        text = format!("◀ {}/{n} ▶  {text}", app.tasks.variant + 1);
    }
    ellipsize(&text, width)
}

pub fn preview(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let task = app.tasks.selected();
    let mut title = "Preview".to_owned();
    if let Some(shown) = task.filter(|task| !task.images.is_empty()) {
        title.push_str(&format!(
            " {}/{}",
            app.tasks.variant + 1,
            shown.images.len()
        ));
    }
    if let Some(f) = app.preview_image() {
        title.push_str(&format!(" · {}×{}", f.source_dims.0, f.source_dims.1));
    }
    let block = pane_block(t, &title, focused(app, Focus::Preview));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.preview_target().is_some() {
        return;
    }
    let text = match task {
        _ if app.overlay.is_some() && app.preview_image().is_some() => {
            "(hidden while the dialog is open)".to_owned()
        }
        None => "Finished images appear here.".to_owned(),
        Some(t) if t.is_generating() => format!("{} {:.0}%…", t.status, t.progress * 100.0),
        Some(t) if t.status.is_failure() => "No image: the task failed.".to_owned(),
        Some(t) => match t.images.get(app.tasks.variant) {
            None => "No image in the result.".to_owned(),
            Some(ImageSlot::Pending) => "Downloading…".to_owned(),
            Some(ImageSlot::Failed(e)) => format!("Download failed: {e} (p on the task retries)"),
            Some(ImageSlot::Saved(_)) => match app.preview_error() {
                Some(e) => format!("Cannot show the image: {e}"),
                None => "Decoding…".to_owned(),
            },
        },
    };
    super::centered_note(t, frame, inner, &text);
}

/// The key bound now to the tasks pane's retry.
fn retry_key(app: &App) -> String {
    let place = crate::tui::keys::Place::Pane(crate::tui::app::Focus::Tasks);
    crate::tui::keys_table::key_in(&app.config.keys, place, "p")
}
