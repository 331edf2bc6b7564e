//! The CLI against the hostile server: escape sequences in every field it prints, answers far
//! larger than any answer of the service, and a reader that closes stdout early.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::common::run::assert_no_panic;
use crate::common::{self, Fouro, files_under, mode};
use crate::server::{self, HOSTILE};
use crate::{assert_inert, fouro_at};

/// Runs the binary against `base`, each call retried twice (`FOURO_RETRIES`: it also runs
/// subcommands that make no calls, before which `--retries` is refused).
fn fouro(base: &str, data: &Path, args: &[&str]) -> Output {
    fouro_at(base, data).env("FOURO_RETRIES", "2").output(args)
}

/// Runs `run` with its stdout a pipe whose reader is already gone (`| head -0`).
fn output_closed_stdout(run: &Fouro, args: &[&str]) -> Output {
    let mut child = run.std_command(args).spawn().expect("fouro starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("fouro runs");
    assert_no_panic(args, &out);
    out
}

/// The same command, run by `program` with `lead` before it (`sh -c 'umask 0; exec "$0"
/// "$@"'`, `/usr/bin/time -f ...`).
fn wrapped(cmd: &Command, program: &str, lead: &[&str]) -> Command {
    let mut wrapped = Command::new(program);
    wrapped
        .args(lead)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(Stdio::null());
    wrapped
}

#[test]
fn nothing_the_service_says_reaches_the_terminal_raw() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32)] = &[
        (&["credits"], 4),
        (&["credits", "--json"], 4),
        (&["generate", "a cat"], 5),
        (&["generate", "a cat", "--json"], 5),
        (&["status", "t_urls"], 0),
        (&["status", "t_urls", "--json"], 0),
        (&["status", "t_failed"], 7),
        (&["status", "t_failed", "--json"], 7),
        (&["status", "t_unknown"], 5),
        (&["download", "t_failed"], 7),
        (&["key", "check"], 4),
    ];
    for (args, code) in cases {
        let o = fouro(&server.base, data.path(), args);
        assert_eq!(
            o.status.code(),
            Some(*code),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_inert(&format!("{args:?} stdout"), &o.stdout);
        assert_inert(&format!("{args:?} stderr"), &o.stderr);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        // The text is still there to read, escaped.
        assert!(
            all.contains("pwned") && (all.contains("\\u{1b}") || all.contains("\\u001b")),
            "{args:?}: {all}"
        );
        if args.contains(&"--json") && !o.stdout.is_empty() {
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(v.to_string().contains("pwned"), "{v}");
        }
    }
    // JSON keeps the service's text exactly, only escaped.
    let o = fouro(&server.base, data.path(), &["status", "t_failed", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errorMessage"], HOSTILE);
}

#[test]
fn an_answer_of_500_mb_is_refused_by_reading_4_mb_once() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    let time = Path::new("/usr/bin/time");
    let o = if time.exists() {
        // GNU time: the child's peak resident memory, in KB, on the last line of stderr.
        let cmd =
            fouro_at(&server.base, data.path()).std_command(&["--retries", "3", "status", "t_big"]);
        wrapped(&cmd, "/usr/bin/time", &["-f", "maxrss=%M"])
            .output()
            .expect("fouro runs under time")
    } else {
        fouro(
            &server.base,
            data.path(),
            &["--retries", "3", "status", "t_big"],
        )
    };
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("larger than fouro accepts") && err.contains("4 MB"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Named and final: not fetched again as a passing fault.
    assert_eq!(server.seen.big_answer.load(Ordering::Relaxed), 1);
    if let Some(kb) = err
        .lines()
        .filter_map(|l| l.strip_prefix("maxrss="))
        .find_map(|v| v.trim().parse::<u64>().ok())
    {
        eprintln!("peak memory {kb} KB");
        assert!(kb < 100 * 1024, "peak memory {kb} KB");
    }
}

#[test]
fn an_image_over_the_cap_is_refused_once_not_retried() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&server.base, data.path(), &["download", "t_huge"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("the image download was larger than fouro accepts (128 MB at most")
            && err.contains("2147483648 bytes"),
        "{err}"
    );
    assert!(!err.contains("not the API's JSON"), "{err}");
    assert_eq!(server.seen.huge_image.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_quietly_and_never_cuts_a_wait_short() {
    let emu = common::emulator(200).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let run = move |args: &[&str]| {
        let (base, dir) = (base.clone(), dir.clone());
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = fouro_at(&base, &dir).env("FOURO_RETRIES", "2");
            output_closed_stdout(&run, &args)
        })
    };
    // The id cannot be printed, yet the task is followed to its end and its image saved.
    let o = run(&["generate", "a lighthouse", "--wait"]).await.unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = fouro(&emu.base_url(), data.path(), &["history", "--json"]);
    let entries: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(entries[0]["status"], "SUCCESS", "{entries}");
    let path = entries[0]["images"][0]["path"].as_str().unwrap().to_owned();
    assert!(Path::new(&path).is_file(), "{path}");
    let id = entries[0]["taskId"].as_str().unwrap().to_owned();
    let id = id.as_str();
    let out = data.path().join("out").to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["history"],
        vec!["history", "--json"],
        vec!["status", id],
        vec!["status", id, "--json"],
        vec!["credits"],
        vec!["credits", "--json"],
        vec!["credits", "--usage"],
        vec!["download", id],
        vec!["download", id, "--out", &out],
        vec!["sync"],
        vec!["sync", "--json"],
        vec!["profile", "list"],
        vec!["generate", "a boat", "--json", "--wait"],
        vec!["generate", "a kite"],
        vec!["generate", "a kite", "--json"],
        vec!["key", "check"],
        vec![
            "profile",
            "add",
            "spare",
            "--base-url",
            "http://127.0.0.1:1",
        ],
        vec!["profile", "use", "spare"],
        vec!["profile", "remove", "spare"],
        vec!["--help"],
        vec!["--version"],
        vec!["help", "generate"],
    ];
    for args in cases {
        let o = run(&args).await.unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn an_html_page_served_as_the_image_is_a_failed_download_not_a_png() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&server.base, data.path(), &["generate", "t_html", "--wait"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("the download was not an image (an HTML page)"),
        "{err}"
    );
    let o = fouro(&server.base, data.path(), &["history", "--json"]);
    let entries: Value = serde_json::from_slice(&o.stdout).unwrap();
    let image = &entries[0]["images"][0];
    assert!(image["path"].is_null(), "{entries}");
    assert!(
        image["error"].as_str().unwrap().contains("not an image"),
        "{entries}"
    );
    let pngs = files_under(&data.path().join("images"));
    assert!(pngs.is_empty(), "{pngs:?}");
}

#[test]
fn urls_fouro_cannot_use_say_what_is_wrong() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&server.base, data.path(), &["download", "t_file"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("file:///etc/passwd") && err.contains("only https:// and http://"),
        "{err}"
    );
    for reference in ["ftp://example.com/a.png", "file:///tmp/a.png"] {
        let o = fouro(
            &server.base,
            data.path(),
            &["generate", "x", "--ref", reference],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("which the service cannot fetch"), "{err}");
    }
}

#[test]
fn a_fragment_of_the_key_echoed_back_is_masked() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    for args in [&["status", "t_echo"][..], &["status", "t_echo", "--json"]] {
        let o = fouro(&server.base, data.path(), args);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(7), "{all}");
        assert!(
            !all.contains("key-0123") && all.contains("the key <API key> may not use"),
            "{all}"
        );
    }
}

#[test]
fn plain_words_for_a_config_that_is_not_utf8_and_a_missing_file() {
    let server = server::start();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("config")).unwrap();
    let config = data.path().join("config").join("config.toml");
    std::fs::write(&config, b"default_profile = \"\xff\xfe\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let o = fouro(&server.base, data.path(), &["credits"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not UTF-8"), "{err}");
    std::fs::remove_file(&config).unwrap();
    let o = fouro(
        &server.base,
        data.path(),
        &["generate", "x", "--ref", "/no/such.png"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("it does not exist") && !err.contains("os error"),
        "{err}"
    );
    // Nothing listens on port 1: the refusal is said in words.
    let o = fouro("http://127.0.0.1:1", data.path(), &["credits"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("could not reach 127.0.0.1:1") && !err.contains("os error"),
        "{err}"
    );
}

/// Under umask 000 and 022 alike, what fouro keeps is readable by its owner only.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dir_is_private_under_any_umask() {
    let emu = common::emulator(100).await;
    for umask in ["000", "022"] {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let (base, d) = (emu.base_url(), data.clone());
        let o = tokio::task::spawn_blocking(move || {
            let cmd = fouro_at(&base, &d).std_command(&["generate", "a fox", "--wait"]);
            let umask = format!("umask {umask}; exec \"$0\" \"$@\"");
            wrapped(&cmd, "sh", &["-c", &umask])
                .output()
                .expect("fouro runs under sh")
        })
        .await
        .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let image =
            Path::new(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).to_owned();
        assert_eq!(mode(&data), 0o700, "umask {umask}: data dir");
        assert_eq!(
            mode(image.parent().unwrap()),
            0o700,
            "umask {umask}: images dir"
        );
        assert_eq!(mode(&image), 0o600, "umask {umask}: {}", image.display());
        for f in ["history.db", "history.db-wal", "history.db-shm"] {
            let p = data.join(f);
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "umask {umask}: {f}");
            } else {
                assert_ne!(f, "history.db", "umask {umask}: no history.db");
            }
        }
    }
    // The app's log, left open to others by an older fouro, is made private at start.
    let root = tempfile::tempdir().unwrap();
    let logs = root.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("fouro.log"), b"earlier\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let open = std::fs::Permissions::from_mode(0o666);
        std::fs::set_permissions(logs.join("fouro.log"), open).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let (_dispatch, _guard, path) = fouro::tui::logging::file_dispatch(root.path());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&logs), 0o700);
    assert_eq!(mode(root.path()), 0o700);
}
