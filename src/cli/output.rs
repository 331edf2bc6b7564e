//! What the subcommands print: one JSON object with --json, short lines otherwise.

use chrono::TimeZone;
use serde_json::{Value, json};

use crate::api::{TaskRecord, TaskStatus};
use crate::store::Entry;
use crate::store::text::escape_controls;
use crate::tasks::settle::Settled;

/// The status object scripts read: the same keys for every subcommand that prints a task.
pub fn status_json(task_id: &str, record: Option<&TaskRecord>) -> Value {
    match record {
        Some(r) => json!({
            "taskId": r.task_id,
            "status": r.status.as_str(),
            "progress": r.progress,
            "resultUrls": r.result_urls,
            "errorCode": r.error_code,
            "errorMessage": r.error_message,
            "createTime": r.create_time,
            "completeTime": r.complete_time,
            "created": rfc3339(r.create_time),
            "completed": rfc3339(r.complete_time),
        }),
        // The service has no record yet, right after submit.
        None => json!({
            "taskId": task_id,
            "status": TaskStatus::Generating.as_str(),
            "progress": 0.0,
            "resultUrls": [],
            "errorCode": null,
            "errorMessage": null,
            "createTime": null,
            "completeTime": null,
            "created": null,
            "completed": null,
        }),
    }
}

pub fn status_text(task_id: &str, record: Option<&TaskRecord>) -> String {
    let Some(r) = record else {
        return format!("{task_id}  GENERATING  0%  (the service has no details yet)");
    };
    let mut out = format!("{}  {}  {:.0}%", r.task_id, r.status, r.progress * 100.0);
    if let Some(t) = r.create_time.and_then(format_time) {
        out.push_str(&format!("\ncreated    {t}"));
    }
    if let Some(t) = r.complete_time.and_then(format_time) {
        out.push_str(&format!("\ncompleted  {t}"));
    }
    for (i, url) in r.result_urls.iter().enumerate() {
        out.push_str(&format!("\nresult {}   {url}", i + 1));
    }
    if r.status.is_failure() {
        let code = r.error_code.map(|c| format!("{c}: ")).unwrap_or_default();
        let msg = r.error_message.as_deref().unwrap_or("no reason given");
        out.push_str(&format!("\nerror      {code}{msg}"));
    }
    out
}

/// A time for people: local, with its offset from UTC (as every time the CLI prints).
pub fn format_time(ms: i64) -> Option<String> {
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S %:z").to_string())
}

/// A time for scripts: RFC 3339 in local time, with its offset.
pub fn rfc3339(ms: Option<i64>) -> Value {
    ms.and_then(|ms| chrono::Local.timestamp_millis_opt(ms).single())
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)))
        .unwrap_or(Value::Null)
}

/// Whole balances as JSON integers, as the service sends them.
pub fn credits_json(credits: f64) -> Value {
    if credits.fract() == 0.0 && credits.abs() < 1e15 {
        json!(credits as i64)
    } else {
        json!(credits)
    }
}

/// One history entry on one line: local date-time, status, aspect, variants, task id, prompt
/// (control characters escaped, cut to `prompt_width` characters), then the saved images'
/// paths, or why there are none.
pub fn entry_line(e: &Entry, prompt_width: usize) -> String {
    let when = chrono::Local
        .timestamp_millis_opt(e.created_at)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "????-??-?? ??:??".to_owned());
    let prompt = match e.params.prompt.as_deref() {
        Some(p) => cut(&escape_controls(p), prompt_width),
        None => "(references only)".to_owned(),
    };
    format!(
        "{when}  {:<18}  {}  x{}  {}  {prompt}  {}",
        e.status.as_str(),
        e.params.size.as_str(),
        e.params.variants.count(),
        escape_controls(&e.task_id),
        images_text(e)
    )
}

/// The fixed part of an entry's line before the prompt, in characters.
pub fn entry_prefix_width(e: &Entry) -> usize {
    // date-time, status, aspect, variants, id, and the gaps between them.
    16 + 2 + 18 + 2 + 3 + 2 + 2 + 2 + e.task_id.chars().count() + 2
}

fn images_text(e: &Entry) -> String {
    let saved: Vec<String> = e
        .images
        .iter()
        .filter_map(|i| i.path.as_ref())
        .map(|p| escape_controls(&p.display().to_string()).into_owned())
        .collect();
    if saved.is_empty() {
        if e.status.is_failure() {
            let why = e.error_message.as_deref().unwrap_or("no reason given");
            return format!("error: {}", cut(&escape_controls(why), 80));
        }
        return "not downloaded".to_owned();
    }
    let missing = e.images.len() - saved.len();
    let mut text = saved.join(" ");
    if missing > 0 {
        text.push_str(&format!("  (+{missing} not downloaded)"));
    }
    text
}

/// `text` cut to at most `width` characters, an ellipsis marking the cut.
pub fn cut(text: &str, width: usize) -> String {
    let width = width.max(2);
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A history entry as scripts get it: the entry's own fields, with camelCase names.
pub fn entry_json(e: &Entry) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(e).map(camel_keys)?;
    if let Value::Object(map) = &mut value {
        map.insert("created".to_owned(), rfc3339(Some(e.created_at)));
    }
    Ok(value)
}

/// Renames every object key from snake_case to camelCase, at every depth.
fn camel_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel(&k), camel_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// One task as `fouro sync` settles it.
pub fn settled_line(s: &Settled) -> String {
    let mut line = format!(
        "{}  {:<18}  {} saved, {} missing",
        s.task_id,
        s.status.as_str(),
        s.saved.len(),
        s.missing
    );
    if let Some(e) = &s.error {
        line.push_str(&format!("  error: {}", escape_controls(e)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_camel_case_at_every_depth() {
        let v = camel_keys(json!({"task_id": 1, "params": {"callback_url": null},
            "images": [{"is_missing_now": true}], "status": "a_b"}));
        assert_eq!(
            v,
            json!({"taskId": 1, "params": {"callbackUrl": null},
                "images": [{"isMissingNow": true}], "status": "a_b"})
        );
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
        assert_eq!(cut("日本語テキスト", 3), "日本…");
    }
}
