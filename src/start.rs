//! Start-up, above the subcommands and the app: the app reads its settings (profile, key,
//! client, history, callback listener) here and gets them as plain values; `src/tui` knows
//! nothing of the command line.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::{ApiKey, ClientConfig};
use crate::cli::{DemoArgs, GlobalArgs, exit, exit_code};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::store::{History, StoreError};
use crate::tui::{Ending, Logs, Session, file_dispatch};

/// The demo's key, and what an image costs there.
const DEMO_KEY: &str = "demo-key";
const DEMO_COST: i64 = 6;
/// The demo's webhook key: its emulator signs callbacks, its listener checks them.
const DEMO_WEBHOOK_KEY: &str = "demo-webhook-key";

/// The client settings from the command line (as `GlobalArgs::client` makes them), for
/// `base_url` and `key`; the worker keeps them to rebuild the client with a new key.
fn client_config(global: &GlobalArgs, base_url: &str, key: Option<ApiKey>) -> ClientConfig {
    ClientConfig {
        base_url: base_url.to_owned(),
        api_key: key,
        ..global.client_config()
    }
}

/// Opens the app for the configured profile, key and base URL; with no key, on the welcome
/// screen. Returns the exit code.
pub async fn app(global: &GlobalArgs) -> u8 {
    let account = match global.account() {
        Ok(a) => a.clone(),
        Err(e) => {
            crate::cli::print::errln!("fouro: {e}");
            return e.exit_code();
        }
    };
    let resolved = &account.resolved;
    let key = resolved.api_key.clone();
    // The welcome screen needs a terminal; a script gets the ways to set a key.
    if key.is_none() && !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        crate::cli::print::errln!(
            "fouro: no API key is set.\n  Save one with `fouro key set` (it reads the key from standard input), or set FOURO_API_KEY (the environment keeps it out of process lists).\n  To try the app without a key or network: fouro demo"
        );
        return exit::AUTH;
    }
    let base_url = resolved.base_url.clone();
    let config = ClientConfig {
        base_url: base_url.clone(),
        upload_url: resolved.upload_url.clone(),
        api_key: key.clone(),
        ..global.client_config()
    };
    if let Err(e) = crate::api::Client::new(config.clone()) {
        crate::cli::print::errln!("fouro: {e}");
        return exit_code(&e);
    }
    let endpoint = url::Url::parse(&base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| base_url.clone());
    let data_dir = crate::config::data_dir();
    let Some(history) = open_history(&data_dir) else {
        return exit::UNEXPECTED;
    };
    let callbacks = match resolved.callback_listen {
        Some(addr) => match start_callbacks(
            addr,
            resolved.callback_public_url.clone(),
            resolved.webhook_key.as_ref().map(|k| k.expose().to_owned()),
        )
        .await
        {
            Ok(c) => Some(c),
            Err(e) => {
                crate::cli::print::errln!(
                    "fouro: cannot listen for callbacks on {addr}: {e}; pick another address (--callback-listen) or leave it out"
                );
                return exit::USAGE;
            }
        },
        None => None,
    };
    let account_setup = crate::tui::worker::AccountSetup {
        config_dir: Some(crate::config::config_dir()),
        info: crate::tui::action::AccountInfo {
            profile: resolved.profile.clone(),
            base_url: base_url.clone(),
            masked_key: key.as_ref().map(ApiKey::masked),
            key_source: account.key_origin(),
            low_balance: account.low_balance,
            callback_url: callbacks.as_ref().map(|(c, _)| c.url()),
        },
        callbacks,
        utc_offset: chrono::Local::now().offset().local_minus_utc(),
    };
    let session = Session {
        client: config,
        endpoint,
        data_dir: data_dir.clone(),
        history,
        account: account_setup,
        welcome: key.is_none(),
        poll: global.poll_options(),
        no_colour: global.colour_off(std::env::var_os("NO_COLOR").as_deref()),
    };
    let (code, ending) = open(session, app_logs(&data_dir)).await;
    match ending {
        Ending::Demo => {
            let args = DemoArgs {
                duration: 6.0,
                credits: 100,
            };
            demo(global, &args).await
        }
        Ending::Quit => code,
    }
}

/// Starts the callback listener on `addr`; results for this run's tasks arrive through it.
async fn start_callbacks(
    addr: std::net::SocketAddr,
    public_url: Option<String>,
    webhook_key: Option<String>,
) -> std::io::Result<(
    crate::tui::worker::Callbacks,
    tokio::sync::mpsc::UnboundedReceiver<crate::api::types::CallbackPayload>,
)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = crate::callback::ListenerConfig {
        addr,
        webhook_key,
        ..crate::callback::ListenerConfig::default()
    };
    let listener = crate::callback::Listener::start(config, tx).await?;
    Ok((
        crate::tui::worker::Callbacks {
            listener,
            public_url,
        },
        rx,
    ))
}

/// Where the demo keeps its history and images: beside the real ones, never mixed in.
fn demo_dir() -> PathBuf {
    crate::config::data_dir().join("demo")
}

/// Opens the history before the terminal is taken over. A database that cannot be read, or
/// that a newer fouro wrote, is left as it is unless the person agrees (on a terminal) to
/// move it aside and start afresh; `None` means the app must not start (the reason printed).
fn open_history(data_dir: &Path) -> Option<History> {
    let err = match History::open_in(data_dir) {
        Ok(h) => return Some(h),
        Err(e) => e,
    };
    crate::cli::print::errln!("fouro: {err}");
    let path = match &err {
        StoreError::Corrupt { path, .. } | StoreError::Newer { path, .. } => path.clone(),
        StoreError::Other { .. } => return None,
    };
    if !std::io::stdin().is_terminal() {
        return None;
    }
    crate::cli::print::err!(
        "Move {} aside (nothing is deleted) and start a fresh history? [y/N] ",
        path.display()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err()
        || !matches!(answer.trim(), "y" | "Y" | "yes")
    {
        crate::cli::print::errln!("fouro: the history was left as it is; the app did not start.");
        return None;
    }
    match crate::store::history::move_aside(&path) {
        Ok(moved) => crate::cli::print::errln!("fouro: moved it to {}", moved.display()),
        Err(e) => {
            crate::cli::print::errln!("fouro: could not move {}: {e}", path.display());
            return None;
        }
    }
    match History::open_in(data_dir) {
        Ok(h) => Some(h),
        Err(e) => {
            crate::cli::print::errln!("fouro: {e}");
            None
        }
    }
}

/// Starts the emulator in-process and opens the app against it. Returns the exit code.
pub async fn demo(global: &GlobalArgs, args: &DemoArgs) -> u8 {
    // `--duration` was range-checked when the command line was parsed. A config.toml the
    // app would refuse (its `[keys]` among it) is refused here too, with the same words.
    if let Err(e) = crate::config::Config::load(&crate::config::config_dir()) {
        let failure = crate::cli::settings::config_failure(e);
        crate::cli::print::errln!("fouro: {failure}");
        return failure.exit_code();
    }
    let data_dir = demo_dir();
    let Some(history) = open_history(&data_dir) else {
        return exit::UNEXPECTED;
    };
    let logs = app_logs(&data_dir);
    let runtime = match emulator_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            crate::cli::print::errln!("fouro: the built-in emulator could not start: {e}");
            return exit::UNEXPECTED;
        }
    };
    let config = EmulatorConfig {
        keys: vec![DEMO_KEY.to_owned()],
        credits: args.credits,
        cost: DEMO_COST,
        duration: Duration::from_secs_f64(args.duration),
        webhook_key: Some(DEMO_WEBHOOK_KEY.to_owned()),
        ..EmulatorConfig::default()
    };
    let emulator = match runtime.spawn(Emulator::start(config)).await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => {
            crate::cli::print::errln!("fouro: the built-in emulator could not start: {e}");
            runtime.shutdown_background();
            return exit::UNEXPECTED;
        }
        Err(e) => {
            crate::cli::print::errln!("fouro: the built-in emulator could not start: {e}");
            runtime.shutdown_background();
            return exit::UNEXPECTED;
        }
    };
    let config = client_config(global, &emulator.base_url(), ApiKey::new(DEMO_KEY));
    // Uploads go to the emulator too, whatever the environment says.
    let config = ClientConfig {
        upload_url: None,
        ..config
    };
    // The emulator calls the app's listener directly: results arrive by callback.
    let callbacks = match start_callbacks(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        Some(DEMO_WEBHOOK_KEY.to_owned()),
    )
    .await
    {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("the demo's callback listener could not start: {e}");
            None
        }
    };
    let account = crate::tui::worker::AccountSetup {
        config_dir: None,
        info: crate::tui::action::AccountInfo {
            profile: None,
            base_url: emulator.base_url(),
            masked_key: ApiKey::new(DEMO_KEY).map(|k| k.masked()),
            key_source: "demo".into(),
            low_balance: None,
            callback_url: callbacks.as_ref().map(|(c, _)| c.url()),
        },
        callbacks,
        utc_offset: chrono::Local::now().offset().local_minus_utc(),
    };
    let session = Session {
        client: config,
        endpoint: "demo · built-in emulator".to_owned(),
        data_dir,
        history,
        account,
        welcome: false,
        poll: global.poll_options(),
        no_colour: global.colour_off(std::env::var_os("NO_COLOR").as_deref()),
    };
    let (code, _) = open(session, logs).await;
    let _ = runtime.spawn(emulator.shutdown()).await;
    runtime.shutdown_background();
    code
}

/// The demo's emulator runs on a small runtime of its own, so that its work never competes
/// with the app's event loop; it logs through the global subscriber, to the app's file.
fn emulator_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_name("fouro-emulator")
        .enable_all()
        .build()
}

/// The app's log file, installed as the process's one global subscriber (the subcommands
/// install theirs, on stderr, in `cli::main`; a demo opened from the welcome screen keeps
/// writing to the first file).
fn app_logs(data_dir: &Path) -> Logs {
    let logs = file_dispatch(data_dir);
    let _ = tracing::dispatcher::set_global_default(logs.0.clone());
    logs
}

/// Opens the app; the exit code and how it ended.
async fn open(session: Session, logs: Logs) -> (u8, Ending) {
    match crate::tui::open(session, logs).await {
        Ok(ending) => (exit::OK, ending),
        Err(why) => {
            crate::cli::print::errln!("fouro: {why}");
            (exit::UNEXPECTED, Ending::Quit)
        }
    }
}
