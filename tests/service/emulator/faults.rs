//! Injected faults and service modes answer as configured.

use super::*;

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
async fn a_held_generate_makes_its_task_and_answers_once_released() {
    let env = start(|_| {}).await;
    let hold = env
        .control("/emulator/hold", json!({"generate": true}))
        .await;
    assert_eq!(hold["generate"], true, "{hold}");
    let (id, ()) = tokio::join!(
        env.generate(json!({"prompt": "held", "size": "1:1"})),
        async {
            until("the call held", DEADLINE, || async {
                env.stats().await["held"] == 1
            })
            .await;
            assert_eq!(env.stats().await["tasks"], 1, "the task is made");
            env.control("/emulator/hold", json!({"generate": false}))
                .await;
        }
    );
    assert!(id.starts_with("task_4o_"), "{id}");
    assert_eq!(env.stats().await["held"], 0);
    // Released, calls are answered at once again.
    let again = env.generate(json!({"prompt": "free", "size": "1:1"})).await;
    assert_ne!(again, id);
}
