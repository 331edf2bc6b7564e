//! The welcome screen with the real worker behind it against the emulator: the key pasted is
//! checked and saved in `config.toml` under the very profile the screen named.

use crate::common;

use std::time::{Duration, Instant};

use fouro::config::Config;
use fouro::tui::action::{AccountInfo, Action};
use fouro::tui::app::Screen;
use fouro::tui::testing::{key, screen, welcome_app_at};
use fouro::tui::worker::AccountSetup;

/// The profile name the welcome screen says it saves the key as.
fn named_profile(text: &str) -> String {
    let flat = text.replace(['│', '"'], " ");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let after = flat
        .split("as profile ")
        .nth(1)
        .unwrap_or_else(|| panic!("the screen names a profile: {flat}"));
    after
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_saves_the_key_under_the_profile_it_names() {
    let emulator = common::emulator(300).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let config = tempfile::tempdir().expect("a config dir");
    let (mut w, mut rx) = common::app::worker(&emulator.base_url(), data.path(), "", |c| {
        c.api_key = None;
    });
    w.set_account(AccountSetup {
        config_dir: Some(config.path().to_path_buf()),
        info: AccountInfo {
            base_url: emulator.base_url(),
            ..AccountInfo::default()
        },
        ..AccountSetup::default()
    });
    let mut a = welcome_app_at(80, 24, Instant::now(), &emulator.base_url());
    let named = named_profile(&screen(&a));
    assert_eq!(named, "custom", "another service than the known ones");

    a.update(Action::Paste(common::KEY.into()));
    a.update(key(crossterm::event::KeyCode::Enter));
    common::app::run_until(&mut a, &mut w, &mut rx, Duration::from_secs(20), |a, _| {
        a.screen == Screen::Main
    })
    .await;

    let loaded = Config::load(config.path()).expect("config.toml was written");
    let saved = loaded
        .config
        .profile(&named)
        .unwrap_or_else(|| panic!("no [profiles.{named}] in {:?}", loaded.config.names()));
    assert_eq!(saved.base_url, emulator.base_url());
    assert_eq!(
        saved.api_key.as_ref().map(|k| k.expose().to_owned()),
        Some(common::KEY.to_owned())
    );
    assert_eq!(loaded.config.default_profile(), Some(named.as_str()));
    assert_eq!(loaded.config.names(), vec![named], "no other profile");
    drop(w);
    emulator.shutdown().await;
}
