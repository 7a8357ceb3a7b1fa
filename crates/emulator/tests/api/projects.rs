//! `GET /orgs/{orgId}/groups`: pages, the name prefix filter, validation and
//! auth, as the spec's `getOrgGroups` states them.

use costform_emulator::{DEMO_ACCESS_TOKEN, JSON_MEDIA_TYPE, LARGE_ORG_PREFIX, projects_of};
use serde_json::Value;

use crate::support::{ORG, client, start};

async fn get(
    emulator: &costform_emulator::Emulator,
    org: &str,
    query: &str,
    token: &str,
) -> (u16, Value) {
    let url = format!(
        "{}/api/atlas/v2/orgs/{org}/groups?{query}",
        emulator.base_url()
    );
    let response = client()
        .get(url)
        .header("Accept", JSON_MEDIA_TYPE)
        .bearer_auth(token)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn pages_cut_the_list_and_count_it() {
    let emulator = start().await;
    let org = format!("{LARGE_ORG_PREFIX}a1b2c3d4e5f6a7b8c9d0");
    let (status, body) = get(
        &emulator,
        &org,
        "itemsPerPage=500&pageNum=10",
        DEMO_ACCESS_TOKEN,
    )
    .await;
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 500);
    assert_eq!(results[0]["name"], projects_of(&org)[4500].1);
    assert_eq!(results[0]["orgId"], org);
    assert_eq!(body["totalCount"], 5000);
    let (_, past) = get(
        &emulator,
        &org,
        "itemsPerPage=500&pageNum=11",
        DEMO_ACCESS_TOKEN,
    )
    .await;
    assert_eq!(past["results"], Value::Array(Vec::new()));
}

#[tokio::test]
async fn the_name_filter_is_a_case_insensitive_prefix() {
    let emulator = start().await;
    let (_, body) = get(&emulator, ORG, "name=PROD-", DEMO_ACCESS_TOKEN).await;
    let names: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|project| project["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod-web", "prod-api", "prod-data", "prod-search"]);
}

#[tokio::test]
async fn bad_pages_and_bad_credentials_are_refused() {
    let emulator = start().await;
    let (status, body) = get(&emulator, ORG, "itemsPerPage=501", DEMO_ACCESS_TOKEN).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("INVALID_PARAMETER"))
    );
    let (status, _) = get(&emulator, "not-an-org", "", DEMO_ACCESS_TOKEN).await;
    assert_eq!(status, 400);
    let (status, _) = get(&emulator, ORG, "", "wrong-token").await;
    assert_eq!(status, 401);
}
