//! The hostile server in more places: its escape sequences on the app's screen in tmux, a
//! status answer about another task, answers that are not UTF-8, and a closed stdout for the
//! subcommands that read standard input or keep running.
//!
//! tmux must be installed: without it the app's test fails (it does not skip).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::tmux::Tmux;
use crate::common::{Fouro, KEY};
use crate::server::{self, HOSTILE};
use crate::{assert_inert_utf8 as assert_inert, fouro_at};

/// Runs the binary against `base` with one retry per call and a one-minute follow (from the
/// environment: it also runs `history`, before which `--retries` is refused).
fn fouro(base: &str, data: &Path, args: &[&str]) -> Output {
    fouro_at(base, data)
        .env("FOURO_RETRIES", "1")
        .env("FOURO_FOLLOW_LIMIT", "1")
        .output(args)
}

fn history(base: &str, data: &Path) -> Value {
    let o = fouro(base, data, &["history", "--json"]);
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_status_answer_about_another_task_is_refused() {
    let base = server::start().base;
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
            err.contains("asked about task t_asked, the service answered about task t_other"),
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
    let base = server::start().base;
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
    let o = Fouro::new(data.path())
        .lead(&["--retries", "1", "--base-url", &bad])
        .stdin(&format!("{KEY}\n"))
        .output(&["key", "set"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_inert("key set stdout", &o.stdout);
    assert_inert("key set stderr", &o.stderr);
}

/// A screen captured with its escapes as text: checked to hold nothing but text and colours,
/// which are taken out.
fn plain(styled: &str) -> String {
    let mut text = String::new();
    let mut rest = styled;
    while let Some(at) = rest.find('\u{1b}') {
        text.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let end = rest.find('m').unwrap_or(rest.len());
        let sgr = &rest[..end];
        assert!(
            sgr.starts_with('[') && sgr[1..].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "not a colour: ESC{sgr:?}"
        );
        rest = rest.get(end + 1..).unwrap_or("");
    }
    text.push_str(rest);
    text
}

/// Polls the screen, checked as `plain` does, until `ok` holds for its text.
fn wait_for(tmux: &Tmux, what: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
    plain(&tmux.wait_for(what, within, true, |s| ok(&plain(s))))
}

/// Every place `pwned` shows on `screen`, it is the escaped form of the hostile text.
fn assert_escaped(what: &str, screen: &str) {
    let shown = screen.matches("pwned").count();
    let escaped = screen.matches("\\u{1b}]0;pwned").count();
    assert!(shown > 0 && shown == escaped, "{what}:\n{screen}");
}

#[test]
fn nothing_the_service_says_reaches_the_apps_screen_raw() {
    let base = server::start().base;
    let data = tempfile::tempdir().unwrap();
    // A task whose prompt, error and service message carry the escapes, and one whose
    // result URL does.
    let prompt = format!("t_app {HOSTILE}");
    for prompt in [prompt.as_str(), "a cat (t_new)"] {
        let o = fouro(&base, data.path(), &["generate", prompt]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let raw = data.path().join("raw");
    let tmux = Tmux::start_command(data.path(), "sh", (120, 40));
    // OSC 52 from a program would land in tmux's paste buffers.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    let title = tmux.query("#{pane_title}");
    tmux.pipe_to(&raw);
    let command = format!(
        "env -i PATH=\"$PATH\" TERM=xterm-256color FOURO_DATA_DIR='{d}' FOURO_CONFIG_DIR='{d}/config' FOURO_BASE_URL='{base}' FOURO_API_KEY='{KEY}' '{bin}'; echo fouro-ended",
        d = data.path().display(),
        bin = env!("CARGO_BIN_EXE_fouro"),
    );
    tmux.keys(&["-l", &command]);
    tmux.keys(&["Enter"]);
    let long = Duration::from_secs(20);
    // The balance's refusal, the failed task's prompt and error: escaped.
    let screen = wait_for(&tmux, "the tasks and the balance", long, |s| {
        s.contains("Tasks (2)")
            && s.contains("insufficient credits")
            && s.matches("pwned").count() >= 3
    });
    assert_escaped("main screen", &screen);
    // The history and the failed task's details.
    tmux.keys(&["F3"]);
    let screen = wait_for(&tmux, "the history", long, |s| {
        s.contains("History · 2") && s.contains("pwned")
    });
    assert_escaped("history", &screen);
    // The failed task's details: its error and prompt in full.
    tmux.keys(&["Down"]);
    wait_for(&tmux, "the failed task's card", long, |s| {
        s.contains("┌ t_app")
    });
    tmux.keys(&["i"]);
    let screen = wait_for(&tmux, "the failed task's details", long, |s| {
        s.contains("Details (Esc closes)") && s.contains("Task id      t_app")
    });
    assert_escaped("the failed task's details", &screen);
    // The other task's details: its result URL.
    tmux.keys(&["Escape"]);
    let closed = |s: &str| !s.contains("Details (Esc closes)");
    wait_for(&tmux, "the details to close", long, closed);
    tmux.keys(&["Up"]);
    wait_for(&tmux, "the other task's card", long, |s| {
        s.contains("┌ t_new")
    });
    tmux.keys(&["i"]);
    let screen = wait_for(&tmux, "the other task's details", long, |s| {
        s.contains("Details (Esc closes)") && s.contains("Task id      t_new")
    });
    assert!(screen.contains("/img\\u{1b}]0;pwned"), "{screen}");
    assert_escaped("the other task's details", &screen);
    // The account: the balance's refusal and the recent tasks.
    tmux.keys(&["Escape"]);
    wait_for(&tmux, "the details to close", long, closed);
    tmux.keys(&["F4"]);
    let screen = wait_for(&tmux, "the account", long, |s| {
        s.contains("insufficient credits") && s.contains("Recent tasks")
    });
    assert_escaped("the account", &screen);
    tmux.keys(&["C-c"]);
    wait_for(&tmux, "fouro to end", long, |s| s.contains("fouro-ended"));
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
    tmux.stop_piping();
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

/// The subcommands `cli.rs` does not run with a closed stdout: `key set` (its key on
/// standard input) and the emulator, which keeps serving.
#[test]
fn a_closed_stdout_for_key_set_and_the_emulator() {
    let data = tempfile::tempdir().unwrap();
    let spawn = |args: &[&str]| {
        let mut child = Fouro::new(data.path())
            .std_command(args)
            .stdin(Stdio::piped())
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
