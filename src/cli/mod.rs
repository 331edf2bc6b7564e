//! The command line: global options, subcommands, and the exit codes scripts rely on.

mod args;
mod balance;
mod batch;
mod callbacks;
mod commands;
mod completions;
mod emulator;
mod examples;
mod generate;
mod history;
mod key;
mod man;
mod options;
mod output;
pub mod print;
mod profile;
mod saving;
pub(crate) mod settings;
mod sync;
mod usage;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::{Args, ColorChoice, CommandFactory, FromArgMatches, Parser};

use crate::api::poll::PollOptions;
use crate::api::{self, ApiKey, Client, ClientConfig, ErrorClass};
use crate::config::Resolved;
use crate::store::{History, StoreError};

pub use args::{Command, CreditsArgs, DemoArgs, GenerateArgs, HistoryArgs};
use args::{FALLBACKS, SIZES, VARIANTS, parse_http_url};
pub(crate) use args::{parse_seconds, parse_share};
pub use settings::{Account, ENV_PROFILE};

/// What the top-level help says after its lists.
const TOP_AFTER_HELP: &str = "\
`fouro` alone opens the app; `fouro demo` tries it against a built-in emulator, with no key.

Examples:
  fouro demo                                   try the app, no key, no network
  fouro key set                                save your API key (read from standard input)
  fouro                                        open the app
  fouro generate \"a red fox in snow\" --wait    make an image and download it
  fouro history --status failed                list the tasks that failed
  fouro completions bash > ~/.local/share/bash-completion/completions/fouro";

#[derive(Debug, Parser)]
#[command(
    name = "fouro",
    version,
    about = "A terminal client for the 4o Image API: run `fouro` alone to open the app",
    long_about = None,
    after_help = TOP_AFTER_HELP,
    subcommand_help_heading = "Commands"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The app's options (also taken, before a subcommand, by the subcommand that uses them).
    #[command(flatten, next_help_heading = "App options")]
    pub connection: options::Connection,
    #[command(flatten, next_help_heading = "App options")]
    pub following: options::Following,
    #[command(flatten, next_help_heading = "App options")]
    pub listening: options::Listening,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The options typed before any subcommand: the app's.
    pub(super) fn app_options(&self) -> options::Given<'_> {
        options::Given {
            connection: Some(&self.connection),
            following: Some(&self.following),
            listening: Some(&self.listening),
        }
    }
}

/// The options every subcommand takes, before or after its name.
#[derive(Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The profile of config.toml to use [env: FOURO_PROFILE] [default: the default profile,
    /// or the only one]
    #[arg(long, global = true, value_name = "NAME", display_order = 900)]
    pub profile: Option<String>,
    /// API key [env: FOURO_API_KEY] (prefer `fouro key set` or the environment: arguments show
    /// up in process lists)
    #[arg(long, global = true, value_name = "KEY", display_order = 901)]
    pub api_key: Option<String>,
    /// Base URL of the API [env: FOURO_BASE_URL] [default: the profile's, else
    /// https://4oimageapiio.erweima.ai]
    #[arg(long, global = true, value_name = "URL", display_order = 902)]
    pub base_url: Option<String>,
    /// Base URL of the file-upload endpoints [env: FOURO_UPLOAD_URL] [default: the base URL]
    #[arg(long, global = true, value_name = "URL", display_order = 903)]
    pub upload_url: Option<String>,
    /// When the app and the help use colour; never is as NO_COLOR=1, which auto follows
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        value_enum,
        default_value_t = ColorChoice::Auto,
        display_order = 904
    )]
    pub color: ColorChoice,
    /// `--callback-listen`, where the command in use takes it ([`options::Listening`]).
    #[arg(skip)]
    pub callback_listen: Option<SocketAddr>,
    /// `--callback-public-url`, where the command in use takes it.
    #[arg(skip)]
    pub callback_public_url: Option<String>,
    /// `--timeout` in seconds ([`options::Connection`]).
    #[arg(skip = 60u64)]
    pub timeout: u64,
    /// `--retries`.
    #[arg(skip = 4u32)]
    pub retries: u32,
    /// `--follow-limit` in minutes ([`options::Following`]).
    #[arg(skip = 15u64)]
    pub follow_limit: u64,
    /// config.toml and the environment, resolved on first use (clones share it).
    #[arg(skip)]
    account: Arc<OnceLock<Result<Account, (String, u8)>>>,
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
    /// `batch`: some of its tasks succeeded, not all.
    pub const SOME: u8 = 8;
    /// `batch`: none of its tasks succeeded (or nothing was submitted).
    pub const NONE: u8 = 9;
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
            .field("color", &self.color)
            .field("callback_listen", &self.callback_listen)
            .field("callback_public_url", &self.callback_public_url)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Whether `NO_COLOR` (given its value) asks for no colour: set and not empty
/// (<https://no-color.org/>).
fn no_color_set(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_some_and(|v| !v.is_empty())
}

/// The `--color` choice among `args` (the last one given, `--color WHEN` or `--color=WHEN`),
/// read before clap parses them so that its own help and errors follow it too.
fn colour_asked<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> ColorChoice {
    use clap::ValueEnum;
    let mut choice = ColorChoice::Auto;
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str().map(str::to_owned) else {
            continue;
        };
        let value = match arg.as_str() {
            "--" => break,
            "--color" => args.next().and_then(|v| v.into_string().ok()),
            _ => arg.strip_prefix("--color=").map(str::to_owned),
        };
        if let Some(c) = value.and_then(|v| ColorChoice::from_str(&v, false).ok()) {
            choice = c;
        }
    }
    choice
}

impl GlobalArgs {
    /// Whether the app draws without colour: `--color never`, or `--color auto` (the default)
    /// with `NO_COLOR` set; `no_color` is the variable's value.
    pub fn colour_off(&self, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self.color {
            ColorChoice::Always => false,
            ColorChoice::Never => true,
            ColorChoice::Auto => no_color_set(no_color),
        }
    }

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
    let parsed = Cli::command()
        .color(colour_asked(std::env::args_os()))
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let cli = match parsed {
        Ok((mut cli, matches)) => {
            // The options typed before the subcommand, then the subcommand's own.
            let sub = cli
                .command
                .as_ref()
                .map(Command::options)
                .unwrap_or_default();
            if let Some(why) = options::unused_before(&matches, sub) {
                let _ = Cli::command()
                    .error(clap::error::ErrorKind::ArgumentConflict, why)
                    .print();
                return ExitCode::from(exit::USAGE);
            }
            cli.global = cli
                .global
                .clone()
                .with_options(cli.app_options(), sub, &matches);
            cli
        }
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
    if !matches!(
        cli.command,
        None | Some(Command::Demo(_) | Command::Completions(_) | Command::Man(_))
    ) {
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
        None
        | Some(Command::Generate(_))
        | Some(Command::Batch(_))
        | Some(Command::Status { .. }) => true,
        Some(Command::Credits(_)) | Some(Command::Download { .. }) | Some(Command::Sync { .. }) => {
            true
        }
        Some(Command::Key(k)) => k.needs_settings(),
        Some(Command::Profile(_))
        | Some(Command::Completions(_))
        | Some(Command::Man(_))
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
        Some(Command::Batch(args)) => batch::run(&cli.global, args).await,
        Some(Command::Completions(args)) => return completions::run(&args),
        Some(Command::Man(args)) => return man::run(&args),
        Some(Command::Status { task_id, json, .. }) => {
            commands::status(&cli.global, &task_id, json).await
        }
        Some(Command::Credits(args)) => commands::credits(&cli.global, &args).await,
        Some(Command::Download { task_id, out, .. }) => {
            commands::download(&cli.global, &task_id, out.as_deref()).await
        }
        Some(Command::Sync { json, .. }) => sync::run(&cli.global, json).await,
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
