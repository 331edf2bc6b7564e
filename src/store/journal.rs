//! The task journal: where a task id goes (appended and synced) when the history database
//! cannot take it. The service cannot list an account's tasks, so an id not kept is a
//! generation lost. The history takes the journal in when it next opens.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::GenerateRequest;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub task_id: String,
    pub base_url: String,
    /// Milliseconds since the epoch.
    pub submitted_at: i64,
    pub request: GenerateRequest,
}

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn in_dir(dir: &Path) -> Journal {
        Journal {
            path: dir.join("tasks.jsonl"),
        }
    }

    pub fn at(path: &Path) -> Journal {
        Journal {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry and syncs it. The request holds no key, so nothing secret lands here.
    pub fn append(&self, entry: &JournalEntry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }

    /// Every entry that parses; a torn last line (a crash mid-write) is skipped.
    pub fn entries(&self) -> std::io::Result<Vec<JournalEntry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back_skipping_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::in_dir(dir.path());
        let e = JournalEntry {
            task_id: "task_4o_1".into(),
            base_url: "http://127.0.0.1:1".into(),
            submitted_at: 1,
            request: GenerateRequest {
                prompt: Some("p".into()),
                ..Default::default()
            },
        };
        j.append(&e).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"taskId\":")
            .unwrap();
        assert_eq!(j.entries().unwrap(), vec![e]);
    }
}
