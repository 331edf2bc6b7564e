//! The subcommands that talk to the service.

use std::io::{IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::output::{status_json, status_text};
use super::saving::{Target, save_all};
use super::{Failure, GenerateArgs, GlobalArgs, exit, exit_code, open_history, with_history};
use crate::api::input::{ImageSource, check_set};
use crate::api::poll::{PollOptions, wait_for_task};
use crate::api::types::format_credits;
use crate::api::{Client, Error, Result, TaskRecord, TaskStatus};
use crate::store::{self, History, Params, Reference};

pub async fn generate(global: &GlobalArgs, args: GenerateArgs) -> Result<u8, Failure> {
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
        )
        .into());
    }
    let client = global.client()?;
    if client.api_key().is_none() {
        return Err(Error::MissingKey.into());
    }
    // A task the history cannot take could be lost: refuse before any credit is spent.
    let data_dir = crate::config::data_dir();
    let history = open_history(&data_dir).await?;

    let mut ref_list = Vec::with_capacity(refs.len());
    for r in &refs {
        if matches!(r, ImageSource::File(_)) && !args.json {
            eprintln!("uploading {}", r.label());
        }
        ref_list.push(reference(r, &client).await?);
    }
    let mask = match &mask {
        Some(m) => Some(reference(m, &client).await?),
        None => None,
    };
    let params = Params {
        prompt,
        refs: ref_list,
        mask,
        size: args.size,
        variants: args.variants,
        enhance: args.enhance,
        fallback: args.fallback,
        callback_url: args.callback_url.clone(),
    };
    let task_id = client.generate(&params.request()).await?;
    let created_at = chrono::Utc::now().timestamp_millis();

    // Keep the id before anything else happens with it: the service cannot list tasks.
    let kept = {
        let (h, dir, id, base) = (
            history.clone(),
            data_dir.clone(),
            task_id.clone(),
            client.base_url().to_owned(),
        );
        let params = params.clone();
        tokio::task::spawn_blocking(move || {
            store::keep_task(Some(&h), &dir, &id, &base, &params, created_at)
        })
        .await
        .unwrap_or_else(|e| {
            Err(format!(
                "task {task_id} could not be recorded ({e}): note the id down"
            ))
        })
    };
    match kept {
        Ok(None) => {}
        Ok(Some(warning)) | Err(warning) => eprintln!("fouro: warning: {warning}"),
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
    let outcome = match follow(&client, &history, &task_id, &mut last).await {
        Ok(record) => {
            let target = Target {
                history: Some(&history),
                data_dir: &data_dir,
                known: None,
                created_at,
                out: args.out.as_deref(),
                print: !args.json,
            };
            save_all(&client, &record, &target)
                .await
                .map(|files| (record, files))
        }
        Err(e @ Error::TaskFailed { .. }) => Err(e.into()),
        // The task may still finish: say where it is kept and how to pick it up.
        Err(e) => Err(Failure::Said {
            message: format!(
                "{e}; task {task_id} is kept in the history: `fouro sync` follows it and downloads its images"
            ),
            code: exit_code(&e),
        }),
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

/// A reference as the history keeps it: a local file by its absolute path (and uploaded), a
/// URL as itself.
async fn reference(source: &ImageSource, client: &Client) -> Result<Reference> {
    let origin = match source {
        ImageSource::Url(u) => u.clone(),
        ImageSource::File(p) => std::path::absolute(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
    };
    Ok(Reference {
        origin,
        url: source.resolve(client).await?,
    })
}

/// Polls until the task ends, drawing a progress bar on stderr when it is a terminal,
/// recording every answer in the history, and keeping the last one in `last`.
async fn follow(
    client: &Client,
    history: &History,
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
    let mut warned = false;
    let result = wait_for_task(client, task_id, &PollOptions::default(), |r| {
        bar.set_message(r.status.as_str());
        bar.set_position((r.progress * 100.0).round() as u64);
        *last = Some(r.clone());
        // One quick statement, and the poll waits close to a second between rounds.
        if let Err(e) = history.record(r, chrono::Utc::now().timestamp_millis())
            && !warned
        {
            warned = true;
            bar.suspend(|| eprintln!("fouro: warning: could not record the task's state: {e}"));
        }
    })
    .await;
    bar.finish_and_clear();
    result
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

pub async fn status(global: &GlobalArgs, task_id: &str, json: bool) -> Result<u8, Failure> {
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

pub async fn credits(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
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

pub async fn download(
    global: &GlobalArgs,
    task_id: &str,
    out: Option<&Path>,
) -> Result<u8, Failure> {
    check_task_id(task_id)?;
    let client = global.client()?;
    let data_dir = crate::config::data_dir();
    // Downloading loses nothing when the history is unreadable: go on without it.
    let history = match open_history(&data_dir).await {
        Ok(h) => Some(h),
        Err(e) => {
            eprintln!("fouro: warning: {e}; downloading without recording");
            None
        }
    };
    let record = client.record_info(task_id).await?;
    let known = match (&history, &record) {
        (Some(h), Some(r)) => {
            let r = r.clone();
            let id = task_id.to_owned();
            let looked_up = with_history(h, move |h| {
                h.record(&r, chrono::Utc::now().timestamp_millis())?;
                h.get(&id)
            })
            .await;
            match looked_up {
                Ok(entry) => entry,
                Err(e) => {
                    eprintln!("fouro: warning: {e}");
                    None
                }
            }
        }
        _ => None,
    };
    let record = match record {
        Some(r) if r.status == TaskStatus::Success => r,
        Some(r) if r.status.is_failure() => {
            return Err(Error::TaskFailed {
                task_id: task_id.to_owned(),
                status: r.status,
                code: r.error_code,
                message: r.error_message,
            }
            .into());
        }
        _ => {
            return Err(Error::NotReady {
                task_id: task_id.to_owned(),
            }
            .into());
        }
    };
    let created_at = known
        .as_ref()
        .map(|e| e.created_at)
        .or(record.create_time)
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let target = Target {
        // A task the history does not know has no rows to record its images in.
        history: history.as_ref().filter(|_| known.is_some()),
        data_dir: &data_dir,
        known: known.as_ref(),
        created_at,
        out,
        print: true,
    };
    save_all(&client, &record, &target).await?;
    Ok(exit::OK)
}
