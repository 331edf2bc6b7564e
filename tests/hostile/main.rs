//! The real binary against a hostile server on 127.0.0.1 (`server`): the CLI (`cli`) and the
//! app in tmux (`app`) show nothing it says raw, refuse what is too large or not what it
//! claims, and never panic; and mutation fuzzing of every parser that reads outside bytes
//! (`fuzz`).

#[path = "../common/mod.rs"]
mod common;

mod app;
mod cli;
mod fuzz;
mod server;

use std::path::Path;

use common::{Fouro, KEY};

/// The binary against `base` with the test key.
fn fouro_at(base: &str, data: &Path) -> Fouro {
    Fouro::new(data)
        .env("FOURO_BASE_URL", base)
        .env("FOURO_API_KEY", KEY)
}

/// No ESC, BEL, C1 control (raw or as UTF-8), U+FFFD or other control byte but line breaks.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert_no_controls(what, &text, |c| c == '\u{fffd}');
}

/// UTF-8 (what was not is shown as U+FFFD) with no ESC, BEL, C1 or other control character but
/// line breaks.
fn assert_inert_utf8(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    assert_no_controls(what, text, |_| false);
}

fn assert_no_controls(what: &str, text: &str, also: impl Fn(char) -> bool) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || also(*c))
        .collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}: {text}");
}
