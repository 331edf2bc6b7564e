//! Shared by the integration tests: an emulator on 127.0.0.1 and its test controls, the
//! binary runner (`run`), the waits (`until`), the app's worker (`app`) and a tmux driver.
#![allow(dead_code)]

pub mod app;
pub mod run;
pub mod tmux;
pub mod until;

#[allow(unused_imports)]
pub use run::{Fouro, code, files_under, json_out, mode, noise, stderr, stdout};
#[allow(unused_imports)]
pub use until::{until, until_blocking, until_some};

use std::time::Duration;

use fouro::api::limits::RetryPolicy;
use fouro::api::{ApiKey, Client, ClientConfig};
use fouro::emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

pub const KEY: &str = "test-key-0123456789abcdef";

pub async fn emulator(duration_ms: u64) -> Emulator {
    emulator_with(|c| c.duration = Duration::from_millis(duration_ms)).await
}

pub async fn emulator_with(f: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig {
        keys: vec![KEY.to_owned()],
        credits: 100,
        cost: 6,
        duration: Duration::from_millis(300),
        ..EmulatorConfig::default()
    };
    f(&mut config);
    Emulator::start(config)
        .await
        .expect("the emulator starts on 127.0.0.1")
}

/// A client with quick retries, so fault tests stay fast.
pub fn client(emu: &Emulator) -> Client {
    client_with(emu, |_| {})
}

pub fn client_with(emu: &Emulator, f: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig {
        base_url: emu.base_url(),
        api_key: ApiKey::new(KEY),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
        },
        ..ClientConfig::default()
    };
    f(&mut config);
    Client::new(config).expect("client builds")
}

/// A plain HTTP client for the test controls; it never goes through a proxy.
pub fn http() -> reqwest::Client {
    fouro::install_tls_provider();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds")
}

pub async fn control(emu: &Emulator, path: &str, body: Value) {
    let resp = http()
        .post(format!("{}/emulator/{path}", emu.base_url()))
        .json(&body)
        .send()
        .await
        .expect("control call");
    assert!(
        resp.status().is_success(),
        "control {path} {body}: {}",
        resp.status()
    );
}

pub async fn fault(emu: &Emulator, endpoint: &str, count: u32, kind: &str, extra: Value) {
    let mut body = json!({"endpoint": endpoint, "count": count, "kind": kind});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    control(emu, "faults", body).await;
}

pub async fn stats(emu: &Emulator) -> Value {
    http()
        .get(format!("{}/emulator/stats", emu.base_url()))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON")
}

pub async fn calls(emu: &Emulator, endpoint: &str) -> u64 {
    stats(emu).await["calls"][endpoint].as_u64().unwrap_or(0)
}

/// The emulator's raw view of a task.
pub async fn task(emu: &Emulator, id: &str) -> Value {
    http()
        .get(format!("{}/emulator/tasks/{id}", emu.base_url()))
        .send()
        .await
        .expect("task")
        .json()
        .await
        .expect("task JSON")
}

/// Waits (bounded) until the emulator says the task has ended.
pub async fn until_ended(emu: &Emulator, id: &str) -> Value {
    until_some(
        &format!("task {id} to end"),
        Duration::from_secs(30),
        || async {
            let t = task(emu, id).await;
            (t["status"] != "GENERATING").then_some(t)
        },
    )
    .await
}

/// Turns the service's `data: null` answer to the first status query of a fresh task off or
/// on: with it off, a task's record is there from the submit on.
pub async fn null_data(emu: &Emulator, on: bool) {
    control(emu, "quirks", json!({"null_data": on})).await;
}

pub fn asset(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}
