//! Starting and stopping: the threaded emulator, shutdown on a signal, and a
//! created query's 202 whatever the envelope flag says.

use std::io::{Read, Write};
use std::net::TcpStream;

use costform_emulator::{Config, Emulator, EmulatorThread, JSON_MEDIA_TYPE};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::support::{ORG, client, json, last_quarter, start};

#[test]
fn threaded_emulator_serves_synchronous_callers_and_stops_on_drop() {
    let emulator = EmulatorThread::start(Config::demo()).expect("emulator thread starts");
    let address = emulator.local_addr();
    let mut stream = TcpStream::connect(address).expect("connect");
    let request = format!(
        "GET /api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage/x HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
    assert_eq!(emulator.request_log().len(), 1);

    drop(emulator);
    assert!(
        TcpStream::connect(address).is_err(),
        "the listener closed with the emulator"
    );
}

#[tokio::test]
async fn wait_for_shutdown_stops_serving_when_signalled() {
    let emulator = Emulator::start(Config::demo()).await.expect("starts");
    let address = emulator.local_addr();
    let (signal, signalled) = oneshot::channel::<()>();
    let serving = tokio::spawn(emulator.wait_for_shutdown(async {
        let _ = signalled.await;
    }));
    assert!(
        tokio::net::TcpStream::connect(address).await.is_ok(),
        "serving before the signal"
    );
    signal.send(()).expect("the emulator waits for the signal");
    serving.await.expect("shut down cleanly");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "closed after the signal"
    );
}

#[tokio::test]
async fn a_post_asking_for_the_envelope_still_answers_202_with_the_token() {
    let emulator = start().await;
    let response = client()
        .post(format!(
            "{}/api/atlas/v2/orgs/{ORG}/billing/costExplorer/usage?envelope=true",
            emulator.base_url()
        ))
        .bearer_auth(costform_emulator::DEMO_ACCESS_TOKEN)
        .header("Accept", JSON_MEDIA_TYPE)
        .header("Content-Type", JSON_MEDIA_TYPE)
        .body(last_quarter().to_string())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 202);
    let body: Value = json(response).await;
    assert_eq!(
        body,
        serde_json::json!({"token": emulator.issued_tokens()[0].token})
    );
}
