//! Test controls under `/emulator/` (no auth, JSON in and out). Errors answer HTTP 400 with
//! `{"ok": false, "error": "..."}`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::{Endpoint, Fault};
use super::records::record_json;
use super::reply::Refusal;
use super::state::{Forced, Mode, Shared};
use super::tasks::Plan;

fn failure(msg: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ok": false, "error": msg.into()})),
    )
        .into_response()
}

fn read(body: Result<Bytes, BytesRejection>) -> Result<Value, Refusal> {
    let body = body.map_err(|e| failure(e.body_text()))?;
    let v: Value =
        serde_json::from_slice(&body).map_err(|e| failure(format!("not valid JSON: {e}")))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(failure("expected a JSON object").into())
    }
}

macro_rules! read_or_return {
    ($body:expr) => {
        match read($body) {
            Ok(v) => v,
            Err(refusal) => return refusal.into_response(),
        }
    };
}

/// `POST /emulator/faults` `{"endpoint","count","kind","code","status","ms"}`.
pub(crate) async fn add_fault(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let fault = match Fault::from_json(&v) {
        Ok(fault) => fault,
        Err(e) => return failure(e),
    };
    tracing::info!(fault = %fault.describe(), "fault queued");
    let mut state = shared.lock();
    state.faults.push(fault);
    Json(json!({"ok": true, "faults": state.faults.pending()})).into_response()
}

/// `GET /emulator/faults`: the faults still queued.
pub(crate) async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"ok": true, "faults": shared.lock().faults.pending()})).into_response()
}

/// `DELETE /emulator/faults`: forget every queued fault.
pub(crate) async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().faults.clear();
    Json(json!({"ok": true, "faults": []})).into_response()
}

/// `POST /emulator/mode` `{"mode": "normal"|"maintenance"|"disabled"|"queue-full"}`.
pub(crate) async fn set_mode(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let Some(mode) = v.get("mode").and_then(Value::as_str).and_then(Mode::parse) else {
        return failure("mode must be one of normal, maintenance, disabled, queue-full");
    };
    shared.lock().mode = mode;
    tracing::info!(mode = mode.name(), "mode set");
    Json(json!({"ok": true, "mode": mode.name()})).into_response()
}

/// `POST /emulator/next-tasks` `{"count","outcome","error_code","message"}`; appends to the queue
/// of forced outcomes; `count: 0` clears it.
pub(crate) async fn next_tasks(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let count = match v.get("count") {
        None | Some(Value::Null) => 1,
        Some(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => n,
            None => return failure("count must be a non-negative integer"),
        },
    };
    let code = match v.get("error_code") {
        None | Some(Value::Null) => None,
        Some(c) => match c.as_i64() {
            Some(c) => Some(c),
            None => return failure("error_code must be an integer"),
        },
    };
    let message = v.get("message").and_then(Value::as_str).map(str::to_owned);
    let plan = match v.get("outcome").and_then(Value::as_str) {
        Some("success") => Plan::Success,
        Some("fail") => Plan::Fail {
            code: code.unwrap_or(500),
            message: message.unwrap_or_else(|| "failed to generate image".into()),
        },
        Some("create-failed") => Plan::CreateFailed {
            code: code.unwrap_or(500),
            message: message.unwrap_or_else(|| "failed to create task".into()),
        },
        _ => return failure("outcome must be one of success, fail, create-failed"),
    };
    let mut state = shared.lock();
    if count == 0 {
        state.forced.clear();
    } else {
        state.forced.push_back(Forced {
            remaining: count,
            plan,
        });
    }
    let queued: u32 = state.forced.iter().map(|f| f.remaining).sum();
    Json(json!({"ok": true, "queued": queued})).into_response()
}

/// `POST /emulator/quirks` `{"string_times": bool, "snake_result_urls": bool,
/// "wrong_task_ids": N, "null_data": bool}`; a missing field keeps its value.
pub(crate) async fn set_quirks(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let flag = |name: &str| -> Result<Option<bool>, Refusal> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(failure(format!("{name} must be true or false")).into()),
        }
    };
    let (string_times, snake, null_data) = match (
        flag("string_times"),
        flag("snake_result_urls"),
        flag("null_data"),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(refusal), _, _) | (_, Err(refusal), _) | (_, _, Err(refusal)) => {
            return refusal.into_response();
        }
    };
    let wrong = match v.get("wrong_task_ids") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => return failure("wrong_task_ids must be a non-negative integer"),
        },
    };
    let mut state = shared.lock();
    if let Some(n) = wrong {
        state.quirks.wrong_task_ids = n;
    }
    if let Some(on) = null_data {
        state.quirks.no_null_data = !on;
    }
    if let Some(on) = string_times {
        state.quirks.string_times = on;
    }
    if let Some(on) = snake {
        state.quirks.snake_result_urls = on;
    }
    let q = state.quirks;
    Json(json!({"ok": true, "string_times": q.string_times, "snake_result_urls": q.snake_result_urls, "wrong_task_ids": q.wrong_task_ids, "null_data": !q.no_null_data})).into_response()
}

/// `POST /emulator/hold` `{"generate": bool}`: while true, generate calls make their task but
/// their answers wait; false answers every call held.
pub(crate) async fn set_hold(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let Some(hold) = v.get("generate").and_then(Value::as_bool) else {
        return failure("generate must be true or false");
    };
    shared.hold.send_replace(hold);
    tracing::info!(hold, "generate answers held");
    let held = shared.lock().stats.held;
    Json(json!({"ok": true, "generate": hold, "held": held})).into_response()
}

/// `POST /emulator/credits` `{"credits": N}`.
pub(crate) async fn set_credits(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = read_or_return!(body);
    let Some(credits) = v.get("credits").and_then(Value::as_i64) else {
        return failure("credits must be an integer");
    };
    shared.lock().credits = credits;
    Json(json!({"ok": true, "credits": credits})).into_response()
}

/// `GET /emulator/stats`
pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let s = &state.stats;
    let calls: serde_json::Map<String, Value> = Endpoint::ALL
        .into_iter()
        .map(|e| (e.name().to_owned(), json!(s.calls[e as usize])))
        .collect();
    Json(json!({
        "calls": calls,
        "rate_limited": s.rate_limited,
        "max_record_info_per_second": s.max_record_info_per_second,
        "callbacks_sent": s.callbacks_sent,
        "callbacks_acked": s.callbacks_acked,
        "tasks": s.tasks,
        "held": s.held,
        "max_generating": s.max_generating,
        "credits": state.credits,
        "mode": state.mode.name(),
        "last_user_agent": s.last_user_agent,
    }))
    .into_response()
}

/// `GET /emulator/tasks/{taskId}`: the raw state of a task.
pub(crate) async fn task(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let state = shared.lock();
    let Some(task) = state.tasks.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error": "task not found"})),
        )
            .into_response();
    };
    Json(json!({
        "taskId": task.id,
        "status": task.status.as_str(),
        "callBackUrl": task.spec.callback_url,
        "callback": task.callback.name(),
        "request": task.request,
        "plan": task.plan.name(),
        "variants": task.spec.variants,
        "references": task.spec.references,
        "maskUrl": task.spec.mask_url,
        "spent": task.spent,
        "polled": task.polled,
        "record": record_json(task, Instant::now(), shared.duration, state.quirks, &shared.base_url),
    }))
    .into_response()
}
