//! The subcommands and their own arguments (the global ones are in the module above).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{batch, completions, emulator, examples, key, man, options, profile};
use crate::api::{FallbackModel, Size, Variants};
use crate::store::StatusFilter;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a generation (kept in the history); with --wait, follow it and download the images
    #[command(after_help = examples::GENERATE)]
    Generate(GenerateArgs),
    /// Run many generations from a file: one prompt (or JSON object) per line, resumable
    #[command(after_help = examples::BATCH)]
    Batch(batch::BatchArgs),
    /// Show a task's status
    #[command(after_help = examples::STATUS)]
    Status {
        /// The task id `fouro generate` printed, e.g. task_4o_0123abcd
        task_id: String,
        /// Print one JSON object (times also in RFC 3339, with the zone)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: options::Connection,
    },
    /// Show the credit balance; with --usage, what was spent and on which tasks
    #[command(after_help = examples::CREDITS)]
    Credits(CreditsArgs),
    /// Download a finished task's images into the data directory (and --out)
    #[command(after_help = examples::DOWNLOAD)]
    Download {
        /// The task id `fouro generate` printed, e.g. task_4o_0123abcd
        task_id: String,
        /// Also copy the images into this directory
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        connection: options::Connection,
    },
    /// Settle the history: follow unfinished tasks, download missing images, expire old ones
    #[command(after_help = examples::SYNC)]
    Sync {
        /// Print one JSON object: the report
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: options::Connection,
        #[command(flatten)]
        following: options::Following,
    },
    /// List past generations, newest first (times are local)
    #[command(after_help = examples::HISTORY)]
    History(HistoryArgs),
    /// Manage the profiles of config.toml: one per account or service
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Set a profile's API key (read from standard input), or check the key in force
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Run the built-in emulator of the service
    #[command(after_help = examples::EMULATOR)]
    Emulator(emulator::EmulatorArgs),
    /// Open the app against a built-in emulator: no key, no network
    #[command(after_help = examples::DEMO)]
    Demo(DemoArgs),
    /// Print a shell completion script on standard output
    #[command(after_help = examples::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Write the manual pages: one per subcommand into DIR, or one on standard output
    #[command(after_help = examples::MAN)]
    Man(man::ManArgs),
}

impl Command {
    /// The option groups this subcommand takes (and so uses).
    pub(super) fn options(&self) -> options::Given<'_> {
        use options::Given;
        match self {
            Command::Generate(a) => Given {
                connection: Some(&a.connection),
                following: Some(&a.following),
                listening: Some(&a.listening),
            },
            Command::Batch(a) => Given {
                connection: Some(&a.connection),
                following: Some(&a.following),
                listening: None,
            },
            Command::Status { connection, .. } | Command::Download { connection, .. } => Given {
                connection: Some(connection),
                ..Given::default()
            },
            Command::Credits(a) => Given {
                connection: Some(&a.connection),
                ..Given::default()
            },
            Command::Sync {
                connection,
                following,
                ..
            } => Given {
                connection: Some(connection),
                following: Some(following),
                listening: None,
            },
            Command::Profile(c) => c.options(),
            Command::Key(c) => c.options(),
            Command::History(_)
            | Command::Emulator(_)
            | Command::Demo(_)
            | Command::Completions(_)
            | Command::Man(_) => Given::default(),
        }
    }
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
    #[arg(long, default_value = "1:1", value_parser = options::one_of::<Size>(SIZES))]
    pub size: Size,
    /// A reference image: a local file (uploaded first) or a URL; up to 5
    #[arg(long = "ref", value_name = "PATH_OR_URL")]
    pub refs: Vec<String>,
    /// A mask (black = edit, white = keep); only with at most one reference
    #[arg(long, value_name = "PATH_OR_URL")]
    pub mask: Option<String>,
    /// Number of images
    #[arg(long, default_value = "1", value_parser = options::one_of::<Variants>(VARIANTS))]
    pub variants: Variants,
    /// Let the service enhance the prompt
    #[arg(long)]
    pub enhance: bool,
    /// Fall back to this model if the main one fails
    #[arg(long, value_parser = options::one_of::<FallbackModel>(FALLBACKS))]
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
    #[command(flatten)]
    pub connection: options::Connection,
    /// With --wait.
    #[command(flatten)]
    pub following: options::Following,
    /// With --wait.
    #[command(flatten)]
    pub listening: options::Listening,
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
    #[command(flatten)]
    pub connection: options::Connection,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Only entries whose prompt or task id contains this text
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only entries in this state
    #[arg(long, value_parser = options::one_of::<StatusFilter>(STATUSES))]
    pub status: Option<StatusFilter>,
    /// Only entries of this aspect ratio
    #[arg(long, value_parser = options::one_of::<Size>(SIZES))]
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
pub(super) fn parse_http_url(s: &str) -> Result<String, String> {
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(s.trim().to_owned()),
        Ok(_) => Err(format!("{s:?} must start with https:// or http://")),
        Err(e) => Err(format!("{s:?} is not a URL ({e})")),
    }
}

/// The words `--size` and `--aspect` take.
pub(super) const SIZES: &[&str] = &["1:1", "3:2", "2:3"];
/// The numbers of images a task makes.
pub(super) const VARIANTS: &[&str] = &["1", "2", "4"];
pub(super) const FALLBACKS: &[&str] = &["FLUX_MAX", "GPT_IMAGE_1"];
const STATUSES: &[&str] = &["generating", "success", "failed", "expired"];
