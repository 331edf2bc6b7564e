//! The account from the command line: which settings win, profiles, keys read from standard
//! input, credits and usage, low-balance warnings, and completion callbacks, all through the
//! real binary against emulators on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fouro::emulator::Emulator;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

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
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("FOURO_CONFIG_DIR", &self.config)
            .env("FOURO_DATA_DIR", &self.data)
            .env("FOURO_RETRIES", "1")
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(tz) = std::env::var_os("TZ") {
            cmd.env("TZ", tz);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("fouro starts");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("a stdin pipe");
            pipe.write_all(text.as_bytes())
                .await
                .expect("stdin written");
            drop(pipe);
        }
        let out = child.wait_with_output().await.expect("fouro runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "fouro {args:?} panicked: {err}");
        out
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
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

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
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

#[tokio::test]
async fn usage_shows_each_task_with_its_cost_and_the_day_total() {
    let emu = emulator(300).await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    for prompt in ["first lighthouse", "second lighthouse"] {
        let o = home.run(&[], None, &["generate", prompt, "--wait"]).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }

    let o = home.run(&[], None, &["credits", "--usage", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let u = json_out(&o);
    assert_eq!(u["credits"], json!(88));
    assert_eq!(u["spent"], json!(12.0));
    let tasks = u["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2, "{u}");
    assert_eq!(tasks[0]["prompt"], json!("second lighthouse"));
    for t in tasks {
        assert_eq!(t["cost"], json!(6.0), "{t}");
        assert_eq!(t["status"], json!("SUCCESS"), "{t}");
    }
    let days = u["days"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    let spent: f64 = days.iter().filter_map(|d| d["spent"].as_f64()).sum();
    let submitted: u64 = days.iter().filter_map(|d| d["tasks"].as_u64()).sum();
    assert_eq!((spent, submitted), (12.0, 2));
    // Readings: before and after each task, and this one.
    assert_eq!(u["balances"].as_array().map(Vec::len), Some(5), "{u}");

    let o = home
        .run(&[], None, &["credits", "--usage", "--days", "7"])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("balance  88 credits"), "{text}");
    assert!(
        text.contains("spent    12 credits in the last 7 days"),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("6 credits  task_4o_"))
            .count(),
        2,
        "{text}"
    );

    // Without a key: the usage alone, and a note.
    let other = Home::new();
    let base = emu.base_url();
    let o = other
        .run(
            &[("FOURO_BASE_URL", &base)],
            None,
            &["credits", "--usage", "--json"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no API key"), "{}", stderr(&o));
    let u = json_out(&o);
    assert!(u.get("credits").is_none(), "{u}");
    assert_eq!(u["tasks"], json!([]));

    // `--days` only goes with `--usage`.
    let o = home.run(&[], None, &["credits", "--days", "3"]).await;
    assert_eq!(code(&o), 2);
}

#[tokio::test]
async fn a_low_balance_is_warned_about_before_submitting() {
    let emu = emulator(300).await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    let o = home.run(&[], None, &["generate", "one", "--wait"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("balance"), "{}", stderr(&o));

    // 4 credits left, 6 an image as observed, 2 images asked for.
    control(&emu, "credits", json!({"credits": 4})).await;
    let o = home
        .run(&[], None, &["generate", "two", "--variants", "2"])
        .await;
    assert_eq!(code(&o), 4, "the service refuses it: {}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("balance 4 is probably not enough for this (~12 credits); submitting anyway"),
        "{}",
        stderr(&o)
    );

    // Enough for the task, though below the configured mark: the one rule the app asks by
    // (the observed cost decides once there is one), so no warning.
    control(&emu, "credits", json!({"credits": 60})).await;
    let text = format!("low_balance = 100\n{}", home.config_text());
    std::fs::write(home.config_file(), text).unwrap();
    let o = home.run(&[], None, &["generate", "three"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("balance"), "{}", stderr(&o));

    // A balance that cannot be read does not stop the submit.
    fault(&emu, "credit", 1, "code", json!({"code": 500})).await;
    let before = calls(&emu, "generate").await;
    let o = home.run(&[], None, &["generate", "four"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(calls(&emu, "generate").await, before + 1);
}

/// Waits (bounded) until the emulator says the task's callback was answered.
async fn until_acked(emu: &Emulator, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = task(emu, id).await;
        if t["callback"] != "sent" && t["callback"] != "pending" && t["callback"] != "none" {
            return t;
        }
        assert!(Instant::now() < deadline, "the callback never settled: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn generate_wait_takes_the_result_from_the_callback() {
    let emu = emulator(1_000).await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    let addr = free_addr();
    let started = Instant::now();
    let o = home
        .run(
            &[],
            None,
            &[
                "generate",
                "called back",
                "--wait",
                "--callback-listen",
                &addr,
            ],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the result came through the callback"),
        "{}",
        stderr(&o)
    );
    // Well before the fallback's first poll (15 s).
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    let t = until_acked(&emu, &id).await;
    assert_eq!(t["callback"], json!("acked"), "{t}");
    assert_eq!(t["callBackUrl"], json!(format!("http://{addr}/callback")));
    // At most the one record-info call that confirms the callback.
    assert!(
        calls(&emu, "record-info").await <= 1,
        "{}",
        stats(&emu).await
    );
    let image = stdout(&o).lines().nth(1).unwrap_or_default().to_owned();
    assert!(Path::new(&image).is_file(), "{}", stdout(&o));
    let h = json_out(&home.run(&[], None, &["history", "--json"]).await);
    assert_eq!(h[0]["taskId"], json!(id));
    assert_eq!(h[0]["status"], json!("SUCCESS"));

    // With --json, stdout is the one object and stderr says nothing about the callback.
    let o = home
        .run(
            &[],
            None,
            &[
                "generate",
                "quiet",
                "--wait",
                "--json",
                "--callback-listen",
                &free_addr(),
            ],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json_out(&o)["status"], json!("SUCCESS"));
    assert!(!stderr(&o).contains("callback"), "{}", stderr(&o));
}

#[tokio::test]
async fn signed_callbacks_are_taken_only_with_the_matching_key() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(800);
        c.webhook_key = Some("hook-shared-secret".into());
    })
    .await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    // The profile's webhook key and listener address, as `fouro key set --webhook` and the
    // file keep them.
    let o = home
        .run(
            &[],
            Some("hook-shared-secret\n"),
            &["key", "set", "--webhook"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let addr = free_addr();
    let text = home.config_text().replace(
        "[profiles.emu]\n",
        &format!("[profiles.emu]\ncallback_listen = \"{addr}\"\n"),
    );
    std::fs::write(home.config_file(), text).unwrap();

    let started = Instant::now();
    let o = home.run(&[], None, &["generate", "signed", "--wait"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("through the callback"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert_eq!(until_acked(&emu, &id).await["callback"], json!("acked"));
    let confirmed = calls(&emu, "record-info").await;
    assert!(confirmed <= 1, "{}", stats(&emu).await);

    // Another key in the environment: the listener refuses the callback and polling (made
    // quick for the test) finishes the run.
    let o = home
        .run(
            &[
                ("FOURO_WEBHOOK_KEY", "hook-some-other-key"),
                ("FOURO_CALLBACK_POLL_MS", "300"),
            ],
            None,
            &["generate", "mismatched", "--wait"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("callback"), "{}", stderr(&o));
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    let t = until_acked(&emu, &id).await;
    assert_eq!(t["callback"], json!("failed"), "{t}");
    assert_eq!(t["polled"], json!(true), "{t}");
    assert!(calls(&emu, "record-info").await > confirmed);
    assert_eq!(stats(&emu).await["callbacks_acked"], json!(1));
}
