//! `fouro credits --usage`: the balance, what was spent per day, and what each recent task cost,
//! from the readings and costs the history keeps for the service in use.

use chrono::TimeZone;
use serde_json::Value;

use super::output::{credits_json, cut};
use super::{Failure, GlobalArgs, balance, exit, open_history};
use crate::api::types::format_credits;
use crate::store::text::escape_controls;
use crate::store::usage::{TaskCost, Usage};

/// The text lists at most this many tasks; `--json` lists them all.
const RECENT_TASKS: usize = 10;
/// A prompt's width in the task list.
const PROMPT_WIDTH: usize = 40;

pub async fn run(global: &GlobalArgs, days: u32, json: bool) -> Result<u8, Failure> {
    let client = global.client()?;
    let history = open_history(&crate::config::data_dir()).await?;
    let current = if client.api_key().is_some() {
        match client.credits().await {
            Ok(b) => {
                balance::keep(&history, client.base_url(), b).await;
                Some(b)
            }
            Err(e) => {
                crate::cli::print::errln!(
                    "fouro: warning: the balance could not be read ({e}); showing the usage recorded so far"
                );
                None
            }
        }
    } else {
        crate::cli::print::errln!(
            "fouro: note: no API key is set, so the balance is not read: showing the usage recorded so far"
        );
        None
    };

    let base = client.base_url().to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    let offset = chrono::Local::now().offset().local_minus_utc();
    let usage = history
        .blocking(move |h| h.usage(&base, now, offset, days))
        .await?;

    if json {
        let mut obj = serde_json::to_value(&usage).map_err(|e| Failure::Said {
            message: format!("cannot write the usage as JSON: {e}"),
            code: exit::UNEXPECTED,
        })?;
        if let (Some(c), Value::Object(map)) = (current, &mut obj) {
            map.insert("credits".into(), credits_json(c));
        }
        crate::cli::print::stdout_json(&obj);
    } else {
        crate::cli::print::out!("{}", text(&usage, current, days, client.base_url()));
    }
    Ok(exit::OK)
}

/// The report as people read it.
fn text(usage: &Usage, current: Option<f64>, days: u32, base_url: &str) -> String {
    let mut out = String::new();
    let balance = match (current, usage.latest()) {
        (Some(b), _) => format!("{} credits", format_credits(b)),
        (None, Some(r)) => format!(
            "{} credits (read {})",
            format_credits(r.balance),
            local_time(r.at)
        ),
        (None, None) => "unknown".to_owned(),
    };
    out.push_str(&format!("service  {base_url}\n"));
    out.push_str(&format!("balance  {balance}\n"));
    let period = match (usage.days.first(), usage.days.last()) {
        (Some(first), Some(last)) if days > 1 => format!(" ({} to {})", first.day, last.day),
        _ => String::new(),
    };
    let span = if days == 1 {
        "today".to_owned()
    } else {
        format!("in the last {days} days")
    };
    out.push_str(&format!(
        "spent    {} credits {span}{period}\n",
        format_credits(usage.spent)
    ));

    let spending: Vec<_> = usage.days.iter().filter(|d| d.spent > 0.0).collect();
    if spending.is_empty() {
        out.push_str("\nno spending was recorded in this period\n");
    } else {
        out.push_str(&format!(
            "\n{:<10}  {:>8}  {:>5}\n",
            "day", "spent", "tasks"
        ));
        for d in spending {
            out.push_str(&format!(
                "{:<10}  {:>8}  {:>5}\n",
                d.day,
                format_credits(d.spent),
                d.tasks
            ));
        }
    }

    if usage.tasks.is_empty() {
        out.push_str("\nno tasks were submitted in this period\n");
        return out;
    }
    out.push_str("\nrecent tasks, newest first\n");
    for t in usage.tasks.iter().take(RECENT_TASKS) {
        out.push_str(&task_line(t));
        out.push('\n');
    }
    if usage.tasks.len() > RECENT_TASKS {
        out.push_str(&format!(
            "… and {} more (--json lists them all)\n",
            usage.tasks.len() - RECENT_TASKS
        ));
    }
    out
}

fn task_line(t: &TaskCost) -> String {
    let cost = match t.cost {
        Some(c) => format!("{} credits", format_credits(c)),
        None => "—".to_owned(),
    };
    let prompt = match t.prompt.as_deref() {
        Some(p) => cut(&escape_controls(p), PROMPT_WIDTH),
        None => "(references only)".to_owned(),
    };
    format!(
        "{}  {:<18}  x{}  {:>11}  {}  {prompt}",
        local_time(t.created_at),
        t.status.as_str(),
        t.variants,
        cost,
        escape_controls(&t.task_id)
    )
}

fn local_time(ms: i64) -> String {
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "????-??-?? ??:??".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Status;
    use crate::store::usage::{BalanceReading, DaySpend};

    #[test]
    fn the_report_lists_days_with_spending_and_unknown_costs_as_a_dash() {
        let usage = Usage {
            balances: vec![BalanceReading {
                at: 0,
                balance: 88.0,
            }],
            days: vec![
                DaySpend {
                    day: "2026-03-09".into(),
                    spent: 0.0,
                    tasks: 0,
                },
                DaySpend {
                    day: "2026-03-10".into(),
                    spent: 12.0,
                    tasks: 2,
                },
            ],
            tasks: vec![
                TaskCost {
                    task_id: "task_b".into(),
                    created_at: 0,
                    prompt: Some("a\nb".into()),
                    status: Status::Success,
                    variants: 1,
                    cost: Some(6.0),
                },
                TaskCost {
                    task_id: "task_a".into(),
                    created_at: 0,
                    prompt: None,
                    status: Status::GenerateFailed,
                    variants: 2,
                    cost: None,
                },
            ],
            spent: 12.0,
        };
        let t = text(&usage, Some(88.0), 2, "http://x");
        assert!(t.contains("balance  88 credits\n"), "{t}");
        assert!(
            t.contains("spent    12 credits in the last 2 days (2026-03-09 to 2026-03-10)"),
            "{t}"
        );
        assert!(t.contains("2026-03-10        12      2"), "{t}");
        assert!(
            !t.contains("2026-03-09    "),
            "days without spending are left out: {t}"
        );
        assert!(t.contains("6 credits  task_b  a\\nb"), "{t}");
        assert!(t.contains("—  task_a  (references only)"), "{t}");
        let t = text(&Usage::default(), None, 30, "http://x");
        assert!(t.contains("balance  unknown"), "{t}");
    }
}
