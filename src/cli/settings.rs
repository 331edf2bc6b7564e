//! The settings in force: the command line, then the environment, then the active profile of
//! `config.toml`, then fouro's defaults. Resolved once per process; the config's warnings are
//! printed then, once.

use std::path::{Path, PathBuf};

use crate::api::ApiKey;
use crate::config::{
    self, Config, ConfigError, ConfigWarning, Partial, Resolved, Settings, Source, resolve,
};

use super::{Failure, GlobalArgs, exit};

/// The variable that names the profile when `--profile` does not.
pub const ENV_PROFILE: &str = "FOURO_PROFILE";

/// What this run works with: the resolved settings and the parts of `config.toml` that are not
/// per profile.
#[derive(Debug, Clone)]
pub struct Account {
    pub resolved: Resolved,
    /// Warn before a generate when the balance is below this (`low_balance` in the file).
    pub low_balance: Option<f64>,
    /// The file the profile came from (it may not exist).
    pub config_file: PathBuf,
}

impl Account {
    /// "key from profile \"work\" (/home/me/.config/fouro/config.toml)", and so on.
    pub fn key_origin(&self) -> String {
        origin(
            &self.resolved.api_key_source,
            &self.config_file,
            config::ENV_API_KEY,
        )
    }
}

/// Where a value came from, in words, naming the file for a profile and the variable (`var`)
/// for the environment.
pub(crate) fn origin(source: &Source, config_file: &Path, var: &str) -> String {
    match source {
        Source::Profile(_) => format!("{source} ({})", config_file.display()),
        Source::Env => format!("{source} ({var})"),
        other => other.to_string(),
    }
}

/// What the command line says, as a [`Partial`]. No webhook key: secrets don't belong in argv.
pub(crate) fn flags(global: &GlobalArgs) -> Partial {
    Partial {
        base_url: global.base_url.clone(),
        upload_url: global.upload_url.clone(),
        api_key: global.api_key.as_deref().and_then(ApiKey::new),
        webhook_key: None,
        callback_listen: global.callback_listen,
        callback_public_url: global.callback_public_url.clone(),
    }
}

/// The profile asked for: `--profile`, else `FOURO_PROFILE`; `None` lets the file decide.
pub(crate) fn profile_name(
    global: &GlobalArgs,
    var: &impl Fn(&str) -> Option<String>,
) -> Option<String> {
    global
        .profile
        .clone()
        .or_else(|| var(ENV_PROFILE))
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
}

/// Loads `<dir>/config.toml` and resolves the settings against its active profile. `var` reads
/// the environment (the process's in the binary, a map in tests).
pub(crate) fn load(
    global: &GlobalArgs,
    var: impl Fn(&str) -> Option<String>,
    dir: &Path,
) -> Result<(Account, Vec<ConfigWarning>), ConfigError> {
    let env = Partial::from_env(&var)?;
    let name = profile_name(global, &var);
    let loaded = Config::load(dir)?;
    let profile = loaded.config.active(name.as_deref())?;
    let resolved = resolve(
        Settings {
            flag: flags(global),
            env,
        },
        profile,
    );
    let account = Account {
        resolved,
        low_balance: loaded.config.low_balance,
        config_file: config::config_file(dir),
    };
    Ok((account, loaded.warnings))
}

/// The settings without any profile, for when `config.toml` cannot be used: the command line,
/// then whatever of the environment parses.
pub(crate) fn without_config(global: &GlobalArgs) -> Resolved {
    let env = Partial::from_env(|k| std::env::var(k).ok()).unwrap_or_default();
    resolve(
        Settings {
            flag: flags(global),
            env,
        },
        None,
    )
}

/// A config error as a person reads it, with the exit code that fits: a file that cannot be
/// read or written is local I/O (1); anything wrong in it, or a profile that is not there, is
/// a usage error (2).
pub(crate) fn config_failure(e: ConfigError) -> Failure {
    let code = match e {
        ConfigError::Read { .. } | ConfigError::Write { .. } => exit::UNEXPECTED,
        _ => exit::USAGE,
    };
    Failure::Said {
        message: e.to_string(),
        code,
    }
}

/// Prints what loading the config has to tell the person.
pub(crate) fn print_warnings(warnings: &[ConfigWarning]) {
    for w in warnings {
        crate::cli::print::errln!("fouro: warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut argv = vec!["fouro"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").global
    }

    fn write(dir: &Path, text: &str) {
        std::fs::write(config::config_file(dir), text).expect("written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                config::config_file(dir),
                std::fs::Permissions::from_mode(0o600),
            )
            .expect("chmod");
        }
    }

    const FILE: &str = r#"
default_profile = "a"
low_balance = 20
[profiles.a]
base_url = "http://127.0.0.1:1"
api_key = "key-of-profile-a-0123456789"
webhook_key = "hook-of-a"
[profiles.b]
base_url = "http://127.0.0.1:2"
upload_url = "http://127.0.0.1:3"
"#;

    #[test]
    fn flag_beats_env_beats_profile() {
        let dir = tempfile::tempdir().expect("a temp dir");
        write(dir.path(), FILE);
        let env: HashMap<&str, &str> = HashMap::new();
        let var = |k: &str| env.get(k).map(|v| v.to_string());
        let (a, warnings) = load(&global(&[]), var, dir.path()).expect("loads");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(a.resolved.base_url, "http://127.0.0.1:1");
        assert_eq!(a.resolved.api_key_source, Source::Profile("a".into()));
        assert_eq!(
            a.resolved.webhook_key.as_ref().map(ApiKey::expose),
            Some("hook-of-a")
        );
        assert_eq!(a.low_balance, Some(20.0));

        let env: HashMap<&str, &str> = [
            ("FOURO_BASE_URL", "http://127.0.0.1:9"),
            ("FOURO_API_KEY", "env-key"),
            ("FOURO_PROFILE", "b"),
        ]
        .into();
        let var = |k: &str| env.get(k).map(|v| v.to_string());
        let (a, _) = load(&global(&[]), var, dir.path()).expect("loads");
        assert_eq!(a.resolved.profile.as_deref(), Some("b"));
        assert_eq!(a.resolved.base_url, "http://127.0.0.1:9");
        assert_eq!(a.resolved.base_url_source, Source::Env);
        assert_eq!(
            a.resolved.upload_url, None,
            "b's upload URL stays with b's base"
        );
        assert_eq!(a.resolved.api_key_source, Source::Env);

        let (a, _) = load(
            &global(&["--profile", "a", "--api-key", "flag-key", "status", "x"]),
            var,
            dir.path(),
        )
        .expect("loads");
        assert_eq!(
            a.resolved.profile.as_deref(),
            Some("a"),
            "the flag beats FOURO_PROFILE"
        );
        assert_eq!(
            a.resolved.api_key.as_ref().map(ApiKey::expose),
            Some("flag-key")
        );
        assert_eq!(a.resolved.api_key_source, Source::Flag);
        assert!(
            a.key_origin().contains("command line"),
            "{}",
            a.key_origin()
        );
    }

    #[test]
    fn an_unknown_profile_or_a_bad_variable_is_a_usage_error() {
        let dir = tempfile::tempdir().expect("a temp dir");
        write(dir.path(), FILE);
        let none = |_: &str| None;
        let err = load(&global(&["--profile", "nope"]), none, dir.path()).unwrap_err();
        let failure = config_failure(err);
        assert_eq!(failure.exit_code(), exit::USAGE);
        assert!(failure.to_string().contains("a, b"), "{failure}");

        let bad = |k: &str| (k == "FOURO_CALLBACK_LISTEN").then(|| "nowhere".to_owned());
        let err = load(&global(&[]), bad, dir.path()).unwrap_err();
        assert!(err.to_string().contains("FOURO_CALLBACK_LISTEN"), "{err}");

        write(dir.path(), "[profiles.a]\nbase_url = 3\n");
        let err = load(&global(&[]), none, dir.path()).unwrap_err();
        assert_eq!(config_failure(err).exit_code(), exit::USAGE);
    }
}
