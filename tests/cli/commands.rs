//! The `fouro` binary against the emulator: output, files and exit codes.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::*;
use fouro::emulator::Emulator;
use serde_json::{Value, json};

mod answers;

/// Runs the binary with a private data directory; `args` go after the global options.
async fn fouro(emu: &Emulator, data: &Path, key: Option<&str>, args: &[&str]) -> Output {
    Fouro::at(&emu.base_url(), data, key).run(args).await
}

#[tokio::test]
async fn generate_wait_downloads_every_variant() {
    let emu = emulator(600).await;
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let sunset = asset("ref-sunset.png");
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &[
            "generate",
            "a lighthouse at dusk",
            "--size",
            "3:2",
            "--ref",
            sunset.to_str().unwrap(),
            "--variants",
            "2",
            "--wait",
            "--out",
            out.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let task_id = lines.next().unwrap().to_owned();
    assert!(task_id.starts_with("task_4o_"), "{text}");
    for n in 1..=2 {
        let path = out.path().join(format!("{task_id}-{n}.png"));
        assert_eq!(lines.next(), Some(path.to_str().unwrap()), "{text}");
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (1536, 1024));
    }
    // The reference was uploaded and handed to the service.
    assert_eq!(calls(&emu, "upload").await, 1);
    let task = task(&emu, &task_id).await;
    assert_eq!(
        task["request"]["filesUrl"].as_array().map(Vec::len),
        Some(1),
        "{task}"
    );
    assert_eq!(task["request"]["nVariants"], 2);
    // The id is in the history, with the reference by its path and the image where it was
    // saved before the copy.
    let entry = fouro::store::History::open_in(data.path())
        .unwrap()
        .get(&task_id)
        .unwrap()
        .expect("the task is in the history");
    assert_eq!(entry.params.refs[0].origin, sunset.to_str().unwrap());
    assert_eq!(entry.images.len(), 2);
    for image in &entry.images {
        let kept = image.path.as_deref().expect("saved in the data directory");
        assert!(kept.starts_with(data.path().join("images")), "{kept:?}");
    }
}

#[tokio::test]
async fn json_output_for_scripts() {
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    let o = fouro(&emu, data.path(), Some(KEY), &["credits", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap(),
        json!({"credits": 100})
    );

    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &[
            "generate",
            "a cat",
            "--json",
            "--wait",
            "--out",
            out.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    assert_eq!(v["status"], "SUCCESS");
    assert_eq!(v["progress"], 1.0);
    assert_eq!(v["resultUrls"].as_array().unwrap().len(), 1);
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    for key in [
        "taskId",
        "errorCode",
        "errorMessage",
        "createTime",
        "completeTime",
    ] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    let id = v["taskId"].as_str().unwrap();

    let o = fouro(&emu, data.path(), Some(KEY), &["status", id, "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["status"], "SUCCESS");
    assert_eq!(s["resultUrls"], v["resultUrls"]);

    let o = fouro(&emu, data.path(), Some(KEY), &["status", id]).await;
    assert!(
        stdout(&o).contains("SUCCESS") && stdout(&o).contains("result 1"),
        "{}",
        stdout(&o)
    );

    let again = tempfile::tempdir().unwrap();
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &["download", id, "--out", again.path().to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(again.path().join(format!("{id}-1.png")).exists());
}

#[tokio::test]
async fn exit_codes_and_messages() {
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    // 2: usage, checked before anything is sent.
    let o = fouro(&emu, d, Some(KEY), &["generate", "x", "--size", "4:3"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = fouro(
        &emu,
        d,
        Some(KEY),
        &["generate", "x", "--ref", "/no/such/image.png"],
    )
    .await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("check the path"), "{}", stderr(&o));
    let gif = d.join("a.gif");
    std::fs::write(&gif, b"GIF89a").unwrap();
    let o = fouro(
        &emu,
        d,
        Some(KEY),
        &["generate", "x", "--ref", gif.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(".png"),
        "says which formats: {}",
        stderr(&o)
    );
    let many: Vec<String> = (0..6)
        .map(|_| asset("ref-leaf.png").display().to_string())
        .collect();
    let mut args = vec!["generate", "x"];
    for m in &many {
        args.extend(["--ref", m.as_str()]);
    }
    let o = fouro(&emu, d, Some(KEY), &args).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("at most 5"), "{}", stderr(&o));
    assert_eq!(calls(&emu, "upload").await, 0, "nothing was uploaded");

    // 3: authentication.
    let o = fouro(&emu, d, None, &["credits"]).await;
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("FOURO_API_KEY"), "{}", stderr(&o));
    let secret = "sk-wrongwrongwrong-0123456789";
    let o = fouro(&emu, d, Some(secret), &["credits"]).await;
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("401"));
    assert!(!stderr(&o).contains(secret) && !stdout(&o).contains(secret));

    // 4: credits.
    control(&emu, "credits", json!({"credits": 1})).await;
    let o = fouro(&emu, d, Some(KEY), &["generate", "x"]).await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("402"));
    control(&emu, "credits", json!({"credits": 100})).await;

    // 5: rejected.
    let o = fouro(&emu, d, Some(KEY), &["status", "task_4o_unknown"]).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    control(&emu, "mode", json!({"mode": "disabled"})).await;
    let o = fouro(&emu, d, Some(KEY), &["credits"]).await;
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("505"));

    // 6: unavailable after retries.
    control(&emu, "mode", json!({"mode": "maintenance"})).await;
    let o = fouro(&emu, d, Some(KEY), &["credits"]).await;
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("maintenance"), "{}", stderr(&o));
    control(&emu, "mode", json!({"mode": "normal"})).await;
    fault(&emu, "credit", 2, "html", json!({"status": 502})).await;
    let o = fouro(&emu, d, Some(KEY), &["credits"]).await;
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("HTTP 502"), "{}", stderr(&o));

    // 7: the task failed.
    control(
        &emu,
        "next-tasks",
        json!({"count": 1, "outcome": "fail", "error_code": 500,
        "message": "failed to generate image"}),
    )
    .await;
    let o = fouro(&emu, d, Some(KEY), &["generate", "x", "--wait"]).await;
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("GENERATE_FAILED") && stderr(&o).contains("failed to generate image")
    );
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert!(
        id.starts_with("task_4o_"),
        "the id is printed before waiting"
    );
    let o = fouro(&emu, d, Some(KEY), &["status", &id]).await;
    assert_eq!(code(&o), 7);
}

#[tokio::test]
async fn help_never_shows_the_key() {
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&emu, data.path(), Some(KEY), &["--help"]).await;
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("--api-key"));
    assert!(!stdout(&o).contains(KEY));
}

#[tokio::test]
async fn the_emulator_subcommand_serves_until_interrupted() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .args([
            "emulator",
            "--port",
            "0",
            "--key",
            "k-1",
            "--credits",
            "42",
            "--duration",
            "0.2",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .next_line()
        .await
        .unwrap()
        .expect("the base URL is printed");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // `credits` keeps its reading in the history: a private data directory, and no profile.
    let data = tempfile::tempdir().unwrap();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .args(["credits", "--base-url", &base, "--api-key", "k-1"])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "42 credits");

    let pid = child.id().unwrap() as i32;
    // SIGINT, as Ctrl-C sends.
    assert_eq!(unsafe_kill(pid), 0);
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "stops cleanly on Ctrl-C");
}

fn unsafe_kill(pid: i32) -> i32 {
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .map(|s| s.code().unwrap_or(1))
        .unwrap_or(1)
}

#[tokio::test]
async fn global_options_go_after_the_subcommand_and_uploads_can_go_elsewhere() {
    let emu = emulator(300).await;
    let uploads = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let o = fouro(
        &emu,
        data.path(),
        None,
        &["credits", "--api-key", KEY, "--json"],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let leaf = asset("ref-leaf.png");
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &[
            "generate",
            "a leaf",
            "--ref",
            leaf.to_str().unwrap(),
            "--upload-url",
            &uploads.base_url(),
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(calls(&uploads, "upload").await, 1);
    assert_eq!(calls(&emu, "upload").await, 0);
    let id = stdout(&o).trim().to_owned();
    let t = task(&emu, &id).await;
    let url = t["request"]["filesUrl"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(url.starts_with(&uploads.base_url()), "{t}");
}

#[tokio::test]
async fn every_generate_option_reaches_the_service() {
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let sunset = asset("ref-sunset.png");
    let leaf = asset("ref-leaf.png");
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &[
            "generate",
            "--size",
            "2:3",
            "--ref",
            sunset.to_str().unwrap(),
            "--mask",
            leaf.to_str().unwrap(),
            "--variants",
            "4",
            "--enhance",
            "--fallback",
            "GPT_IMAGE_1",
            "--callback-url",
            "http://127.0.0.1:9/hook",
            "--json",
            "-",
        ],
    )
    .await;
    // Without --wait, --json prints the fresh task's status object and nothing else.
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    assert_eq!(v["status"], "GENERATING");
    let r = &task(&emu, v["taskId"].as_str().unwrap()).await["request"];
    assert_eq!(r["size"], "2:3");
    assert_eq!(r["nVariants"], 4);
    assert_eq!(r["isEnhance"], true);
    assert_eq!(r["enableFallback"], true);
    assert_eq!(r["fallbackModel"], "GPT_IMAGE_1");
    assert_eq!(r["callBackUrl"], "http://127.0.0.1:9/hook");
    assert!(
        r["maskUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1")),
        "{r}"
    );
    assert!(
        r.get("prompt").is_none(),
        "an empty stdin prompt is left out: {r}"
    );
}

#[tokio::test]
async fn a_prompt_can_come_from_stdin() {
    use tokio::io::AsyncWriteExt;
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .env_clear()
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .args([
            "generate",
            "-",
            "--base-url",
            &emu.base_url(),
            "--api-key",
            KEY,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"a fox in the snow\nat night\n")
        .await
        .unwrap();
    drop(stdin);
    let o = child.wait_with_output().await.unwrap();
    assert_eq!(code(&o), 0);
    let id = stdout(&o).trim().to_owned();
    assert_eq!(
        task(&emu, &id).await["request"]["prompt"],
        "a fox in the snow\nat night"
    );
}
