//! Completion callbacks: `generate --wait` takes the result from a signed callback, and only with the matching key.

use super::*;

/// Waits (bounded) until the emulator says the task's callback was answered.
async fn until_acked(emu: &Emulator, id: &str) -> Value {
    until_some(
        "the callback to settle",
        Duration::from_secs(10),
        || async {
            let t = task(emu, id).await;
            let settled = !["sent", "pending", "none"]
                .iter()
                .any(|s| t["callback"] == *s);
            settled.then_some(t)
        },
    )
    .await
}

#[tokio::test]
async fn generate_wait_takes_the_result_from_the_callback() {
    let emu = emulator(1_000).await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    let addr = free_addr();
    let started = Instant::now();
    let o = home
        .run(
            &[],
            None,
            &[
                "generate",
                "called back",
                "--wait",
                "--callback-listen",
                &addr,
            ],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the result came through the callback"),
        "{}",
        stderr(&o)
    );
    // Well before the fallback's first poll (15 s).
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    let t = until_acked(&emu, &id).await;
    assert_eq!(t["callback"], json!("acked"), "{t}");
    assert_eq!(t["callBackUrl"], json!(format!("http://{addr}/callback")));
    // At most the one record-info call that confirms the callback.
    assert!(
        calls(&emu, "record-info").await <= 1,
        "{}",
        stats(&emu).await
    );
    let image = stdout(&o).lines().nth(1).unwrap_or_default().to_owned();
    assert!(Path::new(&image).is_file(), "{}", stdout(&o));
    let h = json_out(&home.run(&[], None, &["history", "--json"]).await);
    assert_eq!(h[0]["taskId"], json!(id));
    assert_eq!(h[0]["status"], json!("SUCCESS"));

    // With --json, stdout is the one object and stderr says nothing about the callback.
    let o = home
        .run(
            &[],
            None,
            &[
                "generate",
                "quiet",
                "--wait",
                "--json",
                "--callback-listen",
                &free_addr(),
            ],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json_out(&o)["status"], json!("SUCCESS"));
    assert!(!stderr(&o).contains("callback"), "{}", stderr(&o));
}

#[tokio::test]
async fn signed_callbacks_are_taken_only_with_the_matching_key() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(800);
        c.webhook_key = Some("hook-shared-secret".into());
    })
    .await;
    let home = Home::new();
    home.profile_with_key("emu", &emu.base_url(), KEY).await;
    // The profile's webhook key and listener address, as `fouro key set --webhook` and the
    // file keep them.
    let o = home
        .run(
            &[],
            Some("hook-shared-secret\n"),
            &["key", "set", "--webhook"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let addr = free_addr();
    let text = home.config_text().replace(
        "[profiles.emu]\n",
        &format!("[profiles.emu]\ncallback_listen = \"{addr}\"\n"),
    );
    std::fs::write(home.config_file(), text).unwrap();

    let started = Instant::now();
    let o = home.run(&[], None, &["generate", "signed", "--wait"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("through the callback"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert_eq!(until_acked(&emu, &id).await["callback"], json!("acked"));
    let confirmed = calls(&emu, "record-info").await;
    assert!(confirmed <= 1, "{}", stats(&emu).await);

    // Another key in the environment: the listener refuses the callback and polling (made
    // quick for the test) finishes the run.
    let o = home
        .run(
            &[
                ("FOURO_WEBHOOK_KEY", "hook-some-other-key"),
                ("FOURO_CALLBACK_POLL_MS", "300"),
            ],
            None,
            &["generate", "mismatched", "--wait"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("callback"), "{}", stderr(&o));
    let id = stdout(&o).lines().next().unwrap_or_default().to_owned();
    let t = until_acked(&emu, &id).await;
    assert_eq!(t["callback"], json!("failed"), "{t}");
    assert_eq!(t["polled"], json!(true), "{t}");
    assert!(calls(&emu, "record-info").await > confirmed);
    assert_eq!(stats(&emu).await["callbacks_acked"], json!(1));
}
