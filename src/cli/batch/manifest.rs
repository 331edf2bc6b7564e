//! The batch's manifest: one JSON object per line, appended and synced as the batch goes, so
//! that a crash loses nothing said before it. For each task: `submitting` just before its
//! generate call, `submitted` with the id as soon as the service answers, `ended` with the
//! status, images and cost; `refused` when the call surely made no task. Reading it back tells
//! a resumed batch what to follow, what is done, and which calls were cut off.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::input::Entry;
use crate::api::{Size, Variants};

/// What happened to a task, as one manifest line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Event {
    Submitting,
    Submitted,
    Ended,
    Refused,
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub line: usize,
    pub text: String,
    pub size: Size,
    pub variants: Variants,
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds since the epoch.
    pub at: i64,
}

impl Record {
    pub fn new(entry: &Entry, event: Event) -> Record {
        Record {
            line: entry.line,
            text: entry.text.clone(),
            size: entry.request.size,
            variants: entry.request.variants,
            event,
            task_id: None,
            status: None,
            images: Vec::new(),
            cost: None,
            error: None,
            at: chrono::Utc::now().timestamp_millis(),
        }
    }

    fn key(&self) -> (usize, Size, Variants) {
        (self.line, self.size, self.variants)
    }
}

/// Where a task of the batch stands, from the manifest's last word on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    /// A generate call was started and its answer never written: the service may have made
    /// (and billed) a task that no one can find.
    Unknown { since: i64 },
    /// The service took it; it may still be generating. `at`: when the id was written.
    Running { task_id: String, at: i64 },
    /// It ended: its last record.
    Ended(Record),
}

/// An open manifest: appended to under a lock, each record synced before the next step.
#[derive(Debug)]
pub struct Manifest {
    path: PathBuf,
    file: Mutex<File>,
}

impl Manifest {
    /// Opens (or creates, 0600) the manifest at `path` and takes it for this process: a second
    /// batch on the same manifest would submit the same lines again.
    pub fn open(path: &Path) -> Result<(Manifest, Vec<Record>), String> {
        let shown = path.display();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {shown}: {e}"))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| {
            format!(
                "cannot open the manifest {shown}: {e}; give another place with --manifest PATH"
            )
        })?;
        crate::store::private::restrict(path)
            .map_err(|e| format!("cannot restrict {shown}: {e}"))?;
        file.try_lock().map_err(|_| {
            format!("another `fouro batch` is using the manifest {shown}: let it finish, or give this one another --manifest")
        })?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| format!("cannot read the manifest {shown}: {e}"))?;
        let records = read_records(&text, &shown.to_string());
        // A record cut off by a crash is ended, so that the next one starts on a line of its own.
        if !text.is_empty() && !text.ends_with('\n') {
            file.seek(SeekFrom::End(0))
                .and_then(|_| file.write_all(b"\n"))
                .and_then(|()| file.sync_data())
                .map_err(|e| format!("cannot write the manifest {shown}: {e}"))?;
        }
        Ok((
            Manifest {
                path: path.to_owned(),
                file: Mutex::new(file),
            },
            records,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs it to the disk.
    pub fn append(&self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

/// Every record that can be read; a line a crash cut off is passed over.
fn read_records(text: &str, path: &str) -> Vec<Record> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(e) => tracing::warn!("{path}:{}: passed over ({e})", i + 1),
        }
    }
    records
}

/// The manifest's last word on each task, by its key (line, size, variants), for the lines
/// whose text is still the same.
pub fn known(records: &[Record]) -> HashMap<(usize, Size, Variants), (String, Known)> {
    let mut known: HashMap<_, (String, Known)> = HashMap::new();
    for r in records {
        let state = match r.event {
            Event::Submitting => Known::Unknown { since: r.at },
            Event::Submitted => match &r.task_id {
                Some(id) => Known::Running {
                    task_id: id.clone(),
                    at: r.at,
                },
                None => continue,
            },
            Event::Ended => Known::Ended(r.clone()),
            Event::Refused => {
                known.remove(&r.key());
                continue;
            }
        };
        known.insert(r.key(), (r.text.clone(), state));
    }
    known
}

/// The manifest next to `input`: `FILE.manifest.jsonl`.
pub fn beside(input: &Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.jsonl");
    input.with_file_name(name)
}

/// Reads the whole of standard input, or a file.
pub fn read_input(input: &Path) -> Result<String, String> {
    if input == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the batch from standard input: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(input).map_err(|e| format!("cannot read {}: {e}", input.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::Request;

    fn entry(line: usize) -> Entry {
        Entry {
            line,
            text: format!("prompt {line}"),
            request: Request {
                prompt: Some(format!("prompt {line}")),
                refs: Vec::new(),
                mask: None,
                size: Size::Square,
                variants: Variants::One,
                enhance: false,
                fallback: None,
            },
        }
    }

    #[test]
    fn the_last_word_on_each_task_wins_and_a_cut_line_is_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.manifest.jsonl");
        {
            let (m, records) = Manifest::open(&path).unwrap();
            assert!(records.is_empty());
            m.append(&Record::new(&entry(1), Event::Submitting))
                .unwrap();
            let mut r = Record::new(&entry(1), Event::Submitted);
            r.task_id = Some("task_4o_a".into());
            m.append(&r).unwrap();
            m.append(&Record::new(&entry(2), Event::Submitting))
                .unwrap();
            m.append(&Record::new(&entry(3), Event::Submitting))
                .unwrap();
            m.append(&Record::new(&entry(3), Event::Refused)).unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"line\": 4, \"te")
            .unwrap();
        let (m, records) = Manifest::open(&path).unwrap();
        assert_eq!(records.len(), 5);
        let k = known(&records);
        assert!(matches!(
            &k[&(1, Size::Square, Variants::One)].1,
            Known::Running { task_id, .. } if task_id == "task_4o_a"
        ));
        assert!(matches!(
            k[&(2, Size::Square, Variants::One)].1,
            Known::Unknown { .. }
        ));
        assert!(!k.contains_key(&(3, Size::Square, Variants::One)));
        m.append(&Record::new(&entry(5), Event::Submitting))
            .unwrap();
        drop(m);
        let (_, records) = Manifest::open(&path).unwrap();
        assert_eq!(
            records.len(),
            6,
            "the next record starts on a line of its own"
        );
    }

    #[test]
    fn a_second_batch_cannot_take_the_same_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.manifest.jsonl");
        let _first = Manifest::open(&path).unwrap();
        let second = Manifest::open(&path).unwrap_err();
        assert!(second.contains("another `fouro batch`"), "{second}");
    }
}
