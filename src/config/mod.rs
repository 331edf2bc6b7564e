//! Where fouro keeps its files, and `config.toml`: named profiles (service, key, callbacks) and
//! the rules that decide which setting wins.
//!
//! The file lives in [`config_dir()`]. An example, with every key fouro knows:
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```

mod error;
mod file;
pub mod keys;
pub mod keys_panes;
mod keys_section;
mod notify;
mod profiles;
mod resolve;
pub mod theme;

use std::ffi::OsString;
use std::path::PathBuf;

pub use error::{ConfigError, ConfigWarning};
pub use file::{CONFIG_FILE, Loaded, config_file};
pub use keys::Keymap;
pub use notify::Notify;
pub use profiles::{
    Config, KIE_BASE_URL, KIE_UPLOAD_URL, MAX_NAME_LEN, Preset, Profile, QUEUE_PARALLEL,
    validate_name,
};
pub use resolve::{
    ENV_API_KEY, ENV_BASE_URL, ENV_CALLBACK_LISTEN, ENV_CALLBACK_PUBLIC_URL, ENV_UPLOAD_URL,
    ENV_WEBHOOK_KEY, Partial, Resolved, Settings, Source, resolve,
};
pub use theme::Theme;

/// A commented `config.toml` showing every key; `fouro` can print it for a person to start from.
pub const EXAMPLE_CONFIG: &str = include_str!("example.toml");

/// The data directory: `FOURO_DATA_DIR`, else the platform's (e.g. `~/.local/share/fouro`).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FOURO_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "fouro")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".fouro"))
}

/// The variable that moves the config directory.
pub const ENV_CONFIG_DIR: &str = "FOURO_CONFIG_DIR";

/// The config directory: `FOURO_CONFIG_DIR`, else the platform's (e.g. `~/.config/fouro`).
/// The file itself is `config_file(&config_dir())`.
pub fn config_dir() -> PathBuf {
    config_dir_from(std::env::var_os(ENV_CONFIG_DIR))
}

/// [`config_dir`] for a given value of `FOURO_CONFIG_DIR`: testable without changing the
/// process environment.
pub fn config_dir_from(var: Option<OsString>) -> PathBuf {
    if let Some(dir) = var.filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "fouro")
        .map(|p| p.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".fouro"))
}
