//! `fouro generate`: submit, keep the task id, and with `--wait` follow the task (by polling,
//! or by a completion callback when a listener is configured), read what it cost, and save its
//! images.

use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::callbacks::{Callbacks, slow_poll};
use super::output::status_json;
use super::saving::{Target, save_all};
use super::{Failure, GenerateArgs, GlobalArgs, balance, exit, exit_code, open_history};
use crate::api::input::{ImageSource, check_set};
use crate::api::poll::{PollOptions, wait_for_task};
use crate::api::{Client, Error, Result, TaskRecord};
use crate::store::usage::observed_cost;
use crate::store::{self, History, Params, Reference};

pub async fn run(global: &GlobalArgs, args: GenerateArgs) -> Result<u8, Failure> {
    let prompt = match args.prompt.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Error::Input(format!("cannot read the prompt from standard input: {e}"))
            })?;
            Some(s)
        }
        other => other.map(str::to_owned),
    }
    .map(|p| p.trim().to_owned())
    .filter(|p| !p.is_empty());

    let refs = args
        .refs
        .iter()
        .map(|r| ImageSource::parse(r))
        .collect::<Result<Vec<_>>>()?;
    let mask = args.mask.as_deref().map(ImageSource::parse).transpose()?;
    check_set(&refs, mask.as_ref())?;
    if prompt.is_none() && refs.is_empty() {
        return Err(Error::Input(
            "give a prompt, at least one --ref image, or both: e.g. fouro generate \"a lighthouse at dusk\"".into(),
        )
        .into());
    }
    let account = global.account()?;
    let client = global.client()?;
    if client.api_key().is_none() {
        return Err(Error::MissingKey.into());
    }
    // A task the history cannot take could be lost: refuse before any credit is spent.
    let data_dir = crate::config::data_dir();
    let history = open_history(&data_dir).await?;

    let mut callbacks = listen(global, &args).await;

    let mut ref_list = Vec::with_capacity(refs.len());
    for r in &refs {
        if matches!(r, ImageSource::File(_)) && !args.json {
            eprintln!("uploading {}", r.label());
        }
        ref_list.push(reference(r, &client).await?);
    }
    let mask = match &mask {
        Some(m) => Some(reference(m, &client).await?),
        None => None,
    };
    let params = Params {
        prompt,
        refs: ref_list,
        mask,
        size: args.size,
        variants: args.variants,
        enhance: args.enhance,
        fallback: args.fallback,
        callback_url: args
            .callback_url
            .clone()
            .or_else(|| callbacks.as_ref().map(|c| c.url().to_owned())),
    };

    // The balance right before the call: the task's cost is what it drops by.
    let reader = balance::reader(global);
    let before = match &reader {
        Some(r) => balance::read(r, Some(&history)).await,
        None => None,
    };
    if let Some(b) = before {
        let estimate = estimate(&history, client.base_url(), args.variants.count()).await;
        if let Some(w) = balance::low_balance_warning(b, account.low_balance, estimate) {
            eprintln!("fouro: warning: {w}");
        }
    }

    let task_id = client.generate(&params.request()).await?;
    let created_at = chrono::Utc::now().timestamp_millis();
    if let Some(c) = &callbacks {
        c.expect(&task_id);
    }

    // Keep the id before anything else happens with it: the service cannot list tasks.
    let kept = {
        let (h, dir, id, base) = (
            history.clone(),
            data_dir.clone(),
            task_id.clone(),
            client.base_url().to_owned(),
        );
        let params = params.clone();
        tokio::task::spawn_blocking(move || {
            store::keep_task(Some(&h), &dir, &id, &base, &params, created_at)
        })
        .await
        .unwrap_or_else(|e| {
            Err(format!(
                "task {task_id} could not be recorded ({e}): note the id down"
            ))
        })
    };
    match kept {
        Ok(None) => {}
        Ok(Some(warning)) | Err(warning) => eprintln!("fouro: warning: {warning}"),
    }

    if !args.json {
        println!("{task_id}");
    }
    if !args.wait {
        if args.json {
            println!("{}", status_json(&task_id, None));
        }
        return Ok(exit::OK);
    }

    let mut last = None;
    let followed = follow(
        &client,
        &history,
        &task_id,
        &mut last,
        callbacks.as_mut(),
        args.json,
    )
    .await;
    // The task has ended (well or not): what it cost is what the balance dropped by.
    if let (Some(before), Some(reader), Ok(_) | Err(Error::TaskFailed { .. })) =
        (before, &reader, &followed)
    {
        let success = followed.is_ok();
        cost(reader, &history, &task_id, before, success).await;
    }
    let outcome = match followed {
        Ok(record) => {
            let target = Target {
                history: Some(&history),
                data_dir: &data_dir,
                known: None,
                created_at,
                out: args.out.as_deref(),
                print: !args.json,
            };
            save_all(&client, &record, &target)
                .await
                .map(|files| (record, files))
        }
        Err(e @ Error::TaskFailed { .. }) => Err(e.into()),
        // The task may still finish: say where it is kept and how to pick it up.
        Err(e) => Err(Failure::Said {
            message: format!(
                "{e}; task {task_id} is kept in the history: `fouro sync` follows it and downloads its images"
            ),
            code: exit_code(&e),
        }),
    };
    if let Some(c) = callbacks {
        c.shutdown().await;
    }
    let (record, files) = match outcome {
        Ok(done) => done,
        Err(e) => {
            // Scripts still get the task's last known state on stdout.
            if args.json {
                println!("{}", status_json(&task_id, last.as_ref()));
            }
            return Err(e);
        }
    };
    if args.json {
        let mut obj = status_json(&task_id, Some(&record));
        obj["files"] = json!(
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
        );
        println!("{obj}");
    }
    Ok(exit::OK)
}

/// Starts the callback listener when one is configured and useful: only with `--wait`, and
/// not when `--callback-url` sends the callback elsewhere. A listener that cannot start is
/// reported, and the task is followed by polling alone.
async fn listen(global: &GlobalArgs, args: &GenerateArgs) -> Option<Callbacks> {
    let resolved = global.resolved().ok()?;
    let addr = resolved.callback_listen?;
    if !args.wait || args.callback_url.is_some() {
        // Said only when asked for on this command line; a profile's listener is simply unused.
        if global.callback_listen.is_some() {
            let why = if args.wait {
                "--callback-url sends the callback elsewhere"
            } else {
                "only `generate --wait` listens"
            };
            eprintln!("fouro: note: --callback-listen is not used: {why}");
        }
        return None;
    }
    match Callbacks::start(
        addr,
        resolved.webhook_key.as_ref(),
        resolved.callback_public_url.as_deref(),
    )
    .await
    {
        Ok(c) => {
            tracing::info!(url = c.url(), "waiting for the callback");
            Some(c)
        }
        Err(e) => {
            eprintln!(
                "fouro: warning: cannot listen for callbacks on {addr} ({e}); following the task by polling"
            );
            None
        }
    }
}

/// What this submit will probably cost: the usual cost of an image, as observed, times the
/// variants; `None` until costs were observed.
async fn estimate(history: &History, base_url: &str, variants: u32) -> Option<f64> {
    let base = base_url.to_owned();
    let now = chrono::Utc::now().timestamp_millis();
    let offset = chrono::Local::now().offset().local_minus_utc();
    let usage = history
        .blocking(move |h| h.usage(&base, now, offset, 30))
        .await;
    usage
        .ok()?
        .cost_per_image()
        .map(|c| c * f64::from(variants))
}

/// Reads the balance after the task and keeps the task's observed cost. A failed task is
/// refunded: its cost is kept only when the refund shows already (0), never a charge that may
/// still come back.
async fn cost(reader: &Client, history: &History, task_id: &str, before: f64, success: bool) {
    let Some(after) = balance::read(reader, Some(history)).await else {
        return;
    };
    let Some(cost) = observed_cost(before, after).filter(|c| success || *c == 0.0) else {
        return;
    };
    let id = task_id.to_owned();
    if let Err(e) = history.blocking(move |h| h.set_cost(&id, cost)).await {
        tracing::warn!("the task's cost was not kept: {e}");
    }
}

/// A reference as the history keeps it: a local file by its absolute path (and uploaded), a
/// URL as itself.
async fn reference(source: &ImageSource, client: &Client) -> Result<Reference> {
    let origin = match source {
        ImageSource::Url(u) => u.clone(),
        ImageSource::File(p) => std::path::absolute(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
    };
    Ok(Reference {
        origin,
        url: source.resolve(client).await?,
    })
}

/// Follows the task until it ends, drawing a progress bar on stderr when it is a terminal,
/// recording every answer in the history, and keeping the last one in `last`. With a
/// listener, the callback ends the wait and polling is only the slow fallback.
async fn follow(
    client: &Client,
    history: &History,
    task_id: &str,
    last: &mut Option<TaskRecord>,
    callbacks: Option<&mut Callbacks>,
    json: bool,
) -> Result<TaskRecord> {
    let bar = progress_bar();
    let result = match callbacks {
        None => {
            poll(
                client,
                history,
                task_id,
                last,
                &bar,
                &PollOptions::default(),
            )
            .await
        }
        Some(callbacks) => {
            let opts = slow_poll();
            let polling = poll(client, history, task_id, last, &bar, &opts);
            tokio::pin!(polling);
            loop {
                tokio::select! {
                    polled = &mut polling => {
                        callbacks.forget(task_id);
                        break polled;
                    }
                    payload = callbacks.next() => {
                        let Some(record) = callbacks.confirm(client, &payload).await else {
                            continue;
                        };
                        let kept = keep_record(history, &record);
                        bar.suspend(|| {
                            if let Err(e) = kept {
                                eprintln!("fouro: warning: {e}");
                            }
                            if !json {
                                eprintln!("the result came through the callback");
                            }
                        });
                        break ended(record);
                    }
                }
            }
        }
    };
    bar.finish_and_clear();
    result
}

/// Polls within the contract's limits until the task ends.
async fn poll(
    client: &Client,
    history: &History,
    task_id: &str,
    last: &mut Option<TaskRecord>,
    bar: &ProgressBar,
    opts: &PollOptions,
) -> Result<TaskRecord> {
    let mut warned = false;
    wait_for_task(client, task_id, opts, |r| {
        bar.set_message(r.status.as_str());
        bar.set_position((r.progress * 100.0).round() as u64);
        *last = Some(r.clone());
        // One quick statement, and the poll waits close to a second between rounds.
        if let Err(e) = keep_record(history, r)
            && !warned
        {
            warned = true;
            bar.suspend(|| eprintln!("fouro: warning: {e}"));
        }
    })
    .await
}

/// Records a task's state in the history; the error says what was not kept.
fn keep_record(history: &History, record: &TaskRecord) -> std::result::Result<(), String> {
    history
        .record(record, chrono::Utc::now().timestamp_millis())
        .map(drop)
        .map_err(|e| format!("could not record the task's state: {e}"))
}

/// A final record as `wait_for_task` gives it: a failed task is an error.
fn ended(record: TaskRecord) -> Result<TaskRecord> {
    if record.status.is_failure() {
        return Err(Error::TaskFailed {
            task_id: record.task_id,
            status: record.status,
            code: record.error_code,
            message: record.error_message,
        });
    }
    Ok(record)
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:10} [{bar:30}] {pos:>3}%  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("GENERATING");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
