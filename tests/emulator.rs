//! The emulator, driven over real loopback sockets with plain reqwest.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fouro::emulator::{Emulator, EmulatorConfig};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

const KEY: &str = "test-key";
/// Polls of one task are spaced so as to stay under 3 per second.
const POLL_GAP: Duration = Duration::from_millis(350);
const DEADLINE: Duration = Duration::from_secs(15);
/// Every aspect ratio with its documented pixel size.
const SIZES: [(&str, u32, u32); 3] = [
    ("1:1", 1024, 1024),
    ("3:2", 1536, 1024),
    ("2:3", 1024, 1536),
];

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain HTTP client builds")
}

struct Env {
    emu: Emulator,
    base: String,
    http: reqwest::Client,
}

async fn start(tune: impl FnOnce(&mut EmulatorConfig)) -> Env {
    let mut config = EmulatorConfig {
        keys: vec![KEY.into()],
        duration: Duration::from_millis(300),
        ..EmulatorConfig::default()
    };
    tune(&mut config);
    let emu = Emulator::start(config).await.expect("emulator starts");
    Env {
        base: emu.base_url(),
        emu,
        http: client(),
    }
}

async fn body_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("body arrives");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(KEY)
            .json(body)
            .send()
            .await;
        body_of(response.expect("request answered")).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        body_of(
            self.http
                .get(self.url(path))
                .bearer_auth(KEY)
                .send()
                .await
                .expect("request answered"),
        )
        .await
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let (status, v) = body_of(
            self.http
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .expect("control answered"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path} {body}: {v}");
        v
    }

    async fn stats(&self) -> Value {
        body_of(
            self.http
                .get(self.url("/emulator/stats"))
                .send()
                .await
                .expect("stats answered"),
        )
        .await
        .1
    }

    async fn credits(&self) -> i64 {
        let (_, v) = self.get("/api/v1/chat/credit").await;
        v["data"].as_i64().expect("credit data is an integer")
    }

    async fn generate(&self, body: Value) -> String {
        let (status, v) = self.post("/api/v1/gpt4o-image/generate", &body).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::OK, Some(200)),
            "{v}"
        );
        let id = v["data"]["taskId"].as_str().expect("a task id").to_owned();
        assert!(id.starts_with("task_4o_") && id.len() == 8 + 32, "{id}");
        id
    }

    async fn record(&self, id: &str) -> Value {
        let (status, v) = self
            .get(&format!("/api/v1/gpt4o-image/record-info?taskId={id}"))
            .await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::OK, Some(200)),
            "{v}"
        );
        v["data"].clone()
    }

    /// Polls (at a polite pace) until the task has ended; returns every `data` seen.
    async fn follow(&self, id: &str) -> Vec<Value> {
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let data = self.record(id).await;
            let done = data["status"].as_str().is_some_and(|s| s != "GENERATING");
            seen.push(data);
            if done {
                return seen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "task {id} did not end: {seen:?}"
            );
            tokio::time::sleep(POLL_GAP).await;
        }
    }

    async fn finished(&self, id: &str) -> Value {
        self.follow(id).await.pop().unwrap_or_default()
    }

    async fn image(&self, url: &str) -> image::RgbImage {
        let response = self.http.get(url).send().await.expect("image answered");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(response.headers()["content-type"], "image/png");
        let bytes = response.bytes().await.expect("image body");
        image::load_from_memory(&bytes)
            .expect("a decodable PNG")
            .to_rgb8()
    }

    async fn upload_png(&self, png: Vec<u8>, name: &str) -> Value {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(png).file_name(name.to_owned()),
            )
            .text("uploadPath", "tests/refs");
        let response = self
            .http
            .post(self.url("/api/file-stream-upload"))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .await;
        body_of(response.expect("upload answered")).await.1
    }
}

/// Waits for an async condition, polling, up to a deadline.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn solid_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encodes");
    out.into_inner()
}

fn share_of(image: &image::RgbImage, wanted: [u8; 3]) -> f64 {
    let close = |a: u8, b: u8| a.abs_diff(b) < 12;
    let hits = image
        .pixels()
        .filter(|p| {
            close(p.0[0], wanted[0]) && close(p.0[1], wanted[1]) && close(p.0[2], wanted[2])
        })
        .count();
    hits as f64 / f64::from(image.width() * image.height())
}

#[tokio::test]
async fn every_service_endpoint_wants_a_known_key() {
    let env = start(|_| {}).await;
    for (path, post) in [
        ("/api/v1/gpt4o-image/generate", true),
        ("/api/v1/gpt4o-image/record-info?taskId=x", false),
        ("/api/v1/chat/credit", false),
        ("/api/file-base64-upload", true),
    ] {
        let request = if post {
            env.http.post(env.url(path)).json(&json!({}))
        } else {
            env.http.get(env.url(path))
        };
        let (status, v) = body_of(request.send().await.unwrap()).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(401)),
            "{path}: {v}"
        );
        assert!(!v["msg"].as_str().unwrap_or_default().is_empty());
        let request = if post {
            env.http.post(env.url(path)).json(&json!({}))
        } else {
            env.http.get(env.url(path))
        };
        let (status, v) = body_of(request.bearer_auth("wrong-key").send().await.unwrap()).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::UNAUTHORIZED, Some(401)),
            "{path}: {v}"
        );
    }
    let (status, v) = env.get("/api/v1/chat/credit").await;
    assert_eq!(
        (status, v),
        (
            StatusCode::OK,
            json!({"code": 200, "msg": "success", "data": 100})
        )
    );
}

#[tokio::test]
async fn validation_answers_http_200_with_code_422_naming_the_field() {
    let env = start(|_| {}).await;
    let img = |n: usize| format!("http://127.0.0.1:9/img{n}.png");
    let six: Vec<String> = (0..6).map(img).collect();
    let cases = [
        (json!({"prompt": "x"}), "size"),
        (json!({"prompt": "x", "size": "4:3"}), "size"),
        (json!({"prompt": "x", "size": 1}), "size"),
        (json!({"size": "1:1", "filesUrl": six}), "filesUrl"),
        (
            json!({"size": "1:1", "filesUrl": ["http://127.0.0.1:9/a.gif"]}),
            "filesUrl",
        ),
        (
            json!({"size": "1:1", "fileUrl": "http://127.0.0.1:9/a.bmp"}),
            "fileUrl",
        ),
        (
            json!({"size": "1:1", "prompt": "x", "maskUrl": "http://127.0.0.1:9/m.txt"}),
            "maskUrl",
        ),
        (
            json!({"size": "1:1", "prompt": "x", "nVariants": 3}),
            "nVariants",
        ),
        (
            json!({"size": "1:1", "filesUrl": [img(1), img(2)], "maskUrl": img(3)}),
            "maskUrl",
        ),
        (json!({"size": "1:1"}), "prompt"),
        (json!({"size": "1:1", "prompt": "   "}), "prompt"),
        (
            json!({"size": "1:1", "filesUrl": [img(1), img(2), img(3), img(4), img(5)], "fileUrl": img(6)}),
            "filesUrl",
        ),
    ];
    for (body, field) in cases {
        let (status, v) = env.post("/api/v1/gpt4o-image/generate", &body).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::OK, Some(422)),
            "{body}: {v}"
        );
        let msg = v["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{body}: {msg:?} should name {field}");
    }
    let response = env
        .http
        .post(env.url("/api/v1/gpt4o-image/generate"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{\"size\": \"1:1\", ")
        .send()
        .await
        .unwrap();
    let (status, v) = body_of(response).await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(400)),
        "{v}"
    );

    let (status, v) = env.get("/api/v1/gpt4o-image/record-info").await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::OK, Some(422)),
        "{v}"
    );
    assert!(v["msg"].as_str().unwrap_or_default().contains("taskId"));
    let (status, v) = env
        .get("/api/v1/gpt4o-image/record-info?taskId=task_4o_nope")
        .await;
    assert_eq!(
        (status, v["code"].as_i64(), v["msg"].as_str()),
        (StatusCode::OK, Some(404), Some("task not found"))
    );

    // Nothing was created or charged by those; explicit nulls mean "absent".
    assert_eq!(env.stats().await["tasks"], 0);
    assert_eq!(env.credits().await, 100);
    env.generate(
        json!({"prompt": "x", "size": "1:1", "filesUrl": null, "nVariants": null, "maskUrl": null}),
    )
    .await;
    assert_eq!(env.credits().await, 94);
}

#[tokio::test]
async fn credits_are_spent_at_submit_and_refunded_on_failure() {
    let env = start(|c| c.cost = 6).await;
    env.control("/emulator/credits", json!({"credits": 12}))
        .await;
    env.control("/emulator/next-tasks", json!({"count": 1, "outcome": "fail", "error_code": 500, "message": "failed to generate image"}))
        .await;
    let id = env
        .generate(json!({"prompt": "doomed", "size": "1:1", "nVariants": 2}))
        .await;
    assert_eq!(env.credits().await, 0);
    let (status, v) = env
        .post(
            "/api/v1/gpt4o-image/generate",
            &json!({"prompt": "more", "size": "1:1"}),
        )
        .await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::OK, Some(402)),
        "{v}"
    );

    let end = env.finished(&id).await;
    assert_eq!(end["status"], "GENERATE_FAILED");
    assert_eq!(end["successFlag"], 2);
    assert_eq!(end["errorCode"], 500);
    assert_eq!(end["errorMessage"], "failed to generate image");
    assert!(end["response"].is_null());
    assert_eq!(
        env.credits().await,
        12,
        "a failed task gives its credits back"
    );

    // The record is not successful: no download URL for it.
    let (_, v) = env
        .post(
            "/api/v1/gpt4o-image/download-url",
            &json!({"taskId": id, "url": format!("{}/x.png", env.base)}),
        )
        .await;
    assert_eq!(v["code"], 422, "{v}");

    // A task that fails to be created is final at once and costs nothing.
    env.control(
        "/emulator/next-tasks",
        json!({"count": 1, "outcome": "create-failed"}),
    )
    .await;
    let id = env
        .generate(json!({"prompt": "never", "size": "2:3"}))
        .await;
    assert!(
        env.record(&id).await.is_null(),
        "the first poll answers data: null"
    );
    tokio::time::sleep(POLL_GAP).await;
    let data = env.record(&id).await;
    assert_eq!(
        (data["status"].as_str(), data["successFlag"].as_i64()),
        (Some("CREATE_TASK_FAILED"), Some(2))
    );
    assert_eq!(env.credits().await, 12);
}

#[tokio::test]
async fn tasks_report_null_then_rising_progress_then_success_with_real_pngs() {
    let env = start(|c| c.duration = Duration::from_millis(1500)).await;
    let runs = SIZES.map(|(size, w, h)| {
        let env = &env;
        async move {
            let request =
                json!({"prompt": format!("a lighthouse {size}"), "size": size, "isEnhance": false});
            let id = env.generate(request.clone()).await;
            let seen = env.follow(&id).await;
            assert!(seen[0].is_null(), "the first poll answers data: null");
            let generating: Vec<&Value> = seen[1..]
                .iter()
                .filter(|d| d["status"] == "GENERATING")
                .collect();
            assert!(generating.len() >= 2, "{seen:?}");
            let progress: Vec<f64> = generating
                .iter()
                .map(|d| {
                    assert_eq!(d["successFlag"], 0);
                    assert!(d["completeTime"].is_null() && d["response"].is_null());
                    let p = d["progress"].as_str().expect("progress is a string");
                    assert_eq!(p.len(), 4, "two decimals: {p}");
                    p.parse().expect("progress parses")
                })
                .collect();
            assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
            assert!(
                progress.first() < progress.last() && progress.iter().all(|p| *p < 1.0),
                "{progress:?}"
            );

            let end = seen.last().cloned().unwrap_or_default();
            assert_eq!(
                (end["status"].as_str(), end["successFlag"].as_i64()),
                (Some("SUCCESS"), Some(1)),
                "{end}"
            );
            assert_eq!(end["progress"], "1.00");
            assert!(
                end["createTime"].as_i64().is_some()
                    && end["completeTime"].as_i64() >= end["createTime"].as_i64()
            );
            assert!(end["errorCode"].is_null());
            let params: Value = serde_json::from_str(end["paramJson"].as_str().unwrap_or_default())
                .expect("paramJson is JSON");
            assert_eq!(params, request);
            let urls = end["response"]["resultUrls"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(urls.len(), 1);
            let url = urls[0].as_str().unwrap_or_default().to_owned();
            let image = env.image(&url).await;
            assert_eq!(image.dimensions(), (w, h), "{size}");

            // A direct-download URL for it works without auth and gives the same image.
            let (_, v) = env
                .post(
                    "/api/v1/gpt4o-image/download-url",
                    &json!({"taskId": id, "url": url}),
                )
                .await;
            let direct = v["data"].as_str().expect("a direct URL").to_owned();
            assert!(
                direct.starts_with(&url) && direct.contains("expires=") && direct.contains("sig="),
                "{direct}"
            );
            assert_eq!(env.image(&direct).await, image);
            let (_, v) = env
                .post("/api/v1/common/download-url", &json!({"url": url}))
                .await;
            assert_eq!(v["code"], 200, "{v}");
            let forged = direct.replace("sig=", "sig=0");
            assert_eq!(
                env.http.get(forged).send().await.unwrap().status(),
                StatusCode::FORBIDDEN
            );
            let (_, v) = env
                .post(
                    "/api/v1/gpt4o-image/download-url",
                    &json!({"taskId": id, "url": format!("{url}x")}),
                )
                .await;
            assert_eq!(v["code"], 422, "{v}");
        }
    });
    futures::future::join_all(runs).await;
}

#[tokio::test]
async fn images_differ_by_prompt_and_variant_and_carry_references() {
    let env = start(|c| c.duration = Duration::from_millis(200)).await;
    let red = [255, 0, 0];
    let upload = env.upload_png(solid_png(64, 48, red), "red.png").await;
    let red_url = upload["data"]["downloadUrl"]
        .as_str()
        .expect("a download URL")
        .to_owned();

    let fox = env
        .generate(json!({"prompt": "a red fox", "size": "1:1", "nVariants": 2}))
        .await;
    let whale = env
        .generate(json!({"prompt": "a blue whale", "size": "1:1"}))
        .await;
    let edited = env
        .generate(json!({"prompt": "a red fox", "size": "1:1", "filesUrl": [red_url]}))
        .await;
    let mut images = Vec::new();
    for id in [&fox, &whale, &edited] {
        let end = env.finished(id).await;
        assert_eq!(end["status"], "SUCCESS", "{end}");
        for url in end["response"]["resultUrls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            images.push(env.image(url.as_str().unwrap_or_default()).await);
        }
    }
    let [fox1, fox2, whale1, edited1] = images.try_into().expect("four images");
    assert_ne!(fox1, fox2, "two variants differ");
    assert_ne!(fox1, whale1, "two prompts differ");
    let fox_red = share_of(&fox1, red);
    let edited_red = share_of(&edited1, red);
    assert!(
        edited_red > 0.10 && edited_red > fox_red + 0.10,
        "reference colour share {edited_red} vs {fox_red}"
    );
}

#[tokio::test]
async fn unreachable_references_fail_the_task_with_451() {
    let env = start(|_| {}).await;
    let dead = "http://127.0.0.1:1/gone.png";
    let outside = "http://203.0.113.7/never-contacted.png";
    for url in [dead, outside] {
        let id = env
            .generate(json!({"prompt": "x", "size": "1:1", "filesUrl": [url]}))
            .await;
        let end = env.finished(&id).await;
        assert_eq!(
            (end["status"].as_str(), end["errorCode"].as_i64()),
            (Some("GENERATE_FAILED"), Some(451)),
            "{end}"
        );
        assert!(
            end["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .contains(url),
            "{end}"
        );
    }
    // An answer that is no image (here a 404 page) fails it too.
    let id = env.generate(json!({"prompt": "x", "size": "1:1", "fileUrl": format!("{}/emulator/stats.png", env.base)})).await;
    assert_eq!(env.finished(&id).await["errorCode"], 451);
    assert_eq!(env.credits().await, 100, "all refunded");
}

#[tokio::test]
async fn record_info_is_limited_to_3_per_second_per_task() {
    let env = start(|c| c.duration = Duration::from_secs(5)).await;
    let id = env.generate(json!({"prompt": "x", "size": "1:1"})).await;
    let path = env.url(&format!("/api/v1/gpt4o-image/record-info?taskId={id}"));
    let mut answers = Vec::new();
    for _ in 0..4 {
        let response = env.http.get(&path).bearer_auth(KEY).send().await.unwrap();
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, v) = body_of(response).await;
        answers.push((status, v["code"].as_i64(), retry_after));
    }
    assert!(
        answers[..3]
            .iter()
            .all(|(s, c, _)| *s == StatusCode::OK && *c == Some(200)),
        "{answers:?}"
    );
    let (status, code, retry_after) = answers[3].clone();
    assert_eq!((status, code), (StatusCode::TOO_MANY_REQUESTS, Some(429)));
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some("1")
    );
    // Another task has its own budget.
    let other = env.generate(json!({"prompt": "y", "size": "1:1"})).await;
    assert!(env.record(&other).await.is_null());
    let stats = env.stats().await;
    assert_eq!(stats["rate_limited"], 1);
    assert_eq!(stats["max_record_info_per_second"], 4);
}

#[tokio::test]
async fn generate_is_limited_to_20_per_10_seconds() {
    let env = start(|_| {}).await;
    env.control("/emulator/credits", json!({"credits": 1000}))
        .await;
    for i in 0..20 {
        env.generate(json!({"prompt": format!("n{i}"), "size": "1:1"}))
            .await;
    }
    let response = env
        .http
        .post(env.url("/api/v1/gpt4o-image/generate"))
        .bearer_auth(KEY)
        .json(&json!({"prompt": "one too many", "size": "1:1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (status, v) = body_of(response).await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::TOO_MANY_REQUESTS, Some(429))
    );
    let stats = env.stats().await;
    assert_eq!(
        (stats["tasks"].as_u64(), stats["calls"]["generate"].as_u64()),
        (Some(20), Some(21))
    );
    assert_eq!(env.credits().await, 1000 - 20 * 6);
}

#[tokio::test]
async fn injected_faults_answer_as_configured() {
    let env = start(|_| {}).await;
    let credit = || {
        env.http
            .get(env.url("/api/v1/chat/credit"))
            .bearer_auth(KEY)
            .send()
    };

    env.control(
        "/emulator/faults",
        json!({"endpoint": "credit", "count": 2, "kind": "code", "code": 500}),
    )
    .await;
    for _ in 0..2 {
        let (status, v) = body_of(credit().await.unwrap()).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some(500))
        );
    }
    assert_eq!(
        body_of(credit().await.unwrap()).await.1["data"],
        100,
        "the fault is used up"
    );

    env.control(
        "/emulator/faults",
        json!({"endpoint": "credit", "kind": "code", "code": 455, "status": 200}),
    )
    .await;
    let (status, v) = body_of(credit().await.unwrap()).await;
    assert_eq!((status, v["code"].as_i64()), (StatusCode::OK, Some(455)));

    env.control(
        "/emulator/faults",
        json!({"endpoint": "any", "kind": "html"}),
    )
    .await;
    let response = credit().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with("<html>") && text.contains("Bad Gateway"),
        "{text}"
    );

    env.control(
        "/emulator/faults",
        json!({"endpoint": "credit", "kind": "empty", "status": 503}),
    )
    .await;
    let response = credit().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.bytes().await.unwrap().is_empty());

    env.control(
        "/emulator/faults",
        json!({"endpoint": "credit", "kind": "hang", "ms": 400}),
    )
    .await;
    let started = Instant::now();
    let (status, v) = body_of(credit().await.unwrap()).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        (status, v["data"].as_i64()),
        (StatusCode::OK, Some(100)),
        "a hang then answers normally"
    );

    env.control(
        "/emulator/faults",
        json!({"endpoint": "credit", "kind": "reset"}),
    )
    .await;
    let fresh = client();
    let outcome = fresh
        .get(env.url("/api/v1/chat/credit"))
        .bearer_auth(KEY)
        .send()
        .await;
    assert!(outcome.is_err(), "a reset gives no response: {outcome:?}");
    assert_eq!(
        body_of(credit().await.unwrap()).await.1["data"],
        100,
        "the emulator still serves"
    );

    // A faulted generate creates nothing and spends nothing.
    env.control(
        "/emulator/faults",
        json!({"endpoint": "generate", "kind": "code", "code": 500}),
    )
    .await;
    let (status, _) = env
        .post(
            "/api/v1/gpt4o-image/generate",
            &json!({"prompt": "x", "size": "1:1"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let stats = env.stats().await;
    assert_eq!(
        (stats["tasks"].as_u64(), stats["calls"]["generate"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(env.credits().await, 100);

    let v = body_of(
        env.http
            .post(env.url("/emulator/faults"))
            .json(&json!({"endpoint": "nope", "kind": "html"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn modes_refuse_every_service_call() {
    let env = start(|_| {}).await;
    for (mode, code) in [("maintenance", 455), ("disabled", 505), ("queue-full", 550)] {
        env.control("/emulator/mode", json!({"mode": mode})).await;
        let (status, v) = env.get("/api/v1/chat/credit").await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::OK, Some(code)),
            "{mode}: {v}"
        );
        let (status, v) = env
            .post(
                "/api/v1/gpt4o-image/generate",
                &json!({"prompt": "x", "size": "1:1"}),
            )
            .await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (StatusCode::OK, Some(code)),
            "{mode}: {v}"
        );
    }
    env.control("/emulator/mode", json!({"mode": "normal"}))
        .await;
    assert_eq!(env.credits().await, 100);
    assert_eq!(env.stats().await["tasks"], 0);
}

#[tokio::test]
async fn uploads_take_images_only_and_serve_them_back() {
    let env = start(|_| {}).await;
    let png = solid_png(10, 7, [1, 2, 3]);
    let v = env.upload_png(png.clone(), "dot.png").await;
    assert_eq!(
        (v["success"].as_bool(), v["code"].as_i64()),
        (Some(true), Some(200)),
        "{v}"
    );
    assert_eq!(v["msg"], "File uploaded successfully");
    let data = &v["data"];
    assert_eq!(
        (data["fileName"].as_str(), data["mimeType"].as_str()),
        (Some("dot.png"), Some("image/png"))
    );
    assert_eq!(data["fileSize"].as_u64(), Some(png.len() as u64));
    assert_eq!(data["filePath"], "tests/refs/dot.png");
    assert!(data["uploadedAt"].is_string());
    let url = data["downloadUrl"].as_str().unwrap_or_default().to_owned();
    assert!(url.starts_with(&env.base) && url.ends_with(".png"), "{url}");
    let served = env.http.get(&url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap(), png);

    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    for encoded in [
        STANDARD.encode(&jpeg),
        format!("data:image/jpeg;base64,{}", STANDARD.encode(&jpeg)),
    ] {
        let (_, v) = env
            .post(
                "/api/file-base64-upload",
                &json!({"base64Data": encoded, "uploadPath": "b64", "fileName": "red.jpg"}),
            )
            .await;
        assert_eq!(v["data"]["mimeType"], "image/jpeg", "{v}");
        let served = env
            .http
            .get(v["data"]["downloadUrl"].as_str().unwrap_or_default())
            .send()
            .await
            .unwrap();
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert_eq!(served.bytes().await.unwrap(), jpeg);
    }

    let refused = [
        json!({"base64Data": STANDARD.encode(b"just some text"), "uploadPath": "b64", "fileName": "a.png"}),
        json!({"base64Data": "%%% not base64 %%%", "uploadPath": "b64", "fileName": "a.png"}),
        json!({"base64Data": STANDARD.encode(&png), "fileName": "a.png"}),
        json!({"uploadPath": "b64"}),
    ];
    for body in refused {
        let (status, v) = env.post("/api/file-base64-upload", &body).await;
        assert_eq!(
            (status, v["code"].as_i64(), v["success"].as_bool()),
            (StatusCode::OK, Some(422), Some(false)),
            "{v}"
        );
    }
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 not an image".to_vec()).file_name("doc.png"),
        )
        .text("uploadPath", "x");
    let response = env
        .http
        .post(env.url("/api/file-stream-upload"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await;
    assert_eq!(body_of(response.unwrap()).await.1["code"], 422);

    // URL upload: loopback only.
    let (_, v) = env
        .post(
            "/api/file-url-upload",
            &json!({"fileUrl": url, "uploadPath": "copies", "fileName": "copy.png"}),
        )
        .await;
    let copy = v["data"]["downloadUrl"]
        .as_str()
        .expect("copied")
        .to_owned();
    assert_eq!(
        env.http
            .get(copy)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        png
    );
    let (_, v) = env
        .post("/api/file-url-upload", &json!({"fileUrl": "http://198.51.100.1/a.png", "uploadPath": "x", "fileName": "a.png"}))
        .await;
    assert_eq!(v["code"], 451, "{v}");
    assert_eq!(env.stats().await["calls"]["upload"], 10);
}

#[tokio::test]
async fn callbacks_are_delivered_and_signed() {
    use axum::http::HeaderMap;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Value)>();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((headers, body));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let env = start(|c| c.webhook_key = Some("whsec-test".into())).await;
    let id = env
        .generate(json!({"prompt": "ring", "size": "1:1", "nVariants": 2, "callBackUrl": hook}))
        .await;
    let (headers, body) = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("callback in time")
        .expect("callback");
    assert_eq!(
        (body["code"].as_i64(), body["data"]["taskId"].as_str()),
        (Some(200), Some(id.as_str())),
        "{body}"
    );
    assert_eq!(body["msg"], "Image generated successfully.");
    let end = env.finished(&id).await;
    assert_eq!(
        body["data"]["info"]["result_urls"],
        end["response"]["resultUrls"]
    );

    let timestamp = headers["x-webhook-timestamp"].to_str().unwrap().to_owned();
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));
    let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec-test").unwrap();
    mac.update(format!("{id}.{timestamp}").as_bytes());
    let signature = STANDARD
        .decode(headers["x-webhook-signature"].as_bytes())
        .unwrap();
    mac.verify_slice(&signature)
        .expect("the signature verifies");

    env.control("/emulator/next-tasks", json!({"outcome": "fail", "error_code": 400, "message": "Your content was flagged by the content policy"}))
        .await;
    let failed = env
        .generate(json!({"prompt": "bad", "size": "1:1", "callBackUrl": hook}))
        .await;
    let (_, body) = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("callback in time")
        .expect("callback");
    assert_eq!(
        body,
        json!({"code": 400, "msg": "Your content was flagged by the content policy", "data": {"taskId": failed, "info": null}})
    );

    eventually("callbacks acknowledged", || async {
        env.stats().await["callbacks_acked"] == 2
    })
    .await;
    assert_eq!(env.stats().await["callbacks_sent"], 2);
    let raw = body_of(
        env.http
            .get(env.url(&format!("/emulator/tasks/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await
    .1;
    assert_eq!(
        (raw["callBackUrl"].as_str(), raw["status"].as_str()),
        (Some(hook.as_str()), Some("SUCCESS"))
    );
    assert_eq!(raw["request"]["prompt"], "ring");
}

#[tokio::test]
async fn quirks_change_times_and_result_spelling() {
    let env = start(|c| c.duration = Duration::from_millis(100)).await;
    env.control(
        "/emulator/quirks",
        json!({"string_times": true, "snake_result_urls": true}),
    )
    .await;
    let id = env.generate(json!({"prompt": "q", "size": "1:1"})).await;
    let end = env.finished(&id).await;
    let created = end["createTime"].as_str().expect("a string time");
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{created}"
    );
    assert!(end["completeTime"].is_string());
    assert_eq!(
        end["response"]["result_urls"].as_array().map(Vec::len),
        Some(1),
        "{end}"
    );
    assert!(end["response"].get("resultUrls").is_none());
}

#[tokio::test]
async fn stats_count_calls_and_garbage_never_breaks_it() {
    let env = start(|_| {}).await;
    let send = |path: &str, body: Vec<u8>, content_type: &str| {
        env.http
            .post(env.url(path))
            .bearer_auth(KEY)
            .header("content-type", content_type.to_owned())
            .body(body)
            .send()
    };
    for (path, ct) in [
        ("/api/v1/gpt4o-image/generate", "application/json"),
        ("/api/file-base64-upload", "application/json"),
        (
            "/api/file-stream-upload",
            "multipart/form-data; boundary=xyz",
        ),
        ("/api/file-stream-upload", "text/plain"),
        ("/api/v1/gpt4o-image/download-url", "application/json"),
    ] {
        let response = send(path, vec![0xff, 0xfe, b'{', 0x00, 0x80], ct)
            .await
            .unwrap();
        assert!(
            response.status().is_client_error() || response.status() == StatusCode::OK,
            "{path}"
        );
        let (_, v) = body_of(response).await;
        assert!(matches!(v["code"].as_i64(), Some(400 | 422)), "{path}: {v}");
    }
    let huge = vec![b' '; 40 * 1024 * 1024];
    let response = send("/api/v1/gpt4o-image/generate", huge, "application/json").await;
    assert!(
        response
            .map(|r| r.status() == StatusCode::PAYLOAD_TOO_LARGE)
            .unwrap_or(true)
    );
    let (status, _) = env
        .get("/api/v1/gpt4o-image/record-info?taskId=%ff%fe")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = env.get("/api/v1/no-such-thing").await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::NOT_FOUND, Some(404))
    );

    let stats = env.stats().await;
    assert_eq!(stats["calls"]["generate"], 2);
    assert_eq!(stats["calls"]["upload"], 3);
    assert_eq!(stats["calls"]["download-url"], 1);
    assert_eq!(stats["calls"]["record-info"], 1);
    assert_eq!(stats["calls"]["credit"], 0);
    assert_eq!(env.credits().await, 100);
    assert_eq!(env.stats().await["calls"]["credit"], 1);

    let addr = env.emu.addr();
    env.emu.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after shutdown"
    );
}
