//! The config file stays private: 0600 in a 0700 directory, and a symlink stays a symlink.

use super::*;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_file_is_created_0600_in_a_0700_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested").join("fouro");
    two_profiles().save(&dir).unwrap();
    assert_eq!(mode(&config_file(&dir)), 0o600);
    assert_eq!(mode(&dir), 0o700);

    // Saving again replaces the file and leaves no temporary file behind.
    let mut c = load(&dir);
    c.set_key("main", key("sk-rotated-0000111122223333"))
        .unwrap();
    c.save(&dir).unwrap();
    assert_eq!(mode(&config_file(&dir)), 0o600);
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [OsString::from("config.toml")]);
    let main = load(&dir);
    let main = main.profile("main").unwrap();
    assert_eq!(
        main.api_key.as_ref().unwrap().expose(),
        "sk-rotated-0000111122223333"
    );
}

#[cfg(unix)]
#[test]
fn a_file_others_can_read_is_made_private_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    two_profiles().save(tmp.path()).unwrap();
    let path = config_file(tmp.path());
    set_mode(&path, 0o644);

    let loaded = Config::load(tmp.path()).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(loaded.config, two_profiles());
    let [warning] = &loaded.warnings[..] else {
        panic!("one warning expected: {:?}", loaded.warnings);
    };
    assert!(matches!(
        warning,
        ConfigWarning::ModeRepaired {
            old_mode: 0o644,
            ..
        }
    ));
    let text = warning.to_string();
    assert!(
        text.contains("config.toml was readable by others")
            && text.contains("0600")
            && text.contains("rotating the keys"),
        "{text}"
    );

    let again = Config::load(tmp.path()).unwrap();
    assert!(
        again.warnings.is_empty(),
        "repaired once: {:?}",
        again.warnings
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_stays_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let dotfiles = tmp.path().join("dotfiles");
    let dir = tmp.path().join("conf");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::create_dir_all(&dir).unwrap();
    let real = write_private(&dotfiles, "[profiles.main]\n");
    std::os::unix::fs::symlink(&real, config_file(&dir)).unwrap();

    let mut c = load(&dir);
    c.set_default("main").unwrap();
    c.save(&dir).unwrap();
    assert!(
        fs::symlink_metadata(config_file(&dir))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(&real)
            .unwrap()
            .contains("default_profile = \"main\"")
    );
}

/// Only root can give a file to someone else; elsewhere this test checks nothing.
#[cfg(target_os = "linux")]
#[test]
fn a_file_of_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let path = write_private(tmp.path(), "[profiles.main]\n");
    if fs::metadata("/proc/self").unwrap().uid() != 0 {
        return;
    }
    std::os::unix::fs::chown(&path, Some(4242), None).unwrap();
    let err = Config::load(tmp.path()).unwrap_err();
    assert!(
        matches!(err, ConfigError::ForeignOwner { owner: 4242, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("FOURO_CONFIG_DIR"), "{err}");
}
