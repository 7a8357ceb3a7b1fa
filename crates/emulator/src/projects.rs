//! `GET /api/atlas/v2/orgs/{orgId}/groups`: the projects of an organization,
//! paginated as `PaginatedAtlasGroupView`.
//!
//! Deterministic, a function of the orgId only, so tests can compute what is
//! served: an org whose id starts with [`LARGE_ORG_PREFIX`] has
//! [`LARGE_ORG_PROJECTS`] projects (ten full pages of 500), named
//! `prod-0001`, `dev-0002`, ... alternately; any other org has 4 to 11
//! projects, the count from the id's last hex digit, named from
//! [`PROJECT_NAMES`] in order (so `prod-` and other names are mixed). Ids are
//! the first 24 hex digits of SHA-256 of `orgId/index`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api_error::{ApiError, FieldViolation};
use crate::auth::refuse_unauthenticated;
use crate::media::{self, Representation};
use crate::state::Shared;
use crate::validation::validate_org_id;

/// The route, as the spec writes it.
pub(crate) const PATH: &str = "/api/atlas/v2/orgs/{org_id}/groups";

/// Orgs whose id starts with this have [`LARGE_ORG_PROJECTS`] projects.
pub const LARGE_ORG_PREFIX: &str = "0b16";

/// How many projects a large org has: ten full pages at the largest page size.
pub const LARGE_ORG_PROJECTS: usize = 5_000;

/// The names of a small org's projects, in the order they are listed.
pub const PROJECT_NAMES: [&str; 11] = [
    "prod-web",
    "staging-web",
    "prod-api",
    "dev-sandbox",
    "prod-data",
    "analytics",
    "staging-api",
    "prod-search",
    "dev-tools",
    "prod-billing",
    "qa",
];

/// The query parameters the route reads; others (`pretty`, `envelope`) are accepted and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageQuery {
    items_per_page: Option<String>,
    page_num: Option<String>,
    include_count: Option<String>,
    /// A case-insensitive prefix of the project name, as the spec says.
    name: Option<String>,
}

/// The projects of `org_id`, as (id, name), in listing order.
pub fn projects_of(org_id: &str) -> Vec<(String, String)> {
    let names: Vec<String> = if org_id.starts_with(LARGE_ORG_PREFIX) {
        (1..=LARGE_ORG_PROJECTS)
            .map(|n| format!("{}-{n:04}", if n % 2 == 1 { "prod" } else { "dev" }))
            .collect()
    } else {
        let last = org_id
            .chars()
            .last()
            .and_then(|c| c.to_digit(16))
            .unwrap_or(0);
        let count = 4 + usize::try_from(last % 8).unwrap_or(0);
        PROJECT_NAMES[..count]
            .iter()
            .map(|name| (*name).to_owned())
            .collect()
    };
    names
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let digest = Sha256::digest(format!("{org_id}/{index}"));
            (hex::encode(digest)[..24].to_owned(), name)
        })
        .collect()
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(org_id): Path<String>,
    Query(query): Query<PageQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(rejection) = refuse_unauthenticated(&shared, &method, &uri, &headers) {
        return rejection;
    }
    let outcome = (|| {
        media::negotiate(&headers, &[Representation::Json])?;
        validate_org_id(&org_id)?;
        let per_page = parameter("itemsPerPage", query.items_per_page.as_deref(), 100, 500)?;
        let page = parameter("pageNum", query.page_num.as_deref(), 1, usize::MAX)?;
        let prefix = query.name.as_deref().unwrap_or_default().to_lowercase();
        let all: Vec<(String, String)> = projects_of(&org_id)
            .into_iter()
            .filter(|(_, name)| name.to_lowercase().starts_with(&prefix))
            .collect();
        let start = page
            .saturating_sub(1)
            .saturating_mul(per_page)
            .min(all.len());
        let end = start.saturating_add(per_page).min(all.len());
        let results: Vec<_> = all[start..end]
            .iter()
            .map(|(id, name)| {
                json!({ "id": id, "name": name, "orgId": org_id, "clusterCount": 1, "created": "2024-01-15T00:00:00Z" })
            })
            .collect();
        let mut body = json!({ "links": [], "results": results });
        if query.include_count.as_deref() != Some("false") {
            body["totalCount"] = json!(all.len());
        }
        Ok::<_, ApiError>(body)
    })();
    match outcome {
        Ok(body) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, media::JSON)],
            body.to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// A positive integer query parameter within `1..=max`, `default` when absent.
fn parameter(
    name: &str,
    text: Option<&str>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(value) if (1..=max).contains(&value) => Ok(value),
        _ => Err(ApiError::validation(
            "INVALID_PARAMETER",
            vec![FieldViolation::new(
                name,
                format!("must be an integer from 1 to {max}"),
            )],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_orgs_have_a_few_named_projects_and_large_ones_ten_pages() {
        let small = projects_of("5f0c8a1b2c3d4e5f6a7b8c9d");
        assert_eq!(small.len(), 4 + 0xd % 8);
        assert_eq!(small[0].1, "prod-web");
        assert!(small.iter().all(|(id, _)| id.len() == 24));
        assert_eq!(small, projects_of("5f0c8a1b2c3d4e5f6a7b8c9d"));
        let large = projects_of("0b16a1b2c3d4e5f6a7b8c9d0");
        assert_eq!(large.len(), LARGE_ORG_PROJECTS);
        assert_eq!(
            (large[0].1.as_str(), large[1].1.as_str()),
            ("prod-0001", "dev-0002")
        );
    }
}
