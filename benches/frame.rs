//! How long a key press takes to reach the screen: `App::update` plus a full frame drawn into
//! a test backend, with a busy task list. The goal is one frame (16 ms) with a wide margin.
//!
//! `cargo bench --bench frame`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::KeyCode;
use fouro::api::TaskStatus;
use fouro::tui::action::{Action, Effect, NewTask};
use fouro::tui::app::App;
use fouro::tui::testing::{app, buffer, ctrl, key, record, set_prompt};

/// An app of the given size with `n` tasks in every state and a long prompt.
fn busy_app(w: u16, h: u16, n: usize) -> App {
    let t0 = Instant::now();
    let mut a = app(w, h, t0);
    let statuses = [
        TaskStatus::Generating,
        TaskStatus::Success,
        TaskStatus::GenerateFailed,
        TaskStatus::CreateTaskFailed,
    ];
    for i in 0..n {
        let id = format!("task_4o_{i:04}");
        set_prompt(
            &mut a,
            &format!("prompt number {i}: a lighthouse at dusk, oil painting"),
        );
        a.update(ctrl('s'));
        let job = a.take_effects().into_iter().find_map(|e| match e {
            Effect::Submit { job, .. } => Some(job),
            _ => None,
        });
        let Some(job) = job else { continue };
        a.update(Action::Submitted {
            job,
            result: Ok(NewTask {
                task_id: id.clone(),
                created_at: 0,
                journal_warning: None,
            }),
        });
        let generation = a.take_effects().into_iter().find_map(|e| match e {
            Effect::Poll { generation, .. } => Some(generation),
            _ => None,
        });
        if let Some(generation) = generation {
            let status = statuses[i % statuses.len()];
            let urls = usize::from(status == TaskStatus::Success) * 2;
            let error = status.is_failure().then_some("failed to generate image");
            a.update(Action::TaskUpdate {
                task_id: id.clone(),
                generation,
                record: record(&id, status, 0.4, urls, error),
            });
        }
    }
    a.set_now(t0 + Duration::from_secs(30));
    set_prompt(
        &mut a,
        &"a long prompt that wraps over several lines of the editor ".repeat(12),
    );
    a.take_effects();
    a
}

fn keypress_to_frame(c: &mut Criterion) {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut a = busy_app(w, h, 40);
        c.bench_function(&format!("keypress and frame {w}x{h}, 40 tasks"), |b| {
            b.iter(|| {
                a.update(key(KeyCode::Char('x')));
                a.update(key(KeyCode::Backspace));
                black_box(buffer(&a));
            })
        });
    }
}

criterion_group!(benches, keypress_to_frame);
criterion_main!(benches);
