//! Background work: every Effect becomes a tokio task (or a blocking one, for the disk and
//! image decoding) that owns no UI state and answers with Actions on the app's channel.
//!
//! One poller per task id: starting another aborts the older, and the app drops replies of
//! older generations anyway. Decodes are coalesced: only the newest request is worked on.
//!
//! The HTTP client sits in a watch channel: a new key empties it while the new client is built
//! on a blocking thread, and every task started meanwhile waits for the new one, so nothing
//! asked for after the key changed goes out with the old key.
//!
//! Submissions are kept in a set of their own: quitting cancels those still uploading (no task
//! exists yet) and waits, bounded, for those that reached `generate`, so that a task the
//! service accepted always reaches the history.
//!
//! The history database is written here only, on the blocking pool: a task id before the
//! app hears of it, every status before the app sees it, every saved image.

use std::collections::HashMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::api::input::ImageSource;
use crate::api::poll::{PollOptions, Round, poll_task};
use crate::api::{self, Client, ClientConfig, ErrorClass};
use crate::store::files::{SaveError, save_image};
use crate::store::usage::{CostWatch, observed_cost};
use crate::store::{History, Params, Query, Reference};
use crate::tui::action::{Action, Draft, Effect, Failure, HistoryPage, NewTask, SubmitStage};
use crate::tui::preview::{Encoding, decode_fitted};

mod account;
mod disk;
pub use account::{AccountSetup, Callbacks};
pub use disk::{check_reference, list_dir};

pub type Sender = mpsc::UnboundedSender<Action>;

/// The client in use, or the one to fall back to while a new key's client is being built.
#[derive(Debug, Clone)]
enum ClientSlot {
    Ready(Client),
    /// Key change number `key` is being built; `last` is used again if that fails.
    Building {
        last: Client,
        key: u64,
    },
}

impl ClientSlot {
    fn last(&self) -> &Client {
        match self {
            ClientSlot::Ready(c) | ClientSlot::Building { last: c, .. } => c,
        }
    }
}

type Clients = watch::Receiver<ClientSlot>;

/// Changes the client all new work uses: the settings (base URL, upload URL, key) are kept
/// for the next change, and the slot says "building" until the new client is ready, so that
/// nothing asked for after the change goes out with the old settings. Shared with the tasks
/// that switch accounts.
#[derive(Debug, Clone)]
struct Switch {
    clients: watch::Sender<ClientSlot>,
    config: Arc<Mutex<ClientConfig>>,
    changes: Arc<AtomicU64>,
}

impl Switch {
    fn config(&self) -> ClientConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts using `config`; the returned future builds the client (on the blocking pool)
    /// and settles the slot. `Err(why)`: it could not be built, and the old one stays.
    fn begin(
        &self,
        config: ClientConfig,
        d: Dispatch,
    ) -> impl Future<Output = Result<(), String>> + Send + 'static {
        let previous = std::mem::replace(
            &mut *self.config.lock().unwrap_or_else(|p| p.into_inner()),
            config.clone(),
        );
        let change = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        let last = self.clients.borrow().last().clone();
        self.clients
            .send_replace(ClientSlot::Building { last, key: change });
        let this = self.clone();
        async move {
            let built = blocking(d, move || Client::new(config).map_err(|e| e.to_string()))
                .await
                .and_then(|r| r);
            let mut rejected = None;
            // Only the newest change settles the slot.
            this.clients.send_if_modified(|s| match s {
                ClientSlot::Building { last, key } if *key == change => {
                    *s = match &built {
                        Ok(client) => ClientSlot::Ready(client.clone()),
                        Err(why) => {
                            rejected = Some(why.clone());
                            ClientSlot::Ready(last.clone())
                        }
                    };
                    true
                }
                _ => false,
            });
            match rejected {
                Some(why) => {
                    *this.config.lock().unwrap_or_else(|p| p.into_inner()) = previous;
                    Err(why)
                }
                None => Ok(()),
            }
        }
    }
}

#[derive(Debug, Clone)]
struct DecodeJob {
    req: u64,
    path: PathBuf,
    cells: (u16, u16),
}

pub struct Worker {
    tx: Sender,
    clients: watch::Sender<ClientSlot>,
    switch: Switch,
    /// Where profiles are kept, the account shown, the callback listener.
    account: account::Account,
    /// Tasks whose cost can be observed (nothing else ran while they did).
    costs: Arc<Mutex<CostWatch>>,
    data_dir: PathBuf,
    history: History,
    poll: PollOptions,
    pollers: HashMap<String, AbortHandle>,
    submissions: JoinSet<()>,
    /// Cancelled when the app quits: submissions still uploading stop there.
    closing: CancellationToken,
    decode: watch::Sender<Option<DecodeJob>>,
    dispatch: Dispatch,
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
        dispatch: Dispatch,
    ) -> api::Result<Worker> {
        let client = Client::new(config.clone())?;
        let (clients, _) = watch::channel(ClientSlot::Ready(client));
        let (decode, rx) = watch::channel(None);
        let switch = Switch {
            clients: clients.clone(),
            config: Arc::new(Mutex::new(config.clone())),
            changes: Arc::new(AtomicU64::new(0)),
        };
        let base_url = config.base_url.clone();
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
                history.clone(),
                tx.clone(),
                dispatch.clone(),
            ),
            costs: Arc::default(),
            data_dir,
            history,
            poll,
            pollers: HashMap::new(),
            submissions: JoinSet::new(),
            closing: CancellationToken::new(),
            decode,
            dispatch,
        };
        w.spawn(decoder(
            rx,
            w.tx.clone(),
            encoding.into(),
            w.dispatch.clone(),
        ));
        w.spawn(resume(
            w.history.clone(),
            config.base_url.clone(),
            w.tx.clone(),
            w.dispatch.clone(),
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
            self.history.clone(),
            self.tx.clone(),
            self.dispatch.clone(),
        );
    }

    fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
        tokio::spawn(fut.with_subscriber(self.dispatch.clone())).abort_handle()
    }

    pub fn handle(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        let d = self.dispatch.clone();
        let clients = self.clients.subscribe();
        match effect {
            Effect::CheckReference { id, entry } => {
                self.spawn(async move {
                    let result = blocking(d, move || check_reference(&entry))
                        .await
                        .and_then(|r| r);
                    let _ = tx.send(Action::ReferenceChecked { id, result });
                });
            }
            Effect::ListDir { req, dir } => {
                self.spawn(async move {
                    let listed = dir.clone();
                    let result = blocking(d, move || list_dir(&listed)).await.and_then(|r| r);
                    let _ = tx.send(Action::DirListed { req, dir, result });
                });
            }
            Effect::Submit { job, draft } => {
                let keep = Keep {
                    history: self.history.clone(),
                    data_dir: self.data_dir.clone(),
                    costs: self.costs.clone(),
                    callbacks: self.account.callbacks(),
                };
                let closing = self.closing.clone();
                while self.submissions.try_join_next().is_some() {}
                self.submissions.spawn(
                    async move {
                        let result = match current(clients).await {
                            Some(client) => {
                                submit(&client, &tx, job, draft, keep, d, closing).await
                            }
                            None => return,
                        };
                        let _ = tx.send(Action::Submitted { job, result });
                    }
                    .with_subscriber(self.dispatch.clone()),
                );
            }
            Effect::Poll {
                task_id,
                generation,
            } => {
                if let Some(old) = self.pollers.remove(&task_id) {
                    old.abort();
                }
                self.pollers.retain(|_, h| !h.is_finished());
                let job = PollJob {
                    task_id: task_id.clone(),
                    generation,
                    opts: self.poll,
                    history: self.history.clone(),
                    costs: self.costs.clone(),
                    callbacks: self.account.callbacks(),
                    dispatch: d,
                };
                let handle = self.spawn(poll(clients, tx, job));
                self.pollers.insert(task_id, handle);
            }
            Effect::Download {
                task_id,
                created_at,
                items,
            } => {
                let keep = Keep {
                    history: self.history.clone(),
                    data_dir: self.data_dir.clone(),
                    costs: self.costs.clone(),
                    callbacks: None,
                };
                self.spawn(download(clients, tx, keep, task_id, created_at, items));
            }
            Effect::Decode { req, path, cells } => {
                self.decode
                    .send_replace(Some(DecodeJob { req, path, cells }));
            }
            Effect::RefreshCredits { req } => {
                let history = self.history.clone();
                self.spawn(async move {
                    let Some(client) = current(clients).await else {
                        return;
                    };
                    let result = read_balance(&client, &history, &d).await;
                    let _ = tx.send(Action::Credits { req, result });
                });
            }
            Effect::SetKey(key) => {
                let config = ClientConfig {
                    api_key: Some(key),
                    ..self.switch.config()
                };
                // From here on, new work waits for the new client.
                let switched = self.switch.begin(config, d);
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
            Effect::Copy(_) | Effect::StartDemo => {}
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
                let history = self.history.clone();
                self.spawn(async move {
                    let result = blocking(d, move || load_page(&history, &query, offset, limit))
                        .await
                        .and_then(|r| r);
                    let _ = tx.send(Action::HistoryLoaded { req, result });
                });
            }
            Effect::DeleteEntry { task_id, files } => {
                let history = self.history.clone();
                self.spawn(async move {
                    let id = task_id.clone();
                    let result = blocking(d, move || delete_entry(&history, &id, files))
                        .await
                        .and_then(|r| r);
                    let _ = tx.send(Action::EntryDeleted { task_id, result });
                });
            }
            Effect::Open(path) => {
                self.spawn(async move {
                    let shown = path.display().to_string();
                    let opened = blocking(d, move || open::that_detached(&path))
                        .await
                        .and_then(|r| r.map_err(|e| e.to_string()));
                    if let Err(e) = opened {
                        let _ = tx.send(Action::OpenFailed(format!(
                            "could not open {shown} in the system viewer ({e}): open it yourself, or copy its path with y"
                        )));
                    }
                });
            }
        }
    }

    /// The account's effects: profiles, keys, usage (`worker/account.rs`).
    fn account(&mut self, effect: Effect) {
        let clients = self.clients.subscribe();
        let job = self.account.handle(effect, self.switch.clone(), clients);
        self.spawn(job);
    }

    /// Submissions not finished yet.
    pub fn submissions_in_flight(&mut self) -> usize {
        while self.submissions.try_join_next().is_some() {}
        self.submissions.len()
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

/// The client to use now, waiting while a new key's is being built; `None` once the worker
/// is gone.
async fn current(mut clients: Clients) -> Option<Client> {
    let slot = clients
        .wait_for(|s| matches!(s, ClientSlot::Ready(_)))
        .await
        .ok()?;
    Some(slot.last().clone())
}

/// Runs `f` on the blocking pool, with this run's log subscriber; a panic becomes an error.
async fn blocking<T: Send + 'static>(
    d: Dispatch,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&d, || std::panic::catch_unwind(AssertUnwindSafe(f)))
    })
    .await
    .map_err(|e| format!("internal error: {e}"))?
    .map_err(|_| "internal error (see the log file)".to_owned())
}

/// Where a task's id and images are kept.
#[derive(Debug, Clone)]
struct Keep {
    history: History,
    data_dir: PathBuf,
    costs: Arc<Mutex<CostWatch>>,
    /// The listener results may arrive through, if one runs.
    callbacks: Option<Arc<Callbacks>>,
}

/// How long a submission waits for the balance it is measured against.
const BALANCE_BEFORE_SUBMIT: Duration = Duration::from_secs(3);

/// Reads the balance and keeps the reading in the history.
async fn read_balance(client: &Client, history: &History, d: &Dispatch) -> Result<f64, Failure> {
    let balance = client.credits().await.map_err(Failure::from)?;
    let (h, base) = (history.clone(), client.base_url().to_owned());
    let at = chrono::Utc::now().timestamp_millis();
    match blocking(d.clone(), move || h.record_balance(&base, at, balance)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("could not keep the balance reading: {e}"),
        Err(e) => tracing::warn!("could not keep the balance reading: {e}"),
    }
    Ok(balance)
}

/// At start: expires what the service no longer keeps, then hands the app every task of this
/// service still generating or with images not saved, to be followed again.
async fn resume(history: History, base_url: String, tx: Sender, d: Dispatch) {
    let now = chrono::Utc::now().timestamp_millis();
    let result = blocking(d, move || {
        history.expire(now)?;
        history.unsettled()
    })
    .await;
    let action = match result {
        Ok(Ok(entries)) => Action::Resumed {
            entries: entries
                .into_iter()
                .filter(|e| crate::store::sync::same_service(&e.base_url, &base_url))
                .collect(),
            now,
        },
        Ok(Err(e)) => Action::HistoryError(e.to_string()),
        Err(e) => Action::HistoryError(e),
    };
    let _ = tx.send(action);
}

fn load_page(
    history: &History,
    query: &Query,
    offset: usize,
    limit: usize,
) -> Result<HistoryPage, String> {
    let total = history.count(query).map_err(|e| e.to_string())?;
    let entries = history
        .page(query, offset, limit)
        .map_err(|e| e.to_string())?;
    Ok(HistoryPage {
        total,
        offset,
        entries,
    })
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

/// Uploads local references (saying which), creates the task, and writes its id to the
/// history before anyone sees it. Quitting (`closing`) stops it only before `generate`.
async fn submit(
    client: &Client,
    tx: &Sender,
    job: u64,
    draft: Draft,
    keep: Keep,
    d: Dispatch,
    closing: CancellationToken,
) -> Result<NewTask, Failure> {
    let uploads = resolve_all(client, tx, job, &draft);
    let (files_url, mask_url) = tokio::select! {
        resolved = uploads => resolved.map_err(Failure::from)?,
        _ = closing.cancelled() => {
            return Err(Failure::new(ErrorClass::Other, "cancelled: the app quit before the task was created"));
        }
    };
    if closing.is_cancelled() {
        return Err(Failure::new(
            ErrorClass::Other,
            "cancelled: the app quit before the task was created",
        ));
    }
    let _ = tx.send(Action::SubmitProgress {
        job,
        stage: SubmitStage::Creating,
    });
    // A local file is kept by its absolute path, so that a remix finds it from anywhere.
    let reference = |source: &ImageSource, url: String| Reference {
        origin: match source {
            ImageSource::File(p) => std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            ImageSource::Url(u) => u.clone(),
        },
        url,
    };
    let params = Params {
        prompt: draft.prompt,
        refs: draft
            .refs
            .iter()
            .zip(files_url)
            .map(|(s, u)| reference(s, u))
            .collect(),
        mask: draft
            .mask
            .as_ref()
            .zip(mask_url)
            .map(|(s, u)| reference(s, u)),
        size: draft.size,
        variants: draft.variants,
        enhance: draft.enhance,
        fallback: draft.fallback,
        callback_url: keep.callbacks.as_ref().map(|c| c.url()),
    };
    // The balance just before: what the task costs is the difference after it. A slow
    // credit endpoint must not hold the submission up: the cost then stays unknown.
    let before = tokio::time::timeout(
        BALANCE_BEFORE_SUBMIT,
        read_balance(client, &keep.history, &d),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let task_id = client
        .generate(&params.request())
        .await
        .map_err(Failure::from)?;
    if let Some(callbacks) = &keep.callbacks {
        callbacks.listener.expect(&task_id);
    }
    if let Some(before) = before {
        keep.costs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .started(&task_id, before);
    }
    tracing::info!(%task_id, "task created");
    let created_at = chrono::Utc::now().timestamp_millis();
    let (id, base_url) = (task_id.clone(), client.base_url().to_owned());
    let kept = blocking(d, move || {
        crate::store::keep_task(
            Some(&keep.history),
            &keep.data_dir,
            &id,
            &base_url,
            &params,
            created_at,
        )
    })
    .await;
    let journal_warning = match kept {
        Ok(Ok(None)) => None,
        Ok(Ok(Some(warning))) | Ok(Err(warning)) => Some(warning),
        Err(e) => Some(format!(
            "task {task_id} could not be recorded ({e}): note the id down"
        )),
    };
    if let Some(w) = &journal_warning {
        tracing::warn!("{w}");
    }
    Ok(NewTask {
        task_id,
        created_at,
        journal_warning,
    })
}

/// Uploads the local references and the mask (saying which), returning every URL.
async fn resolve_all(
    client: &Client,
    tx: &Sender,
    job: u64,
    draft: &Draft,
) -> api::Result<(Vec<String>, Option<String>)> {
    let total = draft
        .refs
        .iter()
        .chain(draft.mask.iter())
        .filter(|s| matches!(s, ImageSource::File(_)))
        .count();
    let mut index = 0;
    let mut resolve = async |source: &ImageSource| -> api::Result<String> {
        if let ImageSource::File(path) = source {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = tx.send(Action::SubmitProgress {
                job,
                stage: SubmitStage::Uploading { index, total, name },
            });
            index += 1;
        }
        source.resolve(client).await
    };
    let mut files_url = Vec::with_capacity(draft.refs.len());
    for r in &draft.refs {
        files_url.push(resolve(r).await?);
    }
    let mask_url = match &draft.mask {
        Some(m) => Some(resolve(m).await?),
        None => None,
    };
    Ok((files_url, mask_url))
}

/// What one poller follows.
struct PollJob {
    task_id: String,
    generation: u64,
    opts: PollOptions,
    history: History,
    costs: Arc<Mutex<CostWatch>>,
    callbacks: Option<Arc<Callbacks>>,
    dispatch: Dispatch,
}

/// Polls one task (`api::poll::poll_task`: the contract's limits and back-off), sending every
/// answer and every failure to the app, until the task ends, a failure stops it, or the app
/// is gone. Each answer is written to the history before the app sees it (so that the rows
/// its images are recorded in exist before they are downloaded).
async fn poll(clients: Clients, tx: Sender, job: PollJob) {
    let Some(client) = current(clients).await else {
        return;
    };
    let client_for_cost = client.clone();
    let PollJob {
        task_id,
        generation,
        opts,
        history,
        costs,
        callbacks,
        dispatch,
    } = job;
    let (rounds, mut received) = mpsc::unbounded_channel::<Action>();
    let polling = {
        let task_id = task_id.clone();
        let tx = tx.clone();
        async move {
            let result = poll_task(&client, &task_id, &opts, |round| {
                let action = match round {
                    Round::Record(record) => Action::TaskUpdate {
                        task_id: task_id.clone(),
                        generation,
                        record: record.clone(),
                    },
                    Round::Failed(e) => {
                        let stopped = !e.is_retryable();
                        tracing::warn!(%task_id, stopped, "poll failed: {e}");
                        Action::PollFailed {
                            task_id: task_id.clone(),
                            generation,
                            failure: Failure::from(e),
                            stopped,
                        }
                    }
                };
                if tx.is_closed() || rounds.send(action).is_err() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .await;
            // Every other failure was reported as it happened.
            if let Err(e @ api::Error::StillRunning { .. }) = result {
                let _ = rounds.send(Action::PollFailed {
                    task_id,
                    generation,
                    failure: Failure::new(ErrorClass::Unavailable, e.to_string()),
                    stopped: true,
                });
            }
        }
    };
    let forwarding = async move {
        while let Some(action) = received.recv().await {
            if let Action::TaskUpdate { record, .. } = &action {
                let (h, r) = (history.clone(), record.clone());
                let now = chrono::Utc::now().timestamp_millis();
                match blocking(dispatch.clone(), move || h.record(&r, now)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(%task_id, "could not record the status: {e}"),
                    Err(e) => tracing::warn!(%task_id, "could not record the status: {e}"),
                }
                if record.status.is_final() {
                    if let Some(callbacks) = &callbacks {
                        callbacks.listener.forget(&task_id);
                    }
                    ended(&client_for_cost, &history, &costs, &task_id, &dispatch).await;
                }
            }
            if tx.send(action).is_err() {
                return;
            }
        }
    };
    tokio::join!(polling, forwarding);
}

/// A task ended: if nothing else ran while it did, the balance now tells what it cost.
async fn ended(
    client: &Client,
    history: &History,
    costs: &Mutex<CostWatch>,
    task_id: &str,
    d: &Dispatch,
) {
    let before = costs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .ended(task_id);
    let Some(before) = before else {
        return;
    };
    let Ok(after) = read_balance(client, history, d).await else {
        return;
    };
    if let Some(cost) = observed_cost(before, after) {
        let (h, id) = (history.clone(), task_id.to_owned());
        if let Ok(Err(e)) = blocking(d.clone(), move || h.set_cost(&id, cost)).await {
            tracing::warn!(%task_id, "could not keep the cost: {e}");
        }
    }
}

/// Saves each result into the data directory (`store::files`) and records it.
async fn download(
    clients: Clients,
    tx: Sender,
    keep: Keep,
    task_id: String,
    created_at: i64,
    items: Vec<(usize, String)>,
) {
    let Some(client) = current(clients).await else {
        return;
    };
    for (index, url) in items {
        let result = save_image(
            &client,
            Some(&keep.history),
            &keep.data_dir,
            &task_id,
            created_at,
            index,
            &url,
        )
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

/// Decodes the newest requested image; requests that arrive meanwhile replace each other.
async fn decoder(
    mut rx: watch::Receiver<Option<DecodeJob>>,
    tx: Sender,
    encoding: Encoding,
    d: Dispatch,
) {
    while rx.changed().await.is_ok() {
        let Some(job) = rx.borrow_and_update().clone() else {
            continue;
        };
        let DecodeJob { req, path, cells } = job;
        // Kitty ids are 32-bit and never 0; requests only grow, so ids do not repeat soon.
        let kitty_id = (req % u64::from(u32::MAX)) as u32 + 1;
        let result = blocking(d.clone(), move || {
            decode_fitted(
                &path,
                cells,
                Encoding {
                    kitty_id,
                    ..encoding
                },
            )
        })
        .await
        .and_then(|r| r);
        if tx.send(Action::ImageDecoded { req, result }).is_err() {
            return;
        }
    }
}
