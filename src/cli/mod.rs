//! The command line: global options, subcommands, and the exit codes scripts rely on.

mod balance;
mod callbacks;
mod commands;
mod emulator;
mod generate;
mod history;
mod key;
mod output;
pub mod print;
mod profile;
mod saving;
mod settings;
mod sync;
mod usage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::api::poll::PollOptions;
use crate::api::{self, ApiKey, Client, ClientConfig, ErrorClass, FallbackModel, Size, Variants};
use crate::config::Resolved;
use crate::store::{History, StatusFilter, StoreError};

pub use settings::{Account, ENV_PROFILE};

#[derive(Debug, Parser)]
#[command(name = "fouro", version, about = "A terminal client for the 4o Image API", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Args)]
pub struct GlobalArgs {
    /// The profile of config.toml to use [env: FOURO_PROFILE] [default: the default profile,
    /// or the only one]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// API key [env: FOURO_API_KEY] (prefer `fouro key set` or the environment: arguments show
    /// up in process lists)
    #[arg(long, global = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Base URL of the API [env: FOURO_BASE_URL] [default: the profile's, else
    /// https://4oimageapiio.erweima.ai]
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Base URL of the file-upload endpoints [env: FOURO_UPLOAD_URL] [default: the base URL]
    #[arg(long, global = true, value_name = "URL")]
    pub upload_url: Option<String>,
    /// With `generate --wait`: receive the completion callback on this address, e.g.
    /// 127.0.0.1:8787 [env: FOURO_CALLBACK_LISTEN]
    #[arg(long, global = true, value_name = "ADDR")]
    pub callback_listen: Option<SocketAddr>,
    /// The public URL the service posts callbacks to, e.g. a tunnel to --callback-listen
    /// [env: FOURO_CALLBACK_PUBLIC_URL]
    #[arg(long, global = true, value_name = "URL", value_parser = parse_http_url)]
    pub callback_public_url: Option<String>,
    /// Seconds to wait for one HTTP answer
    #[arg(
        long,
        global = true,
        env = "FOURO_TIMEOUT",
        default_value_t = 60,
        value_name = "SECS"
    )]
    pub timeout: u64,
    /// How many times a failed call that is safe to repeat is tried again
    #[arg(
        long,
        global = true,
        env = "FOURO_RETRIES",
        default_value_t = 4,
        value_name = "N"
    )]
    pub retries: u32,
    /// Minutes to keep following a task (`generate --wait`, `sync`) through a slow queue and
    /// a service that fails for a while; the task stays resumable after
    #[arg(
        long,
        global = true,
        env = "FOURO_FOLLOW_LIMIT",
        default_value_t = 15,
        value_name = "MINUTES",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub follow_limit: u64,
    /// config.toml and the environment, resolved on first use (clones share it).
    #[arg(skip)]
    account: Arc<OnceLock<Result<Account, (String, u8)>>>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a generation (kept in the history); with --wait, follow it and download the images
    Generate(GenerateArgs),
    /// Show a task's status
    Status {
        task_id: String,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Show the credit balance; with --usage, what was spent and on which tasks
    Credits(CreditsArgs),
    /// Download a finished task's images into the data directory (and --out)
    Download {
        /// The task id `fouro generate` printed
        task_id: String,
        /// Also copy the images into this directory
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Settle the history: follow unfinished tasks, download missing images, expire old ones
    Sync {
        /// Print one JSON object: the report
        #[arg(long)]
        json: bool,
    },
    /// List past generations, newest first
    History(HistoryArgs),
    /// Manage the profiles of config.toml: one per account or service
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Set a profile's API key (read from standard input), or check the key in force
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Run the built-in emulator of the service
    Emulator(emulator::EmulatorArgs),
    /// Open the app against a built-in emulator: no key, no network
    Demo(DemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seconds each task takes
    #[arg(long, default_value_t = 6.0, value_name = "SECS", value_parser = parse_seconds)]
    pub duration: f64,
    /// Starting credit balance
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(0..))]
    pub credits: i64,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// The prompt; `-` reads it from standard input
    pub prompt: Option<String>,
    /// Aspect ratio
    #[arg(long, default_value = "1:1", value_parser = parse_size)]
    pub size: Size,
    /// A reference image: a local file (uploaded first) or a URL; up to 5
    #[arg(long = "ref", value_name = "PATH_OR_URL")]
    pub refs: Vec<String>,
    /// A mask (black = edit, white = keep); only with at most one reference
    #[arg(long, value_name = "PATH_OR_URL")]
    pub mask: Option<String>,
    /// Number of images: 1, 2 or 4
    #[arg(long, default_value = "1", value_parser = parse_variants)]
    pub variants: Variants,
    /// Let the service enhance the prompt
    #[arg(long)]
    pub enhance: bool,
    /// Fall back to this model if the main one fails: FLUX_MAX or GPT_IMAGE_1
    #[arg(long, value_parser = parse_fallback)]
    pub fallback: Option<FallbackModel>,
    /// Where the service should POST the result
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// Wait for the task to end and download its images into the data directory
    #[arg(long)]
    pub wait: bool,
    /// Also copy the downloaded images into this directory (with --wait)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreditsArgs {
    /// Also show what was spent per day and what each recent task cost
    #[arg(long)]
    pub usage: bool,
    /// With --usage: over this many days, today included
    #[arg(long, default_value_t = 30, value_name = "N", requires = "usage",
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Only entries whose prompt or task id contains this text
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only entries in this state: generating, success, failed or expired
    #[arg(long, value_parser = parse_status_filter)]
    pub status: Option<StatusFilter>,
    /// Only entries of this aspect ratio: 1:1, 3:2 or 2:3
    #[arg(long, value_parser = parse_size)]
    pub aspect: Option<Size>,
    /// At most this many entries
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Print a JSON array of entries (written as it is read: any --limit in constant memory)
    #[arg(long)]
    pub json: bool,
    /// Print one JSON object per line (JSON Lines), as it is read
    #[arg(long, conflicts_with = "json")]
    pub jsonl: bool,
    /// Move a history database that cannot be read (or that a newer fouro wrote) aside, so
    /// that a fresh one starts; nothing is deleted
    #[arg(long, conflicts_with_all = ["search", "status", "aspect", "json", "jsonl"])]
    pub move_aside: bool,
    /// Read the whole database and check every page and index (its time grows with the
    /// history); exit 0 when it is sound, 1 when it is damaged
    #[arg(long, conflicts_with_all = ["search", "status", "aspect", "json", "jsonl", "move_aside"])]
    pub check: bool,
}

/// A duration in seconds, from 0 to a day.
pub(crate) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds from 0 to 86400, e.g. 8"
        )),
    }
}

/// A share from 0 to 1.
pub(crate) fn parse_share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a share from 0 to 1, e.g. 0.2")),
    }
}

/// An http(s) URL.
fn parse_http_url(s: &str) -> Result<String, String> {
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(s.trim().to_owned()),
        Ok(_) => Err(format!("{s:?} must start with https:// or http://")),
        Err(e) => Err(format!("{s:?} is not a URL ({e})")),
    }
}

fn parse_size(s: &str) -> Result<Size, String> {
    s.parse()
}
fn parse_variants(s: &str) -> Result<Variants, String> {
    s.parse()
}
fn parse_fallback(s: &str) -> Result<FallbackModel, String> {
    s.parse()
}
fn parse_status_filter(s: &str) -> Result<StatusFilter, String> {
    s.parse()
}

/// Exit codes, as the README lists them.
pub mod exit {
    pub const OK: u8 = 0;
    pub const UNEXPECTED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const CREDITS: u8 = 4;
    pub const REJECTED: u8 = 5;
    pub const UNAVAILABLE: u8 = 6;
    pub const TASK_FAILED: u8 = 7;
}

pub fn exit_code(err: &api::Error) -> u8 {
    match err.class() {
        ErrorClass::Auth => exit::AUTH,
        ErrorClass::Credits => exit::CREDITS,
        ErrorClass::Rejected => exit::REJECTED,
        ErrorClass::Unavailable => exit::UNAVAILABLE,
        ErrorClass::TaskFailed => exit::TASK_FAILED,
        ErrorClass::Usage => exit::USAGE,
        ErrorClass::Other => exit::UNEXPECTED,
    }
}

/// What ends a subcommand early. Each says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Api(#[from] api::Error),
    /// The history database could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A message of its own, with the exit code that fits it.
    #[error("{message}")]
    Said { message: String, code: u8 },
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Api(e) => exit_code(e),
            Failure::Store(_) => exit::UNEXPECTED,
            Failure::Said { code, .. } => *code,
        }
    }
}

/// Opens the history in the data directory, off the async threads (it may wait for another
/// process's lock).
pub(crate) async fn open_history(data_dir: &std::path::Path) -> Result<History, StoreError> {
    let dir = data_dir.to_owned();
    let path = dir.join(crate::store::history::FILE_NAME);
    tokio::task::spawn_blocking(move || History::open_in(&dir))
        .await
        .map_err(|e| StoreError::Other {
            path,
            detail: format!("internal error: {e}"),
        })?
}

/// By hand, so that the key never reaches a log line through `{:?}`.
impl std::fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalArgs")
            .field("profile", &self.profile)
            .field("api_key", &self.api_key.as_deref().and_then(ApiKey::new))
            .field("base_url", &self.base_url)
            .field("upload_url", &self.upload_url)
            .field("callback_listen", &self.callback_listen)
            .field("callback_public_url", &self.callback_public_url)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl GlobalArgs {
    /// The settings in force (command line, environment, active profile, defaults), with the
    /// config file's `low_balance` and path. `config.toml` is read on the first call, its
    /// warnings printed on stderr then; later calls (and clones) reuse the result. A file that
    /// cannot be used, or an unknown profile, is an error that says why (exit 2, or 1 for I/O).
    pub fn account(&self) -> Result<&Account, Failure> {
        let loaded = self.account.get_or_init(|| {
            let dir = crate::config::config_dir();
            match settings::load(self, |k| std::env::var(k).ok(), &dir) {
                Ok((account, warnings)) => {
                    settings::print_warnings(&warnings);
                    Ok(account)
                }
                Err(e) => {
                    let f = settings::config_failure(e);
                    Err((f.to_string(), f.exit_code()))
                }
            }
        });
        loaded.as_ref().map_err(|(message, code)| Failure::Said {
            message: message.clone(),
            code: *code,
        })
    }

    /// The resolved settings: each value and where it came from (see [`GlobalArgs::account`]).
    pub fn resolved(&self) -> Result<Resolved, Failure> {
        self.account().map(|a| a.resolved.clone())
    }

    /// The resolved settings, or, when `config.toml` cannot be used, those of the command line
    /// and the environment alone (the subcommands check [`GlobalArgs::account`] first).
    fn settings(&self) -> Resolved {
        match self.account() {
            Ok(a) => a.resolved.clone(),
            Err(_) => settings::without_config(self),
        }
    }

    /// The API key in force, if any.
    pub fn key(&self) -> Option<ApiKey> {
        self.settings().api_key
    }

    /// The base URL in force.
    pub fn base_url(&self) -> String {
        self.settings().base_url
    }

    /// How tasks are followed: the contract's pace, for at most `--follow-limit` minutes.
    pub fn poll_options(&self) -> PollOptions {
        PollOptions {
            give_up_after: Duration::from_secs(self.follow_limit.saturating_mul(60)),
            ..PollOptions::default()
        }
    }

    pub fn client(&self) -> api::Result<Client> {
        Client::new(self.client_config())
    }

    /// The client settings in force; the app rebuilds its client from them when the key
    /// changes.
    pub fn client_config(&self) -> ClientConfig {
        let resolved = self.settings();
        ClientConfig {
            base_url: resolved.base_url,
            upload_url: resolved.upload_url,
            api_key: resolved.api_key,
            request_timeout: Duration::from_secs(self.timeout.max(1)),
            retry: api::limits::RetryPolicy {
                max_attempts: self.retries.saturating_add(1).min(20),
                ..Default::default()
            },
            ..ClientConfig::default()
        }
    }
}

/// Parses the command line and runs it. Never panics on bad input; returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    // The app logs to a file of its own: anything on stderr would land on its screen.
    if !matches!(cli.command, None | Some(Command::Demo(_))) {
        init_cli_logging();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::cli::print::errln!("fouro: cannot start: {e}");
            return ExitCode::from(exit::UNEXPECTED);
        }
    };
    let code = runtime.block_on(run(cli));
    // Don't wait for stray blocking tasks (a hung download) at exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    // Everything that talks to the service reads config.toml first: a broken file or an
    // unknown profile stops here, before anything is sent.
    let needs_settings = match &cli.command {
        None | Some(Command::Generate(_)) | Some(Command::Status { .. }) => true,
        Some(Command::Credits(_)) | Some(Command::Download { .. }) | Some(Command::Sync { .. }) => {
            true
        }
        Some(Command::Key(k)) => k.needs_settings(),
        Some(Command::Profile(_))
        | Some(Command::History(_))
        | Some(Command::Emulator(_))
        | Some(Command::Demo(_)) => false,
    };
    if needs_settings && let Err(e) = cli.global.account() {
        crate::cli::print::errln!("fouro: {e}");
        return e.exit_code();
    }
    let result = match cli.command {
        None => return crate::start::app(&cli.global).await,
        Some(Command::Demo(args)) => return crate::start::demo(&cli.global, &args).await,
        Some(Command::Emulator(args)) => return emulator::run(args).await,
        Some(Command::Generate(args)) => generate::run(&cli.global, args).await,
        Some(Command::Status { task_id, json }) => {
            commands::status(&cli.global, &task_id, json).await
        }
        Some(Command::Credits(args)) => commands::credits(&cli.global, &args).await,
        Some(Command::Download { task_id, out }) => {
            commands::download(&cli.global, &task_id, out.as_deref()).await
        }
        Some(Command::Sync { json }) => sync::run(&cli.global, json).await,
        Some(Command::History(args)) => history::run(&args).await,
        Some(Command::Profile(command)) => profile::run(&cli.global, command).await,
        Some(Command::Key(command)) => key::run(&cli.global, command).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::cli::print::errln!("fouro: {e}");
            if let Some(hint) = key_hint(&cli.global, &e) {
                crate::cli::print::errln!("  {hint}");
            }
            e.exit_code()
        }
    }
}

/// For a refused or missing key: where the key in force came from, and how to set another.
fn key_hint(global: &GlobalArgs, failure: &Failure) -> Option<String> {
    let Failure::Api(e @ (api::Error::Unauthorized { .. } | api::Error::MissingKey)) = failure
    else {
        return None;
    };
    let account = global.account().ok()?;
    let profile = account
        .resolved
        .profile
        .as_deref()
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    Some(match e {
        api::Error::MissingKey => format!(
            "save one in config.toml with `fouro key set{profile}` (it reads the key from standard input)"
        ),
        _ => format!(
            "the key came from {}; `fouro key set{profile}` saves another, `fouro key check` shows which is used",
            account.key_origin()
        ),
    })
}

/// Scripts get quiet stderr unless FOURO_LOG asks for more.
fn init_cli_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FOURO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
