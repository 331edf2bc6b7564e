//! The command line: global options, subcommands, and the exit codes scripts rely on.

mod commands;
mod emulator;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::api::{self, ApiKey, Client, ClientConfig, ErrorClass, FallbackModel, Size, Variants};

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
    /// Submit a generation; with --wait, follow it and download the images
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
    /// Download a finished task's images
    Download {
        task_id: String,
        /// Directory to save into
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
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
    /// Wait for the task to end and download its images
    #[arg(long)]
    pub wait: bool,
    /// Directory for downloaded images (with --wait)
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
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
            commands::download(&cli.global, &task_id, &out).await
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fouro: {e}");
            exit_code(&e)
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
