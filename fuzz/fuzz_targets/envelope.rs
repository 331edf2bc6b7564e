//! The service's envelope and task record, from any bytes and any HTTP status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

fuzz_target!(|data: &[u8]| {
    let status = StatusCode::from_u16(200 + (data.len() % 400) as u16).unwrap_or(StatusCode::OK);
    let key = Some("sk-0123456789abcdef");
    if let Ok(Some(v)) = fouro::api::client::read_envelope(status, &HeaderMap::new(), data, key) {
        let _ = fouro::api::TaskRecord::from_value(&v);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = fouro::api::TaskRecord::from_value(&v);
    }
});
