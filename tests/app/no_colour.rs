//! With colour off (`--color never` or `NO_COLOR`: the terminal gets no colours, only bold,
//! reverse video and the characters), every selection stays visible: the chosen aspect box is
//! drawn thick with its label reversed, the chosen variant count is reversed, the focused pane
//! has the one thick frame, and the selected row of every list is marked by `▶`, `›`, `●`,
//! `[x]` or reverse video. The states come from the other snapshot tests, drawn without colour.

use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::tui::app::{App, Focus};
use fouro::tui::testing::{app_without_colour, buffer, key, screen, welcome_app};
use ratatui::style::{Color, Modifier};

use crate::common::app::feed;

/// The screen as text, then every run of reverse-video cells with its row: what is left of
/// the frame once its colours are gone.
fn colourless(app: &App) -> String {
    let buf = buffer(app);
    let coloured = buf
        .content
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0, "cells drawn in colour under NO_COLOR");
    let mut text = screen(app);
    text.push_str("reverse video:\n");
    for y in 0..buf.area.height {
        let mut run = String::new();
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            if cell.modifier.contains(Modifier::REVERSED) {
                run.push_str(cell.symbol());
            } else if !run.is_empty() {
                text.push_str(&format!("  row {y}: {:?}\n", run.trim()));
                run.clear();
            }
        }
        if !run.is_empty() {
            text.push_str(&format!("  row {y}: {:?}\n", run.trim()));
        }
    }
    text
}

fn in_options(w: u16, h: u16) -> App {
    let mut a = app_without_colour(w, h, Instant::now());
    a.take_effects();
    while a.focus != Focus::Options {
        a.update(key(KeyCode::Tab));
    }
    a
}

#[test]
fn the_chosen_aspect_and_variant_count_show_without_colour() {
    let mut a = in_options(80, 24);
    insta::assert_snapshot!("no_colour_options_80x24", colourless(&a));
    a.update(key(KeyCode::Char('a')));
    a.update(key(KeyCode::Char('v')));
    insta::assert_snapshot!("no_colour_options_3x2_variants_2_80x24", colourless(&a));
}

/// At 80x24 the variant count is shown alone; wider, all three are, the chosen reversed.
#[test]
fn the_marks_move_with_the_choice() {
    for (w, h) in [(80, 24), (120, 36)] {
        let mut a = in_options(w, h);
        for (aspect, variants) in [("3:2", "2"), ("2:3", "4"), ("1:1", "1")] {
            a.update(key(KeyCode::Char('a')));
            a.update(key(KeyCode::Char('v')));
            marked(&a, aspect, variants, w > 80);
        }
    }
}

/// The chosen aspect reversed and its box the one thick box (beside the focused pane's
/// frame); the chosen variant count reversed where all three are shown.
fn marked(a: &App, aspect: &str, variants: &str, all_three: bool) {
    let view = colourless(a);
    let marks = view.split("reverse video:\n").nth(1).unwrap_or_default();
    assert!(
        marks.contains(&format!("{aspect:?}")),
        "{aspect} not reversed:\n{view}"
    );
    if all_three {
        assert!(view.contains("Variants 1 2 4"), "{view}");
        assert!(
            marks.contains(&format!("{variants:?}")),
            "{variants} not reversed:\n{view}"
        );
    } else {
        assert!(view.contains(&format!("Variants {variants} ")), "{view}");
    }
    let thick = view.matches('┏').count();
    assert_eq!(thick, 2, "one thick box, the chosen one:\n{view}");
}

fn focus(a: &mut App, pane: Focus) {
    while a.focus != pane {
        a.update(key(KeyCode::Tab));
    }
}

/// `a` drawn without colour, as a snapshot; `marks` must each be reversed.
fn without_colour(name: &str, mut a: App, marks: &[&str]) {
    a.config.no_colour = true;
    let view = colourless(&a);
    let reversed = view.split("reverse video:\n").nth(1).unwrap_or_default();
    for mark in marks {
        assert!(reversed.contains(mark), "{mark} not reversed:\n{view}");
    }
    insta::assert_snapshot!(name, view);
}

#[test]
fn the_selected_task_and_the_focused_pane_show_without_colour() {
    let mut a = crate::screens::fresh(80, 24, Instant::now());
    crate::screens::submit(&mut a, "a red fox in snow", "task_4o_1");
    crate::screens::submit(&mut a, "a blue owl at night", "task_4o_2");
    focus(&mut a, Focus::Tasks);
    a.update(key(KeyCode::Down));
    let view = screen(&a);
    assert!(view.contains("▶ GENERATING"), "{view}");
    without_colour("no_colour_tasks_80x24", a, &["▶ GENERATING"]);
}

#[test]
fn the_selected_reference_shows_without_colour() {
    let mut a = crate::screens::with_five_references(80, 24);
    a.update(key(KeyCode::Up));
    without_colour("no_colour_references_80x24", a, &["4  https://example.com"]);
}

#[test]
fn the_selected_history_entry_shows_without_colour() {
    let mut a = crate::history::opened(80, 24, &crate::history::sample());
    crate::history::select(&mut a, 2);
    without_colour("no_colour_history_80x24", a, &["▶ "]);
}

#[test]
fn the_selected_profile_shows_without_colour() {
    let a = crate::account::account_screen(80, 24);
    without_colour("no_colour_account_80x24", a, &["● main"]);
}

#[test]
fn the_queue_row_and_the_staging_checkboxes_show_without_colour() {
    let mut a = crate::queue_snapshots::ready(80, 24);
    crate::queue_snapshots::stage_three(&mut a, "alpha fox");
    focus(&mut a, Focus::Tasks);
    a.update(key(KeyCode::Up));
    without_colour("no_colour_queue_80x24", a, &["▶  3. PAUSED"]);

    let mut a = crate::queue_snapshots::ready(80, 24);
    fouro::tui::testing::set_prompt(&mut a, "alpha fox");
    a.update(crate::queue_snapshots::alt('s'));
    feed(&mut a, [key(KeyCode::Right), key(KeyCode::Char(' '))]);
    without_colour("no_colour_stage_80x24", a, &["[x]3:2"]);
}

#[test]
fn the_chosen_service_on_the_welcome_screen_shows_without_colour() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.config.no_colour = true;
    let view = colourless(&a);
    assert!(view.contains("Service   ● "), "{view}");
    assert!(view.contains(" ○ "), "{view}");
}
