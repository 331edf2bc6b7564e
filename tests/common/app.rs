//! The app's worker against the emulator: one way to build it and one loop that runs the app
//! and the worker together.

use std::path::Path;
use std::time::{Duration, Instant};

use fouro::api::poll::PollOptions;
use fouro::api::{ApiKey, ClientConfig, Size, Variants};
use fouro::store::History;
use fouro::tui::action::{Action, Draft, Effect};
use fouro::tui::app::App;
use fouro::tui::preview::Protocol;
use fouro::tui::worker::Worker;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// A text-only request for `prompt`: one image in `size`, nothing else asked for.
pub fn draft(prompt: &str, size: Size) -> Draft {
    Draft {
        prompt: Some(prompt.into()),
        refs: Vec::new(),
        mask: None,
        size,
        variants: Variants::One,
        enhance: false,
        fallback: None,
    }
}

/// Actions into `App::update`, one after another.
pub fn feed(app: &mut App, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        app.update(a);
    }
}

/// The first effect `f` picks out.
pub fn find_effect<T>(effects: &[Effect], f: impl Fn(&Effect) -> Option<T>) -> Option<T> {
    effects.iter().find_map(f)
}

/// The balance request among `effects`, if any.
pub fn credits_req(effects: &[Effect]) -> Option<u64> {
    find_effect(effects, |e| match e {
        Effect::RefreshCredits { req } => Some(*req),
        _ => None,
    })
}

/// Answers the preview's decode request, if there is one, as the worker would for a 1536x1024
/// image; says whether there was one.
pub fn answer_decode(a: &mut App) -> bool {
    let Some(request) = a.preview.requested.clone() else {
        return false;
    };
    let cells = fouro::tui::preview::fit_cells((1536, 1024), request.cells);
    a.update(Action::ImageDecoded {
        req: request.req,
        result: Ok(fouro::tui::action::Fitted {
            cells,
            source_dims: (1536, 1024),
            payload: std::sync::Arc::new(fouro::tui::preview::Payload::Viuer(
                image::DynamicImage::new_rgb8(1, 1),
            )),
        }),
    });
    true
}

/// Quick polling, so a task is followed within the test's patience.
pub fn quick_poll() -> PollOptions {
    PollOptions {
        first_interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(400),
        give_up_after: Duration::from_secs(60),
    }
}

/// A worker for `base_url` with `key`, saving into `data` (its own history there); `tune`
/// changes the client's settings.
pub fn worker(
    base_url: &str,
    data: &Path,
    key: &str,
    tune: impl FnOnce(&mut ClientConfig),
) -> (Worker, UnboundedReceiver<Action>) {
    worker_with(
        base_url,
        data,
        key,
        History::open_in(data).expect("a history"),
        tune,
    )
}

/// The same with a history the test holds on to.
pub fn worker_with(
    base_url: &str,
    data: &Path,
    key: &str,
    history: History,
    tune: impl FnOnce(&mut ClientConfig),
) -> (Worker, UnboundedReceiver<Action>) {
    let (tx, rx) = unbounded_channel();
    let mut config = ClientConfig {
        base_url: base_url.to_owned(),
        api_key: ApiKey::new(key),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    tune(&mut config);
    let worker = Worker::new(
        tx,
        config,
        data.to_path_buf(),
        history,
        Protocol::Blocks,
        quick_poll(),
    )
    .expect("a worker");
    (worker, rx)
}

/// The next action from the worker that `what` picks out, within 20 s; the others are passed
/// over.
pub async fn next_action(
    rx: &mut UnboundedReceiver<Action>,
    what: impl Fn(&Action) -> bool,
) -> Action {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("in time")
            .expect("the channel stays open");
        if what(&action) {
            return action;
        }
    }
}

/// Runs the app and the worker together until `done` holds, for at most `within`; `done` is
/// asked first with no action, then after each action the app took.
pub async fn run_until(
    a: &mut App,
    worker: &mut Worker,
    rx: &mut UnboundedReceiver<Action>,
    within: Duration,
    mut done: impl FnMut(&App, Option<&Action>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + within;
    let mut last = None;
    loop {
        for effect in a.take_effects() {
            worker.handle(effect);
        }
        if done(a, last.as_ref()) {
            return;
        }
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; tasks: {:#?}", a.tasks.list))
            .expect("the worker keeps the channel open");
        a.set_now(Instant::now());
        a.update(action.clone());
        last = Some(action);
    }
}
