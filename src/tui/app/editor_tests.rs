//! The prompt editor's keys and prompt recall, driven through `App::update` as key presses.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::action::{Action, Effect};
use crate::tui::app::App;
use crate::tui::testing::{app, ctrl, key, set_prompt, typed};

fn alt(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

fn press(a: &mut App, actions: impl IntoIterator<Item = Action>) {
    for action in actions {
        a.update(action);
    }
}

/// An app whose prompt holds `text`, the cursor at its end.
fn with_prompt(text: &str) -> App {
    let mut a = app(80, 24, Instant::now());
    set_prompt(&mut a, text);
    a.take_effects();
    a
}

/// Answers the request for earlier prompts with `prompts`.
fn serve_prompts(a: &mut App, prompts: &[&str]) {
    let req = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::LoadPrompts { req } => Some(req),
            _ => None,
        })
        .expect("the earlier prompts are asked for");
    a.update(Action::PromptsLoaded {
        req,
        result: Ok(prompts.iter().map(|p| (*p).to_owned()).collect()),
    });
}

#[test]
fn ctrl_u_deletes_to_the_start_of_the_line_and_ctrl_y_brings_it_back() {
    let mut a = with_prompt("first line\nsecond line");
    press(&mut a, [ctrl('u')]);
    assert_eq!(a.prompt_text(), "first line\n");
    press(&mut a, [ctrl('y')]);
    assert_eq!(a.prompt_text(), "first line\nsecond line");
    // Ctrl-K to the end, Ctrl-W the word before, each pasted back by Ctrl-Y.
    press(&mut a, [ctrl('a'), ctrl('k')]);
    assert_eq!(a.prompt_text(), "first line\n");
    press(&mut a, [ctrl('y'), ctrl('w')]);
    assert_eq!(a.prompt_text(), "first line\nsecond ");
    press(&mut a, [ctrl('y')]);
    assert_eq!(a.prompt_text(), "first line\nsecond line");
}

#[test]
fn readline_moves_and_deletes() {
    let mut a = with_prompt("a red fox");
    // Ctrl-A, Alt-F (after `a`), Alt-D deletes ` red`, Ctrl-F, Ctrl-D deletes `f`.
    press(&mut a, [ctrl('a'), alt('f'), alt('d')]);
    assert_eq!(a.prompt_text(), "a fox");
    press(&mut a, [ctrl('f'), ctrl('d')]);
    assert_eq!(a.prompt_text(), "a ox");
    press(&mut a, [ctrl('e'), alt('b'), ctrl('b')]);
    press(&mut a, typed("!"));
    assert_eq!(a.prompt_text(), "a! ox");
}

#[test]
fn undo_and_redo_sit_on_keys_a_shell_leaves_free() {
    let mut a = with_prompt("");
    press(&mut a, typed("a cat"));
    press(&mut a, [ctrl('z')]);
    assert_ne!(a.prompt_text(), "a cat", "Ctrl-Z undoes");
    press(&mut a, [alt('_')]);
    assert_eq!(a.prompt_text(), "a cat", "Alt-_ redoes");
    // Ctrl-_ as terminals report it: Ctrl-7 (0x1F), Ctrl-/ or Ctrl-_ itself.
    for undo in [ctrl('7'), ctrl('/'), ctrl('_')] {
        let mut a = with_prompt("");
        press(&mut a, typed("x"));
        press(&mut a, [undo]);
        assert_eq!(a.prompt_text(), "");
    }
    // Alt-_ reported with Shift, or as Alt-Shift--.
    let mut a = with_prompt("");
    press(&mut a, typed("x"));
    press(&mut a, [ctrl('z')]);
    press(
        &mut a,
        [Action::Key(KeyEvent::new(
            KeyCode::Char('-'),
            KeyModifiers::ALT | KeyModifiers::SHIFT,
        ))],
    );
    assert_eq!(a.prompt_text(), "x");
}

#[test]
fn alt_k_clears_the_prompt_and_undo_brings_it_back() {
    let mut a = with_prompt("line one\nline two");
    press(&mut a, [alt('k')]);
    assert_eq!(a.prompt_text(), "");
    press(&mut a, [ctrl('z')]);
    assert_eq!(a.prompt_text(), "line one\nline two");
}

#[test]
fn up_on_the_first_line_recalls_earlier_prompts_and_down_gives_the_draft_back() {
    let mut a = with_prompt("my draft");
    press(&mut a, [key(KeyCode::Up)]);
    assert_eq!(a.prompt_text(), "my draft", "nothing until they are read");
    serve_prompts(&mut a, &["newest", "my draft", "older"]);
    assert_eq!(a.prompt_text(), "newest");
    assert_eq!(a.recall.position(), Some((1, 3)));
    // The prompt equal to the draft is passed over.
    press(&mut a, [ctrl('p')]);
    assert_eq!(a.prompt_text(), "older");
    press(&mut a, [key(KeyCode::Up)]);
    assert_eq!(a.prompt_text(), "older", "nothing older");
    press(&mut a, [key(KeyCode::Down)]);
    assert_eq!(a.prompt_text(), "newest");
    press(&mut a, [ctrl('n')]);
    assert_eq!(a.prompt_text(), "my draft", "the draft is kept");
    assert_eq!(a.recall.position(), None);
    press(&mut a, [key(KeyCode::Down)]);
    assert_eq!(a.prompt_text(), "my draft");
    assert!(a.take_effects().is_empty(), "read once");
}

#[test]
fn up_moves_by_line_below_the_first_line() {
    let mut a = with_prompt("one\ntwo");
    press(&mut a, [key(KeyCode::Up)]);
    assert_eq!(a.prompt.cursor().0, 0);
    assert!(a.take_effects().is_empty(), "not a recall yet");
    assert_eq!(a.prompt_text(), "one\ntwo");
}

#[test]
fn recalled_prompts_lose_terminal_controls() {
    let mut a = with_prompt("");
    press(&mut a, [key(KeyCode::Up)]);
    serve_prompts(&mut a, &["a \u{1b}[31mred\u{7} fox"]);
    assert_eq!(a.prompt_text(), "a [31mred fox");
}

#[test]
fn ctrl_r_searches_older_matches_and_esc_restores_the_draft() {
    let mut a = with_prompt("draft");
    press(&mut a, [ctrl('r')]);
    serve_prompts(&mut a, &["a red fox", "a blue whale", "a red barn"]);
    press(&mut a, typed("RED"));
    assert_eq!(a.prompt_text(), "a red fox", "the newest match, any case");
    press(&mut a, [ctrl('r')]);
    assert_eq!(a.prompt_text(), "a red barn", "Ctrl-R: the next older");
    press(&mut a, [ctrl('r')]);
    assert_eq!(a.prompt_text(), "a red barn", "no older match: stays");
    press(&mut a, typed("z"));
    assert_eq!(a.recall.search.as_ref().and_then(|s| s.found), None);
    press(&mut a, [key(KeyCode::Esc)]);
    assert_eq!(a.prompt_text(), "draft");
    assert!(a.recall.search.is_none());
    assert_eq!(
        a.focus,
        crate::tui::app::Focus::Prompt,
        "Esc only closes it"
    );

    // Ctrl-G cancels too; Enter keeps the match, and Down then goes back to the draft.
    press(&mut a, [ctrl('r')]);
    press(&mut a, typed("whale"));
    press(&mut a, [ctrl('g')]);
    assert_eq!(a.prompt_text(), "draft");
    press(&mut a, [ctrl('r')]);
    press(&mut a, typed("whale"));
    press(&mut a, [key(KeyCode::Enter)]);
    assert_eq!(a.prompt_text(), "a blue whale");
    assert!(a.recall.search.is_none());
    press(&mut a, typed("!"));
    assert_eq!(a.prompt_text(), "a blue whale!");
    press(&mut a, [key(KeyCode::Down)]);
    assert_eq!(a.prompt_text(), "a red fox");
    press(&mut a, [key(KeyCode::Down)]);
    assert_eq!(a.prompt_text(), "draft");
}

#[test]
fn a_submit_reads_the_prompts_again_next_time() {
    let mut a = with_prompt("");
    press(&mut a, [key(KeyCode::Up)]);
    serve_prompts(&mut a, &["old"]);
    assert_eq!(a.prompt_text(), "old");
    a.update(Action::Credits {
        req: a.credits.req,
        result: Ok(100.0),
    });
    press(&mut a, [ctrl('s')]);
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Submit { .. }))
    );
    press(&mut a, [key(KeyCode::Up)]);
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::LoadPrompts { .. })),
        "the list is read again, with the prompt just sent"
    );
}

#[test]
fn ctrl_s_in_the_search_submits_the_prompt_found() {
    let mut a = with_prompt("draft");
    a.update(Action::Credits {
        req: a.credits.req,
        result: Ok(100.0),
    });
    press(&mut a, [ctrl('r')]);
    serve_prompts(&mut a, &["a red fox"]);
    press(&mut a, typed("fox"));
    press(&mut a, [ctrl('s')]);
    let sent = a.take_effects().into_iter().find_map(|e| match e {
        Effect::Submit { draft, .. } => draft.prompt,
        _ => None,
    });
    assert_eq!(sent.as_deref(), Some("a red fox"));
    assert!(a.recall.search.is_none());
    assert_eq!(a.prompt_text(), "a red fox");
}
