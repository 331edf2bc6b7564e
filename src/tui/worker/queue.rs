//! The queue's writer: one task that reads and writes the kept queue in the order asked, so
//! that a later save never undoes an earlier one, and an entry whose task exists (taken out
//! by its submission) is never written back by a save that crossed it.

use std::collections::HashSet;

use tokio::sync::{mpsc, oneshot};

use super::{Sender, blocking};
use crate::store::History;
use crate::store::queue::Saved;
use crate::tui::action::Action;

#[derive(Debug)]
pub(super) enum QueueWrite {
    Load,
    Save(Saved),
    /// The entry's task exists: it leaves the queue for good; the answer says it is written.
    Done(i64, oneshot::Sender<()>),
    /// Answers once everything asked before is written.
    Flush(oneshot::Sender<()>),
}

pub(super) async fn writer(
    history: History,
    mut rx: mpsc::UnboundedReceiver<QueueWrite>,
    tx: Sender,
) {
    let mut done = HashSet::new();
    while let Some(write) = rx.recv().await {
        let h = history.clone();
        match write {
            QueueWrite::Load => {
                let result = blocking(move || h.queue().map_err(|e| e.to_string()))
                    .await
                    .and_then(|r| r);
                let _ = tx.send(Action::QueueLoaded(result));
            }
            QueueWrite::Save(mut saved) => {
                saved.entries.retain(|q| !done.contains(&q.key));
                let result = blocking(move || h.save_queue(&saved).map_err(|e| e.to_string()))
                    .await
                    .and_then(|r| r);
                if let Err(why) = result {
                    let _ = tx.send(Action::HistoryError(format!(
                        "the queue could not be kept: {why}"
                    )));
                }
            }
            QueueWrite::Done(key, written) => {
                done.insert(key);
                let result = blocking(move || h.unqueue(key).map_err(|e| e.to_string()))
                    .await
                    .and_then(|r| r);
                if let Err(why) = result {
                    tracing::warn!(key, "a submitted entry stays in the kept queue: {why}");
                }
                let _ = written.send(());
            }
            QueueWrite::Flush(written) => {
                let _ = written.send(());
            }
        }
    }
}
