//! Uploads, signed callbacks, quirks and the stats control.

use super::*;

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

    until("callbacks acknowledged", DEADLINE, || async {
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
