//! The accept loop and per-connection serving. Connections are served with
//! hyper directly (not `axum::serve`) so that a fault can abort one connection
//! without any response, and a bare `102 Processing` can be written raw.

use std::convert::Infallible;
use std::future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jiff::Timestamp;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::Service;

use crate::api_error::ApiError;
use crate::config::Fault;
use crate::delivery::DeliveryBody;
use crate::log::{LoggedRequest, redacted_headers};
use crate::rate_limit::Metered;
use crate::routes::{BareProcessing, IssuedTokenMark};
use crate::state::Shared;
use crate::stream::SharedStream;

/// Serves connections until the task running it is aborted; aborting it also
/// aborts every connection (they live in its `JoinSet`).
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, Arc::clone(&shared), router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    // Out of file descriptors or similar: give the system a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// What the connection task does after taking the socket back from hyper.
enum Takeover {
    /// Close without answering (the drop fault).
    Drop,
    /// Write `HTTP/1.1 102 Processing` for logged request `index`, then close.
    BareProcessing { index: usize },
}

/// Lets a request handler hand the socket back to the connection task once.
type TakeoverSender = Arc<Mutex<Option<oneshot::Sender<Takeover>>>>;

async fn serve(stream: TcpStream, shared: Arc<Shared>, router: Router) {
    let stream = SharedStream::new(stream);
    let (sender, receiver) = oneshot::channel();
    let sender: TakeoverSender = Arc::new(Mutex::new(Some(sender)));
    let service = {
        let shared = Arc::clone(&shared);
        service_fn(move |request| {
            handle(
                request,
                Arc::clone(&shared),
                router.clone(),
                Arc::clone(&sender),
            )
        })
    };
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream.clone()), service);
    let takeover = tokio::select! {
        _ = connection => return,
        Ok(takeover) = receiver => takeover,
    };
    if let Takeover::BareProcessing { index } = takeover {
        let mut stream = stream;
        let written = stream.write_all(b"HTTP/1.1 102 Processing\r\n\r\n").await;
        if written.is_ok() {
            shared.mark_delivered(index);
        }
    }
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
    mut router: Router,
    takeover: TakeoverSender,
) -> Result<Response<DeliveryBody>, Infallible> {
    let uri = request.uri();
    let index = shared.log_request(LoggedRequest {
        at: Timestamp::now(),
        method: request.method().to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: redacted_headers(request.headers()),
        status: None,
        dropped: false,
        token: None,
        delivered: false,
    });
    let fault = if uri.path().starts_with("/api/atlas/v2/") {
        let latency = shared.faults().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        shared.next_fault()
    } else {
        None
    };
    let metered = match fault {
        None => shared.buckets.take(uri.path(), Instant::now()),
        Some(_) => None,
    };
    let mut response = match fault {
        Some(Fault::Drop) => {
            shared.finish_request(index, None, None);
            return take_over(&takeover, Takeover::Drop).await;
        }
        Some(Fault::RateLimit { retry_after_secs }) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED_TOKEN_BUCKET",
                "too many requests: retry after the Retry-After delay",
            )
            .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Some(Fault::ServerError) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "an injected server error",
        )
        .into_response(),
        None => match metered.as_ref().and_then(Metered::refusal) {
            Some(refusal) => refusal,
            None => match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        },
    };
    if let Some(metered) = &metered {
        metered.add_headers(response.headers_mut());
    }
    if response.extensions().get::<BareProcessing>().is_some() {
        shared.finish_request(index, Some(StatusCode::PROCESSING.as_u16()), None);
        return take_over(&takeover, Takeover::BareProcessing { index }).await;
    }
    let token = response
        .extensions_mut()
        .remove::<IssuedTokenMark>()
        .map(|mark| mark.0);
    shared.finish_request(index, Some(response.status().as_u16()), token);
    Ok(response.map(|body: Body| DeliveryBody::new(body, shared, index)))
}

/// Hands the socket to the connection task, which drops this request's future.
async fn take_over(
    sender: &TakeoverSender,
    takeover: Takeover,
) -> Result<Response<DeliveryBody>, Infallible> {
    let sender = sender
        .lock()
        .expect("takeover mutex poisoned by a panicking handler")
        .take();
    if let Some(sender) = sender {
        // The receiver only goes away with the connection, which ends this future too.
        let _ = sender.send(takeover);
    }
    future::pending().await
}
