//! Balance readings around a generate: read without retries (a reading is a nicety, never worth
//! delaying a submit), kept in the history, and turned into a warning when the balance looks
//! too low for what is about to be submitted.

use std::time::Duration;

use super::GlobalArgs;
use crate::api::limits::RetryPolicy;
use crate::api::types::format_credits;
use crate::api::{Client, ClientConfig};
use crate::store::History;

/// A reading gets this long at most.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for balance readings: the settings in force, but one attempt and a short timeout.
pub(crate) fn reader(global: &GlobalArgs) -> Option<Client> {
    let config = global.client_config();
    let timeout = config.request_timeout.min(READ_TIMEOUT);
    Client::new(ClientConfig {
        retry: RetryPolicy::none(),
        request_timeout: timeout,
        ..config
    })
    .ok()
}

/// Reads the balance and keeps the reading; `None` when it could not be read (nothing is said:
/// the caller goes on without it).
pub(crate) async fn read(client: &Client, history: Option<&History>) -> Option<f64> {
    match client.credits().await {
        Ok(balance) => {
            if let Some(h) = history {
                keep(h, client.base_url(), balance).await;
            }
            Some(balance)
        }
        Err(e) => {
            tracing::info!("balance not read: {e}");
            None
        }
    }
}

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

/// What to say before a submit when the balance looks too low: below the estimated cost
/// (`cost_per_image × variants`, when costs were observed), or below `low_balance`.
pub(crate) fn low_balance_warning(
    balance: f64,
    low_balance: Option<f64>,
    estimate: Option<f64>,
) -> Option<String> {
    let shown = format_credits(balance);
    let cost = |e: f64| format_credits(e.round());
    if let Some(e) = estimate.filter(|e| balance < *e) {
        return Some(format!(
            "balance {shown} is probably not enough for this (~{} credits); submitting anyway",
            cost(e)
        ));
    }
    let mark = low_balance.filter(|m| balance < *m)?;
    let this = estimate
        .map(|e| format!(", this costs ~{} credits", cost(e)))
        .unwrap_or_default();
    Some(format!(
        "balance {shown} is below low_balance ({}{this}); submitting anyway",
        format_credits(mark)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_below_the_estimate_or_the_mark() {
        assert_eq!(
            low_balance_warning(4.0, None, Some(12.0)).as_deref(),
            Some("balance 4 is probably not enough for this (~12 credits); submitting anyway")
        );
        assert_eq!(
            low_balance_warning(40.0, Some(50.0), Some(6.0)).as_deref(),
            Some("balance 40 is below low_balance (50, this costs ~6 credits); submitting anyway")
        );
        assert_eq!(
            low_balance_warning(40.0, Some(50.0), None).as_deref(),
            Some("balance 40 is below low_balance (50); submitting anyway")
        );
        assert_eq!(low_balance_warning(60.0, Some(50.0), Some(12.0)), None);
        assert_eq!(
            low_balance_warning(12.0, None, Some(12.0)),
            None,
            "exactly enough"
        );
        assert_eq!(
            low_balance_warning(1.0, None, None),
            None,
            "nothing to compare with"
        );
    }
}
