//! What the subcommands print: one JSON object with --json, short lines otherwise.

use serde_json::{Value, json};

use crate::api::{TaskRecord, TaskStatus};

/// The status object scripts read: the same keys for every subcommand that prints a task.
pub fn status_json(task_id: &str, record: Option<&TaskRecord>) -> Value {
    match record {
        Some(r) => json!({
            "taskId": r.task_id,
            "status": r.status.as_str(),
            "progress": r.progress,
            "resultUrls": r.result_urls,
            "errorCode": r.error_code,
            "errorMessage": r.error_message,
            "createTime": r.create_time,
            "completeTime": r.complete_time,
        }),
        // The service has no record yet, right after submit.
        None => json!({
            "taskId": task_id,
            "status": TaskStatus::Generating.as_str(),
            "progress": 0.0,
            "resultUrls": [],
            "errorCode": null,
            "errorMessage": null,
            "createTime": null,
            "completeTime": null,
        }),
    }
}

pub fn status_text(task_id: &str, record: Option<&TaskRecord>) -> String {
    let Some(r) = record else {
        return format!("{task_id}  GENERATING  0%  (the service has no details yet)");
    };
    let mut out = format!("{}  {}  {:.0}%", r.task_id, r.status, r.progress * 100.0);
    if let Some(t) = r.create_time.and_then(format_time) {
        out.push_str(&format!("\ncreated    {t}"));
    }
    if let Some(t) = r.complete_time.and_then(format_time) {
        out.push_str(&format!("\ncompleted  {t}"));
    }
    for (i, url) in r.result_urls.iter().enumerate() {
        out.push_str(&format!("\nresult {}   {url}", i + 1));
    }
    if r.status.is_failure() {
        let code = r.error_code.map(|c| format!("{c}: ")).unwrap_or_default();
        let msg = r.error_message.as_deref().unwrap_or("no reason given");
        out.push_str(&format!("\nerror      {code}{msg}"));
    }
    out
}

pub fn format_time(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// Whole balances as JSON integers, as the service sends them.
pub fn credits_json(credits: f64) -> Value {
    if credits.fract() == 0.0 && credits.abs() < 1e15 {
        json!(credits as i64)
    } else {
        json!(credits)
    }
}
