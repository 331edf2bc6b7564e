//! What the terminal can show and how big its cells are, asked once at start-up (raw mode on,
//! before mouse reporting is enabled and before the event reader starts).
//!
//! One query, one bounded wait (`PROBE_TIMEOUT` in all): a kitty graphics query, the cell size
//! (`CSI 16 t`), the window size in pixels (`CSI 14 t`), the largest sixel image (XTSMGRAPHICS)
//! and last the primary device attributes (DA1), which every terminal that answers anything
//! answers, in order, so its reply ends the wait. What the terminal answers wins over what the
//! environment names: kitty graphics where the kitty query is answered, then iTerm2 where the
//! terminal is known to have it, then sixel where DA1 lists it, then half blocks.
//! After this returns nothing but crossterm's reader reads the terminal.

use std::time::Duration;

use super::tmux::{Outer, ask_tmux};
use super::{CellSize, Graphics, Protocol};

/// How long the terminal may take to answer the whole query.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// The kitty query (a 1x1 image, `a=q`: nothing stored or shown), cell size, window size in
/// pixels, sixel geometry, then DA1.
const QUERY: &[u8] = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[14t\x1b[?2;1S\x1b[c";

/// The largest sixel image sent to a terminal that does not say (xterm's default limit).
pub const SIXEL_MAX: (u32, u32) = (1000, 1000);

/// The cell size assumed when nothing tells it (logged as a guess).
pub const GUESS: (u32, u32) = (8, 16);

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
}

/// What the terminal said, parsed: each field is `None` (or false) when it did not say it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kitty: bool,
    /// DA1's attributes; `None` when DA1 never came.
    pub da1: Option<Vec<u32>>,
    /// `CSI 6 ; h ; w t`, as (w, h).
    pub cell: Option<(u32, u32)>,
    /// `CSI 4 ; h ; w t`, as (w, h).
    pub window: Option<(u32, u32)>,
    /// XTSMGRAPHICS: the largest sixel image, as (w, h).
    pub sixel_max: Option<(u32, u32)>,
}

impl Reply {
    pub fn sixel(&self) -> bool {
        self.da1.as_ref().is_some_and(|a| a.contains(&4))
    }

    /// Parses whatever came back: answers in any order, cut short, or mixed with key presses
    /// (which are skipped).
    pub fn parse(bytes: &[u8]) -> Reply {
        let mut reply = Reply::default();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != 0x1b {
                i += 1;
                continue;
            }
            match bytes.get(i + 1) {
                Some(b'_') => {
                    let body = &bytes[i + 2..];
                    let end = find(body, b"\x1b\\").or_else(|| find(body, b"\x07"));
                    let Some(end) = end else { break };
                    let apc = &body[..end];
                    if apc.starts_with(b"G") && find(apc, b"i=31").is_some() && apc.ends_with(b"OK")
                    {
                        reply.kitty = true;
                    }
                    i += 2 + end + 1;
                }
                Some(b'[') => {
                    let body = &bytes[i + 2..];
                    let Some(end) = body.iter().position(|b| (0x40..=0x7e).contains(b)) else {
                        break;
                    };
                    reply.csi(&body[..end], body[end]);
                    i += 2 + end + 1;
                }
                _ => i += 1,
            }
        }
        reply
    }

    /// One CSI answer: `params` between `[` and the final byte.
    fn csi(&mut self, params: &[u8], last: u8) {
        let private = params.first() == Some(&b'?');
        let text = String::from_utf8_lossy(if private { &params[1..] } else { params });
        let nums: Vec<u32> = text.split(';').filter_map(|n| n.parse().ok()).collect();
        let positive = |w: u32, h: u32| (w > 0 && h > 0).then_some((w, h));
        match (private, last, nums.as_slice()) {
            (true, b'c', attrs) => self.da1 = Some(attrs.to_vec()),
            (false, b't', [6, h, w]) => self.cell = positive(*w, *h),
            (false, b't', [4, h, w]) => self.window = positive(*w, *h),
            (true, b'S', [2, 0, w, h]) => self.sixel_max = positive(*w, *h),
            _ => {}
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the environment says about the terminal, read once.
#[derive(Debug, Default, Clone)]
pub struct Env {
    /// `FOURO_IMAGE_PROTOCOL`, raw.
    pub forced: Option<String>,
    pub tmux: bool,
    pub term: String,
    /// A terminal known to show iTerm2 inline images (iTerm2, WezTerm, mintty, …).
    pub iterm: bool,
    /// Konsole, which drops sixel and iTerm2 images only on erase-display.
    pub konsole: bool,
    /// Inside tmux: what tmux knows of the terminal it runs in.
    pub outer: Option<Outer>,
}

impl Env {
    pub fn read() -> Env {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        let term = var("TERM");
        let program = var("TERM_PROGRAM");
        let iterm = ["iTerm.app", "WezTerm", "mintty", "vscode", "Tabby", "rio"]
            .iter()
            .any(|p| program.eq_ignore_ascii_case(p))
            || var("LC_TERMINAL").eq_ignore_ascii_case("iTerm2");
        Env {
            forced: std::env::var("FOURO_IMAGE_PROTOCOL")
                .ok()
                .filter(|v| !v.is_empty()),
            tmux: !var("TMUX").is_empty() || term.starts_with("tmux") || term.starts_with("screen"),
            iterm,
            konsole: !var("KONSOLE_VERSION").is_empty(),
            term,
            outer: None,
        }
    }

    /// Whether the terminal is worth asking at all.
    fn can_ask(&self) -> bool {
        let blocks = matches!(
            self.forced.as_deref().and_then(Protocol::from_name),
            Some(Protocol::Blocks)
        );
        self.term != "dumb" && !self.term.is_empty() && !blocks
    }
}

/// Picks the protocol and the cell size from the environment and the reply (`None`: nothing
/// came back in time). `cells` is the window's size in cells, `ioctl_px` its size in pixels
/// as the kernel knows it (0 when unknown).
pub fn decide(
    env: &Env,
    reply: Option<&Reply>,
    cells: (u16, u16),
    ioctl_px: (u16, u16),
) -> Graphics {
    let empty = Reply::default();
    let r = reply.unwrap_or(&empty);
    let (cols, rows) = (u32::from(cells.0.max(1)), u32::from(cells.1.max(1)));
    let cell = if let Some(c) = r.cell {
        CellSize::Reported(c)
    } else if let Some((w, h)) = r.window.filter(|(w, h)| w / cols > 0 && h / rows > 0) {
        CellSize::Window((w / cols, h / rows))
    } else if ioctl_px.0 as u32 / cols > 0 && ioctl_px.1 as u32 / rows > 0 {
        CellSize::Ioctl((u32::from(ioctl_px.0) / cols, u32::from(ioctl_px.1) / rows))
    } else {
        CellSize::Guess(GUESS)
    };
    let forced = env.forced.as_deref();
    let mut note = None;
    let protocol = match forced.map(|f| (f, Protocol::from_name(f))) {
        Some((_, Some(p))) => {
            let advertised = match p {
                // In tmux the terminal is not asked; `tmux_note` speaks for it.
                Protocol::Kitty => r.kitty || env.tmux,
                Protocol::Sixel => r.sixel(),
                // No terminal says it has iTerm2's protocol: it cannot be asked.
                Protocol::Iterm => true,
                Protocol::Blocks => true,
            };
            if !advertised {
                note = Some(format!(
                    "FOURO_IMAGE_PROTOCOL={}: this terminal did not say it has {}; images may not show (unset it to let fouro choose)",
                    forced.unwrap_or_default().trim(),
                    p.label()
                ));
            }
            p
        }
        Some((bad, None)) => {
            note = Some(format!(
                "FOURO_IMAGE_PROTOCOL={bad:?} is not one of blocks, kitty, iterm, sixel: fouro chose by itself"
            ));
            auto(env, r)
        }
        None => auto(env, r),
    };
    Graphics {
        protocol,
        cell,
        // xterm takes no sixel image over 1000x1000 unless told otherwise, and does not always
        // answer the question: where nothing is said, its default is the limit.
        sixel_max: r.sixel_max.or(Some(SIXEL_MAX)),
        erase_to_remove: env.konsole && matches!(protocol, Protocol::Sixel | Protocol::Iterm),
        tmux: env.tmux && protocol == Protocol::Kitty,
        note: note.or_else(|| tmux_note(env, protocol)),
    }
}

/// What a person should know about kitty graphics in tmux.
fn tmux_note(env: &Env, protocol: Protocol) -> Option<String> {
    let outer = env.outer.as_ref()?;
    if !env.tmux || protocol != Protocol::Kitty {
        None
    } else if !outer.passthrough {
        Some("tmux does not pass images on: run `tmux set -g allow-passthrough on` (tmux 3.3 or later) and start fouro again".to_owned())
    } else if !outer.placeholders() {
        Some(format!(
            "the terminal outside tmux ({}) may not draw kitty's Unicode placeholders (kitty 0.28 or later and ghostty do): unset FOURO_IMAGE_PROTOCOL for half blocks",
            if outer.termtype.is_empty() {
                "unknown"
            } else {
                &outer.termtype
            }
        ))
    } else {
        None
    }
}

/// The terminal's answer over the environment's names.
fn auto(env: &Env, r: &Reply) -> Protocol {
    if env.tmux {
        // tmux redraws over images it does not know of. Kitty's placeholders are text that
        // tmux keeps; elsewhere half blocks are its own cells.
        match &env.outer {
            Some(o) if o.passthrough && o.placeholders() => Protocol::Kitty,
            Some(o) if o.sixel => Protocol::Sixel,
            _ => Protocol::Blocks,
        }
    } else if r.kitty {
        Protocol::Kitty
    } else if env.iterm {
        Protocol::Iterm
    } else if r.sixel() {
        Protocol::Sixel
    } else {
        Protocol::Blocks
    }
}

/// Asks the terminal (bounded) and decides. Call once, in raw mode, before anything else
/// reads stdin.
pub async fn probe() -> Graphics {
    let mut env = Env::read();
    if env.tmux {
        env.outer = ask_tmux().await;
    }
    let reply = if env.can_ask() && !env.tmux {
        ask_terminal(QUERY, PROBE_TIMEOUT).await
    } else {
        None
    };
    let reply = reply.map(|bytes| Reply::parse(&bytes));
    let cells = crossterm::terminal::size().unwrap_or((80, 24));
    let px = crossterm::terminal::window_size()
        .map(|s| (s.width, s.height))
        .unwrap_or((0, 0));
    let graphics = decide(&env, reply.as_ref(), cells, px);
    if reply.is_none() && env.can_ask() && !env.tmux {
        tracing::info!("the terminal did not answer the query in {PROBE_TIMEOUT:?}");
    }
    if let Some(note) = &graphics.note {
        tracing::warn!("{note}");
    }
    graphics
}

/// Whether `reply` holds a complete DA1 answer (`ESC [ ? … c`), which ends the query.
fn da1_complete(reply: &[u8]) -> bool {
    Reply::parse(reply).da1.is_some()
}

/// Writes `query` and reads the terminal's answer until DA1 ends it or `timeout` passes.
/// The terminal is read through a duplicate of its descriptor, registered with tokio's
/// reactor only for the query: nothing is left reading once this returns.
#[cfg(unix)]
async fn ask_terminal(query: &[u8], timeout: Duration) -> Option<Vec<u8>> {
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
    // `AsyncFd` owns the `File`. The one `unsafe` in fouro: tokio registers only descriptors.
    #[allow(unsafe_code)]
    let input = unsafe { AsyncFd::register_with_interest(input, Interest::READABLE) }.ok()?;
    let mut out = std::io::stdout();
    out.write_all(query).ok()?;
    out.flush().ok()?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut reply = Vec::new();
    // Bounded: a terminal that floods the input cannot grow this without end.
    while !da1_complete(&reply) && reply.len() < 64 * 1024 {
        let Ok(Ok(mut ready)) = tokio::time::timeout_at(deadline, input.readable()).await else {
            break;
        };
        let mut buf = [0u8; 4096];
        // In raw mode a read returns what is there; the readiness is cleared after each read
        // so the next wait is for new bytes, never a read that blocks.
        match ready.try_io(|fd| fd.get_ref().read(&mut buf)) {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                reply.extend_from_slice(&buf[..n]);
                ready.clear_ready();
            }
            Err(_would_block) => {}
        }
    }
    (!reply.is_empty()).then_some(reply)
}

#[cfg(not(unix))]
async fn ask_terminal(_query: &[u8], _timeout: Duration) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const XTERM: &[u8] =
        b"\x1b[6;17;8t\x1b[4;748;1200t\x1b[?2;0;1000;1000S\x1b[?63;1;2;4;6;9;15;16;22;28c";
    const KITTY: &[u8] = b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[4;880;1500t\x1b[?62;c";

    fn env() -> Env {
        Env {
            term: "xterm-256color".into(),
            ..Env::default()
        }
    }

    #[test]
    fn reads_every_answer() {
        let r = Reply::parse(XTERM);
        assert!(!r.kitty && r.sixel());
        assert_eq!(r.cell, Some((8, 17)));
        assert_eq!(r.window, Some((1200, 748)));
        assert_eq!(r.sixel_max, Some((1000, 1000)));
        let r = Reply::parse(KITTY);
        assert!(r.kitty && !r.sixel());
        assert_eq!(r.cell, Some((10, 20)));
        assert_eq!(Reply::parse(b""), Reply::default());
    }

    #[test]
    fn the_answer_wins_over_the_environment() {
        let r = Reply::parse(KITTY);
        // Konsole names itself, answers the kitty query, and gets kitty.
        let konsole = Env {
            konsole: true,
            ..env()
        };
        let g = decide(&konsole, Some(&r), (150, 44), (0, 0));
        assert_eq!(g.protocol, Protocol::Kitty);
        assert!(!g.erase_to_remove);
        assert_eq!(g.cell, CellSize::Reported((10, 20)));
        let g = decide(&env(), Some(&Reply::parse(XTERM)), (150, 44), (0, 0));
        assert_eq!(
            (g.protocol, g.cell),
            (Protocol::Sixel, CellSize::Reported((8, 17)))
        );
        let iterm = Env {
            iterm: true,
            ..env()
        };
        let g = decide(&iterm, Some(&Reply::parse(XTERM)), (150, 44), (0, 0));
        assert_eq!(g.protocol, Protocol::Iterm);
        let g = decide(
            &env(),
            Some(&Reply::parse(b"\x1b[?62;22c")),
            (80, 24),
            (0, 0),
        );
        assert_eq!(g.protocol, Protocol::Blocks);
    }

    #[test]
    fn late_partial_interleaved_or_missing_answers() {
        // Key presses around and between the answers are skipped.
        let mixed = b"ab\x1b[6;17;8tq\x1b[Ax\x1b_Gi=31;OK\x1b\\z\x1b[?62;4c";
        let r = Reply::parse(mixed);
        assert!(r.kitty && r.sixel());
        assert_eq!(r.cell, Some((8, 17)));
        // Cut short (the wait ended): what came is used, the cut answer ignored.
        let r = Reply::parse(b"\x1b[6;17;8t\x1b[4;74");
        assert_eq!((r.cell, r.window, r.da1), (Some((8, 17)), None, None));
        let r = Reply::parse(b"\x1b_Gi=31;O");
        assert!(!r.kitty);
        // A kitty error is no support; a zero size is no size.
        assert!(!Reply::parse(b"\x1b_Gi=31;ENOTSUPPORTED\x1b\\").kitty);
        assert_eq!(Reply::parse(b"\x1b[6;0;0t").cell, None);
        // Nothing came: half blocks and a guessed cell, or the kernel's pixel size.
        let g = decide(&env(), None, (100, 40), (0, 0));
        assert_eq!(
            (g.protocol, g.cell),
            (Protocol::Blocks, CellSize::Guess(GUESS))
        );
        let g = decide(&env(), None, (100, 40), (900, 800));
        assert_eq!(g.cell, CellSize::Ioctl((9, 20)));
        // The window's pixel size over the cells when the cell size is not told.
        let g = decide(
            &env(),
            Some(&Reply::parse(b"\x1b[4;680;1000t\x1b[?1;2c")),
            (100, 40),
            (0, 0),
        );
        assert_eq!(g.cell, CellSize::Window((10, 17)));
        assert!(da1_complete(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4c"));
        assert!(!da1_complete(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4"));
    }

    #[test]
    fn a_forced_protocol_is_used_and_a_doubt_is_said() {
        let forced = |p: &str| Env {
            forced: Some(p.into()),
            ..env()
        };
        let xterm = Reply::parse(XTERM);
        let g = decide(&forced("sixel"), Some(&xterm), (150, 44), (0, 0));
        assert_eq!((g.protocol, g.note.is_none()), (Protocol::Sixel, true));
        let g = decide(&forced("kitty"), Some(&xterm), (150, 44), (0, 0));
        assert_eq!(g.protocol, Protocol::Kitty);
        assert!(
            g.note
                .as_deref()
                .unwrap_or_default()
                .contains("did not say")
        );
        let g = decide(&forced("Blocks "), None, (150, 44), (0, 0));
        assert_eq!((g.protocol, g.note), (Protocol::Blocks, None));
        let g = decide(&forced("png"), Some(&xterm), (150, 44), (0, 0));
        assert_eq!(g.protocol, Protocol::Sixel);
        assert!(g.note.unwrap_or_default().contains("not one of"));
        // Konsole keeps sixel and iTerm2 images until the screen is erased.
        let konsole = Env {
            konsole: true,
            ..forced("iterm")
        };
        assert!(decide(&konsole, None, (150, 44), (0, 0)).erase_to_remove);
        assert!(!forced("blocks").can_ask());
    }

    #[test]
    fn tmux_gets_kitty_placeholders_where_the_outer_terminal_draws_them() {
        let tmux = |termtype: &str, pass: &str| Env {
            tmux: true,
            outer: Some(Outer::parse(&format!("{pass}|title,bpaste|{termtype}\n"))),
            ..env()
        };
        let kitty_new = tmux("kitty(0.35.2)", "1");
        let g = decide(&kitty_new, None, (80, 24), (0, 0));
        assert_eq!((g.protocol, g.tmux), (Protocol::Kitty, true));
        assert_eq!(
            g.describe(),
            "kitty graphics through tmux · cells 8×16 px (guessed)"
        );
        assert!(decide(&tmux("ghostty 1.1.3", "on"), None, (80, 24), (0, 0)).tmux);
        // Kitty before 0.28 has no placeholders; passthrough off lets nothing through.
        for (t, p) in [
            ("kitty(0.26.5)", "1"),
            ("kitty(0.35.2)", "0"),
            ("XTerm(379)", "1"),
            ("", ""),
        ] {
            let g = decide(&tmux(t, p), None, (80, 24), (0, 0));
            assert_eq!(
                (g.protocol, g.tmux, g.note),
                (Protocol::Blocks, false, None),
                "{t} {p}"
            );
        }
        // Forced kitty with passthrough off: used, and the fix is said.
        let forced = Env {
            forced: Some("kitty".into()),
            ..tmux("kitty(0.35.2)", "0")
        };
        let g = decide(&forced, None, (80, 24), (0, 0));
        assert!(g.tmux && g.note.unwrap_or_default().contains("allow-passthrough on"));
        let forced_old = Env {
            forced: Some("kitty".into()),
            ..tmux("kitty(0.26.5)\x1b]0;x", "1")
        };
        let note = decide(&forced_old, None, (80, 24), (0, 0))
            .note
            .unwrap_or_default();
        assert!(note.contains("(kitty(0.26.5)]0;x) may not draw"), "{note}");
        assert!(Outer::parse("all||kitty(0.28.0)").passthrough);
        assert!(Outer::parse("all||kitty(0.28.0)").placeholders());
        assert!(!Outer::parse("1||kitty(0.27.9)").placeholders());
        // tmux with sixel (3.4 built with it) in a sixel terminal draws sixel itself.
        let sixel = Env {
            outer: Some(Outer::parse("0|bpaste,sixel,title|XTerm(390)")),
            ..tmux("", "")
        };
        let g = decide(&sixel, None, (80, 24), (0, 0));
        assert_eq!((g.protocol, g.tmux, g.note), (Protocol::Sixel, false, None));
    }

    #[test]
    fn tmux_gets_half_blocks_unless_forced() {
        let tmux = Env {
            tmux: true,
            ..env()
        };
        assert_eq!(
            decide(&tmux, Some(&Reply::parse(KITTY)), (80, 24), (0, 0)).protocol,
            Protocol::Blocks
        );
        assert_eq!(Protocol::from_name(" Kitty "), Some(Protocol::Kitty));
    }
}
