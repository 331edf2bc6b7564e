//! The service's answer shapes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An early answer that ends a handler: a boxed response, so that results stay small and
/// handlers can use `?`.
pub(crate) struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Refusal(Box::new(response))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a handler returns.
pub(crate) type Answer = Result<Response, Refusal>;

/// `{"code","msg","data"}` at the given HTTP status.
pub(crate) fn envelope(status: StatusCode, code: i64, msg: &str, data: Value) -> Response {
    (
        status,
        Json(json!({"code": code, "msg": msg, "data": data})),
    )
        .into_response()
}

/// Success: code 200, msg "success".
pub(crate) fn ok(data: Value) -> Response {
    envelope(StatusCode::OK, 200, "success", data)
}

/// An error the service reports in the body only, with HTTP 200 (validation, credits, modes,
/// unknown tasks: the client must read the body's code).
pub(crate) fn refuse(code: i64, msg: &str) -> Response {
    envelope(StatusCode::OK, code, msg, Value::Null)
}

/// 422, naming the parameter.
pub(crate) fn invalid(msg: impl AsRef<str>) -> Response {
    refuse(422, msg.as_ref())
}

/// Not valid JSON: HTTP 400 and body code 400.
pub(crate) fn bad_json(why: impl std::fmt::Display) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        400,
        &format!("request body is not valid JSON: {why}"),
        Value::Null,
    )
}

/// The request body could not be read (too large, cut off).
pub(crate) fn unreadable_body(status: StatusCode, why: impl std::fmt::Display) -> Response {
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        413
    } else {
        400
    };
    envelope(
        status,
        code,
        &format!("request body could not be read: {why}"),
        Value::Null,
    )
}

pub(crate) fn unauthorized(msg: &str) -> Response {
    envelope(StatusCode::UNAUTHORIZED, 401, msg, Value::Null)
}

/// HTTP 429, body code 429, `Retry-After: 1`.
pub(crate) fn rate_limited(msg: &str) -> Response {
    let mut response = envelope(StatusCode::TOO_MANY_REQUESTS, 429, msg, Value::Null);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Reads and parses a JSON request body, or answers as the service does (413/400).
pub(crate) fn read_json(body: Result<Bytes, BytesRejection>) -> Result<Value, Refusal> {
    let body = body.map_err(|e| unreadable_body(e.status(), e.body_text()))?;
    parse_json(&body)
}

/// Parses a JSON request body into a value, or the service's 400 answer.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| bad_json(e).into())
}

/// Reads a string field that may be absent or null; any other type is a 422 naming it.
pub(crate) fn opt_str<'a>(v: &'a Value, field: &str) -> Result<Option<&'a str>, Refusal> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(format!("{field} must be a string")).into()),
    }
}
