//! `generate --wait` with a callback listener: the service's `POST callBackUrl` ends the wait
//! as soon as the task ends, and polling goes on at a slow pace in case the callback never
//! comes (a tunnel down, a key mismatch, a service that does not call back).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::api::poll::PollOptions;
use crate::api::types::CallbackPayload;
use crate::api::{ApiKey, Client, TaskRecord};
use crate::callback::{Listener, ListenerConfig};

/// The first pause of the fallback polling while a listener runs; it grows to twice this.
const SLOW_POLL: Duration = Duration::from_secs(15);

/// Hidden: the fallback polling's first pause in milliseconds, for tests that must see it
/// finish a run whose callback was refused.
const ENV_SLOW_POLL_MS: &str = "FOURO_CALLBACK_POLL_MS";

/// How polling goes while a listener waits for the callback: slower, within the same limit.
pub(crate) fn slow_poll(opts: PollOptions) -> PollOptions {
    let first = std::env::var(ENV_SLOW_POLL_MS)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(SLOW_POLL);
    PollOptions {
        first_interval: first,
        max_interval: first * 2,
        ..opts
    }
}

/// A running listener and what it delivers.
pub(crate) struct Callbacks {
    listener: Listener,
    events: UnboundedReceiver<CallbackPayload>,
    url: String,
    signed: bool,
}

impl Callbacks {
    /// Listens on `addr`; with a webhook key only signed, fresh callbacks are taken. The URL
    /// sent to the service is `public_url` when given (a tunnel to `addr`), else the listener's.
    pub async fn start(
        addr: SocketAddr,
        webhook_key: Option<&ApiKey>,
        public_url: Option<&str>,
    ) -> io::Result<Callbacks> {
        let (sender, events) = unbounded_channel();
        let config = ListenerConfig {
            addr,
            webhook_key: webhook_key.map(|k| k.expose().to_owned()),
            ..ListenerConfig::default()
        };
        let listener = Listener::start(config, sender).await?;
        let url = listener.callback_url(public_url);
        Ok(Callbacks {
            listener,
            events,
            url,
            signed: webhook_key.is_some(),
        })
    }

    /// The `callBackUrl` to send.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for `task_id`'s callback from now on.
    pub fn expect(&self, task_id: &str) {
        self.listener.expect(task_id);
    }

    pub fn forget(&self, task_id: &str) {
        self.listener.forget(task_id);
    }

    /// The next callback delivered; never ends while the listener runs.
    pub async fn next(&mut self) -> CallbackPayload {
        match self.events.recv().await {
            Some(payload) => payload,
            // The listener holds the sender: this cannot end while it runs.
            None => std::future::pending().await,
        }
    }

    /// The task's final record after its callback: the service's own record (one record-info
    /// call; it also proves an unsigned callback), else, for a signed callback, the callback's
    /// content. `None`: the callback could not be confirmed, so polling goes on.
    pub async fn confirm(&self, client: &Client, payload: &CallbackPayload) -> Option<TaskRecord> {
        match crate::tasks::follow::ask(client, &payload.task_id).await {
            Ok(Some(record)) if record.status.is_final() => return Some(record),
            Ok(_) => tracing::info!(task = %payload.task_id, "callback came before the record"),
            Err(e) => tracing::info!(task = %payload.task_id, "callback not confirmed: {e}"),
        }
        self.signed.then(|| payload.record()).flatten()
    }

    /// Stops the listener, letting an answer on its way finish.
    pub async fn shutdown(self) {
        self.listener.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TaskStatus;

    #[test]
    fn a_callback_becomes_a_final_record() {
        let ok = (CallbackPayload {
            code: 200,
            msg: "done".into(),
            task_id: "t".into(),
            result_urls: vec!["http://x/1.png".into()],
        })
        .record()
        .expect("a record");
        assert_eq!(ok.status, TaskStatus::Success);
        assert_eq!(ok.result_urls, ["http://x/1.png"]);
        assert_eq!(ok.error_message, None);
        let failed = (CallbackPayload {
            code: 400,
            msg: " content policy ".into(),
            task_id: "t".into(),
            result_urls: vec![],
        })
        .record()
        .expect("a record");
        assert_eq!(failed.status, TaskStatus::GenerateFailed);
        assert_eq!(failed.error_code, Some(400));
        assert_eq!(failed.error_message.as_deref(), Some("content policy"));
        let empty = CallbackPayload {
            code: 200,
            msg: "done".into(),
            task_id: "t".into(),
            result_urls: vec![],
        };
        assert_eq!(
            empty.record(),
            None,
            "a success without an image says nothing"
        );
    }
}
