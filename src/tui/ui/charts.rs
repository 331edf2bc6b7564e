//! The account screen's charts: the balance's sparkline with its time axis, and what was
//! spent per day.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Sparkline};

use super::history::local_time;
use super::{ellipsize, pane_block, width as text_width};
use crate::api::types::format_credits;
use crate::config::Theme;
use crate::store::usage::{BalanceReading, Usage};
use crate::tui::app::App;

/// What a chart shows when there is no data: reading, why not, or nothing yet.
pub(super) fn usage_placeholder(
    t: &Theme,
    usage: Option<&Usage>,
    error: Option<&str>,
    empty: &str,
) -> Line<'static> {
    match (usage, error) {
        (_, Some(e)) => Line::from(format!("usage unknown: {e}")).fg(t.error),
        (None, None) => Line::from("reading the usage…").fg(t.muted),
        (Some(_), None) => Line::from(empty.to_owned()).fg(t.muted),
    }
}

pub(super) fn balance(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let usage = app.usage.data.as_ref();
    let readings = usage.map_or(&[][..], |u| u.balances.as_slice());
    let mut block = pane_block(t, "Balance · 30 days", false);
    let (lo, hi) = readings
        .iter()
        .map(|r| r.balance)
        .fold(None, |acc: Option<(f64, f64)>, b| match acc {
            None => Some((b, b)),
            Some((lo, hi)) => Some((lo.min(b), hi.max(b))),
        })
        .unwrap_or((0.0, 0.0));
    if !readings.is_empty() {
        block = block.title(
            Line::from(format!(" {} – {} ", format_credits(lo), format_credits(hi)))
                .right_aligned()
                .fg(t.muted),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if readings.is_empty() {
        let line = usage_placeholder(
            t,
            usage,
            app.usage.error.as_deref(),
            "no balance read in 30 days",
        );
        frame.render_widget(
            Paragraph::new(ellipsize_line(line, inner.width as usize)),
            inner,
        );
        return;
    }
    // The last readings that fit, one a column; from the lowest, so that changes show.
    let shown = &readings[readings.len().saturating_sub(inner.width as usize)..];
    let data: Vec<u64> = shown
        .iter()
        .map(|r| {
            let above = ((r.balance - lo) * 100.0).round();
            if above.is_finite() && above > 0.0 {
                above as u64 + 1
            } else {
                1
            }
        })
        .collect();
    // The latest reading at the right edge.
    let w = u16::try_from(data.len())
        .unwrap_or(inner.width)
        .min(inner.width);
    let area = Rect {
        x: inner.right().saturating_sub(w),
        width: w,
        ..inner
    };
    frame.render_widget(
        Sparkline::default()
            .data(data)
            .style(Style::default().fg(t.accent)),
        area,
    );
    let axis = Rect {
        y: inner.bottom(),
        height: 1,
        ..area
    };
    if axis.y < frame.area().bottom() {
        let offset = app.config.utc_offset_secs;
        frame.render_widget(
            Paragraph::new(time_axis(shown, axis.width, offset)).fg(t.muted),
            axis,
        );
    }
}

/// The sparkline's time axis, for the frame's edge under it: when its first reading was
/// taken (local time) under the first column, and its last under the last one. Dates and
/// times where both fit, dates where only those do, the last alone in a narrow pane.
fn time_axis(shown: &[BalanceReading], width: u16, offset: i32) -> Line<'static> {
    let width = usize::from(width);
    let (Some(first), Some(last)) = (shown.first(), shown.last()) else {
        return Line::default();
    };
    for format in ["%m-%d %H:%M", "%m-%d"] {
        let (a, b) = (
            local_time(first.at, offset, format),
            local_time(last.at, offset, format),
        );
        let used = text_width(&a) + text_width(&b) + 4;
        if shown.len() > 1 && a != b && used < width {
            return Line::from(vec![
                Span::raw(format!("┴{a} ")),
                Span::raw("─".repeat(width - used)),
                Span::raw(format!(" {b}┴")),
            ]);
        }
    }
    let b = local_time(last.at, offset, "%m-%d %H:%M");
    if text_width(&b) + 2 > width {
        return Line::default();
    }
    Line::from(format!(" {b}┴")).right_aligned()
}

pub(super) fn ellipsize_line(line: Line<'static>, width: usize) -> Line<'static> {
    let style = line.style;
    Line::from(ellipsize(&line.to_string(), width)).style(style)
}

pub(super) fn spending(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let usage = app.usage.data.as_ref();
    let days = usage.map_or(&[][..], |u| u.days.as_slice());
    let mut block = pane_block(t, "Spent per day", false);
    if let Some(u) = usage {
        block = block.title(
            Line::from(format!(" {} credits ", format_credits(u.spent)))
                .right_aligned()
                .fg(t.muted),
        );
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        block =
            block.title_bottom(Line::from(format!(" {} → {} ", first.day, last.day)).fg(t.muted));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if days.is_empty() {
        let line = usage_placeholder(t, usage, app.usage.error.as_deref(), "no spending recorded");
        frame.render_widget(
            Paragraph::new(ellipsize_line(line, inner.width as usize)),
            inner,
        );
        return;
    }
    // Every day a bar, as wide as fits (a gap between them when there is room).
    let n = days.len() as u16;
    let w = inner.width;
    let gap = u16::from(w >= n * 2 - 1);
    let bar_w = ((w + gap) / n).saturating_sub(gap).max(1);
    let shown = &days[days
        .len()
        .saturating_sub(usize::from((w + gap) / (bar_w + gap)))..];
    let bars: Vec<Bar> = shown
        .iter()
        .map(|d| {
            let cents = (d.spent * 100.0).round();
            let value = if cents.is_finite() && cents > 0.0 {
                cents as u64
            } else {
                0
            };
            Bar::default().value(value).text_value(String::new())
        })
        .collect();
    // The latest day at the right edge, like the balance above.
    let count = u16::try_from(bars.len()).unwrap_or(1);
    let used = (count * (bar_w + gap)).saturating_sub(gap).min(w);
    let area = Rect {
        x: inner.right().saturating_sub(used),
        width: used,
        ..inner
    };
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_w)
            .bar_gap(gap)
            .bar_style(Style::default().fg(t.warning)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 08:08 UTC.
    const T0_MS: i64 = 1_795_680_480_000;
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    fn readings(at: &[i64]) -> Vec<BalanceReading> {
        at.iter()
            .map(|&at| BalanceReading { at, balance: 10.0 })
            .collect()
    }

    #[test]
    fn the_axis_names_the_first_and_last_reading_in_local_time() {
        let shown = readings(&[T0_MS - 3 * DAY_MS, T0_MS - DAY_MS, T0_MS]);
        let axis = time_axis(&shown, 30, 0).to_string();
        assert_eq!(axis, "┴11-23 08:08 ──── 11-26 08:08┴");
        assert_eq!(text_width(&axis), 30);
        // Local time: two hours east of UTC.
        let axis = time_axis(&shown, 30, 7200).to_string();
        assert!(axis.starts_with("┴11-23 10:08 ") && axis.ends_with(" 11-26 10:08┴"));
        // Narrower: dates only, then the last reading alone.
        assert_eq!(time_axis(&shown, 15, 0).to_string(), "┴11-23 ─ 11-26┴");
        assert_eq!(time_axis(&shown, 14, 0).to_string(), " 11-26 08:08┴");
        assert_eq!(time_axis(&shown, 8, 0).to_string(), "");
        assert_eq!(time_axis(&shown[2..], 30, 0).to_string(), " 11-26 08:08┴");
        assert_eq!(time_axis(&[], 30, 0).to_string(), "");
    }
}
