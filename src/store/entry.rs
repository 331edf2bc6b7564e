//! The plain data the history keeps: a task's status, what it was asked with, its
//! images, and what a search narrows the list to.

use std::path::PathBuf;
use std::str::FromStr;

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::search::{self, Plan};
use crate::api::{FallbackModel, GenerateRequest, Size, TaskStatus, Variants};

/// A task's state in the history: the service's, or expired (older than the service keeps
/// tasks, never seen to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Generating,
    Success,
    CreateTaskFailed,
    GenerateFailed,
    Expired,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Generating,
        Status::Success,
        Status::CreateTaskFailed,
        Status::GenerateFailed,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Generating => "GENERATING",
            Status::Success => "SUCCESS",
            Status::CreateTaskFailed => "CREATE_TASK_FAILED",
            Status::GenerateFailed => "GENERATE_FAILED",
            Status::Expired => "EXPIRED",
        }
    }

    pub fn is_final(self) -> bool {
        self != Status::Generating
    }

    pub fn is_failure(self) -> bool {
        matches!(self, Status::CreateTaskFailed | Status::GenerateFailed)
    }
}

impl From<TaskStatus> for Status {
    fn from(s: TaskStatus) -> Status {
        match s {
            TaskStatus::Generating => Status::Generating,
            TaskStatus::Success => Status::Success,
            TaskStatus::CreateTaskFailed => Status::CreateTaskFailed,
            TaskStatus::GenerateFailed => Status::GenerateFailed,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Status, String> {
        let s = s.trim().to_ascii_uppercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a search can narrow the history to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    Generating,
    Success,
    /// Either kind of failure.
    Failed,
    Expired,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 4] = [
        StatusFilter::Generating,
        StatusFilter::Success,
        StatusFilter::Failed,
        StatusFilter::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Generating => "generating",
            StatusFilter::Success => "success",
            StatusFilter::Failed => "failed",
            StatusFilter::Expired => "expired",
        }
    }

    fn statuses(self) -> &'static [Status] {
        match self {
            StatusFilter::Generating => &[Status::Generating],
            StatusFilter::Success => &[Status::Success],
            StatusFilter::Failed => &[Status::CreateTaskFailed, Status::GenerateFailed],
            StatusFilter::Expired => &[Status::Expired],
        }
    }
}

impl FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<StatusFilter, String> {
        let s = s.trim().to_ascii_lowercase();
        StatusFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a status: use generating, success, failed or expired")
            })
    }
}

impl std::fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference image (or mask): where the person took it from, and the URL the service got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// A local path or a URL, as given.
    pub origin: String,
    /// The URL sent to the service (the upload's, for a local file).
    pub url: String,
}

/// Everything a generation was asked with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    pub prompt: Option<String>,
    pub refs: Vec<Reference>,
    pub mask: Option<Reference>,
    pub size: Size,
    pub variants: Variants,
    pub enhance: bool,
    pub fallback: Option<FallbackModel>,
    pub callback_url: Option<String>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            prompt: None,
            refs: Vec::new(),
            mask: None,
            size: Size::Square,
            variants: Variants::One,
            enhance: false,
            fallback: None,
            callback_url: None,
        }
    }
}

impl Params {
    /// The generate call these parameters make.
    pub fn request(&self) -> GenerateRequest {
        GenerateRequest {
            prompt: self.prompt.clone(),
            files_url: self.refs.iter().map(|r| r.url.clone()).collect(),
            size: self.size,
            n_variants: Some(self.variants),
            mask_url: self.mask.as_ref().map(|m| m.url.clone()),
            is_enhance: self.enhance.then_some(true),
            enable_fallback: self.fallback.is_some().then_some(true),
            fallback_model: self.fallback,
            upload_cn: None,
            call_back_url: self.callback_url.clone(),
        }
    }

    /// Parameters from a request alone (its references known only by URL).
    pub fn from_request(req: &GenerateRequest) -> Params {
        let by_url = |u: &String| Reference {
            origin: u.clone(),
            url: u.clone(),
        };
        Params {
            prompt: req.prompt.clone(),
            refs: req.files_url.iter().map(by_url).collect(),
            mask: req.mask_url.as_ref().map(by_url),
            size: req.size,
            variants: req.n_variants.unwrap_or(Variants::One),
            enhance: req.is_enhance.unwrap_or(false),
            fallback: req
                .fallback_model
                .filter(|_| req.enable_fallback == Some(true)),
            callback_url: req.call_back_url.clone(),
        }
    }
}

/// One result image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub index: usize,
    pub url: String,
    /// Where it was saved, once it was.
    pub path: Option<PathBuf>,
    /// Why the last download failed.
    pub error: Option<String>,
    /// The service no longer has it (older than it keeps images) and it was never saved.
    pub gone: bool,
}

impl Image {
    pub fn is_missing(&self) -> bool {
        self.path.is_none() && !self.gone
    }
}

/// One task as the history knows it.
///
/// Serialized (for `fouro history --json`) with camelCase fields, the status by its
/// upper-case name, times in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub task_id: String,
    pub base_url: String,
    pub params: Params,
    pub status: Status,
    /// 0.0 ..= 1.0.
    pub progress: f64,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// Credits the task cost, when observed.
    pub cost: Option<f64>,
    pub images: Vec<Image>,
}

impl Entry {
    /// Result images not saved yet (and still on the service).
    pub fn missing(&self) -> impl Iterator<Item = &Image> {
        self.images.iter().filter(|i| i.is_missing())
    }
}

/// What to list: all, or narrowed by text, status and aspect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Matched, case-insensitively, anywhere in the prompt or the task id.
    pub search: Option<String>,
    pub status: Option<StatusFilter>,
    pub size: Option<Size>,
    /// Only the newest this many entries (about: those created at the same second as the
    /// last of them too). The app's scope for a search too short for the search index.
    pub newest: Option<usize>,
}

impl Query {
    /// The search text, trimmed, unless there is none.
    pub(super) fn text(&self) -> Option<&str> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The search text as one phrase of the search index, when it is long enough for it.
    pub(super) fn phrase(&self) -> Option<String> {
        self.text().and_then(search::phrase)
    }

    /// The WHERE clause and its parameters, the search read through the index.
    pub(super) fn clause(&self) -> (String, Vec<Value>) {
        self.clause_for(Plan::Index)
    }

    /// The WHERE clause and its parameters, the search read as `plan` says.
    pub(super) fn clause_for(&self, plan: Plan) -> (String, Vec<Value>) {
        let mut parts = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if let Some(text) = self.text() {
            parts.push(search::condition(text, plan, &mut args));
        }
        if let Some(filter) = self.status {
            let mut marks = Vec::new();
            for s in filter.statuses() {
                args.push(s.as_str().to_owned().into());
                marks.push(format!("?{}", args.len()));
            }
            parts.push(format!("status IN ({})", marks.join(", ")));
        }
        if let Some(size) = self.size {
            args.push(size.as_str().to_owned().into());
            parts.push(format!("size = ?{}", args.len()));
        }
        if let Some(n) = self.newest {
            // The newest `n` rows' oldest date, read once through `tasks_newest`; every row
            // when there are fewer.
            args.push(Value::Integer(
                i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX),
            ));
            parts.push(format!(
                "created_at >= COALESCE((SELECT created_at FROM tasks \
                 ORDER BY created_at DESC, rowid DESC LIMIT 1 OFFSET ?{}), {})",
                args.len(),
                i64::MIN
            ));
        }
        if parts.is_empty() {
            (String::new(), args)
        } else {
            (format!("WHERE {}", parts.join(" AND ")), args)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_a_pattern_with_its_wildcards_escaped_and_one_phrase_of_the_index() {
        let search = |text: &str| {
            Query {
                search: Some(text.into()),
                ..Query::default()
            }
            .clause()
        };
        let (clause, args) = search(" 50%_off\\ \"Now\" ");
        assert_eq!(
            args,
            [
                Value::Text("%50\\%\\_off\\\\ \"Now\"%".into()),
                Value::Text("\"50%_off\\ \"\"Now\"\"\"".into()),
                Value::Text("50%_off\\ \"now\"".into()),
            ]
        );
        assert!(clause.contains("tasks_text MATCH"), "{clause}");
        assert!(clause.contains("ESCAPE '\\'"), "{clause}");
        // Too short for the index's three-character pieces.
        let (clause, args) = search(" %_ ");
        assert_eq!(args, [Value::Text("%\\%\\_%".into())]);
        assert!(!clause.contains("tasks_text"), "{clause}");
    }

    #[test]
    fn statuses_parse_from_their_names_in_any_case() {
        for status in Status::ALL {
            assert_eq!(status.as_str().to_lowercase().parse::<Status>(), Ok(status));
        }
        assert_eq!(" FAILED ".parse::<StatusFilter>(), Ok(StatusFilter::Failed));
        assert!(
            "done"
                .parse::<StatusFilter>()
                .unwrap_err()
                .contains("generating")
        );
    }
}
