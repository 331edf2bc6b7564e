//! Callback payloads and their signatures.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(p) = fouro::api::types::CallbackPayload::from_value(&v)
    {
        let _ = p.record();
    }
    let text = String::from_utf8_lossy(data);
    let mut half = text.len() / 2;
    while !text.is_char_boundary(half) {
        half -= 1;
    }
    let (id, sig) = text.split_at(half);
    let _ = fouro::callback::verify("whk", id, data.len() as i64, sig, 1_700_000_000);
});
