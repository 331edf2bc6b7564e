//! `fouro key set` and `fouro key check`. A key is read from standard input, never from an
//! argument (arguments show in process lists and shell histories): on a terminal without echo,
//! from a pipe as one line. It is only ever printed masked.

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;

use super::options::{Connection, Given};
use super::profile::{load, save};
use super::settings::{self, origin};
use super::{Failure, GlobalArgs, exit, exit_code, parse_http_url};
use crate::api::types::format_credits;
use crate::api::{self, ApiKey, Client, ClientConfig};
use crate::config::{self, Config, Preset, Profile, validate_name};

#[derive(Debug, Clone, Subcommand)]
pub enum KeyCommand {
    #[command(after_help = super::examples::KEY_SET)]
    /// Save a profile's API key (--profile, else the one in use), read from standard input.
    /// The service checks it first; a new profile is made for 4oImageApi.io if there is none
    Set {
        /// Save it without asking the service
        #[arg(long)]
        no_check: bool,
        /// Save the webhook HMAC key (that signs completion callbacks) instead; not checked
        #[arg(long)]
        webhook: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Show the key in force, where it comes from (masked), and whether the service accepts it
    #[command(after_help = super::examples::KEY_CHECK)]
    Check {
        #[command(flatten)]
        connection: Connection,
    },
}

impl KeyCommand {
    /// The option groups it takes: both ask the service.
    pub(super) fn options(&self) -> Given<'_> {
        match self {
            KeyCommand::Set { connection, .. } | KeyCommand::Check { connection } => Given {
                connection: Some(connection),
                ..Given::default()
            },
        }
    }

    /// Whether the command works with the resolved settings (rather than the file itself).
    pub fn needs_settings(&self) -> bool {
        matches!(self, KeyCommand::Check { .. })
    }
}

pub async fn run(global: &GlobalArgs, command: KeyCommand) -> Result<u8, Failure> {
    match command {
        KeyCommand::Set {
            no_check, webhook, ..
        } => set(global, no_check, webhook).await,
        KeyCommand::Check { .. } => check(global).await,
    }
}

async fn set(global: &GlobalArgs, no_check: bool, webhook: bool) -> Result<u8, Failure> {
    // The service named in the environment counts as if it were given on the command line.
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let global = &GlobalArgs {
        base_url: global
            .base_url
            .clone()
            .or_else(|| env(config::ENV_BASE_URL)),
        upload_url: global
            .upload_url
            .clone()
            .or_else(|| env(config::ENV_UPLOAD_URL)),
        ..global.clone()
    };
    let dir = config::config_dir();
    let mut config = load(&dir)?;
    let wanted = settings::profile_name(global, &|k| std::env::var(k).ok());
    let (mut profile, created) = target(&config, wanted)?;
    if created {
        apply_flags(global, &mut profile)?;
    } else if global.base_url.is_some() || global.upload_url.is_some() {
        crate::cli::print::errln!(
            "fouro: note: --base-url and --upload-url (or FOURO_BASE_URL and FOURO_UPLOAD_URL) are not used here: the key is for profile \"{}\" and its service, {}",
            profile.name,
            profile.base_url
        );
    }
    let name = profile.name.clone();

    let what = if webhook { "webhook key" } else { "API key" };
    let prompt = format!(
        "{what} for profile \"{name}\" ({}), input hidden: ",
        profile.base_url
    );
    let secret = tokio::task::spawn_blocking(move || read_secret(&prompt))
        .await
        .map_err(|e| said(format!("cannot read the key: {e}"), exit::UNEXPECTED))?
        .map_err(|e| {
            said(
                format!("cannot read the key from standard input: {e}"),
                exit::UNEXPECTED,
            )
        })?;
    let Some(secret) = secret else {
        return Err(said("cancelled: nothing was saved", exit::USAGE));
    };
    let Some(key) = ApiKey::new(secret) else {
        return Err(said(
            format!("no {what} was given on standard input: nothing was saved"),
            exit::USAGE,
        ));
    };

    if !webhook && !no_check {
        let balance = check_against(global, &profile, &key).await?;
        crate::cli::print::outln!(
            "{} accepts the key: {} credits",
            profile.base_url,
            format_credits(balance)
        );
    }

    if created {
        config
            .add(profile, false)
            .map_err(settings::config_failure)?;
    }
    if webhook {
        config.set_webhook_key(&name, Some(key.clone()))
    } else {
        config.set_key(&name, Some(key.clone()))
    }
    .map_err(settings::config_failure)?;
    let made_default = config.profiles().count() == 1 && config.default_profile() != Some(&name);
    if made_default {
        config
            .set_default(&name)
            .map_err(settings::config_failure)?;
    }
    let file = save(&config, &dir)?;
    let new = if created { "new " } else { "" };
    crate::cli::print::outln!(
        "saved the {what} ({}) into {new}profile \"{name}\" in {}",
        key.masked(),
        file.display()
    );
    if made_default {
        crate::cli::print::outln!("\"{name}\" is the default profile");
    }
    Ok(exit::OK)
}

/// The profile a key goes into, and whether it is new: the one named, else the one in use,
/// else (no profile at all) a new one for 4oImageApi.io.
fn target(config: &Config, wanted: Option<String>) -> Result<(Profile, bool), Failure> {
    if let Some(name) = wanted {
        return match config.profile(&name) {
            Some(p) => Ok((p.clone(), false)),
            None => {
                validate_name(&name).map_err(settings::config_failure)?;
                Ok((Preset::FourOImageApi.profile(name), true))
            }
        };
    }
    if let Some(p) = config.active(None).map_err(settings::config_failure)? {
        return Ok((p.clone(), false));
    }
    if config.profiles().next().is_none() {
        return Ok((
            Preset::FourOImageApi.profile(Preset::FourOImageApi.name()),
            true,
        ));
    }
    Err(said(
        format!(
            "there are several profiles ({}) and none is the default: name one with --profile",
            config.names().join(", ")
        ),
        exit::USAGE,
    ))
}

/// A new profile takes the service given on the command line.
fn apply_flags(global: &GlobalArgs, profile: &mut Profile) -> Result<(), Failure> {
    let checked = |flag: &str, v: &str| {
        parse_http_url(v).map_err(|reason| said(format!("{flag}: {reason}"), exit::USAGE))
    };
    if let Some(base) = &global.base_url {
        profile.base_url = checked("--base-url", base)?;
        profile.upload_url = None;
    }
    if let Some(upload) = &global.upload_url {
        profile.upload_url = Some(checked("--upload-url", upload)?);
    }
    Ok(())
}

/// Asks the profile's service for the balance with `key`. A refused key is exit 3; a service
/// that cannot be asked gets its own code, and the key is not saved either way.
async fn check_against(
    global: &GlobalArgs,
    profile: &Profile,
    key: &ApiKey,
) -> Result<f64, Failure> {
    let client = Client::new(ClientConfig {
        base_url: profile.base_url.clone(),
        upload_url: profile.upload_url.clone(),
        api_key: Some(key.clone()),
        ..global.client_config()
    })?;
    match client.credits().await {
        Ok(balance) => Ok(balance),
        Err(api::Error::Unauthorized { .. }) => Err(said(
            format!(
                "{} refused this key (401): it was not saved; copy it again from the service's API key page",
                profile.base_url
            ),
            exit::AUTH,
        )),
        Err(e) => Err(said(
            format!(
                "the key could not be checked: {e}; it was not saved (`fouro key set --no-check` saves it without asking the service)"
            ),
            exit_code(&e),
        )),
    }
}

async fn check(global: &GlobalArgs) -> Result<u8, Failure> {
    let account = global.account()?;
    let r = &account.resolved;
    let Some(key) = r.api_key.as_ref() else {
        return Err(said(
            "no API key is set: `fouro key set` saves one into config.toml (or set FOURO_API_KEY, or pass --api-key)",
            exit::AUTH,
        ));
    };
    if let Some(p) = &r.profile {
        crate::cli::print::outln!("profile  {p} ({})", account.config_file.display());
    }
    crate::cli::print::outln!("key      {} from {}", key.masked(), account.key_origin());
    crate::cli::print::outln!(
        "service  {} from {}",
        r.base_url,
        origin(
            &r.base_url_source,
            &account.config_file,
            config::ENV_BASE_URL
        )
    );
    match &r.webhook_key {
        Some(_) => crate::cli::print::outln!(
            "webhook  a key is set, from {}",
            origin(
                &r.webhook_key_source,
                &account.config_file,
                config::ENV_WEBHOOK_KEY
            )
        ),
        None => crate::cli::print::outln!("webhook  no key: callbacks are taken unsigned"),
    }
    match global.client()?.credits().await {
        Ok(balance) => {
            crate::cli::print::outln!("status   accepted: {} credits", format_credits(balance));
            Ok(exit::OK)
        }
        Err(api::Error::Unauthorized { .. }) => {
            crate::cli::print::outln!("status   refused");
            Err(said(
                format!(
                    "{} refused the key from {} (401): `fouro key set` saves another",
                    r.base_url,
                    account.key_origin()
                ),
                exit::AUTH,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn said(message: impl Into<String>, code: u8) -> Failure {
    Failure::Said {
        message: message.into(),
        code,
    }
}

/// The key from standard input: typed without echo on a terminal (after `prompt` on stderr),
/// else the first line. `None`: the person cancelled.
fn read_secret(prompt: &str) -> std::io::Result<Option<String>> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(Some(line));
    }
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    let typed = read_hidden();
    // Raw mode is off again: the line ends as any other.
    crate::cli::print::errln!();
    typed
}

/// Reads a line with the terminal in raw mode, so nothing typed is shown. Enter ends it;
/// Backspace and Ctrl-U edit it; Ctrl-C, Ctrl-D (on an empty line) and Esc cancel.
fn read_hidden() -> std::io::Result<Option<String>> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

    struct RawMode;
    impl Drop for RawMode {
        fn drop(&mut self) {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
    crossterm::terminal::enable_raw_mode()?;
    let _raw = RawMode;
    let mut typed = String::new();
    loop {
        match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
                match k.code {
                    KeyCode::Enter => return Ok(Some(typed)),
                    KeyCode::Esc => return Ok(None),
                    KeyCode::Char('c') if ctrl => return Ok(None),
                    KeyCode::Char('d') if ctrl && typed.is_empty() => return Ok(None),
                    KeyCode::Char('u') if ctrl => typed.clear(),
                    KeyCode::Char(_) if ctrl => {}
                    KeyCode::Char(c) => typed.push(c),
                    KeyCode::Backspace => {
                        typed.pop();
                    }
                    _ => {}
                }
            }
            Event::Paste(text) => typed.push_str(&text),
            _ => {}
        }
    }
}
