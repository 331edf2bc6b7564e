//! What the binary makes of the service's answers: old tasks, exit codes over the wire, the user agent and proxies, a service that knows no task.

use super::*;

#[tokio::test]
async fn status_and_download_of_a_task_finished_long_ago() {
    let emu = emulator(200).await;
    // Asked at once, the service would answer `data: null` for a moment: not waited out here.
    control(&emu, "quirks", json!({"null_data": false})).await;
    let data = tempfile::tempdir().unwrap();
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &["generate", "later", "--variants", "2"],
    )
    .await;
    let id = stdout(&o).trim().to_owned();
    until_ended(&emu, &id).await;

    let o = fouro(&emu, data.path(), Some(KEY), &["status", &id, "--json"]).await;
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["status"], "SUCCESS",
        "the first query of an old task finds it: {v}"
    );

    // Direct links fail: the result URLs themselves still serve the images.
    fault(&emu, "download-url", 10, "code", json!({"code": 500})).await;
    let out = tempfile::tempdir().unwrap();
    let o = fouro(
        &emu,
        data.path(),
        Some(KEY),
        &["download", &id, "--out", out.path().to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for n in 1..=2 {
        assert!(out.path().join(format!("{id}-{n}.png")).exists());
    }

    let o = fouro(&emu, data.path(), Some(KEY), &["download", "../../etc/x"]).await;
    assert_eq!(
        code(&o),
        2,
        "a task id that could walk out of --out is refused"
    );
}

#[tokio::test]
async fn more_exit_codes_over_the_wire() {
    let emu = emulator(5_000).await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // 5: a 422 the service gives; a task still generating cannot be downloaded.
    fault(
        &emu,
        "generate",
        1,
        "code",
        json!({"code": 422, "status": 200}),
    )
    .await;
    let o = fouro(&emu, d, Some(KEY), &["generate", "x"]).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    let o = fouro(&emu, d, Some(KEY), &["generate", "x"]).await;
    let id = stdout(&o).trim().to_owned();
    let o = fouro(&emu, d, Some(KEY), &["download", &id]).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(stderr(&o).contains("still generating"));
    // 6: a 500 on a paid generate is reported as possibly billed, never retried blindly.
    fault(&emu, "generate", 1, "code", json!({"code": 500})).await;
    let before = calls(&emu, "generate").await;
    let o = fouro(&emu, d, Some(KEY), &["generate", "x"]).await;
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("fouro credits"), "{}", stderr(&o));
    assert_eq!(calls(&emu, "generate").await, before + 1);
    // 6: nobody listening.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = fouro(
        &emu,
        d,
        Some(KEY),
        &["credits", "--base-url", &format!("http://{dead}")],
    )
    .await;
    assert_eq!(code(&o), 6);
    assert!(stderr(&o).contains("could not reach"), "{}", stderr(&o));
}

#[tokio::test]
async fn the_user_agent_names_fouro_and_proxies_are_honoured() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&emu, data.path(), Some(KEY), &["credits"]).await;
    assert_eq!(code(&o), 0);
    let ua = stats(&emu).await["last_user_agent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ua, format!("fouro/{}", env!("CARGO_PKG_VERSION")));

    // A forward proxy on loopback that answers one request itself and records what it saw.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let seen = tokio::spawn(async move {
        let (mut sock, _) = proxy.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).await.unwrap();
        let body = r#"{"code":200,"msg":"success","data":7}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let run = |no_proxy: &'static str| {
        let base = emu.base_url();
        let data = data.path().to_owned();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
                .env_clear()
                .env("FOURO_DATA_DIR", &data)
                .env("FOURO_CONFIG_DIR", data.join("config"))
                .env("HTTP_PROXY", format!("http://{proxy_addr}"))
                .env("NO_PROXY", no_proxy)
                .args([
                    "credits",
                    "--base-url",
                    &base,
                    "--api-key",
                    KEY,
                    "--retries",
                    "0",
                ])
                .output()
                .await
                .unwrap()
        }
    };
    let o = run("").await;
    assert_eq!(stdout(&o).trim(), "7 credits", "{}", stderr(&o));
    let request = seen.await.unwrap();
    assert!(
        request.starts_with(&format!("GET {}/api/v1/chat/credit", emu.base_url())),
        "the proxy got the request in absolute form: {request}"
    );
    // NO_PROXY sends it straight to the service.
    let o = run("127.0.0.1").await;
    assert_eq!(stdout(&o).trim(), "100 credits", "{}", stderr(&o));
}

#[tokio::test]
async fn the_app_without_a_key_says_how_to_set_one() {
    let emu = emulator(300).await;
    let data = tempfile::tempdir().unwrap();
    let o = fouro(&emu, data.path(), None, &[]).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("FOURO_API_KEY") && err.contains("fouro demo"),
        "{err}"
    );
}

#[tokio::test]
async fn sync_ends_with_exit_6_when_the_service_answers_no_task() {
    let emu = emulator(60_000).await;
    let data = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for prompt in ["one", "two"] {
        let o = fouro(&emu, data.path(), Some(KEY), &["generate", prompt]).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        ids.push(stdout(&o).trim().to_owned());
    }
    // The service goes away: its port refuses every connection.
    let down = emu.base_url();
    emu.shutdown().await;
    let started = std::time::Instant::now();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .env("FOURO_BASE_URL", &down)
        .env("FOURO_API_KEY", KEY)
        .args(["--retries", "1", "sync"])
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 6, "{err}");
    assert!(
        err.contains("answered none of the tasks (last: could not reach"),
        "the reason is said: {err}"
    );
    for id in &ids {
        assert!(err.contains(id.as_str()), "{id} named as left: {err}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
}
