//! `fouro generate`: submit, keep the task id, and with `--wait` follow the task (by polling,
//! or by a completion callback when a listener is configured), read what it cost, and save its
//! images.

use std::io::{IsTerminal, Read};
use std::ops::ControlFlow;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::callbacks::{Callbacks, slow_poll};
use super::output::status_json;
use super::saving::{Target, save_all};
use super::{Failure, GenerateArgs, GlobalArgs, exit, exit_code, open_history};
use crate::api::input::{ImageSource, check_set};
use crate::api::poll::PollOptions;
use crate::api::{Client, Error, Result, TaskRecord};
use crate::tasks::{Progress, Request, Stage, Workflow, policy};

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
    let workflow = Workflow::new(history.clone(), data_dir.clone());

    let mut callbacks = listen(global, &args).await;
    let callback_url = args
        .callback_url
        .clone()
        .or_else(|| callbacks.as_ref().map(|c| c.url().to_owned()));
    let per_image = workflow.cost_per_image(client.base_url()).await;
    let request = Request {
        prompt,
        refs,
        mask,
        size: args.size,
        variants: args.variants,
        enhance: args.enhance,
        fallback: args.fallback,
    };
    let json = args.json;
    let submitted = workflow
        .submit(
            &client,
            request,
            callback_url,
            &CancellationToken::new(),
            |stage| match stage {
                Stage::Uploading { name, .. } if !json => {
                    crate::cli::print::errln!("uploading {name}")
                }
                Stage::Creating {
                    balance: Some(balance),
                } => {
                    let short = policy::shortfall(
                        balance,
                        account.low_balance,
                        per_image,
                        args.variants.count(),
                    );
                    if let Some(s) = short {
                        crate::cli::print::errln!("fouro: warning: {}", s.warning());
                    }
                }
                Stage::Created { task_id } => {
                    if let Some(c) = &callbacks {
                        c.expect(&task_id);
                    }
                }
                _ => {}
            },
        )
        .await?;
    let task_id = submitted.task_id.clone();
    if let Some(warning) = &submitted.warning {
        crate::cli::print::errln!("fouro: warning: {warning}");
    }

    if !args.json {
        crate::cli::print::outln!("{task_id}");
    }
    if !args.wait {
        if args.json {
            crate::cli::print::stdout_json(&status_json(&task_id, None));
        }
        return Ok(exit::OK);
    }

    let mut last = None;
    let opts = match callbacks {
        Some(_) => slow_poll(global.poll_options()),
        None => global.poll_options(),
    };
    let followed = follow(
        &workflow,
        &client,
        &task_id,
        &opts,
        &mut last,
        callbacks.as_mut(),
        args.json,
    )
    .await;
    // The task has ended (well or not): what it cost is what the balance dropped by.
    if let Ok(record) = &followed {
        workflow
            .observe_cost(&client, &task_id, !record.status.is_failure())
            .await;
    }
    let followed = followed.and_then(ended);
    let outcome = match followed {
        Ok(record) => {
            let target = Target {
                history: Some(&history),
                data_dir: &data_dir,
                known: None,
                created_at: submitted.created_at,
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
    // An id the disk never took is said once more, where a script sees it last.
    for id in workflow.unkept() {
        crate::cli::print::errln!(
            "fouro: warning: task {id} is still not recorded on disk: note the id down (`fouro status {id}` follows it)"
        );
    }
    let (record, files) = match outcome {
        Ok(done) => done,
        Err(e) => {
            // Scripts still get the task's last known state on stdout.
            if args.json {
                crate::cli::print::stdout_json(&status_json(&task_id, last.as_ref()));
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
        crate::cli::print::stdout_json(&obj);
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
            crate::cli::print::errln!("fouro: note: --callback-listen is not used: {why}");
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
            crate::cli::print::errln!(
                "fouro: warning: cannot listen for callbacks on {addr} ({e}); following the task by polling"
            );
            None
        }
    }
}

/// Follows the task until it ends, drawing a progress bar on stderr when it is a terminal
/// (each retry said on it, or on a line of its own otherwise), every answer recorded in the
/// history first, the last one kept in `last`. With a listener, the callback ends the wait
/// and polling is only the slow fallback.
async fn follow(
    workflow: &Workflow,
    client: &Client,
    task_id: &str,
    opts: &PollOptions,
    last: &mut Option<TaskRecord>,
    callbacks: Option<&mut Callbacks>,
    json: bool,
) -> Result<TaskRecord> {
    let bar = progress_bar();
    let stop = CancellationToken::new();
    let polling = workflow.follow(client, task_id, opts, &stop, |p| {
        match p {
            Progress::Update(r) => {
                bar.set_message(r.status.as_str());
                bar.set_position((r.progress * 100.0).round() as u64);
                *last = Some(r.clone());
            }
            Progress::Retry(retry) => {
                if bar.is_hidden() {
                    crate::cli::print::errln!("fouro: {}", retry.line());
                } else {
                    bar.set_message(format!(
                        "retry {} in {} s",
                        retry.attempt,
                        retry.next_in.as_secs_f64().ceil() as u64
                    ));
                    bar.suspend(|| crate::cli::print::errln!("fouro: {}", retry.line()));
                }
            }
            Progress::Warning(w) => {
                bar.suspend(|| crate::cli::print::errln!("fouro: warning: {w}"))
            }
        }
        ControlFlow::Continue(())
    });
    let result = match callbacks {
        None => polling.await,
        Some(callbacks) => {
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
                        let kept = workflow.record(&record).await;
                        bar.suspend(|| {
                            if let Some(e) = kept {
                                crate::cli::print::errln!("fouro: warning: {e}");
                            }
                            if !json {
                                crate::cli::print::errln!("the result came through the callback");
                            }
                        });
                        break Ok(record);
                    }
                }
            }
        }
    };
    bar.finish_and_clear();
    result
}

/// A final record: a failed task is an error.
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
