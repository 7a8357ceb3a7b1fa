//! The axum routes: the two Cost Explorer paths, the invoice report paths
//! (see [`crate::invoices`]) and the OAuth token endpoint.
//!
//! Documented choices on `envelope=true`: every answer of the result GET after
//! authentication (processing, results, 400, 404, 406) is HTTP 200 with
//! `{"status": <status>, "content": <body>}`, as Atlas documents the envelope
//! for clients that cannot read status lines. The create-query POST answers
//! as its spec says whatever `envelope` is: 202 with `{"token": ...}`, errors
//! with their own status (the spec lists no 200 for it). 401 and fault answers
//! (429, 500) keep their real status and bare ApiError. Unknown, expired and
//! other-org tokens answer 404 `RESOURCE_NOT_FOUND`; a token that breaks the
//! spec's path rule (64 characters) answers 400 `INVALID_PARAMETER` naming
//! `token`, as the orgId does.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::auth::refuse_unauthenticated;
use crate::invoices;
use crate::media::{self, Representation};
use crate::oauth;
use crate::state::{Poll, Shared};
use crate::usage::{synthetic_usage, synthetic_usage_csv};
use crate::validation::{validate_body, validate_org_id, validate_token};

/// Response extension: the token a create-query answer carries, for the request log.
#[derive(Debug, Clone)]
pub(crate) struct IssuedTokenMark(pub String);

/// Response extension: answer with a bare `102 Processing` status line, which
/// hyper refuses to send, so the connection layer writes it itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BareProcessing;

const USAGE: &str = "/api/atlas/v2/orgs/{org_id}/billing/costExplorer/usage";
const INVOICES: &str = "/api/atlas/v2/orgs/{org_id}/invoices";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/oauth/token", post(oauth::token))
        .route("/api/oauth/revoke", post(oauth::revoke))
        .route(USAGE, post(create_query))
        .route(&format!("{USAGE}/{{token}}"), get(read_usage))
        .route(crate::projects::PATH, get(crate::projects::list))
        .route(INVOICES, get(invoices::list_invoices))
        .route(
            &format!("{INVOICES}/{{invoice_id}}/reports"),
            post(invoices::create_report),
        )
        .route(
            &format!("{INVOICES}/{{invoice_id}}/reports/{{report_id}}"),
            get(invoices::read_report),
        )
        .fallback(|| async { ApiError::not_found("no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this method is not allowed on this resource",
            )
        })
        .with_state(shared)
}

/// A handler's answer before the envelope decision.
struct Reply {
    status: StatusCode,
    media_type: &'static str,
    body: Value,
}

async fn create_query(
    State(shared): State<Arc<Shared>>,
    Path(org_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let outcome = (|| {
        media::negotiate(&headers, &[Representation::Json])?;
        media::require_json_content(&headers)?;
        validate_org_id(&org_id)?;
        let body: Value = serde_json::from_slice(&body).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_JSON",
                format!("the request body is not valid JSON: {error}"),
            )
        })?;
        validate_body(&body)?;
        Ok(shared.issue_token(&org_id, body))
    })();
    match outcome {
        Ok(token) => {
            let reply = Reply {
                status: StatusCode::ACCEPTED,
                media_type: media::JSON,
                body: json!({ "token": token }),
            };
            let mut response = reply.into_response(false);
            response.extensions_mut().insert(IssuedTokenMark(token));
            response
        }
        Err(error) => Reply::error(&error).into_response(false),
    }
}

async fn read_usage(
    State(shared): State<Arc<Shared>>,
    Path((org_id, token)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let envelope = wants_envelope(&uri);
    let outcome = (|| {
        let representation =
            media::negotiate(&headers, &[Representation::Json, Representation::Csv])?;
        validate_org_id(&org_id)?;
        validate_token(&token)?;
        let not_found =
            || ApiError::not_found(format!("no Cost Explorer query with token {token}"));
        match shared.poll(&org_id, &token) {
            Poll::NotFound => Err(not_found()),
            Poll::Processing => Ok(None),
            Poll::Ready { body } => Ok(Some(ready(&org_id, &body, representation))),
        }
    })();
    match outcome {
        Ok(Some(reply)) => reply.into_response(envelope),
        Ok(None) if envelope => Reply {
            status: StatusCode::PROCESSING,
            media_type: media::JSON,
            body: json!({}),
        }
        .into_response(true),
        Ok(None) => {
            let mut response = StatusCode::OK.into_response();
            response.extensions_mut().insert(BareProcessing);
            response
        }
        Err(error) => Reply::error(&error).into_response(envelope),
    }
}

fn ready(org_id: &str, body: &Value, representation: Representation) -> Reply {
    let body = match representation {
        Representation::Json => synthetic_usage(org_id, body),
        Representation::Csv => Value::String(synthetic_usage_csv(org_id, body)),
    };
    Reply {
        status: StatusCode::OK,
        media_type: representation.media_type(),
        body,
    }
}

fn wants_envelope(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(key, value)| key == "envelope" && value.eq_ignore_ascii_case("true"))
        })
    })
}

impl Reply {
    fn error(error: &ApiError) -> Self {
        Self {
            status: error.status,
            media_type: "application/json",
            body: error.body(),
        }
    }

    fn into_response(self, envelope: bool) -> Response {
        if envelope {
            let body = json!({ "status": self.status.as_u16(), "content": self.body });
            let headers = [(CONTENT_TYPE, media::JSON)];
            return (StatusCode::OK, headers, body.to_string()).into_response();
        }
        let text = match self.body {
            Value::String(text) => text,
            other => other.to_string(),
        };
        (self.status, [(CONTENT_TYPE, self.media_type)], text).into_response()
    }
}
