//! Reading and writing `config.toml`: private to its owner, replaced atomically, and loaded
//! without losing keys this version of fouro does not know.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::api::{ApiKey, DEFAULT_BASE_URL};
use crate::config::error::{ConfigError, ConfigWarning};
use crate::config::profiles::{Config, Profile, validate_name};

/// The file's name inside the config directory.
pub const CONFIG_FILE: &str = "config.toml";

/// `<dir>/config.toml`.
pub fn config_file(dir: &Path) -> PathBuf {
    dir.join(CONFIG_FILE)
}

/// What [`Config::load`] found, and what it has to tell the person (print every warning).
#[derive(Debug, Default)]
#[must_use]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<ConfigWarning>,
}

/// Written at the top of every saved file: `toml` keeps no comments of the person's.
const HEADER: &str = "\
# fouro's configuration. fouro rewrites this file when a profile changes (`fouro profile ...`):
# every setting is kept, comments are not. It holds API keys: keep it private (mode 0600).

";

const TOP_KEYS: [&str; 8] = [
    "default_profile",
    "keys",
    "low_balance",
    "notify",
    "notify_after_secs",
    "profiles",
    "queue_parallel",
    "theme",
];
const PROFILE_KEYS: [&str; 6] = [
    "base_url",
    "upload_url",
    "api_key",
    "webhook_key",
    "callback_listen",
    "callback_public_url",
];

impl Config {
    /// Reads `<dir>/config.toml`; a missing file is an empty config. On unix a file that others
    /// may read is made private (and a warning says so), and one owned by another user is refused.
    pub fn load(dir: &Path) -> Result<Loaded, ConfigError> {
        let path = config_file(dir);
        let read_err = |source| ConfigError::Read {
            path: path.clone(),
            source,
        };
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(read_err(e)),
        };
        #[cfg(unix)]
        let mut warnings: Vec<ConfigWarning> = private::check(&file, &path)?.into_iter().collect();
        #[cfg(not(unix))]
        let mut warnings: Vec<ConfigWarning> = Vec::new();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(read_err)?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            message: format!(
                "it is not UTF-8 text (byte {} is not): save it as UTF-8",
                e.utf8_error().valid_up_to() + 1
            ),
        })?;
        let mut loaded = parse(&text, &path)?;
        warnings.append(&mut loaded.warnings);
        loaded.warnings = warnings;
        Ok(loaded)
    }

    /// Writes `<dir>/config.toml`, creating `dir` (0700 on unix) if needed. The new file is
    /// written beside the old one as 0600, synced, then renamed over it: the keys are never on
    /// disk readable by others, and a crash leaves the old file or the new one, never half.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let path = config_file(dir);
        let text = self.to_toml().map_err(|e| ConfigError::Write {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        create_private_dir(dir).map_err(|source| ConfigError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        // A symlinked config (a dotfiles repository) stays a symlink: replace its target.
        let target = match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(&path).unwrap_or(path),
            _ => path,
        };
        write_atomically(&target, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: target,
            source,
        })
    }

    /// Parses the text of a config file; `path` only names it in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        parse(text, path)
    }

    /// The file's text, keys included: for writing it, never for showing it.
    pub(crate) fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let raw = RawConfig {
            default_profile: self.default_profile.clone(),
            low_balance: self.low_balance,
            notify: self.notify,
            notify_after_secs: self.notify_after_secs,
            queue_parallel: self.queue_parallel,
            extra: self.extra.clone(),
            profiles: self
                .profiles
                .iter()
                .map(|(name, p)| (Name(name.clone()), RawProfile::from(p)))
                .collect(),
        };
        Ok(format!("{HEADER}{}", toml::to_string(&raw)?))
    }
}

fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    let parse_err = |e: toml::de::Error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: describe(&e, text),
    };
    // The typed pass gives errors with the line; the untyped one finds the keys it ignored.
    let raw: RawConfig = toml::from_str(text).map_err(parse_err)?;
    let table: toml::Table = text.parse().map_err(parse_err)?;

    let mut warnings = Vec::new();
    let mut unknown = |key: String| {
        warnings.push(ConfigWarning::UnknownKey {
            path: path.to_path_buf(),
            key,
        })
    };
    let mut extra = extra_keys(&table, &TOP_KEYS);
    extra.keys().for_each(|k| unknown(k.clone()));
    let keys = super::keys_section::read(text, path)?;
    // `[keys]` is written back as the person wrote it.
    if let Some(section) = table.get("keys") {
        extra.insert("keys".to_owned(), section.clone());
    }
    let theme = super::theme::read(text, path)?;
    if let Some(section) = table.get("theme") {
        extra.insert("theme".to_owned(), section.clone());
    }
    let raw_profiles = match table.get("profiles") {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    let mut profiles = BTreeMap::new();
    for (Name(name), p) in raw.profiles {
        let extra = match raw_profiles.get(&name) {
            Some(toml::Value::Table(t)) => extra_keys(t, &PROFILE_KEYS),
            _ => toml::Table::new(),
        };
        extra
            .keys()
            .for_each(|k| unknown(format!("profiles.{name}.{k}")));
        profiles.insert(name.clone(), p.into_profile(name, extra));
    }

    let mut default_profile = raw.default_profile;
    if let Some(name) = default_profile.take_if(|n| !profiles.contains_key(n)) {
        warnings.push(ConfigWarning::DanglingDefault {
            path: path.to_path_buf(),
            name,
        });
    }
    Ok(Loaded {
        config: Config {
            default_profile,
            low_balance: raw.low_balance,
            notify: raw.notify,
            notify_after_secs: raw.notify_after_secs,
            queue_parallel: raw.queue_parallel,
            profiles,
            extra,
            keys,
            theme,
        },
        warnings,
    })
}

/// toml's own `Display` quotes the offending line, which may be an `api_key = ...` line: say
/// where instead, and what.
pub(super) fn describe(e: &toml::de::Error, text: &str) -> String {
    let what = e.message().trim();
    match e.span() {
        Some(span) => at(text, span.start, what),
        None => what.to_owned(),
    }
}

/// `what`, prefixed with the line and column of byte `offset` in `text`.
pub(super) fn at(text: &str, offset: usize, what: &str) -> String {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {what}")
}

fn extra_keys(table: &toml::Table, known: &[&str]) -> toml::Table {
    table
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[derive(Deserialize, Serialize)]
struct RawConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_profile: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "balance"
    )]
    low_balance: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notify: Option<super::Notify>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notify_after_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue_parallel: Option<u32>,
    /// Unknown keys, kept for writing back; `parse` finds them.
    #[serde(flatten, skip_deserializing)]
    extra: toml::Table,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    profiles: BTreeMap<Name, RawProfile>,
}

/// A profile name, checked as it is read so that toml's error points at it.
#[derive(PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        let name = String::deserialize(d)?;
        validate_name(&name).map_err(serde::de::Error::custom)?;
        Ok(Name(name))
    }
}

#[derive(Deserialize, Serialize)]
#[serde(expecting = "a table of profile settings")]
struct RawProfile {
    #[serde(default = "default_base_url", deserialize_with = "http_url")]
    base_url: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_http_url"
    )]
    upload_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "secret"
    )]
    api_key: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "secret"
    )]
    webhook_key: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "listen_addr"
    )]
    callback_listen: Option<SocketAddr>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_http_url"
    )]
    callback_public_url: Option<String>,
    #[serde(flatten, skip_deserializing)]
    extra: toml::Table,
}

impl RawProfile {
    fn into_profile(self, name: String, extra: toml::Table) -> Profile {
        Profile {
            name,
            base_url: self.base_url,
            upload_url: self.upload_url,
            api_key: self.api_key.and_then(ApiKey::new),
            webhook_key: self.webhook_key.and_then(ApiKey::new),
            callback_listen: self.callback_listen,
            callback_public_url: self.callback_public_url,
            extra,
        }
    }
}

impl From<&Profile> for RawProfile {
    fn from(p: &Profile) -> RawProfile {
        let expose = |k: &Option<ApiKey>| k.as_ref().map(|k| k.expose().to_owned());
        RawProfile {
            base_url: p.base_url.clone(),
            upload_url: p.upload_url.clone(),
            api_key: expose(&p.api_key),
            webhook_key: expose(&p.webhook_key),
            callback_listen: p.callback_listen,
            callback_public_url: p.callback_public_url.clone(),
            extra: p.extra.clone(),
        }
    }
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

/// Checks an http(s) URL; the error names what is wrong and toml adds where.
pub(crate) fn check_http_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(_) => Err(format!("{url:?} must start with https:// or http://")),
        Err(e) => Err(format!("{url:?} is not a URL ({e})")),
    }
}

fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let url = String::deserialize(d)?;
    check_http_url(&url).map_err(serde::de::Error::custom)?;
    Ok(url.trim().to_owned())
}

fn opt_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    http_url(d).map(Some)
}

/// A key must be a string; anything else is refused without echoing the value, which serde's
/// "invalid type" message would do.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(Some(s)),
        _ => Err(serde::de::Error::custom(
            "a key must be a string in quotes, like \"sk-...\"",
        )),
    }
}

fn listen_addr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let addr = String::deserialize(d)?;
    addr.trim().parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "callback_listen = {addr:?} is not an address and port, like \"127.0.0.1:8787\""
        ))
    })
}

fn balance<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if !v.is_finite() || v < 0.0 {
        return Err(serde::de::Error::custom(
            "low_balance must be a number of credits, 0 or more",
        ));
    }
    Ok(Some(v))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{CONFIG_FILE}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let written = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename itself is only durable once the directory is synced.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
mod private {
    use std::fs::{File, Permissions};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;

    use crate::config::error::{ConfigError, ConfigWarning};

    /// Refuses a file of another user's; makes a file others may read private.
    pub(super) fn check(file: &File, path: &Path) -> Result<Option<ConfigWarning>, ConfigError> {
        let meta = file.metadata().map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // Root's files are trusted, as ssh trusts them: only root could have planted them.
        if let Some(me) = current_uid()
            && meta.uid() != me
            && meta.uid() != 0
        {
            return Err(ConfigError::ForeignOwner {
                path: path.to_path_buf(),
                owner: meta.uid(),
                me,
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 == 0 {
            return Ok(None);
        }
        // Through the open file, so the file checked is the file changed.
        file.set_permissions(Permissions::from_mode(0o600))
            .map_err(|source| ConfigError::NotPrivate {
                path: path.to_path_buf(),
                mode,
                source,
            })?;
        Ok(Some(ConfigWarning::ModeRepaired {
            path: path.to_path_buf(),
            old_mode: mode,
        }))
    }

    /// The effective uid, where std can tell it without libc (Linux: the owner of /proc/self).
    fn current_uid() -> Option<u32> {
        if cfg!(target_os = "linux") {
            std::fs::metadata("/proc/self").ok().map(|m| m.uid())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_positions_count_characters_and_quote_nothing() {
        let text = "# café crème\nlow_balance = 1\n[profiles.x]\napi_key = \"ok\"\nbase_url = \"ftp://é\"\n";
        let err = parse(text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(err.contains("line 5, column 12"), "{err}");
        assert!(!err.contains("ok"), "{err}");
        let err = parse("é = ", Path::new("c.toml")).unwrap_err().to_string();
        assert!(err.contains("line 1, column "), "{err}");
    }

    #[test]
    fn queue_parallel_is_read_kept_and_held_to_the_service_limit() {
        let path = Path::new("c.toml");
        assert_eq!(parse("", path).unwrap().config.queue_parallel(), 4);
        let loaded = parse("queue_parallel = 6\n", path).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.queue_parallel(), 6);
        let text = loaded.config.to_toml().unwrap();
        assert_eq!(parse(&text, path).unwrap().config.queue_parallel(), 6);
        assert_eq!(
            parse("queue_parallel = 50\n", path)
                .unwrap()
                .config
                .queue_parallel(),
            20
        );
        assert_eq!(
            parse("queue_parallel = 0\n", path)
                .unwrap()
                .config
                .queue_parallel(),
            1
        );
    }
}
