//! Which value wins: the command line, then the environment, then the profile, then the
//! built-in default. Pure, so the rules are tested without touching the process environment.

use std::fmt;
use std::net::SocketAddr;

use crate::api::{ApiKey, DEFAULT_BASE_URL};
use crate::config::error::ConfigError;
use crate::config::file::check_http_url;
use crate::config::profiles::Profile;

pub const ENV_API_KEY: &str = "FOURO_API_KEY";
pub const ENV_BASE_URL: &str = "FOURO_BASE_URL";
pub const ENV_UPLOAD_URL: &str = "FOURO_UPLOAD_URL";
pub const ENV_WEBHOOK_KEY: &str = "FOURO_WEBHOOK_KEY";
pub const ENV_CALLBACK_LISTEN: &str = "FOURO_CALLBACK_LISTEN";
pub const ENV_CALLBACK_PUBLIC_URL: &str = "FOURO_CALLBACK_PUBLIC_URL";

/// What one source (the command line, or the environment) says; `None` where it says nothing.
/// `Debug` is safe: the keys are [`ApiKey`]s, which print masked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partial {
    pub base_url: Option<String>,
    pub upload_url: Option<String>,
    pub api_key: Option<ApiKey>,
    pub webhook_key: Option<ApiKey>,
    pub callback_listen: Option<SocketAddr>,
    pub callback_public_url: Option<String>,
}

impl Partial {
    /// Reads the `FOURO_*` variables through `var` (pass `|k| std::env::var(k).ok()`); an empty
    /// variable counts as unset, one that does not parse is an error naming it.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Partial, ConfigError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let url = |name: &'static str| -> Result<Option<String>, ConfigError> {
            get(name)
                .map(|v| {
                    check_http_url(&v).map_err(|reason| ConfigError::BadEnv {
                        var: name,
                        value: v.clone(),
                        reason,
                    })?;
                    Ok(v.trim().to_owned())
                })
                .transpose()
        };
        let callback_listen = get(ENV_CALLBACK_LISTEN)
            .map(|v| {
                v.trim().parse().map_err(|e| ConfigError::BadEnv {
                    var: ENV_CALLBACK_LISTEN,
                    value: v.clone(),
                    reason: format!("{e}: use an address and port, like 127.0.0.1:8787"),
                })
            })
            .transpose()?;
        Ok(Partial {
            base_url: url(ENV_BASE_URL)?,
            upload_url: url(ENV_UPLOAD_URL)?,
            api_key: get(ENV_API_KEY).and_then(ApiKey::new),
            webhook_key: get(ENV_WEBHOOK_KEY).and_then(ApiKey::new),
            callback_listen,
            callback_public_url: url(ENV_CALLBACK_PUBLIC_URL)?,
        })
    }
}

/// The command line and the environment, kept apart so that each value can say where it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub flag: Partial,
    pub env: Partial,
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    /// The profile of this name.
    Profile(String),
    /// fouro's built-in default.
    Default,
    /// Nowhere: the value is unset.
    None,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("the command line"),
            Source::Env => f.write_str("the environment"),
            Source::Profile(name) => write!(f, "profile {name:?}"),
            Source::Default => f.write_str("the built-in default"),
            Source::None => f.write_str("not set"),
        }
    }
}

/// The settings in force. `Debug` is safe: the keys print masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The profile consulted, if any.
    pub profile: Option<String>,
    pub base_url: String,
    pub base_url_source: Source,
    /// `None`: the base URL serves uploads too.
    pub upload_url: Option<String>,
    pub api_key: Option<ApiKey>,
    /// For `fouro key check` and the account screen: "key from profile \"kie\"".
    pub api_key_source: Source,
    pub webhook_key: Option<ApiKey>,
    pub webhook_key_source: Source,
    pub callback_listen: Option<SocketAddr>,
    pub callback_public_url: Option<String>,
}

/// Ranks of the sources, highest first; `pick` returns the first that has a value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Flag,
    Env,
    Profile,
}

fn pick<T: Clone>(
    flag: &Option<T>,
    env: &Option<T>,
    profile: Option<&Option<T>>,
) -> Option<(T, Rank)> {
    [
        (flag.as_ref(), Rank::Flag),
        (env.as_ref(), Rank::Env),
        (profile.and_then(Option::as_ref), Rank::Profile),
    ]
    .into_iter()
    .find_map(|(v, rank)| v.map(|v| (v.clone(), rank)))
}

/// For each setting, the command line wins, then the environment, then the profile, then the
/// built-in default. One exception keeps the two URLs together: an upload URL is taken only from
/// a source at least as strong as the base URL's, so `--base-url http://127.0.0.1:8080` does
/// not send uploads to the profile's real upload host.
pub fn resolve(settings: Settings, profile: Option<&Profile>) -> Resolved {
    let Settings { flag, env } = settings;
    let source = |rank: Option<Rank>| match (rank, profile) {
        (Some(Rank::Flag), _) => Source::Flag,
        (Some(Rank::Env), _) => Source::Env,
        (Some(Rank::Profile), Some(p)) => Source::Profile(p.name.clone()),
        (Some(Rank::Profile), None) | (None, _) => Source::None,
    };

    let base = pick(
        &flag.base_url,
        &env.base_url,
        profile.map(|p| Some(p.base_url.clone())).as_ref(),
    );
    let (base_url, base_rank, base_url_source) = match base {
        Some((url, rank)) => (url, Some(rank), source(Some(rank))),
        None => (DEFAULT_BASE_URL.to_owned(), None, Source::Default),
    };
    let upload_url = pick(
        &flag.upload_url,
        &env.upload_url,
        profile.map(|p| &p.upload_url),
    )
    .filter(|(_, rank)| base_rank.is_none_or(|base| *rank <= base))
    .map(|(url, _)| url);

    let api_key = pick(&flag.api_key, &env.api_key, profile.map(|p| &p.api_key));
    let webhook_key = pick(
        &flag.webhook_key,
        &env.webhook_key,
        profile.map(|p| &p.webhook_key),
    );
    let callback_listen = pick(
        &flag.callback_listen,
        &env.callback_listen,
        profile.map(|p| &p.callback_listen),
    );
    let callback_public_url = pick(
        &flag.callback_public_url,
        &env.callback_public_url,
        profile.map(|p| &p.callback_public_url),
    );

    Resolved {
        profile: profile.map(|p| p.name.clone()),
        base_url,
        base_url_source,
        upload_url,
        api_key_source: source(api_key.as_ref().map(|(_, r)| *r)),
        api_key: api_key.map(|(k, _)| k),
        webhook_key_source: source(webhook_key.as_ref().map(|(_, r)| *r)),
        webhook_key: webhook_key.map(|(k, _)| k),
        callback_listen: callback_listen.map(|(v, _)| v),
        callback_public_url: callback_public_url.map(|(v, _)| v),
    }
}
