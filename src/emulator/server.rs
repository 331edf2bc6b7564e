//! The accept loop. Connections are served with hyper directly (not `axum::serve`) so that each
//! request carries a kill switch for its connection: the `reset` fault drops the connection with
//! SO_LINGER 0, which the peer sees as a TCP RST with no response.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Put in every request's extensions: cancelling it kills the request's connection at once.
#[derive(Clone)]
pub(crate) struct ConnKill(pub CancellationToken);

pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!(%peer, "connection accepted");
                    conns.spawn(serve_connection(stream, router.clone(), shutdown.clone(), grace));
                }
                Err(e) => {
                    // Usually EMFILE or a connection reset before accept: keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(grace + Duration::from_millis(500), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.shutdown().await;
    }
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let _ = stream.set_nodelay(true);
    // A second handle on the same socket, kept to set SO_LINGER 0 just before a `reset` drop.
    let (stream, twin) = match split_twin(stream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::warn!("cannot prepare connection: {e}");
            return;
        }
    };
    let kill = CancellationToken::new();
    let request_kill = ConnKill(kill.clone());
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(request_kill.clone());
        let router = router.clone();
        // The router's error type is `Infallible`: every request gets a response.
        async move { router.oneshot(req.map(axum::body::Body::new)).await }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = Box::pin(conn);
    let mut grace_deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended with an error: {e}");
                }
                break;
            }
            _ = kill.cancelled() => {
                if let Err(e) = socket2::SockRef::from(&twin).set_linger(Some(Duration::ZERO)) {
                    tracing::debug!("cannot set SO_LINGER 0: {e}");
                }
                tracing::debug!("connection reset on purpose");
                break;
            }
            _ = shutdown.cancelled(), if grace_deadline.is_none() => {
                conn.as_mut().graceful_shutdown();
                grace_deadline = Some(tokio::time::Instant::now() + grace);
            }
            _ = sleep_until(grace_deadline), if grace_deadline.is_some() => break,
        }
    }
    // The connection (and its file descriptor) goes first; closing the twin then closes the
    // socket, with an RST when the linger was set to zero.
    drop(conn);
    drop(twin);
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn split_twin(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let twin = std_stream.try_clone()?;
    std_stream.set_nonblocking(true)?;
    Ok((TcpStream::from_std(std_stream)?, twin))
}
