//! The emulator, driven over real loopback sockets with plain reqwest.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fouro::emulator::{Emulator, EmulatorConfig};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{http as client, until};

mod extras;
mod faults;
mod tasks;

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

struct Env {
    emu: Emulator,
    base: String,
    http: reqwest::Client,
}

async fn start(tune: impl FnOnce(&mut EmulatorConfig)) -> Env {
    let emu = crate::common::emulator_with(|c| {
        c.keys = vec![KEY.into()];
        tune(c);
    })
    .await;
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
