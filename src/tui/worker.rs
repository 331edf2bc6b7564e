//! Background work: every Effect becomes a tokio task (or a blocking one, for the disk and
//! image decoding) that owns no UI state and answers with Actions on the app's channel.
//!
//! One poller per task id: starting another aborts the older, and the app drops replies of
//! older generations anyway. Decodes are coalesced: only the newest request is worked on; the
//! selection's neighbours are decoded ahead into a cache bounded by bytes (`worker/decoder.rs`).
//!
//! The HTTP client sits in a watch channel: a new key empties it while the new client is built
//! on a blocking thread, and every task started meanwhile waits for the new one, so nothing
//! asked for after the key changed goes out with the old key.
//!
//! Submissions are kept in a set of their own: quitting cancels those still uploading (no task
//! exists yet) and waits, bounded, for those that reached `generate`, so that a task the
//! service accepted always reaches the history.
//!
//! Tasks go through the workflow (`crate::tasks`, adapted in `worker/tasks.rs`), which writes
//! the history on the blocking pool: a task id before the app hears of it, every status
//! before the app sees it, every saved image.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::api::poll::PollOptions;
use crate::api::{self, Client, ClientConfig};
use crate::store::History;
use crate::tasks::Workflow;
use crate::tui::action::{Action, Draft, Effect, Failure, SubmitStage};
use crate::tui::preview::Encoding;
use crate::tui::preview::cache::{self, Cache};

mod account;
mod clients;
mod decoder;
mod disk;
mod history;
mod pace;
mod queue;
mod tasks;
pub use account::{AccountSetup, Callbacks};
use clients::{ClientSlot, Switch, current};
use decoder::{Ahead, DecodeJob, Decoder};
pub use disk::{check_reference, list_dir};
use pace::{LivePoll, paced};

/// How many earlier prompts the editor can recall.
const RECALLED_PROMPTS: usize = 1000;

pub type Sender = mpsc::UnboundedSender<Action>;

/// How many pollers are kept before the ended ones are looked for.
const PRUNE_POLLERS_AT: usize = 64;

pub struct Worker {
    tx: Sender,
    clients: watch::Sender<ClientSlot>,
    switch: Switch,
    /// Where profiles are kept, the account shown, the callback listener.
    account: account::Account,
    /// Submit, follow, download, balance: the workflow the subcommands use too.
    workflow: Workflow,
    history: History,
    poll: PollOptions,
    pollers: HashMap<String, AbortHandle>,
    /// The pollers' count at which the ended ones are next let go.
    prune_pollers_at: usize,
    /// Pollers at work (their tasks followed now).
    live_polls: Arc<AtomicUsize>,
    /// Pollers about to be started by the effects being handled (`polls_coming`).
    polls_coming: usize,
    submissions: JoinSet<()>,
    /// Cancelled when the app quits: submissions still uploading stop there.
    closing: CancellationToken,
    /// Submissions the person chose to send whatever the balance (`AllowShortfall`).
    allowed: HashSet<u64>,
    decode: watch::Sender<Option<DecodeJob>>,
    /// The neighbours of the selection, decoded ahead while nothing else is asked.
    ahead: watch::Sender<Ahead>,
    /// Fitted previews, bounded by their bytes (`preview/cache.rs`).
    previews: decoder::Shared,
    /// The kept queue's writer (`worker/queue.rs`).
    queue: mpsc::UnboundedSender<queue::QueueWrite>,
    /// Pages of the history, a search's pages read only while it is the one asked for.
    pages: history::Loader,
}

impl Worker {
    /// Must be called inside the tokio runtime: it starts the decoder task, and reads the
    /// history's unsettled tasks (answered with `Action::Resumed`).
    pub fn new(
        tx: Sender,
        config: ClientConfig,
        data_dir: PathBuf,
        history: History,
        encoding: impl Into<Encoding>,
        poll: PollOptions,
    ) -> api::Result<Worker> {
        let client = Client::new(config.clone())?;
        let (clients, _) = watch::channel(ClientSlot::Ready(client));
        let account_clients = clients.subscribe();
        let (decode, jobs) = watch::channel(None);
        let (ahead, ahead_rx) = watch::channel(Ahead::default());
        let previews = Arc::new(Mutex::new(Cache::new(cache::LIMIT)));
        let switch = Switch {
            clients: clients.clone(),
            config: Arc::new(Mutex::new(config.clone())),
            changes: Arc::new(AtomicU64::new(0)),
        };
        let base_url = config.base_url.clone();
        let workflow = Workflow::new(history.clone(), data_dir);
        let (queue, queue_rx) = mpsc::unbounded_channel();
        // The queue as it was kept is read first: every save comes after it.
        let _ = queue.send(queue::QueueWrite::Load);
        tokio::spawn(queue::writer(history.clone(), queue_rx, tx.clone()));
        let w = Worker {
            tx: tx.clone(),
            clients,
            switch,
            account: account::Account::new(
                AccountSetup {
                    info: crate::tui::action::AccountInfo {
                        base_url,
                        ..Default::default()
                    },
                    ..AccountSetup::default()
                },
                &workflow,
                tx.clone(),
                account_clients,
            ),
            workflow,
            history,
            poll,
            pollers: HashMap::new(),
            prune_pollers_at: PRUNE_POLLERS_AT,
            live_polls: Arc::new(AtomicUsize::new(0)),
            polls_coming: 0,
            submissions: JoinSet::new(),
            closing: CancellationToken::new(),
            allowed: HashSet::new(),
            decode,
            ahead,
            previews,
            queue,
            pages: history::Loader::default(),
        };
        w.spawn(
            Decoder {
                jobs,
                ahead: ahead_rx,
                tx: w.tx.clone(),
                encoding: encoding.into(),
                cache: w.previews.clone(),
            }
            .run(),
        );
        w.spawn(resume(
            w.history.clone(),
            config.base_url.clone(),
            w.tx.clone(),
        ));
        Ok(w)
    }

    /// Where profiles are kept and what the account is; with a callback listener, results
    /// arrive through it as well as through polling (which then goes slower).
    pub fn set_account(&mut self, setup: account::AccountSetup) {
        if setup.callbacks.is_some() {
            self.poll = PollOptions {
                first_interval: Duration::from_secs(5),
                max_interval: Duration::from_secs(20),
                ..self.poll
            };
        }
        self.account = account::Account::new(
            setup,
            &self.workflow,
            self.tx.clone(),
            self.clients.subscribe(),
        );
    }

    fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
        tokio::spawn(fut).abort_handle()
    }

    pub fn handle(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        let clients = self.clients.subscribe();
        match effect {
            Effect::CheckReference { id, entry } => {
                self.spawn(async move {
                    let result = blocking(move || check_reference(&entry))
                        .await
                        .and_then(|r| r);
                    let _ = tx.send(Action::ReferenceChecked { id, result });
                });
            }
            Effect::ListDir { req, dir } => {
                self.spawn(async move {
                    let listed = dir.clone();
                    let result = blocking(move || list_dir(&listed)).await.and_then(|r| r);
                    let _ = tx.send(Action::DirListed { req, dir, result });
                });
            }
            Effect::Submit { job, draft } => {
                // The balance is checked unless the person already chose to go on.
                let check = (!self.allowed.remove(&job)).then(|| self.account.low_balance());
                self.submit(job, draft, check, None);
            }
            Effect::SubmitQueued { job, key, draft } => self.submit(job, draft, None, Some(key)),
            Effect::CheckQueue { job, images } => {
                let workflow = self.workflow.clone();
                let low_balance = self.account.low_balance();
                self.spawn(async move {
                    let Some(client) = current(clients).await else {
                        return;
                    };
                    let held = tasks::held(&client, &workflow, job, low_balance, images).await;
                    let _ = tx.send(held.unwrap_or(Action::QueueChecked { job }));
                });
            }
            Effect::SaveQueue(saved) => {
                let _ = self.queue.send(queue::QueueWrite::Save(saved));
            }
            Effect::Poll {
                task_id,
                generation,
            } => {
                if let Some(old) = self.pollers.remove(&task_id) {
                    old.abort();
                }
                // Ended pollers are let go when the map has doubled, not looked for at every
                // start: a thousand tasks resumed at once would read the map a thousand times.
                if self.pollers.len() >= self.prune_pollers_at {
                    self.pollers.retain(|_, h| !h.is_finished());
                    self.prune_pollers_at = (self.pollers.len() * 2).max(PRUNE_POLLERS_AT);
                }
                self.polls_coming = self.polls_coming.saturating_sub(1);
                let live = LivePoll::new(&self.live_polls);
                let count = self.live_polls.load(Ordering::Relaxed) + self.polls_coming;
                let job = tasks::PollJob {
                    task_id: task_id.clone(),
                    generation,
                    opts: paced(self.poll, count),
                    workflow: self.workflow.clone(),
                    callbacks: self.account.callbacks(),
                };
                let handle = self.spawn(async move {
                    let _live = live;
                    tasks::poll(clients, tx, job).await;
                });
                self.pollers.insert(task_id, handle);
            }
            Effect::Download {
                task_id,
                created_at,
                items,
            } => {
                let workflow = self.workflow.clone();
                self.spawn(tasks::download(
                    clients, tx, workflow, task_id, created_at, items,
                ));
            }
            Effect::Decode { req, path, cells } => {
                self.decode
                    .send_replace(Some(DecodeJob { req, path, cells }));
            }
            Effect::Prefetch { paths, cells } => {
                self.ahead.send_replace(Ahead { paths, cells });
            }
            Effect::RefreshCredits { req } => {
                let workflow = self.workflow.clone();
                self.spawn(async move {
                    let Some(client) = current(clients).await else {
                        return;
                    };
                    let result = workflow.read_balance(&client).await.map_err(Failure::from);
                    let _ = tx.send(Action::Credits { req, result });
                });
            }
            Effect::SetKey(key) => {
                let config = ClientConfig {
                    api_key: Some(key),
                    ..self.switch.config()
                };
                // From here on, new work waits for the new client.
                let switched = self.switch.begin(config);
                self.spawn(async move {
                    match switched.await {
                        Ok(()) => tracing::info!("using a new API key for this run"),
                        Err(why) => {
                            let _ = tx.send(Action::KeyRejected(format!(
                                "the new key could not be used ({why}); the old one stays"
                            )));
                        }
                    }
                });
            }
            // The runner writes to the terminal itself, and leaves for the demo.
            Effect::Copy(_) | Effect::StartDemo | Effect::Notify(_) => {}
            Effect::LoadProfiles { .. }
            | Effect::SaveProfile { .. }
            | Effect::RemoveProfile { .. }
            | Effect::CheckKey { .. }
            | Effect::UseProfile { .. }
            | Effect::TestConnection { .. }
            | Effect::LoadUsage { .. } => self.account(effect),
            Effect::LoadHistory {
                req,
                query,
                offset,
                limit,
            } => {
                let load = self
                    .pages
                    .load(&self.history, tx, (req, query, offset, limit));
                self.spawn(load);
            }
            Effect::LoadPrompts { req } => {
                let history = self.history.clone();
                self.spawn(async move {
                    let result = blocking(move || {
                        history
                            .recent_prompts(RECALLED_PROMPTS)
                            .map_err(|e| e.to_string())
                    })
                    .await
                    .and_then(|r| r);
                    let _ = tx.send(Action::PromptsLoaded { req, result });
                });
            }
            Effect::AllowShortfall { job } => {
                self.allowed.insert(job);
            }
            Effect::DeleteEntry { task_id, files } => {
                let history = self.history.clone();
                self.spawn(async move {
                    let id = task_id.clone();
                    let result = blocking(move || delete_entry(&history, &id, files))
                        .await
                        .and_then(|r| r);
                    let _ = tx.send(Action::EntryDeleted { task_id, result });
                });
            }
            Effect::Open(path) => {
                self.spawn(async move {
                    let shown = path.display().to_string();
                    let opened = blocking(move || open::that_detached(&path))
                        .await
                        .and_then(|r| r.map_err(|e| {
                            tracing::warn!("the system viewer failed: {e}");
                            if e.kind() == std::io::ErrorKind::NotFound {
                                "no opener such as xdg-open or gio is installed".to_owned()
                            } else {
                                "the desktop's opener (xdg-open, gio…) failed: no default image viewer may be set".to_owned()
                            }
                        }));
                    if let Err(e) = opened {
                        let _ = tx.send(Action::OpenFailed(format!(
                            "could not open {shown} in the system viewer ({e}): open it yourself, or copy its path with y"
                        )));
                    }
                });
            }
        }
    }

    /// Submits `draft` as `job`: the low-balance check first when `check` is set (with the
    /// threshold), and, for a queued entry, its removal from the kept queue once the task
    /// exists.
    fn submit(&mut self, job: u64, draft: Draft, check: Option<Option<f64>>, key: Option<i64>) {
        let tx = self.tx.clone();
        let clients = self.clients.subscribe();
        let workflow = self.workflow.clone();
        let callbacks = self.account.callbacks();
        let closing = self.closing.clone();
        let queue = self.queue.clone();
        while self.submissions.try_join_next().is_some() {}
        self.submissions.spawn(async move {
            let Some(client) = current(clients).await else {
                return;
            };
            if let Some(low_balance) = check {
                let images = draft.variants.count();
                let stage = SubmitStage::CheckingBalance;
                let _ = tx.send(Action::SubmitProgress { job, stage });
                if let Some(held) = tasks::held(&client, &workflow, job, low_balance, images).await
                {
                    let _ = tx.send(held);
                    return;
                }
            }
            let result =
                tasks::submit(&client, &tx, job, draft, &workflow, callbacks, closing).await;
            // The entry leaves the kept queue before anyone hears of its task (quitting
            // waits for this): started again, the app never sends it twice.
            if let (Ok(_), Some(key)) = (&result, key) {
                let (written, answer) = tokio::sync::oneshot::channel();
                if queue.send(queue::QueueWrite::Done(key, written)).is_ok() {
                    let _ = answer.await;
                }
            }
            let _ = tx.send(Action::Submitted { job, result });
        });
    }

    /// The account's effects: profiles, keys, usage (`worker/account.rs`).
    fn account(&mut self, effect: Effect) {
        let clients = self.clients.subscribe();
        let job = self.account.handle(effect, self.switch.clone(), clients);
        self.spawn(job);
    }

    /// `n` tasks are about to be followed (`Effect::Poll`s among the effects to be handled
    /// next): each is paced for all of them, not for those started before it.
    pub fn polls_coming(&mut self, n: usize) {
        self.polls_coming = n;
    }

    /// The previews kept: how many, and their bytes.
    pub fn previews_kept(&self) -> (usize, usize) {
        let cache = self
            .previews
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (cache.len(), cache.bytes())
    }

    /// Submissions not finished yet.
    pub fn submissions_in_flight(&mut self) -> usize {
        while self.submissions.try_join_next().is_some() {}
        self.submissions.len()
    }

    /// Waits (at most `limit`) until the queue's changes asked for so far are written.
    pub async fn flush_queue(&self, limit: Duration) {
        let (written, answer) = tokio::sync::oneshot::channel();
        if self.queue.send(queue::QueueWrite::Flush(written)).is_ok()
            && tokio::time::timeout(limit, answer).await.is_err()
        {
            tracing::warn!("the queue's last changes were not written in {limit:?}");
        }
    }

    /// How long quitting may wait for a submission the service may have accepted: one
    /// request's time (connecting included), and a little for the journal.
    pub fn submission_grace(&self) -> Duration {
        let config = self.switch.config();
        config.connect_timeout + config.request_timeout + Duration::from_secs(2)
    }

    /// Cancels the submissions still uploading (they have created nothing) and waits until
    /// the others have written their task ids to the journal. The caller bounds the wait.
    pub async fn finish_submissions(&mut self) {
        self.closing.cancel();
        while self.submissions.join_next().await.is_some() {}
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        for handle in self.pollers.values() {
            handle.abort();
        }
    }
}

/// Runs `f` on the blocking pool; a panic becomes an error. (Logs go to the one global
/// subscriber the start-up installs.)
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(move || std::panic::catch_unwind(AssertUnwindSafe(f)))
        .await
        .map_err(|e| format!("internal error: {e}"))?
        .map_err(|_| "internal error (see the log file)".to_owned())
}

/// At start: expires what the service no longer keeps, then hands the app every task of this
/// service still generating or with images not saved, to be followed again.
async fn resume(history: History, base_url: String, tx: Sender) {
    let now = chrono::Utc::now().timestamp_millis();
    let result = blocking(move || {
        history.expire(now)?;
        history.unsettled()
    })
    .await;
    let action = match result {
        Ok(Ok(entries)) => Action::Resumed {
            entries: entries
                .into_iter()
                .filter(|e| crate::tasks::settle::same_service(&e.base_url, &base_url))
                .collect(),
            now,
        },
        Ok(Err(e)) => Action::HistoryError(e.to_string()),
        Err(e) => Action::HistoryError(e),
    };
    let _ = tx.send(action);
}

/// Removes the entry, and its image files when asked; returns how many files were removed.
fn delete_entry(history: &History, task_id: &str, files: bool) -> Result<usize, String> {
    let entry = history
        .delete(task_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("task {task_id} is not in the history any more"))?;
    if !files {
        return Ok(0);
    }
    let mut removed = 0;
    let mut failed = Vec::new();
    for path in entry.images.iter().filter_map(|i| i.path.as_ref()) {
        match std::fs::remove_file(path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => failed.push(format!("{}: {e}", path.display())),
        }
    }
    if failed.is_empty() {
        Ok(removed)
    } else {
        Err(format!(
            "the entry was deleted, but {} file(s) could not be: {}",
            failed.len(),
            failed.join("; ")
        ))
    }
}
