//! How often each followed task is asked for its status: less often when so many are
//! followed that the usual pace would make the queries, and their answers, a load of their
//! own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::api::poll::PollOptions;

/// The status queries of every task followed, at most, on average: beyond this many tasks
/// at the usual pace, each is asked less often.
pub(super) const STATUS_QUERIES_PER_SECOND: f64 = 40.0;

/// A poller's pauses, for one of `live` tasks followed at once: with more tasks than
/// [`STATUS_QUERIES_PER_SECOND`] allows at the usual pace, each is asked less often (a
/// thousand tasks: every 25 s), and its pauses grow to that from an eighth of it (3 s), not
/// from the usual 0.8 s, which would take a minute of quick queries to get there.
///
/// Tasks started together stay in step: their queries go out together and their answers
/// reach the app together, taken in by one wake-up and drawn in one frame. Spread apart
/// (measured here), 200 tasks cost three times the CPU, each answer waking the app on its
/// own, and key presses were answered no faster.
pub(super) fn paced(opts: PollOptions, live: usize) -> PollOptions {
    let budget = Duration::from_secs_f64(live as f64 / STATUS_QUERIES_PER_SECOND);
    if budget <= opts.max_interval {
        return opts;
    }
    PollOptions {
        first_interval: opts.first_interval.max(budget / 8),
        max_interval: budget,
        ..opts
    }
}

/// Counts a poller while it lives (aborted or ended).
pub(super) struct LivePoll(Arc<AtomicUsize>);

impl LivePoll {
    pub(super) fn new(count: &Arc<AtomicUsize>) -> LivePoll {
        count.fetch_add(1, Ordering::Relaxed);
        LivePoll(count.clone())
    }
}

impl Drop for LivePoll {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USUAL: PollOptions = PollOptions {
        first_interval: Duration::from_millis(800),
        max_interval: Duration::from_secs(5),
        give_up_after: Duration::from_secs(900),
    };

    #[test]
    fn a_few_hundred_tasks_keep_the_usual_pace() {
        for live in [1, 10, 200] {
            let p = paced(USUAL, live);
            assert_eq!(p.first_interval, USUAL.first_interval);
            assert_eq!(p.max_interval, USUAL.max_interval, "{live} tasks");
            assert_eq!(p.give_up_after, USUAL.give_up_after);
        }
    }

    #[test]
    fn a_thousand_tasks_are_asked_within_the_budget() {
        let p = paced(USUAL, 1000);
        assert_eq!(p.max_interval, Duration::from_secs(25));
        assert_eq!(
            p.first_interval,
            Duration::from_millis(3125),
            "asked within seconds"
        );
        let per_second = 1000.0 / p.max_interval.as_secs_f64();
        assert!(
            per_second <= STATUS_QUERIES_PER_SECOND,
            "{per_second:.1} a second"
        );
    }

    #[test]
    fn a_poller_is_counted_while_it_lives() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = LivePoll::new(&count);
        let b = LivePoll::new(&count);
        assert_eq!(count.load(Ordering::Relaxed), 2);
        drop(a);
        assert_eq!(count.load(Ordering::Relaxed), 1);
        drop(b);
        assert_eq!(count.load(Ordering::Relaxed), 0);
    }
}
