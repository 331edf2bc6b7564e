//! Background work: every Effect becomes a tokio task (or a blocking one, for the disk and
//! image decoding) that owns no UI state and answers with Actions on the app's channel.
//!
//! One poller per task id: starting another aborts the older, and the app drops replies of
//! older generations anyway. Decodes are coalesced: only the newest request is worked on.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::api::input::ImageSource;
use crate::api::poll::PollOptions;
use crate::api::types::ALLOWED_EXTENSIONS;
use crate::api::{self, Client, ClientConfig, ErrorClass, GenerateRequest};
use crate::store::journal::{Journal, JournalEntry};
use crate::tui::action::{
    Action, CheckedRef, DirEntry, Draft, Effect, Failure, NewTask, SubmitStage,
};
use crate::tui::preview::{Protocol, decode_fitted};

pub type Sender = mpsc::UnboundedSender<Action>;

#[derive(Debug, Clone)]
struct DecodeJob {
    req: u64,
    path: PathBuf,
    cells: (u16, u16),
}

pub struct Worker {
    tx: Sender,
    client: Client,
    config: ClientConfig,
    data_dir: PathBuf,
    poll: PollOptions,
    pollers: HashMap<String, AbortHandle>,
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
        let (decode, rx) = watch::channel(None);
        let w = Worker {
            tx,
            client,
            config,
            data_dir,
            poll,
            pollers: HashMap::new(),
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
                let client = self.client.clone();
                let journal = Journal::in_dir(&self.data_dir);
                self.spawn(async move {
                    let result = submit(&client, &tx, job, draft, journal, d)
                        .await
                        .map_err(Failure::from);
                    let _ = tx.send(Action::Submitted { job, result });
                });
            }
            Effect::Poll {
                task_id,
                generation,
            } => {
                if let Some(old) = self.pollers.remove(&task_id) {
                    old.abort();
                }
                self.pollers.retain(|_, h| !h.is_finished());
                let handle = self.spawn(poll(
                    self.client.clone(),
                    tx,
                    task_id.clone(),
                    generation,
                    self.poll,
                ));
                self.pollers.insert(task_id, handle);
            }
            Effect::Download { task_id, items } => {
                let client = self.client.clone();
                let dir = self.data_dir.join("images");
                self.spawn(download(client, tx, dir, task_id, items));
            }
            Effect::Decode { req, path, cells } => {
                self.decode
                    .send_replace(Some(DecodeJob { req, path, cells }));
            }
            Effect::RefreshCredits { req } => {
                let client = self.client.clone();
                self.spawn(async move {
                    let result = client.credits().await.map_err(Failure::from);
                    let _ = tx.send(Action::Credits { req, result });
                });
            }
            Effect::SetKey(key) => {
                let config = ClientConfig {
                    api_key: Some(key),
                    ..self.config.clone()
                };
                match Client::new(config.clone()) {
                    Ok(client) => {
                        self.client = client;
                        self.config = config;
                        tracing::info!("using a new API key for this run");
                    }
                    Err(e) => {
                        let _ = tx.send(Action::KeyRejected(e.to_string()));
                    }
                }
            }
            // The runner writes to the terminal itself.
            Effect::Copy(_) => {}
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        for handle in self.pollers.values() {
            handle.abort();
        }
    }
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

/// Checks an entry the way the service would, and reads its pixel size.
pub fn check_reference(entry: &str) -> Result<CheckedRef, String> {
    let source = ImageSource::parse(entry).map_err(|e| e.to_string())?;
    let ImageSource::File(path) = &source else {
        return Ok(CheckedRef {
            source,
            dims: None,
            bytes: None,
        });
    };
    let bytes = std::fs::metadata(path).map(|m| m.len()).ok();
    let dims = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(image::ImageError::IoError)
        .and_then(|r| r.into_dimensions())
        .map_err(|e| {
            format!(
                "{} could not be read as an image ({e}): pick another file",
                path.display()
            )
        })?;
    Ok(CheckedRef {
        source,
        dims: Some(dims),
        bytes,
    })
}

/// Folders and allowed images in `dir`, folders first, by name; hidden entries left out.
pub fn list_dir(dir: &Path) -> Result<Vec<DirEntry>, String> {
    let read = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut entries = Vec::new();
    for entry in read.flatten().take(20_000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        let allowed = Path::new(&name)
            .extension()
            .map(|e| {
                ALLOWED_EXTENSIONS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
            })
            .unwrap_or(false);
        if meta.is_dir() || (meta.is_file() && allowed) {
            entries.push(DirEntry {
                name,
                is_dir: meta.is_dir(),
                bytes: meta.len(),
            });
        }
    }
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    Ok(entries)
}

/// Uploads local references (saying which), creates the task, and writes its id to the
/// journal before anyone sees it.
async fn submit(
    client: &Client,
    tx: &Sender,
    job: u64,
    draft: Draft,
    journal: Journal,
    d: Dispatch,
) -> api::Result<NewTask> {
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
    let task_id = client.generate(&request).await?;
    tracing::info!(%task_id, "task created");
    let entry = JournalEntry {
        task_id: task_id.clone(),
        base_url: client.base_url().to_owned(),
        submitted_at: chrono::Utc::now().timestamp_millis(),
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
        journal_warning,
    })
}

/// Polls one task within the contract's limits (the client's per-task limiter, and the
/// growing interval of `PollOptions`) until it ends, reporting every answer.
async fn poll(client: Client, tx: Sender, task_id: String, generation: u64, opts: PollOptions) {
    let start = Instant::now();
    let mut n = 0;
    loop {
        tokio::time::sleep(opts.interval(n)).await;
        n += 1;
        match client.record_info(&task_id).await {
            Ok(Some(record)) => {
                let done = record.status.is_final();
                if tx
                    .send(Action::TaskUpdate {
                        task_id: task_id.clone(),
                        generation,
                        record,
                    })
                    .is_err()
                    || done
                {
                    return;
                }
            }
            // Right after a submit the service may have no record yet.
            Ok(None) => {}
            Err(e) => {
                let stopped = !e.is_retryable();
                tracing::warn!(%task_id, stopped, "poll failed: {e}");
                let failure = Failure::from(&e);
                if tx
                    .send(Action::PollFailed {
                        task_id: task_id.clone(),
                        generation,
                        failure,
                        stopped,
                    })
                    .is_err()
                    || stopped
                {
                    return;
                }
                // The client has retried already: wait longer before the next round.
                tokio::time::sleep(opts.max_interval).await;
            }
        }
        if start.elapsed() >= opts.give_up_after {
            let e = api::Error::StillRunning {
                task_id: task_id.clone(),
                minutes: opts.give_up_after.as_secs() / 60,
            };
            let failure = Failure::new(ErrorClass::Unavailable, e.to_string());
            let _ = tx.send(Action::PollFailed {
                task_id,
                generation,
                failure,
                stopped: true,
            });
            return;
        }
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
    client: Client,
    tx: Sender,
    dir: PathBuf,
    task_id: String,
    items: Vec<(usize, String)>,
) {
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
        let result = blocking(d.clone(), move || decode_fitted(&path, cells, protocol))
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
    fn lists_folders_first_then_allowed_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.PNG", "a.jpg", "notes.txt", ".hidden.png", "c.gif"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let names: Vec<String> = list_dir(dir.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["sub", "a.jpg", "b.PNG"]);
        assert!(list_dir(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn checks_references_and_reads_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("r.png");
        image::RgbImage::new(12, 7).save(&png).unwrap();
        let c = check_reference(png.to_str().unwrap()).unwrap();
        assert_eq!(c.dims, Some((12, 7)));
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"not an image").unwrap();
        assert!(
            check_reference(bad.to_str().unwrap())
                .unwrap_err()
                .contains("could not be read as an image")
        );
        assert!(check_reference("/no/such.png").is_err());
        assert_eq!(safe_name("task_4o/../x"), "task_4o____x");
    }
}
