//! Client-side rate limits and the retry policy, each in one place.
//!
//! The service allows 3 record-info queries per second per task and about 20 generates per 10 s
//! per account. Every wire call takes a slot here first, so no mix of callers can exceed them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::api::error::Error;

/// A sliding-window limiter: at most `limit` acquisitions within any `period`.
///
/// The lock is held while waiting, so callers are served in arrival order.
#[derive(Debug)]
pub struct Window {
    limit: usize,
    period: Duration,
    stamps: Mutex<VecDeque<Instant>>,
}

impl Window {
    pub fn new(limit: usize, period: Duration) -> Window {
        Window {
            limit: limit.max(1),
            period,
            stamps: Mutex::new(VecDeque::new()),
        }
    }

    /// True when no acquisition happened within the last period (and nobody is waiting).
    fn is_expired(&self) -> bool {
        self.stamps
            .try_lock()
            .is_ok_and(|stamps| stamps.back().is_none_or(|t| t.elapsed() >= self.period))
    }

    pub async fn acquire(&self) {
        let mut stamps = self.stamps.lock().await;
        loop {
            let now = Instant::now();
            while stamps
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.period)
            {
                stamps.pop_front();
            }
            if stamps.len() < self.limit {
                stamps.push_back(now);
                return;
            }
            if let Some(oldest) = stamps.front() {
                tokio::time::sleep_until(*oldest + self.period).await;
            }
        }
    }
}

/// How many tasks' windows are kept before the expired ones are looked for.
const PRUNE_AT: usize = 256;

/// Each task's record-info window, and the size at which expired ones are next looked for.
#[derive(Debug)]
struct PerTask {
    windows: HashMap<String, Arc<Window>>,
    prune_at: usize,
}

/// The limits of one account: generates per account, record-info per task.
#[derive(Debug)]
pub struct Limits {
    generate: Window,
    per_task: std::sync::Mutex<PerTask>,
    per_task_limit: usize,
    per_task_period: Duration,
}

impl Default for Limits {
    /// The service's limits with a margin, so that network jitter cannot squeeze four
    /// queries into one of the service's seconds.
    fn default() -> Limits {
        Limits::new(
            20,
            Duration::from_millis(10_500),
            3,
            Duration::from_millis(1_100),
        )
    }
}

impl Limits {
    pub fn new(
        generates: usize,
        generate_period: Duration,
        per_task_limit: usize,
        per_task_period: Duration,
    ) -> Limits {
        Limits {
            generate: Window::new(generates, generate_period),
            per_task: std::sync::Mutex::new(PerTask {
                windows: HashMap::new(),
                prune_at: PRUNE_AT,
            }),
            per_task_limit,
            per_task_period,
        }
    }

    pub async fn generate(&self) {
        self.generate.acquire().await;
    }

    pub async fn record_info(&self, task_id: &str) {
        let window = {
            let mut per_task = self.per_task.lock().unwrap_or_else(|p| p.into_inner());
            // Forget windows nobody holds whose every stamp has expired: forgetting a recent
            // one would let a burst through. With many tasks followed at once, every window
            // may be recent: the next look is when the map has doubled, so that a query
            // does not read every task's window each time.
            if per_task.windows.len() > per_task.prune_at {
                per_task
                    .windows
                    .retain(|_, w| Arc::strong_count(w) > 1 || !w.is_expired());
                per_task.prune_at = (per_task.windows.len() * 2).max(PRUNE_AT);
            }
            per_task
                .windows
                .entry(task_id.to_owned())
                .or_insert_with(|| Arc::new(Window::new(self.per_task_limit, self.per_task_period)))
                .clone()
        };
        window.acquire().await;
    }
}

/// Exponential back-off with full jitter, up to a cap, for calls that are safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// The service's window for new generations (about 20 per 10 seconds): a 429 is waited out
/// for this long from the first one, whatever the number of attempts, when retries are on.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

impl RetryPolicy {
    /// Whether to try again after attempt `attempt` failed with `err`, the first 429 of this
    /// call having come at `limited_since`. Past the attempts allowed, a 429 is still tried
    /// again until the service's window has passed since the first one: a `Retry-After: 1`
    /// answered five times is not the service refusing for good.
    pub fn again(&self, attempt: u32, err: &Error, limited_since: Option<Instant>) -> bool {
        if attempt < self.max_attempts {
            return true;
        }
        self.max_attempts > 1
            && matches!(err, Error::RateLimited { .. })
            && limited_since.is_some_and(|t| t.elapsed() < RATE_WINDOW)
    }

    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before attempt `attempt + 1` (attempt counts from 1) after `err`.
    /// Past the attempts allowed (waiting out a 429), never sooner than a second.
    pub fn delay(&self, attempt: u32, err: &Error) -> Duration {
        let delay = self.backoff(attempt, err);
        if attempt >= self.max_attempts {
            delay.max(Duration::from_secs(1))
        } else {
            delay
        }
    }

    fn backoff(&self, attempt: u32, err: &Error) -> Duration {
        if let Some(asked) = err.retry_after() {
            return asked.min(Duration::from_secs(60));
        }
        // Maintenance lasts: back off longer.
        let factor = if matches!(err, Error::Maintenance { .. }) {
            4
        } else {
            1
        };
        let exp = self
            .base_delay
            .saturating_mul(factor)
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.max_delay);
        // Full jitter, but never less than half, so retries don't bunch at zero.
        let half = ceiling / 2;
        half + ceiling
            .saturating_sub(half)
            .mul_f64(rand::rng().random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_429_is_tried_again_until_the_window_has_passed_since_the_first() {
        let p = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        };
        let limited = Error::RateLimited {
            msg: "slow down".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        let other = Error::Maintenance {
            msg: "later".into(),
        };
        let first = Instant::now();
        assert!(p.again(1, &limited, Some(first)));
        assert!(p.again(5, &limited, Some(first)), "inside the window");
        assert!(!p.again(5, &other, Some(first)), "only a 429");
        assert!(
            !RetryPolicy::none().again(1, &limited, Some(first)),
            "retries off"
        );
        assert_eq!(p.delay(5, &limited), Duration::from_secs(1));
        tokio::time::advance(RATE_WINDOW).await;
        assert!(!p.again(5, &limited, Some(first)), "the window has passed");
    }

    #[tokio::test(start_paused = true)]
    async fn window_never_admits_more_than_limit_per_period() {
        let w = Arc::new(Window::new(3, Duration::from_secs(1)));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..10 {
            let w = w.clone();
            handles.push(tokio::spawn(async move {
                w.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.unwrap().duration_since(start));
        }
        times.sort();
        for i in 3..times.len() {
            assert!(
                times[i] - times[i - 3] >= Duration::from_secs(1),
                "{times:?}"
            );
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let e = Error::Server {
            code: 500,
            msg: String::new(),
        };
        assert!(p.delay(1, &e) <= Duration::from_millis(500));
        assert!(p.delay(3, &e) >= Duration::from_millis(1000));
        assert!(p.delay(30, &e) <= p.max_delay);
        let rl = Error::RateLimited {
            msg: String::new(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(p.delay(1, &rl), Duration::from_secs(2));
    }
}
