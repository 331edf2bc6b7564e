//! `fouro history`: past generations, newest first, narrowed by text, status and aspect;
//! and `--move-aside`, the way out when the database cannot be read.

use std::io::IsTerminal;

use super::output::{entry_json, entry_line, entry_prefix_width};
use super::{Failure, HistoryArgs, exit, open_history};
use crate::api::Error;
use crate::store::history::{FILE_NAME, move_aside};
use crate::store::text::escape_controls;
use crate::store::{COUNT_PAST, History, ID_UNKNOWN, InFlight, Query, StoreError};

/// The prompt's width when stdout is not a terminal, and its most on one.
const PROMPT_WIDTH: usize = 60;
/// The least a prompt gets however narrow the terminal.
const MIN_PROMPT_WIDTH: usize = 20;

pub async fn run(args: &HistoryArgs) -> Result<u8, Failure> {
    if args.move_aside {
        return move_database_aside().await;
    }
    if args.check {
        return check_database().await;
    }
    let history = open_history(&crate::config::data_dir()).await?;
    let query = Query {
        search: args.search.clone(),
        status: args.status,
        size: args.aspect,
        newest: None,
    };
    let limit = args.limit as usize;
    if args.json || args.jsonl {
        return print_json(&history, query, limit, args.jsonl).await;
    }
    let (entries, (total, more)) = {
        let query = query.clone();
        history
            .blocking(move |h| {
                Ok((
                    h.page(&query, 0, limit)?,
                    h.count_shown(&query, 0, limit.max(COUNT_PAST))?,
                ))
            })
            .await?
    };
    // Generate calls cut off before their answer: shown first, whatever the filter.
    let in_flight = history.blocking(|h| h.in_flight()).await?;

    for f in in_flight.iter().rev() {
        crate::cli::print::outln!("{}", in_flight_line(f));
    }
    let columns = terminal_columns();
    for entry in &entries {
        let width = match columns {
            Some(cols) => cols
                .saturating_sub(entry_prefix_width(entry) + 2)
                .clamp(MIN_PROMPT_WIDTH, PROMPT_WIDTH),
            None => PROMPT_WIDTH,
        };
        crate::cli::print::outln!("{}", entry_line(entry, width));
    }
    // Counts go to stderr: stdout stays one line per entry for scripts.
    if entries.is_empty() && in_flight.is_empty() {
        if query == Query::default() {
            crate::cli::print::errln!(
                "the history is empty: tasks appear here once `fouro generate` submits them"
            );
        } else {
            crate::cli::print::errln!("no entry matches");
        }
    } else if total > entries.len() || more {
        let plus = if more { "+" } else { "" };
        crate::cli::print::errln!(
            "{} of {total}{plus} entries shown: raise --limit to see more",
            entries.len()
        );
    }
    Ok(exit::OK)
}

/// The entries as JSON, written a batch at a time as they are read (a JSON array, or one
/// object per line with `lines`): the memory is that of one batch, whatever the limit.
async fn print_json(
    history: &History,
    query: Query,
    limit: usize,
    lines: bool,
) -> Result<u8, Failure> {
    let written = history
        .blocking(move |h| {
            let mut first = true;
            let mut failed = None;
            h.for_each_batch(&query, limit, |batch| {
                let mut pieces = Vec::with_capacity(batch.len());
                for entry in &batch {
                    match entry_json(entry) {
                        Ok(v) if lines => pieces.push(v.to_string()),
                        Ok(v) => {
                            pieces.push(format!("{}{v}", if first { "[" } else { "," }));
                            first = false;
                        }
                        Err(e) => {
                            failed = Some(e.to_string());
                            return false;
                        }
                    }
                }
                crate::cli::print::stdout_json_pieces(&pieces, if lines { "\n" } else { "" });
                !crate::cli::print::stdout_closed()
            })?;
            if !lines {
                let end = if first { "[]" } else { "]" };
                crate::cli::print::stdout_json_pieces(&[end.to_owned()], "\n");
            }
            Ok(failed)
        })
        .await?;
    match written {
        None => Ok(exit::OK),
        Some(e) => Err(Failure::Said {
            message: format!("cannot write the history as JSON: {e}"),
            code: exit::UNEXPECTED,
        }),
    }
}

/// A time in milliseconds since the epoch, as local date and minute.
pub(super) fn local_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A generate call whose answer never came: when, what was asked, and what to do.
fn in_flight_line(f: &InFlight) -> String {
    let at = local_minute(f.started_at);
    let prompt = f
        .params
        .prompt
        .as_deref()
        .map(escape_controls)
        .unwrap_or_default();
    let prompt: String = prompt.chars().take(PROMPT_WIDTH).collect();
    format!(
        "{at}  SUBMITTED  {}  x{}  -  {prompt}  {ID_UNKNOWN}",
        f.params.size.as_str(),
        f.params.variants.count()
    )
}

/// The terminal's width, when stdout is one.
fn terminal_columns() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(cols, _)| usize::from(cols))
}

/// Checks the whole database on request (never on the way to opening: its time grows with
/// the history). A damaged one is left as it is, with the way out named.
async fn check_database() -> Result<u8, Failure> {
    let history = open_history(&crate::config::data_dir()).await?;
    let problems = history.blocking(|h| h.check()).await?;
    let path = history.path().display();
    if problems.is_empty() {
        crate::cli::print::outln!("the history database {path} is sound");
        return Ok(exit::OK);
    }
    // SQLite names pages and indexes; nothing here comes from outside but is escaped anyway.
    let shown: Vec<String> = problems
        .iter()
        .take(5)
        .map(|p| escape_controls(p).into_owned())
        .collect();
    Err(Failure::Said {
        message: format!(
            "the history database {path} is damaged ({} problems found: {}); it was left as it is. Run `fouro history --move-aside` to move it aside and start a fresh history (nothing is deleted), or restore it from a backup",
            problems.len(),
            shown.join("; ")
        ),
        code: exit::UNEXPECTED,
    })
}

/// Moves a database that cannot be opened aside (never deletes it). A healthy one, or one
/// that is merely locked or unreachable, stays where it is.
async fn move_database_aside() -> Result<u8, Failure> {
    let data_dir = crate::config::data_dir();
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        crate::cli::print::outln!(
            "there is no history database at {}: nothing to move",
            path.display()
        );
        return Ok(exit::OK);
    }
    match open_history(&data_dir).await {
        Ok(_) => {
            crate::cli::print::outln!(
                "the history database {} opens fine: nothing was moved",
                path.display()
            );
            Ok(exit::OK)
        }
        Err(StoreError::Corrupt { .. } | StoreError::Newer { .. }) => {
            let moved = tokio::task::spawn_blocking({
                let path = path.clone();
                move || move_aside(&path)
            })
            .await
            .map_err(|e| Failure::Said {
                message: format!("internal error: {e}"),
                code: exit::UNEXPECTED,
            })?
            .map_err(|e| Error::io(format!("cannot move {} aside", path.display()), e))?;
            crate::cli::print::outln!(
                "moved {} to {}; a fresh history starts on the next run (the old file is kept)",
                path.display(),
                moved.display()
            );
            Ok(exit::OK)
        }
        // Locked by another process, or a permission problem: moving would not help.
        Err(e) => Err(e.into()),
    }
}
