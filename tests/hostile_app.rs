//! More of the hostile server on 127.0.0.1: its escape sequences on the app's screen in tmux,
//! a status answer about another task, and answers that are not UTF-8.
//!
//! tmux must be installed: without it the app's test fails (it does not skip).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const KEY: &str = "test-key-0123456789abcdef";

/// Clears the screen, sets the window title, writes the clipboard (OSC 52), rings the bell,
/// and a one-byte CSI (U+009B): nothing of it may reach the terminal as it is.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}\u{9b}31mred\u{1b}[0m";

/// Serves on 127.0.0.1 until the test ends. Under `/bad8` every answer holds bytes that are
/// not UTF-8 (under `/bad8poll`, all but the submission's).
fn hostile() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let b = base.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let b = b.clone();
            std::thread::spawn(move || serve(conn, &b));
        }
    });
    base
}

fn serve(conn: TcpStream, base: &str) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body);
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let envelope = |code: i64, msg: &str, data: Value| {
        json!({"code": code, "msg": msg, "data": data}).to_string()
    };
    let record = |id: &str, status: &str, urls: Vec<String>, error: Option<&str>| {
        let flag = if status == "SUCCESS" { 1 } else { 2 };
        let data = json!({"taskId": id, "status": status, "progress": "1.00", "successFlag": flag,
            "response": {"resultUrls": urls}, "errorCode": error.map(|_| 400),
            "errorMessage": error, "createTime": 1_700_000_000_000i64,
            "completeTime": 1_700_000_060_000i64,
            "paramJson": json!({"prompt": format!("a cat {HOSTILE}"), "size": "1:1"}).to_string()});
        envelope(200, "success", data)
    };
    let submit = path.contains("/gpt4o-image/generate");
    let answer: Vec<u8> = if path.starts_with("/bad8") && !(submit && path.starts_with("/bad8poll"))
    {
        // A JSON answer whose strings hold Latin-1 bytes, as a misconfigured proxy sends.
        let data: Vec<u8> = if let Some((_, id)) = path.split_once("taskId=") {
            let record = format!(
                r#"{{"taskId":"{id}","status":"GENERATE_FAILED","successFlag":2,"errorMessage":"caf"#
            );
            [record.as_bytes(), b"\xe9 \xff\xfe\"}"].concat()
        } else if submit {
            b"{\"taskId\":\"t_\xe9\"}".to_vec()
        } else {
            b"100".to_vec()
        };
        [
            &b"{\"code\":200,\"msg\":\"d\xe9j\xe0 \xff\",\"data\":"[..],
            &data,
            b"}",
        ]
        .concat()
    } else if submit {
        let id = ["t_asked", "t_app"]
            .into_iter()
            .find(|id| body.contains(id))
            .unwrap_or("t_new");
        envelope(200, "success", json!({"taskId": id})).into_bytes()
    } else if path.contains("/chat/credit") {
        envelope(402, HOSTILE, Value::Null).into_bytes()
    } else if path.ends_with("taskId=t_asked") {
        // The service mixes answers up: asked about one task, it tells of another.
        let url = format!("{base}/other.png");
        record("t_other", "SUCCESS", vec![url], None).into_bytes()
    } else if path.ends_with("taskId=t_app") {
        record("t_app", "GENERATE_FAILED", vec![], Some(HOSTILE)).into_bytes()
    } else if path.contains("record-info") {
        let url = format!("{base}/img{HOSTILE}.png");
        record("t_new", "SUCCESS", vec![url], None).into_bytes()
    } else {
        envelope(404, HOSTILE, Value::Null).into_bytes()
    };
    let mut out = conn;
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = out.write_all(&answer);
}

fn fouro(base: &str, data: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fouro"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data)
        .env("FOURO_CONFIG_DIR", data.join("config"))
        .env("FOURO_BASE_URL", base)
        .env("FOURO_API_KEY", KEY)
        .args(["--retries", "1", "--follow-limit", "1"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "fouro {args:?} panicked: {err}");
    out
}

/// UTF-8 (what was not is shown as U+FFFD) with no ESC, BEL, C1 or other control character but
/// line breaks.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what} is not UTF-8: {e}"));
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}: {text}");
}

fn history(base: &str, data: &Path) -> Value {
    let o = fouro(base, data, &["history", "--json"]);
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_status_answer_about_another_task_is_refused() {
    let base = hostile();
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["status", "t_asked"][..],
        &["status", "t_asked", "--json"],
        &["download", "t_asked"],
    ] {
        let o = fouro(&base, data.path(), args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(6), "{args:?}: {err}");
        assert!(
            err.contains("the status asked for task t_asked named task t_other"),
            "{args:?}: {err}"
        );
        assert_inert(&format!("{args:?} stderr"), &o.stderr);
    }
    let o = fouro(&base, data.path(), &["generate", "t_asked"]);
    assert_eq!(o.status.code(), Some(0));
    let o = fouro(&base, data.path(), &["sync"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(err.contains("1 task(s) are left (t_asked)"), "{err}");
    // The submission is kept under its own id, still waiting; nothing under the other id.
    let entries = history(&base, data.path());
    let ids: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["taskId"].as_str())
        .collect();
    assert_eq!(ids, ["t_asked"], "{entries}");
    assert_eq!(entries[0]["status"], "GENERATING", "{entries}");
    assert!(entries[0]["images"].as_array().is_none_or(Vec::is_empty));
}

#[test]
fn answers_that_are_not_utf8_are_named_and_nothing_panics() {
    let base = hostile();
    let data = tempfile::tempdir().unwrap();
    let bad = format!("{base}/bad8");
    let poll = format!("{base}/bad8poll");
    // What is not UTF-8 is read as U+FFFD (as `String::from_utf8_lossy` does): the answer is
    // used as far as it makes sense, and the exit code is the one for what it says.
    let cases: &[(&str, &[&str], i32)] = &[
        (&bad, &["credits"], 0),
        (&bad, &["credits", "--json"], 0),
        (&bad, &["key", "check"], 0),
        (&bad, &["generate", "a cat"], 6),
        (&bad, &["generate", "a cat", "--json"], 6),
        (&bad, &["status", "t_bad8"], 7),
        (&bad, &["status", "t_bad8", "--json"], 7),
        (&bad, &["download", "t_bad8"], 7),
        (&poll, &["generate", "a cat", "--wait"], 7),
        (&poll, &["generate", "a dog"], 0),
        (&poll, &["sync"], 0),
        (&poll, &["sync", "--json"], 0),
    ];
    for (base, args, code) in cases {
        let o = fouro(base, data.path(), args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {err}");
        assert_inert(&format!("{args:?} stdout"), &o.stdout);
        assert_inert(&format!("{args:?} stderr"), &o.stderr);
        if args[0] == "generate" && *code == 6 {
            assert!(
                err.contains("a task id fouro will not use (\"t_\u{fffd}\")"),
                "{err}"
            );
        }
        if *code == 7 {
            let all = format!("{}{err}", String::from_utf8_lossy(&o.stdout));
            assert!(
                all.contains("caf\u{fffd} \u{fffd}\u{fffd}"),
                "{args:?}: {all}"
            );
        }
    }
    let entries = history(&poll, data.path());
    for entry in entries.as_array().unwrap() {
        assert_eq!(entry["status"], "GENERATE_FAILED", "{entries}");
        assert_eq!(
            entry["errorMessage"], "caf\u{fffd} \u{fffd}\u{fffd}",
            "{entries}"
        );
    }
    let mut key_set = Command::new(env!("CARGO_BIN_EXE_fouro"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .args(["--retries", "1", "--base-url", &bad, "key", "set"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = key_set.stdin.take().unwrap();
    stdin.write_all(format!("{KEY}\n").as_bytes()).unwrap();
    drop(stdin);
    let o = key_set.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_inert("key set stdout", &o.stdout);
    assert_inert("key set stderr", &o.stderr);
}

/// A tmux server of our own, killed when dropped.
struct Tmux {
    socket: String,
    socket_path: Option<PathBuf>,
}

impl Tmux {
    fn start(dir: &Path) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is not on PATH ({:?}): this test drives the app in tmux; install it",
            found.err()
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut tmux = Tmux {
            socket: format!("fouro-hostile-{}-{nanos}", std::process::id()),
            socket_path: None,
        };
        let dir = dir.to_str().unwrap();
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            dir,
            "sh",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.socket_path = Some(PathBuf::from(tmux.query("#{socket_path}")));
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn query(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "main", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The screen as text; with `escapes`, with its colours and attributes as SGR sequences.
    fn screen_with(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "main"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    /// The screen as text, checked to hold nothing but text and colours.
    fn screen(&self) -> String {
        let styled = self.screen_with(true);
        let mut rest = styled.as_str();
        while let Some(at) = rest.find('\u{1b}') {
            rest = &rest[at + 1..];
            let end = rest.find('m').unwrap_or(rest.len());
            let sgr = &rest[..end];
            assert!(
                sgr.starts_with('[') && sgr[1..].chars().all(|c| c.is_ascii_digit() || c == ';'),
                "not a colour: ESC{sgr:?}"
            );
        }
        self.screen_with(false)
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Polls the screen until `ok` holds; fails with the last screen after `within`.
    fn wait_for(&self, what: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
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

/// Every place `pwned` shows on `screen`, it is the escaped form of the hostile text.
fn assert_escaped(what: &str, screen: &str) {
    let shown = screen.matches("pwned").count();
    let escaped = screen.matches("\\u{1b}]0;pwned").count();
    assert!(shown > 0 && shown == escaped, "{what}:\n{screen}");
}

#[test]
fn nothing_the_service_says_reaches_the_apps_screen_raw() {
    let base = hostile();
    let data = tempfile::tempdir().unwrap();
    // A task whose prompt, error and service message carry the escapes, and one whose
    // result URL does.
    let prompt = format!("t_app {HOSTILE}");
    for prompt in [prompt.as_str(), "a cat"] {
        let o = fouro(&base, data.path(), &["generate", prompt]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let raw = data.path().join("raw");
    let tmux = Tmux::start(data.path());
    // OSC 52 from a program would land in tmux's paste buffers.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    let title = tmux.query("#{pane_title}");
    let pipe = format!("cat > '{}'", raw.display());
    assert!(
        tmux.run(&["pipe-pane", "-t", "main", "-o", &pipe])
            .status
            .success()
    );
    let command = format!(
        "env -i PATH=\"$PATH\" TERM=xterm-256color FOURO_DATA_DIR='{d}' FOURO_CONFIG_DIR='{d}/config' FOURO_BASE_URL='{base}' FOURO_API_KEY='{KEY}' '{bin}'; echo fouro-ended",
        d = data.path().display(),
        bin = env!("CARGO_BIN_EXE_fouro"),
    );
    tmux.keys(&["-l", &command]);
    tmux.keys(&["Enter"]);
    let long = Duration::from_secs(20);
    // The balance's refusal, the failed task's prompt and error: escaped.
    let screen = tmux.wait_for("the tasks and the balance", long, |s| {
        s.contains("Tasks (2)")
            && s.contains("insufficient credits")
            && s.matches("pwned").count() >= 3
    });
    assert_escaped("main screen", &screen);
    // The history and the failed task's details.
    tmux.keys(&["F3"]);
    let screen = tmux.wait_for("the history", long, |s| {
        s.contains("History · 2") && s.contains("pwned")
    });
    assert_escaped("history", &screen);
    // The failed task's details: its error and prompt in full.
    tmux.keys(&["Down"]);
    tmux.wait_for("the failed task's card", long, |s| s.contains("┌ t_app"));
    tmux.keys(&["i"]);
    let screen = tmux.wait_for("the failed task's details", long, |s| {
        s.contains("Details (Esc closes)") && s.contains("Task id      t_app")
    });
    assert_escaped("the failed task's details", &screen);
    // The other task's details: its result URL.
    tmux.keys(&["Escape"]);
    let closed = |s: &str| !s.contains("Details (Esc closes)");
    tmux.wait_for("the details to close", long, closed);
    tmux.keys(&["Up"]);
    tmux.wait_for("the other task's card", long, |s| s.contains("┌ t_new"));
    tmux.keys(&["i"]);
    let screen = tmux.wait_for("the other task's details", long, |s| {
        s.contains("Details (Esc closes)") && s.contains("Task id      t_new")
    });
    assert!(screen.contains("/img\\u{1b}]0;pwned"), "{screen}");
    assert_escaped("the other task's details", &screen);
    // The account: the balance's refusal and the recent tasks.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the details to close", long, closed);
    tmux.keys(&["F4"]);
    let screen = tmux.wait_for("the account", long, |s| {
        s.contains("insufficient credits") && s.contains("Recent tasks")
    });
    assert_escaped("the account", &screen);
    tmux.keys(&["C-c"]);
    tmux.wait_for("fouro to end", long, |s| s.contains("fouro-ended"));
    assert!(
        !tmux.query("#{pane_title}").contains("pwned"),
        "title was {title:?}"
    );
    let buffers = tmux.run(&["list-buffers"]);
    assert!(
        buffers.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&buffers.stdout)
    );
    tmux.run(&["pipe-pane", "-t", "main"]);
    let raw = std::fs::read(&raw).unwrap();
    for sequence in [
        &b"\x1b]0;pwned"[..],
        b"\x1b]52;",
        b"\x1b[2J\x1b]",
        b"\xc2\x9b",
        b"\x07",
    ] {
        assert!(
            !raw.windows(sequence.len()).any(|w| w == sequence),
            "{:?} reached the terminal",
            String::from_utf8_lossy(sequence)
        );
    }
}

/// The subcommands `tests/hostile.rs` does not run with a closed stdout: `key set` (its key on
/// standard input) and the emulator, which keeps serving.
#[test]
fn a_closed_stdout_for_key_set_and_the_emulator() {
    let data = tempfile::tempdir().unwrap();
    let spawn = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fouro"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("FOURO_DATA_DIR", data.path())
            .env("FOURO_CONFIG_DIR", data.path().join("config"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child
    };
    let mut key_set = spawn(&["key", "set", "--no-check"]);
    let mut stdin = key_set.stdin.take().unwrap();
    stdin.write_all(format!("{KEY}\n").as_bytes()).unwrap();
    drop(stdin);
    let o = key_set.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let config = std::fs::read_to_string(data.path().join("config").join("config.toml")).unwrap();
    assert!(config.contains(KEY), "the key was not saved");

    let mut emulator = spawn(&["emulator", "--port", "0", "--key", KEY]);
    let mut said = BufReader::new(emulator.stderr.take().unwrap());
    let mut line = String::new();
    said.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let mut conn = TcpStream::connect(&address).unwrap();
    write!(
        conn,
        "GET /api/v1/chat/credit HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        emulator.try_wait().unwrap().is_none(),
        "the emulator stopped"
    );
    emulator.kill().unwrap();
    emulator.wait().unwrap();
}
