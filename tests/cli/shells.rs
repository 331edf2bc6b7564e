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

/// What an interactive zsh reads first: the script installed as the README says (`_fouro` in
/// a directory of `$fpath`, then compinit), a `compadd` that also writes each match it is
/// given to `matches`, and Ctrl-G printing the line edited.
const ZSH_RC: &str = r#"PS1='> '
fpath+=($DIR/zfunc)
autoload -Uz compinit && compinit -u -d $DIR/zcompdump
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a __hits
  builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >> $DIR/matches
  builtin compadd "$@"
}
_line() { zle -I; print -r -- "LINE<$BUFFER>"; BUFFER= }
zle -N _line
bindkey '^G' _line
print ready-$((6 * 7))
"#;

/// Drives that zsh through a pseudo-terminal (zsh/zpty): types, presses TAB, and waits for
/// the line it prints (never a fixed pause; `timeout` ends a zsh that hangs).
const ZSH_DRIVER: &str = r#"zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "DIR=$DIR; source $DIR/rc.zsh"
zpty -r z out '*ready-42*' || exit 3
line() {
  : > $DIR/matches
  zpty -w -n z "$1"$'\t\C-g'
  zpty -r z out '*LINE<*>*' || exit 4
  print -r -- "${${out##*LINE<}%%>*}|${(j: :)${(f)"$(<$DIR/matches)"}}"
}
line 'fouro gen'
line 'fouro generate --size '
zpty -d z
"#;

#[test]
fn zsh_completes_subcommands_and_sizes_at_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let functions = dir.path().join("zfunc");
    std::fs::create_dir(&functions).unwrap();
    std::fs::rename(script(dir.path(), "zsh"), functions.join("_fouro")).unwrap();
    std::fs::write(dir.path().join("rc.zsh"), ZSH_RC).unwrap();
    let code = format!("DIR={}\n{ZSH_DRIVER}", dir.path().display());
    let got = shell("timeout", &["60", "zsh", "-f"], &code);
    let lines: Vec<&str> = got.lines().collect();
    // TAB after `fouro gen` writes the rest of the one subcommand it can be.
    assert_eq!(lines[0], "fouro generate |generate", "{got}");
    // TAB after `--size ` offers the three ratios (listed, the line left as it was).
    assert_eq!(lines[1], "fouro generate --size |1:1 3:2 2:3", "{got}");
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
