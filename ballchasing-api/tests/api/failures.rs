//! Errors, retries, 429 cooldowns and pacing.

use super::*;

#[tokio::test]
async fn retry_after_zero_still_cools_down_a_second() {
    let server = FakeServer::scripted(vec![
        Reply::empty(429).header("retry-after", "0"),
        Reply::json(
            201,
            json!({"id":"r9","location":"https://ballchasing.com/replay/r9"}),
        ),
    ])
    .await;
    let client = client(&server);
    client
        .upload(&Upload::new("a.replay", vec![5; 10]))
        .await
        .unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn upload_429_with_retry_after_waits_then_succeeds() {
    let server = FakeServer::scripted(vec![
        Reply::empty(429).header("retry-after", "1"),
        Reply::json(
            201,
            json!({"id":"r9","location":"https://ballchasing.com/replay/r9"}),
        ),
    ])
    .await;
    let client = client(&server);
    let up = client
        .upload(&Upload::new("a.replay", vec![5; 10]))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, Retry-After was 1 s"
    );
    assert_eq!(
        requests[1].multipart()[0].data,
        vec![5; 10],
        "same bytes on the retry"
    );
    assert_eq!(up.response.attempts, 2);
    assert_eq!(up.value.id(), "r9");
}

#[tokio::test]
async fn a_429_pauses_every_clone_of_the_client() {
    let server = FakeServer::start(|req| {
        if req.path == "/v2/upload" {
            Reply::empty(429).header("retry-after", "1")
        } else {
            Reply::json(200, json!({}))
        }
    })
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)),
        "{err}"
    );
    assert!(client.cooldown_remaining().is_some());
    let other = client.clone();
    other.maps().await.unwrap();
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "the clone waited only {gap:?}"
    );
}

#[tokio::test]
async fn permanent_errors_are_mapped_and_never_retried() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Reply, Check)> = vec![
        (
            Reply::json(
                400,
                json!({"error":"\"file\" not a .replay file","request_id":"r","server":"minion4"}),
            ),
            |e| matches!(e, Error::BadRequest { message, .. } if message == "\"file\" not a .replay file"),
        ),
        (
            Reply::json(401, json!({"error":"missing API key"})),
            |e| matches!(e, Error::Unauthorized { message, .. } if message == "missing API key"),
        ),
        (Reply::json(403, json!({"error":"not yours"})), |e| {
            matches!(e, Error::Forbidden { .. })
        }),
        (
            Reply::html(404, "<h1>Not Found</h1>"),
            |e| matches!(e, Error::NotFound { message, .. } if message == "Not Found"),
        ),
        (
            Reply::json(429, json!({"error":"Upload quota reached (10 per 24h)"})),
            |e| matches!(e, Error::QuotaExceeded { message, .. } if message.contains("quota")),
        ),
    ];
    for (reply, expected) in cases {
        let server = FakeServer::scripted(vec![reply]).await;
        let err = client(&server)
            .upload(&Upload::new("a.replay", vec![1]))
            .await
            .unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_eq!(err.operation(), Some(Operation::Upload));
        assert_eq!(server.requests().len(), 1, "{err} was retried");
    }
}

#[tokio::test]
async fn a_504_html_page_is_a_server_error_and_is_retried() {
    let page = "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>";
    let server = FakeServer::scripted(vec![
        Reply::html(504, page),
        Reply::json(500, json!({"error":"ballchasing.com fault. db"})),
        Reply::json(
            201,
            json!({"id":"r1","location":"https://ballchasing.com/replay/r1"}),
        ),
    ])
    .await;
    let up = client(&server)
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(up.response.attempts, 3);

    let server = FakeServer::scripted(vec![Reply::html(504, page)]).await;
    let err = client(&server).maps().await.unwrap_err();
    assert!(
        matches!(&err, Error::Server { status, message, .. } if status.as_u16() == 504 && message.starts_with("504 Gateway Time-out")),
        "{err:?}"
    );
    assert_eq!(
        server.requests().len(),
        4,
        "first try + 3 retries, then the last error"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let server = FakeServer::scripted(vec![
        Reply::Reset,
        Reply::json(
            201,
            json!({"id":"r1","location":"https://ballchasing.com/replay/r1"}),
        ),
    ])
    .await;
    let up = client(&server)
        .upload(&Upload::new("a.replay", vec![1]))
        .await
        .unwrap();
    assert_eq!(up.value.id(), "r1");
    assert_eq!(server.requests().len(), 2);

    let server = FakeServer::scripted(vec![Reply::Reset]).await;
    let err = client(&server).ping().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = FakeServer::scripted(vec![
        Reply::json(200, json!({})).delay(Duration::from_secs(5)),
    ])
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                operation: Operation::Ping
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_body_that_does_not_decode_keeps_the_status_and_a_snippet() {
    let server = FakeServer::scripted(vec![Reply::html(200, "<html>maintenance</html>")]).await;
    let err = client(&server).ping().await.unwrap_err();
    match &err {
        Error::Decode {
            status, snippet, ..
        } => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(snippet, "maintenance");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_token_never_appears_in_errors_even_when_the_server_echoes_it() {
    let server = FakeServer::start(|req| {
        let echoed = req.header("authorization").unwrap_or_default().to_string();
        match req.path.as_str() {
            "/maps" => Reply::html(502, &format!("<p>bad gateway for {echoed}</p>")),
            _ => Reply::json(401, json!({"error": format!("key {echoed} refused")})),
        }
    })
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let errors = [
        client.ping().await.unwrap_err(),
        client.maps().await.unwrap_err(),
    ];
    for err in &errors {
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(TOKEN), "token leaked: {shown}");
            assert!(shown.contains("[token]"), "{shown}");
        }
    }
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn requests_are_paced_per_category() {
    let server = FakeServer::start(|req| match req.path.as_str() {
        "/groups" => Reply::json(200, json!({"list": []})),
        _ => Reply::json(200, json!({"id": "x", "status": "pending"})),
    })
    .await;
    // Regular tier: core 2/s. Three core calls need at least two half-second gaps; a list
    // call in between does not wait for the core bucket.
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .tier(Tier::Regular)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get_replay("x").await.unwrap();
    }
    client.list_groups(&GroupFilter::new()).await.unwrap();
    let requests = server.requests();
    for pair in requests[..3].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(450),
            "core calls {gap:?} apart"
        );
    }
    assert!(
        requests[3].at - requests[2].at < Duration::from_millis(450),
        "list waited for core"
    );
}
