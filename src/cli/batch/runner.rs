//! Running a batch: each task through the same workflow as `generate --wait` (submit, follow,
//! observe the cost, save the images), at the service's pace, at most `--parallel` generating
//! at once, every step written to the manifest before the next.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::input::Entry;
use super::manifest::{Event, Manifest, Record};
use crate::api::limits::Window;
use crate::api::poll::PollOptions;
use crate::api::{Client, ErrorClass, TaskStatus};
use crate::cli::saving::{Target, save_all};
use crate::tasks::submit::may_have_been_taken;
use crate::tasks::{Progress, Workflow};

/// The service allows about 20 generates per 10 s. The client keeps that window around each
/// call; a batch takes its place in the same window first, before anything of the task is
/// written, so that a crash never finds a task waiting for its turn recorded as under way.
pub fn pace() -> Window {
    Window::new(20, Duration::from_millis(10_500))
}

/// What every task of one run shares.
pub struct Run {
    pub workflow: Workflow,
    pub client: Client,
    pub manifest: Manifest,
    pub poll: PollOptions,
    pub pace: Window,
    pub out: Option<PathBuf>,
    pub bar: ProgressBar,
    /// Ctrl-C: submit nothing more, stop following.
    pub stop: CancellationToken,
    /// A refusal every later call would meet too (the key, the credits): submit nothing more.
    pub halt: CancellationToken,
}

/// One task to run: submit it, or follow the task an earlier run submitted.
#[derive(Debug, Clone)]
pub enum Job {
    Submit(Entry),
    Follow { entry: Entry, task_id: String },
}

/// What became of one task in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Submitted (or followed) and not ended here: the manifest and the history keep its id.
    Unfinished,
    /// The generate call's answer was lost: the service may have made the task.
    Unknown,
    /// Never submitted: Ctrl-C, `--max-credits`, or a refusal that stopped the batch.
    NotSubmitted,
}

/// The outcomes of a run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub succeeded: usize,
    pub failed: usize,
    pub unfinished: usize,
    pub unknown: usize,
    pub not_submitted: usize,
    /// Set when `--max-credits` stopped the submitting: the estimate that would have passed it.
    pub over_budget: Option<f64>,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Succeeded => self.succeeded += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Unfinished => self.unfinished += 1,
            Outcome::Unknown => self.unknown += 1,
            Outcome::NotSubmitted => self.not_submitted += 1,
        }
    }
}

/// The credits submitted so far, by the estimate, and the most allowed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max: f64,
    pub per_image: f64,
    pub spent: f64,
}

/// Runs every job in order: at most `parallel` at once, none submitted after Ctrl-C, a
/// refusal that would come again, or once the next would take the estimate past the budget.
pub async fn run_all(
    run: Arc<Run>,
    jobs: Vec<Job>,
    parallel: usize,
    mut budget: Option<Budget>,
) -> Tally {
    let slots = Arc::new(Semaphore::new(parallel.max(1)));
    let mut running = JoinSet::new();
    let mut tally = Tally::default();
    let total = jobs.len();
    let follows = jobs
        .iter()
        .filter(|j| matches!(j, Job::Follow { .. }))
        .count();
    // The jobs from `i` on will not run: those to follow (first in order) stay unfinished.
    let left = |tally: &mut Tally, i: usize| {
        let unfollowed = follows.saturating_sub(i);
        tally.unfinished += unfollowed;
        tally.not_submitted += total - i - unfollowed;
    };
    for (i, job) in jobs.into_iter().enumerate() {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.ok(),
            _ = run.stop.cancelled() => None,
            _ = run.halt.cancelled() => None,
        };
        let Some(slot) = slot.filter(|_| !run.stop.is_cancelled() && !run.halt.is_cancelled())
        else {
            left(&mut tally, i);
            break;
        };
        if let (Job::Submit(entry), Some(b)) = (&job, budget.as_mut()) {
            let next = b.spent + b.per_image * f64::from(entry.request.variants.count());
            if next > b.max {
                tally.over_budget = Some(next);
                left(&mut tally, i);
                break;
            }
            b.spent = next;
        }
        // Taken here, in input order, before anything of the task is written or sent.
        if matches!(job, Job::Submit(_)) {
            tokio::select! {
                _ = run.pace.acquire() => {}
                _ = run.stop.cancelled() => {
                    left(&mut tally, i);
                    break;
                }
            }
        }
        let run = run.clone();
        running.spawn(async move {
            let outcome = match job {
                Job::Submit(entry) => submit(&run, &entry).await,
                Job::Follow { entry, task_id } => follow(&run, &entry, &task_id, None).await,
            };
            drop(slot);
            run.bar.inc(1);
            outcome
        });
        while let Some(done) = running.try_join_next() {
            tally.add(done.unwrap_or(Outcome::Unfinished));
        }
    }
    while let Some(done) = running.join_next().await {
        tally.add(done.unwrap_or(Outcome::Unfinished));
    }
    tally
}

/// A per-task line on stdout, above the progress bar.
fn say(run: &Run, line: String) {
    run.bar.suspend(|| crate::cli::print::outln!("{line}"));
}

/// A note on stderr, above the progress bar.
fn note(run: &Run, line: String) {
    run.bar.suspend(|| crate::cli::print::errln!("{line}"));
}

/// Writes a record, saying so when the disk refuses it.
fn write(run: &Run, record: &Record) -> bool {
    match run.manifest.append(record) {
        Ok(()) => true,
        Err(e) => {
            note(
                run,
                format!(
                    "fouro: warning: cannot write {} ({e}); the history still keeps every task id",
                    run.manifest.path().display()
                ),
            );
            false
        }
    }
}

async fn submit(run: &Run, entry: &Entry) -> Outcome {
    if run.stop.is_cancelled() || run.halt.is_cancelled() {
        return Outcome::NotSubmitted;
    }
    // Written before anything is sent: a crash from here on leaves the line marked as cut off,
    // never silently submitted again.
    if !write(run, &Record::new(entry, Event::Submitting)) {
        return Outcome::NotSubmitted;
    }
    let submitted = run
        .workflow
        .submit(
            &run.client,
            entry.request.clone(),
            None,
            &run.stop,
            |stage| {
                if let crate::tasks::Stage::Created { task_id } = stage {
                    let mut r = Record::new(entry, Event::Submitted);
                    r.task_id = Some(task_id);
                    write(run, &r);
                }
            },
        )
        .await;
    let submitted = match submitted {
        Ok(s) => s,
        Err(e) if may_have_been_taken(&e) => {
            say(
                run,
                format!(
                    "{}  ?  UNKNOWN  {e}; not submitted again unless --resubmit-unknown",
                    entry.label()
                ),
            );
            return Outcome::Unknown;
        }
        Err(e) => {
            let mut r = Record::new(entry, Event::Refused);
            r.error = Some(e.to_string());
            write(run, &r);
            if run.stop.is_cancelled() {
                return Outcome::NotSubmitted;
            }
            if matches!(e.class(), ErrorClass::Auth | ErrorClass::Credits)
                && !run.halt.is_cancelled()
            {
                run.halt.cancel();
                note(run, format!("fouro: {e}; submitting nothing more"));
            }
            say(run, format!("{}  -  REFUSED  {e}", entry.label()));
            return Outcome::Failed;
        }
    };
    if let Some(w) = &submitted.warning {
        note(run, format!("fouro: warning: {w}"));
    }
    if run.bar.is_hidden() {
        crate::cli::print::errln!("{}  {}  submitted", entry.label(), submitted.task_id);
    }
    follow(run, entry, &submitted.task_id, Some(submitted.created_at)).await
}

/// Follows a task to its end, keeps its cost, saves its images, and writes how it ended.
async fn follow(run: &Run, entry: &Entry, task_id: &str, created_at: Option<i64>) -> Outcome {
    let followed = run
        .workflow
        .follow(&run.client, task_id, &run.poll, &run.stop, |p| {
            match p {
                Progress::Update(_) => {}
                Progress::Retry(r) => note(run, format!("fouro: {task_id}: {}", r.line())),
                Progress::Warning(w) => note(run, format!("fouro: warning: {w}")),
            }
            ControlFlow::Continue(())
        })
        .await;
    let record = match followed {
        Ok(r) => r,
        Err(_) if run.stop.is_cancelled() => return Outcome::Unfinished,
        Err(e) => {
            say(
                run,
                format!("{}  {task_id}  GENERATING  {e}", entry.label()),
            );
            return Outcome::Unfinished;
        }
    };
    let success = record.status == TaskStatus::Success;
    run.workflow
        .observe_cost(&run.client, task_id, !record.status.is_failure())
        .await;
    let id = task_id.to_owned();
    let known = run
        .workflow
        .history()
        .blocking(move |h| h.get(&id))
        .await
        .ok()
        .flatten();
    let mut ended = Record::new(entry, Event::Ended);
    ended.task_id = Some(task_id.to_owned());
    ended.status = Some(record.status.as_str().to_owned());
    ended.cost = known.as_ref().and_then(|k| k.cost);
    if success {
        let target = Target {
            history: Some(run.workflow.history()),
            data_dir: run.workflow.data_dir(),
            known: known.as_ref(),
            created_at: created_at
                .or(known.as_ref().map(|k| k.created_at))
                .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
            out: run.out.as_deref(),
            print: false,
        };
        match save_all(&run.client, &record, &target).await {
            Ok(files) => ended.images = files,
            // Not written as ended: the next run fetches what is missing.
            Err(e) => {
                say(run, format!("{}  {task_id}  SUCCESS  {e}", entry.label()));
                return Outcome::Unfinished;
            }
        }
    } else {
        ended.error = record.error_message.clone();
    }
    write(run, &ended);
    let paths: Vec<String> = ended
        .images
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let detail = if success {
        paths.join(" ")
    } else {
        record.error_message.unwrap_or_default()
    };
    say(
        run,
        format!(
            "{}  {task_id}  {}  {detail}",
            entry.label(),
            record.status.as_str()
        ),
    );
    if success {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    }
}
