//! Waiting for a task: polls record-info within the contract's limits until the task ends.

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

/// Polls `task_id` until it succeeds or fails, calling `on_update` with every answer.
/// Returns the final record; a failed task is `Error::TaskFailed`.
pub async fn wait_for_task(
    client: &Client,
    task_id: &str,
    opts: &PollOptions,
    mut on_update: impl FnMut(&TaskRecord),
) -> Result<TaskRecord> {
    let start = Instant::now();
    let mut n = 0;
    loop {
        tokio::time::sleep(opts.interval(n)).await;
        n += 1;
        if let Some(record) = client.record_info(task_id).await? {
            on_update(&record);
            if record.status.is_failure() {
                return Err(Error::TaskFailed {
                    task_id: task_id.to_owned(),
                    status: record.status,
                    code: record.error_code,
                    message: record.error_message.clone(),
                });
            }
            if record.status.is_final() {
                return Ok(record);
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
