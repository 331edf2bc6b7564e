//! The callback listener over real loopback HTTP, and end to end with the emulator's signed
//! callbacks.

use crate::common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use fouro::api::GenerateRequest;
use fouro::api::types::CallbackPayload;
use fouro::callback::{Listener, ListenerConfig, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const WEBHOOK_KEY: &str = "whk-test-5f1d2c";
/// The listener's clock in the tests that pin it.
const NOW: i64 = 1_700_000_000;

/// base64(HMAC-SHA256(key, taskId + "." + timestamp)), computed independently of fouro.
fn sign(key: &str, task_id: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(format!("{task_id}.{timestamp}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A listener on 127.0.0.1 whose clock says [`NOW`].
async fn listener(key: Option<&str>) -> (Listener, UnboundedReceiver<CallbackPayload>) {
    let (tx, rx) = unbounded_channel::<CallbackPayload>();
    let config = ListenerConfig {
        webhook_key: key.map(str::to_owned),
        now: std::sync::Arc::new(|| NOW),
        ..ListenerConfig::default()
    };
    let listener = Listener::start(config, tx)
        .await
        .expect("the listener starts on 127.0.0.1");
    (listener, rx)
}

fn success(task_id: &str) -> Value {
    json!({"code": 200, "msg": "Image generated successfully.",
           "data": {"taskId": task_id, "info": {"result_urls": ["http://127.0.0.1:1/a.png"]}}})
}

/// POSTs `body`, signed with `key` at `timestamp` when given; the status and the JSON answer.
async fn post(url: &str, body: &Value, signed: Option<(&str, &str, i64)>) -> (StatusCode, Value) {
    let mut request = http().post(url).json(body);
    if let Some((key, task_id, timestamp)) = signed {
        request = request
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(key, task_id, timestamp));
    }
    let response = request.send().await.expect("the listener answers");
    let status = response.status();
    let answer = response.json().await.expect("every answer is JSON");
    (status, answer)
}

#[tokio::test]
async fn a_signed_callback_for_an_awaited_task_is_forwarded() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_a");
    let url = l.callback_url(None);
    assert_eq!(url, format!("http://{}/callback", l.local_addr()));

    let (status, answer) = post(&url, &success("task_a"), Some((WEBHOOK_KEY, "task_a", NOW))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"code": 200, "msg": "ok"}));
    // Forwarded before the answer went out.
    let payload = rx.try_recv().expect("the callback was forwarded");
    assert_eq!(
        payload,
        CallbackPayload {
            code: 200,
            msg: "Image generated successfully.".into(),
            task_id: "task_a".into(),
            result_urls: vec!["http://127.0.0.1:1/a.png".into()],
        }
    );
    assert!(!l.is_expected("task_a"));
    l.shutdown().await;
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_401_and_not_forwarded() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_f");
    let url = l.callback_url(None);
    let body = success("task_f");

    let (status, answer) = post(&url, &body, Some(("not-the-key", "task_f", NOW))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["code"], 401);
    assert!(
        answer["msg"].as_str().unwrap().contains("signature"),
        "{answer}"
    );
    // Signed for another task: the signature does not carry over.
    let (status, _) = post(&url, &body, Some((WEBHOOK_KEY, "task_other", NOW))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&url, &body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = http()
        .post(&url)
        .json(&body)
        .header(TIMESTAMP_HEADER, NOW.to_string())
        .header(SIGNATURE_HEADER, "%%% not base64 %%%")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    assert!(rx.try_recv().is_err(), "nothing was forwarded");
    assert!(
        l.is_expected("task_f"),
        "a refused callback consumes nothing"
    );
    l.shutdown().await;
}

#[tokio::test]
async fn timestamps_more_than_five_minutes_away_are_401() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_t");
    let url = l.callback_url(None);
    let body = success("task_t");

    for timestamp in [NOW - 301, NOW + 301] {
        let (status, answer) = post(&url, &body, Some((WEBHOOK_KEY, "task_t", timestamp))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "at {timestamp}");
        assert!(
            answer["msg"].as_str().unwrap().contains("301 s"),
            "{answer}"
        );
    }
    assert!(rx.try_recv().is_err(), "nothing was forwarded");

    // Exactly five minutes old is still accepted.
    let (status, _) = post(&url, &body, Some((WEBHOOK_KEY, "task_t", NOW - 300))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rx.try_recv().unwrap().task_id, "task_t");
    l.shutdown().await;
}

#[tokio::test]
async fn a_callback_for_an_unknown_task_is_404_and_not_forwarded() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_known");
    let (status, answer) = post(
        &l.callback_url(None),
        &success("task_stranger"),
        Some((WEBHOOK_KEY, "task_stranger", NOW)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], 404);
    assert!(rx.try_recv().is_err());
    assert!(l.is_expected("task_known"));

    // Forgotten ids are unknown again.
    l.forget("task_known");
    let (status, _) = post(
        &l.callback_url(None),
        &success("task_known"),
        Some((WEBHOOK_KEY, "task_known", NOW)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(rx.try_recv().is_err());
    l.shutdown().await;
}

#[tokio::test]
async fn an_oversize_body_is_413_and_not_forwarded() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_big");
    let mut body = success("task_big");
    body["msg"] = json!("x".repeat(fouro::callback::DEFAULT_MAX_BODY));
    let (status, answer) = post(
        &l.callback_url(None),
        &body,
        Some((WEBHOOK_KEY, "task_big", NOW)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["code"], 413);

    // The same without a Content-Length (chunked) is cut off just as well.
    let bytes = serde_json::to_vec(&body).unwrap();
    let stream = futures::stream::iter(
        bytes
            .chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = http()
        .post(l.callback_url(None))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, NOW.to_string())
        .header(SIGNATURE_HEADER, sign(WEBHOOK_KEY, "task_big", NOW))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert!(rx.try_recv().is_err());
    assert!(l.is_expected("task_big"));
    l.shutdown().await;
}

#[tokio::test]
async fn without_a_webhook_key_an_unsigned_callback_is_accepted_on_any_path() {
    let (l, mut rx) = listener(None).await;
    l.expect("task_u");
    l.expect("task_v");
    let (status, _) = post(&l.callback_url(None), &success("task_u"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rx.try_recv().unwrap().task_id, "task_u");

    // A tunnel that keeps its own path prefix still reaches the listener; `task_id` is accepted.
    let base = format!("http://{}", l.local_addr());
    assert_eq!(
        l.callback_url(Some(&format!("{base}/tunnel/prefix"))),
        format!("{base}/tunnel/prefix")
    );
    let failure = json!({"code": 451, "msg": "reference download failed",
                         "data": {"task_id": "task_v", "info": null}});
    let (status, _) = post(&format!("{base}/tunnel/prefix"), &failure, None).await;
    assert_eq!(status, StatusCode::OK);
    let payload = rx.try_recv().unwrap();
    assert_eq!((payload.code, payload.task_id.as_str()), (451, "task_v"));
    assert!(payload.result_urls.is_empty());
    l.shutdown().await;
}

#[tokio::test]
async fn the_same_callback_twice_is_forwarded_once() {
    let (l, mut rx) = listener(Some(WEBHOOK_KEY)).await;
    l.expect("task_d");
    let signed = Some((WEBHOOK_KEY, "task_d", NOW));
    let (first, _) = post(&l.callback_url(None), &success("task_d"), signed).await;
    let (second, _) = post(&l.callback_url(None), &success("task_d"), signed).await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::NOT_FOUND));
    assert_eq!(rx.try_recv().unwrap().task_id, "task_d");
    assert!(rx.try_recv().is_err(), "forwarded once only");
    l.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_and_other_methods_405() {
    let (l, mut rx) = listener(None).await;
    l.expect("task_m");
    let url = l.callback_url(None);

    let response = http()
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{\"code\": 200, \"data\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, answer) = post(&url, &json!({"code": 200, "msg": "no data"}), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["msg"].as_str().unwrap().contains("no data"),
        "{answer}"
    );

    let response = http().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[reqwest::header::ALLOW], "POST");

    assert!(rx.try_recv().is_err());
    assert!(l.is_expected("task_m"));
    l.shutdown().await;
}

#[tokio::test]
async fn a_gone_receiver_is_503_and_the_task_stays_awaited() {
    let (l, rx) = listener(None).await;
    l.expect("task_g");
    drop(rx);
    let (status, _) = post(&l.callback_url(None), &success("task_g"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(l.is_expected("task_g"));
    l.shutdown().await;
}

#[tokio::test]
async fn an_empty_webhook_key_is_refused_and_shutdown_closes_the_port() {
    let (tx, _rx) = unbounded_channel::<CallbackPayload>();
    let config = ListenerConfig {
        webhook_key: Some(String::new()),
        ..ListenerConfig::default()
    };
    let err = Listener::start(config, tx).await.err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let (l, _rx) = listener(None).await;
    let url = l.callback_url(None);
    l.shutdown().await;
    let err = http().post(&url).json(&success("t")).send().await;
    assert!(
        err.is_err_and(|e| e.is_connect()),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn the_emulator_s_signed_callback_arrives_with_the_result_urls() {
    let emu = emulator_with(|c| {
        c.webhook_key = Some(WEBHOOK_KEY.into());
        c.duration = Duration::from_millis(200);
    })
    .await;
    let (tx, mut rx) = unbounded_channel::<CallbackPayload>();
    let config = ListenerConfig {
        webhook_key: Some(WEBHOOK_KEY.into()),
        ..ListenerConfig::default() // the system clock: the emulator signs with it too
    };
    let l = Listener::start(config, tx).await.unwrap();

    let request = GenerateRequest {
        prompt: Some("a harbour at night".into()),
        call_back_url: Some(l.callback_url(None)),
        ..Default::default()
    };
    let id = client(&emu).generate(&request).await.unwrap();
    // No await between learning the id and expecting it: on this single-threaded runtime the
    // task cannot end (and call back) in between.
    l.expect(&id);

    let payload = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the callback arrives")
        .expect("the listener is running");
    assert_eq!((payload.code, payload.task_id.as_str()), (200, id.as_str()));
    assert_eq!(payload.result_urls.len(), 1, "{payload:?}");
    let image = http()
        .get(&payload.result_urls[0])
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(image.starts_with(b"\x89PNG"), "the result URL serves a PNG");

    // The emulator saw the 200.
    until("the callback acked", Duration::from_secs(10), || async {
        task(&emu, &id).await["callback"] == "acked"
    })
    .await;
    l.shutdown().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn an_emulator_callback_signed_with_another_key_is_refused() {
    let emu = emulator_with(|c| {
        c.webhook_key = Some("the-account-s-other-key".into());
        c.duration = Duration::from_millis(100);
    })
    .await;
    let (tx, mut rx) = unbounded_channel::<CallbackPayload>();
    let config = ListenerConfig {
        webhook_key: Some(WEBHOOK_KEY.into()),
        ..ListenerConfig::default()
    };
    let l = Listener::start(config, tx).await.unwrap();
    let request = GenerateRequest {
        prompt: Some("x".into()),
        call_back_url: Some(l.callback_url(None)),
        ..Default::default()
    };
    let id = client(&emu).generate(&request).await.unwrap();
    l.expect(&id);

    until("the callback refused", Duration::from_secs(10), || async {
        let state = task(&emu, &id).await["callback"].clone();
        assert_ne!(
            state, "acked",
            "a callback signed with another key was taken"
        );
        state == "failed"
    })
    .await;
    assert!(rx.try_recv().is_err(), "nothing was forwarded");
    assert!(l.is_expected(&id));
    l.shutdown().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn an_unsigned_callback_never_uses_up_the_awaited_id() {
    let (l, mut rx) = listener(None).await;
    assert!(!l.is_signed());
    l.expect("task_f");
    // A forger's callback is forwarded (to be checked by a status query) but the id stays
    // awaited, so the service's own callback still lands.
    let (forged, _) = post(&l.callback_url(None), &success("task_f"), None).await;
    let (real, _) = post(&l.callback_url(None), &success("task_f"), None).await;
    assert_eq!((forged, real), (StatusCode::OK, StatusCode::OK));
    assert_eq!(rx.try_recv().unwrap().task_id, "task_f");
    assert_eq!(rx.try_recv().unwrap().task_id, "task_f");
    assert!(l.is_expected("task_f"));
    // Once the status query settled it, the receiver forgets it: later ones are 404.
    l.forget("task_f");
    let (late, _) = post(&l.callback_url(None), &success("task_f"), None).await;
    assert_eq!(late, StatusCode::NOT_FOUND);
    assert!(rx.try_recv().is_err());
    l.shutdown().await;
}
