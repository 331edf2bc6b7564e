//! Tasks in the emulator: images per prompt and variant, unreachable references, rate limits.

use super::*;

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
