//! `--help` for every subcommand: snapshots of what a person reads, the global options under
//! their own heading once, every argument described, value lists shown, examples at the end,
//! and no subcommand listing an option that does not act on it.

use std::collections::BTreeSet;

use clap::CommandFactory;
use fouro::cli::Cli;

/// Every command's path, `[]` for `fouro` itself, from the definition (so a new subcommand is
/// covered without being named here).
fn paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        for sub in cmd.get_subcommands() {
            let mut next = at.clone();
            next.push(sub.get_name().to_owned());
            walk(sub, next, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut out);
    out
}

/// The help the binary prints, as a user runs it.
fn help(path: &[String]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .args(path)
        .arg("--help")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The long options listed under one heading of a help text.
fn options_under(text: &str, heading: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line == format!("{heading}:");
            continue;
        }
        if inside && let Some(word) = line.split_whitespace().find(|w| w.starts_with("--")) {
            found.insert(word.trim_end_matches(',').to_owned());
        }
    }
    found
}

#[test]
fn help_of_every_command_is_as_snapshotted() {
    for path in paths() {
        let name = if path.is_empty() {
            "fouro".to_owned()
        } else {
            format!("fouro-{}", path.join("-"))
        };
        insta::assert_snapshot!(name, help(&path));
    }
}

/// The options that act only on some commands, and the commands they act on. A command not
/// named here takes none of them.
const ACTING: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "--timeout",
            "--retries",
            "--follow-limit",
            "--callback-listen",
            "--callback-public-url",
        ],
    ),
    (
        "generate",
        &[
            "--timeout",
            "--retries",
            "--follow-limit",
            "--callback-listen",
            "--callback-public-url",
        ],
    ),
    ("batch", &["--timeout", "--retries", "--follow-limit"]),
    ("status", &["--timeout", "--retries"]),
    ("credits", &["--timeout", "--retries"]),
    ("download", &["--timeout", "--retries"]),
    ("sync", &["--timeout", "--retries", "--follow-limit"]),
    ("key set", &["--timeout", "--retries"]),
    ("key check", &["--timeout", "--retries"]),
    (
        "profile add",
        &["--callback-listen", "--callback-public-url"],
    ),
];

#[test]
fn no_command_lists_an_option_that_does_not_act_on_it() {
    let some: BTreeSet<&str> = ACTING.iter().flat_map(|(_, o)| o.iter().copied()).collect();
    for path in paths() {
        let text = help(&path);
        let key = path.join(" ");
        let expected: BTreeSet<&str> = ACTING
            .iter()
            .find(|(p, _)| *p == key)
            .map(|(_, o)| o.iter().copied().collect())
            .unwrap_or_default();
        let mut listed = options_under(&text, "Options");
        listed.extend(options_under(&text, "App options"));
        let shown: BTreeSet<&str> = listed
            .iter()
            .map(String::as_str)
            .filter(|o| some.contains(o))
            .collect();
        assert_eq!(shown, expected, "fouro {key} --help:\n{text}");
    }
}

#[test]
fn global_options_are_listed_once_under_their_own_heading() {
    let global: BTreeSet<String> = [
        "--profile",
        "--api-key",
        "--base-url",
        "--upload-url",
        "--color",
    ]
    .map(str::to_owned)
    .into();
    for path in paths() {
        let text = help(&path);
        assert_eq!(
            options_under(&text, "Global options"),
            global,
            "{path:?}:\n{text}"
        );
        assert_eq!(
            text.matches("Global options:").count(),
            1,
            "{path:?}:\n{text}"
        );
        for option in &global {
            assert!(
                !options_under(&text, "Options").contains(option),
                "{path:?}:\n{text}"
            );
        }
        // `[env: NAME=]` when unset, `[env: NAME=value]` when set: neither belongs in help.
        assert!(!text.contains("=]"), "{path:?}:\n{text}");
    }
}

#[test]
fn every_argument_is_described_and_every_leaf_has_examples() {
    let mut root = Cli::command();
    root.build();
    fn check(cmd: &clap::Command, at: &str) {
        for arg in cmd.get_arguments() {
            assert!(
                arg.get_help().is_some(),
                "{at}: {} has no description",
                arg.get_id()
            );
        }
        if cmd.get_subcommands().next().is_none() {
            let after = cmd
                .get_after_help()
                .map(|s| s.to_string())
                .unwrap_or_default();
            assert!(after.starts_with("Examples:"), "{at} has no examples");
        }
        // clap's own `help` subcommand has neither.
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            check(sub, &format!("{at} {}", sub.get_name()));
        }
    }
    check(&root, "fouro");
}

#[test]
fn top_level_help_says_how_to_open_and_try_the_app() {
    let text = help(&[]);
    assert!(text.contains("`fouro` alone opens the app"), "{text}");
    assert!(text.contains("`fouro demo`"), "{text}");
}

#[test]
fn value_lists_are_shown() {
    let text = help(&["generate".to_owned()]);
    assert!(text.contains("[possible values: 1:1, 3:2, 2:3]"), "{text}");
    assert!(text.contains("[possible values: 1, 2, 4]"), "{text}");
    let text = help(&["history".to_owned()]);
    assert!(
        text.contains("[possible values: generating, success, failed, expired]"),
        "{text}"
    );
}

/// `--color never` is `NO_COLOR=1`: the app draws without colour either way, `always` draws
/// in colour in spite of the variable, and the option works after a subcommand too.
#[test]
fn color_never_is_no_color() {
    use clap::Parser;
    let off = |args: &[&str], no_color: Option<&str>| {
        let cli = Cli::try_parse_from(std::iter::once("fouro").chain(args.iter().copied()));
        cli.unwrap()
            .global
            .colour_off(no_color.map(std::ffi::OsStr::new))
    };
    assert!(off(&["--color", "never"], None));
    assert_eq!(off(&["--color", "never"], None), off(&[], Some("1")));
    assert!(off(&["status", "task_1", "--color=never"], None));
    assert!(!off(&[], None));
    assert!(!off(&[], Some("")), "an empty NO_COLOR is unset");
    assert!(!off(&["--color", "always"], Some("1")));
    assert!(off(&["--color", "auto"], Some("1")));
}

/// clap's own help follows `--color` as well: styled when asked always, plain when never
/// (even with CLICOLOR_FORCE set).
#[test]
fn the_help_follows_color() {
    let run = |choice: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
            .args(["status", "--help", "--color", choice])
            .env_clear()
            .env("CLICOLOR_FORCE", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run("always").contains('\x1b'));
    assert!(!run("never").contains('\x1b'));
}
