//! The app's log: a file in the data directory, never the screen, never the key.
//!
//! The start-up (`crate::start`) installs it as the process's one global subscriber (the
//! subcommands install theirs, on stderr, instead), so background tasks and blocking jobs log
//! to it without carrying anything.

use std::path::{Path, PathBuf};

use tracing::Dispatch;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// The subscriber, the guard that flushes its file, and the file's path.
pub type Logs = (Dispatch, Option<WorkerGuard>, PathBuf);

/// A subscriber writing to `<data>/logs/fouro.log` at the level of `FOURO_LOG` (default
/// info). The guard flushes the file when dropped; keep it for the whole run.
pub fn file_dispatch(data_dir: &Path) -> Logs {
    let dir = data_dir.join("logs");
    let path = dir.join("fouro.log");
    // Private whatever the umask: the log holds prompts.
    let private = crate::store::private::create_dir(data_dir)
        .and_then(|()| crate::store::private::create_dir(&dir))
        .and_then(|()| crate::store::private::ensure_file(&path));
    if private.is_err() {
        return (Dispatch::none(), None, path);
    }
    let appender = tracing_appender::rolling::never(&dir, "fouro.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("FOURO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer)
        .finish();
    (Dispatch::new(subscriber), Some(guard), path)
}
