//! The task journal as a crash, a full disk or anyone may have left it.
#![no_main]

use fouro::store::journal::{JournalEntry, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for entry in parse(data) {
        // What was taken in is written back the same way the journal writes it, and reads
        // back as the same entry.
        let line = match serde_json::to_string(&entry) {
            Ok(l) => l,
            Err(e) => panic!("a parsed entry does not serialize: {e}"),
        };
        let again: Vec<JournalEntry> = parse(line.as_bytes());
        assert_eq!(again, vec![entry]);
    }
});
