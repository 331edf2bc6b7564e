//! The app's options (`--timeout`, `--retries`, `--follow-limit`, the callback options) typed
//! before a subcommand: taken by one that uses them, refused by name before one that does not,
//! never silently ignored.

use crate::common::Fouro;

/// Stderr and the exit code of `fouro args` with a private data directory.
fn run(args: &[&str]) -> (String, Option<i32>) {
    let data = tempfile::tempdir().unwrap();
    let out = Fouro::new(data.path()).output(args);
    (String::from_utf8(out.stderr).unwrap(), out.status.code())
}

#[test]
fn an_app_option_before_a_subcommand_that_ignores_it_is_refused_by_name() {
    let (stderr, code) = run(&["--retries", "1", "history"]);
    assert_eq!(code, Some(2), "a usage error: {stderr}");
    insta::assert_snapshot!("retries_before_history", stderr);
    for (args, flag) in [
        (
            &["--follow-limit", "3", "profile", "list"][..],
            "--follow-limit",
        ),
        (
            &["--callback-listen", "127.0.0.1:9", "demo"],
            "--callback-listen",
        ),
        (&["--timeout", "5", "completions", "bash"], "--timeout"),
    ] {
        let (stderr, code) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("does not use {flag}")),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn an_app_option_before_a_subcommand_that_uses_it_is_taken_and_the_environment_never_refused() {
    // `history` reads the history only; `--retries` from the environment is no error there.
    let data = tempfile::tempdir().unwrap();
    let out = Fouro::new(data.path())
        .env("FOURO_RETRIES", "1")
        .output(&["history"]);
    assert!(out.status.success(), "{out:?}");
    // `status` calls the service: the option is taken (the call then fails: nothing listens
    // on port 9), not refused.
    let (stderr, code) = run(&[
        "--retries",
        "0",
        "--base-url",
        "http://127.0.0.1:9",
        "--api-key",
        "k",
        "status",
        "task_1",
    ]);
    assert_ne!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("does not use"), "{stderr}");
}
