//! Settling the history: follows every task still generating, downloads every result not
//! saved yet, and marks what the service no longer keeps as expired. `fouro sync` runs it; the
//! app does the same through its own followers when it starts.
//!
//! Each task is followed with the workflow's patience; but when the service answers none of
//! the tasks being followed for [`UNREACHABLE_ROUNDS`] queries in a row, the run ends and says
//! what is left, instead of waiting out every task's limit.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Mutex;

use futures::StreamExt;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Progress, Workflow};
use crate::api::poll::PollOptions;
use crate::api::{self, Client};
use crate::store::{Entry, InFlight, Status, StoreError};

/// Failed queries in a row, for every task being followed, that end a sync.
pub const UNREACHABLE_ROUNDS: u32 = 2;

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
    /// The service answered none of the tasks followed: the run stopped early.
    pub unreachable: bool,
    /// Generate calls whose answer never arrived (a crash during the call): a billed task
    /// may exist that no client can find; the service's logs tell.
    pub in_flight: Vec<InFlight>,
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
/// it is settled (or given up on).
pub async fn sync(
    workflow: &Workflow,
    client: &Client,
    opts: &PollOptions,
    on_update: impl Fn(&Settled) + Sync,
) -> Result<Report, StoreError> {
    let history = workflow.history();
    let now = chrono::Utc::now().timestamp_millis();
    let expired = history.blocking(move |h| h.expire(now)).await?;
    let unsettled = history.blocking(|h| h.unsettled()).await?;
    let in_flight = history.blocking(|h| h.in_flight()).await?;
    let (ours, theirs): (Vec<Entry>, Vec<Entry>) = unsettled
        .into_iter()
        .partition(|e| same_service(&e.base_url, client.base_url()));
    let reach = Reach::default();
    let (on_update, reach_ref) = (&on_update, &reach);
    let mut tasks: Vec<Settled> = futures::stream::iter(ours)
        .map(|entry| async move {
            let settled = settle(workflow, client, opts, reach_ref, entry).await;
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
        unreachable: reach.stop.is_cancelled(),
        in_flight: in_flight
            .into_iter()
            .filter(|f| same_service(&f.base_url, client.base_url()))
            .collect(),
    })
}

/// Whether the service answers any of the tasks being followed.
#[derive(Debug, Default)]
struct Reach {
    /// Failed queries in a row, per task being followed.
    failing: Mutex<HashMap<String, u32>>,
    /// Cancelled when none of them is answered any more.
    stop: CancellationToken,
}

impl Reach {
    fn following(&self, task_id: &str) {
        self.lock().insert(task_id.to_owned(), 0);
    }

    fn done(&self, task_id: &str) {
        self.lock().remove(task_id);
    }

    fn answered(&self, task_id: &str) {
        self.lock().insert(task_id.to_owned(), 0);
    }

    fn failed(&self, task_id: &str) {
        let mut failing = self.lock();
        *failing.entry(task_id.to_owned()).or_default() += 1;
        if failing.values().all(|n| *n >= UNREACHABLE_ROUNDS) {
            tracing::warn!("the service answers none of the tasks: stopping");
            self.stop.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether two base URLs name the same service (a trailing slash aside).
pub fn same_service(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

async fn settle(
    workflow: &Workflow,
    client: &Client,
    opts: &PollOptions,
    reach: &Reach,
    entry: Entry,
) -> Settled {
    let history = workflow.history();
    let task_id = entry.task_id.clone();
    if reach.stop.is_cancelled() {
        return Settled {
            task_id,
            status: entry.status,
            saved: Vec::new(),
            missing: entry.missing().count(),
            error: Some("not tried: the service could not be reached".into()),
        };
    }
    let mut error = None;
    if entry.status == Status::Generating {
        reach.following(&task_id);
        let result = workflow
            .follow(client, &task_id, opts, &reach.stop, |p| {
                match p {
                    Progress::Update(_) => reach.answered(&task_id),
                    Progress::Retry(_) => reach.failed(&task_id),
                    Progress::Warning(w) => tracing::warn!(%task_id, "{w}"),
                }
                ControlFlow::Continue(())
            })
            .await;
        reach.done(&task_id);
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
        if reach.stop.is_cancelled() {
            error.get_or_insert_with(|| "not downloaded: the service could not be reached".into());
            break;
        }
        let result = workflow
            .download(client, &task_id, entry.created_at, image.index, &image.url)
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
