//! What can go wrong with `config.toml`, and what loading it may need to tell the person.
//!
//! No message carries a key: the only values quoted are paths, profile names and modes.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {}", crate::api::error::plain_io(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// `message` is toml's, which names the line and column and quotes the line.
    #[error(
        "{path} is not valid: {message}\nfix the file by hand, or move it away to start afresh"
    )]
    Parse { path: PathBuf, message: String },

    #[error("cannot write {path}: {}", crate::api::error::plain_io(source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "{path} is readable by others (mode {mode:04o}) and its mode could not be changed ({source}): \
         run `chmod 600 {path}`, then consider rotating the keys in it"
    )]
    NotPrivate {
        path: PathBuf,
        mode: u32,
        source: std::io::Error,
    },

    /// Someone else's file could point the base URL at their own server and collect the key.
    #[error(
        "{path} belongs to another user (uid {owner}, you are uid {me}), so fouro will not use it: \
         remove it, or set FOURO_CONFIG_DIR to a directory of your own"
    )]
    ForeignOwner { path: PathBuf, owner: u32, me: u32 },

    #[error(
        "{name:?} is not a valid profile name ({reason}): use 1 to 32 letters, digits, '-' or '_'"
    )]
    InvalidName { name: String, reason: &'static str },

    #[error("a profile named {name:?} exists already: replace it, or choose another name")]
    Exists { name: String },

    #[error("there is no profile named {name:?}: {}", known_list(.known))]
    Unknown { name: String, known: Vec<String> },

    /// A value from the environment that does not parse.
    #[error("{var}={value:?} is not valid: {reason}")]
    BadEnv {
        var: &'static str,
        value: String,
        reason: String,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "no profiles are configured yet".to_owned()
    } else {
        format!("the known ones are {}", known.join(", "))
    }
}

/// Something loading did or noticed that the person should be told; the caller prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigWarning {
    /// The file gave group or others some access; it is now 0600.
    ModeRepaired { path: PathBuf, old_mode: u32 },
    /// A key fouro does not know (a typo, or written by a newer fouro); kept as it is on save.
    UnknownKey { path: PathBuf, key: String },
    /// `default_profile` names no profile; it is ignored.
    DanglingDefault { path: PathBuf, name: String },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigWarning::ModeRepaired { path, old_mode } => write!(
                f,
                "{} was readable by others (mode {old_mode:04o}); its mode was set to 0600 — \
                 consider rotating the keys in it",
                path.display()
            ),
            ConfigWarning::UnknownKey { path, key } => write!(
                f,
                "{}: unknown key `{key}` ignored (a typo? it is kept in the file)",
                path.display()
            ),
            ConfigWarning::DanglingDefault { path, name } => write!(
                f,
                "{}: default_profile = {name:?} names no profile; it is ignored",
                path.display()
            ),
        }
    }
}
