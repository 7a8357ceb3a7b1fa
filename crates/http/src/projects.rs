//! The projects of an organization (`GET /orgs/{orgId}/groups`), every
//! page, for `kind: projects` lookups.
//!
//! Pages are asked for at the spec's maximum, `itemsPerPage=500`, and read
//! until one comes back short: `totalCount` is documented as an estimate, so
//! it is not what ends the listing. A server that never ends it is stopped
//! after [`MAX_PAGES`] pages rather than read forever.

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use costform_model::ids::{AtlasId, OrgId};
use costform_model::lookup::Project;

use crate::client::{Client, endpoint, unexpected};
use crate::error::Error;
use crate::transport::Outgoing;
use crate::usage::JSON_MEDIA_TYPE;

/// The page size asked for: the most the spec allows.
const PROJECTS_PAGE_SIZE: usize = 500;

/// Half a million projects: far beyond any organization, and a bound on a
/// server whose pages never run short.
const MAX_PAGES: u32 = 1_000;

/// `PaginatedAtlasGroupView`: only what a lookup keeps is read.
#[derive(Deserialize)]
struct Page {
    results: Vec<Group>,
}

/// `Group`: `id` and `name` are required by the spec.
#[derive(Deserialize)]
struct Group {
    id: String,
    name: String,
}

impl Client {
    /// Every project of `org_id`, in the order Atlas lists them.
    pub async fn list_projects(&self, org_id: &OrgId) -> Result<Vec<Project>, Error> {
        let mut projects = Vec::new();
        for page in 1..=MAX_PAGES {
            let path = format!(
                "/api/atlas/v2/orgs/{org_id}/groups?itemsPerPage={PROJECTS_PAGE_SIZE}&pageNum={page}"
            );
            let request = Outgoing {
                method: Method::GET,
                url: endpoint(&self.base_url(), &path)?,
                accept: JSON_MEDIA_TYPE,
                content_type: None,
                body: Vec::new(),
                reads_result: false,
            };
            let exchange = self.send(&request).await?;
            if exchange.status != StatusCode::OK {
                return Err(unexpected(&request, &exchange));
            }
            let invalid = |message: String| Error::InvalidResponse {
                url: request.url.to_string(),
                message,
            };
            let page: Page = serde_json::from_slice(&exchange.body).map_err(|error| {
                invalid(format!(
                    "expected `{{\"results\": [{{\"id\", \"name\"}}]}}`: {error}"
                ))
            })?;
            let count = page.results.len();
            for group in page.results {
                // Not the id itself: a hostile answer could be anything.
                AtlasId::parse(&group.id).map_err(|_| {
                    invalid(format!(
                        "a project id is not 24 lowercase hex digits ({} bytes)",
                        group.id.len()
                    ))
                })?;
                projects.push(Project {
                    id: group.id,
                    name: group.name,
                });
            }
            if count < PROJECTS_PAGE_SIZE {
                return Ok(projects);
            }
        }
        Err(Error::InvalidResponse {
            url: format!("/api/atlas/v2/orgs/{org_id}/groups"),
            message: format!(
                "more than {MAX_PAGES} full pages of projects: the listing does not end"
            ),
        })
    }
}
