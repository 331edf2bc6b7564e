//! An in-process stand-in for the 4o Image service, faithful to `../shared/api-contract.md`,
//! quirks included, so that the client can be tested (and demonstrated) offline.
//!
//! It serves the service's endpoints with the same envelope, codes and limits, makes real PNGs
//! for every task, hosts uploaded files, delivers signed callbacks, and offers test controls
//! under `/emulator/` (faults, modes, forced outcomes, quirks, credits, stats).
//!
//! It never contacts a host that is not loopback.

mod callbacks;
mod control;
mod faults;
mod fetch;
mod files;
mod generate;
mod images;
mod records;
mod reply;
mod routes;
mod server;
mod state;
mod tasks;
mod uploads;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use state::Shared;

/// How long a graceful shutdown waits for open requests before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the emulated service looks like.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Accepted API keys.
    pub keys: Vec<String>,
    /// Starting credit balance.
    pub credits: i64,
    /// Credits spent per variant.
    pub cost: i64,
    /// Time from submit to the end of a task.
    pub duration: Duration,
    /// Chance (0.0..=1.0) that a task ends `GENERATE_FAILED`, decided at submit.
    pub fail_rate: f64,
    /// HMAC key for signing callbacks; unsigned when `None`.
    pub webhook_key: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            keys: vec!["demo-key".into()],
            credits: 100,
            cost: 6,
            duration: Duration::from_secs(8),
            fail_rate: 0.0,
            webhook_key: None,
        }
    }
}

/// A running emulator. Dropping it stops it; [`Emulator::shutdown`] stops it and waits.
pub struct Emulator {
    addr: SocketAddr,
    base_url: String,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the listener, spawns the server on the current runtime and returns at once.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = base_url_for(addr);
        let shutdown = CancellationToken::new();
        let shared = Arc::new(Shared::new(config, base_url.clone(), shutdown.clone())?);
        let router = routes::router(shared);
        let server = tokio::spawn(server::serve(
            listener,
            router,
            shutdown.clone(),
            SHUTDOWN_GRACE,
        ));
        tracing::info!(%addr, "emulator listening");
        Ok(Emulator {
            addr,
            base_url,
            shutdown,
            server: Some(server),
        })
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Stops accepting, lets open requests finish (briefly), stops background work, and waits.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take()
            && let Err(e) = server.await
        {
            tracing::warn!("emulator server task ended badly: {e}");
        }
        tracing::info!(addr = %self.addr, "emulator stopped");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn base_url_for(addr: SocketAddr) -> String {
    // An unspecified bind address is reachable through loopback.
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
