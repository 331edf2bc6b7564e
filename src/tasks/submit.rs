//! Submitting: upload the local references, write the in-flight record, make the generate
//! call, and keep the id before anyone hears of it.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

use super::{Unkept, Workflow};
use crate::api::input::ImageSource;
use crate::api::{self, Client, Error, FallbackModel, Size, Variants};
use crate::store::{Params, Reference};

/// What a submission sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub prompt: Option<String>,
    pub refs: Vec<ImageSource>,
    pub mask: Option<ImageSource>,
    pub size: Size,
    pub variants: Variants,
    pub enhance: bool,
    pub fallback: Option<FallbackModel>,
}

/// Where a submission is, for whoever shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Uploading local file `index` of `total`.
    Uploading {
        index: usize,
        total: usize,
        name: String,
    },
    /// About to make the generate call; the balance just read, if it could be.
    Creating { balance: Option<f64> },
    /// The service accepted it: its id, not kept on disk yet (a callback listener may expect
    /// it now).
    Created { task_id: String },
}

/// A task the service accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub task_id: String,
    /// ms since the epoch: names its images' folder.
    pub created_at: i64,
    pub params: Params,
    /// The balance read just before the call, if it could be.
    pub balance_before: Option<f64>,
    /// Set when the id is only in the journal, or nowhere on disk yet (then it is kept in
    /// memory and tried again before every later write).
    pub warning: Option<String>,
}

impl Workflow {
    /// Submits `request`: uploads (stopped by `closing` until the generate call starts), the
    /// in-flight record, the generate call, the id kept. `callback_url` is sent as the task's
    /// `callBackUrl`.
    pub async fn submit(
        &self,
        client: &Client,
        request: Request,
        callback_url: Option<String>,
        closing: &CancellationToken,
        mut on_stage: impl FnMut(Stage),
    ) -> api::Result<Submitted> {
        let resolved = tokio::select! {
            r = resolve_all(client, &request, &mut on_stage) => r?,
            _ = closing.cancelled() => return Err(cancelled()),
        };
        if closing.is_cancelled() {
            return Err(cancelled());
        }
        let (refs, mask) = resolved;
        let params = Params {
            prompt: request.prompt,
            refs,
            mask,
            size: request.size,
            variants: request.variants,
            enhance: request.enhance,
            fallback: request.fallback,
            callback_url,
        };
        // The balance just before: what the task costs is the difference after it.
        let balance_before = self.balance_around_task(client).await;
        on_stage(Stage::Creating {
            balance: balance_before,
        });

        let key = submission_key();
        let base_url = client.base_url().to_owned();
        let started_at = chrono::Utc::now().timestamp_millis();
        {
            let (h, dir, k, b, p) = (
                self.history.clone(),
                self.data_dir.clone(),
                key.clone(),
                base_url.clone(),
                params.clone(),
            );
            tokio::task::spawn_blocking(move || {
                crate::store::keep_in_flight(&h, &dir, &k, &b, &p, started_at)
            })
            .await
            .unwrap_or_else(|e| Err(format!("internal error: {e}")))
            .map_err(|why| {
                Error::io(
                    "nothing was submitted: the submission could not be recorded (free some disk space)",
                    std::io::Error::other(why),
                )
            })?;
        }

        let task_id = match client.generate(&params.request()).await {
            Ok(id) => id,
            Err(e) => {
                if !may_have_been_taken(&e) {
                    let (h, k) = (self.history.clone(), key.clone());
                    if let Err(why) = h.blocking(move |h| h.end_in_flight(&k)).await {
                        tracing::warn!("the in-flight record of a refused call stays: {why}");
                    }
                }
                return Err(e);
            }
        };
        tracing::info!(%task_id, "task created");
        on_stage(Stage::Created {
            task_id: task_id.clone(),
        });
        if let Some(before) = balance_before {
            self.costs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .started(&task_id, before);
        }
        let created_at = chrono::Utc::now().timestamp_millis();
        let warning = self
            .keep(Unkept {
                task_id: task_id.clone(),
                base_url,
                params: params.clone(),
                created_at,
                submission: Some(key),
            })
            .await;
        if let Some(w) = &warning {
            tracing::warn!("{w}");
        }
        Ok(Submitted {
            task_id,
            created_at,
            params,
            balance_before,
            warning,
        })
    }

    /// Keeps a new id in the history or the journal; one neither takes is held in memory
    /// and tried again before every later write. Returns what to tell the person, if anything.
    async fn keep(&self, task: Unkept) -> Option<String> {
        let this = self.clone();
        let kept = tokio::task::spawn_blocking(move || {
            let result = crate::store::keep_task(
                Some(&this.history),
                &this.data_dir,
                &task.task_id,
                &task.base_url,
                &task.params,
                task.created_at,
                task.submission.as_deref(),
            );
            if result.is_err() {
                this.unkept
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(task);
            }
            result
        })
        .await;
        match kept {
            Ok(Ok(warning)) => warning,
            Ok(Err(warning)) => Some(warning),
            Err(e) => Some(format!(
                "the task id could not be recorded ({e}): note it down"
            )),
        }
    }
}

fn cancelled() -> Error {
    Error::Input("cancelled: nothing was submitted".into())
}

/// Whether a failed generate call may still have made a task: its request went out and no
/// clear refusal came back.
pub fn may_have_been_taken(e: &Error) -> bool {
    matches!(
        e,
        Error::GenerateUnanswered { .. }
            | Error::GenerateUncertain { .. }
            | Error::BadTaskId { .. }
    )
}

/// A name for one generate call, unique on this machine.
fn submission_key() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        chrono::Utc::now().timestamp_millis(),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Uploads the local references and the mask (saying which), returning each as the history
/// keeps it: a local file by its absolute path, so that a remix finds it from anywhere.
async fn resolve_all(
    client: &Client,
    request: &Request,
    on_stage: &mut impl FnMut(Stage),
) -> api::Result<(Vec<Reference>, Option<Reference>)> {
    crate::api::input::check_set(&request.refs, request.mask.as_ref())?;
    let total = request
        .refs
        .iter()
        .chain(request.mask.iter())
        .filter(|s| matches!(s, ImageSource::File(_)))
        .count();
    let mut index = 0;
    let mut resolve = async |source: &ImageSource| -> api::Result<Reference> {
        let origin = match source {
            ImageSource::File(p) => {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                on_stage(Stage::Uploading { index, total, name });
                index += 1;
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            }
            ImageSource::Url(u) => u.clone(),
        };
        Ok(Reference {
            origin,
            url: source.resolve(client).await?,
        })
    };
    let mut refs = Vec::with_capacity(request.refs.len());
    for r in &request.refs {
        refs.push(resolve(r).await?);
    }
    let mask = match &request.mask {
        Some(m) => Some(resolve(m).await?),
        None => None,
    };
    Ok((refs, mask))
}
