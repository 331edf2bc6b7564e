//! Credits and usage: every balance read is kept, and what each task cost as observed.
//!
//! The service publishes no price, so the cost of a task is what the balance shows before and
//! after it. A task's own cost is known only when nothing else of this process spent or was
//! refunded in between ([`CostWatch`]); the spending per day never needs that: it is the sum of
//! the balance's drops between consecutive readings (top-ups, the rises, are not spending).

use std::collections::HashMap;

use chrono::TimeZone;
use rusqlite::params;
use serde::Serialize;

use crate::store::history::{History, Result, Status};

/// One reading of the balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceReading {
    /// Milliseconds since the epoch.
    pub at: i64,
    pub balance: f64,
}

/// What was spent on one day (local time).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaySpend {
    /// `yyyy-mm-dd`.
    pub day: String,
    /// Credits the balance dropped by that day.
    pub spent: f64,
    /// Tasks submitted that day.
    pub tasks: usize,
}

/// A task and what it cost, when observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCost {
    pub task_id: String,
    pub created_at: i64,
    pub prompt: Option<String>,
    pub status: Status,
    pub variants: u32,
    pub cost: Option<f64>,
}

/// The usage of one service over a number of days.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Balance readings, oldest first.
    pub balances: Vec<BalanceReading>,
    /// One entry per day, oldest first, days without spending included.
    pub days: Vec<DaySpend>,
    /// The tasks of the period, newest first.
    pub tasks: Vec<TaskCost>,
    /// The sum of `days`.
    pub spent: f64,
}

impl Usage {
    /// The last balance read, if any.
    pub fn latest(&self) -> Option<&BalanceReading> {
        self.balances.last()
    }

    /// The typical cost of one image, from the tasks whose cost was observed; for a warning
    /// before a submit the balance may not cover.
    pub fn cost_per_image(&self) -> Option<f64> {
        let (sum, images) = self
            .tasks
            .iter()
            .filter_map(|t| t.cost.filter(|c| *c > 0.0).map(|c| (c, t.variants.max(1))))
            .fold((0.0, 0u32), |(s, n), (c, v)| (s + c, n + v));
        (images > 0).then(|| sum / f64::from(images))
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The local day of `at` (ms) at `offset` seconds from UTC.
fn day_of(at: i64, offset: i32) -> String {
    // An offset out of range is taken as UTC.
    chrono::FixedOffset::east_opt(offset)
        .or_else(|| chrono::FixedOffset::east_opt(0))
        .and_then(|zone| zone.timestamp_millis_opt(at).single())
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl History {
    /// Keeps one reading of `base_url`'s balance.
    pub fn record_balance(&self, base_url: &str, at: i64, balance: f64) -> Result<()> {
        if !balance.is_finite() {
            return Ok(());
        }
        self.conn()
            .execute(
                "INSERT INTO balances (base_url, at, balance) VALUES (?1, ?2, ?3)",
                params![base_url.trim_end_matches('/'), at, balance],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// `base_url`'s usage over the `days` days up to `now` (ms), days in local time at
    /// `utc_offset` seconds.
    pub fn usage(&self, base_url: &str, now: i64, utc_offset: i32, days: u32) -> Result<Usage> {
        let base = base_url.trim_end_matches('/');
        let days = days.max(1);
        // Midnight (local) of the first day.
        let local_now = now + i64::from(utc_offset) * 1000;
        let today_start = local_now - local_now.rem_euclid(DAY_MS) - i64::from(utc_offset) * 1000;
        let since = today_start - i64::from(days - 1) * DAY_MS;
        let (readings, tasks) = {
            let conn = self.conn();
            // One reading before the period, so that its first drop counts.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT at, balance FROM (
                     SELECT at, balance FROM balances WHERE base_url = ?1 AND at < ?2
                     ORDER BY at DESC LIMIT 1)
                 UNION ALL
                 SELECT at, balance FROM balances WHERE base_url = ?1 AND at >= ?2
                 ORDER BY at",
                )
                .map_err(|e| self.err(e))?;
            let readings = stmt
                .query_map(params![base, since], |r| {
                    Ok(BalanceReading {
                        at: r.get(0)?,
                        balance: r.get(1)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.err(e))?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT task_id, created_at, prompt, status, variants, cost FROM tasks
                 WHERE base_url = ?1 AND created_at >= ?2
                 ORDER BY created_at DESC, rowid DESC",
                )
                .map_err(|e| self.err(e))?;
            let tasks = stmt
                .query_map(params![base, since], |r| {
                    let status: String = r.get(3)?;
                    Ok(TaskCost {
                        task_id: r.get(0)?,
                        created_at: r.get(1)?,
                        prompt: r.get(2)?,
                        status: status.parse().unwrap_or(Status::Generating),
                        variants: r.get(4)?,
                        cost: r.get(5)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.err(e))?;
            drop(stmt);
            (readings, tasks)
        };

        let mut by_day: Vec<DaySpend> = (0..days)
            .map(|i| DaySpend {
                day: day_of(since + i64::from(i) * DAY_MS + DAY_MS / 2, utc_offset),
                spent: 0.0,
                tasks: 0,
            })
            .collect();
        let n = by_day.len();
        let index = |at: i64| -> Option<usize> {
            (at >= since)
                .then(|| usize::try_from((at - since) / DAY_MS).ok())
                .flatten()
                .filter(|i| *i < n)
        };
        for pair in readings.windows(2) {
            let drop = pair[0].balance - pair[1].balance;
            if drop > 0.0
                && let Some(i) = index(pair[1].at)
            {
                by_day[i].spent += drop;
            }
        }
        for t in &tasks {
            if let Some(i) = index(t.created_at) {
                by_day[i].tasks += 1;
            }
        }
        let spent = by_day.iter().map(|d| d.spent).sum();
        Ok(Usage {
            balances: readings.into_iter().filter(|r| r.at >= since).collect(),
            days: by_day,
            tasks,
            spent,
        })
    }
}

/// Tells which tasks' costs can be observed: a task's cost is the balance before it minus the
/// balance after it, when no other task of this process ran in between.
#[derive(Debug, Default)]
pub struct CostWatch {
    /// Task id → (balance before it, whether another task overlapped it).
    running: HashMap<String, (f64, bool)>,
}

impl CostWatch {
    /// A task was created; `before` is the balance read just before its generate call.
    pub fn started(&mut self, task_id: &str, before: f64) {
        let others = !self.running.is_empty();
        for (_, overlapped) in self.running.values_mut() {
            *overlapped = true;
        }
        self.running.insert(task_id.to_owned(), (before, others));
    }

    /// The task ended (or will not be followed any more). Returns the balance before it when
    /// its cost can be observed from the next reading; marks the others as overlapped.
    pub fn ended(&mut self, task_id: &str) -> Option<f64> {
        let (before, overlapped) = self.running.remove(task_id)?;
        let others = !self.running.is_empty();
        for (_, o) in self.running.values_mut() {
            *o = true;
        }
        (!overlapped && !others).then_some(before)
    }

    /// A task that ends now would have its cost observed.
    pub fn is_watching(&self, task_id: &str) -> bool {
        self.running.contains_key(task_id)
    }
}

/// The cost of a task from the balances before and after it: never negative (a top-up in
/// between makes it unknown).
pub fn observed_cost(before: f64, after: f64) -> Option<f64> {
    let cost = before - after;
    (cost.is_finite() && cost >= 0.0).then_some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Params;

    const HOUR: i64 = 60 * 60 * 1000;

    #[test]
    fn spending_per_day_is_the_sum_of_drops_and_top_ups_do_not_count() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let h = History::open_in(dir.path()).expect("a history");
        let base = "http://127.0.0.1:1";
        // 2026-03-10 12:00 UTC.
        let now = 1_773_144_000_000;
        let yesterday = now - 24 * HOUR;
        for (at, b) in [
            (now - 40 * DAY_MS, 500.0), // before the period: the first drop still counts
            (yesterday, 100.0),
            (yesterday + HOUR, 94.0),
            (yesterday + 2 * HOUR, 200.0), // a top-up
            (now - HOUR, 188.0),
            (now, 182.0),
        ] {
            h.record_balance(base, at, b).expect("kept");
        }
        h.record_balance("http://other", now, 1.0).expect("kept");
        h.insert("t1", base, &Params::default(), now - HOUR)
            .expect("kept");
        h.set_cost("t1", 6.0).expect("kept");
        let u = h.usage(base, now, 0, 30).expect("usage");
        assert_eq!(u.days.len(), 30);
        assert_eq!(u.days[29].day, "2026-03-10");
        assert_eq!(u.days[29].spent, 18.0, "200 → 188 → 182");
        assert_eq!(u.days[29].tasks, 1);
        assert_eq!(u.days[28].spent, 406.0, "500 → 100 and 100 → 94");
        assert_eq!(u.spent, 424.0);
        assert_eq!(
            u.balances.len(),
            5,
            "only the period's readings, this service's"
        );
        assert_eq!(u.tasks[0].cost, Some(6.0));
        assert_eq!(u.cost_per_image(), Some(6.0));
    }

    #[test]
    fn a_cost_is_observed_only_for_a_task_alone() {
        let mut w = CostWatch::default();
        w.started("a", 100.0);
        assert_eq!(w.ended("a"), Some(100.0));
        w.started("b", 94.0);
        w.started("c", 88.0);
        assert_eq!(w.ended("b"), None);
        assert_eq!(w.ended("c"), None);
        w.started("d", 82.0);
        assert_eq!(w.ended("d"), Some(82.0));
        assert_eq!(observed_cost(82.0, 76.0), Some(6.0));
        assert_eq!(observed_cost(82.0, 90.0), None);
    }
}
