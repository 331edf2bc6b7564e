//! One tmux driver: a server of its own (private socket, fixed size, a plain shell with a
//! known prompt), keys in with send-keys, the screen out with capture-pane, and waits that poll
//! the screen until a condition holds or a deadline passes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const WIDTH: u16 = 160;
pub const HEIGHT: u16 = 48;
/// The shell's prompt in the pane.
pub const PROMPT: &str = "fouro-e2e$ ";

/// A tmux server of our own; killed when dropped, whatever happened.
pub struct Tmux {
    pub socket: String,
    /// The socket file, removed at the end (kill-server leaves it behind).
    socket_path: Option<PathBuf>,
}

impl Tmux {
    /// A plain POSIX shell with a known prompt and no rc files, at the standard size.
    pub fn start(dir: &Path) -> Tmux {
        let shell = format!("env PS1='{PROMPT}' ENV=/dev/null sh");
        Tmux::start_command(dir, &shell, (WIDTH, HEIGHT))
    }

    /// `command` (run by tmux's shell) in the one pane, `size` columns by rows, in `dir`.
    pub fn start_command(dir: &Path, command: &str, size: (u16, u16)) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        if !found.as_ref().is_ok_and(|o| o.status.success()) {
            panic!(
                "tmux is not on PATH ({:?}): this end-to-end test drives the real binary in tmux; install it (e.g. `apt-get install tmux`)",
                found.err()
            );
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut tmux = Tmux {
            socket: format!("fouro-e2e-{}-{nanos}", std::process::id()),
            socket_path: None,
        };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &size.0.to_string(),
            "-y",
            &size.1.to_string(),
            "-c",
            dir.to_str().expect("a UTF-8 path"),
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.socket_path =
            Some(PathBuf::from(tmux.query("#{socket_path}"))).filter(|p| p.is_absolute());
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Named keys (`Tab`, `C-s`, `Enter`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Text, typed as is.
    pub fn type_text(&self, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", "main", "-l", text])
                .status
                .success(),
            "send-keys -l {text:?}"
        );
    }

    /// The screen; with `escapes`, with its colours and attributes.
    pub fn screen(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "main"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    /// Everything the pane's program writes to the terminal from now on, appended to `file`
    /// (pipe-pane); `stop_piping` ends it.
    pub fn pipe_to(&self, file: &Path) {
        let pipe = format!("cat >> '{}'", file.display());
        assert!(
            self.run(&["pipe-pane", "-t", "main", "-o", &pipe])
                .status
                .success(),
            "pipe-pane to {}",
            file.display()
        );
    }

    pub fn stop_piping(&self) {
        self.run(&["pipe-pane", "-t", "main"]);
    }

    pub fn query(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["display-message", "-p", "-t", "main", format])
                .stdout,
        )
        .trim()
        .to_owned()
    }

    /// Whether the pane's program has exited (with `remain-on-exit` on, the pane stays).
    pub fn dead(&self) -> bool {
        self.query("#{pane_dead}") == "1"
    }

    /// `command` started again in the pane, whatever ran there.
    pub fn respawn(&self, command: &str) {
        let out = self.run(&["respawn-pane", "-k", "-t", "main", command]);
        assert!(
            out.status.success(),
            "respawn-pane: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Polls the screen until `ok` holds; fails with the last screen after `within`.
    pub fn wait_for(
        &self,
        what: &str,
        within: Duration,
        escapes: bool,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        super::until::until_blocking(what, within + Duration::from_secs(1), || {
            let screen = self.screen(escapes);
            if ok(&screen) {
                return Some(screen);
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {within:?} for {what}; the screen was:\n{}",
                    self.screen(false)
                );
            }
            None
        })
    }

    pub fn wait_text(&self, text: &str, within: Duration) -> String {
        self.wait_for(&format!("{text:?}"), within, false, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}
