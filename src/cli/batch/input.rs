//! A batch file read into tasks: one prompt per line, or a JSON object with `generate`'s
//! options; blank lines and `#` comments skipped; `--size`/`--variants` lists make a matrix.
//! Every bad line is refused with its number and what to write instead, before anything is
//! spent.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::api::input::{ImageSource, check_set};
use crate::api::{FallbackModel, Size, Variants};
use crate::tasks::Request;

/// One task of the batch: which line asked for it, and what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The line's number in the input, from 1.
    pub line: usize,
    /// The line as written (trimmed).
    pub text: String,
    pub request: Request,
}

impl Entry {
    /// What names this task in the manifest: one line makes one task per size and count.
    pub fn key(&self) -> (usize, Size, Variants) {
        (self.line, self.request.size, self.request.variants)
    }

    /// `line 12 (3:2 x2)`, for the per-task lines.
    pub fn label(&self) -> String {
        format!(
            "line {} ({} x{})",
            self.line,
            self.request.size,
            self.request.variants.count()
        )
    }
}

/// The options a JSON line may set; the same names and meanings as `fouro generate`'s.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLine {
    prompt: Option<String>,
    size: Option<Value>,
    variants: Option<Value>,
    #[serde(default)]
    refs: Vec<String>,
    mask: Option<String>,
    #[serde(default)]
    enhance: bool,
    fallback: Option<String>,
}

const JSON_EXAMPLE: &str = r#"{"prompt": "a lighthouse at dusk", "size": "3:2", "variants": 2}"#;
const FIELDS: &str = "prompt, size, variants, refs, mask, enhance, fallback";

/// The matrix the command line asks for, and where relative file names start from.
#[derive(Debug, Clone)]
pub struct Defaults<'a> {
    pub sizes: &'a [Size],
    pub variants: &'a [Variants],
    pub enhance: bool,
    pub fallback: Option<FallbackModel>,
    /// Relative `refs` and `mask` paths are taken from here (the input file's folder).
    pub base_dir: &'a Path,
}

/// Reads every line of `text` into tasks, in order; or every bad line, each said as
/// `line N: what is wrong; what to write`.
pub fn parse(text: &str, defaults: &Defaults<'_>) -> Result<Vec<Entry>, Vec<String>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(number, line, defaults) {
            Ok(mut more) => entries.append(&mut more),
            Err(e) => errors.push(format!("line {number}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn parse_line(number: usize, line: &str, defaults: &Defaults<'_>) -> Result<Vec<Entry>, String> {
    let spec = if line.starts_with('{') {
        serde_json::from_str::<JsonLine>(line).map_err(|e| {
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what).to_owned();
            if what.starts_with("unknown field") {
                format!("{what}; the fields are {FIELDS}")
            } else {
                format!("{what}; write one JSON object per line, e.g. {JSON_EXAMPLE}")
            }
        })?
    } else {
        JsonLine {
            prompt: Some(line.to_owned()),
            ..JsonLine::default()
        }
    };
    let prompt = spec
        .prompt
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let refs = spec
        .refs
        .iter()
        .map(|r| source(r, defaults.base_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let mask = spec
        .mask
        .as_deref()
        .map(|m| source(m, defaults.base_dir))
        .transpose()?;
    check_set(&refs, mask.as_ref()).map_err(|e| e.to_string())?;
    if prompt.is_none() && refs.is_empty() {
        return Err(format!(
            "no prompt and no refs: give at least one, e.g. {JSON_EXAMPLE}"
        ));
    }
    let sizes = match &spec.size {
        Some(v) => vec![text_of(v).parse::<Size>()?],
        None => defaults.sizes.to_vec(),
    };
    let counts = match &spec.variants {
        Some(v) => vec![text_of(v).parse::<Variants>()?],
        None => defaults.variants.to_vec(),
    };
    let fallback = match spec.fallback.as_deref() {
        Some(f) => Some(f.parse::<FallbackModel>()?),
        None => defaults.fallback,
    };
    let mut entries = Vec::new();
    for size in &sizes {
        for variants in &counts {
            let entry = Entry {
                line: number,
                text: line.to_owned(),
                request: Request {
                    prompt: prompt.clone(),
                    refs: refs.clone(),
                    mask: mask.clone(),
                    size: *size,
                    variants: *variants,
                    enhance: spec.enhance || defaults.enhance,
                    fallback,
                },
            };
            if !entries.iter().any(|e: &Entry| e.key() == entry.key()) {
                entries.push(entry);
            }
        }
    }
    Ok(entries)
}

/// A JSON value as the text a command-line option would give: `"3:2"` or `2`.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A reference or mask: a URL as it is, a relative path from the input file's folder.
fn source(entry: &str, base_dir: &Path) -> Result<ImageSource, String> {
    let trimmed = entry.trim();
    let is_url = trimmed.contains("://");
    let path = Path::new(trimmed);
    let entry = if is_url || path.is_absolute() || trimmed.is_empty() {
        trimmed.to_owned()
    } else {
        base_dir.join(path).display().to_string()
    };
    ImageSource::parse(&entry).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults<'a>(sizes: &'a [Size], variants: &'a [Variants]) -> Defaults<'a> {
        Defaults {
            sizes,
            variants,
            enhance: false,
            fallback: None,
            base_dir: Path::new("."),
        }
    }

    #[test]
    fn plain_and_json_lines_mix_and_comments_are_skipped() {
        let text = "# a comment\n\na red fox\n{\"prompt\": \"a blue whale\", \"size\": \"3:2\", \"variants\": 2, \"enhance\": true}\n";
        let entries = parse(text, &defaults(&[Size::Square], &[Variants::One])).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].line, 3);
        assert_eq!(entries[0].request.prompt.as_deref(), Some("a red fox"));
        assert_eq!(entries[1].line, 4);
        assert_eq!(entries[1].request.size, Size::Landscape);
        assert_eq!(entries[1].request.variants, Variants::Two);
        assert!(entries[1].request.enhance);
    }

    #[test]
    fn lists_make_a_matrix_that_a_line_may_narrow() {
        let sizes = [Size::Square, Size::Landscape];
        let variants = [Variants::One, Variants::Two];
        let text = "a red fox\n{\"prompt\": \"a whale\", \"size\": \"2:3\"}\n";
        let entries = parse(text, &defaults(&sizes, &variants)).unwrap();
        assert_eq!(entries.len(), 4 + 2);
        assert!(
            entries[4..]
                .iter()
                .all(|e| e.request.size == Size::Portrait)
        );
    }

    #[test]
    fn every_bad_line_is_named_with_what_to_fix() {
        let text = "fine\n{\"prompt\": \"x\", \"colour\": 1}\n{\"prompt\": \"x\", \"size\": \"4:3\"}\n{\"prompt\": 3}\n{}\n{oops\n";
        let errors = parse(text, &defaults(&[Size::Square], &[Variants::One])).unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("line 2: unknown field `colour`"));
        assert!(errors[0].contains("the fields are prompt"));
        assert!(errors[1].starts_with("line 3: size must be 1:1, 3:2 or 2:3"));
        assert!(errors[2].starts_with("line 4: invalid type"));
        assert!(errors[3].starts_with("line 5: no prompt and no refs"));
        assert!(errors[4].starts_with("line 6: "));
        assert!(errors[4].contains("one JSON object per line"));
    }
}
