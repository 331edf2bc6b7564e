//! One error type for everything the service, the network or an input can do wrong.
//!
//! Each variant is one class of the contract's code table, and its message says what happened
//! and what to do. Messages never carry the API key: the key only ever travels in a header.

use std::time::Duration;

use crate::api::types::TaskStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no API key is set: pass --api-key, set FOURO_API_KEY, or try `fouro demo`")]
    MissingKey,

    #[error(
        "the API key was refused (401: {msg}): set a valid key with --api-key or FOURO_API_KEY"
    )]
    Unauthorized { msg: String },

    #[error("insufficient credits (402: {msg}): top up the account, or ask for fewer variants")]
    InsufficientCredits { msg: String },

    #[error("the service refused the request ({code}: {msg}): change the request and try again")]
    BadRequest { code: i64, msg: String },

    #[error("not found (404: {msg}): check the task id or the base URL")]
    NotFound { msg: String },

    #[error("a parameter was refused (422: {msg}): correct it and try again")]
    Validation { msg: String },

    #[error("a reference image could not be fetched (451: {msg}): check that its URL is public")]
    ImageDownload { msg: String },

    #[error(
        "that feature is disabled on the service (505: {msg}): leave the option out, or ask the provider"
    )]
    FeatureDisabled { msg: String },

    #[error("rate limited (429: {msg}): wait a moment and try again")]
    RateLimited {
        msg: String,
        retry_after: Option<Duration>,
    },

    #[error("the service is under maintenance (455: {msg}): try again later")]
    Maintenance { msg: String },

    #[error("the service's queue is full (550: {msg}): try again in a minute")]
    QueueFull { msg: String },

    #[error("the service failed ({code}: {msg}): try again in a moment")]
    Server { code: i64, msg: String },

    #[error(
        "the service answered code {code} ({msg}), which fouro does not know: check the base URL, or try again later"
    )]
    UnknownCode { code: i64, msg: String },

    #[error(
        "the service's answer (HTTP {status}) was not the API's JSON ({detail}): check the base URL, or try again later"
    )]
    BadBody { status: u16, detail: String },

    #[error(
        "asked about task {asked}, the service answered about task {named}; the answer was not used: try again, and report it to the provider if it stays so"
    )]
    OtherTask { asked: String, named: String },

    #[error(
        "{what} was larger than fouro accepts ({limit}; {came}): that is not an answer of this service, so it was not read further nor tried again: check the base URL and any proxy in between"
    )]
    TooLarge {
        what: String,
        limit: String,
        came: String,
    },

    #[error(
        "the service gave a result URL fouro will not fetch ({url}): only https:// and http:// results are downloaded; report this to the provider"
    )]
    UnsupportedUrl { url: String },

    #[error(
        "the download was not an image ({detail}); nothing was saved: try `fouro download` again later, and report it to the provider if it stays so"
    )]
    NotAnImage { detail: String },

    #[error("could not reach {host}: {detail}: check the network, the base URL or HTTPS_PROXY")]
    Connect { host: String, detail: String },

    #[error(
        "{host} did not answer in time: {detail}: try again, or raise the timeout with --timeout"
    )]
    Timeout { host: String, detail: String },

    #[error(
        "the generate request reached {host} but no answer came back ({detail}): the task may have been created and billed; check `fouro credits` before submitting again"
    )]
    GenerateUnanswered { host: String, detail: String },

    #[error(
        "the generate call failed ({detail}) and the task may have been created and billed: check `fouro credits` before submitting again"
    )]
    GenerateUncertain { detail: String },

    #[error(
        "task {task_id} is still generating: follow it with `fouro status {task_id}`, then download"
    )]
    NotReady { task_id: String },

    #[error(
        "the service returned a task id fouro will not use ({id:?}): report this to the provider"
    )]
    BadTaskId { id: String },

    #[error("could not set up HTTP ({0}): check the system's TLS certificates and proxy settings")]
    Setup(String),

    #[error("the connection to {host} failed: {detail}: try again")]
    Network { host: String, detail: String },

    #[error("{0}")]
    Input(String),

    #[error("task {task_id} ended {status}{}: change the prompt or references and submit again",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    TaskFailed {
        task_id: String,
        status: TaskStatus,
        code: Option<i64>,
        message: Option<String>,
    },

    #[error(
        "task {task_id} is still generating after {minutes} min; it may finish later: check it with `fouro status {task_id}`"
    )]
    StillRunning { task_id: String, minutes: u64 },

    #[error("{what}: {}", plain_io(source))]
    Io {
        what: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The broad classes that exit codes and retry decisions are made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// 401, or no key at all.
    Auth,
    /// 402.
    Credits,
    /// The service will refuse this request again: 400, 404, 422, 451, 505, an input error.
    Rejected,
    /// Worth retrying later: 408, 429, 455, 500, 550, network, a non-JSON answer.
    Unavailable,
    /// The task ran and failed.
    TaskFailed,
    /// The input was wrong before anything was sent.
    Usage,
    /// Anything else (local I/O).
    Other,
}

impl Error {
    /// Builds the error for a service `code` other than 200.
    pub fn from_code(code: i64, msg: String, retry_after: Option<Duration>) -> Error {
        let msg = if msg.trim().is_empty() {
            "no message".to_owned()
        } else {
            msg
        };
        match code {
            401 => Error::Unauthorized { msg },
            402 => Error::InsufficientCredits { msg },
            400 | 433 | 501 => Error::BadRequest { code, msg },
            404 => Error::NotFound { msg },
            422 => Error::Validation { msg },
            451 => Error::ImageDownload { msg },
            505 => Error::FeatureDisabled { msg },
            429 => Error::RateLimited { msg, retry_after },
            455 => Error::Maintenance { msg },
            550 => Error::QueueFull { msg },
            408 | 500 | 502 | 503 | 504 => Error::Server { code, msg },
            _ => Error::UnknownCode { code, msg },
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Error::MissingKey | Error::Unauthorized { .. } => ErrorClass::Auth,
            Error::InsufficientCredits { .. } => ErrorClass::Credits,
            Error::BadRequest { .. }
            | Error::NotFound { .. }
            | Error::Validation { .. }
            | Error::ImageDownload { .. }
            | Error::FeatureDisabled { .. }
            | Error::UnsupportedUrl { .. }
            | Error::NotReady { .. } => ErrorClass::Rejected,
            Error::Input(_) => ErrorClass::Usage,
            Error::UnknownCode { code, .. } if *code < 500 => ErrorClass::Rejected,
            Error::RateLimited { .. }
            | Error::Maintenance { .. }
            | Error::QueueFull { .. }
            | Error::Server { .. }
            | Error::UnknownCode { .. }
            | Error::BadBody { .. }
            | Error::OtherTask { .. }
            | Error::TooLarge { .. }
            | Error::NotAnImage { .. }
            | Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Network { .. }
            | Error::GenerateUnanswered { .. }
            | Error::GenerateUncertain { .. }
            | Error::BadTaskId { .. }
            | Error::StillRunning { .. } => ErrorClass::Unavailable,
            Error::TaskFailed { .. } => ErrorClass::TaskFailed,
            Error::Io { .. } | Error::Setup(_) => ErrorClass::Other,
        }
    }

    /// The service code this error carries, if it came from the service.
    pub fn code(&self) -> Option<i64> {
        Some(match self {
            Error::Unauthorized { .. } => 401,
            Error::InsufficientCredits { .. } => 402,
            Error::NotFound { .. } => 404,
            Error::Validation { .. } => 422,
            Error::ImageDownload { .. } => 451,
            Error::FeatureDisabled { .. } => 505,
            Error::RateLimited { .. } => 429,
            Error::Maintenance { .. } => 455,
            Error::QueueFull { .. } => 550,
            Error::BadRequest { code, .. }
            | Error::Server { code, .. }
            | Error::UnknownCode { code, .. } => *code,
            _ => return None,
        })
    }

    /// Whether a request that is safe to repeat (a status, credit or download-url call)
    /// should be tried again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Maintenance { .. }
                | Error::QueueFull { .. }
                | Error::Server { .. }
                | Error::BadBody { .. }
                | Error::OtherTask { .. }
                | Error::Connect { .. }
                | Error::Timeout { .. }
                | Error::Network { .. }
        )
    }

    /// Whether a paid generate call surely was not accepted, so sending it again cannot
    /// create a second task: the connection was refused, or the service said 429/455/550.
    pub fn generate_surely_not_accepted(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::RateLimited { .. }
                | Error::Maintenance { .. }
                | Error::QueueFull { .. }
        )
    }

    /// What a paid generate reports when it finally fails: a rejection stays as it is, but any
    /// failure after which the service may have taken the task says so, so that nobody is
    /// told to "try again" into a second bill.
    pub fn for_generate(self) -> Error {
        if self.generate_surely_not_accepted()
            || matches!(
                self.class(),
                ErrorClass::Auth | ErrorClass::Credits | ErrorClass::Rejected | ErrorClass::Usage
            )
        {
            return self;
        }
        match self {
            Error::Timeout { host, detail } | Error::Network { host, detail } => {
                Error::GenerateUnanswered { host, detail }
            }
            Error::Server { code, msg } | Error::UnknownCode { code, msg } => {
                Error::GenerateUncertain {
                    detail: format!("{code}: {msg}"),
                }
            }
            Error::BadBody { status, detail } => Error::GenerateUncertain {
                detail: format!("HTTP {status}: {detail}"),
            },
            e @ Error::TooLarge { .. } => Error::GenerateUncertain {
                detail: e.to_string(),
            },
            other => other,
        }
    }

    /// How long the service asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// Classifies a transport error from reqwest. The URL is reduced to its host: query
    /// strings of signed download links stay out of messages.
    pub fn from_reqwest(e: &reqwest::Error) -> Error {
        let host = e
            .url()
            .map(|u| {
                let mut h = u.host_str().unwrap_or("the service").to_owned();
                if let Some(p) = u.port() {
                    h = format!("{h}:{p}");
                }
                h
            })
            .unwrap_or_else(|| "the service".to_owned());
        let detail = innermost_cause(e);
        // A connect timeout is a failed connect: nothing was sent.
        if e.is_connect() {
            Error::Connect { host, detail }
        } else if e.is_timeout() {
            Error::Timeout { host, detail }
        } else if e.is_builder() {
            Error::Input(format!(
                "the request could not be built ({detail}): check the base URL and the API key for stray characters"
            ))
        } else {
            Error::Network { host, detail }
        }
    }
}

/// An I/O error in plain words, with what to do: no bare OS error numbers.
pub fn plain_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let said = match e.kind() {
        K::NotFound => "it does not exist: check the path",
        K::PermissionDenied => {
            "permission denied: check its owner and mode, or choose another place"
        }
        K::AlreadyExists => "something is already there: move it away or choose another name",
        K::StorageFull => "the disk is full: free some space and try again",
        K::ReadOnlyFilesystem => "the file system is read-only: choose another place",
        K::IsADirectory => "it is a directory: give a file",
        K::NotADirectory => "a part of the path is not a directory: check the path",
        K::InvalidData => "its content is not what was expected (not UTF-8 text?)",
        K::Interrupted | K::WouldBlock | K::TimedOut => "it was interrupted: try again",
        _ => {
            // The OS's own words, without the "(os error N)" that says nothing to a person.
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            return format!(
                "{}: check the path, its permissions and the disk",
                text.to_lowercase()
            );
        }
    };
    said.to_owned()
}

/// The deepest cause's words, without a bare "(os error N)".
fn innermost_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_table_has_a_class() {
        let cases = [
            (400, ErrorClass::Rejected),
            (401, ErrorClass::Auth),
            (402, ErrorClass::Credits),
            (404, ErrorClass::Rejected),
            (408, ErrorClass::Unavailable),
            (422, ErrorClass::Rejected),
            (429, ErrorClass::Unavailable),
            (433, ErrorClass::Rejected),
            (451, ErrorClass::Rejected),
            (455, ErrorClass::Unavailable),
            (500, ErrorClass::Unavailable),
            (501, ErrorClass::Rejected),
            (505, ErrorClass::Rejected),
            (550, ErrorClass::Unavailable),
            (499, ErrorClass::Rejected),
            (599, ErrorClass::Unavailable),
        ];
        for (code, class) in cases {
            let e = Error::from_code(code, "m".into(), None);
            assert_eq!(e.class(), class, "code {code}");
            assert_eq!(e.code(), Some(code), "code {code}");
            assert!(e.to_string().contains(&code.to_string()), "{e}");
        }
    }

    #[test]
    fn unknown_code_names_code_and_message() {
        let e = Error::from_code(777, "strange thing".into(), None);
        let s = e.to_string();
        assert!(s.contains("777") && s.contains("strange thing"), "{s}");
    }
}
