//! What the history says of a line whose generate call the manifest saw start and never end.
//! The workflow writes its in-flight record just before the call and replaces it with the
//! task once the id is kept, so: a task of that request kept since then is the line's own
//! (the process died before the manifest heard of it); an in-flight record means the call may
//! have reached the service with its answer lost; neither means the call was never made.

use std::collections::HashSet;
use std::path::Path;

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

/// Keeps a task the manifest has an id for and the history lacks (the process died between
/// the two writes, a moment apart), ending the in-flight record of its call, so that the
/// history, `sync` and the app know it. `submitted_at` is when the manifest took the id.
pub fn keep_known(
    history: &History,
    data_dir: &Path,
    base_url: &str,
    entry: &Entry,
    task_id: &str,
    submitted_at: i64,
) -> Result<(), String> {
    if history.get(task_id).map_err(|e| e.to_string())?.is_some() {
        return Ok(());
    }
    let call = history
        .in_flight()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|f| {
            f.started_at <= submitted_at
                && same_service(&f.base_url, base_url)
                && asks_for(&f.params, entry)
        })
        .max_by_key(|f| f.started_at);
    // The call's own record has the references' uploaded URLs; the line has only their names.
    let params = match &call {
        Some(c) => c.params.clone(),
        None => Params {
            prompt: entry.request.prompt.clone(),
            size: entry.request.size,
            variants: entry.request.variants,
            enhance: entry.request.enhance,
            fallback: entry.request.fallback,
            ..Params::default()
        },
    };
    let key = call.map(|c| c.key);
    crate::store::keep_task(
        Some(history),
        data_dir,
        task_id,
        base_url,
        &params,
        submitted_at,
        key.as_deref(),
    )
    .map(|_| ())
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

    #[test]
    fn a_task_only_the_manifest_knows_is_kept_and_its_call_ended() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open_in(dir.path()).unwrap();
        let request = GenerateRequest {
            prompt: Some("a fox".into()),
            files_url: vec!["https://files.example/fox.png".into()],
            ..GenerateRequest::default()
        };
        h.begin_in_flight("k1", BASE, &request, 1500).unwrap();
        keep_known(&h, dir.path(), BASE, &entry("a fox"), "task_z", 1600).unwrap();
        let kept = h.get("task_z").unwrap().expect("kept");
        assert_eq!(kept.params.refs[0].url, "https://files.example/fox.png");
        assert!(h.in_flight().unwrap().is_empty(), "the call is answered");
        // Kept already: nothing changes.
        keep_known(&h, dir.path(), BASE, &entry("a fox"), "task_z", 1600).unwrap();
    }
}
