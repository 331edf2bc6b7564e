//! Injected failures: queued by `POST /emulator/faults`, taken first-come by the next calls of
//! the endpoint they name.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::reply;
use super::server::ConnKill;

/// The endpoints that calls are counted for and faults aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Generate,
    RecordInfo,
    DownloadUrl,
    Credit,
    /// Any of the three upload endpoints.
    Upload,
    /// GETs of result and uploaded files.
    Files,
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Endpoint::Generate,
        Endpoint::RecordInfo,
        Endpoint::DownloadUrl,
        Endpoint::Credit,
        Endpoint::Upload,
        Endpoint::Files,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Generate => "generate",
            Endpoint::RecordInfo => "record-info",
            Endpoint::DownloadUrl => "download-url",
            Endpoint::Credit => "credit",
            Endpoint::Upload => "upload",
            Endpoint::Files => "files",
        }
    }

    pub fn from_path(path: &str) -> Option<Endpoint> {
        match path {
            "/api/v1/gpt4o-image/generate" => Some(Endpoint::Generate),
            "/api/v1/gpt4o-image/record-info" => Some(Endpoint::RecordInfo),
            "/api/v1/gpt4o-image/download-url" | "/api/v1/common/download-url" => {
                Some(Endpoint::DownloadUrl)
            }
            "/api/v1/chat/credit" => Some(Endpoint::Credit),
            "/api/file-stream-upload" | "/api/file-base64-upload" | "/api/file-url-upload" => {
                Some(Endpoint::Upload)
            }
            p if p.starts_with("/emulator/files/") => Some(Endpoint::Files),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultKind {
    /// The envelope with body code `code`, at HTTP `status`.
    Code { code: i64, status: StatusCode },
    /// A proxy's HTML error page.
    Html { status: StatusCode },
    /// No body at all.
    Empty { status: StatusCode },
    /// No answer for a while, then the normal one.
    Hang { delay: Duration },
    /// The connection dropped with no response.
    Reset,
}

#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// `None` matches every endpoint (`"any"`).
    pub endpoint: Option<Endpoint>,
    pub remaining: u32,
    pub kind: FaultKind,
    /// With a rate, each matching call is faulted with this chance (and `remaining` counts
    /// the faulted ones only): a storm rather than a queue.
    pub rate: Option<f64>,
}

impl Fault {
    /// Parses the body of `POST /emulator/faults`.
    pub fn from_json(v: &Value) -> Result<Fault, String> {
        let endpoint = match v.get("endpoint").and_then(Value::as_str) {
            Some("any") => None,
            Some(name) => Some(
                Endpoint::ALL
                    .into_iter()
                    .find(|e| e.name() == name)
                    .ok_or_else(|| format!("unknown endpoint {name:?}"))?,
            ),
            None => return Err("endpoint is required".into()),
        };
        let rate = match v.get("rate") {
            None | Some(Value::Null) => None,
            Some(r) => Some(
                r.as_f64()
                    .filter(|r| *r > 0.0 && *r <= 1.0)
                    .ok_or("rate must be a number above 0 and at most 1")?,
            ),
        };
        let remaining = match v.get("count") {
            None | Some(Value::Null) if rate.is_some() => u32::MAX,
            None | Some(Value::Null) => 1,
            Some(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("count must be a non-negative integer")?,
        };
        let status = |default: u16| -> Result<StatusCode, String> {
            match v.get("status") {
                None | Some(Value::Null) => {
                    StatusCode::from_u16(default).map_err(|e| e.to_string())
                }
                Some(s) => s
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .ok_or_else(|| "status must be an HTTP status code".to_owned()),
            }
        };
        let kind = match v.get("kind").and_then(Value::as_str) {
            Some("code") => {
                let code = match v.get("code") {
                    None | Some(Value::Null) => 500,
                    Some(c) => c.as_i64().ok_or("code must be an integer")?,
                };
                let default_status = u16::try_from(code)
                    .ok()
                    .filter(|c| (100..=999).contains(c))
                    .unwrap_or(500);
                FaultKind::Code {
                    code,
                    status: status(default_status)?,
                }
            }
            Some("html") => FaultKind::Html {
                status: status(502)?,
            },
            Some("empty") => FaultKind::Empty {
                status: status(502)?,
            },
            Some("hang") => {
                let ms = match v.get("ms") {
                    None | Some(Value::Null) => 120_000,
                    Some(ms) => ms.as_u64().ok_or("ms must be a non-negative integer")?,
                };
                FaultKind::Hang {
                    delay: Duration::from_millis(ms),
                }
            }
            Some("reset") => FaultKind::Reset,
            Some(other) => {
                return Err(format!(
                    "unknown kind {other:?} (code, html, empty, hang, reset)"
                ));
            }
            None => return Err("kind is required".into()),
        };
        Ok(Fault {
            endpoint,
            remaining,
            kind,
            rate,
        })
    }

    pub fn describe(&self) -> Value {
        let mut v = serde_json::json!({
            "endpoint": self.endpoint.map_or("any", Endpoint::name),
            "count": self.remaining,
        });
        let extra = match &self.kind {
            FaultKind::Code { code, status } => {
                serde_json::json!({"kind": "code", "code": code, "status": status.as_u16()})
            }
            FaultKind::Html { status } => {
                serde_json::json!({"kind": "html", "status": status.as_u16()})
            }
            FaultKind::Empty { status } => {
                serde_json::json!({"kind": "empty", "status": status.as_u16()})
            }
            FaultKind::Hang { delay } => {
                serde_json::json!({"kind": "hang", "ms": delay.as_millis() as u64})
            }
            FaultKind::Reset => serde_json::json!({"kind": "reset"}),
        };
        if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
            v.extend(extra);
            if let Some(rate) = self.rate {
                v.insert("rate".into(), serde_json::json!(rate));
            }
        }
        v
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    queue: VecDeque<Fault>,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) {
        if fault.remaining > 0 {
            self.queue.push_back(fault);
        }
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn pending(&self) -> Vec<Value> {
        self.queue.iter().map(Fault::describe).collect()
    }

    /// Takes one use of the oldest fault aimed at `endpoint` (or at any endpoint); a fault
    /// with a rate applies only when its dice say so.
    pub fn take(&mut self, endpoint: Endpoint) -> Option<FaultKind> {
        let index = self.queue.iter().position(|f| {
            f.endpoint.is_none_or(|e| e == endpoint)
                && f.rate.is_none_or(|r| rand::random::<f64>() < r)
        })?;
        let fault = self.queue.get_mut(index)?;
        fault.remaining = fault.remaining.saturating_sub(1);
        let kind = fault.kind.clone();
        if fault.remaining == 0 {
            self.queue.remove(index);
        }
        Some(kind)
    }
}

/// Acts out a fault. `Some(response)` answers the call in place of the endpoint; `None` lets
/// the call go on normally (after a hang).
pub(crate) async fn act(
    kind: FaultKind,
    kill: Option<&ConnKill>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Option<Response> {
    match kind {
        FaultKind::Code { code, status } => {
            let mut response = reply::envelope(
                status,
                code,
                &format!("injected fault: code {code}"),
                Value::Null,
            );
            if code == 429 || status == StatusCode::TOO_MANY_REQUESTS {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Some(response)
        }
        FaultKind::Html { status } => {
            let page = format!(
                "<html>\r\n<head><title>{code} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>{code} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                code = status.as_u16()
            );
            Some((status, [(header::CONTENT_TYPE, "text/html")], page).into_response())
        }
        FaultKind::Empty { status } => Some((status, Body::empty()).into_response()),
        FaultKind::Hang { delay } => {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.cancelled() => {}
            }
            None
        }
        FaultKind::Reset => match kill {
            Some(kill) => {
                kill.0.cancel();
                // Never answer: the connection task drops the connection (and this future).
                std::future::pending::<()>().await;
                None
            }
            None => Some((StatusCode::BAD_GATEWAY, Body::empty()).into_response()),
        },
    }
}
