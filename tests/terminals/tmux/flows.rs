//! The history and the account in tmux: search, remix and submit; from no key to a saved key and a second profile.

use super::*;

/// The history in a real terminal: two generations, then F3, a search, a remix back into the
/// editor, and a submit of the remixed prompt.
#[test]
fn history_search_remix_and_submit_in_tmux() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("a temp dir");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    let command = format!(
        "FOURO_DATA_DIR='{}' FOURO_IMAGE_PROTOCOL=blocks '{}' demo --duration 1; echo \"fouro-exit=$?\"",
        data.path().display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("100 credits", Duration::from_secs(30));
    let successes = |s: &str| s.matches("SUCCESS").count();

    // Two generations, one of them 3:2.
    tmux.type_text("a red fox in the snow");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the first task", Duration::from_secs(30), false, |s| {
        successes(s) == 1
    });
    // The prompt keeps what was sent: clear it (line start, delete to the end).
    tmux.keys(&["C-a", "C-k"]);
    tmux.type_text("a blue whale");
    tmux.keys(&["Tab", "Tab", "Right", "C-s"]);
    tmux.wait_for("the second task", Duration::from_secs(30), false, |s| {
        successes(s) == 2
    });

    // The history: both, newest first; a search narrows it to the fox.
    tmux.keys(&["F3"]);
    let screen = tmux.wait_text("History · 2", Duration::from_secs(10));
    let whale = screen.find("a blue whale").expect("the whale is listed");
    let fox = screen
        .find("a red fox in the snow")
        .expect("the fox is listed");
    assert!(whale < fox, "newest first:\n{screen}");
    tmux.keys(&["/"]);
    tmux.type_text("fox");
    let screen = tmux.wait_text("History · 1 match", Duration::from_secs(10));
    assert!(
        !screen.contains("a blue whale"),
        "the search hides it:\n{screen}"
    );
    tmux.keys(&["Enter"]);

    // Remix: the fox's prompt and aspect come back into the editor, on the main screen.
    tmux.keys(&["r"]);
    let screen = tmux.wait_text("Aspect   1:1", Duration::from_secs(10));
    assert!(
        !screen.contains("History ·"),
        "back on the main screen:\n{screen}"
    );
    tmux.type_text(", at night");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the remixed task", Duration::from_secs(30), false, |s| {
        successes(s) == 3 && s.contains("a red fox in the snow, at night")
    });

    // The history holds all three, the remix newest.
    let history =
        fouro::store::History::open_in(&data.path().join("demo")).expect("the demo's history");
    let entries = history
        .page(&fouro::store::Query::default(), 0, 10)
        .expect("readable");
    let prompts: Vec<_> = entries
        .iter()
        .map(|e| e.params.prompt.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        prompts,
        [
            "a red fox in the snow, at night",
            "a blue whale",
            "a red fox in the snow"
        ]
    );
    assert_eq!(entries[1].params.size.as_str(), "3:2");
    assert_eq!(
        entries[0].params.size.as_str(),
        "1:1",
        "the remix kept the fox's aspect"
    );

    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
}

/// A new user in a real terminal: no key, the welcome screen, a key pasted (shown only as
/// bullets), checked and saved privately; later, a second profile switched to from the account
/// screen.
#[test]
fn from_no_key_to_a_saved_key_and_a_second_profile_in_tmux() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let key = "sk-e2e-welcome-0123456789abcd";
    let other_key = "sk-e2e-other-9876543210wxyz";
    let start = |keys: Vec<String>, credits: i64| {
        runtime.block_on(emulator_with(|c| {
            c.keys = keys;
            c.credits = credits;
            c.duration = Duration::from_secs(1);
        }))
    };
    let first = start(vec![key.to_owned()], 100);
    let second = start(vec![other_key.to_owned()], 55);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temp dir");
    let config_dir = dir.path().join("config");
    let data_dir = dir.path().join("data");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    let command = format!(
        "env -u FOURO_API_KEY FOURO_CONFIG_DIR={} FOURO_DATA_DIR={} FOURO_IMAGE_PROTOCOL=blocks {} --base-url {}; echo \"fouro-exit=$?\"",
        config_dir.display(),
        data_dir.display(),
        env!("CARGO_BIN_EXE_fouro"),
        first.base_url(),
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("Welcome to fouro", Duration::from_secs(30));

    // The key, typed: bullets only, never the key.
    tmux.type_text(key);
    let screen = tmux.wait_text("••••", Duration::from_secs(10));
    assert!(!screen.contains(key), "the key is never shown:\n{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("100 credits", Duration::from_secs(30));
    assert!(!screen.contains(key), "{screen}");
    let file = config_dir.join("config.toml");
    let text = std::fs::read_to_string(&file).expect("the key was saved");
    assert!(
        text.contains(key) && text.contains(&first.base_url()),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the config file is private");
    }
    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));

    // A second profile, through the subcommands: its key from a pipe, checked.
    let bin = env!("CARGO_BIN_EXE_fouro");
    let added = Command::new(bin)
        .env("FOURO_CONFIG_DIR", &config_dir)
        .env("FOURO_DATA_DIR", &data_dir)
        .env_remove("FOURO_API_KEY")
        .args(["profile", "add", "other", "--base-url", &second.base_url()])
        .output()
        .expect("profile add runs");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut set = Command::new(bin)
        .env("FOURO_CONFIG_DIR", &config_dir)
        .env("FOURO_DATA_DIR", &data_dir)
        .env_remove("FOURO_API_KEY")
        .args(["key", "set", "--profile", "other"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("key set runs");
    {
        use std::io::Write;
        let mut stdin = set.stdin.take().expect("stdin");
        writeln!(stdin, "{other_key}").expect("the key is written");
    }
    let set = set.wait_with_output().expect("key set ends");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    // The app starts with the saved default; the account screen switches to the other.
    let command = format!(
        "env -u FOURO_API_KEY FOURO_CONFIG_DIR={} FOURO_DATA_DIR={} FOURO_IMAGE_PROTOCOL=blocks {}; echo \"fouro-exit=$?\"",
        config_dir.display(),
        data_dir.display(),
        bin,
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("100 credits", Duration::from_secs(30));
    tmux.keys(&["F4"]);
    let screen = tmux.wait_text("other", Duration::from_secs(10));
    assert!(
        !screen.contains(key) && !screen.contains(other_key),
        "{screen}"
    );
    // Select the other profile (the one in use is selected first) and use it.
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_text("55 credits", Duration::from_secs(30));
    let text = std::fs::read_to_string(&file).expect("the config");
    assert!(
        text.contains("default_profile = \"other\""),
        "the switch is remembered:\n{text}"
    );
    tmux.keys(&["Escape", "C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
    // Neither key reached the log file or the history database.
    let log = std::fs::read(data_dir.join("logs/fouro.log")).expect("the log file");
    let db = std::fs::read(data_dir.join("history.db")).expect("the history");
    for bytes in [&log, &db] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(key) && !text.contains(other_key));
    }
    runtime.block_on(first.shutdown());
    runtime.block_on(second.shutdown());
}
