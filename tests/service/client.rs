//! The API client against the emulator, over real loopback sockets.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use fouro::api::poll::{PollOptions, wait_for_task};
use fouro::api::{ApiKey, Error, ErrorClass, GenerateRequest, Size, TaskStatus, Variants};
use serde_json::json;

fn quick_poll() -> PollOptions {
    PollOptions {
        first_interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        give_up_after: Duration::from_secs(30),
    }
}

fn prompt(p: &str) -> GenerateRequest {
    GenerateRequest {
        prompt: Some(p.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn generate_poll_and_download_end_to_end() {
    let emu = emulator(400).await;
    let c = client(&emu);
    assert_eq!(c.credits().await.unwrap(), 100.0);

    let req = GenerateRequest {
        size: Size::Landscape,
        n_variants: Some(Variants::Two),
        ..prompt("a lighthouse at dusk")
    };
    let id = c.generate(&req).await.unwrap();
    assert!(id.starts_with("task_4o_"), "{id}");
    // Right after submit the service may have no record yet.
    assert_eq!(c.record_info(&id).await.unwrap(), None);

    let mut seen = Vec::new();
    let rec = wait_for_task(&c, &id, &quick_poll(), |r| {
        seen.push((r.status, r.progress))
    })
    .await
    .unwrap();
    assert_eq!(rec.status, TaskStatus::Success);
    assert_eq!(rec.progress, 1.0);
    assert_eq!(rec.result_urls.len(), 2);
    assert!(rec.create_time.is_some() && rec.complete_time >= rec.create_time);
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "progress never goes back: {seen:?}"
    );

    for url in &rec.result_urls {
        let bytes = c.download_result(&id, url).await.unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (1536, 1024));
    }
    assert!(
        calls(&emu, "download-url").await >= 2,
        "direct links are asked first"
    );
    assert_eq!(
        c.credits().await.unwrap(),
        100.0 - 12.0,
        "6 credits per variant"
    );
}

#[tokio::test]
async fn the_key_is_required_and_checked() {
    let emu = emulator(300).await;
    let none = client_with(&emu, |c| c.api_key = None);
    assert!(matches!(none.credits().await, Err(Error::MissingKey)));
    assert_eq!(
        calls(&emu, "credit").await,
        0,
        "nothing is sent without a key"
    );

    let wrong = client_with(&emu, |c| c.api_key = ApiKey::new("not-the-key-at-all-0000"));
    let err = wrong.credits().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(!err.to_string().contains("not-the-key"), "{err}");
    assert_eq!(calls(&emu, "credit").await, 1, "a 401 is never retried");
}

#[tokio::test]
async fn insufficient_credits_and_refund_of_a_failed_task() {
    let emu = emulator(200).await;
    let c = client(&emu);
    control(&emu, "credits", json!({"credits": 5})).await;
    let err = c.generate(&prompt("x")).await.unwrap_err();
    assert!(matches!(err, Error::InsufficientCredits { .. }), "{err:?}");
    assert_eq!(calls(&emu, "generate").await, 1, "a 402 is not retried");

    control(&emu, "credits", json!({"credits": 50})).await;
    control(
        &emu,
        "next-tasks",
        json!({"count": 1, "outcome": "fail", "error_code": 400,
        "message": "Your content was flagged by the content policy"}),
    )
    .await;
    let id = c.generate(&prompt("x")).await.unwrap();
    assert_eq!(c.credits().await.unwrap(), 44.0);
    let err = wait_for_task(&c, &id, &quick_poll(), |_| {})
        .await
        .unwrap_err();
    match &err {
        Error::TaskFailed {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(*status, TaskStatus::GenerateFailed);
            assert_eq!(*code, Some(400));
            assert!(
                message
                    .as_deref()
                    .unwrap_or_default()
                    .contains("content policy")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::TaskFailed);
    assert_eq!(
        c.credits().await.unwrap(),
        50.0,
        "a failed task is refunded"
    );
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let emu = emulator(300).await;
    let c = client(&emu);
    let six = GenerateRequest {
        files_url: (0..6)
            .map(|i| format!("{}/x{i}.png", emu.base_url()))
            .collect(),
        ..prompt("p")
    };
    let mask_two = GenerateRequest {
        files_url: vec![
            format!("{}/a.png", emu.base_url()),
            format!("{}/b.png", emu.base_url()),
        ],
        mask_url: Some(format!("{}/m.png", emu.base_url())),
        ..prompt("p")
    };
    let bad_format = GenerateRequest {
        files_url: vec![format!("{}/a.bmp", emu.base_url())],
        ..prompt("p")
    };
    let empty = GenerateRequest::default();
    for (req, field) in [
        (six, "filesUrl"),
        (mask_two, "mask"),
        (bad_format, "format"),
        (empty, "prompt"),
    ] {
        let err = c.generate(&req).await.unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{field}: {err:?}");
        assert!(
            err.to_string()
                .to_lowercase()
                .contains(&field.to_lowercase()),
            "{field}: {err}"
        );
        assert_eq!(err.class(), ErrorClass::Rejected);
    }
    assert_eq!(
        c.credits().await.unwrap(),
        100.0,
        "refused requests cost nothing"
    );
}

#[tokio::test]
async fn unknown_task_and_unfinished_download() {
    let emu = emulator(5_000).await;
    let c = client(&emu);
    let err = c.record_info("task_4o_doesnotexist").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let id = c.generate(&prompt("slow")).await.unwrap();
    let err = c
        .download_url(&id, "http://127.0.0.1:1/x.png")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_reference_fails_the_task_with_451() {
    let emu = emulator(200).await;
    let c = client(&emu);
    // A loopback port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let req = GenerateRequest {
        files_url: vec![format!("http://{dead}/gone.png")],
        ..prompt("p")
    };
    let id = c.generate(&req).await.unwrap();
    match wait_for_task(&c, &id, &quick_poll(), |_| {}).await {
        Err(Error::TaskFailed {
            code: Some(451),
            message,
            ..
        }) => {
            assert!(message.unwrap_or_default().contains("gone.png"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn service_modes_map_to_their_errors() {
    let emu = emulator(300).await;
    let c = client(&emu);
    control(&emu, "mode", json!({"mode": "disabled"})).await;
    assert!(matches!(
        c.credits().await,
        Err(Error::FeatureDisabled { .. })
    ));
    assert_eq!(calls(&emu, "credit").await, 1, "505 is not retried");

    control(&emu, "mode", json!({"mode": "maintenance"})).await;
    assert!(matches!(c.credits().await, Err(Error::Maintenance { .. })));
    assert_eq!(
        calls(&emu, "credit").await,
        1 + 4,
        "455 is retried up to the cap"
    );

    control(&emu, "mode", json!({"mode": "queue-full"})).await;
    let err = c.generate(&prompt("p")).await.unwrap_err();
    assert!(matches!(err, Error::QueueFull { .. }), "{err:?}");
    assert_eq!(
        calls(&emu, "generate").await,
        4,
        "a generate answered 550 surely was not accepted"
    );

    control(&emu, "mode", json!({"mode": "normal"})).await;
    assert_eq!(c.credits().await.unwrap(), 100.0);
}

#[tokio::test]
async fn injected_faults_are_retried_where_safe() {
    let emu = emulator(300).await;
    let c = client_with(&emu, |cfg| cfg.retry.max_attempts = 5);

    fault(&emu, "credit", 1, "html", json!({"status": 502})).await;
    fault(&emu, "credit", 1, "code", json!({"code": 500})).await;
    fault(&emu, "credit", 1, "reset", json!({})).await;
    fault(&emu, "credit", 1, "empty", json!({})).await;
    assert_eq!(c.credits().await.unwrap(), 100.0);
    assert_eq!(
        calls(&emu, "credit").await,
        5,
        "four faults, then the answer"
    );

    // Past the cap the last error is reported, naming the HTTP status.
    fault(&emu, "credit", 10, "html", json!({"status": 502})).await;
    let err = c.credits().await.unwrap_err();
    assert!(matches!(err, Error::BadBody { status: 502, .. }), "{err:?}");
    assert!(err.to_string().contains("502"));
}

#[tokio::test]
async fn a_hang_times_out_and_is_retried() {
    let emu = emulator(300).await;
    let c = client_with(&emu, |cfg| cfg.request_timeout = Duration::from_millis(400));
    fault(&emu, "credit", 1, "hang", json!({"ms": 5_000})).await;
    let start = Instant::now();
    assert_eq!(c.credits().await.unwrap(), 100.0);
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "did not wait for the hang to end"
    );
}

#[tokio::test]
async fn a_generate_is_never_sent_twice_when_its_fate_is_unknown() {
    let emu = emulator(300).await;
    let c = client_with(&emu, |cfg| cfg.request_timeout = Duration::from_millis(400));

    fault(&emu, "generate", 1, "hang", json!({"ms": 3_000})).await;
    let err = c.generate(&prompt("p")).await.unwrap_err();
    assert!(matches!(err, Error::GenerateUnanswered { .. }), "{err:?}");
    assert!(err.to_string().contains("fouro credits"), "{err}");
    assert_eq!(calls(&emu, "generate").await, 1);

    fault(&emu, "generate", 1, "reset", json!({})).await;
    let err = c.generate(&prompt("p")).await.unwrap_err();
    assert!(matches!(err, Error::GenerateUnanswered { .. }), "{err:?}");
    assert_eq!(calls(&emu, "generate").await, 2);

    fault(&emu, "generate", 1, "code", json!({"code": 500})).await;
    let err = c.generate(&prompt("p")).await.unwrap_err();
    assert!(matches!(err, Error::GenerateUncertain { .. }), "{err:?}");
    assert!(
        err.to_string().contains("500") && err.to_string().contains("billed"),
        "{err}"
    );
    assert_eq!(
        calls(&emu, "generate").await,
        3,
        "a 500 may have created the task"
    );

    // 429 means it surely was not taken: retried.
    fault(&emu, "generate", 1, "code", json!({"code": 429})).await;
    assert!(c.generate(&prompt("p")).await.is_ok());
    assert_eq!(calls(&emu, "generate").await, 5);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let c = fouro::api::Client::new(fouro::api::ClientConfig {
        base_url: format!("http://{dead}"),
        api_key: ApiKey::new(KEY),
        retry: fouro::api::limits::RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        ..Default::default()
    })
    .unwrap();
    let err = c.generate(&prompt("p")).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(err.to_string().contains(&dead.port().to_string()), "{err}");
}

#[tokio::test]
async fn unknown_codes_name_code_and_message() {
    let emu = emulator(300).await;
    let c = client(&emu);
    fault(
        &emu,
        "credit",
        1,
        "code",
        json!({"code": 433, "status": 200}),
    )
    .await;
    let err = c.credits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Rejected);
    assert!(err.to_string().contains("433"), "{err}");
    fault(
        &emu,
        "credit",
        1,
        "code",
        json!({"code": 777, "status": 200}),
    )
    .await;
    let err = c.credits().await.unwrap_err();
    assert!(
        matches!(err, Error::UnknownCode { code: 777, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("777"));
}

#[tokio::test]
async fn parsing_quirks_of_the_mirrors() {
    let emu = emulator(150).await;
    let c = client(&emu);
    control(
        &emu,
        "quirks",
        json!({"string_times": true, "snake_result_urls": true}),
    )
    .await;
    let id = c.generate(&prompt("quirky")).await.unwrap();
    let rec = wait_for_task(&c, &id, &quick_poll(), |_| {}).await.unwrap();
    assert_eq!(rec.result_urls.len(), 1, "result_urls is read too");
    let created = rec.create_time.expect("string times parse");
    let now = chrono::Utc::now().timestamp_millis();
    assert!((now - created).abs() < 120_000, "{created} vs {now}");
}

#[tokio::test]
async fn a_burst_of_status_queries_stays_within_three_per_second_per_task() {
    let emu = emulator(60_000).await;
    let c = client(&emu);
    let a = c.generate(&prompt("a")).await.unwrap();
    let b = c.generate(&prompt("b")).await.unwrap();
    let start = Instant::now();
    let mut handles = Vec::new();
    for i in 0..16 {
        let c = c.clone();
        let id = if i % 2 == 0 { a.clone() } else { b.clone() };
        handles.push(tokio::spawn(async move {
            for _ in 0..2 {
                c.record_info(&id).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let s = stats(&emu).await;
    assert_eq!(s["calls"]["record-info"], 32);
    assert_eq!(s["rate_limited"], 0, "{s}");
    assert!(
        s["max_record_info_per_second"].as_u64().unwrap() <= 3,
        "{s}"
    );
    // 16 calls per task at 3 per 1.1 s take at least five windows.
    assert!(
        start.elapsed() >= Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn uploads_stream_and_base64() {
    let emu = emulator(300).await;
    let c = client(&emu);
    let path = asset("ref-sunset.png");
    let original = std::fs::read(&path).unwrap();

    let up = c.upload_file(&path).await.unwrap();
    assert_eq!(up.file_size, original.len() as u64);
    assert_eq!(
        c.fetch(&up.download_url).await.unwrap().as_ref(),
        original.as_slice()
    );

    let up = c.upload_base64(&original, "again.png").await.unwrap();
    assert_eq!(
        c.fetch(&up.download_url).await.unwrap().as_ref(),
        original.as_slice()
    );
    assert_eq!(up.mime_type, "image/png");

    let err = c
        .upload_base64(b"not an image at all", "fake.png")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Rejected, "{err:?}");
}

#[tokio::test]
async fn generates_are_paced_to_twenty_per_ten_seconds() {
    let emu = emulator_with(|c| c.credits = 10_000).await;
    let c = client(&emu);
    let start = Instant::now();
    let mut handles = Vec::new();
    for i in 0..21 {
        let c = c.clone();
        handles.push(tokio::spawn(async move {
            c.generate(&prompt(&format!("n{i}"))).await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert!(
        start.elapsed() >= Duration::from_secs(10),
        "the 21st waited: {:?}",
        start.elapsed()
    );
    let s = stats(&emu).await;
    assert_eq!(s["calls"]["generate"], 21);
    assert_eq!(s["rate_limited"], 0, "{s}");
}

#[tokio::test]
async fn a_rate_limited_status_query_is_retried() {
    let emu = emulator(5_000).await;
    let c = client(&emu);
    let id = c.generate(&prompt("p")).await.unwrap();
    fault(&emu, "record-info", 1, "code", json!({"code": 429})).await;
    c.record_info(&id).await.unwrap();
    assert_eq!(calls(&emu, "record-info").await, 2);
}

#[tokio::test]
async fn polling_goes_on_through_failures_worth_retrying_and_stops_on_others() {
    use fouro::api::poll::{Round, poll_task};
    use std::ops::ControlFlow;
    let emu = emulator(600).await;
    let c = client_with(&emu, |cfg| {
        cfg.retry = fouro::api::limits::RetryPolicy::none()
    });
    let id = c.generate(&prompt("p")).await.unwrap();
    fault(&emu, "record-info", 2, "code", json!({"code": 500})).await;
    let mut failures = 0;
    let rec = poll_task(&c, &id, &quick_poll(), |round| {
        if let Round::Failed(e) = round {
            assert!(e.is_retryable(), "{e:?}");
            failures += 1;
        }
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!((rec.status, failures), (TaskStatus::Success, 2));

    let id = c.generate(&prompt("q")).await.unwrap();
    fault(&emu, "record-info", 1, "code", json!({"code": 404})).await;
    let mut rounds = 0;
    let err = poll_task(&c, &id, &quick_poll(), |_| {
        rounds += 1;
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(rounds, 1, "a failure not worth retrying ends polling");
}
