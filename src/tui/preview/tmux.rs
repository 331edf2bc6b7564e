//! What tmux knows of the terminal it runs in: fouro asks tmux, not the terminal, since tmux
//! answers the terminal's questions itself.

/// The terminal outside tmux, as tmux saw it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outer {
    /// `client_termtype`: the outer terminal's answer to XTVERSION, e.g. `kitty(0.35.2)`.
    pub termtype: String,
    /// `allow-passthrough` is on: escape sequences may reach the outer terminal.
    pub passthrough: bool,
    /// `client_termfeatures` lists `sixel`: tmux was built with sixel and the terminal has it,
    /// so tmux draws sixel images itself, as its own cells.
    pub sixel: bool,
}

impl Outer {
    /// Parses the answer to [`TMUX_FORMAT`].
    pub fn parse(text: &str) -> Outer {
        let mut parts = text.trim().splitn(3, '|');
        let (pass, features, termtype) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        Outer {
            // It came from the terminal through tmux: only what can be shown safely.
            termtype: termtype
                .chars()
                .filter(|c| c.is_ascii_graphic() || *c == ' ')
                .take(64)
                .collect(),
            passthrough: !matches!(pass.trim(), "" | "0" | "off"),
            sixel: features.split(',').any(|f| f.trim() == "sixel"),
        }
    }

    /// Whether the outer terminal draws kitty's Unicode placeholders (kitty 0.28 and later,
    /// ghostty).
    pub fn placeholders(&self) -> bool {
        let t = self.termtype.to_ascii_lowercase();
        if t.starts_with("ghostty") {
            return true;
        }
        let Some(version) = t.strip_prefix("kitty(").and_then(|v| v.strip_suffix(')')) else {
            return false;
        };
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (0, 28)
    }
}

/// What tmux is asked: passthrough, the outer terminal's features, its XTVERSION answer (last:
/// it is the terminal's own text).
const TMUX_FORMAT: &str = "#{allow-passthrough}|#{client_termfeatures}|#{client_termtype}";

/// Asks tmux (bounded) what terminal it runs in and whether it passes sequences on.
pub(super) async fn ask_tmux() -> Option<Outer> {
    let run = tokio::process::Command::new("tmux")
        .args(["display-message", "-p", TMUX_FORMAT])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(super::PROBE_TIMEOUT, run)
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout[..output.stdout.len().min(4096)]);
    output.status.success().then(|| Outer::parse(&text))
}
