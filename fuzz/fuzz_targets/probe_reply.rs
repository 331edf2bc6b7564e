//! The terminal's answers to the start-up probe.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reply = fouro::tui::preview::Reply::parse(data);
    let _ = reply.sixel();
});
