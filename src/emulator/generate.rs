//! `POST /api/v1/gpt4o-image/generate`: rate limit, validation (HTTP 200 + body 422 naming the
//! field, as the service does), credits, task creation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::reply::{self, Answer, Refusal, invalid, opt_str};
use super::routes::ApiKey;
use super::state::Shared;
use super::tasks::{self, Plan, Task, TaskSpec};
use crate::api::types::{ALLOWED_EXTENSIONS, GenerateRequest, MAX_REFERENCES, Size, Variants};

/// At most this many generate calls per key within [`GENERATE_WINDOW`].
const GENERATE_LIMIT: usize = 20;
const GENERATE_WINDOW: Duration = Duration::from_secs(10);

pub(crate) async fn generate(
    State(shared): State<Arc<Shared>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    {
        let mut guard = shared.lock();
        let state = &mut *guard;
        let now = Instant::now();
        let window = state.generate_windows.entry(key).or_default();
        if window.count(now, GENERATE_WINDOW) >= GENERATE_LIMIT {
            state.stats.rate_limited += 1;
            return Ok(reply::rate_limited(
                "too many requests: at most 20 new generations per 10 seconds",
            ));
        }
        window.push(now);
    }
    let value = reply::read_json(body)?;
    let spec = validate(&value)?;
    let id = format!("task_4o_{:032x}", rand::random::<u128>());
    {
        let mut state = shared.lock();
        let price = shared.cost.saturating_mul(i64::from(spec.variants));
        if state.credits < price {
            return Ok(reply::refuse(
                402,
                &format!(
                    "insufficient credits: this task needs {price}, the balance is {}",
                    state.credits
                ),
            ));
        }
        let forced = state.take_forced();
        let plan = tasks::draw_plan(forced, shared.fail_rate);
        // A task that fails to be created is never charged.
        let spent = if matches!(plan, Plan::CreateFailed { .. }) {
            0
        } else {
            price
        };
        state.credits -= spent;
        state.stats.tasks += 1;
        tracing::info!(task = %id, plan = plan.name(), spent, "task created");
        state
            .tasks
            .insert(id.clone(), Task::new(id.clone(), value, spec, plan, spent));
        // Tasks generating at once, this one included: a new maximum can only start here.
        let generating = state
            .tasks
            .values()
            .filter(|t| t.status == crate::api::TaskStatus::Generating)
            .count() as u64;
        state.stats.max_generating = state.stats.max_generating.max(generating);
    }
    tasks::spawn(shared.clone(), id.clone());
    held_back(&shared).await;
    Ok(reply::ok(json!({"taskId": id})))
}

/// While `/emulator/hold` holds generate answers, waits (counted in the stats) for the
/// release or the emulator's end; a caller that gives up stops being counted.
async fn held_back(shared: &Shared) {
    let mut release = shared.hold.subscribe();
    if !*release.borrow_and_update() {
        return;
    }
    struct Held<'a>(&'a Shared);
    impl Drop for Held<'_> {
        fn drop(&mut self) {
            let mut state = self.0.lock();
            state.stats.held = state.stats.held.saturating_sub(1);
        }
    }
    shared.lock().stats.held += 1;
    let _held = Held(shared);
    tokio::select! {
        _ = release.wait_for(|held| !*held) => {}
        _ = shared.shutdown.cancelled() => {}
    }
}

/// Checks a generate body the way the service does and extracts what the task needs.
fn validate(v: &Value) -> Result<TaskSpec, Refusal> {
    if !v.is_object() {
        return Err(reply::envelope(
            StatusCode::BAD_REQUEST,
            400,
            "request body must be a JSON object",
            Value::Null,
        )
        .into());
    }
    let size = match v.get("size") {
        None | Some(Value::Null) => {
            return Err(invalid("size is required: one of 1:1, 3:2, 2:3").into());
        }
        Some(Value::String(s)) => Size::ALL
            .into_iter()
            .find(|size| size.as_str() == s)
            .ok_or_else(|| invalid(format!("size must be one of 1:1, 3:2, 2:3, not {s:?}")))?,
        Some(_) => return Err(invalid("size must be a string: one of 1:1, 3:2, 2:3").into()),
    };
    let variants = match v.get("nVariants") {
        None | Some(Value::Null) => Variants::One,
        Some(n) => n
            .as_u64()
            .and_then(Variants::from_count)
            .ok_or_else(|| invalid(format!("nVariants must be 1, 2 or 4, not {n}")))?,
    };
    let mut references = Vec::new();
    match v.get("filesUrl") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_REFERENCES {
                return Err(invalid(format!(
                    "filesUrl: at most {MAX_REFERENCES} images, got {}",
                    items.len()
                ))
                .into());
            }
            for (i, item) in items.iter().enumerate() {
                let url = item
                    .as_str()
                    .ok_or_else(|| invalid(format!("filesUrl[{i}] must be a URL string")))?;
                check_image_url("filesUrl", url)?;
                references.push(url.trim().to_owned());
            }
        }
        Some(_) => return Err(invalid("filesUrl must be an array of URLs").into()),
    }
    if let Some(url) = opt_str(v, "fileUrl")?.filter(|u| !u.trim().is_empty()) {
        check_image_url("fileUrl", url)?;
        references.push(url.trim().to_owned());
        if references.len() > MAX_REFERENCES {
            return Err(invalid(format!(
                "filesUrl: at most {MAX_REFERENCES} images (the deprecated fileUrl counts as one)"
            ))
            .into());
        }
    }
    let mask_url = opt_str(v, "maskUrl")?.filter(|u| !u.trim().is_empty());
    if let Some(url) = mask_url {
        check_image_url("maskUrl", url)?;
        if references.len() > 1 {
            return Err(
                invalid("maskUrl is not allowed when filesUrl has more than one image").into(),
            );
        }
    }
    let prompt = opt_str(v, "prompt")?.map(str::trim).unwrap_or_default();
    if prompt.is_empty() && references.is_empty() {
        return Err(invalid("prompt or filesUrl is required").into());
    }
    for field in ["isEnhance", "enableFallback", "uploadCn"] {
        if v.get(field)
            .is_some_and(|b| !b.is_null() && !b.is_boolean())
        {
            return Err(invalid(format!("{field} must be true or false")).into());
        }
    }
    if let Some(model) = opt_str(v, "fallbackModel")?
        && !["FLUX_MAX", "GPT_IMAGE_1"].contains(&model)
    {
        return Err(invalid(format!(
            "fallbackModel must be FLUX_MAX or GPT_IMAGE_1, not {model:?}"
        ))
        .into());
    }
    let callback_url = opt_str(v, "callBackUrl")?
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if let Some(url) = callback_url
        && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return Err(invalid(format!("callBackUrl must be an http(s) URL, not {url:?}")).into());
    }
    // Everything the shared request type can express must parse into it, too.
    // (Explicit nulls mean "absent" to the service.)
    let mut present = v.clone();
    if let Some(fields) = present.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    let request: GenerateRequest =
        serde_json::from_value(present).map_err(|e| invalid(format!("invalid parameters: {e}")))?;
    debug_assert_eq!(request.size, size);
    Ok(TaskSpec {
        prompt: prompt.to_owned(),
        size,
        variants: request.n_variants.unwrap_or(variants).count(),
        references,
        mask_url: mask_url.map(|u| u.trim().to_owned()),
        callback_url: callback_url.map(str::to_owned),
    })
}

/// An http(s) URL whose file extension is one the service accepts.
fn check_image_url(field: &str, raw: &str) -> Result<(), Refusal> {
    let url = url::Url::parse(raw.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| invalid(format!("{field}: {raw:?} is not an http(s) URL")))?;
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension {
        Some(ext) if ALLOWED_EXTENSIONS.contains(&ext.as_str()) => Ok(()),
        _ => Err(invalid(format!(
            "{field}: {raw} is not a supported image format (allowed: .{})",
            ALLOWED_EXTENSIONS.join(" .")
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_rules() {
        assert!(check_image_url("filesUrl", "http://127.0.0.1/a/b.PNG").is_ok());
        assert!(check_image_url("filesUrl", "http://127.0.0.1/b.jfif?x=1").is_ok());
        assert!(check_image_url("filesUrl", "http://127.0.0.1/b.gif").is_err());
        assert!(check_image_url("filesUrl", "http://127.0.0.1/").is_err());
        assert!(check_image_url("filesUrl", "not a url").is_err());
    }
}
