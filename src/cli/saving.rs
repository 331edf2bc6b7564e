//! A task's results on disk for `generate --wait` and `download`: every image is saved into
//! the data directory (and recorded in the history), then copied wherever `--out` asks.

use std::path::{Path, PathBuf};

use super::{Failure, exit, exit_code};
use crate::api::{Client, Error, TaskRecord};
use crate::store::files::{SaveError, safe_name, save_image};
use crate::store::{Entry, History};

/// Where the results go and what is known of them already.
pub struct Target<'a> {
    pub history: Option<&'a History>,
    pub data_dir: &'a Path,
    /// The task's entry in the history, when it has one: images already saved are reused.
    pub known: Option<&'a Entry>,
    /// When the task was created (ms): it names the day folder of its images.
    pub created_at: i64,
    /// A directory to copy the images into as well.
    pub out: Option<&'a Path>,
    /// Print each path on stdout as it is saved.
    pub print: bool,
}

/// Saves every result of a successful task and returns the paths the person asked for (the
/// copies in `--out` when given, else the data directory's files). An image that fails is
/// recorded as such and the others are still saved; the error then says to run `fouro sync`.
pub async fn save_all(
    client: &Client,
    record: &TaskRecord,
    target: &Target<'_>,
) -> Result<Vec<PathBuf>, Failure> {
    let task_id = record.task_id.as_str();
    if record.result_urls.is_empty() {
        return Err(Error::BadBody {
            status: 200,
            detail: format!("task {task_id} succeeded with no result URL"),
        }
        .into());
    }
    if let Some(out) = target.out {
        tokio::fs::create_dir_all(out)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    }
    let mut shown = Vec::new();
    let mut failed: Option<SaveError> = None;
    for (index, url) in record.result_urls.iter().enumerate() {
        let kept = match already_saved(target.known, index).await {
            Some(path) => path,
            None => {
                let saved = save_image(
                    client,
                    target.history,
                    target.data_dir,
                    task_id,
                    target.created_at,
                    index,
                    url,
                )
                .await;
                match saved {
                    Ok(path) => path,
                    Err(e) => {
                        let refused = matches!(
                            e,
                            SaveError::Api(Error::Unauthorized { .. } | Error::MissingKey)
                        );
                        failed.get_or_insert(e);
                        // Every other image would be refused the same way.
                        if refused {
                            break;
                        }
                        continue;
                    }
                }
            }
        };
        let path = match target.out {
            Some(out) => {
                let copy = out.join(format!("{}-{}.png", safe_name(task_id), index + 1));
                copy_atomically(&kept, &copy).await?;
                copy
            }
            None => kept,
        };
        if target.print {
            crate::cli::print::outln!("{}", path.display());
        }
        shown.push(path);
    }
    match failed {
        None => Ok(shown),
        Some(e) => {
            let code = match &e {
                SaveError::Api(api) => exit_code(api),
                SaveError::Write { .. } => exit::UNEXPECTED,
            };
            let hint = if target.history.is_some() {
                format!(
                    "; task {task_id} is kept in the history: run `fouro sync` to fetch what is missing"
                )
            } else {
                String::new()
            };
            Err(Failure::Said {
                message: format!("{e}{hint}"),
                code,
            })
        }
    }
}

/// The file of image `index` when the history says it was saved and it is still there.
async fn already_saved(known: Option<&Entry>, index: usize) -> Option<PathBuf> {
    let path = known?
        .images
        .iter()
        .find(|i| i.index == index)?
        .path
        .clone()?;
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.is_file() && meta.len() > 0 => Some(path),
        _ => None,
    }
}

/// Copies through a temporary sibling and a rename: a crash never leaves half an image.
async fn copy_atomically(from: &Path, to: &Path) -> Result<(), Failure> {
    let part = to.with_extension("png.part");
    tokio::fs::copy(from, &part).await.map_err(|e| {
        Error::io(
            format!("cannot copy {} to {}", from.display(), part.display()),
            e,
        )
    })?;
    tokio::fs::rename(&part, to)
        .await
        .map_err(|e| Error::io(format!("cannot write {}", to.display()), e))?;
    Ok(())
}
