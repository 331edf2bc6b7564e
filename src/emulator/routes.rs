//! The URL map, and the guard every service call passes: call counting, injected faults,
//! Bearer auth, service modes.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use super::faults::{self, Endpoint};
use super::server::ConnKill;
use super::state::Shared;
use super::{control, files, generate, records, reply, uploads};
use crate::api::types::MAX_FILE_BYTES;

/// Room for a 25 MB file sent as base64 (4/3 larger) inside JSON or multipart.
const BODY_LIMIT: usize = (MAX_FILE_BYTES as usize / 3 + 1) * 4 + 1024 * 1024;

/// The API key a call was authenticated with, for per-key limits.
#[derive(Debug, Clone)]
pub(crate) struct ApiKey(pub String);

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let service = Router::new()
        .route("/api/v1/gpt4o-image/generate", post(generate::generate))
        .route("/api/v1/gpt4o-image/record-info", get(records::record_info))
        .route(
            "/api/v1/gpt4o-image/download-url",
            post(records::task_download_url),
        )
        .route(
            "/api/v1/common/download-url",
            post(records::common_download_url),
        )
        .route("/api/v1/chat/credit", get(records::credit))
        .route("/api/file-stream-upload", post(uploads::stream_upload))
        .route("/api/file-base64-upload", post(uploads::base64_upload))
        .route("/api/file-url-upload", post(uploads::url_upload))
        .route(
            "/emulator/files/results/{task}/{file}",
            get(files::result_file),
        )
        .route(
            "/emulator/files/uploads/{id}/{name}",
            get(files::upload_file),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), guard));
    let controls = Router::new()
        .route(
            "/emulator/faults",
            post(control::add_fault)
                .get(control::list_faults)
                .delete(control::clear_faults),
        )
        .route("/emulator/mode", post(control::set_mode))
        .route("/emulator/next-tasks", post(control::next_tasks))
        .route("/emulator/quirks", post(control::set_quirks))
        .route("/emulator/credits", post(control::set_credits))
        .route("/emulator/hold", post(control::set_hold))
        .route("/emulator/stats", get(control::stats))
        .route("/emulator/tasks/{id}", get(control::task));
    service
        .merge(controls)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

async fn not_found() -> Response {
    reply::envelope(
        StatusCode::NOT_FOUND,
        404,
        "endpoint not found",
        Value::Null,
    )
}

/// Runs before every service endpoint and file GET.
async fn guard(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let Some(endpoint) = Endpoint::from_path(req.uri().path()) else {
        return next.run(req).await;
    };
    let fault = {
        let mut state = shared.lock();
        state.stats.count_call(endpoint);
        if endpoint != Endpoint::Files {
            state.stats.last_user_agent = req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        state.faults.take(endpoint)
    };
    if let Some(fault) = fault {
        tracing::debug!(endpoint = endpoint.name(), ?fault, "injecting fault");
        let kill = req.extensions().get::<ConnKill>().cloned();
        if let Some(response) = faults::act(fault, kill.as_ref(), &shared.shutdown).await {
            return response;
        }
    }
    if endpoint == Endpoint::Files {
        return next.run(req).await;
    }
    let key = match bearer(req.headers()) {
        None => {
            return reply::unauthorized("API key is missing: send Authorization: Bearer <API key>");
        }
        Some(key) if !shared.keys.iter().any(|k| k == key) => {
            return reply::unauthorized("API key is invalid");
        }
        Some(key) => key.to_owned(),
    };
    if let Some((code, msg)) = shared.lock().mode.refusal() {
        return reply::refuse(code, msg);
    }
    req.extensions_mut().insert(ApiKey(key));
    next.run(req).await
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
