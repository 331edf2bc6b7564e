//! Following a task: status queries within the service's limits until it ends, every answer
//! recorded in the history before anyone is told of it. A query that fails for a passing
//! reason (the network, 5xx, 408/429/455/550, an answer that is not the API's JSON) is tried
//! again after a growing pause, said each time, until the overall limit; only a refusal that
//! would come again (401, 404, 422...) ends it early.

use std::ops::ControlFlow;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Workflow, policy};
use crate::api::poll::PollOptions;
use crate::api::{Client, Error, ErrorClass, TaskRecord};

/// A failed status query that will be tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Failed queries in a row (the client's own quick retries inside each).
    pub attempt: u32,
    pub reason: String,
    pub class: ErrorClass,
    /// When the next query goes out.
    pub next_in: Duration,
}

impl Retry {
    /// One line for a progress line or a task row.
    pub fn line(&self) -> String {
        format!(
            "status check failed (try {}: {}); next try in {} s",
            self.attempt,
            self.reason,
            self.next_in.as_secs_f64().ceil() as u64
        )
    }
}

/// What a follower is told, in order.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The service's answer, already recorded.
    Update(&'a TaskRecord),
    /// A query failed and will be tried again.
    Retry(&'a Retry),
    /// Something could not be written to disk (the message says what and what to do).
    Warning(&'a str),
}

impl Workflow {
    /// Follows `task_id` until it ends (the final record: success or failure), the overall
    /// limit (`opts.give_up_after`) passes, a query is refused for good, `on` breaks, or
    /// `stop` is cancelled (then the last failure, if any, is the error).
    pub async fn follow(
        &self,
        client: &Client,
        task_id: &str,
        opts: &PollOptions,
        stop: &CancellationToken,
        mut on: impl FnMut(Progress<'_>) -> ControlFlow<()>,
    ) -> Result<TaskRecord, Error> {
        let start = Instant::now();
        let retry_max = opts.max_interval.saturating_mul(6);
        let mut polls = 0;
        let mut failures = 0;
        let mut pause = opts.interval(0);
        let mut last_error: Option<Error> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return Err(stopped(task_id, last_error, start)),
            }
            let answer = tokio::select! {
                a = ask(client, task_id) => a,
                _ = stop.cancelled() => return Err(stopped(task_id, last_error, start)),
            };
            match answer {
                Ok(record) => {
                    failures = 0;
                    last_error = None;
                    polls += 1;
                    pause = opts.interval(polls);
                    // Right after a submit the service may have no record yet.
                    if let Some(record) = record {
                        if let Some(w) = self.record(&record).await
                            && on(Progress::Warning(&w)).is_break()
                        {
                            return Ok(record);
                        }
                        if record.status.is_final()
                            && self.holds(task_id)
                            && self.keep_trying(&record, opts, start, stop, &mut on).await
                        {
                            return Ok(record);
                        }
                        if on(Progress::Update(&record)).is_break() || record.status.is_final() {
                            return Ok(record);
                        }
                    }
                }
                Err(e) if !policy::is_transient(&e) => return Err(e),
                Err(e) => {
                    failures += 1;
                    let left = opts.give_up_after.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Err(e);
                    }
                    pause =
                        policy::retry_pause(failures, &e, opts.first_interval, retry_max).min(left);
                    let retry = Retry {
                        attempt: failures,
                        reason: e.to_string(),
                        class: e.class(),
                        next_in: pause,
                    };
                    tracing::info!(%task_id, attempt = failures, "status check failed: {e}");
                    if on(Progress::Retry(&retry)).is_break() {
                        return Err(e);
                    }
                    last_error = Some(e);
                    continue;
                }
            }
            if start.elapsed() >= opts.give_up_after {
                return Err(still_running(task_id, start));
            }
        }
    }
}

impl Workflow {
    /// The task has ended but its id is still on no disk (the disk refused it): ending now
    /// would lose it, so its final answer is written again, after a growing pause and said
    /// each time, until it is taken, the overall limit passes, `stop` is cancelled or `on`
    /// breaks (then `true`).
    async fn keep_trying(
        &self,
        record: &TaskRecord,
        opts: &PollOptions,
        start: Instant,
        stop: &CancellationToken,
        on: &mut impl FnMut(Progress<'_>) -> ControlFlow<()>,
    ) -> bool {
        let max = opts.max_interval.saturating_mul(6);
        let mut tries = 0;
        while self.holds(&record.task_id) {
            let left = opts.give_up_after.saturating_sub(start.elapsed());
            if left.is_zero() {
                return false;
            }
            tries += 1;
            let pause = policy::doubled(tries, opts.first_interval, max).min(left);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return false,
            }
            if let Some(w) = self.record(record).await
                && self.holds(&record.task_id)
            {
                let next = policy::doubled(tries + 1, opts.first_interval, max);
                let said = format!("{w} (next try in {} s)", next.as_secs_f64().ceil() as u64);
                if on(Progress::Warning(&said)).is_break() {
                    return true;
                }
            }
        }
        false
    }
}

/// One status query: the service's answer about `task_id` (`None` while it has no record
/// yet); an answer naming another task is refused as the service's error.
pub async fn ask(client: &Client, task_id: &str) -> Result<Option<TaskRecord>, Error> {
    client
        .record_info(task_id)
        .await
        .and_then(|r| same_task(task_id, r))
}

/// An answer about another task is the service's error, never taken for this one's.
fn same_task(asked: &str, record: Option<TaskRecord>) -> Result<Option<TaskRecord>, Error> {
    match record {
        Some(r) if r.task_id.is_empty() => Ok(Some(TaskRecord {
            task_id: asked.to_owned(),
            ..r
        })),
        Some(r) if r.task_id != asked => Err(Error::OtherTask {
            asked: asked.to_owned(),
            named: r.task_id.chars().take(80).collect(),
        }),
        other => Ok(other),
    }
}

fn still_running(task_id: &str, start: Instant) -> Error {
    Error::StillRunning {
        task_id: task_id.to_owned(),
        minutes: start.elapsed().as_secs().div_ceil(60),
    }
}

fn stopped(task_id: &str, last_error: Option<Error>, start: Instant) -> Error {
    last_error.unwrap_or_else(|| still_running(task_id, start))
}
