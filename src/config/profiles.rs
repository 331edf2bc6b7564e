//! Named profiles (one per account or service) and the operations `fouro profile …` needs.
//!
//! The API key and the webhook key are held as [`ApiKey`]s, so `Debug` and `Display` only ever
//! show them masked; the `Debug` impls here are written by hand so that a field added later has
//! to be thought about before it is printed.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use crate::api::{ApiKey, DEFAULT_BASE_URL};
use crate::config::error::ConfigError;

/// kie.ai serves the same contract as 4oImageApi.io at this base URL.
pub const KIE_BASE_URL: &str = "https://api.kie.ai";
/// kie.ai files uploads on a host of their own.
pub const KIE_UPLOAD_URL: &str = "https://kieai.redpandaai.co";

/// The longest profile name: names show in the status bar and in `fouro profile list`.
pub const MAX_NAME_LEN: usize = 32;

/// One account on one service.
#[derive(Clone, PartialEq)]
pub struct Profile {
    /// The `[profiles.<name>]` table it is kept in; see [`validate_name`].
    pub name: String,
    pub base_url: String,
    /// The file-upload endpoints; the base URL when `None`.
    pub upload_url: Option<String>,
    pub api_key: Option<ApiKey>,
    /// The HMAC key completion callbacks are signed with.
    pub webhook_key: Option<ApiKey>,
    /// Where fouro listens for completion callbacks.
    pub callback_listen: Option<SocketAddr>,
    /// The URL the service should post callbacks to (a tunnel or proxy in front of the listener).
    pub callback_public_url: Option<String>,
    /// Keys of the profile's table that fouro does not know; written back unchanged.
    pub(crate) extra: toml::Table,
}

impl Profile {
    /// A profile for 4oImageApi.io with nothing else set. The name is checked when it is added to
    /// a [`Config`].
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            upload_url: None,
            api_key: None,
            webhook_key: None,
            callback_listen: None,
            callback_public_url: None,
            extra: toml::Table::new(),
        }
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = |k: &Option<ApiKey>| k.as_ref().map(ApiKey::masked);
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("upload_url", &self.upload_url)
            .field("api_key", &masked(&self.api_key))
            .field("webhook_key", &masked(&self.webhook_key))
            .field("callback_listen", &self.callback_listen)
            .field("callback_public_url", &self.callback_public_url)
            // Unknown keys might hold anything, secrets included: only their names are shown.
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The services fouro knows how to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    FourOImageApi,
    Kie,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::FourOImageApi, Preset::Kie];

    /// The preset's name, also the name its profile gets by default.
    pub fn name(self) -> &'static str {
        match self {
            Preset::FourOImageApi => "4oimageapi",
            Preset::Kie => "kie",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    pub fn base_url(self) -> &'static str {
        match self {
            Preset::FourOImageApi => DEFAULT_BASE_URL,
            Preset::Kie => KIE_BASE_URL,
        }
    }

    pub fn upload_url(self) -> Option<&'static str> {
        match self {
            Preset::FourOImageApi => None,
            Preset::Kie => Some(KIE_UPLOAD_URL),
        }
    }

    /// A profile for this service, named `name`, with no key yet.
    pub fn profile(self, name: impl Into<String>) -> Profile {
        Profile {
            base_url: self.base_url().to_owned(),
            upload_url: self.upload_url().map(str::to_owned),
            ..Profile::new(name)
        }
    }
}

/// Refuses names that would be awkward in a TOML table header, a shell or the status bar.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    let invalid = |reason| {
        Err(ConfigError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.chars().count() > MAX_NAME_LEN {
        return invalid("it is too long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid("it has other characters");
    }
    Ok(())
}

/// Everything `config.toml` holds. Load and save it with [`Config::load`] and [`Config::save`].
#[derive(Clone, PartialEq, Default)]
pub struct Config {
    /// Always the name of a profile in `profiles`, or `None`.
    pub(crate) default_profile: Option<String>,
    /// Warn when the credit balance falls below this.
    pub low_balance: Option<f64>,
    /// How the app tells of a task that ended (`notify`).
    pub notify: Option<super::Notify>,
    /// Tell of every task that ran at least this long, focused or not (`notify_after_secs`).
    pub notify_after_secs: Option<u64>,
    /// At most this many tasks generating at once while the app's queue runs
    /// (`queue_parallel`; see [`Config::queue_parallel`]).
    pub queue_parallel: Option<u32>,
    /// By name; each profile's `name` equals its key.
    pub(crate) profiles: BTreeMap<String, Profile>,
    /// Top-level keys fouro does not know; written back unchanged.
    pub(crate) extra: toml::Table,
    /// The app's keys: the defaults with `[keys]` over them.
    pub keys: super::Keymap,
    /// The app's colours: `[theme]` over its base.
    pub theme: super::Theme,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("default_profile", &self.default_profile)
            .field("low_balance", &self.low_balance)
            .field("profiles", &self.profiles.values().collect::<Vec<_>>())
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Tasks generating at once while the queue runs, when `queue_parallel` is not set.
pub const QUEUE_PARALLEL: u32 = 4;

impl Config {
    /// At most this many tasks generating at once while the app's queue runs: 1 to 20
    /// (the service takes 20 generates per 10 s), 4 when not set.
    pub fn queue_parallel(&self) -> u32 {
        self.queue_parallel.unwrap_or(QUEUE_PARALLEL).clamp(1, 20)
    }

    pub fn default_profile(&self) -> Option<&str> {
        self.default_profile.as_deref()
    }

    /// All profiles, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    pub fn names(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// The profile to use: the one named (by `--profile`, say), else the default one, else the
    /// only one, else none. Naming an unknown profile is an error, not a silent fallback.
    pub fn active(&self, name_override: Option<&str>) -> Result<Option<&Profile>, ConfigError> {
        if let Some(name) = name_override {
            return self.known(name).map(Some);
        }
        if let Some(p) = self
            .default_profile
            .as_deref()
            .and_then(|n| self.profile(n))
        {
            return Ok(Some(p));
        }
        let mut all = self.profiles.values();
        Ok(match (all.next(), all.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        })
    }

    /// Adds `profile`; one of the same name is an error unless `replace`.
    pub fn add(&mut self, profile: Profile, replace: bool) -> Result<(), ConfigError> {
        validate_name(&profile.name)?;
        if !replace && self.profiles.contains_key(&profile.name) {
            return Err(ConfigError::Exists { name: profile.name });
        }
        self.profiles.insert(profile.name.clone(), profile);
        Ok(())
    }

    /// Removes and returns the profile; if it was the default, there is no default any more.
    pub fn remove(&mut self, name: &str) -> Result<Profile, ConfigError> {
        self.known(name)?;
        if self.default_profile.as_deref() == Some(name) {
            self.default_profile = None;
        }
        self.profiles.remove(name).ok_or_else(|| self.unknown(name))
    }

    pub fn set_default(&mut self, name: &str) -> Result<(), ConfigError> {
        self.known(name)?;
        self.default_profile = Some(name.to_owned());
        Ok(())
    }

    pub fn clear_default(&mut self) {
        self.default_profile = None;
    }

    /// Sets (or with `None` forgets) a profile's API key.
    pub fn set_key(&mut self, name: &str, key: Option<ApiKey>) -> Result<(), ConfigError> {
        self.known_mut(name)?.api_key = key;
        Ok(())
    }

    /// Sets (or with `None` forgets) a profile's webhook key.
    pub fn set_webhook_key(&mut self, name: &str, key: Option<ApiKey>) -> Result<(), ConfigError> {
        self.known_mut(name)?.webhook_key = key;
        Ok(())
    }

    fn known(&self, name: &str) -> Result<&Profile, ConfigError> {
        self.profiles.get(name).ok_or_else(|| self.unknown(name))
    }

    fn known_mut(&mut self, name: &str) -> Result<&mut Profile, ConfigError> {
        let err = self.unknown(name);
        self.profiles.get_mut(name).ok_or(err)
    }

    fn unknown(&self, name: &str) -> ConfigError {
        ConfigError::Unknown {
            name: name.to_owned(),
            known: self.names(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Option<ApiKey> {
        ApiKey::new(s)
    }

    #[test]
    fn names_are_checked() {
        for good in ["kie", "4oimageapi", "work_2", "a-b", &"x".repeat(32)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "kie.ai", "ü", "a/b", &"x".repeat(33)] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains("not a valid profile name"), "{bad}: {err}");
        }
    }

    #[test]
    fn active_prefers_the_named_then_the_default_then_the_only_one() {
        let mut c = Config::default();
        assert!(c.active(None).unwrap().is_none());
        c.add(Preset::Kie.profile("kie"), false).unwrap();
        assert_eq!(c.active(None).unwrap().unwrap().name, "kie");
        c.add(Profile::new("main"), false).unwrap();
        assert!(
            c.active(None).unwrap().is_none(),
            "two profiles, no default"
        );
        c.set_default("main").unwrap();
        assert_eq!(c.active(None).unwrap().unwrap().name, "main");
        assert_eq!(c.active(Some("kie")).unwrap().unwrap().name, "kie");
        let err = c.active(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("kie, main"), "{err}");
    }

    #[test]
    fn set_key_reaches_only_known_profiles() {
        let mut c = Config::default();
        c.add(Profile::new("main"), false).unwrap();
        c.set_key("main", key("test-abcdefghijklmnop1234")).unwrap();
        assert_eq!(
            c.profile("main")
                .unwrap()
                .api_key
                .as_ref()
                .unwrap()
                .expose(),
            "test-abcdefghijklmnop1234"
        );
        assert!(c.set_key("other", key("x")).is_err());
        c.set_key("main", None).unwrap();
        assert!(c.profile("main").unwrap().api_key.is_none());
    }

    #[test]
    fn presets_point_at_their_services() {
        assert_eq!(Preset::from_name("KIE"), Some(Preset::Kie));
        let kie = Preset::Kie.profile("kie");
        assert_eq!(kie.base_url, "https://api.kie.ai");
        assert_eq!(kie.upload_url.as_deref(), Some(KIE_UPLOAD_URL));
        let four = Preset::FourOImageApi.profile("main");
        assert_eq!(four.base_url, DEFAULT_BASE_URL);
        assert_eq!(four.upload_url, None);
    }
}
