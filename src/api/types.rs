//! The service's wire types, as `../shared/api-contract.md` describes them.
//!
//! Requests serialize with the service's camelCase names. Answers are parsed tolerantly: the
//! service and its mirrors disagree on spellings and types, so every quirk the contract lists is
//! accepted here, in one place, and the rest of fouro sees clean values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Reference-image formats the service accepts, by file extension.
pub const ALLOWED_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "jfif", "pjpeg", "pjp"];
/// At most this many reference images per task.
pub const MAX_REFERENCES: usize = 5;
/// Largest reference image or mask the service accepts, in bytes.
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;

/// Output aspect ratio. The service names them `"1:1"`, `"3:2"` and `"2:3"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Size {
    #[default]
    Square,
    Landscape,
    Portrait,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Square, Size::Landscape, Size::Portrait];

    pub fn as_str(self) -> &'static str {
        match self {
            Size::Square => "1:1",
            Size::Landscape => "3:2",
            Size::Portrait => "2:3",
        }
    }

    /// Output size in pixels (gpt-image-1).
    pub fn pixels(self) -> (u32, u32) {
        match self {
            Size::Square => (1024, 1024),
            Size::Landscape => (1536, 1024),
            Size::Portrait => (1024, 1536),
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Size {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "1:1" => Ok(Size::Square),
            "3:2" => Ok(Size::Landscape),
            "2:3" => Ok(Size::Portrait),
            other => Err(format!("size must be 1:1, 3:2 or 2:3, not {other:?}")),
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How many images one task makes: 1, 2 or 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Variants {
    #[default]
    One,
    Two,
    Four,
}

impl Variants {
    pub const ALL: [Variants; 3] = [Variants::One, Variants::Two, Variants::Four];

    pub fn count(self) -> u32 {
        match self {
            Variants::One => 1,
            Variants::Two => 2,
            Variants::Four => 4,
        }
    }

    pub fn from_count(n: u64) -> Option<Variants> {
        match n {
            1 => Some(Variants::One),
            2 => Some(Variants::Two),
            4 => Some(Variants::Four),
            _ => None,
        }
    }
}

impl fmt::Display for Variants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.count())
    }
}

impl FromStr for Variants {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<u64>()
            .ok()
            .and_then(Variants::from_count)
            .ok_or_else(|| format!("variants must be 1, 2 or 4, not {s:?}"))
    }
}

impl Serialize for Variants {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.count())
    }
}

impl<'de> Deserialize<'de> for Variants {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(d)?;
        Variants::from_count(n)
            .ok_or_else(|| serde::de::Error::custom("nVariants must be 1, 2 or 4"))
    }
}

/// The backup model used when `enableFallback` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FallbackModel {
    #[default]
    #[serde(rename = "FLUX_MAX")]
    FluxMax,
    #[serde(rename = "GPT_IMAGE_1")]
    GptImage1,
}

impl FallbackModel {
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackModel::FluxMax => "FLUX_MAX",
            FallbackModel::GptImage1 => "GPT_IMAGE_1",
        }
    }
}

impl fmt::Display for FallbackModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FallbackModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FLUX_MAX" => Ok(FallbackModel::FluxMax),
            "GPT_IMAGE_1" => Ok(FallbackModel::GptImage1),
            _ => Err(format!(
                "fallback model must be FLUX_MAX or GPT_IMAGE_1, not {s:?}"
            )),
        }
    }
}

/// The body of `POST /api/v1/gpt4o-image/generate`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_url: Vec<String>,
    pub size: Size,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_variants: Option<Variants>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_enhance: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_fallback: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_model: Option<FallbackModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_cn: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_back_url: Option<String>,
}

/// A task's state as the service names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Generating,
    Success,
    CreateTaskFailed,
    GenerateFailed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Generating => "GENERATING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::CreateTaskFailed => "CREATE_TASK_FAILED",
            TaskStatus::GenerateFailed => "GENERATE_FAILED",
        }
    }

    pub fn is_final(self) -> bool {
        self != TaskStatus::Generating
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            TaskStatus::CreateTaskFailed | TaskStatus::GenerateFailed
        )
    }

    /// The `successFlag` the service sends with this status.
    pub fn success_flag(self) -> i64 {
        match self {
            TaskStatus::Generating => 0,
            TaskStatus::Success => 1,
            TaskStatus::CreateTaskFailed | TaskStatus::GenerateFailed => 2,
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GENERATING" => Ok(TaskStatus::Generating),
            "SUCCESS" => Ok(TaskStatus::Success),
            "CREATE_TASK_FAILED" => Ok(TaskStatus::CreateTaskFailed),
            "GENERATE_FAILED" => Ok(TaskStatus::GenerateFailed),
            other => Err(format!("unknown task status {other:?}")),
        }
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A task's details from `record-info`, with every quirk of the wire smoothed out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub task_id: String,
    pub status: TaskStatus,
    /// 0.0 ..= 1.0.
    pub progress: f64,
    pub result_urls: Vec<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub create_time: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub complete_time: Option<i64>,
    /// The request parameters as the service echoes them (a JSON string on the wire).
    #[serde(skip)]
    pub param_json: Option<String>,
}

impl TaskRecord {
    /// Parses the `data` object of a record-info answer.
    ///
    /// Accepts: `resultUrls` or `result_urls`; progress as a string or a number; `successFlag`
    /// 0/1/2/3 (anything but 0 and 1 is a failure); null or missing optional fields; timestamps
    /// in milliseconds or as `"YYYY-MM-DD HH:MM:SS"` strings; unknown fields ignored.
    pub fn from_value(data: &Value) -> Result<TaskRecord, String> {
        let obj = data
            .as_object()
            .ok_or("task details are not a JSON object")?;
        let task_id = obj
            .get("taskId")
            .or_else(|| obj.get("task_id"))
            .and_then(value_as_string)
            .ok_or("task details carry no taskId")?;
        let flag = obj.get("successFlag").and_then(value_as_i64);
        let named = obj
            .get("status")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<TaskStatus>().ok());
        let status = match (flag, named) {
            (Some(0), Some(s)) | (Some(1), Some(s)) | (None, Some(s)) => s,
            (Some(0), None) => TaskStatus::Generating,
            (Some(1), None) => TaskStatus::Success,
            (Some(_), Some(TaskStatus::CreateTaskFailed)) => TaskStatus::CreateTaskFailed,
            (Some(_), _) => TaskStatus::GenerateFailed,
            (None, None) => return Err("task details carry neither status nor successFlag".into()),
        };
        let mut progress = obj
            .get("progress")
            .and_then(value_as_f64)
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        if status == TaskStatus::Success {
            progress = 1.0;
        }
        let result_urls = obj
            .get("response")
            .and_then(|r| {
                r.get("resultUrls")
                    .filter(|v| !v.is_null())
                    .or_else(|| r.get("result_urls"))
            })
            .or_else(|| obj.get("resultUrls"))
            .and_then(Value::as_array)
            .map(|urls| {
                urls.iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let error_message = obj
            .get("errorMessage")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        Ok(TaskRecord {
            task_id,
            status,
            progress,
            result_urls,
            error_code: obj.get("errorCode").and_then(value_as_i64),
            error_message,
            create_time: obj.get("createTime").and_then(parse_timestamp),
            complete_time: obj.get("completeTime").and_then(parse_timestamp),
            param_json: obj.get("paramJson").and_then(value_as_string),
        })
    }
}

/// A balance as people read it: whole numbers (as the service sends them) without decimals.
pub fn format_credits(credits: f64) -> String {
    // Rounded to the cent first, so that 5.999999 (a sum of fractions) shows as 6.
    let credits = (credits * 100.0).round() / 100.0;
    if credits.fract() == 0.0 && credits.abs() < 1e15 {
        format!("{}", credits as i64)
    } else {
        format!("{credits:.2}")
    }
}

/// What the upload endpoints answer in `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedFile {
    #[serde(default)]
    pub file_name: String,
    #[serde(default)]
    pub file_path: String,
    pub download_url: String,
    #[serde(default)]
    pub file_size: u64,
    #[serde(default)]
    pub mime_type: String,
    #[serde(default)]
    pub uploaded_at: Option<String>,
}

/// The body the service POSTs to a `callBackUrl` when a task ends.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackPayload {
    pub code: i64,
    pub msg: String,
    pub task_id: String,
    pub result_urls: Vec<String>,
}

impl CallbackPayload {
    /// The final record a callback stands for (it comes only when a task ended); `None` for
    /// a success that names no image, which says nothing usable.
    pub fn record(&self) -> Option<TaskRecord> {
        let ok = self.code == 200;
        if ok && self.result_urls.is_empty() {
            return None;
        }
        Some(TaskRecord {
            task_id: self.task_id.clone(),
            status: if ok {
                TaskStatus::Success
            } else {
                TaskStatus::GenerateFailed
            },
            progress: if ok { 1.0 } else { 0.0 },
            result_urls: if ok {
                self.result_urls.clone()
            } else {
                Vec::new()
            },
            error_code: (!ok).then_some(self.code),
            error_message: Some(self.msg.trim().to_owned()).filter(|m| !ok && !m.is_empty()),
            create_time: None,
            complete_time: None,
            param_json: None,
        })
    }

    /// Parses a callback body; accepts `taskId` or `task_id`, `result_urls` or `resultUrls`.
    pub fn from_value(v: &Value) -> Result<CallbackPayload, String> {
        let code = v
            .get("code")
            .and_then(value_as_i64)
            .ok_or("callback carries no code")?;
        let data = v.get("data").ok_or("callback carries no data")?;
        let task_id = data
            .get("taskId")
            .or_else(|| data.get("task_id"))
            .and_then(value_as_string)
            .ok_or("callback carries no task id")?;
        let result_urls = data
            .get("info")
            .and_then(|i| i.get("result_urls").or_else(|| i.get("resultUrls")))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(CallbackPayload {
            code,
            msg: v
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            task_id,
            result_urls,
        })
    }
}

fn value_as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_as_f64(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').parse().ok(),
        _ => None,
    }?;
    // Some answers give a percentage ("45") rather than a fraction ("0.45").
    Some(if f > 1.0 { f / 100.0 } else { f }).filter(|f| f.is_finite())
}

/// Milliseconds since the epoch from a number (ms, or seconds when small) or a string in
/// `"YYYY-MM-DD HH:MM:SS"` (taken as UTC), RFC 3339, or digits.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    // Seconds when small, milliseconds otherwise; nonsense values are dropped, never overflow.
    let from_number = |n: i64| {
        if n.abs() < 100_000_000_000 {
            n.checked_mul(1000)
        } else {
            Some(n)
        }
    };
    match v {
        Value::Number(n) => n.as_i64().and_then(from_number),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return from_number(n);
            }
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
                return Some(t.and_utc().timestamp_millis());
            }
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_uses_camel_case_and_enums() {
        let req = GenerateRequest {
            prompt: Some("a cat".into()),
            files_url: vec!["http://x/a.png".into()],
            size: Size::Landscape,
            n_variants: Some(Variants::Four),
            enable_fallback: Some(true),
            fallback_model: Some(FallbackModel::GptImage1),
            call_back_url: Some("http://127.0.0.1:1/cb".into()),
            ..Default::default()
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(
            v,
            json!({"prompt":"a cat","filesUrl":["http://x/a.png"],"size":"3:2","nVariants":4,
                   "enableFallback":true,"fallbackModel":"GPT_IMAGE_1",
                   "callBackUrl":"http://127.0.0.1:1/cb"})
        );
    }

    #[test]
    fn record_accepts_every_documented_quirk() {
        let r = TaskRecord::from_value(&json!({
            "taskId": "task_4o_1", "progress": "0.45", "successFlag": 0, "status": "GENERATING",
            "response": null, "errorCode": null, "errorMessage": "", "createTime": "2024-01-15 10:30:00",
            "completeTime": null, "somethingNew": {"x": 1}
        }))
        .unwrap();
        assert_eq!(r.status, TaskStatus::Generating);
        assert!((r.progress - 0.45).abs() < 1e-9);
        assert_eq!(r.create_time, Some(1_705_314_600_000));
        assert_eq!(r.error_message, None);
        assert!(r.result_urls.is_empty());

        let r = TaskRecord::from_value(&json!({
            "taskId": "task_4o_2", "progress": "1.00", "successFlag": 1,
            "response": {"result_urls": ["http://a/1.png"]}, "createTime": 1705314600000i64
        }))
        .unwrap();
        assert_eq!(r.status, TaskStatus::Success);
        assert_eq!(r.result_urls, vec!["http://a/1.png"]);

        let r = TaskRecord::from_value(
            &json!({"taskId": "t", "successFlag": 3, "status": "GENERATING"}),
        )
        .unwrap();
        assert_eq!(
            r.status,
            TaskStatus::GenerateFailed,
            "flag 3 is a failure whatever status says"
        );
    }

    #[test]
    fn callback_accepts_both_id_spellings() {
        let p = CallbackPayload::from_value(&json!({"code":200,"msg":"ok",
            "data":{"task_id":"t1","info":{"result_urls":["u"]}}}))
        .unwrap();
        assert_eq!((p.task_id.as_str(), p.result_urls.len()), ("t1", 1));
        let p = CallbackPayload::from_value(
            &json!({"code":400,"msg":"refused","data":{"taskId":"t2","info":null}}),
        )
        .unwrap();
        assert_eq!((p.code, p.task_id.as_str()), (400, "t2"));
    }
}
