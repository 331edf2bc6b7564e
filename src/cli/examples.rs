//! The examples at the end of each subcommand's help.

pub const GENERATE: &str = "\
Examples:
  fouro generate \"a red fox in snow\"                 submit; prints the task id
  fouro generate \"a red fox in snow\" --size 3:2 --variants 4 --wait --out ./foxes
  fouro generate \"make it night\" --ref fox.png --mask sky.png --wait
  echo \"a lighthouse at dawn\" | fouro generate - --wait --json";

pub const BATCH: &str = "\
Examples:
  fouro batch prompts.txt                       show the plan and the balance, ask, run
  fouro batch prompts.txt --size 1:1,3:2 --variants 1,2 --max-credits 100 -y
  fouro batch prompts.txt --resume              go on after an interruption";

pub const STATUS: &str = "\
Examples:
  fouro status task_4o_0123456789abcdef
  fouro status task_4o_0123456789abcdef --json";

pub const CREDITS: &str = "\
Examples:
  fouro credits
  fouro credits --usage --days 7
  fouro credits --json";

pub const DOWNLOAD: &str = "\
Examples:
  fouro download task_4o_0123456789abcdef
  fouro download task_4o_0123456789abcdef --out ./images";

pub const SYNC: &str = "\
Examples:
  fouro sync
  fouro sync --json --follow-limit 5";

pub const HISTORY: &str = "\
Examples:
  fouro history
  fouro history --search fox --aspect 3:2 --limit 5
  fouro history --status failed --json";

pub const KEY_SET: &str = "\
Examples:
  fouro key set                                 type the key (not echoed)
  printf '%s\\n' \"$KEY\" | fouro key set --profile work
  fouro key set --webhook                       the key that signs callbacks";

pub const KEY_CHECK: &str = "\
Examples:
  fouro key check
  fouro key check --profile work";

pub const PROFILE_ADD: &str = "\
Examples:
  fouro profile add work
  fouro profile add kie --preset kie --default
  fouro profile add local --base-url http://127.0.0.1:8080";

pub const PROFILE_USE: &str = "\
Examples:
  fouro profile use work
  fouro --profile kie credits                   one command with another profile";

pub const EMULATOR: &str = "\
Examples:
  fouro emulator --port 8080
  fouro emulator --port 8080 --duration 2 --fail-rate 0.2 --key my-test-key
  FOURO_BASE_URL=http://127.0.0.1:8080 FOURO_API_KEY=demo-key fouro credits";

pub const DEMO: &str = "\
Examples:
  fouro demo
  fouro demo --duration 2 --credits 20";

pub const COMPLETIONS: &str = "\
Examples:
  fouro completions bash > ~/.local/share/bash-completion/completions/fouro
  fouro completions zsh > ~/.zfunc/_fouro        with fpath+=~/.zfunc before compinit
  fouro completions fish > ~/.config/fish/completions/fouro.fish";

pub const MAN: &str = "\
Examples:
  fouro man ~/.local/share/man/man1             every page; then `man fouro-generate`
  fouro man | man -l -                          read the main page now
  fouro man --page generate | man -l -";

pub const PROFILE_LIST: &str = "\
Examples:
  fouro profile list
  fouro profile list --json";

pub const PROFILE_REMOVE: &str = "\
Examples:
  fouro profile remove old-account";
