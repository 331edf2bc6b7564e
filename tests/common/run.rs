//! The one way the tests run the `fouro` binary: a private data and config directory, nothing
//! from the machine's environment but `PATH` and `TZ`, a time limit, and a check that it did
//! not panic.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// How long one run may take before the test fails.
pub const TIME_LIMIT: Duration = Duration::from_secs(120);

/// A run of the binary being put together.
#[derive(Clone, Debug)]
pub struct Fouro {
    data: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    lead: Vec<String>,
    stdin: Option<String>,
    limit: Duration,
}

impl Fouro {
    /// The binary with `data` as its data directory and `data/config` as its config directory.
    pub fn new(data: &Path) -> Fouro {
        Fouro {
            data: data.to_path_buf(),
            config: data.join("config"),
            env: Vec::new(),
            lead: Vec::new(),
            stdin: None,
            limit: TIME_LIMIT,
        }
    }

    /// Against `base_url`, with `key` (if any) and one try per call (`FOURO_RETRIES=1`: from
    /// the environment, it serves the subcommands that call the service and is no error before
    /// those that do not, as `--retries` typed before them would be).
    pub fn at(base_url: &str, data: &Path, key: Option<&str>) -> Fouro {
        let run = Fouro::new(data)
            .env("FOURO_BASE_URL", base_url)
            .env("FOURO_RETRIES", "1");
        match key {
            Some(key) => run.env("FOURO_API_KEY", key),
            None => run,
        }
    }

    pub fn config_dir(mut self, dir: &Path) -> Fouro {
        self.config = dir.to_path_buf();
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Fouro {
        self.env.push((
            name.to_owned(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    /// Arguments put before each run's own.
    pub fn lead(mut self, args: &[&str]) -> Fouro {
        self.lead.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Text piped to its stdin (otherwise stdin is empty).
    pub fn stdin(mut self, text: &str) -> Fouro {
        self.stdin = Some(text.to_owned());
        self
    }

    pub fn limit(mut self, limit: Duration) -> Fouro {
        self.limit = limit;
        self
    }

    /// The command for a blocking spawn: output piped.
    pub fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fouro"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("FOURO_DATA_DIR", &self.data)
            // Never a config.toml of the machine's: its profile would change what is sent.
            .env("FOURO_CONFIG_DIR", &self.config)
            .args(&self.lead)
            .args(args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Image folders are named by the local date: the child must see the same zone.
        if let Some(tz) = std::env::var_os("TZ") {
            cmd.env("TZ", tz);
        }
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        cmd
    }

    /// The command, ready to spawn in a runtime: output piped, killed when dropped.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::from(self.std_command(args));
        cmd.kill_on_drop(true);
        cmd
    }

    /// Runs it to the end without a runtime (blocking, no time limit) and checks it did not
    /// panic.
    pub fn output(&self, args: &[&str]) -> Output {
        let mut child = self.std_command(args).spawn().expect("fouro starts");
        if let Some(text) = &self.stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("a stdin pipe");
            // A run that exits before it reads its input closes the pipe: that is its answer,
            // judged by the test from its output, not a failure to write.
            if let Err(e) = pipe.write_all(text.as_bytes()) {
                assert_eq!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe,
                    "stdin written: {e}"
                );
            }
        }
        let out = child.wait_with_output().expect("fouro runs");
        assert_no_panic(args, &out);
        out
    }

    /// Runs it to the end (within the time limit) and checks it did not panic.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut child = self.command(args).spawn().expect("fouro starts");
        if let Some(text) = &self.stdin {
            let mut pipe = child.stdin.take().expect("a stdin pipe");
            if let Err(e) = pipe.write_all(text.as_bytes()).await {
                assert_eq!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe,
                    "stdin written: {e}"
                );
            }
        }
        let out = tokio::time::timeout(self.limit, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("fouro {args:?} ran over {:?}", self.limit))
            .expect("fouro runs");
        assert_no_panic(args, &out);
        out
    }
}

/// Fails the test if fouro panicked.
pub fn assert_no_panic(args: &[&str], out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "fouro {args:?} panicked: {err}");
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Its stdout as one JSON value.
pub fn json_out(o: &Output) -> Value {
    serde_json::from_str(stdout(o).trim())
        .unwrap_or_else(|e| panic!("not one JSON value ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
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
    out.sort();
    out
}

/// Bytes that look random and are the same each run.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A file's permission bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}
