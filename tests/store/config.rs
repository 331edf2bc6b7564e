//! `config.toml`: profiles, file permissions, and which setting wins. Every test works in its own
//! temporary directory, passed explicitly; none changes the process environment.

use std::ffi::OsString;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fouro::api::{ApiKey, DEFAULT_BASE_URL};
use fouro::config::{
    self, Config, ConfigError, ConfigWarning, EXAMPLE_CONFIG, KIE_BASE_URL, KIE_UPLOAD_URL,
    Partial, Preset, Profile, Settings, Source, config_file, resolve,
};

mod private;
mod resolve;

/// Distinctive, so that finding it anywhere it should not be is unambiguous.
const SECRET: &str = "fake-zq7SECRETxyzzy0123456789plugh";
const HOOK_SECRET: &str = "wh-SECRET-HOOK-9876543210-frobnitz";

fn key(s: &str) -> Option<ApiKey> {
    ApiKey::new(s)
}

fn addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok()
}

fn full_profile(name: &str) -> Profile {
    let mut p = Preset::Kie.profile(name);
    p.api_key = key(SECRET);
    p.webhook_key = key(HOOK_SECRET);
    p.callback_listen = addr("127.0.0.1:8787");
    p.callback_public_url = Some("https://hooks.example.com/fouro".to_owned());
    p
}

fn two_profiles() -> Config {
    let mut c = Config::default();
    c.add(full_profile("kie"), false).unwrap();
    let mut main = Profile::new("main");
    main.api_key = key("sk-main-0000111122223333");
    c.add(main, false).unwrap();
    c
}

fn load(dir: &Path) -> Config {
    let loaded = Config::load(dir).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.config
}

#[test]
fn a_missing_file_is_an_empty_config() {
    let tmp = tempfile::tempdir().unwrap();
    let loaded = Config::load(&tmp.path().join("nowhere")).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
}

#[test]
fn profiles_round_trip_through_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = two_profiles();
    c.set_default("kie").unwrap();
    c.low_balance = Some(25.5);
    c.save(tmp.path()).unwrap();

    let back = load(tmp.path());
    assert_eq!(back, c);
    let kie = back.profile("kie").unwrap();
    assert_eq!(kie.base_url, KIE_BASE_URL);
    assert_eq!(kie.upload_url.as_deref(), Some(KIE_UPLOAD_URL));
    assert_eq!(kie.api_key.as_ref().unwrap().expose(), SECRET);
    assert_eq!(kie.webhook_key.as_ref().unwrap().expose(), HOOK_SECRET);
    assert_eq!(kie.callback_listen, addr("127.0.0.1:8787"));
    assert_eq!(back.profile("main").unwrap().base_url, DEFAULT_BASE_URL);
    assert_eq!(back.default_profile(), Some("kie"));
    assert_eq!(back.low_balance, Some(25.5));

    let text = fs::read_to_string(config_file(tmp.path())).unwrap();
    assert!(text.contains("[profiles.kie]"), "{text}");
    assert!(text.starts_with("# fouro's configuration"), "{text}");
}

#[test]
fn the_example_file_loads_and_matches_the_presets() {
    let loaded = Config::from_toml(EXAMPLE_CONFIG, Path::new("example.toml")).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.names(), ["4oimageapi", "kie"]);
    assert_eq!(c.default_profile(), Some("kie"));
    assert_eq!(
        c.low_balance,
        Some(50.0),
        "an integer is read as a number of credits"
    );
    let four = c.profile("4oimageapi").unwrap();
    assert_eq!(four.base_url, Preset::FourOImageApi.base_url());
    let kie = c.profile("kie").unwrap();
    assert_eq!(kie.base_url, Preset::Kie.base_url());
    assert_eq!(kie.upload_url.as_deref(), Preset::Kie.upload_url());
    assert_eq!(kie.callback_listen, addr("127.0.0.1:8787"));
}

#[test]
fn a_profile_without_a_base_url_gets_the_default() {
    let text = "[profiles.bare]\napi_key = \"  sk-bare-key-0123456789  \"\n";
    let c = Config::from_toml(text, Path::new("c.toml")).unwrap().config;
    let bare = c.profile("bare").unwrap();
    assert_eq!(bare.base_url, DEFAULT_BASE_URL);
    assert_eq!(
        bare.api_key.as_ref().unwrap().expose(),
        "sk-bare-key-0123456789"
    );
    assert_eq!(
        c.active(None).unwrap().unwrap().name,
        "bare",
        "the only profile"
    );
}

#[test]
fn unknown_keys_warn_and_survive_a_save() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "palette = \"dark\"\nzeta = 1\n[a_table]\nx = true\n\
                [theme]\nbase = \"light\"\nerror = \"#d70000\"\n\
                [profiles.kie]\nbase_url = \"https://api.kie.ai\"\napi_kye = \"typo\"\n";
    write_private(tmp.path(), text);
    let loaded = Config::load(tmp.path()).unwrap();
    let warned: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(warned[0].contains("`a_table`"), "{warned:?}");
    assert!(warned[1].contains("`palette`"), "{warned:?}");
    assert!(warned[3].contains("`profiles.kie.api_kye`"), "{warned:?}");
    assert!(
        !format!("{:?}", loaded.config).contains("typo"),
        "values of unknown keys are not shown"
    );

    loaded.config.save(tmp.path()).unwrap();
    let again = fs::read_to_string(config_file(tmp.path())).unwrap();
    let back = Config::from_toml(&again, Path::new("again")).unwrap();
    assert_eq!(back.config, loaded.config, "{again}");
    assert_eq!(back.warnings.len(), 4, "{again}");
    assert!(again.contains("palette = \"dark\""), "{again}");
    // The theme is written back as it was written.
    assert!(again.contains("[theme]"), "{again}");
    assert!(again.contains("error = \"#d70000\""), "{again}");
    assert_eq!(
        back.config.theme.error,
        ratatui::style::Color::Rgb(0xd7, 0, 0)
    );
    assert!(again.contains("api_kye = \"typo\""), "{again}");
}

#[test]
fn switching_the_default_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = two_profiles();
    assert!(
        c.active(None).unwrap().is_none(),
        "two profiles and no default"
    );
    c.set_default("kie").unwrap();
    assert_eq!(c.active(None).unwrap().unwrap().name, "kie");
    c.set_default("main").unwrap();
    c.save(tmp.path()).unwrap();

    let c = load(tmp.path());
    assert_eq!(c.default_profile(), Some("main"));
    assert_eq!(c.active(None).unwrap().unwrap().name, "main");
    assert_eq!(
        c.active(Some("kie")).unwrap().unwrap().name,
        "kie",
        "a flag names another"
    );

    let mut c = c;
    let err = c.set_default("work").unwrap_err().to_string();
    assert!(
        err.contains("\"work\"") && err.contains("kie, main"),
        "{err}"
    );
    assert_eq!(
        c.default_profile(),
        Some("main"),
        "a failed switch changes nothing"
    );
}

#[test]
fn removing_the_default_profile_clears_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = two_profiles();
    c.set_default("kie").unwrap();
    let removed = c.remove("kie").unwrap();
    assert_eq!(removed.name, "kie");
    assert_eq!(c.default_profile(), None);
    c.save(tmp.path()).unwrap();

    let c = load(tmp.path());
    assert_eq!(c.names(), ["main"]);
    assert_eq!(c.default_profile(), None);
    assert_eq!(
        c.active(None).unwrap().unwrap().name,
        "main",
        "the only one left"
    );
    let text = fs::read_to_string(config_file(tmp.path())).unwrap();
    assert!(!text.contains("default_profile"), "{text}");

    let mut c = c;
    assert!(matches!(c.remove("kie"), Err(ConfigError::Unknown { .. })));
}

#[test]
fn adding_a_profile_twice_needs_replace() {
    let mut c = two_profiles();
    let err = c.add(Profile::new("kie"), false).unwrap_err();
    assert!(matches!(err, ConfigError::Exists { .. }), "{err}");
    assert_eq!(
        c.profile("kie").unwrap().base_url,
        KIE_BASE_URL,
        "the old one stays"
    );
    c.add(Profile::new("kie"), true).unwrap();
    assert_eq!(c.profile("kie").unwrap().base_url, DEFAULT_BASE_URL);
}

#[test]
fn invalid_names_are_refused() {
    let mut c = Config::default();
    let too_long = "x".repeat(33);
    for bad in ["", "two words", "kie.ai", "é", "a/b", too_long.as_str()] {
        let err = c.add(Profile::new(bad), false).unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidName { .. }),
            "{bad:?}: {err}"
        );
    }
    assert!(c.names().is_empty());
    c.add(Profile::new("x".repeat(32)), false).unwrap();
    c.add(Profile::new("Work_2-b"), false).unwrap();

    // In the file too, with the line named.
    let text = "low_balance = 1\n\n[profiles.\"two words\"]\nbase_url = \"https://api.kie.ai\"\n";
    let err = Config::from_toml(text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 3") && err.contains("not a valid profile name"),
        "{err}"
    );
}

#[test]
fn garbled_toml_names_the_line_and_the_file_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let garbled = format!(
        "default_profile = \"kie\"\n[profiles.kie]\nbase_url = \"https://api.kie.ai\"\napi_key = {SECRET}\n"
    );
    let path = write_private(tmp.path(), &garbled);
    let err = Config::load(tmp.path()).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("line 4"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        !msg.contains("SECRET"),
        "the offending line is not quoted: {msg}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), garbled);

    for (text, line, what) in [
        (
            "[profiles.kie]\nbase_url = \"ftp://x\"\n",
            "line 2",
            "https://",
        ),
        (
            "[profiles.kie]\ncallback_listen = \"nope\"\n",
            "line 2",
            "address",
        ),
        ("low_balance = -3\n", "line 1", "low_balance"),
        (
            "[profiles.kie]\napi_key = 1234567890123456\n",
            "line 2",
            "in quotes",
        ),
    ] {
        let msg = Config::from_toml(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains(line) && msg.contains(what), "{text:?}: {msg}");
        assert!(!msg.contains("1234567890123456"), "{msg}");
    }
}

#[test]
fn a_default_naming_no_profile_is_ignored_with_a_warning() {
    let text = "default_profile = \"gone\"\n[profiles.main]\n";
    let loaded = Config::from_toml(text, Path::new("c.toml")).unwrap();
    assert_eq!(loaded.config.default_profile(), None);
    assert!(matches!(
        &loaded.warnings[..],
        [ConfigWarning::DanglingDefault { name, .. }] if name == "gone"
    ));
}

#[test]
fn debug_never_shows_a_key() {
    let c = two_profiles();
    let profile = c.profile("kie").unwrap();
    let settings = Settings {
        flag: Partial {
            api_key: key(SECRET),
            webhook_key: key(HOOK_SECRET),
            ..Partial::default()
        },
        env: Partial::default(),
    };
    let resolved = resolve(settings.clone(), Some(profile));
    for shown in [
        format!("{c:?}"),
        format!("{c:#?}"),
        format!("{profile:?}"),
        format!("{settings:?}"),
        format!("{resolved:?}"),
    ] {
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(!shown.contains("0123456789"), "{shown}");
    }
    // Masked, but still recognisable.
    assert!(format!("{profile:?}").contains("fak…lugh"));
}

/// Writes `config.toml` as 0600, as fouro would.
fn write_private(dir: &Path, text: &str) -> PathBuf {
    let path = config_file(dir);
    fs::write(&path, text).unwrap();
    #[cfg(unix)]
    set_mode(&path, 0o600);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}
