//! A submission end to end through the worker; clicks, keys and the poller's timer.

use super::*;

/// Everything but the terminal: keys into the app, its effects into the real worker, the
/// worker's answers back through the channel, against the emulator over loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_runs_end_to_end_through_the_worker() {
    let emulator = common::emulator(600).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let history = History::open_in(data.path()).expect("a history");
    let (mut worker, mut rx) = common::app::worker_with(
        &emulator.base_url(),
        data.path(),
        common::KEY,
        history.clone(),
        |_| {},
    );
    let mut a = app(160, 48, Instant::now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);

    feed(&mut a, typed("a lighthouse at dusk"));
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('u'))]);
    let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/ref-sunset.png");
    feed(&mut a, typed(reference.to_str().expect("a UTF-8 path")));
    feed(
        &mut a,
        [key(KeyCode::Enter), key(KeyCode::Tab), key(KeyCode::Right)],
    );

    let mut submitted = false;
    let mut recorded_before_shown = false;
    loop {
        for effect in a.take_effects() {
            worker.handle(effect);
        }
        let ready = a.refs.entries.first().is_some_and(|e| e.source().is_some());
        if ready && !submitted {
            assert!(a.refs.entries[0].label.contains("ref-sunset.png"));
            a.update(ctrl('s'));
            submitted = true;
            continue;
        }
        let done = a
            .tasks
            .list
            .first()
            .is_some_and(|t| matches!(t.images.first(), Some(ImageSlot::Saved(_))))
            && a.preview_image().is_some()
            && a.credits.value == Some(94.0);
        if done {
            break;
        }
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out; tasks: {:?}, message: {:?}",
                    a.tasks.list, a.message
                )
            })
            .expect("the worker keeps the channel open");
        if let Action::Submitted {
            result: Ok(new), ..
        } = &action
        {
            // A second connection, as another process would see the file.
            let other = History::open_in(data.path()).expect("the history opens");
            recorded_before_shown = other.get(&new.task_id).expect("readable").is_some();
        }
        a.set_now(Instant::now());
        a.update(action);
    }
    assert!(
        recorded_before_shown,
        "the id is in the history before the app shows it"
    );
    let task = &a.tasks.list[0];
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(task.size.as_str(), "3:2");
    let Some(ImageSlot::Saved(path)) = task.images.first() else {
        unreachable!()
    };
    assert_eq!(
        path,
        &fouro::store::files::image_path(data.path(), &task.id, task.created_at, 0)
    );
    assert_eq!(image::image_dimensions(path).expect("a PNG"), (1536, 1024));
    assert_eq!(a.preview_image().map(|f| f.source_dims), Some((1536, 1024)));
    // The history has it all: the status, the reference's origin and upload, the file.
    let entry = history
        .get(&task.id)
        .expect("readable")
        .expect("in the history");
    assert_eq!(entry.status, fouro::store::Status::Success);
    assert_eq!(entry.params.prompt.as_deref(), Some("a lighthouse at dusk"));
    assert_eq!(entry.params.refs.len(), 1);
    assert_eq!(entry.params.refs[0].origin, reference.display().to_string());
    assert!(entry.params.refs[0].url.starts_with("http://127.0.0.1:"));
    assert_eq!(entry.images[0].path.as_ref(), Some(path));
    drop(worker);
    emulator.shutdown().await;
}

#[test]
fn a_click_focuses_a_pane_and_picks_what_is_under_it() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use fouro::tui::app::Focus;
    use fouro::tui::ui::layout;
    let click = |column: u16, row: u16| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let (tx, mut rx) = channel();
    let (mut a, _) = with_task("task_4o_7", &tx, &mut rx);
    let (second, _) = add_task(&mut a, "task_4o_8", &tx, &mut rx);
    assert_eq!(second, 0, "the newest task is selected, at the top");
    let panes = layout::panes(&a);
    // The 2:3 box, drawn third in the options pane.
    let g = layout::options_geometry(layout::inner(panes.options), panes.compact);
    let (_, portrait, _) = g.boxes[2];
    a.update(click(portrait.x + 1, portrait.y + 1));
    assert_eq!(a.focus, Focus::Options);
    assert_eq!(a.options.size.as_str(), "2:3");
    // The second task's rows (two per task): the older task, task_4o_7.
    let inner = layout::inner(panes.tasks);
    a.update(click(inner.x + 3, inner.y + 2));
    assert_eq!((a.focus, a.tasks.selected), (Focus::Tasks, 1));
    assert_eq!(a.tasks.list[1].id, "task_4o_7");
    a.update(click(inner.x + 3, inner.y + 3));
    assert_eq!(a.tasks.selected, 1, "its second row picks it too");
    a.update(click(inner.x + 3, inner.y));
    assert_eq!(
        a.tasks.selected, 0,
        "and the first task's row picks the first"
    );
    a.update(click(inner.x + 3, inner.y + 6));
    assert_eq!(a.tasks.selected, 0, "a click below the tasks picks nothing");
    a.update(click(panes.prompt.x + 2, panes.prompt.y + 2));
    assert_eq!(a.focus, Focus::Prompt);
}

#[test]
fn a_new_key_repolls_every_generating_task_and_old_401s_ask_nothing() {
    let (tx, mut rx) = channel();
    let (mut a, g_old) = with_task("task_4o_20", &tx, &mut rx);
    let (_, g_new) = add_task(&mut a, "task_4o_21", &tx, &mut rx);
    // The older task's poller stops on a 401; the newer one's is still at work.
    tx.send(Action::PollFailed {
        task_id: "task_4o_20".into(),
        generation: g_old,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(matches!(a.overlay, Some(Overlay::KeyPrompt { .. })));
    feed(&mut a, typed("sk-good-key-0123456789"));
    a.update(key(KeyCode::Enter));
    let effects = a.take_effects();
    let polled: Vec<(String, u64)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Poll {
                task_id,
                generation,
            } => Some((task_id.clone(), *generation)),
            _ => None,
        })
        .collect();
    let ids: Vec<&str> = polled.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        ids,
        ["task_4o_21", "task_4o_20"],
        "both, the running one too"
    );
    let set_key_first = matches!(effects.first(), Some(Effect::SetKey(_)));
    assert!(
        set_key_first,
        "the key changes before the new pollers start"
    );
    // The newer task's old poller, still on the old key, reports a 401: dropped.
    tx.send(Action::PollFailed {
        task_id: "task_4o_21".into(),
        generation: g_new,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.overlay.is_none(), "no stale key prompt");
    assert!(a.tasks.list.iter().all(|t| t.polling && t.note.is_none()));
}

#[test]
fn a_stopped_poller_stops_the_timer_and_freezes_its_time() {
    let t0 = Instant::now();
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_22", &tx, &mut rx);
    a.set_now(t0 + Duration::from_secs(5));
    assert!(a.next_wakeup().is_some(), "a polled task counts time");
    tx.send(Action::PollFailed {
        task_id: "task_4o_22".into(),
        generation: g,
        failure: Failure::new(ErrorClass::Unavailable, "still running after 30 minutes"),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.next_wakeup().is_none(), "nothing is polled: no timer");
    let task = &a.tasks.list[0];
    let frozen = task.elapsed(t0 + Duration::from_secs(5));
    assert_eq!(task.elapsed(t0 + Duration::from_secs(3600)), frozen);
    assert!(task.note.as_deref().unwrap_or_default().contains("press p"));
    // `p` polls it again, and the clock runs again.
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.update(key(KeyCode::Char('p')));
    assert!(poll_of(&a.take_effects()).is_some());
    assert!(a.next_wakeup().is_some());
}

#[test]
fn ctrl_s_submits_from_help_and_full_screen_but_not_while_typing() {
    use fouro::tui::testing::screen;
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_23", &tx, &mut rx);
    a.update(key(KeyCode::F(1)));
    a.update(ctrl('s'));
    assert!(a.overlay.is_none(), "the help closes");
    let job = submit_effect(&mut a).expect("and the prompt is submitted");
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: "task_4o_24".into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    // The first task succeeds; show it full screen, then Ctrl-S.
    succeed_with_one_image(&tx, "task_4o_23", g);
    pump(&mut a, &mut rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('f'))]);
    assert!(a.fullscreen);
    a.take_effects();
    a.update(ctrl('s'));
    assert!(!a.fullscreen, "full screen closes");
    assert!(
        submit_effect(&mut a).is_some(),
        "and the prompt is submitted"
    );
    // In the URL dialog Ctrl-S does nothing, and the status line says so.
    a.submission = None;
    feed(&mut a, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    a.update(key(KeyCode::Char('u')));
    feed(&mut a, typed("https://x.test/a"));
    a.mark_drawn();
    a.update(ctrl('s'));
    assert!(matches!(a.overlay, Some(Overlay::Url { .. })));
    assert!(submit_effect(&mut a).is_none());
    assert!(!a.is_dirty());
    let text = screen(&a);
    assert!(text.contains("Ctrl-S  off while typing"), "{text}");
}
