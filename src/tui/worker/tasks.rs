//! The app's adapter over the task workflow (`crate::tasks`): submissions, followers and
//! downloads, each answering with Actions. The workflow writes the history; an answer reaches
//! the app only after it is recorded.

use std::ops::ControlFlow;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Sender;
use super::account::Callbacks;
use super::clients::{Clients, current};
use crate::api::poll::PollOptions;
use crate::api::{Client, ErrorClass};
use crate::store::files::SaveError;
use crate::tasks::{Progress, Stage, Workflow};
use crate::tui::action::{Action, Draft, Failure, NewTask, SubmitStage};

/// The low-balance check before a submit, on a balance read now (within the workflow's
/// limit): `Action::SubmitHeld` when the policy says it probably cannot cover `images`;
/// `None` (go on) when it can, or when it could not be read.
pub(super) async fn held(
    client: &Client,
    workflow: &Workflow,
    job: u64,
    low_balance: Option<f64>,
    images: u32,
) -> Option<Action> {
    let balance = workflow.balance_around_task(client).await?;
    let per_image = workflow.cost_per_image(client.base_url()).await;
    let shortfall = crate::tasks::policy::shortfall(balance, low_balance, per_image, images)?;
    Some(Action::SubmitHeld {
        job,
        balance,
        per_image,
        shortfall,
    })
}

/// Uploads local references (saying which), creates the task, and has its id kept before
/// anyone sees it. Quitting (`closing`) stops it only before `generate`.
pub(super) async fn submit(
    client: &Client,
    tx: &Sender,
    job: u64,
    draft: Draft,
    workflow: &Workflow,
    callbacks: Option<Arc<Callbacks>>,
    closing: CancellationToken,
) -> Result<NewTask, Failure> {
    let url = callbacks.as_ref().map(|c| c.url());
    let submitted = workflow
        .submit(client, draft, url, &closing, |stage| {
            let stage = match stage {
                Stage::Uploading { index, total, name } => {
                    SubmitStage::Uploading { index, total, name }
                }
                Stage::Creating { .. } => SubmitStage::Creating,
                Stage::Created { task_id } => {
                    if let Some(c) = &callbacks {
                        c.listener.expect(&task_id);
                    }
                    return;
                }
            };
            let _ = tx.send(Action::SubmitProgress { job, stage });
        })
        .await
        .map_err(|e| {
            if closing.is_cancelled() && matches!(e, crate::api::Error::Input(_)) {
                Failure::new(
                    ErrorClass::Other,
                    "cancelled: the app quit before the task was created",
                )
            } else {
                Failure::from(e)
            }
        })?;
    Ok(NewTask {
        task_id: submitted.task_id,
        created_at: submitted.created_at,
        journal_warning: submitted.warning,
    })
}

/// What one follower follows.
pub(super) struct PollJob {
    pub task_id: String,
    pub generation: u64,
    pub opts: PollOptions,
    pub workflow: Workflow,
    pub callbacks: Option<Arc<Callbacks>>,
}

/// Follows one task through the workflow, telling the app every recorded answer and every
/// retry, until the task ends, a refusal or the overall limit stops it, or the app is gone.
/// The last answer is sent after the task's cost was observed.
pub(super) async fn poll(clients: Clients, tx: Sender, job: PollJob) {
    let Some(client) = current(clients).await else {
        return;
    };
    let PollJob {
        task_id,
        generation,
        opts,
        workflow,
        callbacks,
    } = job;
    let stop = CancellationToken::new();
    let result = workflow
        .follow(&client, &task_id, &opts, &stop, |p| {
            let action = match p {
                Progress::Update(record) if record.status.is_final() => {
                    return ControlFlow::Break(());
                }
                Progress::Update(record) => Action::TaskUpdate {
                    task_id: task_id.clone(),
                    generation,
                    record: record.clone(),
                },
                Progress::Retry(retry) => Action::PollRetry {
                    task_id: task_id.clone(),
                    generation,
                    retry: retry.clone(),
                },
                Progress::Warning(w) => {
                    tracing::warn!(%task_id, "{w}");
                    return ControlFlow::Continue(());
                }
            };
            if tx.send(action).is_err() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await;
    let action = match result {
        Ok(record) if record.status.is_final() => {
            if let Some(callbacks) = &callbacks {
                callbacks.listener.forget(&task_id);
            }
            let success = !record.status.is_failure();
            workflow.observe_cost(&client, &task_id, success).await;
            Action::TaskUpdate {
                task_id,
                generation,
                record,
            }
        }
        // The app is gone.
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(%task_id, "following stopped: {e}");
            Action::PollFailed {
                task_id,
                generation,
                failure: Failure::from(e),
                stopped: true,
            }
        }
    };
    let _ = tx.send(action);
}

/// Saves each result into the data directory and records it.
pub(super) async fn download(
    clients: Clients,
    tx: Sender,
    workflow: Workflow,
    task_id: String,
    created_at: i64,
    items: Vec<(usize, String)>,
) {
    let Some(client) = current(clients).await else {
        return;
    };
    for (index, url) in items {
        let result = workflow
            .download(&client, &task_id, created_at, index, &url)
            .await
            .map_err(|e| match e {
                SaveError::Api(e) => Failure::from(e),
                other => Failure::new(ErrorClass::Other, other.to_string()),
            });
        if let Err(f) = &result {
            tracing::warn!(%task_id, index, "download failed: {}", f.message);
        }
        if tx
            .send(Action::ImageSaved {
                task_id: task_id.clone(),
                index,
                result,
            })
            .is_err()
        {
            return;
        }
    }
}
