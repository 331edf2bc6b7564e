//! Mutation fuzzing of every parser that reads outside bytes, on the stable toolchain: the
//! service's envelope and task record, callback payloads and signatures, config.toml, the task
//! journal and the terminal probe's reply; and a property test of the API key's masking. Each target starts from valid inputs and mutates them (flips, inserts,
//! deletions, repeats, splices, cuts) with a seeded generator, so a failure replays. A panic
//! anywhere fails the test.
//!
//! `FOURO_FUZZ_ITERS=N` sets the executions per target (default 50,000, well under a second);
//! `FOURO_FUZZ_SEED` another seed. cargo-fuzz needs nightly; this runs wherever `cargo test`
//! does.

use proptest::prelude::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// xorshift64*: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to these parsers, mixed in more often than chance would.
const INTERESTING: &[&[u8]] = &[
    b"\x1b",
    b"\x1b[",
    b"\x1b_G",
    b"\x1b\\",
    b"\x1bP",
    b";",
    b"?",
    b"c",
    b"t",
    b"S",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"-1",
    b"1e999",
    b"99999999999999999999",
    b"\"\\u0000\"",
    b"\xff",
    b"\xc3",
    b"0.5",
    b"\"2024-01-15 10:30:00\"",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i) + 1;
                data.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                let piece = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                for _ in 0..=rng.below(3) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(data.len() + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            5 => {
                let i = rng.below(len + 1);
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                data.splice(i..i, piece.iter().copied());
            }
            _ => data.truncate(rng.below(len + 1)),
        }
    }
    data
}

fn iterations() -> u64 {
    std::env::var("FOURO_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

fn seed() -> u64 {
    std::env::var("FOURO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_f0e0)
}

/// Runs `target` over `iterations()` mutated inputs; a panic names the input that caused it.
fn fuzz(name: &str, seeds: &[&[u8]], target: impl Fn(&[u8])) {
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
    let mut rng = Rng(seed() ^ name.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    for s in &seeds {
        target(s);
    }
    let n = iterations();
    for _ in 0..n {
        let input = mutate(&mut rng, &seeds);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input)));
        assert!(
            outcome.is_ok(),
            "{name} panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
    eprintln!("{name}: {n} executions, no crash");
}

const RECORD: &[u8] = br#"{"code":200,"msg":"success","data":{"taskId":"task_4o_1","paramJson":"{\"prompt\":\"a\",\"size\":\"1:1\"}","createTime":1700000000000,"completeTime":"2024-01-15 10:30:00","progress":"1.00","successFlag":1,"status":"SUCCESS","response":{"resultUrls":["https://x/a.png"],"result_urls":["https://x/b.png"]},"errorCode":null,"errorMessage":""}}"#;

#[test]
fn the_envelope_and_the_task_record() {
    fuzz(
        "envelope",
        &[
            RECORD,
            br#"{"code":422,"msg":"size","data":null}"#,
            br#"{"code":"429","message":"slow down"}"#,
            br#"{"code":200,"msg":"ok","data":{"taskId":"t","successFlag":3,"progress":0.5}}"#,
            b"<html>502</html>",
            b"",
        ],
        |bytes| {
            let status = StatusCode::from_u16(200 + (bytes.len() % 400) as u16).unwrap();
            let key = Some("sk-0123456789abcdef");
            if let Ok(Some(data)) =
                fouro::api::client::read_envelope(status, &HeaderMap::new(), bytes, key)
            {
                let _ = fouro::api::TaskRecord::from_value(&data);
            }
            if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
                let _ = fouro::api::TaskRecord::from_value(&v);
                let _ = fouro::api::TaskRecord::from_value(&v["data"]);
            }
        },
    );
}

#[test]
fn callback_payloads_and_signatures() {
    fuzz(
        "callback",
        &[
            br#"{"code":200,"msg":"ok","data":{"taskId":"task_4o_1","info":{"result_urls":["https://x/a.png"]}}}"#,
            br#"{"code":451,"msg":"reference download failed","data":{"task_id":"t","info":null}}"#,
            br#"{"code":500,"msg":"","data":null}"#,
        ],
        |bytes| {
            if let Ok(v) = serde_json::from_slice::<Value>(bytes)
                && let Ok(p) = fouro::api::types::CallbackPayload::from_value(&v)
            {
                let _ = p.record();
            }
            let text = String::from_utf8_lossy(bytes);
            let mut half = text.len() / 2;
            while !text.is_char_boundary(half) {
                half -= 1;
            }
            let (id, sig) = text.split_at(half);
            let _ = fouro::callback::verify("whk", id, bytes.len() as i64, sig, 1_700_000_000);
        },
    );
}

#[test]
fn the_terminal_probe_reply() {
    fuzz(
        "probe reply",
        &[
            b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4;22c",
            b"\x1b[6;20;10t\x1b[4;600;800t\x1b[?2;0;1000;1000S\x1b[?64;1;2;6;9;15;18;21;22c",
            b"x\x1b[?1;2c\x1b[6;",
            b"\x1b[?62c\x1b_Gi=31;ENOTSUPPORTED\x1b\\",
        ],
        |bytes| {
            let reply = fouro::tui::preview::Reply::parse(bytes);
            let _ = reply.sixel();
        },
    );
}

#[test]
fn config_toml() {
    fuzz(
        "config.toml",
        &[
            br#"default_profile = "kie"
low_balance = 50

[profiles.kie]
base_url = "https://api.kie.ai"
upload_url = "https://kieai.redpandaai.co"
api_key = "sk-0123456789"
webhook_key = "whk"
callback_listen = "127.0.0.1:8787"
callback_public_url = "https://example.trycloudflare.com/x"
mystery = 3
"#,
            b"[profiles.a]\nbase_url = 'http://127.0.0.1:1'\n[profiles.\"b c\"]\n",
        ],
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            if let Err(e) = fouro::config::Config::from_toml(&text, std::path::Path::new("c.toml"))
            {
                let _ = e.to_string();
            }
        },
    );
}

#[test]
fn the_task_journal() {
    fuzz(
        "journal",
        &[
            br#"{"taskId":"task_4o_1","baseUrl":"https://api.kie.ai","submittedAt":1700000000000,"request":{"prompt":"a cat","size":"1:1","nVariants":2}}
{"taskId":"","baseUrl":"http://127.0.0.1:1","submittedAt":1,"request":{"filesUrl":["https://x/a.png"],"size":"3:2"},"submission":"s-1"}
{"taskId":"t2","baseUrl":"","submittedAt":-1,"request":{"size":"2:3","isEnhance":true},"submission":"s-1"}
{"taskId":"torn","baseU"#,
            b"\n\n\xff\n{}\n",
        ],
        |bytes| {
            for entry in fouro::store::journal::parse(bytes) {
                let line = serde_json::to_string(&entry).unwrap();
                assert_eq!(fouro::store::journal::parse(line.as_bytes()), vec![entry]);
            }
        },
    );
}

/// The masking rule of `fouro::api::key::scrub`, written the slow and obvious way: whether
/// `text` still shows the key (a run of 8+ of its characters anywhere, or a run of 4 to 7
/// that stands alone and holds a character of a segment that does not read as a word).
fn shows_key(text: &str, key: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let word = |s: &str| {
        let mut rest = s.chars();
        let first = rest.next();
        s.chars().count() <= 12
            && s.chars().all(char::is_alphabetic)
            && (s.chars().all(char::is_uppercase)
                || first.is_some() && rest.all(char::is_lowercase))
    };
    let mut secret = vec![false; key.len()];
    let mut from = 0;
    for (at, c) in key.char_indices().chain([(key.len(), ' ')]) {
        if !c.is_alphanumeric() {
            let segment = &key[from..at];
            if !segment.is_empty() && !word(segment) {
                secret[from..at].fill(true);
            }
            from = at + c.len_utf8();
        }
    }
    let holds_secret = |run: &str| {
        (0..key.len()).any(|at| {
            key.get(at..at + run.len()) == Some(run) && secret[at..at + run.len()].contains(&true)
        })
    };
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    bounds.iter().any(|&s| {
        bounds.iter().filter(|&&e| e >= s + 4).any(|&e| {
            let run = &text[s..e];
            key.contains(run)
                && (run.len() >= 8
                    || !alnum(text[..s].chars().next_back())
                        && !alnum(text[e..].chars().next())
                        && holds_secret(run))
        })
    })
}

/// A text made of pieces of the key, ordinary words and separators.
fn text_around(key: String) -> impl Strategy<Value = (String, String)> {
    let len = key.len();
    let piece = prop_oneof![
        (0..len, 1..=len).prop_map({
            let key = key.clone();
            move |(from, n)| key.get(from..(from + n).min(len)).unwrap_or("").to_owned()
        }),
        "[a-zA-Z0-9]{1,6}",
        "[ .,:;=&?/\"'(){}<>…*_-]{1,2}",
        Just("task ".to_owned()),
        Just("test ".to_owned()),
    ];
    (
        Just(key),
        proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat()),
    )
}

fn random_key() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(""),
            Just("sk-"),
            Just("sk-live-"),
            Just("test-key-"),
            Just("sk-proj_")
        ],
        "[a-zA-Z0-9]{16,40}",
        prop_oneof![Just(""), Just("-x"), Just(".Test")],
    )
        .prop_map(|(head, body, tail)| format!("{head}{body}{tail}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_masked_text_never_shows_the_key((key, text) in random_key().prop_flat_map(text_around)) {
        let out = fouro::api::key::scrub(&text, &key);
        prop_assert!(!shows_key(&out, &key), "{text:?} -> {out:?}");
        // Nothing is masked where the rule finds no echo.
        if !shows_key(&text, &key) {
            prop_assert_eq!(&out, &text);
        }
    }

    #[test]
    fn a_key_of_words_never_mangles_text(
        key in "[a-z]{1,7}|[A-Z][a-z]{0,6}|task|key|k",
        text in "[a-zA-Z0-9 .,:;_-]{0,40}",
    ) {
        prop_assert_eq!(fouro::api::key::scrub(&text, &key), text.as_str());
    }

    #[test]
    fn any_text_and_key_are_safe(key in "\\PC{0,12}", text in "\\PC{0,60}") {
        let out = fouro::api::key::scrub(&text, &key);
        if !shows_key(&text, key.trim()) {
            prop_assert_eq!(&out, &text);
        }
    }
}
