//! Where fouro keeps its files.

use std::path::PathBuf;

/// The data directory: `FOURO_DATA_DIR`, else the platform's (e.g. `~/.local/share/fouro`).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FOURO_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "fouro")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".fouro"))
}
