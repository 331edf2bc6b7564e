//! The HTTP client in use, in a watch channel: a new key empties it while the new client is
//! built on a blocking thread, and every task started meanwhile waits for the new one.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::blocking;
use crate::api::{Client, ClientConfig};

/// The client in use, or the one to fall back to while a new key's client is being built.
#[derive(Debug, Clone)]
pub(super) enum ClientSlot {
    Ready(Client),
    /// Key change number `key` is being built; `last` is used again if that fails.
    Building {
        last: Client,
        key: u64,
    },
}

impl ClientSlot {
    pub(super) fn last(&self) -> &Client {
        match self {
            ClientSlot::Ready(c) | ClientSlot::Building { last: c, .. } => c,
        }
    }
}

pub(super) type Clients = watch::Receiver<ClientSlot>;

/// Changes the client all new work uses: the settings (base URL, upload URL, key) are kept
/// for the next change, and the slot says "building" until the new client is ready, so that
/// nothing asked for after the change goes out with the old settings. Shared with the tasks
/// that switch accounts.
#[derive(Debug, Clone)]
pub(super) struct Switch {
    pub(super) clients: watch::Sender<ClientSlot>,
    pub(super) config: Arc<Mutex<ClientConfig>>,
    pub(super) changes: Arc<AtomicU64>,
}

impl Switch {
    pub(super) fn config(&self) -> ClientConfig {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts using `config`; the returned future builds the client (on the blocking pool)
    /// and settles the slot. `Err(why)`: it could not be built, and the old one stays.
    pub(super) fn begin(
        &self,
        config: ClientConfig,
    ) -> impl Future<Output = Result<(), String>> + Send + 'static {
        let previous = std::mem::replace(
            &mut *self.config.lock().unwrap_or_else(|p| p.into_inner()),
            config.clone(),
        );
        let change = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        let last = self.clients.borrow().last().clone();
        self.clients
            .send_replace(ClientSlot::Building { last, key: change });
        let this = self.clone();
        async move {
            let built = blocking(move || Client::new(config).map_err(|e| e.to_string()))
                .await
                .and_then(|r| r);
            let mut rejected = None;
            // Only the newest change settles the slot.
            this.clients.send_if_modified(|s| match s {
                ClientSlot::Building { last, key } if *key == change => {
                    *s = match &built {
                        Ok(client) => ClientSlot::Ready(client.clone()),
                        Err(why) => {
                            rejected = Some(why.clone());
                            ClientSlot::Ready(last.clone())
                        }
                    };
                    true
                }
                _ => false,
            });
            match rejected {
                Some(why) => {
                    *this.config.lock().unwrap_or_else(|p| p.into_inner()) = previous;
                    Err(why)
                }
                None => Ok(()),
            }
        }
    }
}

/// The client to use now, waiting while a new key's is being built; `None` once the worker
/// is gone.
pub(super) async fn current(mut clients: Clients) -> Option<Client> {
    let slot = clients
        .wait_for(|s| matches!(s, ClientSlot::Ready(_)))
        .await
        .ok()?;
    Some(slot.last().clone())
}
