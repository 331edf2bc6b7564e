//! Checking a callback's signature: `X-Webhook-Signature` is
//! base64(HMAC-SHA256(key, taskId + "." + timestamp)) and `X-Webhook-Timestamp` is unix seconds.
//! The signature is compared in constant time and the timestamp must be near now, so that a
//! captured callback cannot be replayed later.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far (in seconds, either way) a callback's timestamp may be from now.
pub const MAX_SKEW_SECS: u64 = 300;

pub const TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature";

/// Why a callback's signature was refused. The messages never contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the callback is not signed: no {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")]
    Unsigned,
    #[error("{TIMESTAMP_HEADER} is not a whole number of unix seconds")]
    BadTimestamp,
    #[error(
        "the callback's timestamp is {skew_secs} s away from this machine's clock \
         (at most {MAX_SKEW_SECS} s allowed): a replay, or a clock out of sync"
    )]
    Stale { skew_secs: u64 },
    #[error("the signature does not match: a forgery, or a different webhook key")]
    BadSignature,
}

/// Checks that `signature` (base64, as in the header) signs `task_id` and `timestamp` with `key`,
/// and that `timestamp` is at most [`MAX_SKEW_SECS`] away from `now` (both unix seconds).
pub fn verify(
    key: &str,
    task_id: &str,
    timestamp: i64,
    signature: &str,
    now: i64,
) -> Result<(), Rejection> {
    let skew_secs = now.abs_diff(timestamp);
    if skew_secs > MAX_SKEW_SECS {
        return Err(Rejection::Stale { skew_secs });
    }
    let tag = STANDARD
        .decode(signature.trim())
        .map_err(|_| Rejection::BadSignature)?;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return Err(Rejection::BadSignature);
    };
    mac.update(task_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    // Constant time, and a tag of the wrong length is refused.
    mac.verify_slice(&tag).map_err(|_| Rejection::BadSignature)
}

/// The timestamp and signature headers of a request.
pub(crate) fn signed_headers(headers: &HeaderMap) -> Result<(i64, &str), Rejection> {
    let (Some(timestamp), Some(signature)) =
        (headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER))
    else {
        return Err(Rejection::Unsigned);
    };
    let timestamp = timestamp
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .ok_or(Rejection::BadTimestamp)?;
    let signature = signature.to_str().map_err(|_| Rejection::BadSignature)?;
    Ok((timestamp, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The emulator's test vector, computed independently with Python's hmac module.
    const SIG: &str = "L0bOEDI2F0TTcIWJW19jsa3YK9SO3+Xj11qbSJsM1ww=";
    const TS: i64 = 1_700_000_000;

    #[test]
    fn accepts_a_good_signature_within_the_window() {
        assert_eq!(verify("secret", "task_4o_abc", TS, SIG, TS), Ok(()));
        let edge = MAX_SKEW_SECS as i64;
        assert_eq!(verify("secret", "task_4o_abc", TS, SIG, TS + edge), Ok(()));
        assert_eq!(verify("secret", "task_4o_abc", TS, SIG, TS - edge), Ok(()));
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let edge = MAX_SKEW_SECS as i64;
        assert_eq!(
            verify("secret", "task_4o_abc", TS, SIG, TS + edge + 1),
            Err(Rejection::Stale { skew_secs: 301 })
        );
        assert_eq!(
            verify("secret", "task_4o_abc", TS, SIG, TS - edge - 1),
            Err(Rejection::Stale { skew_secs: 301 })
        );
        assert!(matches!(
            verify("secret", "t", i64::MIN, SIG, i64::MAX),
            Err(Rejection::Stale { .. })
        ));
    }

    #[test]
    fn refuses_wrong_key_task_timestamp_and_garbage() {
        let bad = Err(Rejection::BadSignature);
        assert_eq!(verify("other", "task_4o_abc", TS, SIG, TS), bad);
        assert_eq!(verify("secret", "task_4o_abd", TS, SIG, TS), bad);
        assert_eq!(verify("secret", "task_4o_abc", TS + 1, SIG, TS), bad);
        assert_eq!(verify("secret", "task_4o_abc", TS, "not base64!", TS), bad);
        assert_eq!(verify("secret", "task_4o_abc", TS, "", TS), bad);
        // A truncated tag is not accepted as a prefix match.
        let short = STANDARD.encode(&STANDARD.decode(SIG).unwrap()[..16]);
        assert_eq!(verify("secret", "task_4o_abc", TS, &short, TS), bad);
    }

    #[test]
    fn reads_the_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(signed_headers(&h), Err(Rejection::Unsigned));
        h.insert(TIMESTAMP_HEADER, "1700000000".parse().unwrap());
        assert_eq!(signed_headers(&h), Err(Rejection::Unsigned));
        h.insert(SIGNATURE_HEADER, SIG.parse().unwrap());
        assert_eq!(signed_headers(&h), Ok((TS, SIG)));
        for bad in ["", "-5", "+5", "12.5", "soon", "99999999999999999999999"] {
            h.insert(TIMESTAMP_HEADER, bad.parse().unwrap());
            assert_eq!(signed_headers(&h), Err(Rejection::BadTimestamp), "{bad}");
        }
    }
}
