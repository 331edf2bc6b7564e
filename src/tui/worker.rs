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
//! service accepted always reaches the journal.

use std::collections::HashMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::api::input::ImageSource;
use crate::api::poll::{PollOptions, Round, poll_task};
use crate::api::{self, Client, ClientConfig, ErrorClass, GenerateRequest};
use crate::store::journal::{Journal, JournalEntry};
use crate::tui::action::{Action, Draft, Effect, Failure, NewTask, SubmitStage};
use crate::tui::preview::{Encoding, Protocol, decode_fitted};

mod disk;
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

#[derive(Debug, Clone)]
struct DecodeJob {
    req: u64,
    path: PathBuf,
    cells: (u16, u16),
}

pub struct Worker {
    tx: Sender,
    clients: watch::Sender<ClientSlot>,
    /// Key changes so far: only the newest one's client is used.
    key_changes: u64,
    /// The settings the client was built with, minus the key (a new key replaces it).
    config: ClientConfig,
    data_dir: PathBuf,
    poll: PollOptions,
    pollers: HashMap<String, AbortHandle>,
    submissions: JoinSet<()>,
    /// Cancelled when the app quits: submissions still uploading stop there.
    closing: CancellationToken,
    decode: watch::Sender<Option<DecodeJob>>,
    dispatch: Dispatch,
}

impl Worker {
    /// Must be called inside the tokio runtime: it starts the decoder task.
    pub fn new(
        tx: Sender,
        config: ClientConfig,
        data_dir: PathBuf,
        protocol: Protocol,
        poll: PollOptions,
        dispatch: Dispatch,
    ) -> api::Result<Worker> {
        let client = Client::new(config.clone())?;
        let (clients, _) = watch::channel(ClientSlot::Ready(client));
        let (decode, rx) = watch::channel(None);
        let w = Worker {
            tx,
            clients,
            key_changes: 0,
            config,
            data_dir,
            poll,
            pollers: HashMap::new(),
            submissions: JoinSet::new(),
            closing: CancellationToken::new(),
            decode,
            dispatch,
        };
        w.spawn(decoder(rx, w.tx.clone(), protocol, w.dispatch.clone()));
        Ok(w)
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
                let journal = Journal::in_dir(&self.data_dir);
                let closing = self.closing.clone();
                while self.submissions.try_join_next().is_some() {}
                self.submissions.spawn(
                    async move {
                        let result = match current(clients).await {
                            Some(client) => {
                                submit(&client, &tx, job, draft, journal, d, closing).await
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
                let handle = self.spawn(poll(clients, tx, task_id.clone(), generation, self.poll));
                self.pollers.insert(task_id, handle);
            }
            Effect::Download {
                task_id, items, ..
            } => {
                let dir = self.data_dir.join("images");
                self.spawn(download(clients, tx, dir, task_id, items));
            }
            Effect::Decode { req, path, cells } => {
                self.decode
                    .send_replace(Some(DecodeJob { req, path, cells }));
            }
            Effect::RefreshCredits { req } => {
                self.spawn(async move {
                    let Some(client) = current(clients).await else {
                        return;
                    };
                    let result = client.credits().await.map_err(Failure::from);
                    let _ = tx.send(Action::Credits { req, result });
                });
            }
            Effect::SetKey(key) => {
                let config = ClientConfig {
                    api_key: Some(key),
                    ..self.config.clone()
                };
                // From here on, new work waits for the new client.
                self.key_changes += 1;
                let key = self.key_changes;
                let last = self.clients.borrow().last().clone();
                self.clients
                    .send_replace(ClientSlot::Building { last, key });
                let slot = self.clients.clone();
                self.spawn(async move {
                    let built = blocking(d, move || Client::new(config).map_err(|e| e.to_string()))
                        .await
                        .and_then(|r| r);
                    let mut rejected = None;
                    // Only the newest key change settles the slot.
                    let settled = slot.send_if_modified(|s| match s {
                        ClientSlot::Building { last, key: k } if *k == key => {
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
                            let _ = tx.send(Action::KeyRejected(format!(
                                "the new key could not be used ({why}); the old one stays"
                            )));
                        }
                        None if settled => tracing::info!("using a new API key for this run"),
                        None => {}
                    }
                });
            }
            // The runner writes to the terminal itself.
            Effect::Copy(_) => {}
            Effect::LoadHistory { .. } | Effect::DeleteEntry { .. } | Effect::Open(_) => {}
        }
    }

    /// Submissions not finished yet.
    pub fn submissions_in_flight(&mut self) -> usize {
        while self.submissions.try_join_next().is_some() {}
        self.submissions.len()
    }

    /// How long quitting may wait for a submission the service may have accepted: one
    /// request's time (connecting included), and a little for the journal.
    pub fn submission_grace(&self) -> Duration {
        self.config.connect_timeout + self.config.request_timeout + Duration::from_secs(2)
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

/// Uploads local references (saying which), creates the task, and writes its id to the
/// journal before anyone sees it. Quitting (`closing`) stops it only before `generate`.
async fn submit(
    client: &Client,
    tx: &Sender,
    job: u64,
    draft: Draft,
    journal: Journal,
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
    let request = GenerateRequest {
        prompt: draft.prompt,
        files_url,
        size: draft.size,
        n_variants: Some(draft.variants),
        mask_url,
        is_enhance: draft.enhance.then_some(true),
        enable_fallback: draft.fallback.is_some().then_some(true),
        fallback_model: draft.fallback,
        upload_cn: None,
        call_back_url: None,
    };
    let task_id = client.generate(&request).await.map_err(Failure::from)?;
    tracing::info!(%task_id, "task created");
    let entry_created = chrono::Utc::now().timestamp_millis();
    let entry = JournalEntry {
        task_id: task_id.clone(),
        base_url: client.base_url().to_owned(),
        submitted_at: entry_created,
        request,
    };
    let path = journal.path().display().to_string();
    let written = blocking(d, move || journal.append(&entry)).await;
    let journal_warning = match written {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e),
    }
    .map(|e| format!("could not record task {task_id} in {path}: {e}; note the id down"));
    if let Some(w) = &journal_warning {
        tracing::warn!("{w}");
    }
    Ok(NewTask {
        task_id,
        created_at: entry_created,
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

/// Polls one task (`api::poll::poll_task`: the contract's limits and back-off), sending every
/// answer and every failure to the app, until the task ends, a failure stops it, or the app
/// is gone.
async fn poll(clients: Clients, tx: Sender, task_id: String, generation: u64, opts: PollOptions) {
    let Some(client) = current(clients).await else {
        return;
    };
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
        if tx.send(action).is_ok() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    })
    .await;
    // Every other failure was reported as it happened.
    if let Err(e @ api::Error::StillRunning { .. }) = result {
        let _ = tx.send(Action::PollFailed {
            task_id,
            generation,
            failure: Failure::new(ErrorClass::Unavailable, e.to_string()),
            stopped: true,
        });
    }
}

/// Task ids come from the network: keep only what is safe in a file name.
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Saves each result as `<dir>/<taskId>-<n>.png` (through a temporary file and a rename).
async fn download(
    clients: Clients,
    tx: Sender,
    dir: PathBuf,
    task_id: String,
    items: Vec<(usize, String)>,
) {
    let Some(client) = current(clients).await else {
        return;
    };
    let made = tokio::fs::create_dir_all(&dir).await;
    for (index, url) in items {
        let result = async {
            if let Err(e) = &made {
                return Err(Failure::new(
                    ErrorClass::Other,
                    format!("cannot create {}: {e}", dir.display()),
                ));
            }
            let bytes = client
                .download_result(&task_id, &url)
                .await
                .map_err(Failure::from)?;
            let path = dir.join(format!("{}-{}.png", safe_name(&task_id), index + 1));
            let part = path.with_extension("png.part");
            let io = |e: std::io::Error| {
                Failure::new(
                    ErrorClass::Other,
                    format!("cannot write {}: {e}", path.display()),
                )
            };
            tokio::fs::write(&part, &bytes).await.map_err(io)?;
            tokio::fs::rename(&part, &path).await.map_err(io)?;
            Ok(path)
        }
        .await;
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
    protocol: Protocol,
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
            decode_fitted(&path, cells, Encoding::probe(protocol, kitty_id))
        })
        .await
        .and_then(|r| r);
        if tx.send(Action::ImageDecoded { req, result }).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_make_safe_file_names() {
        assert_eq!(safe_name("task_4o/../x"), "task_4o____x");
    }
}
