//! What fouro keeps on disk: the history database, the downloaded images, and the journal
//! that takes a task id when the database cannot.

mod entry;
pub mod files;
pub mod history;
pub mod journal;
mod schema;
pub mod sync;
pub mod text;
pub mod usage;

use std::path::Path;

pub use history::{Entry, History, Params, Query, Reference, Status, StatusFilter, StoreError};

/// Keeps a task id the service just returned, before anything else happens with it: in the
/// history, or, if that fails, in the journal (imported into the history when it next opens).
/// `Ok(Some(warning))` says the id is only in the journal; `Err` that it is nowhere on disk
/// (the message names it, so the person can note it down).
pub fn keep_task(
    history: Option<&History>,
    data_dir: &Path,
    task_id: &str,
    base_url: &str,
    params: &Params,
    created_at: i64,
) -> Result<Option<String>, String> {
    let db_error = match history.map(|h| h.insert(task_id, base_url, params, created_at)) {
        Some(Ok(())) => return Ok(None),
        Some(Err(e)) => e.to_string(),
        None => "the history database is not open".to_owned(),
    };
    let journal = journal::Journal::in_dir(data_dir);
    let entry = journal::JournalEntry {
        task_id: task_id.to_owned(),
        base_url: base_url.to_owned(),
        submitted_at: created_at,
        request: params.request(),
    };
    match journal.append(&entry) {
        Ok(()) => Ok(Some(format!(
            "task {task_id} is kept in {} only ({db_error})",
            journal.path().display()
        ))),
        Err(e) => Err(format!(
            "task {task_id} could not be recorded ({db_error}; {}: {e}): note the id down",
            journal.path().display()
        )),
    }
}
