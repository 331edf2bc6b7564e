//! What fouro keeps on disk: the history database, the downloaded images, and the journal
//! that takes a task id when the database cannot.

mod count;
mod entry;
mod expire;
pub mod files;
pub mod history;
mod import;
pub mod inflight;
pub mod journal;
pub mod private;
mod prompts;
pub mod queue;
mod record;
mod schema;
mod search;
mod stream;
pub mod text;
pub mod usage;

use std::path::Path;

pub use count::COUNT_PAST;
pub use history::{Entry, History, Params, Query, Reference, Status, StatusFilter, StoreError};
pub use inflight::{ID_UNKNOWN, InFlight};
pub use search::{SHORT_SEARCH_SCOPE, is_short};

/// Keeps a task id the service just returned, before anything else happens with it: in the
/// history, or, if that fails, in the journal (imported into the history when it next opens).
/// `submission` is the in-flight record this id answers, if one was written; it is ended.
/// `Ok(Some(warning))` says the id is only in the journal; `Err` that it is nowhere on disk
/// (the message names it, so the person can note it down while it is tried again).
pub fn keep_task(
    history: Option<&History>,
    data_dir: &Path,
    task_id: &str,
    base_url: &str,
    params: &Params,
    created_at: i64,
    submission: Option<&str>,
) -> Result<Option<String>, String> {
    let db_error = match history.map(|h| h.insert(task_id, base_url, params, created_at)) {
        Some(Ok(())) => {
            if let (Some(h), Some(key)) = (history, submission)
                && let Err(e) = h.end_in_flight(key)
            {
                tracing::warn!(%task_id, "the in-flight record stays: {e}");
            }
            return Ok(None);
        }
        Some(Err(e)) => e.to_string(),
        None => "the history database is not open".to_owned(),
    };
    let journal = journal::Journal::in_dir(data_dir);
    let entry = journal::JournalEntry {
        task_id: task_id.to_owned(),
        base_url: base_url.to_owned(),
        submitted_at: created_at,
        request: params.request(),
        submission: submission.map(str::to_owned),
    };
    match journal.append(&entry) {
        Ok(()) => Ok(Some(format!(
            "task {task_id} is kept in {} only ({db_error})",
            journal.path().display()
        ))),
        Err(e) => Err(format!(
            "task {task_id} could not be recorded yet ({db_error}; {}: {e}): note the id down; fouro keeps trying",
            journal.path().display()
        )),
    }
}

/// Writes the in-flight record of a generate call about to be made (`key` names it), in the
/// history or else in the journal. `Err` says why it is nowhere: the call should not be made.
pub fn keep_in_flight(
    history: &History,
    data_dir: &Path,
    key: &str,
    base_url: &str,
    params: &Params,
    started_at: i64,
) -> Result<(), String> {
    let request = params.request();
    let db_error = match history.begin_in_flight(key, base_url, &request, started_at) {
        Ok(()) => return Ok(()),
        Err(e) => e.to_string(),
    };
    let journal = journal::Journal::in_dir(data_dir);
    let entry = journal::JournalEntry {
        task_id: String::new(),
        base_url: base_url.to_owned(),
        submitted_at: started_at,
        request,
        submission: Some(key.to_owned()),
    };
    journal
        .append(&entry)
        .map_err(|e| format!("{db_error}; {}: {e}", journal.path().display()))
}
