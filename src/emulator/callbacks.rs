//! Completion callbacks: `POST callBackUrl` when a task ends, signed when a webhook key is set.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::fetch;
use super::state::Shared;
use super::tasks::CallbackState;
use crate::api::types::TaskStatus;

/// How long the service waits for a callback's answer.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// base64(HMAC-SHA256(key, taskId + "." + timestamp)).
pub(crate) fn signature(key: &str, task_id: &str, timestamp: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(task_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The callback body for an ended task.
fn payload(
    status: TaskStatus,
    id: &str,
    urls: Vec<String>,
    code: Option<i64>,
    message: Option<String>,
) -> Value {
    if status == TaskStatus::Success {
        json!({"code": 200, "msg": "Image generated successfully.", "data": {"taskId": id, "info": {"result_urls": urls}}})
    } else {
        json!({
            "code": code.unwrap_or(500),
            "msg": message.filter(|m| !m.is_empty()).unwrap_or_else(|| "failed to generate image".into()),
            "data": {"taskId": id, "info": null},
        })
    }
}

/// Sends the callback of an ended task, if it asked for one. Only loopback targets are called.
pub(crate) async fn deliver(shared: &Shared, id: &str) {
    let job = {
        let state = shared.lock();
        let Some(task) = state.tasks.get(id) else {
            return;
        };
        let Some(url) = task.spec.callback_url.clone() else {
            return;
        };
        if !task.status.is_final() {
            return;
        }
        let urls = task.result_urls(&shared.base_url);
        (
            url,
            payload(
                task.status,
                id,
                urls,
                task.error_code,
                task.error_message.clone(),
            ),
        )
    };
    let (url, body) = job;
    let Some(target) = fetch::loopback_url(&url) else {
        tracing::warn!(task = id, "callback skipped: {url} is not a loopback URL");
        set_state(shared, id, CallbackState::Skipped, false);
        return;
    };
    let mut request = shared
        .http
        .post(target)
        .timeout(CALLBACK_TIMEOUT)
        .json(&body);
    if let Some(key) = &shared.webhook_key {
        let timestamp = chrono::Utc::now().timestamp();
        request = request
            .header("X-Webhook-Timestamp", timestamp.to_string())
            .header("X-Webhook-Signature", signature(key, id, timestamp));
    }
    shared.lock().stats.callbacks_sent += 1;
    set_state(shared, id, CallbackState::Sent, false);
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            tracing::info!(task = id, status = %response.status(), "callback acknowledged");
            set_state(shared, id, CallbackState::Acked, true);
        }
        Ok(response) => {
            tracing::warn!(task = id, status = %response.status(), "callback refused");
            set_state(shared, id, CallbackState::Failed, false);
        }
        Err(e) => {
            tracing::warn!(task = id, "callback failed: {}", fetch::describe(&e));
            set_state(shared, id, CallbackState::Failed, false);
        }
    }
}

fn set_state(shared: &Shared, id: &str, callback: CallbackState, acked: bool) {
    let mut state = shared.lock();
    if acked {
        state.stats.callbacks_acked += 1;
    }
    if let Some(task) = state.tasks.get_mut(id) {
        task.callback = callback;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_base64() {
        // Computed independently with Python's hmac module.
        assert_eq!(
            signature("secret", "task_4o_abc", 1_700_000_000),
            "L0bOEDI2F0TTcIWJW19jsa3YK9SO3+Xj11qbSJsM1ww="
        );
    }
}
