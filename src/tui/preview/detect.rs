//! Which image protocol the terminal speaks, decided once at start-up (raw mode on, before
//! mouse reporting is enabled and before the event reader starts).
//!
//! The environment decides when it can (`FOURO_IMAGE_PROTOCOL`, tmux/screen, iTerm2-like and
//! kitty-like terminals). Otherwise the terminal is asked once: a kitty graphics query followed
//! by a primary device attributes request (DA1), which every terminal that answers anything
//! answers, so the reply names both kitty support and sixel (attribute 4). The wait is bounded:
//! a silent terminal costs `PROBE_TIMEOUT` and gets half blocks. (viuer's own probes read stdin
//! with no time limit, and a reader left blocked would steal the first keys from the app.)

use std::time::Duration;

use super::Protocol;

/// How long a terminal may take to answer the query.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A 1x1 kitty image query (`a=q`: nothing is stored or shown), then DA1.
const QUERY: &[u8] = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[c";

impl Protocol {
    pub(super) fn from_name(name: &str) -> Option<Protocol> {
        match name.trim().to_ascii_lowercase().as_str() {
            "blocks" | "halfblocks" | "half-blocks" => Some(Protocol::Blocks),
            "kitty" => Some(Protocol::Kitty),
            "iterm" | "iterm2" => Some(Protocol::Iterm),
            "sixel" => Some(Protocol::Sixel),
            _ => None,
        }
    }

    /// Picks the protocol: `FOURO_IMAGE_PROTOCOL` (blocks, kitty, iterm, sixel) if set; half
    /// blocks inside tmux/screen; iTerm2's protocol where the environment names a terminal
    /// that has it; kitty's where it names kitty or ghostty; else what the terminal answers
    /// to within `PROBE_TIMEOUT`. Call once, in raw mode, before anything reads stdin.
    pub async fn detect() -> Protocol {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        if let Some(p) = Protocol::from_name(&var("FOURO_IMAGE_PROTOCOL")) {
            return p;
        }
        let term = var("TERM");
        if !var("TMUX").is_empty() || term.starts_with("tmux") || term.starts_with("screen") {
            return Protocol::Blocks;
        }
        if viuer::is_iterm_supported() {
            return Protocol::Iterm;
        }
        let program = var("TERM_PROGRAM").to_ascii_lowercase();
        if !var("KITTY_WINDOW_ID").is_empty() || term.contains("kitty") || program == "ghostty" {
            return Protocol::Kitty;
        }
        if term == "dumb" || term.is_empty() {
            return Protocol::Blocks;
        }
        match ask_terminal(QUERY, PROBE_TIMEOUT).await {
            Some(reply) => from_reply(&reply),
            None => {
                tracing::info!("the terminal did not answer the graphics query: half blocks");
                Protocol::Blocks
            }
        }
    }
}

/// Reads the answer to `QUERY`: kitty's OK, else sixel when DA1 lists attribute 4.
pub fn from_reply(reply: &str) -> Protocol {
    if reply.contains("\x1b_Gi=31;OK") {
        return Protocol::Kitty;
    }
    let attrs = reply
        .rsplit_once("\x1b[?")
        .and_then(|(_, rest)| rest.split_once('c'))
        .map(|(attrs, _)| attrs)
        .unwrap_or_default();
    if attrs.split(';').any(|a| a == "4") {
        Protocol::Sixel
    } else {
        Protocol::Blocks
    }
}

/// Whether `reply` holds a complete DA1 answer (`ESC [ ? … c`), which ends the query.
fn da1_complete(reply: &[u8]) -> bool {
    reply
        .windows(3)
        .position(|w| w == b"\x1b[?")
        .is_some_and(|at| reply[at..].contains(&b'c'))
}

/// Writes `query` and reads the terminal's answer until DA1 ends it or `timeout` passes.
/// The terminal is read through a duplicate of its descriptor, registered with tokio's
/// reactor only for the query: nothing is left reading once this returns.
#[cfg(unix)]
async fn ask_terminal(query: &[u8], timeout: Duration) -> Option<String> {
    use std::io::{IsTerminal, Read, Write};
    use std::os::fd::AsFd;
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    let input: std::fs::File = if std::io::stdin().is_terminal() {
        std::io::stdin().as_fd().try_clone_to_owned().ok()?.into()
    } else {
        std::fs::File::open("/dev/tty").ok()?
    };
    // SAFETY: the `File` owns its descriptor and keeps it open, unchanged, while the
    // `AsyncFd` owns the `File`.
    let input = unsafe { AsyncFd::register_with_interest(input, Interest::READABLE) }.ok()?;
    let mut out = std::io::stdout();
    out.write_all(query).ok()?;
    out.flush().ok()?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut reply = Vec::new();
    while !da1_complete(&reply) {
        let mut ready = tokio::time::timeout_at(deadline, input.readable())
            .await
            .ok()?
            .ok()?;
        let mut buf = [0u8; 4096];
        // In raw mode a read returns what is there; the readiness is cleared after each read
        // so the next wait is for new bytes, never a read that blocks.
        match ready.try_io(|fd| fd.get_ref().read(&mut buf)) {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => {
                reply.extend_from_slice(&buf[..n]);
                ready.clear_ready();
            }
            Err(_would_block) => {}
        }
    }
    Some(String::from_utf8_lossy(&reply).into_owned())
}

#[cfg(not(unix))]
async fn ask_terminal(_query: &[u8], _timeout: Duration) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kitty_and_sixel_from_the_reply() {
        assert_eq!(
            from_reply("\x1b_Gi=31;OK\x1b\\\x1b[?62;22c"),
            Protocol::Kitty
        );
        assert_eq!(from_reply("\x1b[?62;4;6;22c"), Protocol::Sixel);
        assert_eq!(from_reply("\x1b[?63;1;2;4c"), Protocol::Sixel);
        assert_eq!(from_reply("\x1b[?62;22c"), Protocol::Blocks);
        assert_eq!(from_reply("\x1b[?64;40c"), Protocol::Blocks);
        assert_eq!(from_reply(""), Protocol::Blocks);
        assert!(da1_complete(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4c"));
        assert!(!da1_complete(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4"));
        assert_eq!(Protocol::from_name(" Kitty "), Some(Protocol::Kitty));
    }
}
