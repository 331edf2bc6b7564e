//! What the history says of a line whose generate call the manifest saw start and never end.
//! The workflow writes its in-flight record just before the call and replaces it with the
//! task once the id is kept, so: a task of that request kept since then is the line's own
//! (the process died before the manifest heard of it); an in-flight record means the call may
//! have reached the service with its answer lost; neither means the call was never made.

use std::collections::HashSet;

use super::input::Entry;
use crate::store::{History, Params, Query, StoreError};
use crate::tasks::settle::same_service;

/// The history's word on a cut-off line.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// The task was made and kept: follow it.
    Task(String),
    /// The call was under way: the service may have made a task whose id no one knows.
    InFlight,
    /// The call was never made: submitting the line is safe.
    Nothing,
}

/// Looks for the line's task or call in `base_url`'s history since `since` (ms), passing
/// over the tasks `claimed` by other lines.
pub fn cut_off(
    history: &History,
    base_url: &str,
    entry: &Entry,
    since: i64,
    claimed: &HashSet<String>,
) -> Result<Found, StoreError> {
    let query = Query {
        search: entry.request.prompt.clone(),
        ..Query::default()
    };
    let task = history
        .page(&query, 0, 200)?
        .into_iter()
        .filter(|e| e.created_at >= since && same_service(&e.base_url, base_url))
        .filter(|e| asks_for(&e.params, entry) && !claimed.contains(&e.task_id))
        .min_by_key(|e| e.created_at);
    if let Some(task) = task {
        return Ok(Found::Task(task.task_id));
    }
    let in_flight = history.in_flight()?.into_iter().any(|f| {
        f.started_at >= since && same_service(&f.base_url, base_url) && asks_for(&f.params, entry)
    });
    Ok(if in_flight {
        Found::InFlight
    } else {
        Found::Nothing
    })
}

/// Whether a kept request is the line's: the same prompt, aspect and count.
fn asks_for(params: &Params, entry: &Entry) -> bool {
    params.prompt == entry.request.prompt
        && params.size == entry.request.size
        && params.variants == entry.request.variants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{GenerateRequest, Size, Variants};
    use crate::tasks::Request;

    const BASE: &str = "http://127.0.0.1:1";

    fn entry(prompt: &str) -> Entry {
        Entry {
            line: 1,
            text: prompt.to_owned(),
            request: Request {
                prompt: Some(prompt.to_owned()),
                refs: Vec::new(),
                mask: None,
                size: Size::Square,
                variants: Variants::One,
                enhance: false,
                fallback: None,
            },
        }
    }

    fn params(prompt: &str) -> Params {
        Params {
            prompt: Some(prompt.to_owned()),
            ..Params::default()
        }
    }

    #[test]
    fn a_kept_task_an_open_call_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open_in(dir.path()).unwrap();
        let none = HashSet::new();
        assert_eq!(
            cut_off(&h, BASE, &entry("a fox"), 1000, &none).unwrap(),
            Found::Nothing
        );
        let request = GenerateRequest {
            prompt: Some("a fox".into()),
            ..GenerateRequest::default()
        };
        h.begin_in_flight("k1", BASE, &request, 1500).unwrap();
        assert_eq!(
            cut_off(&h, BASE, &entry("a fox"), 1000, &none).unwrap(),
            Found::InFlight
        );
        assert_eq!(
            cut_off(&h, BASE, &entry("a fox"), 2000, &none).unwrap(),
            Found::Nothing,
            "a call from before the line's is not its"
        );
        h.insert("task_a", BASE, &params("a fox"), 1600).unwrap();
        h.insert("task_b", BASE, &params("a fox, larger"), 1600)
            .unwrap();
        assert_eq!(
            cut_off(&h, BASE, &entry("a fox"), 1000, &none).unwrap(),
            Found::Task("task_a".into())
        );
        let claimed = HashSet::from(["task_a".to_owned()]);
        assert_eq!(
            cut_off(&h, BASE, &entry("a fox"), 1000, &claimed).unwrap(),
            Found::InFlight
        );
    }
}
