//! The subcommands that talk to the service (`generate` has a module of its own).

use std::path::Path;

use serde_json::json;

use super::output::{status_json, status_text};
use super::saving::{Target, save_all};
use super::{CreditsArgs, Failure, GlobalArgs, exit, open_history, usage};
use crate::api::types::format_credits;
use crate::api::{Error, Result, TaskStatus};

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
    let record = crate::tasks::follow::ask(&client, task_id).await?;
    if json {
        crate::cli::print::stdout_json(&status_json(task_id, record.as_ref()));
    } else {
        crate::cli::print::outln!("{}", status_text(task_id, record.as_ref()));
    }
    Ok(match record {
        Some(r) if r.status.is_failure() => exit::TASK_FAILED,
        _ => exit::OK,
    })
}

pub async fn credits(global: &GlobalArgs, args: &CreditsArgs) -> Result<u8, Failure> {
    if args.usage {
        return usage::run(global, args.days, args.json).await;
    }
    let json = args.json;
    let client = global.client()?;
    // Every reading is a point of the usage; a history that cannot be opened loses only that.
    let credits = match open_history(&crate::config::data_dir()).await {
        Ok(h) => crate::tasks::read_balance(&client, &h).await?,
        Err(e) => {
            tracing::warn!("balance reading not kept: {e}");
            client.credits().await?
        }
    };
    if json {
        crate::cli::print::stdout_json(&json!({ "credits": super::output::credits_json(credits) }));
    } else {
        crate::cli::print::outln!("{} credits", format_credits(credits));
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
            crate::cli::print::errln!("fouro: warning: {e}; downloading without recording");
            None
        }
    };
    let record = crate::tasks::follow::ask(&client, task_id).await?;
    let known = match (&history, &record) {
        (Some(h), Some(r)) => {
            let r = r.clone();
            let id = task_id.to_owned();
            let looked_up = h
                .blocking(move |h| {
                    h.record(&r, chrono::Utc::now().timestamp_millis())?;
                    h.get(&id)
                })
                .await;
            match looked_up {
                Ok(entry) => entry,
                Err(e) => {
                    crate::cli::print::errln!("fouro: warning: {e}");
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
