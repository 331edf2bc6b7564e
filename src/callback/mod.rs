//! The callback listener: receives the service's `POST callBackUrl` when a task ends, checks it
//! and forwards it, once, as a [`CallbackPayload`] on the channel given at start.
//!
//! Every path is accepted (a tunnel may or may not keep its own path prefix); the URL fouro sends
//! is `http://<bound address>/callback`, or the tunnel's public URL as given. Checks, in order:
//!
//! - not `POST`: 405 (with `Allow: POST`);
//! - a body over the cap (64 KiB by default): 413;
//! - with a webhook key, no or unreadable `X-Webhook-Timestamp`/`X-Webhook-Signature`: 401;
//! - not JSON, or JSON that is not a callback body: 400;
//! - with a webhook key, a signature that does not match, or a timestamp more than 5 minutes
//!   from now either way: 401;
//! - a task id nobody waits for (unknown, forgotten, or already delivered): 404;
//! - the receiving end of the channel is gone: 503, and the id stays waited for;
//! - otherwise the payload is forwarded and the answer is 200 `{"code":200,"msg":"ok"}`. A
//!   signed callback is delivered once: its id is no longer waited for. An unsigned one proves
//!   nothing, so it cannot use up the id: the id stays waited for until the receiver, having
//!   asked the service for the task's status, forgets it ([`Listener::forget`]); a forged
//!   callback then costs one status query and changes nothing.
//!
//! Nothing is forwarded unless the answer is 200. Every answer is JSON `{"code","msg"}`.

mod verify;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::types::CallbackPayload;

pub use verify::{MAX_SKEW_SECS, Rejection, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify};

/// The body size cap unless configured otherwise. A real callback is well under 2 KiB.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The path in the URL fouro sends when no tunnel is in front of the listener.
pub const CALLBACK_PATH: &str = "/callback";

/// How long [`Listener::shutdown`] waits for open requests before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Unix seconds now. Injectable so that the timestamp window can be tested exactly.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock, in unix seconds.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

/// How the listener listens and what it accepts.
#[derive(Clone)]
pub struct ListenerConfig {
    /// Address to bind; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The account's webhook HMAC key. When set, only signed, fresh callbacks are accepted.
    pub webhook_key: Option<String>,
    /// Bodies larger than this are refused with 413.
    pub max_body: usize,
    /// Unix seconds now.
    pub now: Clock,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            webhook_key: None,
            max_body: DEFAULT_MAX_BODY,
            now: system_clock(),
        }
    }
}

impl fmt::Debug for ListenerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key itself: only whether there is one.
        f.debug_struct("ListenerConfig")
            .field("addr", &self.addr)
            .field("signed", &self.webhook_key.is_some())
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// The task ids a listener waits for. Cheap to clone; callable from any thread.
#[derive(Clone, Default, Debug)]
pub struct Expected(Arc<Mutex<HashSet<String>>>);

impl Expected {
    fn lock(&self) -> MutexGuard<'_, HashSet<String>> {
        // The set stays consistent whatever panicked while holding it.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for `task_id`'s callback.
    pub fn insert(&self, task_id: &str) {
        self.lock().insert(task_id.to_owned());
    }

    /// Stops waiting for `task_id`; whether it was waited for.
    pub fn remove(&self, task_id: &str) -> bool {
        self.lock().remove(task_id)
    }

    pub fn contains(&self, task_id: &str) -> bool {
        self.lock().contains(task_id)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// Hands a payload to the receiver; false when the receiver is gone.
type Forward = Box<dyn Fn(CallbackPayload) -> bool + Send + Sync>;

struct Inner {
    webhook_key: Option<String>,
    now: Clock,
    expected: Expected,
    forward: Forward,
}

/// A running callback listener. Dropping it stops it; [`Listener::shutdown`] stops it and waits.
pub struct Listener {
    addr: SocketAddr,
    signed: bool,
    expected: Expected,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds `config.addr` and serves on the current runtime. Accepted callbacks go to `events`
    /// (any type made from a [`CallbackPayload`], so the app's own event channel fits).
    pub async fn start<T>(
        config: ListenerConfig,
        events: UnboundedSender<T>,
    ) -> io::Result<Listener>
    where
        T: From<CallbackPayload> + Send + 'static,
    {
        if config.webhook_key.as_deref().is_some_and(str::is_empty) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the webhook key is empty: give the account's key, or none to accept unsigned callbacks",
            ));
        }
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let expected = Expected::default();
        let signed = config.webhook_key.is_some();
        let inner = Arc::new(Inner {
            webhook_key: config.webhook_key,
            now: config.now,
            expected: expected.clone(),
            forward: Box::new(move |payload| events.send(T::from(payload)).is_ok()),
        });
        let app = Router::new()
            .fallback(receive)
            .layer(DefaultBodyLimit::max(config.max_body))
            .with_state(inner);
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(%addr, "callback listener failed: {e}");
            }
        });
        tracing::info!(%addr, signed, "callback listener started");
        Ok(Listener {
            addr,
            signed,
            expected,
            shutdown,
            server: Some(server),
        })
    }

    /// Whether callbacks must be signed (a webhook key is set): only then does a callback's
    /// content count on its own; an unsigned one must be confirmed by a status query.
    pub fn is_signed(&self) -> bool {
        self.signed
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to send as `callBackUrl`: `public_url` as given when a tunnel forwards to this
    /// listener (any path reaches it), else `http://<bound address>/callback`.
    pub fn callback_url(&self, public_url: Option<&str>) -> String {
        if let Some(public) = public_url.map(str::trim).filter(|u| !u.is_empty()) {
            return public.to_owned();
        }
        // An unspecified bind address is reachable through loopback.
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!(
            "http://{}{CALLBACK_PATH}",
            SocketAddr::new(ip, self.addr.port())
        )
    }

    /// Waits for `task_id`'s callback. Call it as soon as the task id is known.
    pub fn expect(&self, task_id: &str) {
        self.expected.insert(task_id);
    }

    /// Stops waiting for `task_id` (polling saw it end first, or it was abandoned).
    pub fn forget(&self, task_id: &str) {
        self.expected.remove(task_id);
    }

    pub fn is_expected(&self, task_id: &str) -> bool {
        self.expected.contains(task_id)
    }

    /// A handle on the awaited task ids, for another thread or task to `insert`/`remove`.
    pub fn expected(&self) -> Expected {
        self.expected.clone()
    }

    /// Stops accepting, lets open requests finish (briefly), and waits.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("callback listener task ended badly: {e}"),
                Err(_) => {
                    tracing::warn!("callback listener: open requests cut after the grace period");
                    server.abort();
                }
            }
        }
        tracing::info!(addr = %self.addr, "callback listener stopped");
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A refused request: its status and why.
struct Refusal {
    status: StatusCode,
    reason: String,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

impl From<Rejection> for Refusal {
    fn from(r: Rejection) -> Refusal {
        Refusal::new(StatusCode::UNAUTHORIZED, r.to_string())
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = check(&inner, &method, &headers, body).and_then(|p| deliver(&inner, p));
    match result {
        Ok(task_id) => {
            tracing::info!(%peer, task = %task_id, "callback received");
            answer(StatusCode::OK, "ok")
        }
        Err(refusal) => {
            let status = refusal.status;
            let reason = &refusal.reason;
            // Duplicates and stray methods are ordinary; the rest deserve a look.
            if matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) {
                tracing::debug!(%peer, %method, %status, "callback refused: {reason}");
            } else {
                tracing::warn!(%peer, %method, %status, "callback refused: {reason}");
            }
            let mut response = answer(status, reason);
            if status == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            response
        }
    }
}

/// Everything but the task id's check: method, size, JSON, signature.
fn check(
    inner: &Inner,
    method: &Method,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<CallbackPayload, Refusal> {
    if method != Method::POST {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not accepted: callbacks are POSTed"),
        ));
    }
    let body = body.map_err(|e| Refusal::new(e.status(), e.body_text()))?;
    let signed = match &inner.webhook_key {
        Some(_) => Some(verify::signed_headers(headers)?),
        None => None,
    };
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("not valid JSON: {e}")))?;
    let payload = CallbackPayload::from_value(&value)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e))?;
    if let (Some(key), Some((timestamp, signature))) = (&inner.webhook_key, signed) {
        verify(key, &payload.task_id, timestamp, signature, (inner.now)())?;
    }
    Ok(payload)
}

/// Forwards a checked callback if its task is waited for, and stops waiting for it.
fn deliver(inner: &Inner, payload: CallbackPayload) -> Result<String, Refusal> {
    let task_id = payload.task_id.clone();
    // Taking the id out first makes concurrent duplicates forward once. Unsigned, anyone could
    // have sent it: the id stays waited for, and the receiver's status query decides.
    let signed = inner.webhook_key.is_some();
    let awaited = if signed {
        inner.expected.remove(&task_id)
    } else {
        inner.expected.contains(&task_id)
    };
    if !awaited {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no task {task_id} is awaited (unknown, or already delivered)"),
        ));
    }
    if !(inner.forward)(payload) {
        // Nobody receives any more: leave the id waited for, so a retry can still land.
        if signed {
            inner.expected.insert(&task_id);
        }
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "fouro is shutting down: callbacks are no longer received",
        ));
    }
    Ok(task_id)
}

fn answer(status: StatusCode, msg: &str) -> Response {
    let body = json!({"code": status.as_u16(), "msg": msg});
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_url_prefers_the_public_url_and_maps_unspecified_to_loopback() {
        let listener = |addr: &str| Listener {
            addr: addr.parse().unwrap(),
            signed: false,
            expected: Expected::default(),
            shutdown: CancellationToken::new(),
            server: None,
        };
        let l = listener("0.0.0.0:8123");
        assert_eq!(l.callback_url(None), "http://127.0.0.1:8123/callback");
        assert_eq!(l.callback_url(Some("  ")), "http://127.0.0.1:8123/callback");
        assert_eq!(
            l.callback_url(Some(" https://abc.example/hook ")),
            "https://abc.example/hook"
        );
        assert_eq!(
            listener("[::]:9").callback_url(None),
            "http://[::1]:9/callback"
        );
        assert_eq!(
            listener("192.168.1.5:80").callback_url(None),
            "http://192.168.1.5:80/callback"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = ListenerConfig {
            webhook_key: Some("very-secret-webhook-key".into()),
            ..ListenerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("signed: true"), "{shown}");
    }
}
