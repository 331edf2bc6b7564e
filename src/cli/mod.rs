//! The command line: global options, subcommands, and the exit codes scripts rely on.

mod commands;
mod emulator;
mod history;
mod output;
mod saving;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::api::{self, ApiKey, Client, ClientConfig, ErrorClass, FallbackModel, Size, Variants};
use crate::store::{History, StatusFilter, StoreError};

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
    /// API key (prefer the environment variable: arguments show up in process lists)
    #[arg(long, global = true, env = "FOURO_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Base URL of the API
    #[arg(long, global = true, env = "FOURO_BASE_URL", default_value = api::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Base URL of the file-upload endpoints [default: the base URL]
    #[arg(long, global = true, env = "FOURO_UPLOAD_URL")]
    pub upload_url: Option<String>,
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
    /// Show the credit balance
    Credits {
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
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
    /// Print a JSON array of entries
    #[arg(long)]
    pub json: bool,
    /// Move a history database that cannot be read (or that a newer fouro wrote) aside, so
    /// that a fresh one starts; nothing is deleted
    #[arg(long, conflicts_with_all = ["search", "status", "aspect", "json"])]
    pub move_aside: bool,
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

/// Runs `f` on the history, off the async threads.
pub(crate) async fn with_history<T: Send + 'static>(
    history: &History,
    f: impl FnOnce(&History) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let h = history.clone();
    let path = h.path().to_owned();
    tokio::task::spawn_blocking(move || f(&h))
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
            .field("api_key", &self.key())
            .field("base_url", &self.base_url)
            .field("upload_url", &self.upload_url)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish()
    }
}

impl GlobalArgs {
    /// The API key, if one was given (trimmed; an empty one is none).
    pub fn key(&self) -> Option<ApiKey> {
        self.api_key.as_deref().and_then(ApiKey::new)
    }

    pub fn client(&self) -> api::Result<Client> {
        Client::new(self.client_config())
    }

    /// The client settings these options give; the app rebuilds its client from them when the
    /// key changes.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url.clone(),
            upload_url: self.upload_url.clone(),
            api_key: self.key(),
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
            eprintln!("fouro: cannot start: {e}");
            return ExitCode::from(exit::UNEXPECTED);
        }
    };
    let code = runtime.block_on(run(cli));
    // Don't wait for stray blocking tasks (a hung download) at exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        None => return crate::tui::run(&cli.global).await,
        Some(Command::Demo(args)) => return crate::tui::run_demo(&cli.global, &args).await,
        Some(Command::Emulator(args)) => return emulator::run(args).await,
        Some(Command::Generate(args)) => commands::generate(&cli.global, args).await,
        Some(Command::Status { task_id, json }) => {
            commands::status(&cli.global, &task_id, json).await
        }
        Some(Command::Credits { json }) => commands::credits(&cli.global, json).await,
        Some(Command::Download { task_id, out }) => {
            commands::download(&cli.global, &task_id, out.as_deref()).await
        }
        Some(Command::Sync { json }) => sync::run(&cli.global, json).await,
        Some(Command::History(args)) => history::run(&args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fouro: {e}");
            e.exit_code()
        }
    }
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
