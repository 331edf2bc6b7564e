//! The terminal app: prompt editor, references, aspect and options, live tasks, credits, and
//! finished images inline.
//!
//! - `action.rs`: the one Action enum (and the Effects the app asks for);
//! - `app/`: the state and `App::update`, the only place it changes;
//! - `event.rs`: terminal events into Actions;
//! - `worker.rs`: background tasks (submit and upload, pollers, downloads, decoding, credits,
//!   a new key's client);
//! - `crate::start` (above this module and the subcommands) reads the settings and opens it.
//! - `ui/`: pure drawing over `&App`;
//! - `preview/`: the inline image behind a narrow interface: protocol detection, encoding off
//!   the render path, printing prepared bytes;
//! - `keys.rs`, `keys_table.rs`: the help's sections and the status line's hints, from the
//!   keymap (`config/keys.rs`, `config/keys_panes.rs`) and the text fields' fixed keys;
//! - `notify.rs`: the bell and desktop notification when a task ends unseen;
//! - `runner.rs`: the loop that ties them together.

pub mod action;
pub mod app;
pub mod event;
pub mod keys;
pub mod keys_queue;
pub mod keys_table;
pub mod logging;
pub mod notify;
pub mod preview;
mod runner;
#[doc(hidden)]
pub mod testing;
pub mod ui;
pub mod worker;

use std::path::PathBuf;

use tracing::instrument::WithSubscriber;

use crate::api::ClientConfig;
use crate::store::History;

pub use logging::{Logs, file_dispatch};
pub use runner::Ending;

/// Where the app runs: the service, its history, the account: plain settings, read by
/// `crate::start`.
pub struct Session {
    pub client: ClientConfig,
    pub endpoint: String,
    pub data_dir: PathBuf,
    pub history: History,
    pub account: worker::AccountSetup,
    pub welcome: bool,
    /// How tasks are followed (`--follow-limit`).
    pub poll: crate::api::poll::PollOptions,
    /// Draw without colour (`--color never`, or `NO_COLOR`).
    pub no_colour: bool,
}

/// Runs the app on the terminal until the person quits (or asks for the demo). `Err` says
/// why the terminal could not be used, and where the log is.
pub async fn open(session: Session, logs: Logs) -> Result<Ending, String> {
    let (dispatch, _guard, log_path) = logs;
    let config = runner::RunConfig {
        client: session.client,
        endpoint: session.endpoint,
        data_dir: session.data_dir,
        history: session.history,
        account: session.account,
        welcome: session.welcome,
        poll: session.poll,
        no_colour: session.no_colour,
    };
    runner::run(config)
        .with_subscriber(dispatch)
        .await
        .map_err(|e| {
            format!(
                "the terminal could not be used: {e} (log: {})",
                log_path.display()
            )
        })
}
