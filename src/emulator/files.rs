//! Serving result images and uploaded files (no auth, as a CDN would), and the signed,
//! 20-minute direct-download URLs that point at them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::reply::{self, Answer, Refusal};
use super::state::Shared;
use super::tasks;
use crate::api::types::TaskStatus;

/// Direct-download URLs live this long.
pub(crate) const DOWNLOAD_URL_LIFETIME: Duration = Duration::from_secs(20 * 60);

/// `url` (without a query) with `?expires=<unix>&sig=<hex>` valid for 20 minutes.
pub(crate) fn signed_url(shared: &Shared, url: &str) -> String {
    let expires = chrono::Utc::now().timestamp() + DOWNLOAD_URL_LIFETIME.as_secs() as i64;
    let path = url.strip_prefix(&shared.base_url).unwrap_or(url);
    format!(
        "{url}?expires={expires}&sig={}",
        signature(shared, path, expires)
    )
}

fn signature(shared: &Shared, path: &str, expires: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&shared.url_secret) else {
        return String::new();
    };
    mac.update(path.as_bytes());
    mac.update(b"\n");
    mac.update(expires.to_string().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A URL without `sig` is the plain (long-lived) file URL; with one, it must be valid and fresh.
fn check_signature(shared: &Shared, path: &str, query: Option<&str>) -> Result<(), Refusal> {
    let Some(query) = query else { return Ok(()) };
    let mut expires = None;
    let mut sig = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "expires" => expires = v.parse::<i64>().ok(),
            "sig" => sig = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(sig) = sig else { return Ok(()) };
    let forbidden = |msg: &str| reply::envelope(StatusCode::FORBIDDEN, 403, msg, Value::Null);
    let Some(expires) = expires else {
        return Err(forbidden("download URL is malformed").into());
    };
    if expires < chrono::Utc::now().timestamp() {
        return Err(forbidden("download URL has expired").into());
    }
    if signature(shared, path, expires) != sig {
        return Err(forbidden("download URL signature does not match").into());
    }
    Ok(())
}

/// Whether `url` (without a query) names a file the emulator serves now.
pub(crate) fn exists(shared: &Shared, url: &str) -> bool {
    let Some(path) = url.strip_prefix(&shared.base_url) else {
        return false;
    };
    let state = shared.lock();
    if let Some(rest) = path.strip_prefix("/emulator/files/results/") {
        let Some((id, file)) = rest.split_once('/') else {
            return false;
        };
        let n = parse_variant(file);
        return state.tasks.get(id).is_some_and(|t| {
            t.status == TaskStatus::Success && n.is_some_and(|n| (1..=t.spec.variants).contains(&n))
        });
    }
    path.strip_prefix("/emulator/files/uploads/")
        .is_some_and(|key| state.uploads.contains_key(key))
}

fn parse_variant(file: &str) -> Option<u32> {
    file.strip_suffix(".png")?.parse().ok()
}

/// `GET /emulator/files/results/{taskId}/{n}.png`
pub(crate) async fn result_file(
    State(shared): State<Arc<Shared>>,
    Path((id, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let path = format!("/emulator/files/results/{id}/{file}");
    check_signature(&shared, &path, query.as_deref())?;
    let Some(n) = parse_variant(&file) else {
        return Ok(not_found());
    };
    Ok(match tasks::result_png(&shared, &id, n).await {
        None => not_found(),
        Some(Ok(png)) => file_response(png, "image/png"),
        Some(Err(e)) => {
            tracing::error!(task = %id, n, "rendering failed: {e}");
            reply::envelope(
                StatusCode::INTERNAL_SERVER_ERROR,
                500,
                "failed to generate image",
                Value::Null,
            )
        }
    })
}

/// `GET /emulator/files/uploads/{id}/{name}`
pub(crate) async fn upload_file(
    State(shared): State<Arc<Shared>>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let key = format!("{id}/{name}");
    let path = format!("/emulator/files/uploads/{key}");
    check_signature(&shared, &path, query.as_deref())?;
    let file = shared
        .lock()
        .uploads
        .get(&key)
        .map(|f| (f.bytes.clone(), f.mime));
    Ok(match file {
        Some((bytes, mime)) => file_response(bytes, mime),
        None => not_found(),
    })
}

fn file_response(bytes: Bytes, mime: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        Body::from(bytes),
    )
        .into_response()
}

fn not_found() -> Response {
    reply::envelope(StatusCode::NOT_FOUND, 404, "file not found", Value::Null)
}
