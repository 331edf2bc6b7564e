//! The temporary file hosting: stream (multipart), base64 and URL uploads. Images only, sniffed
//! from their bytes; at most 25 MB; served back at `downloadUrl` without auth.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use serde_json::{Value, json};

use super::fetch::{self, FetchError};
use super::reply::{Refusal, opt_str};
use super::state::{Shared, StoredFile};
use crate::api::types::MAX_FILE_BYTES;

/// Longest `uploadPath` or `fileName` kept.
const MAX_NAME_LEN: usize = 128;

/// The upload endpoints' envelope, which adds `success`.
fn answer(status: StatusCode, code: i64, msg: &str, data: Value) -> Response {
    (
        status,
        axum::Json(json!({"success": code == 200, "code": code, "msg": msg, "data": data})),
    )
        .into_response()
}

fn invalid(msg: impl AsRef<str>) -> Response {
    answer(StatusCode::OK, 422, msg.as_ref(), Value::Null)
}

fn unreadable(e: BytesRejection) -> Response {
    let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        413
    } else {
        400
    };
    answer(
        e.status(),
        code,
        &format!("request body could not be read: {}", e.body_text()),
        Value::Null,
    )
}

fn read_json(body: Result<Bytes, BytesRejection>) -> Result<Value, Refusal> {
    let body = body.map_err(unreadable)?;
    serde_json::from_slice(&body).map_err(|e| {
        answer(
            StatusCode::BAD_REQUEST,
            400,
            &format!("request body is not valid JSON: {e}"),
            Value::Null,
        )
        .into()
    })
}

/// `POST /api/file-stream-upload`, multipart: `file`, `uploadPath`, optional `fileName`.
pub(crate) async fn stream_upload(
    State(shared): State<Arc<Shared>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return answer(
                e.status(),
                400,
                &format!("expected a multipart form: {}", e.body_text()),
                Value::Null,
            );
        }
    };
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    let mut upload_path = None;
    let mut file_name = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    400,
                    &format!("malformed multipart form: {e}"),
                    Value::Null,
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" {
            MAX_FILE_BYTES as usize
        } else {
            4096
        };
        let original_name = field.file_name().map(str::to_owned);
        let mut data = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if data.len() + chunk.len() > limit {
                        return invalid(format!("{name}: larger than {limit} bytes"));
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return answer(
                        StatusCode::BAD_REQUEST,
                        400,
                        &format!("malformed multipart form: {e}"),
                        Value::Null,
                    );
                }
            }
        }
        match name.as_str() {
            "file" => file = Some((data, original_name)),
            "uploadPath" => upload_path = Some(String::from_utf8_lossy(&data).into_owned()),
            "fileName" => file_name = Some(String::from_utf8_lossy(&data).into_owned()),
            _ => {}
        }
    }
    let Some((bytes, original_name)) = file else {
        return invalid("file is required");
    };
    let name = file_name.filter(|n| !n.trim().is_empty()).or(original_name);
    store(
        &shared,
        "file",
        Bytes::from(bytes),
        upload_path.as_deref(),
        name.as_deref(),
    )
}

/// The fields of the JSON upload forms: `source` (required), then `uploadPath` and `fileName`.
fn json_fields<'a>(
    v: &'a Value,
    source: &str,
) -> Result<(&'a str, Option<&'a str>, Option<&'a str>), Refusal> {
    match (
        opt_str(v, source),
        opt_str(v, "uploadPath"),
        opt_str(v, "fileName"),
    ) {
        (Ok(Some(field)), Ok(path), Ok(name)) => Ok((field, path, name)),
        (Ok(None), ..) => Err(invalid(format!("{source} is required")).into()),
        _ => Err(invalid(format!("{source}, uploadPath and fileName must be strings")).into()),
    }
}

/// `POST /api/file-base64-upload`, JSON: `base64Data` (plain or a `data:` URL), `uploadPath`,
/// `fileName`.
pub(crate) async fn base64_upload(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = match read_json(body) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let (data, upload_path, file_name) = match json_fields(&v, "base64Data") {
        Ok(fields) => fields,
        Err(refusal) => return refusal.into_response(),
    };
    let encoded = match data.trim().strip_prefix("data:") {
        Some(rest) => match rest.split_once(',') {
            Some((_, payload)) => payload,
            None => return invalid("base64Data: a data: URL without a comma"),
        },
        None => data.trim(),
    };
    if encoded.len() as u64 > MAX_FILE_BYTES / 3 * 4 + 8 {
        return invalid(format!(
            "base64Data: the file is larger than {MAX_FILE_BYTES} bytes"
        ));
    }
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let decoded = STANDARD_PAD_INDIFFERENT
        .decode(&compact)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(&compact));
    match decoded {
        Ok(bytes) => store(
            &shared,
            "base64Data",
            Bytes::from(bytes),
            upload_path,
            file_name,
        ),
        Err(e) => invalid(format!("base64Data is not valid base64: {e}")),
    }
}

/// `POST /api/file-url-upload`, JSON: `fileUrl` (loopback only here), `uploadPath`, `fileName`.
pub(crate) async fn url_upload(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let v = match read_json(body) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let (url, upload_path, file_name) = match json_fields(&v, "fileUrl") {
        Ok((url, path, name)) => (url.trim(), path, name),
        Err(refusal) => return refusal.into_response(),
    };
    // Check the path before fetching anything.
    if clean_path(upload_path).is_none() {
        return invalid("uploadPath is required");
    }
    let fallback_name = url::Url::parse(url).ok().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.next_back())
            .map(str::to_owned)
    });
    match fetch::get_limited(&shared.http, url, MAX_FILE_BYTES, Duration::from_secs(30)).await {
        Ok(bytes) => store(
            &shared,
            "fileUrl",
            bytes,
            upload_path,
            file_name.or(fallback_name.as_deref()),
        ),
        Err(FetchError::TooLarge) => invalid(format!(
            "fileUrl: the file is larger than {MAX_FILE_BYTES} bytes"
        )),
        Err(FetchError::Failed(why)) => answer(
            StatusCode::OK,
            451,
            &format!("fileUrl could not be downloaded: {why}"),
            Value::Null,
        ),
    }
}

/// Checks and keeps an uploaded file, and answers with its details.
fn store(
    shared: &Shared,
    field: &str,
    bytes: Bytes,
    upload_path: Option<&str>,
    file_name: Option<&str>,
) -> Response {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return invalid(format!(
            "{field}: the file is larger than {MAX_FILE_BYTES} bytes"
        ));
    }
    if bytes.is_empty() {
        return invalid(format!("{field}: the file is empty"));
    }
    let Some(upload_path) = clean_path(upload_path) else {
        return invalid("uploadPath is required");
    };
    let Ok(format) = image::guess_format(&bytes) else {
        return invalid(format!("{field}: only images can be uploaded"));
    };
    let mime = format.to_mime_type();
    let extension = format.extensions_str().first().copied().unwrap_or("bin");
    let name = match file_name.and_then(clean_name) {
        Some(name) if name.contains('.') => name,
        Some(name) => format!("{name}.{extension}"),
        None => format!("{:016x}.{extension}", rand::random::<u64>()),
    };
    let key = format!("{:016x}/{name}", rand::random::<u64>());
    let download_url = format!("{}/emulator/files/uploads/{key}", shared.base_url);
    let size = bytes.len();
    shared
        .lock()
        .uploads
        .insert(key, StoredFile { bytes, mime });
    tracing::info!(size, mime, "file uploaded");
    answer(
        StatusCode::OK,
        200,
        "File uploaded successfully",
        json!({
            "fileName": name,
            "filePath": format!("{upload_path}/{name}"),
            "downloadUrl": download_url,
            "fileSize": size,
            "mimeType": mime,
            "uploadedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }),
    )
}

/// A file name reduced to URL-safe characters, or `None` when nothing usable is left.
fn clean_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME_LEN)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// An upload path made of clean segments (no `..`), or `None` when empty.
fn clean_path(raw: Option<&str>) -> Option<String> {
    let segments: Vec<String> = raw?.split(['/', '\\']).filter_map(clean_name).collect();
    let joined = segments.join("/");
    (!joined.is_empty()).then(|| joined.chars().take(MAX_NAME_LEN).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_tamed() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("my cat.png").as_deref(), Some("my_cat.png"));
        assert_eq!(clean_name("..").as_deref(), None);
        assert_eq!(
            clean_path(Some("/images/../refs/")).as_deref(),
            Some("images/refs")
        );
        assert_eq!(clean_path(Some("")), None);
        assert_eq!(clean_path(None), None);
    }
}
