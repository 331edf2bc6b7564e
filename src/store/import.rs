//! Taking the journal into the history, and moving a database that cannot be used aside.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::history::{FILE_NAME, History, Params};
use super::journal::Journal;

impl History {
    /// Inserts every journal entry not known yet and renames the journal (it is never
    /// deleted). A journal whose import failed half-way is kept aside and taken in again at
    /// the next open; an id already in the history is left as it is there.
    pub(super) fn import_journal(&self, dir: &Path) {
        if let Err(e) = Journal::take(dir) {
            tracing::warn!(
                "could not take in {}: {e}",
                Journal::in_dir(dir).path().display()
            );
        }
        let pending = match Journal::pending(dir) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("could not list the journals in {}: {e}", dir.display());
                return;
            }
        };
        for journal in pending {
            match self.import_file(&journal) {
                Ok(count) => match journal.mark_imported() {
                    Ok(done) => tracing::info!(count, "took in the journal {}", done.display()),
                    Err(e) => tracing::warn!("took in {}: {e}", journal.path().display()),
                },
                Err(e) => {
                    tracing::warn!("could not take in {}: {e}", journal.path().display());
                }
            }
        }
    }

    /// Inserts a taken journal's entries; read again until no process appended to it
    /// meanwhile (one that opened it just before it was taken may still write).
    fn import_file(&self, journal: &Journal) -> std::result::Result<usize, String> {
        let size = || std::fs::metadata(journal.path()).map(|m| m.len());
        loop {
            let before = size().map_err(|e| e.to_string())?;
            let entries = journal.entries().map_err(|e| e.to_string())?;
            // Submissions this journal also holds the answer of.
            let answered: HashSet<&str> = entries
                .iter()
                .filter(|e| !e.task_id.is_empty())
                .filter_map(|e| e.submission.as_deref())
                .collect();
            for e in &entries {
                if e.task_id.is_empty() {
                    if let Some(key) = e.submission.as_deref().filter(|k| !answered.contains(k)) {
                        self.begin_in_flight(key, &e.base_url, &e.request, e.submitted_at)
                            .map_err(|err| format!("submission {key}: {err}"))?;
                    }
                    continue;
                }
                let params = Params::from_request(&e.request);
                self.insert(&e.task_id, &e.base_url, &params, e.submitted_at)
                    .map_err(|err| format!("task {}: {err}", e.task_id))?;
                if let Some(key) = &e.submission {
                    self.end_in_flight(key)
                        .map_err(|err| format!("submission {key}: {err}"))?;
                }
            }
            if size().map_err(|e| e.to_string())? == before {
                return Ok(entries.len());
            }
        }
    }
}

/// Moves the database (and its WAL and shared-memory files) aside to
/// `<name>.moved-<timestamp>` (`-2`, `-3`… if that is taken), so that a fresh one can be
/// made. Nothing is deleted or replaced. Returns the new path of the database file.
///
/// All three move or none does: a WAL left behind would be replayed into the fresh database.
/// No fouro may have the database open meanwhile.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_owned());
    let with = |base: &str, suffix: &str| path.with_file_name(format!("{base}{suffix}"));
    let taken = |base: &str| ["", "-wal", "-shm"].iter().any(|s| with(base, s).exists());
    let mut target = format!("{name}.moved-{stamp}");
    let mut n = 2;
    while taken(&target) {
        target = format!("{name}.moved-{stamp}-{n}");
        n += 1;
    }
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let (from, to) = (with(&name, suffix), with(&target, suffix));
        if !suffix.is_empty() && !from.exists() {
            continue;
        }
        if let Err(e) = std::fs::rename(&from, &to) {
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            return Err(std::io::Error::new(
                e.kind(),
                format!("cannot move {} to {}: {e}", from.display(), to.display()),
            ));
        }
        moved.push((from, to));
    }
    Ok(with(&target, ""))
}
