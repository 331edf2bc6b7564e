//! Outgoing HTTP: references, URL uploads and callbacks. Only loopback hosts are ever
//! contacted: the emulator must stay offline whatever URL a test or a user hands it.

use std::net::IpAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use url::{Host, Url};

/// Whether `url` is http(s) on 127.0.0.0/8, ::1 or localhost.
pub(crate) fn is_loopback(url: &Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost"
                || d.ends_with(".localhost")
                || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// Parses `raw` and checks it is loopback.
pub(crate) fn loopback_url(raw: &str) -> Option<Url> {
    Url::parse(raw.trim()).ok().filter(is_loopback)
}

/// The client for everything the emulator fetches or posts: no proxy (a proxy is another
/// host), redirects followed only to loopback.
pub(crate) fn client() -> reqwest::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 || !is_loopback(attempt.url()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .user_agent(concat!("fouro-emulator/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[derive(Debug)]
pub(crate) enum FetchError {
    /// The body is larger than allowed.
    TooLarge,
    /// Not loopback, unreachable, an error status, or cut off.
    Failed(String),
}

/// GETs a loopback URL, keeping at most `max` bytes of body.
pub(crate) async fn get_limited(
    client: &reqwest::Client,
    url: &str,
    max: u64,
    timeout: Duration,
) -> Result<Bytes, FetchError> {
    let Some(url) = loopback_url(url) else {
        return Err(FetchError::Failed(
            "not a loopback http(s) URL: the emulator never contacts other hosts".into(),
        ));
    };
    let fetch = async {
        let mut response = client
            .get(url)
            .send()
            .await
            .map_err(|e| FetchError::Failed(describe(&e)))?;
        if !response.status().is_success() {
            return Err(FetchError::Failed(format!("HTTP {}", response.status())));
        }
        if response.content_length().is_some_and(|n| n > max) {
            return Err(FetchError::TooLarge);
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Failed(describe(&e)))?
        {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .unwrap_or_else(|_| {
            Err(FetchError::Failed(format!(
                "no answer within {} s",
                timeout.as_secs()
            )))
        })
}

/// A reqwest error with its causes, on one line.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_passes() {
        for ok in [
            "http://127.0.0.1:1/a.png",
            "http://127.9.9.9/a",
            "http://[::1]:8/x",
            "https://localhost/x",
            "http://LOCALHOST./x",
        ] {
            assert!(loopback_url(ok).is_some(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/a",
            "http://example.com/a.png",
            "ftp://127.0.0.1/a",
            "file:///etc/passwd",
            "nonsense",
            "http://127.0.0.1.nip.io/",
        ] {
            assert!(loopback_url(bad).is_none(), "{bad}");
        }
    }
}
