//! A corrupt or newer database is refused and never changed.

use super::*;

#[tokio::test]
async fn a_corrupt_database_is_refused_left_alone_and_can_be_moved_aside() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let db = d.join("history.db");
    let garbage = noise(16 * 1024);
    std::fs::write(&db, &garbage).unwrap();
    let leaf = asset("ref-leaf.png");

    let runs: [&[&str]; 3] = [
        &["history"],
        &["sync"],
        &[
            "generate",
            "must not be billed",
            "--ref",
            leaf.to_str().unwrap(),
        ],
    ];
    for args in runs {
        let o = fouro(&base, d, Some(KEY), args).await;
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("cannot be read") && err.contains("fouro history --move-aside"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read(&db).unwrap(),
            garbage,
            "{args:?} changed the file"
        );
        assert_eq!(
            files_under(d),
            std::slice::from_ref(&db),
            "{args:?} left files behind"
        );
    }
    assert_eq!(calls(&emu, "generate").await, 0, "no credit was spent");
    assert_eq!(calls(&emu, "upload").await, 0, "nothing was uploaded");

    let o = fouro(&base, d, None, &["history", "--move-aside"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!db.exists(), "moved");
    let moved: Vec<PathBuf> = files_under(d);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        stdout(&o).contains(moved[0].to_str().unwrap()) && stdout(&o).contains("fresh"),
        "says where it went: {}",
        stdout(&o)
    );
    assert_eq!(std::fs::read(&moved[0]).unwrap(), garbage, "kept as it was");

    assert!(history_ids(&base, d, &[]).await.is_empty());
    let o = fouro(&base, d, None, &["history", "--move-aside"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing was moved"), "{}", stdout(&o));
    assert!(db.exists(), "a healthy database stays");
}

#[tokio::test]
async fn a_database_from_a_newer_fouro_is_refused_and_left_alone() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let db = d.join("history.db");
    let h = History::open_in(d).expect("history opens");
    h.insert(
        "task_4o_kept",
        &base,
        &params("kept", Size::Square, Variants::One),
        now_ms(),
    )
    .expect("insert");
    drop(h);
    {
        let conn = rusqlite::Connection::open(&db).expect("sqlite opens");
        conn.pragma_update(None, "user_version", 99)
            .expect("version set");
    }
    let before = std::fs::read(&db).unwrap();

    let runs: [&[&str]; 3] = [&["history"], &["sync"], &["generate", "not now"]];
    for args in runs {
        let o = fouro(&base, d, Some(KEY), args).await;
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("newer fouro"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{args:?} changed it");
    }
    assert_eq!(calls(&emu, "generate").await, 0);
    assert_eq!(calls(&emu, "record-info").await, 0);
}
