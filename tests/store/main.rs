//! What fouro keeps on disk: the history database and journal, and `config.toml`.

#[path = "../common/mod.rs"]
mod common;

use fouro::store::{Params, Query};

mod config;
mod count;
mod history;
mod scale;
mod search;

/// A task asking for `text`, every other parameter as by default.
fn prompt(text: &str) -> Params {
    Params {
        prompt: Some(text.to_owned()),
        ..Params::default()
    }
}

/// Entries whose prompt or task id holds `text`.
fn search(text: &str) -> Query {
    Query {
        search: Some(text.to_owned()),
        ..Query::default()
    }
}
