//! Downloaded images: where each one goes, and fetching one into place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::TimeZone;

use crate::api::{self, Client};
use crate::store::History;

/// Where image `index` (from 0) of a task created at `created_at` (ms) is saved:
/// `<data dir>/images/<yyyy-mm-dd>/<taskId>-<n>.png`, the date local, `n` from 1.
pub fn image_path(data_dir: &Path, task_id: &str, created_at: i64, index: usize) -> PathBuf {
    let day = chrono::Local
        .timestamp_millis_opt(created_at)
        .single()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "undated".to_owned());
    data_dir
        .join("images")
        .join(day)
        .join(format!("{}-{}.png", safe_name(task_id), index + 1))
}

/// Task ids come from the network: keep only what is safe in a file name.
pub fn safe_name(id: &str) -> String {
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

/// Why an image could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Api(#[from] api::Error),
    #[error("cannot write {}: {}", path.display(), api::error::plain_io(source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Downloads one result into its place (through a temporary file and a rename: a crash never
/// leaves half an image) and records it in the history; a failure is recorded too, so that
/// it is tried again later.
pub async fn save_image(
    client: &Client,
    history: Option<&History>,
    data_dir: &Path,
    task_id: &str,
    created_at: i64,
    index: usize,
    url: &str,
) -> Result<PathBuf, SaveError> {
    let path = image_path(data_dir, task_id, created_at, index);
    let result = fetch_into(client, task_id, url, &path).await;
    if let Some(history) = history {
        let (h, id, p) = (history.clone(), task_id.to_owned(), path.clone());
        let note = match &result {
            Ok(()) => None,
            Err(e) => Some(e.to_string()),
        };
        let recorded = tokio::task::spawn_blocking(move || match note {
            None => h.image_saved(&id, index, &p),
            Some(why) => h.image_failed(&id, index, &why),
        })
        .await;
        match recorded {
            Ok(Ok(())) => {}
            // The file is on disk either way; the next sync finds and records it again.
            Ok(Err(e)) => tracing::warn!(%task_id, index, "could not record the image: {e}"),
            Err(e) => tracing::warn!(%task_id, index, "could not record the image: {e}"),
        }
    }
    result.map(|()| path)
}

async fn fetch_into(
    client: &Client,
    task_id: &str,
    url: &str,
    path: &Path,
) -> Result<(), SaveError> {
    let bytes = client.download_result(task_id, url).await?;
    let write = |e: std::io::Error| SaveError::Write {
        path: path.to_owned(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || super::private::create_dir(&dir))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(write)?;
    }
    // A name of its own: the app and `fouro sync` may fetch the same image at once, and
    // must not write into one file.
    let part = part_path(path);
    let result = match write_synced(&part, &bytes).await {
        Ok(()) => rename_synced(&part, path).await,
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result.map_err(write)
}

/// Writes and syncs, so that the rename that follows never exposes an empty file after a
/// power cut.
async fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

/// Renames, then (on Unix) syncs the directory: the history records the image as saved
/// right after, and must not outlive the file's name.
async fn rename_synced(from: &Path, to: &Path) -> std::io::Result<()> {
    tokio::fs::rename(from, to).await?;
    #[cfg(unix)]
    if let Some(dir) = to.parent() {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}

/// `<name>.<pid>-<n>.part` beside `path`.
fn part_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{name}.{}-{n}.part", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_go_under_their_day_with_a_safe_name() {
        let at = chrono::Local
            .with_ymd_and_hms(2026, 3, 7, 12, 0, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default();
        assert_eq!(
            image_path(Path::new("/d"), "task_4o/../x", at, 1),
            PathBuf::from("/d/images/2026-03-07/task_4o____x-2.png")
        );
    }

    #[test]
    fn names_from_the_network_cannot_leave_the_directory() {
        for id in ["..", "/", "a/../../b", "C:\\x", "\0", "é", ""] {
            let name = safe_name(id);
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{id:?} gave {name:?}"
            );
        }
        assert_eq!(safe_name("task_4o-AZ09"), "task_4o-AZ09");
        let p = image_path(Path::new("/d"), "../../etc/passwd", 0, 0);
        assert!(p.starts_with("/d/images/"), "{}", p.display());
        assert_eq!(
            p.components().count(),
            Path::new("/d/images/x/y").components().count()
        );
    }

    #[test]
    fn every_part_file_has_its_own_name_beside_the_image() {
        let path = Path::new("/d/images/2026-03-07/t-1.png");
        let (a, b) = (part_path(path), part_path(path));
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        assert!(a.to_string_lossy().ends_with(".part"), "{}", a.display());
    }
}
