//! How often each followed task is asked for its status: a little differently for each (so
//! that tasks started together do not ask in step), and less often when so many are followed
//! that the usual pace would make the queries, and their answers, a load of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::api::poll::PollOptions;

/// The status queries of every task followed, at most, on average: beyond this many tasks
/// at the usual pace, each is asked less often.
pub(super) const STATUS_QUERIES_PER_SECOND: f64 = 40.0;

/// A poller's pauses, for one of `live` tasks followed at once.
///
/// Each task's pauses differ a little: tasks resumed or submitted together would otherwise ask
/// for their status in step, a burst of queries (and of answers for the app to take in) at
/// every interval, the key presses of that moment waiting behind them.
///
/// With more tasks than [`STATUS_QUERIES_PER_SECOND`] allows at the usual pace, each is asked
/// less often (a thousand tasks: every 25 s), and its first query falls anywhere within its
/// interval, so that a thousand tasks resumed at once do not all ask in the same second.
pub(super) fn paced(opts: PollOptions, live: usize) -> PollOptions {
    use rand::Rng as _;
    let mut rng = rand::rng();
    let budget = Duration::from_secs_f64(live as f64 / STATUS_QUERIES_PER_SECOND);
    let max_interval = opts.max_interval.max(budget);
    let max_interval = max_interval.mul_f64(rng.random_range(1.0..1.25));
    let first_interval = if budget > opts.max_interval && opts.first_interval < max_interval {
        rng.random_range(opts.first_interval..max_interval)
    } else {
        opts.first_interval.mul_f64(rng.random_range(0.6..1.4))
    };
    PollOptions {
        first_interval,
        max_interval,
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
    fn a_few_tasks_keep_the_usual_pace_each_a_little_apart() {
        let paces: Vec<PollOptions> = (0..50).map(|_| paced(USUAL, 10)).collect();
        for p in &paces {
            assert!(
                (0.48..=1.12).contains(&p.first_interval.as_secs_f64()),
                "{p:?}"
            );
            assert!(
                (5.0..=6.25).contains(&p.max_interval.as_secs_f64()),
                "{p:?}"
            );
            assert_eq!(p.give_up_after, USUAL.give_up_after);
        }
        let firsts: std::collections::HashSet<_> = paces.iter().map(|p| p.first_interval).collect();
        assert!(firsts.len() > 40, "not in step: {}", firsts.len());
    }

    #[test]
    fn a_thousand_tasks_are_asked_within_the_budget_spread_over_the_interval() {
        let paces: Vec<PollOptions> = (0..1000).map(|_| paced(USUAL, 1000)).collect();
        let per_second: f64 = paces
            .iter()
            .map(|p| 1.0 / p.max_interval.as_secs_f64())
            .sum();
        assert!(
            per_second <= STATUS_QUERIES_PER_SECOND,
            "{per_second:.1} queries a second"
        );
        assert!(
            per_second >= STATUS_QUERIES_PER_SECOND * 0.75,
            "{per_second:.1}"
        );
        // The first queries spread over the whole interval, not all in the first second.
        let early = paces
            .iter()
            .filter(|p| p.first_interval.as_secs_f64() < 2.0)
            .count();
        assert!(early < 150, "{early} of 1000 ask within 2 s");
        for p in &paces {
            assert!(p.first_interval <= p.max_interval, "{p:?}");
        }
        // A pace that starts slower than it grows is taken as it is.
        let odd = PollOptions {
            first_interval: Duration::from_secs(60),
            ..USUAL
        };
        assert!(paced(odd, 1000).first_interval >= Duration::from_secs(36));
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
