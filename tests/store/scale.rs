//! A history that grows without bound: what opening it no longer does (the whole-file check
//! moved to `fouro history --check`), and what the subcommands read in constant memory.

use std::path::Path;

use crate::common::{Fouro, code, stderr, stdout};
use crate::{prompt, search};
use fouro::store::History;

const BASE: &str = "http://127.0.0.1:9";
/// 2026-03-07, in milliseconds.
const NOW: i64 = 1_772_841_600_000;
const PAGE: usize = 4096;

/// `n` tasks with long prompts in `dir`'s history, closed cleanly (all in the main file).
fn fill(dir: &Path, n: usize) {
    let h = History::open_in(dir).unwrap();
    for i in 0..n {
        let text = format!(
            "{i}: {}",
            "a red fox in fresh snow, 35mm photo. ".repeat(10)
        );
        h.insert(
            &format!("task_4o_{i:05}"),
            BASE,
            &prompt(&text),
            NOW + i as i64,
        )
        .unwrap();
    }
}

#[tokio::test]
async fn history_check_reads_the_whole_file_which_opening_no_longer_does() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    fill(d, 400);
    let fouro = Fouro::new(d);

    let o = fouro.run(&["history", "--check"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("is sound"), "{}", stdout(&o));

    // A page in the middle of the file zeroed: the schema on the first page still reads, so
    // the history opens, and only the check reads far enough to see it.
    let db = d.join("history.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let pages = bytes.len() / PAGE;
    assert!(pages > 20, "{pages} pages");
    let middle = pages / 2 * PAGE;
    bytes[middle..middle + PAGE].fill(0);
    std::fs::write(&db, &bytes).unwrap();
    History::open_in(d).expect("opening reads only the first page and the schema");

    let o = fouro.run(&["history", "--check"]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("is damaged") && err.contains("fouro history --move-aside"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "the check changed the file"
    );

    let o = fouro.run(&["history", "--check", "--json"]).await;
    assert_eq!(code(&o), 2, "--check stands alone: {}", stderr(&o));
}

#[tokio::test]
async fn history_json_is_written_as_it_is_read_as_one_array_or_as_lines() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // More than one batch, with a prompt holding what must not reach a terminal raw.
    let h = History::open_in(d).unwrap();
    for i in 0..1_234_i64 {
        let prompt = format!("fox {i}\n\u{1b}[31mred\u{2028}");
        h.insert(
            &format!("task_4o_{i:05}"),
            BASE,
            &crate::prompt(&prompt),
            NOW + i / 3,
        )
        .unwrap();
    }
    drop(h);
    let fouro = Fouro::new(d);

    let o = fouro.run(&["history", "--json", "--limit", "5000"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{2028}'));
    let array: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(array.len(), 1_234);
    let ids: Vec<&str> = array
        .iter()
        .map(|e| e["taskId"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "task_4o_01233", "newest first");
    assert_eq!(ids[1_233], "task_4o_00000");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 1_234, "each once");
    assert_eq!(
        array[0]["params"]["prompt"],
        "fox 1233\n\u{1b}[31mred\u{2028}"
    );

    let o = fouro.run(&["history", "--jsonl", "--limit", "5000"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, array, "the same entries, one a line");

    let o = fouro.run(&["history", "--jsonl", "--limit", "2"]).await;
    assert_eq!(stdout(&o).lines().count(), 2);
    let o = fouro
        .run(&["history", "--json", "--search", "no such text"])
        .await;
    assert_eq!(stdout(&o).trim(), "[]");
    let o = fouro.run(&["history", "--json", "--jsonl"]).await;
    assert_eq!(code(&o), 2, "one or the other: {}", stderr(&o));
}

#[test]
fn the_search_index_is_built_for_an_older_history_and_kept_with_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open_in(dir.path()).unwrap();
    for (i, prompt) in ["A Lighthouse at dusk", "a red fox", "50%_off \"sale\""]
        .iter()
        .enumerate()
    {
        h.insert(
            &format!("task_4o_{i}"),
            BASE,
            &crate::prompt(prompt),
            NOW + i as i64,
        )
        .unwrap();
    }
    drop(h);
    // The history as the previous schema left it: no search index.
    {
        let conn = rusqlite::Connection::open(dir.path().join("history.db")).unwrap();
        conn.execute_batch(
            "DROP TRIGGER tasks_text_insert; DROP TRIGGER tasks_text_delete;
             DROP TRIGGER tasks_text_update; DROP TABLE tasks_text;
             PRAGMA user_version = 4;",
        )
        .unwrap();
    }
    let h = History::open_in(dir.path()).unwrap();
    let ids = |text: &str| -> Vec<String> {
        h.page(&search(text), 0, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.task_id)
            .collect()
    };
    assert_eq!(ids("ighthou"), ["task_4o_0"], "a part of a word, any case");
    assert_eq!(ids("LIGHTHOUSE AT"), ["task_4o_0"]);
    assert_eq!(ids("%_o"), ["task_4o_2"], "wildcards are themselves");
    assert_eq!(ids("\"sale\""), ["task_4o_2"], "quotes are themselves");
    assert_eq!(ids("4o_1"), ["task_4o_1"], "the task id too");
    assert_eq!(
        ids("fo"),
        ["task_4o_1"],
        "two characters: read without the index"
    );
    assert!(ids("zebra").is_empty());
    assert_eq!(h.count(&search("task_4o")).unwrap(), 3);

    h.insert("task_4o_new", BASE, &prompt("a lighthouse in fog"), NOW + 9)
        .unwrap();
    assert_eq!(ids("lighthouse"), ["task_4o_new", "task_4o_0"]);
    h.delete("task_4o_0").unwrap();
    assert_eq!(ids("lighthouse"), ["task_4o_new"]);
    assert_eq!(h.check().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_generate_answered_429_past_its_retries_waits_out_the_window() {
    use crate::common::{calls, client_with, emulator, fault};
    let emu = emulator(300).await;
    // `--retries 1`: two attempts, which the 429s alone outlast.
    let c = client_with(&emu, |cfg| cfg.retry.max_attempts = 2);
    fault(
        &emu,
        "generate",
        3,
        "code",
        serde_json::json!({"code": 429}),
    )
    .await;
    let started = std::time::Instant::now();
    let id = c.generate(&prompt("after the window").request()).await;
    assert!(id.is_ok(), "{id:?}");
    assert_eq!(calls(&emu, "generate").await, 4);
    // Past the attempts allowed, a second at least between tries.
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn building_the_search_index_of_a_long_history_is_said_on_stderr() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    History::open_in(d).unwrap();
    // 12,000 entries as the previous schema left them: no search index.
    {
        let mut conn = rusqlite::Connection::open(d.join("history.db")).unwrap();
        conn.execute_batch(
            "DROP TRIGGER tasks_text_insert; DROP TRIGGER tasks_text_delete;
             DROP TRIGGER tasks_text_update; DROP TABLE tasks_text;
             PRAGMA user_version = 4;",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..12_000 {
            tx.execute(
                "INSERT INTO tasks (task_id, base_url, prompt, size, variants, status,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, '1:1', 1, 'SUCCESS', ?4, ?4)",
                rusqlite::params![format!("task_4o_{i:05}"), BASE, format!("fox {i}"), NOW + i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let fouro = Fouro::new(d);
    let o = fouro
        .run(&["history", "--search", "fox 11999", "--limit", "1"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("building the search index of the history's 12000 entries"),
        "{err}"
    );
    assert!(err.contains("the search index is built ("), "{err}");
    assert!(stdout(&o).contains("task_4o_11999"), "{}", stdout(&o));
    // Once only.
    let o = fouro.run(&["history", "--limit", "1"]).await;
    assert!(!stderr(&o).contains("search index"), "{}", stderr(&o));
}
