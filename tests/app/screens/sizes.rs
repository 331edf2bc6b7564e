//! Screens at odd sizes and with wide text: nothing is cut wrongly or misaligned, nothing panics.

use super::*;

#[test]
fn the_stale_reason_and_a_failed_balance_are_shown_at_80x24() {
    let t0 = Instant::now();
    let mut a = fresh(80, 24, t0);
    a.update(key(KeyCode::F(5)));
    let req = credits_req(&mut a);
    a.update(Action::Credits {
        req,
        result: Err(Failure::new(
            ErrorClass::Unavailable,
            "could not reach 127.0.0.1",
        )),
    });
    let text = screen(&a);
    assert!(text.contains("stale"), "{text}");
    assert!(
        text.contains("refresh failed: could not reach 127.0…"),
        "{text}"
    );
}

/// Typed text and file names with wide characters (CJK, emoji) at many sizes.
fn with_wide_text(w: u16, h: u16) -> App {
    let mut a = with_tasks(w, h);
    set_prompt(&mut a, "東京の夜景、雨上がり 🌃🌧️ 水彩画のように柔らかく");
    feed(&mut a, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    add_reference(
        &mut a,
        "写真/夜景🌃.png",
        Ok(checked(
            "/home/ana/pictures/写真/夜景🌃.png",
            (512, 512),
            40_000,
        )),
    );
    add_reference(
        &mut a,
        "missing/画像.png",
        Err("/home/ana/pictures/missing/画像.png: 見つかりません (no such file)".into()),
    );
    a
}

#[test]
fn wide_characters_keep_the_panes_aligned() {
    use fouro::tui::testing::buffer;
    for (w, h) in SIZES {
        let a = with_wide_text(w, h);
        let text = screen(&a);
        // Every row is exactly the screen's width: nothing pushed a border out of place.
        for line in text.lines() {
            let row = line.trim_matches('"');
            assert_eq!(
                fouro::tui::ui::width(row),
                w as usize,
                "a row of the wrong width at {w}x{h}: {row}"
            );
        }
        assert!(text.contains("夜景🌃.png"), "{text}");
        // The references pane's right border is where it belongs on the entry's row.
        let buf = buffer(&a);
        let p = fouro::tui::ui::layout::panes(&a);
        let row = p.refs.y + 1;
        assert_eq!(buf[(p.refs.right() - 1, row)].symbol(), "┃", "{text}");
    }
}

#[test]
fn any_size_renders_without_panicking() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let click = |column: u16, row: u16| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let scroll = |column: u16, row: u16| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    for (w, h) in [
        (0, 0),
        (0, 24),
        (80, 0),
        (1, 1),
        (8, 3),
        (10, 3),
        (20, 6),
        (40, 12),
        (79, 23),
        (119, 35),
        (300, 90),
    ] {
        let mut a = with_tasks(w, h);
        screen(&a);
        for k in [KeyCode::Char('?'), KeyCode::Esc, KeyCode::Char('f')] {
            a.update(key(k));
            screen(&a);
        }
        a.update(key(KeyCode::Esc));
        // Clicks everywhere, and at the edges.
        for (x, y) in [
            (0, 0),
            (w / 2, h / 2),
            (w.saturating_sub(1), h.saturating_sub(1)),
        ] {
            a.update(click(x, y));
            a.update(scroll(x, y));
            screen(&a);
        }
        for x in 0..w.min(12) {
            for y in 0..h.min(12) {
                a.update(click(x, y));
            }
        }
        screen(&a);
        let mut b = with_five_references(w, h);
        b.update(key(KeyCode::Char('a')));
        screen(&b);
        b.update(ctrl('c'));
        screen(&b);
        let mut c = with_wide_text(w, h);
        screen(&c);
        for k in [KeyCode::Char('u'), KeyCode::Char('東'), KeyCode::Char('🌃')] {
            c.update(key(k));
            screen(&c);
        }
        c.update(Action::Paste("写真/一.png\n写真/二.png\n".into()));
        screen(&c);
        c.update(Action::Resize(w / 2, h / 2));
        screen(&c);
    }
}
