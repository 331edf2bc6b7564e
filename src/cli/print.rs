//! Every line the subcommands print. Text goes through [`terminal_safe`] (JSON through
//! [`json_safe`]), so nothing that came from the service, a callback, the history or a file
//! name is ever interpreted by the terminal; and a closed stdout or stderr (`fouro history |
//! head -1`) is not an error: later lines to it are dropped and the command carries on, so a
//! `generate --wait` whose reader went away still follows its task and saves its images.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::text::{json_safe, terminal_safe};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write to stdout found it closed.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

fn write_to(closed: &AtomicBool, text: &str, line: bool, out: &mut dyn Write) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let res = out
        .write_all(text.as_bytes())
        .and_then(|()| if line { out.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| out.flush());
    // A reader that went away (EPIPE) or any other failure to write: there is nobody left to
    // tell, so stop writing there and let the command finish what it was doing.
    if let Err(e) = res {
        if e.kind() == ErrorKind::BrokenPipe {
            tracing::debug!("output closed by its reader");
        }
        closed.store(true, Ordering::Relaxed);
    }
}

/// One line (or, with `line` false, a piece of text) on stdout, made safe for a terminal.
pub fn stdout_text(args: std::fmt::Arguments<'_>, line: bool) {
    let text = args.to_string();
    let mut out = std::io::stdout().lock();
    write_to(&STDOUT_CLOSED, &terminal_safe(&text), line, &mut out);
}

/// One line (or a piece of text) on stderr, made safe for a terminal.
pub fn stderr_text(args: std::fmt::Arguments<'_>, line: bool) {
    let text = args.to_string();
    let mut err = std::io::stderr().lock();
    write_to(&STDERR_CLOSED, &terminal_safe(&text), line, &mut err);
}

/// One JSON value on a line of stdout, its strings free of raw control characters.
pub fn stdout_json(value: &serde_json::Value) {
    let text = value.to_string();
    let mut out = std::io::stdout().lock();
    write_to(&STDOUT_CLOSED, &json_safe(&text), true, &mut out);
}

/// Pieces of JSON on stdout, each free of raw control characters and followed by `after`
/// (`"\n"` for JSON Lines, `""` for the parts of one value), in one write: for output
/// written as it is read.
pub fn stdout_json_pieces(pieces: &[String], after: &str) {
    let mut text = String::new();
    for piece in pieces {
        text.push_str(&json_safe(piece));
        text.push_str(after);
    }
    let mut out = std::io::stdout().lock();
    write_to(&STDOUT_CLOSED, &text, false, &mut out);
}

/// `println!` for the subcommands: escaped, and quiet on a closed stdout.
macro_rules! outln {
    () => { $crate::cli::print::stdout_text(::std::format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::print::stdout_text(::std::format_args!($($arg)*), true) };
}

/// `print!` for the subcommands.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::print::stdout_text(::std::format_args!($($arg)*), false) };
}

/// `eprintln!` for the subcommands: escaped, and quiet on a closed stderr.
macro_rules! errln {
    () => { $crate::cli::print::stderr_text(::std::format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::print::stderr_text(::std::format_args!($($arg)*), true) };
}

/// `eprint!` for the subcommands.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::print::stderr_text(::std::format_args!($($arg)*), false) };
}

pub(crate) use {err, errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_output_is_noted_and_not_written_again() {
        let closed = AtomicBool::new(false);
        write_to(&closed, "x", true, &mut Closed);
        assert!(closed.load(Ordering::Relaxed));
        let mut buf = Vec::new();
        write_to(&closed, "y", true, &mut buf);
        assert!(buf.is_empty());
    }
}
