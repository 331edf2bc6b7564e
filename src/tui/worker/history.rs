//! Reading the history's pages for the app. Typing a search asks again at every key: a new
//! search waits a moment for the next key, and a page of a query the app has moved on from is
//! not read at all (its reply would be dropped anyway, by its request number).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::{COUNT_PAST, History, Query};
use crate::tui::action::{Action, HistoryPage};

use super::{Sender, blocking};

/// How long a new search text waits for the next key before it is read: below what a person
/// notices, above the gap between keys of someone typing a word.
pub(super) const SEARCH_PAUSE: Duration = Duration::from_millis(40);

/// The query last asked for, and a number that changes with it.
#[derive(Debug, Default)]
pub(super) struct Loader {
    last: Option<Query>,
    generation: Arc<AtomicU64>,
}

impl Loader {
    /// Reads a page of `query`, answered with `Action::HistoryLoaded`, unless the app asks
    /// for another query first.
    pub(super) fn load(
        &mut self,
        history: &History,
        tx: Sender,
        (req, query, offset, limit): (u64, Query, usize, usize),
    ) -> impl Future<Output = ()> + Send + 'static {
        let new = self.last.as_ref() != Some(&query);
        if new {
            self.generation.fetch_add(1, Ordering::Relaxed);
            self.last = Some(query.clone());
        }
        let pause = new && query.search.is_some();
        let latest = self.generation.clone();
        let generation = latest.load(Ordering::Relaxed);
        let current = move || latest.load(Ordering::Relaxed) == generation;
        let history = history.clone();
        async move {
            if pause {
                tokio::time::sleep(SEARCH_PAUSE).await;
            }
            if !current() {
                return;
            }
            let result = blocking(move || {
                let entries = history
                    .page(&query, offset, limit)
                    .map_err(|e| e.to_string())?;
                if !current() {
                    return Ok(None);
                }
                // A page that ends before its limit tells the count: no second reading.
                let (total, more) = if entries.len() < limit && (offset == 0 || !entries.is_empty())
                {
                    (offset + entries.len(), false)
                } else {
                    history
                        .count_shown(&query, offset, COUNT_PAST)
                        .map_err(|e| e.to_string())?
                };
                let scoped = match query.newest {
                    Some(n) => history.holds_more_than(n).map_err(|e| e.to_string())?,
                    None => false,
                };
                Ok(Some(HistoryPage {
                    total,
                    more,
                    offset,
                    entries,
                    scoped,
                }))
            })
            .await
            .and_then(|r| r);
            let result = match result {
                Ok(None) => return,
                Ok(Some(page)) => Ok(page),
                Err(e) => Err(e),
            };
            let _ = tx.send(Action::HistoryLoaded { req, result });
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::store::history::FILE_NAME;

    fn search(text: &str) -> Query {
        Query {
            search: Some(text.into()),
            ..Query::default()
        }
    }

    #[tokio::test]
    async fn a_search_the_app_moved_on_from_is_not_read_and_the_current_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(&dir.path().join(FILE_NAME)).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut loader = Loader::default();

        let stale = loader.load(&history, tx.clone(), (1, search("lig"), 0, 100));
        let current = loader.load(&history, tx.clone(), (2, search("ligh"), 0, 100));
        // Another page of the same query is not a new query: both are read.
        let next_page = loader.load(&history, tx.clone(), (3, search("ligh"), 100, 100));
        stale.await;
        current.await;
        next_page.await;
        drop(tx);
        let mut answered = Vec::new();
        while let Some(action) = rx.recv().await {
            if let Action::HistoryLoaded { req, result } = action {
                assert_eq!(result.unwrap().total, 0);
                answered.push(req);
            }
        }
        assert_eq!(answered, [2, 3]);
    }
}
