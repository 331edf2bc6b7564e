//! Help, the file browser, pasted paths, full screen, messages and the quit question.

use super::*;

#[test]
fn question_mark_opens_help_from_an_empty_prompt_only() {
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::Char('?')));
    assert!(matches!(a.overlay, Some(Overlay::Help { .. })));
    a.update(key(KeyCode::Esc));
    feed(&mut a, typed("why?"));
    assert!(a.overlay.is_none());
    assert_eq!(a.prompt_text(), "why?");
    a.update(key(KeyCode::F(1)));
    assert!(matches!(a.overlay, Some(Overlay::Help { .. })), "F1 always");
}

#[test]
fn help_scroll_stays_within_the_help() {
    use fouro::tui::ui::overlays::help_max_scroll;
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::F(1)));
    let max = help_max_scroll(&a.config, a.area);
    assert!(max > 10, "the help is longer than 80x24");
    for _ in 0..(max + 30) {
        a.update(key(KeyCode::Down));
    }
    assert_eq!(a.overlay, Some(Overlay::Help { scroll: max }));
    a.mark_drawn();
    a.update(key(KeyCode::PageDown));
    assert!(!a.is_dirty(), "at the bottom, scrolling on changes nothing");
    a.update(key(KeyCode::Home));
    assert_eq!(a.overlay, Some(Overlay::Help { scroll: 0 }));
    a.update(key(KeyCode::End));
    a.update(Action::Resize(300, 90));
    let max = help_max_scroll(&a.config, a.area);
    assert_eq!(
        a.overlay,
        Some(Overlay::Help { scroll: max }),
        "a resize clamps it"
    );
}

fn dir_entry(name: &str, is_dir: bool) -> DirEntry {
    DirEntry {
        name: name.into(),
        is_dir,
        bytes: 10,
    }
}

fn listing(effects: &[Effect]) -> Option<(u64, PathBuf)> {
    find_effect(effects, |e| match e {
        Effect::ListDir { req, dir } => Some((*req, dir.clone())),
        _ => None,
    })
}

#[test]
fn the_browser_reopens_where_it_last_read_and_tab_types_relative_to_it() {
    let mut a = app(80, 24, Instant::now());
    a.take_effects();
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('a'))]);
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("trips", true), dir_entry("locked", true)]),
    });
    // An unreadable folder: the next browser does not open there.
    feed(
        &mut a,
        [key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Enter)],
    );
    let (req, dir) = listing(&a.take_effects()).unwrap();
    assert_eq!(dir, PathBuf::from("/home/ana/pictures/locked"));
    a.update(Action::DirListed {
        req,
        dir,
        result: Err("cannot read /home/ana/pictures/locked: permission denied".into()),
    });
    assert_eq!(a.last_dir, PathBuf::from("/home/ana/pictures"));
    // Up, into trips/, then Tab: a typed path is taken relative to trips/.
    a.update(key(KeyCode::Backspace));
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("trips", true), dir_entry("locked", true)]),
    });
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Enter)]);
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("sea.webp", false)]),
    });
    assert_eq!(a.last_dir, PathBuf::from("/home/ana/pictures/trips"));
    a.update(key(KeyCode::Tab));
    feed(&mut a, typed("sea.webp"));
    a.update(key(KeyCode::Enter));
    let entry = find_effect(&a.take_effects(), |e| match e {
        Effect::CheckReference { entry, .. } => Some(entry.clone()),
        _ => None,
    });
    assert_eq!(entry.as_deref(), Some("/home/ana/pictures/trips/sea.webp"));
}

#[test]
fn pasting_several_paths_adds_each_up_to_the_limit() {
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::Tab));
    let pasted = (1..=7)
        .map(|i| format!("'/tmp/shots/ref-{i}.png'"))
        .collect::<Vec<_>>()
        .join("\n");
    // tmux and many terminals end pasted lines with CR.
    a.update(Action::Paste(pasted.replace('\n', "\r") + "\r"));
    let checks: Vec<String> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::CheckReference { entry, .. } => Some(entry),
            _ => None,
        })
        .collect();
    assert_eq!(checks.len(), 5, "five references at most");
    assert_eq!(checks[0], "/tmp/shots/ref-1.png", "quotes are dropped");
    let why = a.refs.refusal.clone().unwrap_or_default();
    assert!(
        why.contains("added 5 of 7") && why.contains("ref-6.png, ref-7.png"),
        "{why}"
    );
    // In the URL dialog too: two lines, two entries.
    a.update(key(KeyCode::Char('d')));
    a.update(key(KeyCode::Char('d')));
    a.update(key(KeyCode::Char('u')));
    a.update(Action::Paste(
        "https://x.test/a.png\nhttps://x.test/b.png".into(),
    ));
    assert!(a.overlay.is_none());
    assert_eq!(a.refs.entries.len(), 5);
}

#[test]
fn keys_that_change_nothing_draw_no_frame() {
    let (tx, mut rx) = channel();
    let (mut a, _) = with_task("task_4o_25", &tx, &mut rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.mark_drawn();
    for k in [
        KeyCode::F(12),
        KeyCode::Char('x'),
        KeyCode::Up,
        KeyCode::Char('k'),
        KeyCode::Home,
        KeyCode::Right,
        KeyCode::Insert,
    ] {
        a.update(key(k));
        assert!(!a.is_dirty(), "{k:?} changed nothing");
    }
    a.update(key(KeyCode::BackTab));
    assert!(a.is_dirty());
    a.mark_drawn();
    a.update(key(KeyCode::Down));
    assert!(a.is_dirty(), "the next option row");
    feed(&mut a, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    a.mark_drawn();
    a.update(key(KeyCode::Right));
    assert!(!a.is_dirty(), "the cursor is at the end already");
    a.update(key(KeyCode::Home));
    assert!(a.is_dirty(), "the cursor moved");
}

/// An app showing task `id`'s image full screen.
fn full_screen(tx: &UnboundedSender<Action>, rx: &mut UnboundedReceiver<Action>) -> App {
    let (mut a, g) = with_task("task_4o_26", tx, rx);
    succeed_with_one_image(tx, "task_4o_26", g);
    pump(&mut a, rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.update(key(KeyCode::Enter));
    assert!(a.fullscreen);
    a
}

#[test]
fn full_screen_keeps_its_image_when_a_new_task_arrives() {
    let (tx, mut rx) = channel();
    let mut a = full_screen(&tx, &mut rx);
    a.fullscreen = false;
    a.update(ctrl('s'));
    let job = submit_effect(&mut a).expect("a submission");
    a.update(key(KeyCode::Enter));
    assert!(a.fullscreen);
    let shown = a.preview.requested.clone().map(|r| r.task_id);
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: "task_4o_27".into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.fullscreen, "still full screen");
    assert_eq!(
        a.tasks.list[0].id, "task_4o_27",
        "the new task is listed first"
    );
    assert_eq!(a.preview.requested.map(|r| r.task_id), shown, "same image");
    assert_eq!(
        a.tasks.selected().map(|t| t.id.as_str()),
        Some("task_4o_26")
    );
}

#[test]
fn messages_show_in_full_screen_and_esc_dismisses_them_first() {
    use fouro::tui::testing::screen;
    let (tx, mut rx) = channel();
    let mut a = full_screen(&tx, &mut rx);
    a.update(key(KeyCode::Char('x')));
    a.show(
        fouro::tui::app::Level::Error,
        "the journal could not be written",
    );
    let text = screen(&a);
    assert!(
        text.contains("Error: the journal could not be written"),
        "{text}"
    );
    a.update(key(KeyCode::Esc));
    assert!(a.message.is_none() && a.fullscreen);
    a.update(key(KeyCode::Esc));
    assert!(!a.fullscreen);
}

#[test]
fn a_401_waits_for_the_open_dialog_and_the_quit_question_gives_it_back() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_28", &tx, &mut rx);
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('u'))]);
    feed(&mut a, typed("https://x.test/half-typed"));
    tx.send(Action::PollFailed {
        task_id: "task_4o_28".into(),
        generation: g,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let note = a.tasks.get("task_4o_28").and_then(|t| t.note.clone());
    assert_eq!(
        note.as_deref(),
        Some("status check stopped: the service did not accept the key; press p to check again"),
        "the task's note leaves the command line's advice out"
    );
    let Some(Overlay::Url { input, .. }) = &a.overlay else {
        panic!("the URL dialog stays: {:?}", a.overlay)
    };
    assert_eq!(input.text(), "https://x.test/half-typed");
    a.update(key(KeyCode::Esc));
    assert!(
        matches!(a.overlay, Some(Overlay::KeyPrompt { .. })),
        "the key prompt opens once the dialog closed"
    );
    // Ctrl-C over the key prompt asks; "stay" brings the prompt back with what was typed.
    feed(&mut a, typed("sk-partial"));
    a.update(ctrl('c'));
    assert_eq!(a.overlay, Some(Overlay::ConfirmQuit));
    a.update(key(KeyCode::Char('n')));
    let Some(Overlay::KeyPrompt { input, .. }) = &a.overlay else {
        panic!("the key prompt is back: {:?}", a.overlay)
    };
    assert_eq!(input.text(), "sk-partial");
    assert!(!a.should_quit());
}

#[test]
fn the_quit_question_tells_what_happens_to_a_submission() {
    use fouro::tui::testing::screen;
    let mut a = app(80, 24, Instant::now());
    set_prompt(&mut a, "a fox");
    a.update(ctrl('s'));
    a.update(ctrl('c'));
    let text = screen(&a);
    assert!(text.contains("waits for its answer"), "{text}");
    a.update(key(KeyCode::Char('y')));
    assert!(a.should_quit());
    let mut b = app(80, 24, Instant::now());
    b.update(Action::Leaving {
        submissions: 1,
        limit: Duration::from_secs(70),
    });
    let msg = b.message.clone().expect("a note while waiting").text;
    assert!(
        msg.contains("up to 70 s") && msg.contains("Ctrl-C"),
        "{msg}"
    );
}
