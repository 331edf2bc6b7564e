//! The inline images in a real terminal emulator: `tests/terminals/run --quick` starts
//! `fouro demo` in xterm (sixel, found by the start-up question, and half blocks, forced) on a
//! private Xvfb display, drives it with xdotool and checks each screenshot by program (see
//! `tests/terminals/README.md`; the full set of terminals runs with `tests/terminals/run`).
//!
//! Xvfb, xterm, xdotool and ImageMagick must be installed (`.ci/run` installs them): without
//! them this test fails, it does not skip.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn xterm_sixel_and_half_blocks_under_xvfb() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for tool in ["Xvfb", "xterm", "xdotool", "import"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is not on PATH: this test runs the app in a real xterm under Xvfb; `.ci/run` installs what it needs (apt-get install xvfb xterm xdotool imagemagick)"
        );
    }
    let out = tempfile::tempdir().expect("a temp dir");
    let run = Command::new("bash")
        .arg(repo.join("tests/terminals/run"))
        .args(["--quick", "--out"])
        .arg(out.path())
        .env("FOURO_BIN", env!("CARGO_BIN_EXE_fouro"))
        .output()
        .expect("bash runs tests/terminals/run");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "tests/terminals/run --quick failed ({}):\n{stdout}\n{stderr}",
        run.status
    );
    // The table names every step it checked, and each passed.
    assert!(stdout.contains("xterm"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    println!("{stdout}");
}
