//! A search finds the same entries, in the same order, whichever way the history reads them:
//! through the search index for a rare text, newest first row by row for a common one, from
//! the oldest for a page deep in a common text's matches.

use fouro::store::{History, Query, StatusFilter};

use crate::search;

const BASE: &str = "http://127.0.0.1:9";
const NOW: i64 = 1_760_000_000_000;
const ROWS: usize = 60_000;

/// Prompt of row `i`: a text in two rows of three ("lighthouse"), one in 22 ("harbour", and
/// "ÉTÉ", in capitals outside ASCII), one in 40 ("a pier"), one in 500 ("Été").
fn prompt_of(i: usize) -> String {
    let mut words = vec![format!("row {i}:")];
    if !i.is_multiple_of(3) {
        words.push("a Lighthouse".into());
    }
    if i.is_multiple_of(22) {
        words.push("in a harbour, ÉTÉ".into());
    }
    if i.is_multiple_of(40) {
        words.push("by a pier".into());
    }
    if i.is_multiple_of(500) {
        words.push("en Été".into());
    }
    words.join(" ")
}

/// One row in 1,000 failed.
fn failed(i: usize) -> bool {
    i % 1_000 == 7
}

/// Times out of the order rows are written in, several rows to a time.
fn created_at(i: usize) -> i64 {
    NOW + ((i / 2) as i64 * 7_919) % 30_011
}

fn fill(h: &History) {
    let mut conn = rusqlite::Connection::open(h.path()).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO tasks (task_id, base_url, prompt, size, variants, status,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, '1:1', 1, ?5, ?4, ?4)",
            )
            .unwrap();
        for i in 0..ROWS {
            stmt.execute(rusqlite::params![
                format!("task_{i:05}"),
                BASE,
                prompt_of(i),
                created_at(i),
                if failed(i) {
                    "GENERATE_FAILED"
                } else {
                    "SUCCESS"
                }
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// The ids of the rows whose prompt or id holds `text` in any case, newest first (the later
/// written first among those created together).
fn expected(text: &str, only_failed: bool) -> Vec<String> {
    let text = text.to_lowercase();
    let mut rows: Vec<usize> = (0..ROWS)
        .filter(|&i| {
            prompt_of(i).to_lowercase().contains(&text) || format!("task_{i:05}").contains(&text)
        })
        .filter(|&i| !only_failed || failed(i))
        .collect();
    rows.sort_by_key(|&i| std::cmp::Reverse((created_at(i), i)));
    rows.iter().map(|i| format!("task_{i:05}")).collect()
}

fn ids(h: &History, query: &Query, offset: usize, limit: usize) -> Vec<String> {
    h.page(query, offset, limit)
        .unwrap()
        .into_iter()
        .map(|e| e.task_id)
        .collect()
}

#[test]
fn common_and_rare_texts_list_the_same_entries_as_a_reading_of_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open_in(dir.path()).unwrap();
    fill(&h);
    // Common, rarer, rare, outside ASCII, too short for the index, in no entry.
    for text in [
        "LIGHTHOUSE",
        "harbour",
        "a pier",
        "été",
        "Été",
        "en été",
        "ghth",
        "k_0",
        "zebra",
    ] {
        let all = expected(text, false);
        let query = search(text);
        for offset in [0, 70, 1_000, 12_000, 25_000, 39_950] {
            let want: Vec<String> = all.iter().skip(offset).take(100).cloned().collect();
            assert_eq!(ids(&h, &query, offset, 100), want, "{text:?} from {offset}");
        }
        assert_eq!(
            h.count_upto(&query, ROWS).unwrap(),
            all.len(),
            "{text:?}: every match counted"
        );
        let capped = h.count_upto(&query, 500).unwrap();
        assert_eq!(
            capped,
            all.len().min(501),
            "{text:?}: counted to 500 and one"
        );
    }
    assert!(
        expected("été", false).len() > ROWS / 22,
        "other letters in any case too"
    );

    // A common text among the few entries of a status.
    for text in ["LIGHTHOUSE", "row", "007:"] {
        let query = Query {
            status: Some(StatusFilter::Failed),
            ..search(text)
        };
        let all = expected(text, true);
        assert!(!all.is_empty());
        assert_eq!(ids(&h, &query, 0, 100), all, "{text:?}, failed only");
        assert_eq!(h.count_upto(&query, 500).unwrap(), all.len(), "{text:?}");
        assert_eq!(
            h.count_upto(&query, 5).unwrap(),
            all.len().min(6),
            "{text:?}, capped"
        );
    }
}
