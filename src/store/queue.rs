//! The app's queue in the history database: drafts staged to be submitted later, in their
//! order, and whether the queue is paused. Written as a whole on every change (a queue is a
//! few hundred rows at most), so a quit or a crash leaves it as it last was.

use std::path::PathBuf;

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::history::{History, Result};
use crate::api::input::ImageSource;
use crate::api::{FallbackModel, Size, Variants};
use crate::tasks::Request;

/// One staged draft; `key` is the app's name for it, unique in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub key: i64,
    pub request: Request,
}

/// The queue as it was kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Saved {
    pub entries: Vec<Queued>,
    pub paused: bool,
}

/// A request as the table keeps it (JSON): files by path, URLs as they were given.
#[derive(Serialize, Deserialize)]
struct Row {
    prompt: Option<String>,
    #[serde(default)]
    refs: Vec<Source>,
    mask: Option<Source>,
    size: String,
    variants: u64,
    #[serde(default)]
    enhance: bool,
    fallback: Option<FallbackModel>,
}

#[derive(Serialize, Deserialize)]
enum Source {
    #[serde(rename = "url")]
    Url(String),
    #[serde(rename = "file")]
    File(PathBuf),
}

impl From<&ImageSource> for Source {
    fn from(s: &ImageSource) -> Source {
        match s {
            ImageSource::Url(u) => Source::Url(u.clone()),
            ImageSource::File(p) => Source::File(p.clone()),
        }
    }
}

impl From<Source> for ImageSource {
    fn from(s: Source) -> ImageSource {
        match s {
            Source::Url(u) => ImageSource::Url(u),
            Source::File(p) => ImageSource::File(p),
        }
    }
}

fn encode(r: &Request) -> String {
    let row = Row {
        prompt: r.prompt.clone(),
        refs: r.refs.iter().map(Source::from).collect(),
        mask: r.mask.as_ref().map(Source::from),
        size: r.size.as_str().to_owned(),
        variants: u64::from(r.variants.count()),
        enhance: r.enhance,
        fallback: r.fallback,
    };
    serde_json::to_string(&row).unwrap_or_else(|_| "{}".into())
}

/// `None` for a row this fouro cannot read (it is dropped from the queue, not guessed at).
fn decode(text: &str) -> Option<Request> {
    let row: Row = serde_json::from_str(text).ok()?;
    Some(Request {
        prompt: row.prompt,
        refs: row.refs.into_iter().map(ImageSource::from).collect(),
        mask: row.mask.map(ImageSource::from),
        size: row.size.parse::<Size>().ok()?,
        variants: Variants::from_count(row.variants)?,
        enhance: row.enhance,
        fallback: row.fallback,
    })
}

impl History {
    /// The queue as it was last kept (empty and not paused when there is none).
    pub fn queue(&self) -> Result<Saved> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached("SELECT key, request FROM queue ORDER BY position, key")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        let entries = rows
            .into_iter()
            .filter_map(|(key, text)| {
                let request = decode(&text);
                if request.is_none() {
                    tracing::warn!(key, "a queued entry could not be read; it is left out");
                }
                Some(Queued {
                    key,
                    request: request?,
                })
            })
            .collect();
        let paused = conn
            .query_row(
                "SELECT value FROM queue_state WHERE name = 'paused'",
                [],
                |r| r.get::<_, String>(0),
            )
            .map(|v| v == "1")
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(false),
                e => Err(self.err(e)),
            })?;
        Ok(Saved { entries, paused })
    }

    /// Replaces the kept queue with `saved`, in one transaction.
    pub fn save_queue(&self, saved: &Saved) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM queue", [])
            .map_err(|e| self.err(e))?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO queue (key, position, request) VALUES (?1, ?2, ?3)")
                .map_err(|e| self.err(e))?;
            for (position, q) in saved.entries.iter().enumerate() {
                let position = i64::try_from(position).unwrap_or(i64::MAX);
                insert
                    .execute(params![q.key, position, encode(&q.request)])
                    .map_err(|e| self.err(e))?;
            }
        }
        let paused = if saved.paused { "1" } else { "0" };
        tx.execute(
            "INSERT INTO queue_state (name, value) VALUES ('paused', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![paused],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Takes one entry out of the kept queue (it was submitted).
    pub fn unqueue(&self, key: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM queue WHERE key = ?1", params![key])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(prompt: &str, size: Size) -> Request {
        Request {
            prompt: Some(prompt.into()),
            refs: vec![
                ImageSource::Url("https://example.com/a.png".into()),
                ImageSource::File(PathBuf::from("/tmp/b.png")),
            ],
            mask: None,
            size,
            variants: Variants::Two,
            enhance: true,
            fallback: Some(FallbackModel::GptImage1),
        }
    }

    #[test]
    fn the_queue_comes_back_in_its_order_and_paused() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.db")).unwrap();
        assert_eq!(h.queue().unwrap(), Saved::default());
        let saved = Saved {
            entries: vec![
                Queued {
                    key: 7,
                    request: request("b", Size::Portrait),
                },
                Queued {
                    key: 3,
                    request: request("a", Size::Landscape),
                },
            ],
            paused: true,
        };
        h.save_queue(&saved).unwrap();
        drop(h);
        let h = History::open(&dir.path().join("h.db")).unwrap();
        assert_eq!(h.queue().unwrap(), saved);
        h.unqueue(7).unwrap();
        let left = h.queue().unwrap();
        assert_eq!(left.entries.len(), 1);
        assert_eq!(left.entries[0].key, 3);
        assert!(left.paused);
        h.save_queue(&Saved::default()).unwrap();
        assert_eq!(h.queue().unwrap(), Saved::default());
    }

    #[test]
    fn an_unreadable_row_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.db")).unwrap();
        h.conn()
            .execute(
                "INSERT INTO queue (key, position, request) VALUES (1, 0, '{\"size\":\"9:9\"}')",
                [],
            )
            .unwrap();
        assert!(h.queue().unwrap().entries.is_empty());
    }
}
