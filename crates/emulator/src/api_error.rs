//! The Atlas `ApiError` body, which every error answer of the emulator carries.

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// One violated field, as Atlas lists them under `badRequestDetail.fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// An error answer: the HTTP status plus the `ApiError` JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub detail: String,
    pub fields: Vec<FieldViolation>,
}

impl ApiError {
    pub fn new(status: StatusCode, error_code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            error_code,
            detail: detail.into(),
            fields: Vec::new(),
        }
    }

    /// A 400 listing every violated field, so a client sees all problems at once.
    pub fn validation(error_code: &'static str, fields: Vec<FieldViolation>) -> Self {
        let detail = fields
            .iter()
            .map(|violation| format!("{}: {}", violation.field, violation.description))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            fields,
            ..Self::new(StatusCode::BAD_REQUEST, error_code, detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", detail)
    }

    /// The `ApiError` JSON, with `badRequestDetail` only when fields were named.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({
            "error": self.status.as_u16(),
            "errorCode": self.error_code,
            "reason": self.status.canonical_reason().unwrap_or("Error"),
            "detail": self.detail,
            "parameters": [],
        });
        if !self.fields.is_empty()
            && let Some(object) = body.as_object_mut()
        {
            object.insert(
                "badRequestDetail".to_owned(),
                serde_json::json!({ "fields": self.fields }),
            );
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let headers = [(CONTENT_TYPE, "application/json")];
        (self.status, headers, self.body().to_string()).into_response()
    }
}
