//! The preview's decoder: the image asked for now first, answered from the cache when it was
//! seen (or fetched ahead) before; then, while nothing is asked, the neighbours of the
//! selection, decoded ahead into the cache one at a time.
//!
//! Requests replace each other (a watch channel): only the newest is worked on. So do lists of
//! neighbours. A request is never held back by a neighbour being decoded, unless it is that
//! neighbour: then its decode is awaited rather than started twice.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Sender, blocking};
use crate::tui::action::{Action, Fitted};
use crate::tui::preview::cache::{Cache, Key};
use crate::tui::preview::{Encoding, decode_fitted};

/// The image the preview shows now.
#[derive(Debug, Clone)]
pub struct DecodeJob {
    pub req: u64,
    pub path: PathBuf,
    pub cells: (u16, u16),
}

/// Images likely asked for next, nearest first, all fitted to `cells`.
#[derive(Debug, Clone, Default)]
pub struct Ahead {
    pub paths: Vec<PathBuf>,
    pub cells: (u16, u16),
}

/// The cache, shared with the worker only to be looked at (how much it holds).
pub type Shared = Arc<Mutex<Cache>>;

type Running = Option<(Key, JoinHandle<Result<Fitted, String>>)>;

pub struct Decoder {
    pub jobs: watch::Receiver<Option<DecodeJob>>,
    pub ahead: watch::Receiver<Ahead>,
    pub tx: Sender,
    pub encoding: Encoding,
    pub cache: Shared,
}

impl Decoder {
    pub async fn run(mut self) {
        let mut queue: VecDeque<Key> = VecDeque::new();
        let mut running: Running = None;
        // Kitty ids are 32-bit and never 0; each decode gets one of its own.
        let mut ids: u32 = 0;
        loop {
            if running.is_none() {
                running = self.start_next(&mut queue, &mut ids);
            }
            tokio::select! {
                biased;
                changed = self.jobs.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let job = self.jobs.borrow_and_update().clone();
                    if let Some(job) = job
                        && !self.answer(job, &mut running, &mut ids).await
                    {
                        return;
                    }
                }
                changed = self.ahead.changed(), if self.ahead.has_changed().is_ok() => {
                    if changed.is_ok() {
                        let ahead = self.ahead.borrow_and_update().clone();
                        queue = ahead
                            .paths
                            .into_iter()
                            .map(|path| Key { path, cells: ahead.cells })
                            .collect();
                    }
                }
                done = finish(&mut running) => {
                    if let Some((key, Ok(Ok(fitted)))) = done {
                        self.keep(key, fitted);
                    }
                }
            }
        }
    }

    /// Answers a request: from the cache, from the neighbour being decoded if it is the one,
    /// or by decoding it now. False when the app is gone.
    async fn answer(&mut self, job: DecodeJob, running: &mut Running, ids: &mut u32) -> bool {
        let DecodeJob { req, path, cells } = job;
        let key = Key { path, cells };
        if running.as_ref().is_some_and(|(k, _)| *k == key)
            && let Some((key, Ok(Ok(fitted)))) = finish(running).await
        {
            self.keep(key, fitted);
        }
        let kept = self.lock().get(&key);
        let result = match kept {
            Some(fitted) => Ok(fitted),
            None => {
                let decoded = decode(key.clone(), self.encoding, next_id(ids)).await;
                if let Ok(fitted) = &decoded {
                    self.keep(key, fitted.clone());
                }
                decoded
            }
        };
        self.tx.send(Action::ImageDecoded { req, result }).is_ok()
    }

    /// Starts decoding the nearest neighbour not kept yet.
    fn start_next(&self, queue: &mut VecDeque<Key>, ids: &mut u32) -> Running {
        while let Some(key) = queue.pop_front() {
            if self.lock().contains(&key) {
                continue;
            }
            let handle = tokio::spawn(decode(key.clone(), self.encoding, next_id(ids)));
            return Some((key, handle));
        }
        None
    }

    fn keep(&self, key: Key, fitted: Fitted) {
        self.lock().insert(key, fitted);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Waits for the neighbour being decoded (forever when there is none) and takes it.
async fn finish(
    running: &mut Running,
) -> Option<(Key, Result<Result<Fitted, String>, tokio::task::JoinError>)> {
    let Some((_, handle)) = running.as_mut() else {
        return std::future::pending().await;
    };
    let result = handle.await;
    running.take().map(|(key, _)| (key, result))
}

async fn decode(key: Key, encoding: Encoding, kitty_id: u32) -> Result<Fitted, String> {
    let how = Encoding {
        kitty_id,
        ..encoding
    };
    blocking(move || decode_fitted(&key.path, key.cells, how))
        .await
        .and_then(|r| r)
}

fn next_id(ids: &mut u32) -> u32 {
    *ids = ids.checked_add(1).unwrap_or(1);
    *ids
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::tui::preview::{Payload, Protocol};

    fn png(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
        let path = dir.join(name);
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]))
            .save(&path)
            .unwrap();
        path
    }

    struct Harness {
        jobs: watch::Sender<Option<DecodeJob>>,
        ahead: watch::Sender<Ahead>,
        rx: mpsc::UnboundedReceiver<Action>,
        cache: Shared,
    }

    fn start() -> Harness {
        let (jobs, jobs_rx) = watch::channel(None);
        let (ahead, ahead_rx) = watch::channel(Ahead::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let cache: Shared = Arc::new(Mutex::new(Cache::new(1 << 20)));
        tokio::spawn(
            Decoder {
                jobs: jobs_rx,
                ahead: ahead_rx,
                tx,
                encoding: Encoding::from(Protocol::Blocks),
                cache: cache.clone(),
            }
            .run(),
        );
        Harness {
            jobs,
            ahead,
            rx,
            cache,
        }
    }

    async fn decoded(rx: &mut mpsc::UnboundedReceiver<Action>) -> (u64, Result<Fitted, String>) {
        let action = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let Action::ImageDecoded { req, result } = action else {
            panic!("not a decode: {action:?}");
        };
        (req, result)
    }

    /// Waits (checking every few milliseconds, 10 s at most) until the cache holds `n`.
    async fn until_kept(cache: &Shared, n: usize) {
        for _ in 0..2000 {
            if cache.lock().unwrap().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the cache never held {n}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn neighbours_are_decoded_ahead_and_answered_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let shown = png(dir.path(), "shown.png", 300, 200);
        let next = png(dir.path(), "next.png", 200, 300);
        let before = png(dir.path(), "before.png", 100, 100);
        let mut d = start();
        d.jobs.send_replace(Some(DecodeJob {
            req: 1,
            path: shown.clone(),
            cells: (30, 30),
        }));
        let (req, result) = decoded(&mut d.rx).await;
        assert_eq!((req, result.unwrap().cells), (1, (30, 10)));
        d.ahead.send_replace(Ahead {
            paths: vec![next.clone(), before.clone(), shown.clone()],
            cells: (30, 30),
        });
        until_kept(&d.cache, 3).await;
        // The files are gone: what answers now can only come from the cache.
        for path in [&shown, &next, &before] {
            std::fs::remove_file(path).unwrap();
        }
        d.jobs.send_replace(Some(DecodeJob {
            req: 2,
            path: next.clone(),
            cells: (30, 30),
        }));
        let (req, result) = decoded(&mut d.rx).await;
        let fitted = result.unwrap();
        assert_eq!((req, fitted.cells), (2, (30, 23)));
        assert!(matches!(&*fitted.payload, Payload::Viuer(i) if i.height() == 45));
        // Another size is another preview: that one is decoded, and the file is gone.
        d.jobs.send_replace(Some(DecodeJob {
            req: 3,
            path: before,
            cells: (10, 10),
        }));
        let (req, result) = decoded(&mut d.rx).await;
        assert_eq!(req, 3);
        assert!(result.unwrap_err().contains("cannot open"));
        assert_eq!(d.cache.lock().unwrap().len(), 3, "a failure is not kept");
    }
}
