//! Balance readings the subcommands keep: the history's balance over time gains a point with
//! every reading. The rules for readings around a task (their time limit, the low-balance
//! warning, a failed task's cost) are the workflow's (`tasks::policy`).

use crate::store::History;

/// Keeps a reading of `base_url`'s balance; a failure is only logged (the usage loses a point).
pub(crate) async fn keep(history: &History, base_url: &str, balance: f64) {
    let base = base_url.to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    if let Err(e) = history
        .blocking(move |h| h.record_balance(&base, now, balance))
        .await
    {
        tracing::warn!("balance reading not kept: {e}");
    }
}
