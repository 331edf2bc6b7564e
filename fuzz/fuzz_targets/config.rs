//! config.toml as anyone may have edited it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = fouro::config::Config::from_toml(&text, std::path::Path::new("config.toml")) {
        let _ = e.to_string();
    }
});
