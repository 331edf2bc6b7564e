//! A task's life: created at submit, references fetched at generation start, ended after the
//! configured duration (success or failure, with a refund), images rendered once, callback sent.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::future::join_all;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::callbacks;
use super::fetch::{self, FetchError};
use super::images::{self, RenderInputs};
use super::state::{Shared, Window, now_ms};
use crate::api::types::{MAX_FILE_BYTES, Size, TaskStatus};

/// Messages the service gives for failed generations (from the contract).
pub(crate) const FAILURE_MESSAGES: [(i64, &str); 3] = [
    (400, "Your content was flagged by the content policy"),
    (500, "failed to generate image"),
    (500, "please try again later"),
];

/// How a task is going to end, decided at submit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    Success,
    Fail {
        code: i64,
        message: String,
    },
    /// `CREATE_TASK_FAILED` at once.
    CreateFailed {
        code: i64,
        message: String,
    },
}

impl Plan {
    pub fn name(&self) -> &'static str {
        match self {
            Plan::Success => "success",
            Plan::Fail { .. } => "fail",
            Plan::CreateFailed { .. } => "create-failed",
        }
    }
}

/// Where a task's callback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallbackState {
    None,
    Pending,
    Skipped,
    Sent,
    Acked,
    Failed,
}

impl CallbackState {
    pub fn name(self) -> &'static str {
        match self {
            CallbackState::None => "none",
            CallbackState::Pending => "pending",
            CallbackState::Skipped => "skipped",
            CallbackState::Sent => "sent",
            CallbackState::Acked => "acked",
            CallbackState::Failed => "failed",
        }
    }
}

pub(crate) struct Task {
    pub id: String,
    /// The generate body as received.
    pub request: Value,
    /// What the task makes, as validated from `request`.
    pub spec: TaskSpec,
    /// Credits taken at submit; given back (and zeroed) if the task fails.
    pub spent: i64,
    pub plan: Plan,
    pub created_at: Instant,
    pub created_ms: i64,
    pub status: TaskStatus,
    pub completed_ms: Option<i64>,
    pub final_progress: f64,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// Whether record-info has been asked once (the first answer is `data: null`).
    pub polled: bool,
    /// Record-info calls answered normally, for the 3-per-second limit.
    pub polls_served: Window,
    /// Every record-info call, 429s included, for the stats.
    pub polls_all: Window,
    pub inputs: Arc<OnceCell<Arc<RenderInputs>>>,
    /// One encoded PNG per variant, made once.
    pub images: Arc<[OnceCell<Bytes>]>,
    pub callback: CallbackState,
}

impl Task {
    pub fn new(id: String, request: Value, spec: TaskSpec, plan: Plan, spent: i64) -> Task {
        let images: Vec<OnceCell<Bytes>> = (0..spec.variants).map(|_| OnceCell::new()).collect();
        let mut task = Task {
            id,
            request,
            callback: if spec.callback_url.is_some() {
                CallbackState::Pending
            } else {
                CallbackState::None
            },
            spec,
            spent,
            plan: plan.clone(),
            created_at: Instant::now(),
            created_ms: now_ms(),
            status: TaskStatus::Generating,
            completed_ms: None,
            final_progress: 0.0,
            error_code: None,
            error_message: None,
            polled: false,
            polls_served: Window::default(),
            polls_all: Window::default(),
            inputs: Arc::new(OnceCell::new()),
            images: images.into(),
        };
        if let Plan::CreateFailed { code, message } = plan {
            task.end(Err((code, message)), 0.0);
        }
        task
    }

    /// Progress as the service reports it, 0.0..=1.0; never 1.0 before the task has ended.
    pub fn progress(&self, now: Instant, duration: std::time::Duration) -> f64 {
        if self.status.is_final() {
            return self.final_progress;
        }
        if duration.is_zero() {
            return 0.99;
        }
        let elapsed = now.saturating_duration_since(self.created_at).as_secs_f64();
        (elapsed / duration.as_secs_f64()).clamp(0.0, 0.99)
    }

    pub fn result_url(&self, base_url: &str, n: u32) -> String {
        format!("{base_url}/emulator/files/results/{}/{n}.png", self.id)
    }

    pub fn result_urls(&self, base_url: &str) -> Vec<String> {
        if self.status != TaskStatus::Success {
            return Vec::new();
        }
        (1..=self.spec.variants)
            .map(|n| self.result_url(base_url, n))
            .collect()
    }

    /// Records the end; returns the credits to refund.
    fn end(&mut self, outcome: Result<(), (i64, String)>, progress: f64) -> i64 {
        self.completed_ms = Some(now_ms());
        match outcome {
            Ok(()) => {
                self.status = TaskStatus::Success;
                self.final_progress = 1.0;
                self.error_message = Some(String::new());
                0
            }
            Err((code, message)) => {
                self.status = if matches!(self.plan, Plan::CreateFailed { .. }) {
                    TaskStatus::CreateTaskFailed
                } else {
                    TaskStatus::GenerateFailed
                };
                self.final_progress = progress;
                self.error_code = Some(code);
                self.error_message = Some(message);
                std::mem::take(&mut self.spent)
            }
        }
    }
}

/// What a task is asked to make, taken from a validated generate body.
pub(crate) struct TaskSpec {
    pub prompt: String,
    pub size: Size,
    pub variants: u32,
    /// `filesUrl` then the deprecated `fileUrl`.
    pub references: Vec<String>,
    pub mask_url: Option<String>,
    pub callback_url: Option<String>,
}

/// The plan for a new task: forced by `/emulator/next-tasks`, or drawn against `fail_rate`.
pub(crate) fn draw_plan(forced: Option<Plan>, fail_rate: f64) -> Plan {
    if let Some(plan) = forced {
        return plan;
    }
    if fail_rate > 0.0 && rand::random::<f64>() < fail_rate {
        let index = rand::random_range(0..FAILURE_MESSAGES.len());
        let (code, message) = FAILURE_MESSAGES[index];
        return Plan::Fail {
            code,
            message: message.into(),
        };
    }
    Plan::Success
}

/// Runs a new task's life in the background.
pub(crate) fn spawn(shared: Arc<Shared>, id: String) {
    let token = shared.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = token.cancelled() => {}
            _ = drive(&shared, &id) => {}
        }
    });
}

async fn drive(shared: &Arc<Shared>, id: &str) {
    let job = {
        let state = shared.lock();
        let Some(task) = state.tasks.get(id) else {
            return;
        };
        (
            task.status,
            task.spec.references.clone(),
            task.spec.mask_url.clone(),
            task.created_at,
            task.plan.clone(),
            task.inputs.clone(),
        )
    };
    let (status, references, mask_url, created_at, plan, inputs_cell) = job;
    if status == TaskStatus::Generating {
        let outcome = match gather_inputs(shared, &references, mask_url.as_deref()).await {
            Err(failure) => Err(failure),
            Ok(inputs) => {
                let _ = inputs_cell.set(Arc::new(inputs));
                tokio::time::sleep_until((created_at + shared.duration).into()).await;
                match plan {
                    Plan::Success => Ok(()),
                    Plan::Fail { code, message } | Plan::CreateFailed { code, message } => {
                        Err((code, message))
                    }
                }
            }
        };
        let succeeded = outcome.is_ok();
        finish(shared, id, outcome);
        if succeeded {
            warm_images(shared, id);
        }
    }
    callbacks::deliver(shared, id).await;
}

fn finish(shared: &Shared, id: &str, outcome: Result<(), (i64, String)>) {
    let mut state = shared.lock();
    let Some(task) = state.tasks.get_mut(id) else {
        return;
    };
    let progress = task.progress(Instant::now(), shared.duration);
    let refund = task.end(outcome, progress);
    tracing::info!(task = id, status = %task.status, refund, "task ended");
    state.credits += refund;
}

/// Fetches and decodes every reference and the mask. A failure is the task's error code and
/// message: 451 for a reference that cannot be fetched or is no image, 400 for one too large.
async fn gather_inputs(
    shared: &Shared,
    references: &[String],
    mask_url: Option<&str>,
) -> Result<RenderInputs, (i64, String)> {
    if references.is_empty() && mask_url.is_none() {
        return Ok(RenderInputs::default());
    }
    let timeout = std::time::Duration::from_secs(30);
    let urls: Vec<&str> = references
        .iter()
        .map(String::as_str)
        .chain(mask_url)
        .collect();
    let fetched = join_all(
        urls.iter()
            .map(|url| fetch::get_limited(&shared.http, url, MAX_FILE_BYTES, timeout)),
    )
    .await;
    let mut bodies = Vec::with_capacity(urls.len());
    for (url, result) in urls.iter().zip(fetched) {
        match result {
            Ok(bytes) => bodies.push(bytes),
            Err(FetchError::TooLarge) => {
                return Err((
                    400,
                    format!("input image over {MAX_FILE_BYTES} bytes: {url}"),
                ));
            }
            Err(FetchError::Failed(why)) => {
                return Err((451, format!("image download failed: {url}: {why}")));
            }
        }
    }
    let has_mask = mask_url.is_some();
    let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
    let decoded = tokio::task::spawn_blocking(move || {
        let mut inputs = RenderInputs::default();
        let last = bodies.len().saturating_sub(1);
        for (i, (bytes, url)) in bodies.iter().zip(&urls).enumerate() {
            if has_mask && i == last {
                inputs.mask = Some(images::mask(bytes).map_err(|why| {
                    (
                        451,
                        format!("image download failed: {url}: not a usable image ({why})"),
                    )
                })?);
            } else {
                inputs.refs.push(images::reference(bytes).map_err(|why| {
                    (
                        451,
                        format!("image download failed: {url}: not a usable image ({why})"),
                    )
                })?);
            }
        }
        Ok(inputs)
    })
    .await;
    decoded.unwrap_or_else(|e| Err((500, format!("failed to generate image ({e})"))))
}

/// Renders a successful task's images in the background, so the first download is quick.
fn warm_images(shared: &Arc<Shared>, id: &str) {
    let variants = shared.lock().tasks.get(id).map_or(0, |t| t.spec.variants);
    for n in 1..=variants {
        let (shared, id, token) = (shared.clone(), id.to_owned(), shared.shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = result_png(&shared, &id, n) => {}
            }
        });
    }
}

/// The PNG of variant `n` (from 1) of a successful task, rendered once and cached.
/// `None` when there is no such image.
pub(crate) async fn result_png(shared: &Shared, id: &str, n: u32) -> Option<Result<Bytes, String>> {
    let (cell_set, inputs, prompt, size) = {
        let state = shared.lock();
        let task = state.tasks.get(id)?;
        if task.status != TaskStatus::Success || n == 0 || n > task.spec.variants {
            return None;
        }
        let inputs = task.inputs.get().cloned().unwrap_or_default();
        (
            task.images.clone(),
            inputs,
            task.spec.prompt.clone(),
            task.spec.size,
        )
    };
    let cell = cell_set.get(n as usize - 1)?;
    let png = cell
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || images::render_png(&prompt, n, size, &inputs))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        })
        .await;
    Some(png.cloned())
}
