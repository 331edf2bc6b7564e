//! Which setting wins: the flag, the environment, the profile, the default.

use super::*;

fn everything(tag: &str) -> Partial {
    Partial {
        base_url: Some(format!("https://{tag}.example")),
        upload_url: Some(format!("https://upload.{tag}.example")),
        api_key: key(&format!("key-from-the-{tag}-0123456789")),
        webhook_key: key(&format!("hook-from-the-{tag}-0123456789")),
        callback_listen: addr(match tag {
            "flag" => "127.0.0.1:1001",
            _ => "127.0.0.1:1002",
        }),
        callback_public_url: Some(format!("https://hooks.{tag}.example")),
    }
}

fn profile_with_everything() -> Profile {
    let mut p = Profile::new("acct");
    p.base_url = "https://profile.example".to_owned();
    p.upload_url = Some("https://upload.profile.example".to_owned());
    p.api_key = key("key-from-the-profile-0123456789");
    p.webhook_key = key("hook-from-the-profile-0123456789");
    p.callback_listen = addr("127.0.0.1:1003");
    p.callback_public_url = Some("https://hooks.profile.example".to_owned());
    p
}

/// Each field of `r`, as text, to compare all six at once.
fn fields(r: &config::Resolved) -> [String; 6] {
    let k = |k: &Option<ApiKey>| k.as_ref().map_or("-".to_owned(), |k| k.expose().to_owned());
    [
        r.base_url.clone(),
        r.upload_url.clone().unwrap_or_else(|| "-".to_owned()),
        k(&r.api_key),
        k(&r.webhook_key),
        r.callback_listen.map_or("-".to_owned(), |a| a.to_string()),
        r.callback_public_url
            .clone()
            .unwrap_or_else(|| "-".to_owned()),
    ]
}

#[test]
fn the_flag_beats_the_environment_beats_the_profile_beats_the_default() {
    let p = profile_with_everything();
    let flag = everything("flag");
    let env = everything("env");

    let r = resolve(
        Settings {
            flag: flag.clone(),
            env: env.clone(),
        },
        Some(&p),
    );
    assert_eq!(fields(&r), fields(&resolve_only(&flag)));
    assert!(
        fields(&r)
            .iter()
            .all(|f| f.contains("flag") || f.ends_with("1001"))
    );
    assert_eq!(r.api_key_source, Source::Flag);
    assert_eq!(r.base_url_source, Source::Flag);

    let r = resolve(
        Settings {
            flag: Partial::default(),
            env,
        },
        Some(&p),
    );
    assert!(
        fields(&r)
            .iter()
            .all(|f| f.contains("env") || f.ends_with("1002")),
        "{:?}",
        fields(&r)
    );
    assert_eq!(r.api_key_source, Source::Env);
    assert_eq!(r.webhook_key_source, Source::Env);

    let r = resolve(Settings::default(), Some(&p));
    assert!(
        fields(&r)
            .iter()
            .all(|f| f.contains("profile") || f.ends_with("1003")),
        "{:?}",
        fields(&r)
    );
    assert_eq!(r.api_key_source, Source::Profile("acct".to_owned()));
    assert_eq!(r.api_key_source.to_string(), "profile \"acct\"");
    assert_eq!(r.profile.as_deref(), Some("acct"));

    let r = resolve(Settings::default(), None);
    assert_eq!(fields(&r), [DEFAULT_BASE_URL, "-", "-", "-", "-", "-"]);
    assert_eq!(r.base_url_source, Source::Default);
    assert_eq!(r.api_key_source, Source::None);
    assert_eq!(r.profile, None);
}

fn resolve_only(flag: &Partial) -> config::Resolved {
    resolve(
        Settings {
            flag: flag.clone(),
            env: Partial::default(),
        },
        None,
    )
}

#[test]
fn each_field_falls_through_on_its_own() {
    let p = profile_with_everything();
    // The flag gives the key, the environment the webhook key and the listener, the profile the
    // rest.
    let settings = Settings {
        flag: Partial {
            api_key: key("key-from-the-flag-0123456789"),
            ..Partial::default()
        },
        env: Partial {
            webhook_key: key("hook-from-the-env-0123456789"),
            callback_listen: addr("127.0.0.1:1002"),
            ..Partial::default()
        },
    };
    let r = resolve(settings, Some(&p));
    assert_eq!(
        fields(&r),
        [
            "https://profile.example",
            "https://upload.profile.example",
            "key-from-the-flag-0123456789",
            "hook-from-the-env-0123456789",
            "127.0.0.1:1002",
            "https://hooks.profile.example",
        ]
    );
    assert_eq!(r.api_key_source, Source::Flag);
    assert_eq!(r.webhook_key_source, Source::Env);
    assert_eq!(r.base_url_source, Source::Profile("acct".to_owned()));
}

#[test]
fn a_base_url_from_a_stronger_source_drops_the_profiles_upload_url() {
    let p = Preset::Kie.profile("kie");
    let settings = Settings {
        flag: Partial {
            base_url: Some("http://127.0.0.1:8080".to_owned()),
            ..Partial::default()
        },
        env: Partial::default(),
    };
    let r = resolve(settings, Some(&p));
    assert_eq!(r.base_url, "http://127.0.0.1:8080");
    assert_eq!(r.upload_url, None, "uploads follow the overridden base URL");

    let settings = Settings {
        flag: Partial::default(),
        env: Partial {
            base_url: Some("http://127.0.0.1:8080".to_owned()),
            upload_url: Some("http://127.0.0.1:8081".to_owned()),
            ..Partial::default()
        },
    };
    let r = resolve(settings, Some(&p));
    assert_eq!(r.upload_url.as_deref(), Some("http://127.0.0.1:8081"));
}

#[test]
fn the_environment_is_read_through_a_lookup() {
    let env = |k: &str| match k {
        "FOURO_API_KEY" => Some(format!(" {SECRET} ")),
        "FOURO_BASE_URL" => Some("https://api.kie.ai".to_owned()),
        "FOURO_UPLOAD_URL" => Some(String::new()),
        "FOURO_CALLBACK_LISTEN" => Some("0.0.0.0:8787".to_owned()),
        _ => None,
    };
    let p = Partial::from_env(env).unwrap();
    assert_eq!(p.api_key.as_ref().unwrap().expose(), SECRET);
    assert_eq!(p.base_url.as_deref(), Some("https://api.kie.ai"));
    assert_eq!(p.upload_url, None, "empty is unset");
    assert_eq!(p.callback_listen, addr("0.0.0.0:8787"));

    let err = Partial::from_env(|k| (k == "FOURO_CALLBACK_LISTEN").then(|| "8787".to_owned()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("FOURO_CALLBACK_LISTEN") && err.contains("127.0.0.1:8787"),
        "{err}"
    );
}

#[test]
fn the_config_dir_comes_from_the_variable_when_set() {
    assert_eq!(
        config::config_dir_from(Some(OsString::from("/tmp/fouro-conf"))),
        PathBuf::from("/tmp/fouro-conf")
    );
    let platform = config::config_dir_from(None);
    assert_eq!(config::config_dir_from(Some(OsString::new())), platform);
    assert!(
        platform.ends_with("fouro") || platform.ends_with("config"),
        "{platform:?}"
    );
}
