//! What fouro keeps on disk: the history database and journal, and `config.toml`.

#[path = "../common/mod.rs"]
mod common;

mod config;
mod count;
mod history;
mod scale;
