//! The typed client: one method per endpoint, every answer read through [`read_envelope`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::api::body::{MAX_ANSWER_BYTES, MAX_DOWNLOAD_BYTES, checked_image, read_capped};
use crate::api::error::{Error, Result};
use crate::api::key::ApiKey;
use crate::api::limits::{Limits, RetryPolicy};
use crate::api::types::{GenerateRequest, TaskRecord, UploadedFile};

/// 4oImageApi.io. kie.ai serves the same paths at `https://api.kie.ai`.
pub const DEFAULT_BASE_URL: &str = "https://4oimageapiio.erweima.ai";
/// Where uploads are filed on the service.
pub const UPLOAD_PATH: &str = "fouro/references";

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    /// Base URL of the file-upload endpoints; the API base URL when `None`.
    pub upload_url: Option<String>,
    pub api_key: Option<ApiKey>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            upload_url: None,
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// A cheap-to-clone handle; clones share the connection pool and the rate limits.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: String,
    upload_url: String,
    key: Option<ApiKey>,
    retry: RetryPolicy,
    request_timeout: Duration,
    limits: Limits,
}

/// What a call may do when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Safe to send again: status, credits, download links, free uploads.
    Idempotent,
    /// A paid generate: sent again only when the service surely did not take it.
    Paid,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client> {
        crate::install_tls_provider();
        let base_url = normalize_base(&config.base_url)?;
        let upload_url = match &config.upload_url {
            Some(u) => normalize_base(u)?,
            None => base_url.clone(),
        };
        if let Some(key) = &config.api_key
            && reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.expose())).is_err()
        {
            return Err(Error::Input(
                "the API key holds characters that cannot be sent (a stray newline or control character?): set it again".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("fouro/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                upload_url,
                key: config.api_key,
                retry: config.retry,
                request_timeout: config.request_timeout,
                limits: Limits::default(),
            }),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub fn api_key(&self) -> Option<&ApiKey> {
        self.inner.key.as_ref()
    }

    /// Submits a generation and returns its task id. Persist it before anything else.
    pub async fn generate(&self, req: &GenerateRequest) -> Result<String> {
        let body = serde_json::to_value(req).map_err(|e| Error::Input(e.to_string()))?;
        let data = self
            .call(Repeat::Paid, || {
                let url = format!("{}/api/v1/gpt4o-image/generate", self.inner.base_url);
                let body = &body;
                async move {
                    self.inner.limits.generate().await;
                    Ok(self.request(Method::POST, &url)?.json(body))
                }
            })
            .await?;
        let id = data
            .as_ref()
            .and_then(|d| d.get("taskId").or_else(|| d.get("task_id")))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::GenerateUncertain {
                detail: "the answer carried no taskId".into(),
            })?;
        // The id names files on disk: nothing but a plain token is accepted.
        if !is_plain_task_id(id) {
            return Err(Error::BadTaskId {
                id: id.chars().take(80).collect(),
            });
        }
        Ok(id.to_owned())
    }

    /// The task's details; `None` while the service has no record yet (right after submit).
    pub async fn record_info(&self, task_id: &str) -> Result<Option<TaskRecord>> {
        let data = self
            .call(Repeat::Idempotent, || {
                let url = format!("{}/api/v1/gpt4o-image/record-info", self.inner.base_url);
                async move {
                    self.inner.limits.record_info(task_id).await;
                    Ok(self
                        .request(Method::GET, &url)?
                        .query(&[("taskId", task_id)]))
                }
            })
            .await?;
        match data {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let mut record = TaskRecord::from_value(&v).map_err(|detail| Error::BadBody {
                    status: 200,
                    detail,
                })?;
                // A failure's message is kept and shown: it must not carry the key either.
                if let (Some(m), Some(k)) = (&record.error_message, &self.inner.key) {
                    record.error_message = Some(crate::api::key::scrub(m, k.expose()).into_owned());
                }
                Ok(Some(record))
            }
        }
    }

    /// A direct download link for one result URL, valid for 20 minutes.
    pub async fn download_url(&self, task_id: &str, url: &str) -> Result<String> {
        let body = json!({"taskId": task_id, "url": url});
        let data = self
            .call(Repeat::Idempotent, || {
                let endpoint = format!("{}/api/v1/gpt4o-image/download-url", self.inner.base_url);
                let body = &body;
                async move { Ok(self.request(Method::POST, &endpoint)?.json(body)) }
            })
            .await?;
        match data {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::Object(o)) => o
                .get("url")
                .or_else(|| o.get("downloadUrl"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad_data("download-url", "no URL in the answer")),
            _ => Err(bad_data("download-url", "no URL in the answer")),
        }
    }

    /// The account's remaining credits.
    pub async fn credits(&self) -> Result<f64> {
        let data = self
            .call(Repeat::Idempotent, || {
                let url = format!("{}/api/v1/chat/credit", self.inner.base_url);
                async move { self.request(Method::GET, &url) }
            })
            .await?;
        match data {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(Value::Object(o)) => o.get("credits").and_then(Value::as_f64),
            _ => None,
        }
        .ok_or_else(|| bad_data("credit", "the balance is not a number"))
    }

    /// Uploads a local file as a multipart stream (the file is not read into memory).
    pub async fn upload_file(&self, path: &Path) -> Result<UploadedFile> {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "reference.png".to_owned());
        let data = self
            .call(Repeat::Idempotent, || {
                let url = format!("{}/api/file-stream-upload", self.inner.upload_url);
                let file_name = file_name.clone();
                async move {
                    let file = tokio::fs::File::open(path).await.map_err(|e| {
                        Error::Input(format!(
                            "cannot read {}: {}",
                            path.display(),
                            crate::api::error::plain_io(&e)
                        ))
                    })?;
                    let len = file
                        .metadata()
                        .await
                        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
                        .len();
                    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
                    let part = reqwest::multipart::Part::stream_with_length(body, len)
                        .file_name(file_name.clone())
                        .mime_str(mime_for(&file_name))
                        .map_err(|e| Error::Input(e.to_string()))?;
                    let form = reqwest::multipart::Form::new()
                        .part("file", part)
                        .text("uploadPath", UPLOAD_PATH)
                        .text("fileName", file_name);
                    Ok(self
                        .request(Method::POST, &url)?
                        .timeout(self.inner.request_timeout.max(Duration::from_secs(300)))
                        .multipart(form))
                }
            })
            .await?;
        parse_upload(data)
    }

    /// Uploads bytes as base64 JSON.
    pub async fn upload_base64(&self, bytes: &[u8], file_name: &str) -> Result<UploadedFile> {
        let body = json!({
            "base64Data": format!("data:{};base64,{}", mime_for(file_name),
                base64::engine::general_purpose::STANDARD.encode(bytes)),
            "uploadPath": UPLOAD_PATH,
            "fileName": file_name,
        });
        let data = self
            .call(Repeat::Idempotent, || {
                let url = format!("{}/api/file-base64-upload", self.inner.upload_url);
                let body = &body;
                async move {
                    Ok(self
                        .request(Method::POST, &url)?
                        .timeout(self.inner.request_timeout.max(Duration::from_secs(300)))
                        .json(body))
                }
            })
            .await?;
        parse_upload(data)
    }

    /// Fetches a result image. No Authorization header: result URLs may live on another host,
    /// and the key must never travel there.
    pub async fn fetch(&self, url: &str) -> Result<Bytes> {
        let scheme_ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !scheme_ok {
            return Err(Error::UnsupportedUrl {
                url: url.chars().take(200).collect(),
            });
        }
        let policy = self.inner.retry;
        let mut attempt = 1;
        loop {
            let res = async {
                let resp = self
                    .inner
                    .http
                    .get(url)
                    .timeout(self.inner.request_timeout.max(Duration::from_secs(120)))
                    .send()
                    .await
                    .map_err(|e| Error::from_reqwest(&e))?;
                let status = resp.status();
                if !status.is_success() {
                    let code = i64::from(status.as_u16());
                    return Err(if status.is_server_error() || code == 429 || code == 408 {
                        Error::Server {
                            code,
                            msg: format!("downloading an image: HTTP {status}"),
                        }
                    } else {
                        Error::BadRequest {
                            code,
                            msg: format!("downloading an image: HTTP {status}"),
                        }
                    });
                }
                read_capped(resp, MAX_DOWNLOAD_BYTES, "the image download").await
            }
            .await;
            match res {
                Err(e) if e.is_retryable() && attempt < policy.max_attempts => {
                    tokio::time::sleep(policy.delay(attempt, &e)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Downloads one result: through a fresh direct-download link when the service gives one,
    /// else from the result URL itself.
    pub async fn download_result(&self, task_id: &str, url: &str) -> Result<Bytes> {
        match self.download_url(task_id, url).await {
            Ok(direct) => match self.fetch(&direct).await.and_then(checked_image) {
                Ok(bytes) => return Ok(bytes),
                Err(e) => {
                    tracing::warn!(task_id, "direct download failed, using the result URL: {e}")
                }
            },
            Err(e @ (Error::Unauthorized { .. } | Error::MissingKey)) => return Err(e),
            Err(e) => tracing::info!(
                task_id,
                "no direct download link, using the result URL: {e}"
            ),
        }
        self.fetch(url).await.and_then(checked_image)
    }

    fn request(&self, method: Method, url: &str) -> Result<RequestBuilder> {
        let key = self.inner.key.as_ref().ok_or(Error::MissingKey)?;
        Ok(self
            .inner
            .http
            .request(method, url)
            .timeout(self.inner.request_timeout)
            .header(AUTHORIZATION, format!("Bearer {}", key.expose())))
    }

    /// Sends a request (built afresh for each attempt), reads the envelope, retries as the
    /// policy and `repeat` allow, and returns `data`.
    async fn call<F, Fut>(&self, repeat: Repeat, build: F) -> Result<Option<Value>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<RequestBuilder>>,
    {
        let policy = self.inner.retry;
        let mut attempt = 1;
        let mut limited_since = None;
        loop {
            let secret = self.inner.key.as_ref().map(ApiKey::expose);
            let outcome = match build().await {
                Ok(req) => send(req, secret).await,
                Err(e) => return Err(e),
            };
            let err = match outcome {
                Ok(data) => return Ok(data),
                Err(e) => e,
            };
            let again = match repeat {
                Repeat::Idempotent => err.is_retryable(),
                Repeat::Paid => err.generate_surely_not_accepted(),
            };
            if matches!(err, Error::RateLimited { .. }) {
                limited_since.get_or_insert_with(tokio::time::Instant::now);
            }
            if !again || !policy.again(attempt, &err, limited_since) {
                return Err(match repeat {
                    Repeat::Paid => err.for_generate(),
                    Repeat::Idempotent => err,
                });
            }
            let delay = policy.delay(attempt, &err);
            tracing::info!(attempt, ?delay, "retrying after: {err}");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

async fn send(req: RequestBuilder, secret: Option<&str>) -> Result<Option<Value>> {
    let resp = req.send().await.map_err(|e| Error::from_reqwest(&e))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = read_capped(resp, MAX_ANSWER_BYTES, "the service's answer").await?;
    tracing::debug!(%status, bytes = body.len(), "answer");
    read_envelope(status, &headers, &body, secret)
}

/// Task ids look like `task_4o_…`: letters, digits, `_` and `-`, nothing that could walk out
/// of a directory when the id names a file.
pub fn is_plain_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads any answer of the service: the body's `code` wins over the HTTP status; an HTML,
/// empty or invalid body is an error naming the HTTP status. Returns `data`. A `secret` (the
/// key) echoed in the service's message is masked out of it.
pub fn read_envelope(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    secret: Option<&str>,
) -> Result<Option<Value>> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let bad = |detail: String| Error::BadBody {
        status: status.as_u16(),
        detail,
    };
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(bad("an empty body".into()));
    }
    if trimmed.starts_with('<') {
        return Err(bad("an HTML page, probably from a proxy".into()));
    }
    let v: Value = serde_json::from_str(trimmed).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let code = v.get("code").and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let mut msg = v
        .get("msg")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        msg = crate::api::key::scrub(&msg, secret).into_owned();
    }
    match code {
        Some(200) => Ok(v.get("data").cloned()),
        Some(code) => Err(Error::from_code(code, msg, retry_after)),
        None if status.is_success() => Err(bad("a JSON body without a code".into())),
        None => Err(Error::from_code(
            i64::from(status.as_u16()),
            msg,
            retry_after,
        )),
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(wait.max(0) as u64))
}

fn parse_upload(data: Option<Value>) -> Result<UploadedFile> {
    data.and_then(|d| serde_json::from_value::<UploadedFile>(d).ok())
        .filter(|f| !f.download_url.is_empty())
        .ok_or_else(|| bad_data("upload", "no downloadUrl in the answer"))
}

fn bad_data(endpoint: &str, what: &str) -> Error {
    Error::BadBody {
        status: 200,
        detail: format!("{endpoint}: {what}"),
    }
}

fn normalize_base(url: &str) -> Result<String> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| {
        Error::Input(format!(
            "the base URL {url:?} is not a URL ({e}): use e.g. {DEFAULT_BASE_URL}"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::Input(format!(
            "the base URL {url:?} must start with https:// or http://"
        )));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The MIME type for an image file name, by extension.
pub fn mime_for(name: &str) -> &'static str {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> Result<Option<Value>> {
        read_envelope(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
            Some("sk-secret-key-123456789"),
        )
    }

    #[test]
    fn body_code_wins_over_http_status() {
        assert!(matches!(
            read(200, r#"{"code":422,"msg":"size"}"#),
            Err(Error::Validation { .. })
        ));
        assert_eq!(
            read(500, r#"{"code":200,"msg":"ok","data":5}"#).unwrap(),
            Some(json!(5))
        );
        assert!(matches!(
            read(401, r#"{"msg":"no"}"#),
            Err(Error::Unauthorized { .. })
        ));
    }

    #[test]
    fn an_echoed_key_is_masked_and_retry_after_read() {
        let e = read(
            401,
            r#"{"code":401,"msg":"key sk-secret-key-123456789 is invalid"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("sk-secret") && e.contains("<API key>"), "{e}");
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert!(is_plain_task_id("task_4o_abc-1"));
        assert!(!is_plain_task_id("../x") && !is_plain_task_id(""));
    }

    #[test]
    fn html_empty_and_garbage_name_the_status() {
        for body in ["<html>Bad Gateway</html>", "", "{not json"] {
            let e = read(502, body).unwrap_err();
            assert!(matches!(e, Error::BadBody { status: 502, .. }), "{e:?}");
            assert!(e.to_string().contains("502"), "{e}");
        }
    }
}
