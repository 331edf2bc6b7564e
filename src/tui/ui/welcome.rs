//! The welcome screen (no key yet): what is needed and where to get it, the service, the
//! key as bullets, what became of the last try, and the way to the demo.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::ellipsize;
use super::layout::{dialog, wrap};
use super::overlays::{answer_keys, frame_block, input_text};
use crate::api::types::format_credits;
use crate::config::Preset;
use crate::tui::app::App;
use crate::tui::app::profile_form::service_name;
use crate::tui::app::welcome::WelcomeState;

const W: u16 = 78;
const LABEL: usize = 10;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let status = Rect::new(
        area.x,
        area.bottom().saturating_sub(1),
        area.width,
        1.min(area.height),
    );
    let main = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    let width = W.min(main.width.saturating_sub(4)).saturating_sub(2) as usize;
    let lines = lines(app, width);
    let rect = dialog(main, W, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(frame_block(" Welcome to fouro ", t.accent)),
        rect,
    );
    super::status_line_with(app, frame, status, "");
}

fn label(text: &str) -> Span<'static> {
    Span::styled(format!("{text:<LABEL$}"), Style::default().bold())
}

fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.config.theme;
    let w = &app.welcome;
    let target = app.welcome_target();
    let mut lines: Vec<Line<'static>> = Vec::new();
    let para = |lines: &mut Vec<Line<'static>>, text: &str, style: Style| {
        for l in wrap(text, width) {
            lines.push(Line::from(l).style(style));
        }
    };
    para(
        &mut lines,
        "fouro needs an API key for the service that makes the images. Get one on the service's API key page, then paste it here:",
        Style::default(),
    );
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(
            ellipsize(&target.key_page(), width.saturating_sub(2)),
            Style::default().fg(t.accent),
        ),
    ]));
    lines.push(Line::from(""));

    let mut service = vec![label("Service")];
    if target.preset.is_some() {
        for p in Preset::ALL {
            let (mark, style) = if p == w.preset {
                ("● ", Style::default().fg(t.accent).bold())
            } else {
                ("○ ", Style::default().fg(t.muted))
            };
            service.push(Span::styled(format!("{mark}{}   ", service_name(p)), style));
        }
        service.push(Span::styled("↑/↓ switches", Style::default().fg(t.muted)));
    } else {
        service.push(Span::styled(
            "● custom   ",
            Style::default().fg(t.accent).bold(),
        ));
        service.push(Span::styled(
            "from --base-url or FOURO_BASE_URL",
            Style::default().fg(t.muted),
        ));
    }
    lines.push(Line::from(service));
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(LABEL)),
        Span::styled(
            ellipsize(&target.base_url, width.saturating_sub(LABEL)),
            Style::default().fg(t.muted),
        ),
    ]));
    let mut key = vec![label("API key")];
    key.extend(input_text(t, &w.input, true, !w.is_busy(), width.saturating_sub(LABEL)).spans);
    lines.push(Line::from(key));
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(LABEL)),
        Span::styled(
            ellipsize(
                "shown as bullets · paste works · Ctrl-U clears",
                width.saturating_sub(LABEL),
            ),
            Style::default().fg(t.muted),
        ),
    ]));
    lines.push(Line::from(""));

    match &w.state {
        WelcomeState::Idle => para(
            &mut lines,
            "Enter checks the key with the service before it is saved.",
            Style::default().fg(t.muted),
        ),
        WelcomeState::Checking { .. } => para(
            &mut lines,
            &format!("checking the key with {}…", target.service()),
            Style::default().fg(t.warning),
        ),
        WelcomeState::Failed(why) => para(
            &mut lines,
            &format!("✗ {why}"),
            Style::default().fg(t.error),
        ),
        WelcomeState::Works { balance, saved, .. } => {
            let text = match saved {
                Some(path) => format!(
                    "✓ key works: {} credits — saved to {}",
                    format_credits(*balance),
                    path.display()
                ),
                None => format!(
                    "✓ key works: {} credits — saving…",
                    format_credits(*balance)
                ),
            };
            para(&mut lines, &text, Style::default().fg(t.ok));
            para(&mut lines, "starting…", Style::default().fg(t.muted));
        }
    }
    lines.push(Line::from(""));
    let file = app
        .account
        .profiles
        .as_ref()
        .map(|v| v.path.display().to_string())
        .unwrap_or_else(|| "config.toml".into());
    para(
        &mut lines,
        &format!(
            "It is saved in {file} (a private file) as profile \"{}\", the default from now on.",
            target.profile
        ),
        Style::default().fg(t.muted),
    );
    lines.push(Line::from(""));
    let mut keys = answer_keys(&[
        ("Enter", "check and save"),
        ("Ctrl-D", "try the demo"),
        ("Esc", "quit"),
    ]);
    if w.is_busy() {
        keys = keys.style(Style::default().add_modifier(Modifier::DIM));
    }
    lines.push(keys);
    lines
}
