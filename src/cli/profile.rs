//! `fouro profile list|add|remove|use`: the profiles of `config.toml`, one per account or
//! service. Keys are never taken here (`fouro key set` reads them from standard input) and only
//! ever shown masked.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use clap::builder::TypedValueParser;
use serde_json::{Value, json};

use super::options::{Given, Listening};
use super::settings::{config_failure, print_warnings};
use super::{Failure, GlobalArgs, exit, parse_http_url};
use crate::api::ApiKey;
use crate::config::{self, Config, Preset, Profile};
use crate::store::text::escape_controls;

#[derive(Debug, Clone, Subcommand)]
pub enum ProfileCommand {
    /// List the profiles: the one in use (*), service, key (masked), webhook key
    #[command(after_help = super::examples::PROFILE_LIST)]
    List {
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Add a profile for a service; --base-url, --upload-url, --callback-listen and
    /// --callback-public-url given here are saved into it
    #[command(after_help = super::examples::PROFILE_ADD)]
    Add {
        /// The new profile's name: 1 to 32 letters, digits, '-' or '_'
        name: String,
        /// The service (sets the base and upload URLs)
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(PRESETS)
            .try_map(|s: String| parse_preset(&s)), default_value = "4oimageapi")]
        preset: Preset,
        /// Make it the default profile
        #[arg(long)]
        default: bool,
        /// Replace a profile of the same name (its keys are dropped)
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        listening: Listening,
    },
    /// Remove a profile (and the keys kept in it)
    #[command(after_help = super::examples::PROFILE_REMOVE)]
    Remove {
        /// The profile's name, as `fouro profile list` shows it
        name: String,
    },
    /// Make a profile the default
    #[command(after_help = super::examples::PROFILE_USE)]
    Use {
        /// The profile's name, as `fouro profile list` shows it
        name: String,
    },
}

/// The names `--preset` takes.
const PRESETS: &[&str] = &["4oimageapi", "kie"];

impl ProfileCommand {
    /// The option groups it takes: `add` saves the callback settings into the profile.
    pub(super) fn options(&self) -> Given<'_> {
        match self {
            ProfileCommand::Add { listening, .. } => Given {
                listening: Some(listening),
                ..Given::default()
            },
            _ => Given::default(),
        }
    }
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    Preset::from_name(s.trim()).ok_or_else(|| {
        let known: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
        format!(
            "{s:?} is not a service fouro knows: use {}",
            known.join(" or ")
        )
    })
}

pub async fn run(global: &GlobalArgs, command: ProfileCommand) -> Result<u8, Failure> {
    let dir = config::config_dir();
    let config = load(&dir)?;
    match command {
        ProfileCommand::List { json } => list(&config, &dir, json),
        ProfileCommand::Add {
            name,
            preset,
            default,
            replace,
            ..
        } => add(global, config, &dir, &name, preset, default, replace),
        ProfileCommand::Remove { name } => remove(config, &dir, &name),
        ProfileCommand::Use { name } => use_profile(config, &dir, &name),
    }
}

/// Loads `config.toml` for a change or a listing, printing its warnings.
pub(crate) fn load(dir: &Path) -> Result<Config, Failure> {
    let loaded = Config::load(dir).map_err(config_failure)?;
    print_warnings(&loaded.warnings);
    Ok(loaded.config)
}

pub(crate) fn save(config: &Config, dir: &Path) -> Result<PathBuf, Failure> {
    config.save(dir).map_err(config_failure)?;
    Ok(config::config_file(dir))
}

fn list(config: &Config, dir: &Path, json: bool) -> Result<u8, Failure> {
    let file = config::config_file(dir);
    let active = config
        .active(None)
        .map_err(config_failure)?
        .map(|p| p.name.clone());
    let masked = |k: &Option<ApiKey>| k.as_ref().map(ApiKey::masked);
    if json {
        let profiles: Vec<Value> = config
            .profiles()
            .map(|p| {
                json!({
                    "name": p.name,
                    "default": config.default_profile() == Some(p.name.as_str()),
                    "active": active.as_deref() == Some(p.name.as_str()),
                    "baseUrl": p.base_url,
                    "uploadUrl": p.upload_url,
                    "apiKey": masked(&p.api_key),
                    "webhookKey": p.webhook_key.is_some(),
                    "callbackListen": p.callback_listen.map(|a| a.to_string()),
                    "callbackPublicUrl": p.callback_public_url,
                })
            })
            .collect();
        crate::cli::print::stdout_json(&json!({
            "configFile": file.display().to_string(),
            "default": config.default_profile(),
            "active": active,
            "profiles": profiles,
        }));
        return Ok(exit::OK);
    }
    crate::cli::print::outln!("config file: {}", file.display());
    if config.profiles().next().is_none() {
        crate::cli::print::outln!(
            "no profiles yet: `fouro profile add NAME` adds one, `fouro key set` adds one with its key"
        );
        return Ok(exit::OK);
    }
    let width = config
        .profiles()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let url_width = config
        .profiles()
        .map(|p| p.base_url.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 48);
    crate::cli::print::outln!(
        "  {:<width$}  {:<url_width$}  {:<10}  WEBHOOK KEY",
        "NAME",
        "BASE URL",
        "KEY"
    );
    for p in config.profiles() {
        let mark = if active.as_deref() == Some(p.name.as_str()) {
            '*'
        } else {
            ' '
        };
        let key = masked(&p.api_key).unwrap_or_else(|| "(none)".to_owned());
        let hook = if p.webhook_key.is_some() { "yes" } else { "no" };
        crate::cli::print::outln!(
            "{mark} {:<width$}  {:<url_width$}  {key:<10}  {hook}",
            p.name,
            escape_controls(&p.base_url),
        );
    }
    match (config.default_profile(), &active) {
        (None, Some(only)) => {
            crate::cli::print::outln!("(* {only} is used: it is the only profile)")
        }
        (None, None) => crate::cli::print::outln!(
            "no profile is the default, so none is used unless --profile or FOURO_PROFILE names one: `fouro profile use NAME`"
        ),
        _ => {}
    }
    Ok(exit::OK)
}

fn add(
    global: &GlobalArgs,
    mut config: Config,
    dir: &Path,
    name: &str,
    preset: Preset,
    default: bool,
    replace: bool,
) -> Result<u8, Failure> {
    if global.api_key.is_some() {
        return Err(Failure::Said {
            message: format!(
                "keys are not taken on the command line here: add the profile, then `fouro key set --profile {name}` reads the key from standard input"
            ),
            code: exit::USAGE,
        });
    }
    let profile = profile_from(global, preset, name)?;
    let existed = config.profile(name).is_some();
    config.add(profile.clone(), replace).map_err(|e| match e {
        config::ConfigError::Exists { .. } => Failure::Said {
            message: format!("{e} (--replace replaces it, keys included)"),
            code: exit::USAGE,
        },
        e => config_failure(e),
    })?;
    let first = config.profiles().count() == 1;
    if default || first {
        config.set_default(name).map_err(config_failure)?;
    }
    let file = save(&config, dir)?;
    let verb = if existed { "replaced" } else { "added" };
    crate::cli::print::outln!(
        "{verb} profile \"{name}\" ({}) in {}",
        escape_controls(&profile.base_url),
        file.display()
    );
    if default || first {
        crate::cli::print::outln!("it is the default profile");
    }
    crate::cli::print::outln!("set its key with: fouro key set --profile {name}");
    Ok(exit::OK)
}

/// The preset's profile with whatever the command line adds to it.
fn profile_from(global: &GlobalArgs, preset: Preset, name: &str) -> Result<Profile, Failure> {
    let url = |flag: &str, v: &Option<String>| -> Result<Option<String>, Failure> {
        v.as_deref()
            .map(|u| {
                parse_http_url(u).map_err(|reason| Failure::Said {
                    message: format!("{flag}: {reason}"),
                    code: exit::USAGE,
                })
            })
            .transpose()
    };
    let mut profile = preset.profile(name);
    if let Some(base) = url("--base-url", &global.base_url)? {
        profile.base_url = base;
        // An upload host belongs with its base URL: a new base without one uploads to itself.
        profile.upload_url = None;
    }
    if let Some(upload) = url("--upload-url", &global.upload_url)? {
        profile.upload_url = Some(upload);
    }
    profile.callback_listen = global.callback_listen;
    profile.callback_public_url = global.callback_public_url.clone();
    Ok(profile)
}

fn remove(mut config: Config, dir: &Path, name: &str) -> Result<u8, Failure> {
    let was_default = config.default_profile() == Some(name);
    config.remove(name).map_err(config_failure)?;
    let file = save(&config, dir)?;
    crate::cli::print::outln!("removed profile \"{name}\" from {}", file.display());
    if was_default {
        match config.active(None).ok().flatten() {
            Some(only) => crate::cli::print::outln!(
                "there is no default profile now; \"{}\", the only one left, is used",
                only.name
            ),
            None => crate::cli::print::outln!(
                "there is no default profile now: `fouro profile use NAME` sets one"
            ),
        }
    }
    Ok(exit::OK)
}

fn use_profile(mut config: Config, dir: &Path, name: &str) -> Result<u8, Failure> {
    config.set_default(name).map_err(config_failure)?;
    let file = save(&config, dir)?;
    crate::cli::print::outln!(
        "profile \"{name}\" is now the default (in {})",
        file.display()
    );
    Ok(exit::OK)
}
