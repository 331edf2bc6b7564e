//! `fouro sync`: settles the history (follows every unfinished task, downloads every missing
//! image, marks what the service no longer keeps as expired) and reports what it did.

use serde_json::{Value, json};

use super::output::settled_line;
use super::{Failure, GlobalArgs, exit, exit_code, open_history};
use crate::store::history::KEEP_DAYS;
use crate::store::{Entry, History, ID_UNKNOWN};
use crate::tasks::Workflow;
use crate::tasks::settle::{Report, same_service, sync};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub async fn run(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let data_dir = crate::config::data_dir();
    let history = open_history(&data_dir).await?;
    let client = global.client()?;

    let waiting = waiting_for(&history, client.base_url()).await?;
    if !waiting.is_empty() && client.api_key().is_none() {
        return Err(Failure::Said {
            message: format!(
                "{} task(s) in the history wait to be settled, and no API key is set: save one with `fouro key set` (or set FOURO_API_KEY), then run `fouro sync` again",
                waiting.len()
            ),
            code: exit::AUTH,
        });
    }
    if !json && !waiting.is_empty() {
        crate::cli::print::errln!(
            "settling {} task(s) of {}…",
            waiting.len(),
            client.base_url()
        );
    }

    let workflow = Workflow::new(history.clone(), data_dir);
    let report = sync(&workflow, &client, &global.poll_options(), |settled| {
        if !json {
            crate::cli::print::outln!("{}", settled_line(settled));
        }
    })
    .await?;

    let skipped = skipped(&history, &report).await;
    if json {
        let mut obj = serde_json::to_value(&report).map_err(|e| Failure::Said {
            message: format!("cannot write the report as JSON: {e}"),
            code: exit::UNEXPECTED,
        })?;
        obj["complete"] = json!(report.is_complete());
        obj["skipped"] = Value::Array(
            skipped
                .iter()
                .map(|(id, base)| json!({"taskId": id, "baseUrl": base}))
                .collect(),
        );
        crate::cli::print::stdout_json(&obj);
    } else {
        for (id, base) in &skipped {
            crate::cli::print::outln!(
                "{id}  skipped: recorded against {base}; settle it with `fouro sync --base-url {base}`"
            );
        }
        for f in &report.in_flight {
            let at = super::history::local_minute(f.started_at);
            crate::cli::print::outln!("{at}  {ID_UNKNOWN}");
        }
        crate::cli::print::outln!("{}", summary(&report, skipped.len()));
    }

    if report.is_complete() {
        return Ok(exit::OK);
    }
    let left: Vec<&str> = report
        .tasks
        .iter()
        .filter(|t| t.error.is_some() || t.missing > 0 || !t.status.is_final())
        .map(|t| t.task_id.as_str())
        .collect();
    let unsettled = left.len();
    if report.unreachable {
        // Why, in the words of the last error (the table above has each task's).
        let why = report
            .tasks
            .iter()
            .rev()
            .find_map(|t| t.error.as_deref())
            .map(|e| format!(" (last: {e})"))
            .unwrap_or_default();
        return Err(Failure::Said {
            message: format!(
                "the service answered none of the tasks{why}: {unsettled} task(s) are left ({}); they stay in the history: run `fouro sync` again when the service is back",
                left.join(", ")
            ),
            code: exit::UNAVAILABLE,
        });
    }
    Err(Failure::Said {
        message: format!(
            "{unsettled} task(s) are not settled yet (see above): run `fouro sync` again later"
        ),
        code: failure_code(&client).await,
    })
}

/// Unsettled tasks of this service that are not old enough to expire: what needs the key.
async fn waiting_for(history: &History, base_url: &str) -> Result<Vec<Entry>, Failure> {
    let cutoff = chrono::Utc::now().timestamp_millis() - KEEP_DAYS * DAY_MS;
    let base = base_url.to_owned();
    let waiting = history.blocking(move |h| h.unsettled()).await?;
    Ok(waiting
        .into_iter()
        .filter(|e| same_service(&e.base_url, &base) && e.created_at >= cutoff)
        .collect())
}

/// The tasks left to another service, with that service's base URL.
async fn skipped(history: &History, report: &Report) -> Vec<(String, String)> {
    let ids = report.other_service.clone();
    let found = history
        .blocking(move |h| {
            ids.iter()
                .map(|id| {
                    let base = h.get(id)?.map(|e| e.base_url).unwrap_or_default();
                    Ok((id.clone(), base))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    found.unwrap_or_else(|_| {
        report
            .other_service
            .iter()
            .map(|id| (id.clone(), "another base URL".to_owned()))
            .collect()
    })
}

fn summary(report: &Report, skipped: usize) -> String {
    let settled = report
        .tasks
        .iter()
        .filter(|t| t.error.is_none() && t.missing == 0 && t.status.is_final())
        .count();
    let open = report.tasks.len() - settled;
    let saved: usize = report.tasks.iter().map(|t| t.saved.len()).sum();
    if report.tasks.is_empty() && report.expired == 0 && skipped == 0 {
        return "nothing to sync: every task in the history is settled".to_owned();
    }
    format!(
        "{settled} settled, {open} not settled, {saved} image(s) saved, {} expired, {skipped} skipped (another service)",
        report.expired
    )
}

/// The exit code that fits a sync that left tasks unsettled. The report keeps only each
/// task's message, so one cheap call tells whether the key or the service is the cause; if
/// both are fine, the failure was the task's own or the disk's, and trying later is right.
async fn failure_code(client: &crate::api::Client) -> u8 {
    match client.credits().await {
        Err(e) => exit_code(&e),
        Ok(_) => exit::UNAVAILABLE,
    }
}
