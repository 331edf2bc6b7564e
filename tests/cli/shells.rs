//! Completion scripts loaded by the real shells, and the manual pages rendered by groff.

use std::path::Path;
use std::process::Command;

fn fouro(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fouro"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    out
}

/// The completion script for `shell`, in a file of `dir`.
fn script(dir: &Path, shell: &str) -> String {
    let path = dir.join(format!("fouro.{shell}"));
    std::fs::write(&path, fouro(&["completions", shell]).stdout).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Runs `shell -c code` with a clean environment; its stdout.
fn shell(shell: &str, args: &[&str], code: &str) -> String {
    let out = Command::new(shell)
        .args(args)
        .arg("-c")
        .arg(code)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("{shell} must be installed (.ci/run installs it): {e}"));
    assert!(out.status.success(), "{shell}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completes_subcommands_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "bash");
    // As bash calls a completion function: the words so far, the word under the cursor.
    let got = shell(
        "bash",
        &["--norc", "--noprofile"],
        &format!(
            "source {file}
             COMP_WORDS=(fouro gen); COMP_CWORD=1; _fouro fouro gen fouro; echo \"${{COMPREPLY[*]}}\"
             COMP_WORDS=(fouro generate --size ''); COMP_CWORD=3; _fouro fouro '' --size; echo \"${{COMPREPLY[*]}}\"
             complete -p fouro"
        ),
    );
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "generate", "{got}");
    assert_eq!(lines[1], "1:1 3:2 2:3", "{got}");
    assert!(
        lines[2].contains("_fouro") && lines[2].ends_with(" fouro"),
        "{got}"
    );
}

#[test]
fn fish_completes_subcommands_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "fish");
    let got = shell(
        "fish",
        &["--no-config"],
        &format!(
            "source {file}; complete -C 'fouro gen'; echo @@; complete -C 'fouro generate --size '"
        ),
    );
    let (commands, sizes) = got.split_once("@@\n").unwrap();
    let commands: Vec<&str> = commands
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(commands, ["generate"], "{got}");
    let mut sizes: Vec<&str> = sizes.lines().collect();
    sizes.sort();
    assert_eq!(sizes, ["1:1", "2:3", "3:2"], "{got}");
}

#[test]
fn zsh_loads_the_completion_for_fouro() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), "zsh");
    // Completing needs a line editor; loaded under compinit, the function must be defined
    // and registered for `fouro`, and the sizes are among its values.
    let got = shell(
        "zsh",
        &["-f"],
        &format!(
            "autoload -Uz compinit && compinit -u -d {dir}/zcompdump
             source {file} && compdef _fouro fouro
             print -r -- $_comps[fouro]
             (( $+functions[_fouro] )) && print defined",
            dir = dir.path().display()
        ),
    );
    assert_eq!(got, "_fouro\ndefined\n", "{got}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("1\\:1 3\\:2 2\\:3"), "{text}");
}

#[test]
fn every_shell_clap_knows_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = fouro(&["completions", shell]);
        let text = String::from_utf8(out.stdout).unwrap();
        // Elvish's and PowerShell's scripts from clap_complete complete names, not values.
        assert!(
            text.contains("generate") && text.contains("size"),
            "{shell}: {text}"
        );
    }
}

#[test]
fn every_manual_page_renders_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    fouro(&["man", dir.path().to_str().unwrap()]);
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in [
        "fouro.1",
        "fouro-generate.1",
        "fouro-batch.1",
        "fouro-key-set.1",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing: {names:?}");
    }
    for page in &pages {
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(page)
            .output()
            .expect("groff must be installed (.ci/run installs it)");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page:?}: {out:?}"
        );
    }
    // One page on stdout, as `man -l -` reads it.
    let one = fouro(&["man", "--page", "key set"]);
    let text = String::from_utf8(one.stdout).unwrap();
    assert!(
        text.starts_with(".ie") || text.contains(".TH fouro-key-set"),
        "{text}"
    );
}
