//! The one way the tests wait: poll a condition until it holds or a deadline passes, then fail
//! naming what never happened. No test sleeps blindly.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is asked again.
const PACE: Duration = Duration::from_millis(20);

/// Waits until `condition` holds, for at most `within`.
pub async fn until<F: Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut condition: impl FnMut() -> F,
) {
    until_some(what, within, || {
        let check = condition();
        async move { check.await.then_some(()) }
    })
    .await
}

/// Waits until `condition` gives a value, for at most `within`, and returns it.
pub async fn until_some<T, F: Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut condition: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {within:?} for {what}");
        tokio::time::sleep(PACE).await;
    }
}

/// The same for tests without a runtime: waits until `condition` gives a value.
pub fn until_blocking<T>(
    what: &str,
    within: Duration,
    mut condition: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = condition() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {within:?} for {what}");
        std::thread::sleep(PACE);
    }
}
