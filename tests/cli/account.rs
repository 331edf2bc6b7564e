//! The account from the command line: which settings win, profiles, keys read from standard
//! input, credits and usage, low-balance warnings, and completion callbacks, all through the
//! real binary against emulators on 127.0.0.1.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use fouro::emulator::Emulator;
use serde_json::{Value, json};

mod callbacks;
mod credits;

/// A private config directory and data directory for one test.
struct Home {
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = dir.path().join("config");
        let data = dir.path().join("data");
        Home {
            config,
            data,
            _dir: dir,
        }
    }

    fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_file()).unwrap_or_default()
    }

    /// Runs the binary with only this home and `env` in its environment; `stdin` is piped in.
    async fn run(&self, env: &[(&str, &str)], stdin: Option<&str>, args: &[&str]) -> Output {
        let mut run = Fouro::new(&self.data)
            .config_dir(&self.config)
            .env("FOURO_RETRIES", "1");
        for (name, value) in env {
            run = run.env(name, value);
        }
        if let Some(text) = stdin {
            run = run.stdin(text);
        }
        run.run(args).await
    }

    /// `fouro profile add NAME --base-url URL`, then the key from a pipe, checked.
    async fn profile_with_key(&self, name: &str, base_url: &str, key: &str) {
        let o = self
            .run(&[], None, &["profile", "add", name, "--base-url", base_url])
            .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let o = self
            .run(
                &[],
                Some(&format!("{key}\n")),
                &["key", "set", "--profile", name],
            )
            .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
}

/// Neither output carries `secret`.
fn assert_hidden(o: &Output, secret: &str) {
    assert!(
        !stdout(o).contains(secret) && !stderr(o).contains(secret),
        "the key leaked: {}\n{}",
        stdout(o),
        stderr(o)
    );
}

/// An emulator that accepts only `key` and starts with `credits`.
async fn service(key: &str, credits: i64) -> Emulator {
    let key = key.to_owned();
    emulator_with(move |c| {
        c.keys = vec![key];
        c.credits = credits;
    })
    .await
}

/// A loopback address nobody listens on right now.
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("an address").to_string()
}

#[tokio::test]
async fn the_command_line_beats_the_environment_which_beats_the_profile() {
    let (ka, kb, kc) = (
        "key-a-0123456789abcdef",
        "key-b-0123456789abcdef",
        "key-c-0123456789abcdef",
    );
    let (a, b, c) = tokio::join!(service(ka, 100), service(kb, 200), service(kc, 300));
    let home = Home::new();
    home.profile_with_key("pa", &a.base_url(), ka).await;
    home.profile_with_key("pb", &b.base_url(), kb).await;
    let o = home.run(&[], None, &["profile", "use", "pa"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let credits = |o: &Output| json_out(o)["credits"].clone();

    // The default profile: its service and its key.
    let o = home.run(&[], None, &["credits", "--json"]).await;
    assert_eq!(credits(&o), json!(100), "{}", stderr(&o));
    let o = home.run(&[], None, &["key", "check"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("from profile \"pa\"") && text.contains("accepted: 100 credits"),
        "{text}"
    );
    assert!(
        text.contains(&home.config_file().display().to_string()),
        "names the file: {text}"
    );
    assert_hidden(&o, ka);

    // FOURO_PROFILE picks another profile; --profile beats it.
    let o = home
        .run(&[("FOURO_PROFILE", "pb")], None, &["credits", "--json"])
        .await;
    assert_eq!(credits(&o), json!(200), "{}", stderr(&o));
    let o = home
        .run(
            &[("FOURO_PROFILE", "pb")],
            None,
            &["--profile", "pa", "credits", "--json"],
        )
        .await;
    assert_eq!(credits(&o), json!(100), "{}", stderr(&o));

    // The environment beats the profile, value by value: here the base URL only, so the
    // profile's key goes to B, which refuses it; the message says where the key came from.
    let env_b = [("FOURO_BASE_URL", b.base_url())];
    let env_b: Vec<(&str, &str)> = env_b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = home.run(&env_b, None, &["credits"]).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("profile \"pa\""), "{}", stderr(&o));
    assert_hidden(&o, ka);
    let mut env_bk = env_b.clone();
    env_bk.push(("FOURO_API_KEY", kb));
    let o = home.run(&env_bk, None, &["credits", "--json"]).await;
    assert_eq!(credits(&o), json!(200), "{}", stderr(&o));
    let o = home.run(&env_bk, None, &["key", "check"]).await;
    assert!(
        stdout(&o).contains("from the environment (FOURO_API_KEY)"),
        "{}",
        stdout(&o)
    );

    // The command line beats the environment.
    let base_c = c.base_url();
    let o = home
        .run(
            &env_bk,
            None,
            &["credits", "--json", "--base-url", &base_c, "--api-key", kc],
        )
        .await;
    assert_eq!(credits(&o), json!(300), "{}", stderr(&o));
    let o = home
        .run(
            &env_bk,
            None,
            &["key", "check", "--base-url", &base_c, "--api-key", kc],
        )
        .await;
    assert!(
        stdout(&o).contains("from the command line"),
        "{}",
        stdout(&o)
    );
    assert_hidden(&o, kc);
    // Each service saw exactly the calls meant for it.
    assert_eq!(calls(&c, "credit").await, 2);

    // An unknown profile is a usage error, before anything is sent.
    let before = calls(&a, "credit").await;
    let o = home.run(&[], None, &["--profile", "nope", "credits"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no profile named \"nope\"") && stderr(&o).contains("pa, pb"),
        "{}",
        stderr(&o)
    );
    assert_eq!(calls(&a, "credit").await, before);
    // So is a config file that does not parse.
    std::fs::write(home.config_file(), "[profiles.x]\nbase_url = 3\n").unwrap();
    let o = home.run(&[], None, &["credits"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[tokio::test]
async fn profiles_are_added_listed_chosen_and_removed() {
    let home = Home::new();
    let list = |o: &Output| json_out(o);

    let o = home
        .run(&[], None, &["profile", "add", "k1", "--preset", "kie"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let file = home.config_file().display().to_string();
    assert!(
        stdout(&o).contains("added profile \"k1\"") && stdout(&o).contains(&file),
        "{}",
        stdout(&o)
    );
    let o = home
        .run(
            &[],
            None,
            &[
                "profile",
                "add",
                "local",
                "--base-url",
                "http://127.0.0.1:9",
                "--default",
            ],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let o = home.run(&[], None, &["profile", "list", "--json"]).await;
    let l = list(&o);
    assert_eq!(l["configFile"], json!(file));
    assert_eq!(l["default"], json!("local"));
    assert_eq!(l["active"], json!("local"));
    let names: Vec<&str> = l["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k1", "local"]);
    assert_eq!(l["profiles"][0]["baseUrl"], json!("https://api.kie.ai"));
    assert_eq!(
        l["profiles"][0]["uploadUrl"],
        json!("https://kieai.redpandaai.co")
    );
    assert_eq!(l["profiles"][0]["apiKey"], Value::Null);
    assert_eq!(l["profiles"][1]["default"], json!(true));
    let o = home.run(&[], None, &["profile", "list"]).await;
    let text = stdout(&o);
    assert!(text.contains(&file), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("* local") && l.contains("http://127.0.0.1:9")),
        "{text}"
    );

    // Names are unique unless --replace; keys never come from argv here.
    let o = home.run(&[], None, &["profile", "add", "k1"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--replace"), "{}", stderr(&o));
    let o = home
        .run(&[], None, &["profile", "add", "k1", "--replace"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("replaced"), "{}", stdout(&o));
    let o = home
        .run(
            &[],
            None,
            &["profile", "add", "x", "--api-key", "argv-key-0123456789"],
        )
        .await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("fouro key set"), "{}", stderr(&o));
    let o = home.run(&[], None, &["profile", "add", "a b"]).await;
    assert_eq!(code(&o), 2);
    assert!(!home.config_text().contains("argv-key"));

    let o = home.run(&[], None, &["profile", "use", "k1"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"k1\" is now the default"),
        "{}",
        stdout(&o)
    );
    let o = home.run(&[], None, &["profile", "use", "nope"]).await;
    assert_eq!(code(&o), 2);

    let o = home.run(&[], None, &["profile", "remove", "k1"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("removed profile \"k1\"")
            && stdout(&o).contains("\"local\", the only one left, is used"),
        "{}",
        stdout(&o)
    );
    let l = list(&home.run(&[], None, &["profile", "list", "--json"]).await);
    assert_eq!(l["default"], Value::Null);
    assert_eq!(l["active"], json!("local"));
    assert_eq!(l["profiles"].as_array().map(Vec::len), Some(1));
    let o = home.run(&[], None, &["profile", "remove", "k1"]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no profile named"), "{}", stderr(&o));
}

#[tokio::test]
async fn the_config_file_stays_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let o = home
        .run(
            &[],
            Some("a-key-for-the-mode-test-0123\n"),
            &["key", "set", "--no-check"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(mode(&home.config_file()), 0o600);
    assert_eq!(mode(&home.config), 0o700);

    std::fs::set_permissions(home.config_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = home.run(&[], None, &["profile", "list"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("readable by others (mode 0644)") && stderr(&o).contains("0600"),
        "{}",
        stderr(&o)
    );
    assert_eq!(mode(&home.config_file()), 0o600, "repaired");
    let o = home.run(&[], None, &["profile", "list"]).await;
    assert!(stderr(&o).is_empty(), "warned once: {}", stderr(&o));
}

#[tokio::test]
async fn key_set_reads_a_pipe_checks_the_key_and_never_shows_it() {
    let secret = "sk-distinctive-SECRET-7f3a9c2e51d04b86";
    let emu = service(secret, 100).await;
    let home = Home::new();
    let base = emu.base_url();
    let o = home
        .run(&[], None, &["profile", "add", "emu", "--base-url", &base])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Checked against the profile's service, then saved.
    let o = home
        .run(&[], Some(&format!("  {secret}\n")), &["key", "set"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("accepts the key: 100 credits")
            && stdout(&o).contains("sk-…4b86")
            && stdout(&o).contains("profile \"emu\""),
        "{}",
        stdout(&o)
    );
    assert_hidden(&o, secret);
    assert_eq!(calls(&emu, "credit").await, 1);
    assert!(home.config_text().contains(secret), "saved");

    // A refused key is not saved: exit 3, the old key stays.
    let refused = "sk-refused-REFUSED-0a1b2c3d4e5f";
    let o = home
        .run(&[], Some(&format!("{refused}\n")), &["key", "set"])
        .await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("not saved"), "{}", stderr(&o));
    assert_hidden(&o, refused);
    assert!(!home.config_text().contains(refused));
    assert!(home.config_text().contains(secret));

    // --no-check saves without a request.
    let unchecked = "sk-unchecked-UNCHECKED-99887766";
    let before = calls(&emu, "credit").await;
    let o = home
        .run(
            &[],
            Some(&format!("{unchecked}\nsecond line ignored\n")),
            &["key", "set", "--no-check"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(calls(&emu, "credit").await, before, "no request");
    assert!(home.config_text().contains(unchecked));
    assert!(!home.config_text().contains("second line"));
    assert_hidden(&o, unchecked);

    // Nothing on stdin saves nothing.
    let o = home.run(&[], Some(""), &["key", "set", "--no-check"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(home.config_text().contains(unchecked));

    // The webhook key goes beside it, unchecked.
    let hook = "whk-HOOK-5566778899aabbcc";
    let o = home
        .run(
            &[],
            Some(&format!("{hook}\n")),
            &["key", "set", "--webhook"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_hidden(&o, hook);
    let l = json_out(&home.run(&[], None, &["profile", "list", "--json"]).await);
    assert_eq!(l["profiles"][0]["webhookKey"], json!(true));
    assert_eq!(l["profiles"][0]["apiKey"], json!("sk-…7766"));

    // Back to the good key; a task run with it leaves no trace of it in the data directory.
    let o = home
        .run(&[], Some(&format!("{secret}\n")), &["key", "set"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = home
        .run(&[], None, &["generate", "a key-less lighthouse", "--wait"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_hidden(&o, secret);
    let o = home.run(&[], None, &["key", "check"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_hidden(&o, secret);
    let files = files_under(&home.data);
    assert!(files.iter().any(|f| f.ends_with("history.db")), "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the key is in {}",
            f.display()
        );
    }
}

#[tokio::test]
async fn key_set_makes_a_first_profile_and_key_check_says_when_there_is_none() {
    let home = Home::new();
    let o = home.run(&[], None, &["key", "check"]).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("fouro key set"), "{}", stderr(&o));

    let o = home
        .run(
            &[],
            Some("sk-first-profile-0123456789\n"),
            &["key", "set", "--no-check"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("new profile \"4oimageapi\"") && stdout(&o).contains("default profile"),
        "{}",
        stdout(&o)
    );
    let l = json_out(&home.run(&[], None, &["profile", "list", "--json"]).await);
    assert_eq!(l["default"], json!("4oimageapi"));
    assert_eq!(
        l["profiles"][0]["baseUrl"],
        json!("https://4oimageapiio.erweima.ai")
    );

    // With two profiles and no default, the key needs a name.
    let o = home.run(&[], None, &["profile", "add", "second"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let cfg = home
        .config_text()
        .replace("default_profile = \"4oimageapi\"\n", "");
    std::fs::write(home.config_file(), cfg).unwrap();
    let o = home
        .run(
            &[],
            Some("sk-x-0123456789abcdef\n"),
            &["key", "set", "--no-check"],
        )
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--profile"), "{}", stderr(&o));
}
