//! The rules the app, the subcommands and `sync` share, each written once: what a failed
//! task cost, when the balance looks too low, how long a balance reading may take, and how a
//! status query that failed is retried.

use std::time::Duration;

use crate::api::Error;
use crate::api::types::format_credits;

/// How long a balance reading around a task (before its generate, after it ends) may take in
/// all, the client's own retries included: a slow credit endpoint never holds a task up; the
/// cost then simply stays unknown.
pub const BALANCE_READ_LIMIT: Duration = Duration::from_secs(3);

/// The cost to keep for a task from the balance before and after it, if any: a successful
/// task's drop; a failed task's only when it is 0 (its refund shows already), never a charge
/// that may still be refunded.
pub fn kept_cost(before: f64, after: f64, success: bool) -> Option<f64> {
    crate::store::usage::observed_cost(before, after).filter(|c| success || *c == 0.0)
}

/// Why the balance probably cannot cover a submission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shortfall {
    /// Below what it should cost, from the costs observed: `per_image` × `images`.
    Estimate {
        balance: f64,
        need: f64,
        per_image: f64,
        images: u32,
    },
    /// No cost observed yet, and the balance is below the low-balance threshold.
    Threshold { balance: f64, threshold: f64 },
}

/// The one low-balance rule: with costs observed, the balance must cover the cost per image
/// times the images asked for; before any cost was seen, it must not be below `low_balance`.
/// (Below `low_balance` alone is shown where the balance is, not asked about at each submit.)
pub fn shortfall(
    balance: f64,
    low_balance: Option<f64>,
    per_image: Option<f64>,
    images: u32,
) -> Option<Shortfall> {
    match per_image {
        Some(per_image) => {
            let need = per_image * f64::from(images);
            (balance < need).then_some(Shortfall::Estimate {
                balance,
                need,
                per_image,
                images,
            })
        }
        None => {
            let threshold = low_balance?;
            (balance < threshold).then_some(Shortfall::Threshold { balance, threshold })
        }
    }
}

impl Shortfall {
    /// The app's question, in one line.
    pub fn question(&self) -> String {
        match self {
            Shortfall::Estimate { balance, need, .. } => format!(
                "balance {} probably can't cover ~{} credits: submit anyway?",
                format_credits(*balance),
                format_credits(*need)
            ),
            Shortfall::Threshold { balance, threshold } => format!(
                "balance {} is below your low-balance mark of {} credits: submit anyway?",
                format_credits(*balance),
                format_credits(*threshold)
            ),
        }
    }

    /// The subcommands' warning, in one line.
    pub fn warning(&self) -> String {
        match self {
            Shortfall::Estimate { balance, need, .. } => format!(
                "balance {} is probably not enough for this (~{} credits); submitting anyway",
                format_credits(*balance),
                format_credits(need.round())
            ),
            Shortfall::Threshold { balance, threshold } => format!(
                "balance {} is below low_balance ({}); submitting anyway",
                format_credits(*balance),
                format_credits(*threshold)
            ),
        }
    }

    /// Where the estimate comes from.
    pub fn basis(&self) -> String {
        match self {
            Shortfall::Estimate {
                per_image, images, ..
            } => {
                let what = if *images == 1 { "image" } else { "images" };
                format!(
                    "{images} {what} at ~{} credits each, from the costs seen in the last 30 days",
                    format_credits(*per_image)
                )
            }
            Shortfall::Threshold { .. } => {
                "no cost observed yet: the estimate is the low_balance setting".to_owned()
            }
        }
    }
}

/// Whether a failed status query is worth another try: the service or the network may come
/// back (408/429/455/5xx/550, resets, timeouts, answers that are not the API's JSON).
pub fn is_transient(e: &Error) -> bool {
    e.is_retryable() || matches!(e, Error::UnknownCode { code, .. } if *code >= 500)
}

/// The pause before the next status query after `failures` failed ones in a row: the
/// service's Retry-After when it sent one, else doubling from `first` up to `max` (longer
/// during maintenance), with jitter so that many followers do not come back together.
pub fn retry_pause(failures: u32, e: &Error, first: Duration, max: Duration) -> Duration {
    if let Some(asked) = e.retry_after() {
        return asked.min(Duration::from_secs(60)).max(first);
    }
    let factor = if matches!(e, Error::Maintenance { .. }) {
        4
    } else {
        1
    };
    let grown = doubled(failures, first.saturating_mul(factor), max);
    let half = grown / 2;
    half + grown.saturating_sub(half).mul_f64(rand::random::<f64>())
}

/// `first` doubled for each try after the first, up to `max`: the pause before writing an id
/// the disk refused once more, and the base of [`retry_pause`].
pub fn doubled(tries: u32, first: Duration, max: Duration) -> Duration {
    first
        .saturating_mul(1u32 << tries.saturating_sub(1).min(16))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_task_keeps_only_a_zero_cost() {
        assert_eq!(kept_cost(100.0, 94.0, true), Some(6.0));
        assert_eq!(kept_cost(100.0, 94.0, false), None);
        assert_eq!(kept_cost(100.0, 100.0, false), Some(0.0));
        assert_eq!(kept_cost(100.0, 120.0, true), None, "a top-up between");
    }

    #[test]
    fn one_low_balance_rule() {
        assert_eq!(
            shortfall(4.0, None, Some(6.0), 2)
                .map(|s| s.warning())
                .as_deref(),
            Some("balance 4 is probably not enough for this (~12 credits); submitting anyway")
        );
        // The estimate is covered: no question, whatever the mark.
        assert_eq!(shortfall(40.0, Some(50.0), Some(6.0), 1), None);
        assert_eq!(
            shortfall(40.0, Some(50.0), None, 1)
                .map(|s| s.warning())
                .as_deref(),
            Some("balance 40 is below low_balance (50); submitting anyway")
        );
        assert_eq!(shortfall(12.0, None, Some(6.0), 2), None, "exactly enough");
        assert_eq!(
            shortfall(1.0, None, None, 1),
            None,
            "nothing to compare with"
        );
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        let e = Error::Server {
            code: 500,
            msg: String::new(),
        };
        let (first, max) = (Duration::from_secs(1), Duration::from_secs(30));
        assert!(retry_pause(1, &e, first, max) <= first);
        assert!(retry_pause(3, &e, first, max) >= Duration::from_secs(2));
        assert!(retry_pause(40, &e, first, max) <= max);
        assert_eq!(doubled(1, first, max), first);
        assert_eq!(doubled(3, first, max), Duration::from_secs(4));
        assert_eq!(doubled(40, first, max), max);
        assert!(is_transient(&e));
        assert!(!is_transient(&Error::NotFound { msg: String::new() }));
    }
}
