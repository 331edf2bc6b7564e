//! The subcommands that talk to the service.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::output::{status_json, status_text};
use super::{GenerateArgs, GlobalArgs, exit};
use crate::api::input::{ImageSource, check_set};
use crate::api::poll::{PollOptions, wait_for_task};
use crate::api::types::format_credits;
use crate::api::{Client, Error, GenerateRequest, Result, TaskRecord, TaskStatus};
use crate::store::journal::{Journal, JournalEntry};

pub async fn generate(global: &GlobalArgs, args: GenerateArgs) -> Result<u8> {
    let prompt = match args.prompt.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Error::Input(format!("cannot read the prompt from standard input: {e}"))
            })?;
            Some(s)
        }
        other => other.map(str::to_owned),
    }
    .map(|p| p.trim().to_owned())
    .filter(|p| !p.is_empty());

    let refs = args
        .refs
        .iter()
        .map(|r| ImageSource::parse(r))
        .collect::<Result<Vec<_>>>()?;
    let mask = args.mask.as_deref().map(ImageSource::parse).transpose()?;
    check_set(&refs, mask.as_ref())?;
    if prompt.is_none() && refs.is_empty() {
        return Err(Error::Input(
            "give a prompt, at least one --ref image, or both: e.g. fouro generate \"a lighthouse at dusk\"".into(),
        ));
    }
    let client = global.client()?;
    if client.api_key().is_none() {
        return Err(Error::MissingKey);
    }

    let mut files_url = Vec::with_capacity(refs.len());
    for r in &refs {
        if matches!(r, ImageSource::File(_)) && !args.json {
            eprintln!("uploading {}", r.label());
        }
        files_url.push(r.resolve(&client).await?);
    }
    let mask_url = match &mask {
        Some(m) => Some(m.resolve(&client).await?),
        None => None,
    };
    let request = GenerateRequest {
        prompt,
        files_url,
        size: args.size,
        n_variants: Some(args.variants),
        mask_url,
        is_enhance: args.enhance.then_some(true),
        enable_fallback: args.fallback.is_some().then_some(true),
        fallback_model: args.fallback,
        upload_cn: None,
        call_back_url: args.callback_url.clone(),
    };
    let task_id = client.generate(&request).await?;

    // Keep the id before anything else happens with it.
    let journal = Journal::in_dir(&crate::config::data_dir());
    let entry = JournalEntry {
        task_id: task_id.clone(),
        base_url: client.base_url().to_owned(),
        submitted_at: chrono::Utc::now().timestamp_millis(),
        request,
    };
    if let Err(e) = journal.append(&entry) {
        eprintln!(
            "fouro: warning: could not record task {task_id} in {}: {e}; note the id down",
            journal.path().display()
        );
    }

    if !args.json {
        println!("{task_id}");
    }
    if !args.wait {
        if args.json {
            println!("{}", status_json(&task_id, None));
        }
        return Ok(exit::OK);
    }

    let mut last = None;
    let outcome = match follow(&client, &task_id, &mut last).await {
        Ok(record) => save_results(&client, &task_id, &record, &args.out, args.json)
            .await
            .map(|files| (record, files)),
        Err(e) => Err(e),
    };
    let (record, files) = match outcome {
        Ok(done) => done,
        Err(e) => {
            // Scripts still get the task's last known state on stdout.
            if args.json {
                println!("{}", status_json(&task_id, last.as_ref()));
            }
            return Err(e);
        }
    };
    if args.json {
        let mut obj = status_json(&task_id, Some(&record));
        obj["files"] = json!(
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
        );
        println!("{obj}");
    }
    Ok(exit::OK)
}

/// Polls until the task ends, drawing a progress bar on stderr when it is a terminal, and
/// keeping the last answer in `last`.
async fn follow(
    client: &Client,
    task_id: &str,
    last: &mut Option<TaskRecord>,
) -> Result<TaskRecord> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:10} [{bar:30}] {pos:>3}%  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("GENERATING");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = wait_for_task(client, task_id, &PollOptions::default(), |r| {
        bar.set_message(r.status.as_str());
        bar.set_position((r.progress * 100.0).round() as u64);
        *last = Some(r.clone());
    })
    .await;
    bar.finish_and_clear();
    result
}

/// Downloads every result into `out` as `<taskId>-<n>.png` and prints each path.
async fn save_results(
    client: &Client,
    task_id: &str,
    record: &TaskRecord,
    out: &Path,
    quiet: bool,
) -> Result<Vec<PathBuf>> {
    if record.result_urls.is_empty() {
        return Err(Error::BadBody {
            status: 200,
            detail: format!("task {} succeeded with no result URL", record.task_id),
        });
    }
    tokio::fs::create_dir_all(out)
        .await
        .map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    let mut paths = Vec::new();
    for (i, url) in record.result_urls.iter().enumerate() {
        let bytes = client.download_result(task_id, url).await?;
        let path = out.join(format!("{task_id}-{}.png", i + 1));
        write_atomically(&path, &bytes).await?;
        if !quiet {
            println!("{}", path.display());
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Writes to a temporary sibling, then renames: a crash never leaves half an image.
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("png.part");
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// A task id from the command line: it names files, so it must be a plain token.
fn check_task_id(task_id: &str) -> Result<()> {
    if crate::api::client::is_plain_task_id(task_id) {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{task_id:?} is not a task id: give one as `fouro generate` printed it, e.g. task_4o_…"
        )))
    }
}

pub async fn status(global: &GlobalArgs, task_id: &str, json: bool) -> Result<u8> {
    check_task_id(task_id)?;
    let client = global.client()?;
    let record = client.record_info(task_id).await?;
    if json {
        println!("{}", status_json(task_id, record.as_ref()));
    } else {
        println!("{}", status_text(task_id, record.as_ref()));
    }
    Ok(match record {
        Some(r) if r.status.is_failure() => exit::TASK_FAILED,
        _ => exit::OK,
    })
}

pub async fn credits(global: &GlobalArgs, json: bool) -> Result<u8> {
    let credits = global.client()?.credits().await?;
    if json {
        println!(
            "{}",
            json!({ "credits": super::output::credits_json(credits) })
        );
    } else {
        println!("{} credits", format_credits(credits));
    }
    Ok(exit::OK)
}

pub async fn download(global: &GlobalArgs, task_id: &str, out: &Path) -> Result<u8> {
    check_task_id(task_id)?;
    let client = global.client()?;
    let record = client.record_info(task_id).await?;
    let record = match record {
        Some(r) if r.status == TaskStatus::Success => r,
        Some(r) if r.status.is_failure() => {
            return Err(Error::TaskFailed {
                task_id: task_id.to_owned(),
                status: r.status,
                code: r.error_code,
                message: r.error_message,
            });
        }
        _ => {
            return Err(Error::NotReady {
                task_id: task_id.to_owned(),
            });
        }
    };
    save_results(&client, task_id, &record, out, false).await?;
    Ok(exit::OK)
}
