//! The task workflow, with no UI in it: submit (check the references, upload, write the
//! in-flight record, generate, keep the id), follow (status queries within the service's
//! limits, every answer recorded before anyone is told of it, transient failures retried up to
//! the overall limit), download, observe what a task cost, read the balance, estimate a
//! shortfall. The app's worker, `generate`, `download` and `sync` are adapters over it, and
//! the rules they share are in [`policy`].

pub mod follow;
pub mod policy;
pub mod settle;
pub mod submit;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::api::{self, Client, TaskRecord};
use crate::store::files::{SaveError, save_image};
use crate::store::usage::CostWatch;
use crate::store::{History, Params};

pub use follow::{Progress, Retry};
pub use submit::{Request, Stage, Submitted};

/// One process's view of its tasks: the history, where images go, whose cost can be observed,
/// and the ids the disk could not take yet.
#[derive(Debug, Clone)]
pub struct Workflow {
    history: History,
    data_dir: PathBuf,
    costs: Arc<Mutex<CostWatch>>,
    unkept: Arc<Mutex<Vec<Unkept>>>,
}

/// A task id neither the history nor the journal could take: kept here, and tried again
/// before every later write, until one takes it.
#[derive(Debug, Clone)]
struct Unkept {
    task_id: String,
    base_url: String,
    params: Params,
    created_at: i64,
    submission: Option<String>,
}

impl Workflow {
    pub fn new(history: History, data_dir: PathBuf) -> Workflow {
        Workflow {
            history,
            data_dir,
            costs: Arc::default(),
            unkept: Arc::default(),
        }
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Ids this process holds that are on no disk yet.
    pub fn unkept(&self) -> Vec<String> {
        self.unkept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|u| u.task_id.clone())
            .collect()
    }

    /// Whether `task_id` is one of the ids held in memory only.
    fn holds(&self, task_id: &str) -> bool {
        self.unkept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|u| u.task_id == task_id)
    }

    /// Tries again to keep every id not kept yet (blocking: call it off the async threads);
    /// returns a warning naming those still nowhere.
    fn keep_unkept(&self) -> Option<String> {
        let mut unkept = self.unkept.lock().unwrap_or_else(|p| p.into_inner());
        if unkept.is_empty() {
            return None;
        }
        let mut last = None;
        unkept.retain(|u| {
            match crate::store::keep_task(
                Some(&self.history),
                &self.data_dir,
                &u.task_id,
                &u.base_url,
                &u.params,
                u.created_at,
                u.submission.as_deref(),
            ) {
                Ok(_) => {
                    tracing::info!(task_id = %u.task_id, "the task id is kept at last");
                    false
                }
                Err(why) => {
                    last = Some(why);
                    true
                }
            }
        });
        last
    }

    /// Records a task's answer in the history, after any id still waiting to be kept.
    /// Returns what could not be written, if anything.
    pub async fn record(&self, record: &TaskRecord) -> Option<String> {
        let (this, r) = (self.clone(), record.clone());
        let now = chrono::Utc::now().timestamp_millis();
        let result = tokio::task::spawn_blocking(move || {
            let unkept = this.keep_unkept();
            let recorded = match this.history.record(&r, now) {
                Ok(true) => None,
                Ok(false) => Some(format!(
                    "task {} is not in the history, so its state was not recorded",
                    r.task_id
                )),
                Err(e) => Some(format!("could not record the task's state: {e}")),
            };
            unkept.or(recorded)
        })
        .await;
        result.unwrap_or_else(|e| Some(format!("could not record the task's state: {e}")))
    }

    /// Reads the balance and keeps the reading (the usage's balance over time).
    pub async fn read_balance(&self, client: &Client) -> api::Result<f64> {
        read_balance(client, &self.history).await
    }

    /// A reading around a task: within [`policy::BALANCE_READ_LIMIT`]; `None` when it could
    /// not be had in time (the cost then stays unknown; nothing is said).
    pub async fn balance_around_task(&self, client: &Client) -> Option<f64> {
        match tokio::time::timeout(policy::BALANCE_READ_LIMIT, self.read_balance(client)).await {
            Ok(Ok(b)) => Some(b),
            Ok(Err(e)) => {
                tracing::info!("balance not read: {e}");
                None
            }
            Err(_) => {
                tracing::info!("balance not read in time");
                None
            }
        }
    }

    /// The usual cost of an image on this service over the last 30 days, as observed.
    pub async fn cost_per_image(&self, base_url: &str) -> Option<f64> {
        let base = base_url.to_owned();
        let now = chrono::Utc::now().timestamp_millis();
        let offset = chrono::Local::now().offset().local_minus_utc();
        let usage = self
            .history
            .blocking(move |h| h.usage(&base, now, offset, 30))
            .await;
        usage.ok()?.cost_per_image()
    }

    /// A task ended: if nothing else of this process ran while it did, the balance now tells
    /// what it cost, kept by [`policy::kept_cost`].
    pub async fn observe_cost(&self, client: &Client, task_id: &str, success: bool) {
        let before = self
            .costs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ended(task_id);
        let Some(before) = before else {
            return;
        };
        let Some(after) = self.balance_around_task(client).await else {
            return;
        };
        if let Some(cost) = policy::kept_cost(before, after, success) {
            let id = task_id.to_owned();
            if let Err(e) = self.history.blocking(move |h| h.set_cost(&id, cost)).await {
                tracing::warn!(%task_id, "could not keep the cost: {e}");
            }
        }
    }

    /// Downloads result `index` of a task into the data directory and records it.
    pub async fn download(
        &self,
        client: &Client,
        task_id: &str,
        created_at: i64,
        index: usize,
        url: &str,
    ) -> Result<PathBuf, SaveError> {
        save_image(
            client,
            Some(&self.history),
            &self.data_dir,
            task_id,
            created_at,
            index,
            url,
        )
        .await
    }
}

/// Reads the balance and keeps the reading in `history` (the usage's balance over time); a
/// reading that cannot be kept is only logged.
pub async fn read_balance(client: &Client, history: &History) -> api::Result<f64> {
    let balance = client.credits().await?;
    let (base, at) = (
        client.base_url().to_owned(),
        chrono::Utc::now().timestamp_millis(),
    );
    if let Err(e) = history
        .blocking(move |h| h.record_balance(&base, at, balance))
        .await
    {
        tracing::warn!("balance reading not kept: {e}");
    }
    Ok(balance)
}
