//! With colour off (`NO_COLOR`: the terminal gets no colours, only bold, reverse video and the
//! characters), every selection stays visible: the chosen aspect box is drawn thick with its
//! label reversed, and the chosen variant count is reversed.

use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::tui::app::{App, Focus};
use fouro::tui::testing::{app_without_colour, buffer, key, screen};
use ratatui::style::{Color, Modifier};

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
