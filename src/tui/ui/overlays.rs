//! Windows over the panes: help, file browser, URL input, key prompt, quit question (the
//! history's details and delete question are drawn in `history.rs`).
//! While one is open the inline image is hidden (the preview never sits under a window).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::layout::{dialog, wrap};
use super::{ellipsize, format_bytes, width as text_width};
use crate::api::types::MAX_FILE_BYTES;
use crate::config::Theme;
use crate::store::text::escape_controls;
use crate::tui::action::SubmitStage;
use crate::tui::app::browser::{Browser, Row};
use crate::tui::app::line::LineInput;
use crate::tui::app::refs::Slot;
use crate::tui::app::{App, AppConfig, Overlay};
use crate::tui::{keys, keys_table};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(app, frame, area, *scroll),
        Some(Overlay::Browser(b)) => browser(t, frame, area, b),
        Some(Overlay::Url { slot, input, base }) => {
            let what = if *slot == Slot::Mask {
                "the mask"
            } else {
                "a reference"
            };
            let width = 72u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
            let lines = vec![
                Line::from(format!("A URL (https://…) or a file path for {what}:")),
                input_line(t, input, false),
                Line::from(ellipsize(
                    &format!("Paths are relative to {}", base.display()),
                    width,
                ))
                .fg(t.muted),
                Line::from("Enter adds · Esc cancels · paste several lines to add each")
                    .fg(t.muted),
            ];
            simple(frame, area, " Add by URL or path ", lines, 72, t.accent);
        }
        Some(Overlay::KeyPrompt { input, reason }) => {
            let width = 72u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
            let mut lines: Vec<Line> = wrap(reason, width)
                .into_iter()
                .map(|l| Line::from(l).fg(t.error))
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::from("API key to use for the rest of this run:"));
            lines.push(input_line(t, input, true));
            lines.push(Line::from(""));
            lines.push(Line::from("Kept in memory only, never written or logged.").fg(t.muted));
            lines.push(Line::from("Enter uses it · Esc goes on without").fg(t.muted));
            simple(
                frame,
                area,
                " The API key was refused (401) ",
                lines,
                72,
                t.error,
            );
        }
        Some(Overlay::ConfirmQuit) => {
            let width = 64u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
            let mut lines: Vec<Line> = wrap(&quit_question(app), width)
                .into_iter()
                .map(Line::from)
                .collect();
            lines.push(Line::from(""));
            lines.push(Line::from(vec![
                Span::styled(" y ", Style::default().add_modifier(Modifier::REVERSED)),
                Span::raw(" quit   "),
                Span::styled(" n ", Style::default().add_modifier(Modifier::REVERSED)),
                Span::raw(" stay"),
            ]));
            simple(frame, area, " Quit? ", lines, 64, t.warning);
        }
        Some(Overlay::Details { entry, scroll }) => {
            super::details::details(app, frame, area, entry, *scroll)
        }
        Some(Overlay::ConfirmDelete {
            task_id,
            prompt,
            files,
        }) => super::details::confirm_delete(t, frame, area, task_id, prompt, *files),
        Some(Overlay::ProfileForm(form)) => super::profile_form::form(t, frame, area, form),
        Some(Overlay::ConfirmRemove { name }) => {
            super::profile_form::confirm_remove(app, frame, area, name)
        }
        Some(Overlay::ConfirmRerun { draft }) => {
            let width = 64u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
            let prompt = draft.prompt.as_deref().unwrap_or("(references only)");
            let mut lines: Vec<Line> = wrap(
                &format!("Run \"{}\" again as it was?", escape_controls(prompt)),
                width,
            )
            .into_iter()
            .take(4)
            .map(Line::from)
            .collect();
            lines.push(Line::from(app.estimate(draft.variants.count())).fg(t.accent));
            lines.push(Line::from(""));
            lines.push(answer_keys(&[("y", "run again"), ("n", "cancel")]));
            simple(frame, area, " Run again? ", lines, 64, t.warning);
        }
        Some(Overlay::ConfirmSubmit { shortfall, .. }) => {
            let width = 64u16.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
            let mut lines: Vec<Line> = wrap(&shortfall.question(), width)
                .into_iter()
                .map(Line::from)
                .collect();
            lines.extend(
                wrap(&shortfall.basis(), width)
                    .into_iter()
                    .map(|l| Line::from(l).fg(t.muted)),
            );
            lines.push(Line::from(""));
            lines.push(answer_keys(&[("y", "submit anyway"), ("n", "cancel")]));
            simple(frame, area, " Low balance ", lines, 64, t.warning);
        }
        Some(Overlay::Stage(form)) => super::queue::stage_dialog(app, frame, area, form),
        Some(Overlay::ConfirmQueue { shortfall }) => {
            super::queue::confirm_queue(app, frame, area, shortfall.as_ref())
        }
    }
}

/// `[y] submit  [n] cancel`: the keys a question takes.
pub(super) fn answer_keys(keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            format!(" {k} "),
            Style::default().add_modifier(Modifier::REVERSED),
        ));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}

/// What quitting now would leave behind, truthfully: tasks that generate are in the journal
/// (unless it could not be written, which their rows say); a submission still uploading is
/// cancelled; one that reached the service is waited for, so its id is journaled too.
fn quit_question(app: &App) -> String {
    let journal = &app.config.journal;
    let mut parts = Vec::new();
    match app.tasks.generating() {
        0 => {}
        1 => parts.push(format!(
            "1 task is still generating. Its id is kept in {journal}: `fouro status <id>` and `fouro download <id>` fetch the result later."
        )),
        n => parts.push(format!(
            "{n} tasks are still generating. Their ids are kept in {journal}: `fouro status <id>` and `fouro download <id>` fetch the results later."
        )),
    }
    if let Some(s) = &app.submission {
        parts.push(match s.stage {
            Some(SubmitStage::CheckingBalance) => {
                "A submission is reading the balance first: quitting cancels it, and nothing is sent.".to_owned()
            }
            Some(SubmitStage::Uploading { .. }) => {
                "A submission is still uploading its references: quitting cancels it, and no task is created.".to_owned()
            }
            _ => "A submission is on its way to the service: quitting first waits for its answer (up to the request timeout), so that its task id is kept in the journal too.".to_owned(),
        });
    }
    parts.join(" ")
}

/// A one-line input with a block cursor; masked for secrets.
pub(super) fn input_line(t: &Theme, input: &LineInput, masked: bool) -> Line<'static> {
    input_text(t, input, masked, true, usize::MAX)
}

/// A one-line input in `width` columns: its text (bullets when `masked`), with a block
/// cursor when `focused`; a text too long shows the part around the cursor.
pub(super) fn input_text(
    t: &Theme,
    input: &LineInput,
    masked: bool,
    focused: bool,
    width: usize,
) -> Line<'static> {
    let text: Vec<char> = if masked {
        vec!['•'; input.len()]
    } else {
        input.text().chars().collect()
    };
    // The "› " and the cursor's own cell.
    let room = width.saturating_sub(3).max(1);
    let at = input.cursor().min(text.len());
    let first = if focused {
        (at + 1).saturating_sub(room)
    } else {
        0
    };
    let shown = &text[first..text.len().min(first.saturating_add(room + 1))];
    let at = at - first;
    let marker = if focused { "› " } else { "  " };
    if !focused {
        return Line::from(vec![
            Span::styled(marker, Style::default().fg(t.accent)),
            Span::raw(shown.iter().collect::<String>()),
        ]);
    }
    let before: String = shown[..at.min(shown.len())].iter().collect();
    let under: String = shown
        .get(at)
        .map(|c| c.to_string())
        .unwrap_or_else(|| " ".into());
    let after: String = shown
        .get(at + 1..)
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    Line::from(vec![
        Span::styled(marker, Style::default().fg(t.accent)),
        Span::raw(before),
        Span::styled(under, Style::default().add_modifier(Modifier::REVERSED)),
        Span::raw(after),
    ])
}

pub(super) fn frame_block(title: &str, color: Color) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(color))
        .title(Span::styled(
            title.to_owned(),
            Style::default().fg(color).bold(),
        ))
}

pub(super) fn simple(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    w: u16,
    color: Color,
) {
    let rect = dialog(area, w, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(frame_block(title, color)), rect);
}

/// One section of the help: its title, then each binding with its description wrapped to
/// `width` columns.
fn help_section(t: &Theme, section: &keys_table::Section, width: usize) -> Vec<Line<'static>> {
    const KEYS_W: usize = 24;
    let mut lines = vec![Line::from(section.title).fg(t.accent).bold()];
    for b in &section.rows {
        let mut desc = wrap(b.what, width.saturating_sub(KEYS_W + 2).max(10));
        // Keys too long for their column get a row of their own.
        if text_width(&b.keys) >= KEYS_W {
            desc.insert(0, String::new());
        }
        for (i, part) in desc.into_iter().enumerate() {
            let keys = if i == 0 { b.keys.as_str() } else { "" };
            let pad = KEYS_W.saturating_sub(text_width(keys));
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {keys}{}", " ".repeat(pad)),
                    Style::default().bold(),
                ),
                Span::raw(part),
            ]));
        }
    }
    lines
}

/// The help's lines, its box, how far it scrolls, and the line each section starts on, for
/// a screen of `area`.
type HelpLayout = (Vec<Line<'static>>, Rect, u16, Vec<(&'static str, usize)>);

fn help_layout(config: &AppConfig, area: Rect) -> HelpLayout {
    let t = &config.theme;
    let two_columns = area.width >= 150;
    let w = if two_columns {
        area.width.saturating_sub(4).min(170)
    } else {
        100
    };
    let inner_w = w.min(area.width.saturating_sub(4)).saturating_sub(2) as usize;
    let col_w = if two_columns {
        inner_w.saturating_sub(2) / 2
    } else {
        inner_w
    };
    let all = keys_table::sections(&config.keys);
    let titles: Vec<&'static str> = all.iter().map(|s| s.title).collect();
    let sections: Vec<Vec<Line<'static>>> = all.iter().map(|s| help_section(t, s, col_w)).collect();
    // Where each section starts: in two columns, on its column's row.
    let mut starts = Vec::new();
    let mut lines: Vec<Line<'static>> = Vec::new();
    if two_columns {
        // Whole sections to the left until the split is most even.
        let total: usize = sections.iter().map(Vec::len).sum();
        let mut before = 0;
        let split = (0..=sections.len())
            .map(|k| {
                let left = before;
                before += sections.get(k).map_or(0, Vec::len);
                (k, left.max(total - left))
            })
            .min_by_key(|(_, tallest)| *tallest)
            .map_or(0, |(k, _)| k);
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for (k, s) in sections.into_iter().enumerate() {
            let column = if k < split { &mut left } else { &mut right };
            starts.push((titles.get(k).copied().unwrap_or_default(), column.len()));
            column.extend(s);
        }
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).cloned().unwrap_or_default();
            let pad = col_w.saturating_sub(l.width()) + 2;
            let mut spans = l.spans;
            spans.push(Span::raw(" ".repeat(pad)));
            spans.extend(right.get(i).cloned().unwrap_or_default().spans);
            lines.push(Line::from(spans));
        }
    } else {
        for (k, s) in sections.into_iter().enumerate() {
            starts.push((titles.get(k).copied().unwrap_or_default(), lines.len()));
            lines.extend(s);
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(format!("Images: {}", config.protocol)).fg(t.muted));
    lines.push(Line::from(format!("Task ids are kept in {}", config.journal)).fg(t.muted));
    let rect = dialog(area, w, lines.len() as u16 + 2);
    let visible = rect.height.saturating_sub(2);
    let max_scroll = (lines.len() as u16).saturating_sub(visible);
    (lines, rect, max_scroll, starts)
}

/// How far the help scrolls on a screen of `area` (the app keeps its scroll within it).
pub fn help_max_scroll(config: &AppConfig, area: Rect) -> u16 {
    help_layout(config, area).2
}

/// The scroll that shows the keys of `place` first (as far as the help scrolls).
pub fn help_scroll_to(config: &AppConfig, area: Rect, place: keys::Place) -> u16 {
    let (_, _, max, starts) = help_layout(config, area);
    let title = keys::section_of(place);
    let start = starts
        .iter()
        .find(|(t, _)| *t == title)
        .map_or(0, |(_, line)| *line);
    u16::try_from(start).unwrap_or(u16::MAX).min(max)
}

/// Every binding; in two columns when the screen is wide enough.
fn help(app: &App, frame: &mut Frame, area: Rect, scroll: u16) {
    let t = &app.config.theme;
    let (lines, rect, max_scroll, _) = help_layout(&app.config, area);
    let title = crate::tui::keys_table::scroll_title(
        &app.config.keys,
        keys::Place::Help,
        "Keys",
        max_scroll > 0,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(max_scroll), 0))
            .block(frame_block(&title, t.accent)),
        rect,
    );
}

fn browser(t: &Theme, frame: &mut Frame, area: Rect, b: &Browser) {
    let rect = dialog(area, 90, 30);
    let what = if b.slot == Slot::Mask {
        "Choose the mask"
    } else {
        "Add a reference"
    };
    let inner_w = rect.width.saturating_sub(2) as usize;
    let title = format!(
        " {what}: {} ",
        ellipsize(
            &b.dir.display().to_string(),
            inner_w.saturating_sub(what.len() + 6)
        )
    );
    let block = frame_block(&title, t.accent).title_bottom(
        Line::from(" Enter choose · Backspace up · Tab URL · Esc cancel ").fg(t.muted),
    );
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let mut lines = Vec::new();
    let mut filter = input_line(t, &b.filter, false);
    filter.spans[0] = Span::styled("Filter › ", Style::default().fg(t.accent));
    lines.push(filter);
    lines.push(
        Line::from(ellipsize(
            ".jpg .jpeg .png .webp .jfif .pjpeg .pjp · at most 25 MB",
            inner_w,
        ))
        .fg(t.muted),
    );
    let list_h = inner.height.saturating_sub(2) as usize;
    match &b.listing {
        None => lines.push(Line::from("reading the folder…").fg(t.muted)),
        Some(Err(e)) => lines.push(Line::from(ellipsize(e, inner_w)).fg(t.error)),
        Some(Ok(_)) => {
            let rows = b.visible();
            if rows.is_empty() {
                lines.push(Line::from("no image or folder matches").fg(t.muted));
            }
            let first = (b.selected + 1).saturating_sub(list_h.max(1));
            for (i, row) in rows.iter().enumerate().skip(first).take(list_h) {
                let (name, info, color, info_color) = match row {
                    Row::Parent => ("../".to_owned(), String::new(), t.directory, t.muted),
                    Row::Entry(e) if e.is_dir => {
                        (format!("{}/", e.name), String::new(), t.directory, t.muted)
                    }
                    Row::Entry(e) if e.bytes > MAX_FILE_BYTES => {
                        let info = format!("{} · over 25 MB", format_bytes(e.bytes));
                        (e.name.clone(), info, Color::Reset, t.error)
                    }
                    Row::Entry(e) => (e.name.clone(), format_bytes(e.bytes), Color::Reset, t.muted),
                };
                let info_w = text_width(&info);
                let name = ellipsize(&name, inner_w.saturating_sub(info_w + 2));
                let pad = inner_w.saturating_sub(text_width(&name) + info_w);
                let mut line = Line::from(vec![
                    Span::styled(name, Style::default().fg(color)),
                    Span::raw(" ".repeat(pad)),
                    Span::styled(info, Style::default().fg(info_color)),
                ]);
                if i == b.selected {
                    line = line.style(Style::default().add_modifier(Modifier::REVERSED));
                }
                lines.push(line);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
