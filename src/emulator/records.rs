//! Task details, direct-download URLs and the credit balance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::files;
use super::reply::{self, Answer, invalid, opt_str};
use super::state::{Quirks, Shared};
use super::tasks::Task;
use crate::api::types::TaskStatus;

/// At most this many record-info answers per task within [`POLL_WINDOW`].
const POLL_LIMIT: usize = 3;
const POLL_WINDOW: Duration = Duration::from_secs(1);

/// `GET /api/v1/gpt4o-image/record-info?taskId=`
pub(crate) async fn record_info(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let task_id = query
        .as_deref()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "taskId")
                .map(|(_, v)| v.trim().to_owned())
        })
        .filter(|id| !id.is_empty());
    let Some(task_id) = task_id else {
        return invalid("taskId is required");
    };
    let now = Instant::now();
    let mut guard = shared.lock();
    let state = &mut *guard;
    let Some(task) = state.tasks.get_mut(&task_id) else {
        return reply::refuse(404, "task not found");
    };
    task.polls_all.push(now);
    let seen = task.polls_all.count(now, POLL_WINDOW) as u64;
    state.stats.max_record_info_per_second = state.stats.max_record_info_per_second.max(seen);
    if task.polls_served.count(now, POLL_WINDOW) >= POLL_LIMIT {
        state.stats.rate_limited += 1;
        return reply::rate_limited(
            "too many requests: at most 3 record-info queries per second per task",
        );
    }
    task.polls_served.push(now);
    if !task.polled
        && !state.quirks.no_null_data
        && now.saturating_duration_since(task.created_at) < NULL_DATA_WINDOW
    {
        // The service answers `data: null` right after a submit, for a moment.
        task.polled = true;
        return reply::ok(Value::Null);
    }
    let mut data = record_json(task, now, shared.duration, state.quirks, &shared.base_url);
    if state.quirks.wrong_task_ids > 0 {
        state.quirks.wrong_task_ids -= 1;
        data["taskId"] = json!(format!("{task_id}_someone_else"));
    }
    reply::ok(data)
}

/// How long after a submit the first query may still find no record.
const NULL_DATA_WINDOW: Duration = Duration::from_secs(1);

/// The `data` of a record-info answer.
pub(crate) fn record_json(
    task: &Task,
    now: Instant,
    duration: Duration,
    quirks: Quirks,
    base_url: &str,
) -> Value {
    let time = |ms: i64| -> Value {
        if quirks.string_times {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| json!(t.format("%Y-%m-%d %H:%M:%S").to_string()))
                .unwrap_or(Value::Null)
        } else {
            json!(ms)
        }
    };
    let response = if task.status == TaskStatus::Success {
        let urls = task.result_urls(base_url);
        if quirks.snake_result_urls {
            json!({"result_urls": urls})
        } else {
            json!({"resultUrls": urls})
        }
    } else {
        Value::Null
    };
    json!({
        "taskId": task.id,
        "paramJson": task.request.to_string(),
        "completeTime": task.completed_ms.map_or(Value::Null, time),
        "response": response,
        "successFlag": task.status.success_flag(),
        "status": task.status.as_str(),
        "errorCode": task.error_code,
        "errorMessage": task.error_message,
        "createTime": time(task.created_ms),
        "progress": format!("{:.2}", task.progress(now, duration)),
        // Fields the client does not know, as the real service sends some.
        "expireFlag": 0,
        "fallbackFlag": false,
    })
}

/// `POST /api/v1/gpt4o-image/download-url` with `{"taskId","url"}`.
pub(crate) async fn task_download_url(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let v = reply::read_json(body)?;
    let task_id = opt_str(&v, "taskId")?.map(str::trim).unwrap_or_default();
    let url = opt_str(&v, "url")?.map(str::trim).unwrap_or_default();
    if task_id.is_empty() {
        return Ok(invalid("taskId is required"));
    }
    if url.is_empty() {
        return Ok(invalid("url is required"));
    }
    let results = {
        let state = shared.lock();
        let Some(task) = state.tasks.get(task_id) else {
            return Ok(invalid(format!("taskId: no record of task {task_id}")));
        };
        if task.status != TaskStatus::Success {
            return Ok(invalid(format!(
                "taskId: task {task_id} has not succeeded ({})",
                task.status
            )));
        }
        task.result_urls(&shared.base_url)
    };
    let bare = url.split(['?', '#']).next().unwrap_or_default();
    if !results.iter().any(|r| r == bare) {
        return Ok(invalid("url: not one of this task's results"));
    }
    Ok(reply::ok(json!(files::signed_url(&shared, bare))))
}

/// `POST /api/v1/common/download-url` with `{"url"}`: any file the emulator serves.
pub(crate) async fn common_download_url(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let v = reply::read_json(body)?;
    let url = opt_str(&v, "url")?.map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Ok(invalid("url is required"));
    }
    let bare = url.split(['?', '#']).next().unwrap_or_default();
    if !files::exists(&shared, bare) {
        return Ok(invalid("url: not a file of this service"));
    }
    Ok(reply::ok(json!(files::signed_url(&shared, bare))))
}

/// `GET /api/v1/chat/credit`
pub(crate) async fn credit(State(shared): State<Arc<Shared>>) -> Response {
    let credits = shared.lock().credits;
    reply::ok(json!(credits))
}
