//! What can be done with an entry: remix, rerun, delete, copy and open, preview, details.

use super::*;

#[test]
fn remix_loads_every_parameter_into_the_editor() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.screen, Screen::Main);
    assert_eq!(a.focus, Focus::Prompt);
    assert_eq!(a.prompt_text(), "a lighthouse at dusk, oil painting");
    let o = &a.options;
    assert_eq!(
        (o.size, o.variants, o.enhance, o.fallback),
        (
            Size::Landscape,
            Variants::Four,
            true,
            Some(FallbackModel::FluxMax)
        )
    );
    let checks: Vec<(u64, String)> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::CheckReference { id, entry } => Some((id, entry)),
            _ => None,
        })
        .collect();
    let entries: Vec<&str> = checks.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        entries,
        [
            "/home/ana/pictures/coast.png",
            "/home/ana/pictures/sky-mask.png"
        ]
    );
    assert_eq!(a.refs.entries[0].label, "coast.png");
    // The reference's file is gone: the copy uploaded then is used. The mask is still there.
    a.update(Action::ReferenceChecked {
        id: checks[0].0,
        result: Err("cannot use \"/home/ana/pictures/coast.png\": No such file or directory (os error 2): check the path".into()),
    });
    a.update(Action::ReferenceChecked {
        id: checks[1].0,
        result: Ok(fouro::tui::action::CheckedRef {
            source: ImageSource::File("/home/ana/pictures/sky-mask.png".into()),
            dims: Some((1536, 1024)),
            bytes: Some(2048),
        }),
    });
    assert_eq!(
        a.refs.entries[0].source(),
        Some(&ImageSource::Url(
            "https://kieai.redpandaai.co/uploads/coast.png".into()
        ))
    );
    assert!(
        a.refs
            .refusal
            .as_deref()
            .is_some_and(|r| r.contains("using the copy uploaded"))
    );
    a.update(ctrl('s'));
    let draft = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Submit { draft, .. } => Some(draft),
            _ => None,
        })
        .expect("the remix submits");
    assert_eq!(
        draft.mask,
        Some(ImageSource::File("/home/ana/pictures/sky-mask.png".into()))
    );
    assert_eq!(draft.size, Size::Landscape);
}

#[test]
fn remix_takes_url_references_as_they_are_and_keeps_prompt_lines() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    select(&mut a, 6);
    a.take_effects();
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.prompt_text(), "", "references only");
    let sources: Vec<_> = a.refs.entries.iter().map(|e| e.source().cloned()).collect();
    assert_eq!(
        sources,
        [
            Some(ImageSource::Url("https://example.com/a.png".into())),
            Some(ImageSource::Url("https://example.com/b.png".into())),
        ]
    );
    assert!(a.take_effects().is_empty(), "URLs need no check");

    // A prompt with control characters keeps its lines and loses the rest.
    a.update(key(KeyCode::F(3)));
    serve(&mut a, &db);
    select(&mut a, 5);
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.prompt_text(), "line one\nline two [31mred\ttab");
    assert!(
        a.refs.entries.is_empty(),
        "the last remix's references are replaced"
    );
}

#[test]
fn rerun_asks_then_submits_the_recorded_parameters() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    a.update(key(KeyCode::Char('R')));
    assert!(a.take_effects().is_empty(), "nothing before the answer");
    assert!(screen(&a).contains("4 images, cost not known yet"));
    a.update(key(KeyCode::Char('y')));
    let draft = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Submit { draft, .. } => Some(draft),
            _ => None,
        })
        .expect("a submission");
    assert_eq!(
        draft,
        Draft {
            prompt: Some("a lighthouse at dusk, oil painting".into()),
            refs: vec![ImageSource::Url(
                "https://kieai.redpandaai.co/uploads/coast.png".into()
            )],
            mask: Some(ImageSource::Url(
                "https://kieai.redpandaai.co/uploads/sky-mask.png".into()
            )),
            size: Size::Landscape,
            variants: Variants::Four,
            enhance: true,
            fallback: Some(FallbackModel::FluxMax),
        }
    );
    assert_eq!(a.screen, Screen::Main);
    assert!(a.submission.is_some());
    assert_eq!(a.prompt_text(), "", "the editor is left alone");
    // One submission at a time, from the history too.
    a.update(key(KeyCode::F(3)));
    serve(&mut a, &db);
    a.update(key(KeyCode::Char('R')));
    assert!(a.take_effects().is_empty());
    assert_eq!(a.screen, Screen::History);
    assert!(screen(&a).contains("already on its way"));
}

#[test]
fn delete_asks_first_and_removes_files_only_when_told() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    let deletes = |a: &mut App| -> Vec<(String, bool)> {
        a.take_effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::DeleteEntry { task_id, files } => Some((task_id, files)),
                _ => None,
            })
            .collect()
    };
    a.update(key(KeyCode::Char('d')));
    assert!(matches!(
        a.overlay,
        Some(Overlay::ConfirmDelete { files: 4, .. })
    ));
    assert!(deletes(&mut a).is_empty(), "nothing before the answer");
    a.update(key(KeyCode::Char('x')));
    assert!(a.overlay.is_some(), "another key leaves the question open");
    a.update(key(KeyCode::Esc));
    assert!(a.overlay.is_none());
    assert!(deletes(&mut a).is_empty(), "cancelled");

    feed(&mut a, typed("de"));
    assert_eq!(deletes(&mut a), [("task_4o_0000".to_owned(), false)]);
    feed(&mut a, typed("df"));
    assert_eq!(deletes(&mut a), [("task_4o_0000".to_owned(), true)]);
    a.update(Action::EntryDeleted {
        task_id: "task_4o_0000".into(),
        result: Ok(4),
    });
    let text = a
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(text.contains("removed 4 image files"), "{text}");
    let reload = loads(&a.take_effects());
    assert!(
        reload.iter().any(|l| l.2 == 0),
        "the page is read again: {reload:?}"
    );

    // An entry with no file offers no file to delete.
    a.update(key(KeyCode::Esc));
    select(&mut a, 2);
    feed(&mut a, typed("df"));
    assert!(a.overlay.is_some());
    assert!(deletes(&mut a).is_empty());
    a.update(key(KeyCode::Char('e')));
    assert_eq!(deletes(&mut a), [("task_4o_0002".to_owned(), false)]);
    a.update(Action::EntryDeleted {
        task_id: "task_4o_0002".into(),
        result: Err("the database is locked".into()),
    });
    assert!(screen(&a).contains("could not delete task_4o_0002"));
}

#[test]
fn copy_and_open_use_the_image_shown() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    // Each copy says so in a message, which Esc dismisses.
    feed(
        &mut a,
        [
            key(KeyCode::Char(']')),
            key(KeyCode::Char('y')),
            key(KeyCode::Esc),
            key(KeyCode::Char('Y')),
            key(KeyCode::Esc),
            key(KeyCode::Char('o')),
        ],
    );
    let done: Vec<Effect> = a
        .take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Copy(_) | Effect::Open(_)))
        .collect();
    let path = format!("{DATA}/task_4o_0000-1.png");
    assert!(
        matches!(&done[..], [Effect::Copy(p), Effect::Copy(u), Effect::Open(o)]
            if *p == path
            && u == "https://tempfile.aiquickdraw.com/r/task_4o_0000-1.png"
            && o.as_path() == std::path::Path::new(&path)),
        "{done:?}"
    );
    // Not downloaded: no path to copy or open, and it says why; the URL still copies.
    select(&mut a, 5);
    a.take_effects();
    a.update(key(KeyCode::Char('y')));
    assert!(a.take_effects().is_empty());
    let text = a
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(
        text.contains("not downloaded: connection reset by peer"),
        "{text}"
    );
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('o')));
    assert!(a.take_effects().is_empty());
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('Y')));
    assert!(
        matches!(&a.take_effects()[..], [Effect::Copy(u)] if u.ends_with("task_4o_0005-0.png"))
    );
}

#[test]
fn the_preview_decodes_the_selected_entrys_saved_image() {
    let db = sample();
    let mut a = app(160, 48, Instant::now());
    a.update(key(KeyCode::F(3)));
    let (effects, _) = serve(&mut a, &db);
    let decoded = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Decode { path, .. } => Some(path.clone()),
            _ => None,
        })
    };
    assert_eq!(
        decoded(&effects),
        Some(PathBuf::from(format!("{DATA}/task_4o_0000-0.png")))
    );
    a.update(key(KeyCode::Char(']')));
    assert_eq!(
        decoded(&a.take_effects()),
        Some(PathBuf::from(format!("{DATA}/task_4o_0000-1.png")))
    );
    decode(&mut a);
    assert!(a.preview_target().is_some());
    assert!(screen(&a).contains('▒'));
    // Hidden under a window.
    a.update(key(KeyCode::Char('i')));
    assert!(a.preview_target().is_none());
    a.update(key(KeyCode::Esc));
    // An expired entry has no file: no decode, and the pane says so.
    select(&mut a, 4);
    assert_eq!(decoded(&a.take_effects()), None);
    assert!(a.preview_target().is_none());
    assert!(screen(&a).contains("expired"));
    // Back on the main screen, the history's image is not asked for any more.
    a.update(key(KeyCode::Esc));
    assert!(a.preview.requested.is_none());
}

#[test]
fn history_errors_and_viewer_failures_show_as_messages() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.update(Action::OpenFailed(
        "could not open the image in the system viewer".into(),
    ));
    assert!(screen(&a).contains("could not open the image"));
    a.update(key(KeyCode::Esc));
    assert!(a.message.is_none(), "Esc dismisses it first");
    assert_eq!(a.screen, Screen::History);
    // On the main screen too.
    a.update(key(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Main);
    a.update(Action::HistoryError(
        "the history could not be written".into(),
    ));
    assert!(screen(&a).contains("the history could not be written"));

    // A page that cannot be read says so, and a key tries again.
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::F(3)));
    let (req, ..) = loads(&a.take_effects())[0].clone();
    a.update(Action::HistoryLoaded {
        req,
        result: Err("the database is locked".into()),
    });
    assert!(screen(&a).contains("could not read the history: the database is locked"));
    assert!(a.take_effects().is_empty(), "not asked again by itself");
    a.update(key(KeyCode::Down));
    assert_eq!(loads(&a.take_effects()).len(), 1);
}

#[test]
fn details_scroll_and_close() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.update(key(KeyCode::Char('i')));
    let text = screen(&a);
    assert!(text.contains("task_4o_0000") && text.contains("https://api.kie.ai"));
    a.update(key(KeyCode::End));
    let Some(Overlay::Details { scroll, .. }) = &a.overlay else {
        panic!("the details are open");
    };
    assert!(*scroll > 0, "80x24 cannot show every field at once");
    assert!(screen(&a).contains("  file       /home/ana/.local/share/fouro/images"));
    a.update(key(KeyCode::Char('i')));
    assert!(a.overlay.is_none());
}

#[test]
fn a_task_shown_that_changes_is_read_again_without_blanking_the_list() {
    let mut db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    // The worker recorded a status of task 1 in the database, then told the app.
    db[1].status = Status::Success;
    db[1].images = vec![image("task_4o_0001", 0, true)];
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0001".into(),
        generation: 0,
        record: fouro::tui::testing::record(
            "task_4o_0001",
            fouro::api::TaskStatus::Success,
            1.0,
            1,
            None,
        ),
    });
    let asked = loads(&a.take_effects());
    assert_eq!(asked.len(), 1, "the page shown is read again");
    assert!(!screen(&a).contains("loading…"), "meanwhile the rows stay");
    let (req, query, offset, limit) = asked[0].clone();
    a.update(reply(&db, req, &query, offset, limit));
    select(&mut a, 1);
    assert_eq!(
        a.history.selected_entry().map(|e| e.status),
        Some(Status::Success)
    );
    // A task not on screen asks for nothing.
    a.update(Action::TaskUpdate {
        task_id: "task_elsewhere".into(),
        generation: 0,
        record: fouro::tui::testing::record(
            "task_elsewhere",
            fouro::api::TaskStatus::Success,
            1.0,
            1,
            None,
        ),
    });
    assert!(loads(&a.take_effects()).is_empty());
}

#[test]
fn any_size_renders_without_panicking() {
    let db = sample();
    for (w, h) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (300, 90),
    ] {
        let mut a = opened(80, 24, &db);
        a.update(Action::Resize(w, h));
        serve(&mut a, &db);
        screen(&a);
        for k in ['i', 'd'] {
            a.update(key(KeyCode::Char(k)));
            screen(&a);
            a.update(key(KeyCode::Esc));
        }
        feed(&mut a, typed("/fox"));
        serve(&mut a, &db);
        screen(&a);
        feed(&mut a, [key(KeyCode::Enter), key(KeyCode::End)]);
        a.update(key(KeyCode::Char('f')));
        screen(&a);
    }
}
