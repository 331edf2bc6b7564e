//! How long the history pane waits for the database: a page of 100 entries at the start,
//! middle and end of 10,000, the count beside it, and both with a search text or a status
//! filter. The goal is well under a frame (16 ms) for each, so scrolling never stutters.
//!
//! `cargo bench --bench history -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use fouro::api::{Size, TaskRecord, TaskStatus, Variants};
use fouro::store::{History, Params, Query, StatusFilter};

const ENTRIES: usize = 10_000;
/// 2026-03-07, in milliseconds.
const NOW: i64 = 1_772_841_600_000;

const SUBJECTS: [&str; 12] = [
    "a lighthouse on a cliff",
    "a red fox in fresh snow",
    "an old tram in Lisbon",
    "a bowl of ramen with a soft egg",
    "a cyberpunk street market",
    "a watercolour map of an island",
    "a golden retriever wearing sunglasses",
    "a cozy reading nook with plants",
    "the logo of a coffee shop called Ember",
    "a portrait of an astronaut",
    "a paper boat on a puddle",
    "a mountain cabin under the northern lights",
];
const STYLES: [&str; 8] = [
    "oil painting, thick brush strokes",
    "35mm photo, shallow depth of field",
    "isometric 3D render, soft shadows",
    "flat vector illustration, pastel colours",
    "studio Ghibli style, warm light",
    "black and white ink sketch",
    "cinematic, golden hour, 4k",
    "low-poly, vibrant palette",
];
const MOODS: [&str; 5] = [
    "at dusk",
    "in heavy rain",
    "on a quiet morning",
    "with fireflies",
    "seen from above",
];

/// A small deterministic generator: the same history every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// 10,000 tasks over about two months: most succeeded with 1, 2 or 4 images (some saved),
/// some failed, a few still running, the oldest unfinished ones expired.
fn build(dir: &Path) -> History {
    let history = History::open_in(dir).expect("the history opens");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut created_at = NOW - 60 * 24 * 60 * 60 * 1000;
    for i in 0..ENTRIES {
        // About nine minutes apart, some submitted in the same millisecond.
        if rng.below(5) != 0 {
            created_at += 1 + rng.below(18 * 60 * 1000) as i64;
        }
        let prompt = format!(
            "{}, {} {}",
            SUBJECTS[rng.below(SUBJECTS.len())],
            STYLES[rng.below(STYLES.len())],
            MOODS[rng.below(MOODS.len())]
        );
        let params = Params {
            prompt: Some(prompt),
            size: Size::ALL[rng.below(3)],
            variants: Variants::ALL[rng.below(3)],
            enhance: rng.below(4) == 0,
            ..Params::default()
        };
        let id = format!("task_4o_{i:08x}{:08x}", rng.below(u32::MAX as usize));
        history
            .insert(&id, "https://api.kie.ai", &params, created_at)
            .expect("insert");
        let status = match rng.below(20) {
            0..=14 => TaskStatus::Success,
            15..=16 => TaskStatus::GenerateFailed,
            17 => TaskStatus::CreateTaskFailed,
            _ => TaskStatus::Generating,
        };
        let images = if status == TaskStatus::Success {
            params.variants.count() as usize
        } else {
            0
        };
        let record = TaskRecord {
            task_id: id.clone(),
            status,
            progress: if status == TaskStatus::Generating {
                0.5
            } else {
                1.0
            },
            result_urls: (0..images)
                .map(|n| format!("https://tempfile.aiquickdraw.com/s/{id}_{n}.png"))
                .collect(),
            error_code: status.is_failure().then_some(400),
            error_message: status
                .is_failure()
                .then(|| "content policy violation".into()),
            create_time: Some(created_at),
            complete_time: status.is_final().then_some(created_at + 40_000),
            param_json: None,
        };
        history
            .record(&record, created_at + 40_000)
            .expect("record");
        for n in 0..images {
            if rng.below(3) != 0 {
                let path = dir.join(format!("images/{id}-{}.png", n + 1));
                history.image_saved(&id, n, &path).expect("image_saved");
            }
        }
    }
    history.expire(NOW).expect("expire");
    history
}

fn history_queries(c: &mut Criterion) {
    // On a RAM disk when there is one: building takes 30,000 synced commits.
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("a temporary directory");
    // Measured as a person meets it: opened afresh on an existing history.
    drop(build(dir.path()));
    let history = History::open_in(dir.path()).expect("the history opens again");
    let all = Query::default();
    assert_eq!(history.count(&all).ok(), Some(ENTRIES));

    for offset in [0, 5_000, 9_900] {
        c.bench_function(&format!("page of 100 at {offset}"), |b| {
            b.iter(|| black_box(history.page(&all, offset, 100)))
        });
    }
    c.bench_function("count, no query", |b| {
        b.iter(|| black_box(history.count(&all)))
    });
    let searched = Query {
        search: Some("Lighthouse".into()),
        ..Query::default()
    };
    c.bench_function("page and count, search text", |b| {
        b.iter(|| {
            let _ = black_box(history.page(&searched, 0, 100));
            black_box(history.count(&searched))
        })
    });
    for status in [StatusFilter::Failed, StatusFilter::Success] {
        let filtered = Query {
            status: Some(status),
            ..Query::default()
        };
        c.bench_function(&format!("page and count, status {status}"), |b| {
            b.iter(|| {
                let _ = black_box(history.page(&filtered, 0, 100));
                black_box(history.count(&filtered))
            })
        });
        c.bench_function(&format!("page at 1,000, status {status}"), |b| {
            b.iter(|| black_box(history.page(&filtered, 1_000, 100)))
        });
    }
    let everything = Query {
        search: Some("fox".into()),
        status: Some(StatusFilter::Success),
        size: Some(Size::Portrait),
        newest: None,
    };
    c.bench_function("page and count, search, status and size", |b| {
        b.iter(|| {
            let _ = black_box(history.page(&everything, 0, 100));
            black_box(history.count(&everything))
        })
    });
    c.bench_function("unsettled", |b| b.iter(|| black_box(history.unsettled())));
    let path = history.path().to_owned();
    c.bench_function("open (with quick_check)", |b| {
        b.iter(|| black_box(History::open(&path)))
    });
}

criterion_group!(benches, history_queries);
criterion_main!(benches);
