//! Reading the connection settings from the environment.

use std::collections::BTreeMap;

use costform_http::{ClientConfig, Credentials, Error};

fn from(vars: &[(&str, &str)]) -> Result<ClientConfig, Error> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ClientConfig::from_env(|name| vars.get(name).cloned())
}

const ALL: [(&str, &str); 6] = [
    ("MONGODB_ATLAS_ACCESS_TOKEN", "tok"),
    ("MONGODB_ATLAS_CLIENT_ID", "id"),
    ("MONGODB_ATLAS_CLIENT_SECRET", "sa-secret"),
    ("MONGODB_ATLAS_PUBLIC_API_KEY", "pub"),
    ("MONGODB_ATLAS_PRIVATE_API_KEY", "priv"),
    ("MONGODB_ATLAS_BASE_URL", "http://127.0.0.1:8080/"),
];

#[test]
fn access_token_beats_service_account_beats_api_key() {
    let config = from(&ALL).unwrap();
    assert!(matches!(config.credentials, Credentials::AccessToken(_)));
    assert_eq!(config.base_url, "http://127.0.0.1:8080");

    let config = from(&ALL[1..]).unwrap();
    assert!(
        matches!(config.credentials, Credentials::ServiceAccount { ref client_id, .. } if client_id == "id")
    );

    let config = from(&ALL[3..5]).unwrap();
    assert!(
        matches!(config.credentials, Credentials::ApiKey { ref public_key, .. } if public_key == "pub")
    );
    assert_eq!(config.base_url, "https://cloud.mongodb.com");
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = from(&ALL[..1]).unwrap();
    assert_eq!(config.connect_timeout.as_secs(), 10);
    assert_eq!(config.request_timeout.as_secs(), 60);
    assert_eq!(config.max_attempts, 10);
    assert_eq!(config.max_backoff.as_secs(), 30);
}

#[test]
fn no_credentials_names_every_variable_and_how_to_get_a_service_account() {
    let error = from(&[("MONGODB_ATLAS_ACCESS_TOKEN", "")]).unwrap_err();
    assert!(matches!(error, Error::NoCredentials));
    let message = error.to_string();
    for name in ALL.iter().take(5).map(|(name, _)| name) {
        assert!(message.contains(name), "{name} missing from {message}");
    }
    assert!(message.contains("Service Accounts"), "{message}");
    assert!(message.contains("Organization Billing Viewer"), "{message}");
}

#[test]
fn half_a_pair_names_the_missing_variable() {
    let error = from(&[("MONGODB_ATLAS_CLIENT_ID", "id")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`MONGODB_ATLAS_CLIENT_ID` is set but `MONGODB_ATLAS_CLIENT_SECRET` is not"
    );
    let error = from(&[("MONGODB_ATLAS_PRIVATE_API_KEY", "priv")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`MONGODB_ATLAS_PRIVATE_API_KEY` is set but `MONGODB_ATLAS_PUBLIC_API_KEY` is not"
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let shown = format!("{:?} {:?}", from(&ALL).unwrap(), from(&ALL[1..]).unwrap());
    assert!(
        !shown.contains("tok\"") && !shown.contains("sa-secret"),
        "{shown}"
    );
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn a_base_url_with_credentials_is_refused_without_echoing_them() {
    let error = from(&[
        ("MONGODB_ATLAS_ACCESS_TOKEN", "t"),
        ("MONGODB_ATLAS_BASE_URL", "https://u:pw@example.com"),
    ])
    .unwrap_err();
    assert!(matches!(error, Error::InvalidBaseUrl { .. }));
    assert!(!error.to_string().contains("pw"), "{error}");
}

#[test]
fn plaintext_is_refused_off_loopback_unless_allowed() {
    let client = |base_url: &str, allow: bool| {
        let mut config = from(&[
            ("MONGODB_ATLAS_ACCESS_TOKEN", "tok"),
            ("MONGODB_ATLAS_BASE_URL", base_url),
        ])
        .unwrap();
        config.allow_insecure_http = allow;
        costform_http::Client::new(config)
    };
    for loopback in [
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://[::1]:8080",
        "http://localhost:8080",
        "https://cloud.mongodb.com",
    ] {
        assert!(client(loopback, false).is_ok(), "{loopback}");
    }
    for remote in [
        "http://cloud.mongodb.com",
        "http://10.0.0.1:8080",
        "http://[::2]",
    ] {
        let error = client(remote, false).unwrap_err();
        assert!(
            matches!(error, Error::InvalidBaseUrl { .. }),
            "{remote}: {error:?}"
        );
        assert!(
            error.to_string().contains("--allow-insecure-http"),
            "{error}"
        );
        assert!(!error.to_string().contains("tok"), "{error}");
        assert!(client(remote, true).is_ok(), "{remote} allowed");
    }
}
