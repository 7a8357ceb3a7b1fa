//! Listing an organization's projects for lookups: every page, at the
//! spec's largest page size, through the emulator's usual auth and faults.

mod common;

use common::fast_config;
use costform_emulator::{
    Config, DEMO_ACCESS_TOKEN, Emulator, Faults, LARGE_ORG_PREFIX, LARGE_ORG_PROJECTS, projects_of,
};
use costform_http::{Client, Credentials, Error, Secret};
use costform_model::ids::OrgId;

const SMALL_ORG: &str = "5f0c8a1b2c3d4e5f6a7b8c9d";

fn client(emulator: &Emulator, token: &str) -> Client {
    let config = fast_config(
        &emulator.base_url(),
        Credentials::AccessToken(Secret::new(token)),
    );
    Client::new(config).unwrap()
}

fn large_org() -> String {
    format!("{LARGE_ORG_PREFIX}a1b2c3d4e5f6a7b8c9d0")
}

fn names_and_ids(org: &str) -> Vec<(String, String)> {
    projects_of(org)
        .into_iter()
        .map(|(id, name)| (name, id))
        .collect()
}

/// Lists `org`'s projects with the demo token, as (name, id).
async fn list(emulator: &Emulator, org: &str) -> Vec<(String, String)> {
    client(emulator, DEMO_ACCESS_TOKEN)
        .list_projects(&OrgId::parse(org).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|project| (project.name, project.id))
        .collect()
}

#[tokio::test]
async fn every_page_of_a_large_org_is_read_at_500_a_page() {
    let emulator = Emulator::start(Config::demo()).await.unwrap();
    let org = large_org();
    let read = list(&emulator, &org).await;
    assert_eq!(read.len(), LARGE_ORG_PROJECTS);
    assert_eq!(read, names_and_ids(&org));
    let queries: Vec<String> = emulator
        .request_log()
        .into_iter()
        .filter(|request| request.path.ends_with("/groups"))
        .filter_map(|request| request.query)
        .collect();
    // Ten full pages, then the empty eleventh that ends the listing.
    let expected: Vec<String> = (1..=11)
        .map(|page| format!("itemsPerPage=500&pageNum={page}"))
        .collect();
    assert_eq!(queries, expected);
}

#[tokio::test]
async fn a_small_org_is_one_short_page() {
    let emulator = Emulator::start(Config::demo()).await.unwrap();
    assert_eq!(list(&emulator, SMALL_ORG).await, names_and_ids(SMALL_ORG));
    assert_eq!(emulator.request_log().len(), 1);
}

#[tokio::test]
async fn pages_that_fail_are_retried_and_none_is_lost() {
    let emulator = Emulator::start(Config::demo()).await.unwrap();
    emulator.set_faults(Faults {
        server_error_every: Some(3),
        ..Faults::default()
    });
    let org = large_org();
    assert_eq!(list(&emulator, &org).await, names_and_ids(&org));
    let statuses: Vec<Option<u16>> = emulator
        .request_log()
        .into_iter()
        .map(|request| request.status)
        .collect();
    assert!(statuses.contains(&Some(500)), "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == Some(200))
            .count(),
        11
    );
}

#[tokio::test]
async fn refused_credentials_are_an_error_not_an_empty_list() {
    let emulator = Emulator::start(Config::demo()).await.unwrap();
    let client = client(&emulator, "not-a-valid-token");
    let error = client
        .list_projects(&OrgId::parse(SMALL_ORG).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Api(_) | Error::Auth { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(401), "{error}");
}
