//! `fouro batch FILE`: many tasks from a file, each through the same workflow as
//! `generate --wait`. It reads every line first (a bad one stops it before anything is spent),
//! shows the plan and the balance and asks, then runs at the service's pace with a manifest
//! written as it goes; run again (or `--resume`), it follows what was submitted and submits
//! only what was not.

mod input;
mod manifest;
mod plan;
mod recover;
mod runner;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::Digest;
use tokio_util::sync::CancellationToken;

use super::{Failure, GlobalArgs, exit, open_history};
use crate::api::types::format_credits;
use crate::api::{Error, FallbackModel, Size, Variants};
use crate::tasks::Workflow;
use input::{Defaults, Entry};
use manifest::{Event, Known, Manifest, Record};
use plan::{Plan, show_budget, show_plan};
use runner::{Budget, Run, Tally};

#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// One prompt per line, or JSON objects with `generate`'s options ({"prompt", "size",
    /// "variants", "refs", "mask", "enhance", "fallback"}); `#` comments; `-` reads standard input
    pub file: PathBuf,
    /// Aspect ratios, each line in each: e.g. 1:1,3:2 (a line's own "size" wins)
    #[arg(long, value_delimiter = ',', default_value = "1:1", value_parser = super::options::one_of::<Size>(super::SIZES))]
    pub size: Vec<Size>,
    /// Numbers of images, each line with each: e.g. 1,2 (a line's own "variants" wins)
    #[arg(long, value_delimiter = ',', default_value = "1", value_parser = super::options::one_of::<Variants>(super::VARIANTS))]
    pub variants: Vec<Variants>,
    /// Let the service enhance every prompt
    #[arg(long)]
    pub enhance: bool,
    /// Fall back to this model if the main one fails
    #[arg(long, value_parser = super::options::one_of::<FallbackModel>(super::FALLBACKS))]
    pub fallback: Option<FallbackModel>,
    /// At most this many tasks generating at once
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Stop submitting before the estimated credits of what was submitted would pass N
    #[arg(long, value_name = "N", value_parser = parse_credits)]
    pub max_credits: Option<f64>,
    /// Submit without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Go on with the batch of an existing manifest (running the same command again does too)
    #[arg(long)]
    pub resume: bool,
    /// Submit again the lines whose generate call was cut off (the service may have made them)
    #[arg(long)]
    pub resubmit_unknown: bool,
    /// The manifest [default: FILE.manifest.jsonl; for `-`, one in the data directory]
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Also copy the images into this directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub connection: super::options::Connection,
    #[command(flatten)]
    pub following: super::options::Following,
}

fn parse_credits(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of credits, e.g. 100")),
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::Said {
        message: message.into(),
        code: exit::USAGE,
    }
}

pub async fn run(global: &GlobalArgs, args: BatchArgs) -> Result<u8, Failure> {
    let stdin = args.file == Path::new("-");
    let text = manifest::read_input(&args.file).map_err(usage)?;
    let base_dir = match args.file.parent() {
        Some(d) if !stdin && !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let defaults = Defaults {
        sizes: &args.size,
        variants: &args.variants,
        enhance: args.enhance,
        fallback: args.fallback,
        base_dir: &base_dir,
    };
    let entries = input::parse(&text, &defaults).map_err(|errors| {
        let shown: Vec<&str> = errors.iter().take(10).map(String::as_str).collect();
        let more = errors.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!("\n  … and {more} more")
        } else {
            String::new()
        };
        usage(format!(
            "{} line(s) of {} cannot be used; nothing was submitted:\n  {}{more}",
            errors.len(),
            args.file.display(),
            shown.join("\n  ")
        ))
    })?;
    if entries.is_empty() {
        return Err(usage(format!(
            "{} has no prompt in it: write one per line, or one JSON object per line",
            args.file.display()
        )));
    }

    let client = global.client()?;
    if client.api_key().is_none() {
        return Err(Error::MissingKey.into());
    }
    let data_dir = crate::config::data_dir();
    let history = open_history(&data_dir).await?;
    let workflow = Workflow::new(history, data_dir.clone());

    let manifest_path = match (&args.manifest, stdin) {
        (Some(p), _) => p.clone(),
        (None, false) => manifest::beside(&args.file),
        (None, true) => data_dir.join("batches").join(format!(
            "stdin-{}.manifest.jsonl",
            hex(&sha2::Sha256::digest(text.as_bytes())[..8])
        )),
    };
    if args.resume && !manifest_path.exists() {
        return Err(usage(format!(
            "there is no manifest at {} to resume: run without --resume to start the batch",
            manifest_path.display()
        )));
    }
    if stdin && args.manifest.is_none() {
        let dir = data_dir.join("batches");
        crate::store::private::create_dir(&dir).map_err(|e| Failure::Said {
            message: format!("cannot create {}: {e}", dir.display()),
            code: exit::UNEXPECTED,
        })?;
        crate::cli::print::errln!("manifest: {}", manifest_path.display());
    }
    let (manifest, records) = Manifest::open(&manifest_path).map_err(|m| Failure::Said {
        message: m,
        code: exit::UNEXPECTED,
    })?;
    let mut known = manifest::known(&records);
    let planned: HashSet<_> = entries.iter().map(Entry::key).collect();
    let elsewhere = known.keys().filter(|k| !planned.contains(k)).count();
    if elsewhere > 0 {
        crate::cli::print::errln!(
            "fouro: note: {elsewhere} task(s) of {} are not in this batch (was it run with another --size or --variants?); they are left alone",
            manifest_path.display()
        );
    }
    check_against_history(
        &workflow,
        client.base_url(),
        &data_dir,
        &manifest,
        &entries,
        &mut known,
    )
    .await?;
    let plan = Plan::new(&entries, &known, args.resubmit_unknown)
        .map_err(|m| usage(format!("{m} (manifest {})", manifest_path.display())))?;

    let per_image = workflow.cost_per_image(client.base_url()).await;
    let balance = workflow.read_balance(&client).await?;
    show_plan(&plan, per_image, balance, &manifest_path);
    let budget = match (args.max_credits, per_image) {
        (Some(max), Some(per_image)) => Some(Budget {
            max,
            per_image,
            spent: plan.submitted_images as f64 * per_image,
        }),
        (Some(_), None) => {
            return Err(usage(
                "--max-credits needs a cost per image, and none has been observed yet: run one `fouro generate --wait` first, or leave --max-credits out",
            ));
        }
        (None, _) => None,
    };
    if let Some(b) = &budget {
        show_budget(&plan, b);
    }
    // The rule every submit path warns by, for the whole batch at once.
    let low_balance = global.account()?.low_balance;
    if let Some(short) =
        crate::tasks::policy::shortfall(balance, low_balance, per_image, plan.to_submit_images)
    {
        // The question itself comes next, with the count.
        let said = if args.yes {
            short.warning()
        } else {
            short
                .question()
                .trim_end_matches(": submit anyway?")
                .to_owned()
        };
        crate::cli::print::errln!("fouro: warning: {said}");
    }
    if plan.jobs.is_empty() {
        return Ok(finish(&plan, &Tally::default(), &manifest_path, &args));
    }
    if !args.yes && !confirm(stdin, &plan).await? {
        crate::cli::print::errln!("nothing was submitted");
        return Ok(exit::NONE);
    }

    let bar = progress_bar(plan.jobs.len());
    let run = Arc::new(Run {
        workflow,
        client,
        manifest,
        poll: global.poll_options(),
        pace: runner::pace(),
        out: args.out.clone(),
        bar,
        stop: CancellationToken::new(),
        halt: CancellationToken::new(),
    });
    let interrupt = tokio::spawn(on_interrupt(run.stop.clone(), run.bar.clone()));
    let tally = runner::run_all(
        run.clone(),
        plan.jobs.clone(),
        usize::from(args.parallel),
        budget,
    )
    .await;
    interrupt.abort();
    run.bar.finish_and_clear();
    if let Some(next) = tally.over_budget {
        crate::cli::print::errln!(
            "stopped submitting: the next task would take the estimate to ~{} credits, past --max-credits {}",
            format_credits(next),
            format_credits(args.max_credits.unwrap_or_default())
        );
    }
    if run.stop.is_cancelled() {
        crate::cli::print::errln!(
            "interrupted: tasks still generating are kept in the history and the manifest; `fouro sync` downloads their images, and the same batch again follows them and submits the rest"
        );
    }
    for id in run.workflow.unkept() {
        crate::cli::print::errln!(
            "fouro: warning: task {id} is still not recorded on disk: note the id down (`fouro status {id}` follows it)"
        );
    }
    Ok(finish(&plan, &tally, &manifest_path, &args))
}

pub(crate) type KnownTasks = HashMap<(usize, Size, Variants), (String, Known)>;

/// Asks the history about every line whose generate call the manifest saw start and never
/// end: a task it kept is followed, a call never made is submitted; only a call that may have
/// reached the service stays cut off. A task only the manifest knows is kept in the history.
async fn check_against_history(
    workflow: &Workflow,
    base_url: &str,
    data_dir: &Path,
    manifest: &Manifest,
    entries: &[Entry],
    known: &mut KnownTasks,
) -> Result<(), Failure> {
    let mut claimed: HashSet<String> = known
        .values()
        .filter_map(|(_, k)| match k {
            Known::Running { task_id, .. } => Some(task_id.clone()),
            Known::Ended(r) => r.task_id.clone(),
            Known::Unknown { .. } => None,
        })
        .collect();
    for e in entries {
        let since = match known.get(&e.key()) {
            Some((text, Known::Unknown { since })) if *text == e.text => *since,
            Some((text, Known::Running { task_id, at })) if *text == e.text => {
                let (dir, base, entry) = (data_dir.to_owned(), base_url.to_owned(), e.clone());
                let (id, at) = (task_id.clone(), *at);
                let kept = workflow
                    .history()
                    .blocking(move |h| Ok(recover::keep_known(h, &dir, &base, &entry, &id, at)))
                    .await?;
                if let Err(why) = kept {
                    crate::cli::print::errln!("fouro: warning: {why}");
                }
                continue;
            }
            _ => continue,
        };
        let (base, entry, taken) = (base_url.to_owned(), e.clone(), claimed.clone());
        let found = workflow
            .history()
            .blocking(move |h| recover::cut_off(h, &base, &entry, since, &taken))
            .await?;
        let written = match found {
            recover::Found::InFlight => continue,
            recover::Found::Task(task_id) => {
                let mut r = Record::new(e, Event::Submitted);
                r.task_id = Some(task_id.clone());
                claimed.insert(task_id.clone());
                let at = r.at;
                known.insert(e.key(), (e.text.clone(), Known::Running { task_id, at }));
                r
            }
            recover::Found::Nothing => {
                let mut r = Record::new(e, Event::Refused);
                r.error = Some("the generate call was never made".into());
                known.remove(&e.key());
                r
            }
        };
        manifest.append(&written).map_err(|err| Failure::Said {
            message: format!("cannot write {}: {err}", manifest.path().display()),
            code: exit::UNEXPECTED,
        })?;
    }
    Ok(())
}

/// Asks on the terminal; refuses where there is none to ask on.
async fn confirm(stdin_is_input: bool, plan: &Plan) -> Result<bool, Failure> {
    let terminal =
        !stdin_is_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !terminal {
        return Err(usage(
            "the plan above is not confirmed: there is no terminal to ask on, so pass --yes to submit it",
        ));
    }
    let submit = plan.jobs.len() - plan.following();
    crate::cli::print::err!("submit {submit} task(s)? [y/N] ");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The first Ctrl-C stops submitting and following; a second one leaves at once.
async fn on_interrupt(stop: CancellationToken, bar: ProgressBar) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.cancel();
    bar.suspend(|| {
        crate::cli::print::errln!(
            "stopping: nothing more is submitted (a call under way is answered first); Ctrl-C again leaves at once"
        )
    });
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

fn progress_bar(len: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} tasks ended  {elapsed_precise}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

/// The summary, and the exit code: all, some or none of the batch's tasks succeeded.
fn finish(plan: &Plan, tally: &Tally, manifest: &Path, args: &BatchArgs) -> u8 {
    let succeeded = plan.done.0 + tally.succeeded;
    let failed = plan.done.1 + tally.failed;
    let unknown = plan.unknown.len() + tally.unknown;
    crate::cli::print::errln!(
        "{} task(s): {succeeded} succeeded, {failed} failed, {} unfinished, {} not submitted, {unknown} cut off; manifest: {}",
        plan.tasks,
        tally.unfinished,
        tally.not_submitted,
        manifest.display()
    );
    if tally.unfinished + tally.not_submitted > 0 {
        crate::cli::print::errln!("to go on: {}", resume_command(args));
    }
    if succeeded == plan.tasks {
        exit::OK
    } else if succeeded == 0 {
        exit::NONE
    } else {
        exit::SOME
    }
}

/// The command that goes on with this batch: the same input, matrix and manifest.
fn resume_command(args: &BatchArgs) -> String {
    let list = |items: Vec<String>| items.join(",");
    let mut cmd = vec!["fouro batch".to_owned(), quoted(&args.file)];
    if args.size != [Size::Square] {
        cmd.push(format!(
            "--size {}",
            list(args.size.iter().map(|s| s.to_string()).collect())
        ));
    }
    if args.variants != [Variants::One] {
        cmd.push(format!(
            "--variants {}",
            list(args.variants.iter().map(|v| v.to_string()).collect())
        ));
    }
    if args.enhance {
        cmd.push("--enhance".into());
    }
    if let Some(f) = args.fallback {
        cmd.push(format!("--fallback {f}"));
    }
    if let Some(m) = &args.manifest {
        cmd.push(format!("--manifest {}", quoted(m)));
    }
    if let Some(o) = &args.out {
        cmd.push(format!("--out {}", quoted(o)));
    }
    cmd.push("--resume".into());
    let cmd = cmd.join(" ");
    if args.file == Path::new("-") {
        format!("give the same input again to `{cmd}`")
    } else {
        format!("`{cmd}`")
    }
}

/// A path as a shell reads it back.
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
