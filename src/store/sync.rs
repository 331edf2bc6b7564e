//! Settling the history: polls every task still generating, downloads every result not saved
//! yet, and marks what the service no longer keeps as expired. `fouro sync` runs it; the app
//! does the same through its own pollers when it starts.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::Serialize;

use crate::api::poll::{PollOptions, Round, poll_task};
use crate::api::{self, Client};
use crate::store::files::save_image;
use crate::store::{Entry, History, Status, StoreError};

/// How many tasks are settled at once (each within the client's per-task limits).
const AT_ONCE: usize = 8;

/// What became of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    pub task_id: String,
    pub status: Status,
    /// Images saved by this run.
    pub saved: Vec<PathBuf>,
    /// Images still not on disk.
    pub missing: usize,
    /// Why it is not settled (a query or a download failed), if it is not.
    pub error: Option<String>,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Tasks newly marked expired (older than the service keeps them).
    pub expired: usize,
    pub tasks: Vec<Settled>,
    /// Tasks recorded against another service; they are left for a run against it.
    pub other_service: Vec<String>,
}

impl Report {
    /// Whether everything this run could reach is settled.
    pub fn is_complete(&self) -> bool {
        self.tasks
            .iter()
            .all(|t| t.error.is_none() && t.missing == 0 && t.status.is_final())
    }
}

/// Settles every unsettled task of this client's service; `on_update` hears of each task as
/// it changes.
pub async fn sync(
    client: &Client,
    history: &History,
    data_dir: &Path,
    opts: &PollOptions,
    on_update: impl Fn(&Settled) + Sync,
) -> Result<Report, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let expired = history.blocking(move |h| h.expire(now)).await?;
    let unsettled = history.blocking(|h| h.unsettled()).await?;
    let (ours, theirs): (Vec<Entry>, Vec<Entry>) = unsettled
        .into_iter()
        .partition(|e| same_service(&e.base_url, client.base_url()));
    let on_update = &on_update;
    let mut tasks: Vec<Settled> = futures::stream::iter(ours)
        .map(|entry| async move {
            let settled = settle(client, history, data_dir, opts, entry).await;
            on_update(&settled);
            settled
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
    Ok(Report {
        expired,
        tasks,
        other_service: theirs.into_iter().map(|e| e.task_id).collect(),
    })
}

/// Whether two base URLs name the same service (a trailing slash aside).
pub fn same_service(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

async fn settle(
    client: &Client,
    history: &History,
    data_dir: &Path,
    opts: &PollOptions,
    entry: Entry,
) -> Settled {
    let task_id = entry.task_id.clone();
    let mut error = None;
    if entry.status == Status::Generating {
        let result = poll_task(client, &task_id, opts, |round| {
            if let Round::Record(record) = round {
                let (h, r) = (history.clone(), record.clone());
                let now = chrono::Utc::now().timestamp_millis();
                // Quick, and the poll waits seconds between rounds anyway.
                if let Err(e) = h.record(&r, now) {
                    tracing::warn!(task_id = %r.task_id, "could not record the status: {e}");
                }
            }
            ControlFlow::Continue(())
        })
        .await;
        if let Err(e) = result {
            error = Some(e.to_string());
        }
    }
    let id = task_id.clone();
    let entry = match history.blocking(move |h| h.get(&id)).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Settled {
                task_id,
                status: entry.status,
                saved: Vec::new(),
                missing: 0,
                error: Some("the entry was deleted meanwhile".into()),
            };
        }
        Err(e) => {
            return Settled {
                task_id,
                status: entry.status,
                saved: Vec::new(),
                missing: entry.missing().count(),
                error: Some(e.to_string()),
            };
        }
    };
    let mut saved = Vec::new();
    for image in entry.missing() {
        let result = save_image(
            client,
            Some(history),
            data_dir,
            &task_id,
            entry.created_at,
            image.index,
            &image.url,
        )
        .await;
        match result {
            Ok(path) => saved.push(path),
            Err(e) => {
                error.get_or_insert_with(|| e.to_string());
                if let crate::store::files::SaveError::Api(api::Error::Unauthorized { .. }) = e {
                    break;
                }
            }
        }
    }
    Settled {
        task_id,
        status: entry.status,
        missing: entry.missing().count() - saved.len(),
        saved,
        error,
    }
}
