//! The request log: redaction, issued tokens, delivery.

use base64::Engine;
use costform_emulator::{DEMO_ACCESS_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

use crate::support::{ORG, client, create_request, create_token, last_quarter, start};

#[tokio::test]
async fn credentials_never_reach_the_log() {
    let emulator = start().await;
    let client = client();
    create_token(&client, &emulator, &last_quarter()).await;
    client
        .post(format!("{}/api/oauth/token", emulator.base_url()))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("answered");
    let log = emulator.request_log();
    let schemes: Vec<_> = log
        .iter()
        .map(|entry| entry.header("authorization"))
        .collect();
    assert_eq!(schemes, [Some("Bearer"), Some("Basic")]);

    let everything = format!("{log:?}");
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}"));
    for secret in [DEMO_ACCESS_TOKEN, DEMO_CLIENT_SECRET, basic.as_str()] {
        assert!(!everything.contains(secret), "{secret} leaked into the log");
    }
}

#[tokio::test]
async fn issued_token_is_logged_and_marked_delivered() {
    let emulator = start().await;
    let client = client();
    let token = create_token(&client, &emulator, &last_quarter()).await;
    let refused = create_request(&client, &emulator, "x", &last_quarter())
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 400);

    let log = emulator.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "POST");
    assert_eq!(
        log[0].path,
        format!("/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage")
    );
    assert_eq!(
        (log[0].status, log[0].token.as_deref(), log[0].delivered),
        (Some(202), Some(token.as_str()), true)
    );
    assert_eq!((log[1].status, log[1].token.as_deref()), (Some(400), None));

    let issued = emulator.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].token.as_str(), issued[0].org_id.as_str()),
        (token.as_str(), ORG)
    );
    assert_eq!(issued[0].body, last_quarter());
    assert!(issued[0].delivered);
}
