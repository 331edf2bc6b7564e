//! fouro: a terminal client for the 4o Image API, with a built-in emulator of the service.

pub mod api;
pub mod callback;
pub mod cli;
pub mod config;
pub mod emulator;
pub mod start;
pub mod store;
pub mod tasks;
pub mod tui;

/// reqwest is built without a default TLS provider (ring instead of aws-lc): install ring once,
/// before any HTTP client is built.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
