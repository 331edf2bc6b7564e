//! The task journal: where a task id goes (appended and synced) when the history database
//! cannot take it. The service cannot list an account's tasks, so an id not kept is a
//! generation lost. The history takes the journal in when it next opens.
//!
//! Taking it in goes `tasks.jsonl` -> `tasks-importing-<stamp>.jsonl` (so that a process
//! appending meanwhile starts a new journal) -> `tasks-imported-<stamp>.jsonl` once every
//! entry is in the database. A file left `importing` (the database failed half-way) is taken
//! in again at the next open. Nothing is ever deleted.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::GenerateRequest;

const FILE_NAME: &str = "tasks.jsonl";
const IMPORTING: &str = "tasks-importing-";
const IMPORTED: &str = "tasks-imported-";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub task_id: String,
    pub base_url: String,
    /// Milliseconds since the epoch.
    pub submitted_at: i64,
    pub request: GenerateRequest,
    /// The in-flight submission this entry belongs to: with an empty `task_id`, a generate
    /// call was being made (its id unknown yet); with an id, that call's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn in_dir(dir: &Path) -> Journal {
        Journal {
            path: dir.join(FILE_NAME),
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

    /// Appends one entry and syncs it (and, on Unix, the directory, so that a journal just
    /// created survives a power cut). The request holds no key, so nothing secret lands here.
    pub fn append(&self, entry: &JournalEntry) -> std::io::Result<()> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            super::private::create_dir(dir)?;
        }
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path)?;
        // A crash mid-write leaves a torn last line; without a newline first, this entry
        // would be glued to it and lost with it.
        if ends_torn(&mut file)? {
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        #[cfg(unix)]
        if let Some(dir) = dir {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Every entry that parses; a torn line (a crash mid-write) is skipped, even one cut in
    /// the middle of a character.
    pub fn entries(&self) -> std::io::Result<Vec<JournalEntry>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(parse(&bytes))
    }

    /// Renames the journal in `dir` to a new `tasks-importing-…` name and returns it, or
    /// `None` if there is no journal. Appends made after this go to a new journal.
    pub fn take(dir: &Path) -> std::io::Result<Option<Journal>> {
        let live = Journal::in_dir(dir);
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S%3f");
        let target = free_name(dir, &format!("{IMPORTING}{stamp}-{}", std::process::id()));
        match std::fs::rename(&live.path, &target) {
            Ok(()) => Ok(Some(Journal::at(&target))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The journals taken but not fully imported yet, oldest first.
    pub fn pending(dir: &Path) -> std::io::Result<Vec<Journal>> {
        let mut found: Vec<PathBuf> = Vec::new();
        let list = match std::fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        for item in list {
            let name = item?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(IMPORTING) && name.ends_with(".jsonl") {
                found.push(dir.join(&*name));
            }
        }
        found.sort();
        Ok(found.iter().map(|p| Journal::at(p)).collect())
    }

    /// Renames a journal taken with [`Journal::take`] to its `tasks-imported-…` name, once
    /// every entry is in the history. Returns the new path.
    pub fn mark_imported(&self) -> std::io::Result<PathBuf> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name
            .strip_prefix(IMPORTING)
            .and_then(|n| n.strip_suffix(".jsonl"))
            .unwrap_or(&name);
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let target = free_name(dir, &format!("{IMPORTED}{stem}"));
        std::fs::rename(&self.path, &target)?;
        Ok(target)
    }
}

/// Every entry in a journal's bytes that parses, one JSON object a line; anything else (a
/// torn line, bytes that are not UTF-8) is skipped.
pub fn parse(bytes: &[u8]) -> Vec<JournalEntry> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// Whether the file holds something not ended by a newline.
fn ends_torn(file: &mut std::fs::File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// `<dir>/<stem>.jsonl`, or `<stem>-2.jsonl`… if that is taken: a rename never replaces an
/// older journal.
fn free_name(dir: &Path, stem: &str) -> PathBuf {
    let mut path = dir.join(format!("{stem}.jsonl"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.jsonl"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> JournalEntry {
        JournalEntry {
            task_id: id.into(),
            base_url: "http://127.0.0.1:1".into(),
            submitted_at: 1,
            request: GenerateRequest {
                prompt: Some("p".into()),
                ..Default::default()
            },
            submission: None,
        }
    }

    #[test]
    fn appends_and_reads_back_skipping_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::in_dir(dir.path());
        let e = entry("task_4o_1");
        j.append(&e).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"taskId\":")
            .unwrap();
        assert_eq!(j.entries().unwrap(), vec![e]);
    }

    #[test]
    fn an_entry_appended_after_a_torn_line_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::in_dir(dir.path());
        j.append(&entry("task_4o_1")).unwrap();
        // Torn in the middle of a two-byte character.
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"taskId\":\"caf\xc3")
            .unwrap();
        j.append(&entry("task_4o_2")).unwrap();
        let ids: Vec<String> = j
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| e.task_id)
            .collect();
        assert_eq!(ids, ["task_4o_1", "task_4o_2"]);
    }

    #[test]
    fn a_missing_journal_has_no_entries() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Journal::in_dir(dir.path()).entries().unwrap().is_empty());
        assert!(Journal::take(dir.path()).unwrap().is_none());
        assert!(Journal::pending(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn taking_renames_and_a_new_append_starts_a_new_journal() {
        let dir = tempfile::tempdir().unwrap();
        let live = Journal::in_dir(dir.path());
        live.append(&entry("task_4o_1")).unwrap();
        let taken = Journal::take(dir.path()).unwrap().unwrap();
        assert!(!live.path().exists());
        assert_eq!(Journal::pending(dir.path()).unwrap().len(), 1);
        live.append(&entry("task_4o_2")).unwrap();
        assert_eq!(taken.entries().unwrap(), vec![entry("task_4o_1")]);
        assert_eq!(live.entries().unwrap(), vec![entry("task_4o_2")]);

        let done = taken.mark_imported().unwrap();
        let name = done.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("tasks-imported-"), "{name}");
        assert_eq!(
            Journal::at(&done).entries().unwrap(),
            vec![entry("task_4o_1")]
        );
        assert!(Journal::pending(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn two_journals_taken_at_once_never_replace_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let live = Journal::in_dir(dir.path());
        let mut done = Vec::new();
        for id in ["task_4o_1", "task_4o_2", "task_4o_3"] {
            live.append(&entry(id)).unwrap();
            let taken = Journal::take(dir.path()).unwrap().unwrap();
            done.push(taken.mark_imported().unwrap());
        }
        done.sort();
        done.dedup();
        assert_eq!(done.len(), 3);
        let mut ids: Vec<String> = done
            .iter()
            .flat_map(|p| Journal::at(p).entries().unwrap())
            .map(|e| e.task_id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["task_4o_1", "task_4o_2", "task_4o_3"]);
    }
}
