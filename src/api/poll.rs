//! Waiting for a task: polls record-info within the contract's limits until the task ends.

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::client::Client;
use crate::api::error::{Error, Result};
use crate::api::types::TaskRecord;

#[derive(Debug, Clone, Copy)]
pub struct PollOptions {
    /// Wait before the first query and between the first few.
    pub first_interval: Duration,
    /// The interval grows to at most this.
    pub max_interval: Duration,
    /// After this long a task still generating is reported as such (it stays resumable).
    pub give_up_after: Duration,
}

impl Default for PollOptions {
    fn default() -> PollOptions {
        PollOptions {
            first_interval: Duration::from_millis(800),
            max_interval: Duration::from_secs(5),
            // Generation can exceed 300 s when the upstream queue is busy.
            give_up_after: Duration::from_secs(15 * 60),
        }
    }
}

impl PollOptions {
    /// The pause before poll number `n` (from 0): starts short, grows by half each time.
    pub fn interval(&self, n: u32) -> Duration {
        let grown = self.first_interval.mul_f64(1.5f64.powi(n.min(20) as i32));
        grown.min(self.max_interval)
    }
}

/// One round of polling, as the caller sees it.
#[derive(Debug)]
pub enum Round<'a> {
    /// The service's answer.
    Record(&'a TaskRecord),
    /// A query failed, after the client's own retries.
    Failed(&'a Error),
}

/// Polls `task_id` within the contract's limits (the client's per-task limiter and the growing
/// interval of `opts`) until the task ends, telling `on_round` every answer and every failure.
///
/// `on_round` returning `Break` stops. A failure worth retrying that the caller lets pass is
/// followed by a pause of `max_interval`; any other failure ends polling. Returns the last
/// record (final unless the caller stopped on it), or the error that ended polling; a task
/// still generating after `give_up_after` is `Error::StillRunning`.
pub async fn poll_task(
    client: &Client,
    task_id: &str,
    opts: &PollOptions,
    mut on_round: impl FnMut(Round<'_>) -> ControlFlow<()>,
) -> Result<TaskRecord> {
    let start = Instant::now();
    let mut n = 0;
    loop {
        tokio::time::sleep(opts.interval(n)).await;
        n += 1;
        match client.record_info(task_id).await {
            Ok(Some(record)) => {
                if on_round(Round::Record(&record)).is_break() || record.status.is_final() {
                    return Ok(record);
                }
            }
            // Right after a submit the service may have no record yet.
            Ok(None) => {}
            Err(e) => {
                if on_round(Round::Failed(&e)).is_break() || !e.is_retryable() {
                    return Err(e);
                }
                tokio::time::sleep(opts.max_interval).await;
            }
        }
        if start.elapsed() >= opts.give_up_after {
            return Err(Error::StillRunning {
                task_id: task_id.to_owned(),
                minutes: opts.give_up_after.as_secs() / 60,
            });
        }
    }
}

/// Polls `task_id` until it succeeds or fails, calling `on_update` with every answer; the first
/// failure to query ends it. Returns the final record; a failed task is `Error::TaskFailed`.
pub async fn wait_for_task(
    client: &Client,
    task_id: &str,
    opts: &PollOptions,
    mut on_update: impl FnMut(&TaskRecord),
) -> Result<TaskRecord> {
    let record = poll_task(client, task_id, opts, |round| match round {
        Round::Record(record) => {
            on_update(record);
            ControlFlow::Continue(())
        }
        Round::Failed(_) => ControlFlow::Break(()),
    })
    .await?;
    if record.status.is_failure() {
        return Err(Error::TaskFailed {
            task_id: task_id.to_owned(),
            status: record.status,
            code: record.error_code,
            message: record.error_message,
        });
    }
    Ok(record)
}
