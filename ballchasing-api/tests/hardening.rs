//! Hardening (issue 16): what a hostile or broken server must not be able to do to the
//! client: redirect an upload into a GET, send an endless body, set an endless cooldown or
//! panic it with `Retry-After`, get the token into an error text or through a proxy, or have
//! a made-up upload answer stored as a success.

mod support;

use std::time::{Duration, SystemTime};

use ballchasing_api::{Client, Error, RetryPolicy, Tier, TierLimits, Upload};
use serde_json::json;
use support::{FakeServer, Reply};

const TOKEN: &str = "tok-0123456789abcdefghijklmnopqrstuv";

fn client(server: &FakeServer) -> Client {
    Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn upload() -> Upload {
    Upload::new("a.replay", vec![1u8; 100])
}

#[tokio::test]
async fn a_redirected_upload_is_an_error_and_is_not_followed() {
    let server = FakeServer::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v2/upload") => Reply::empty(302).header("location", "/landing"),
        _ => Reply::json(
            201,
            json!({"id":"abc","location":"https://ballchasing.com/replay/abc"}),
        ),
    })
    .await;
    let err = client(&server).upload(&upload()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("302") && text.contains("/landing"), "{text}");
    assert!(!err.is_transient());
    assert!(
        matches!(&err, Error::Redirect { location: Some(l), .. } if l == "/landing"),
        "{err:?}"
    );
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "the redirect was followed: {requests:#?}"
    );
}

#[tokio::test]
async fn an_endless_upload_answer_stops_at_the_cap() {
    let server = FakeServer::scripted(vec![Reply::endless(
        201,
        vec![b' '; 1 << 20],
        Duration::from_millis(10),
    )])
    .await;
    let started = std::time::Instant::now();
    let err = client(&server).upload(&upload()).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "read for a long time"
    );
}

#[tokio::test]
async fn a_huge_json_answer_is_refused() {
    let pad = "x".repeat(40 << 20);
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"id":"r1","status":"pending","pad":pad}),
    )])
    .await;
    let err = client(&server).get_replay("r1").await.unwrap_err();
    assert!(
        err.to_string().contains("limit") && !err.is_transient(),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_configured_json_cap_applies() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"id":"r1","status":"pending","pad":"x".repeat(5000)}),
    )])
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .body_limits(ballchasing_api::BodyLimits {
            json: 4096,
            ..Default::default()
        })
        .build()
        .unwrap();
    let err = client.get_replay("r1").await.unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_endless_download_stops_at_the_cap() {
    let server = FakeServer::scripted(vec![
        Reply::endless(200, vec![7u8; 1 << 20], Duration::from_millis(1))
            .header("content-type", "application/octet-stream"),
    ])
    .await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(20))
        .body_limits(ballchasing_api::BodyLimits {
            download: 8 << 20,
            ..Default::default()
        })
        .build()
        .unwrap();
    let mut out = Vec::new();
    let err = client.download_replay("r1", &mut out).await.unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit, .. } if limit == 8 << 20),
        "{err:?}"
    );
    assert!(out.len() <= 8 << 20, "wrote {} bytes", out.len());
}

#[tokio::test]
async fn a_huge_retry_after_is_kept_in_the_error_but_the_cooldown_is_clamped() {
    let server =
        FakeServer::scripted(vec![Reply::empty(429).header("retry-after", "999999")]).await;
    let client = client(&server);
    let err = client.maps().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(999_999)),
        "{err:?}"
    );
    let cooldown = client.cooldown_remaining().expect("a cooldown runs");
    assert!(
        cooldown <= Duration::from_secs(3600),
        "cooldown {cooldown:?}"
    );
}

#[tokio::test]
async fn the_cooldown_clamp_is_configurable() {
    let server = FakeServer::scripted(vec![Reply::empty(429).header("retry-after", "600")]).await;
    let client = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy::none())
        .max_cooldown(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = client.maps().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(600))
    );
    assert!(client.cooldown_remaining().unwrap() <= Duration::from_secs(5));
}

#[tokio::test]
async fn a_retry_after_beyond_any_instant_does_not_panic() {
    let server = FakeServer::scripted(vec![
        Reply::empty(429).header("retry-after", "18446744073709551615"),
    ])
    .await;
    let client = client(&server);
    let err = client.maps().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d >= Duration::from_secs(1 << 63)),
        "{err:?}"
    );
    assert!(client.cooldown_remaining().unwrap() <= Duration::from_secs(3600));
}

#[tokio::test]
async fn a_retry_after_http_date_is_understood() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
    let server = FakeServer::scripted(vec![Reply::empty(429).header("retry-after", &at)]).await;
    let client = client(&server);
    let err = client.maps().await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after: Some(d),
            ..
        } => assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        ),
        other => panic!("{other:?}"),
    }
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
    let server = FakeServer::scripted(vec![Reply::empty(429).header("retry-after", &past)]).await;
    let err = self::client(&server).maps().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: Some(Duration::ZERO),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_success_body_that_echoes_the_token_is_scrubbed_from_the_decode_error() {
    let server = FakeServer::start(|req| {
        let echoed = req.header("authorization").unwrap_or_default().to_string();
        Reply::html(
            200,
            &format!("<p>your headers: Authorization: {echoed}</p>"),
        )
    })
    .await;
    let err = client(&server).ping().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    }
}

#[tokio::test]
async fn an_error_page_cut_inside_the_token_keeps_no_part_of_it() {
    // The token starts just before the point where the excerpt is cut.
    for filler in [180, 190, 195, 390, 790] {
        let server = FakeServer::start(move |req| {
            let echoed = req.header("authorization").unwrap_or_default().to_string();
            Reply::html(500, &format!("{}{echoed} and more", "a".repeat(filler)))
        })
        .await;
        let err = client(&server).maps().await.unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(
                !shown.contains(&TOKEN[..4]),
                "part of the token leaked: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn upload_answers_with_a_bad_id_are_errors() {
    for body in [
        json!({"id": ""}),
        json!({"id": "x".repeat(100_000)}),
        json!({"id": "../../etc"}),
        json!({"id": "<script>"}),
    ] {
        let server = FakeServer::scripted(vec![Reply::json(201, body.clone())]).await;
        let result = client(&server).upload(&upload()).await;
        // A 100 KB id is past the upload answer's 64 KiB limit before it is even decoded.
        assert!(
            matches!(result, Err(Error::Decode { .. } | Error::TooLarge { .. })),
            "{}: {result:?}",
            &body.to_string()[..30.min(body.to_string().len())]
        );
    }
}

#[tokio::test]
async fn an_upload_location_off_ballchasing_is_replaced_by_the_replay_page() {
    for location in [
        "javascript:alert(1)",
        "http://ballchasing.com/replay/r1",
        "https://evil.example/replay/r1",
        "https://ballchasing.com.evil.example/replay/r1",
        "https://user@ballchasing.com/replay/r1",
    ] {
        let server = FakeServer::scripted(vec![Reply::json(
            201,
            json!({"id": "r1", "location": location}),
        )])
        .await;
        let up = client(&server).upload(&upload()).await.unwrap();
        assert_eq!(
            up.value.location(),
            "https://ballchasing.com/replay/r1",
            "{location}"
        );
    }
    let server = FakeServer::scripted(vec![Reply::json(
        409,
        json!({"id": "r1", "location": "https://ballchasing.com/replay/r1"}),
    )])
    .await;
    let up = client(&server).upload(&upload()).await.unwrap();
    assert_eq!(up.value.location(), "https://ballchasing.com/replay/r1");
}

#[tokio::test]
async fn error_excerpts_drop_style_and_script_contents() {
    let page = "<html><head><style>body { color: red }</style><script type=\"x\">var t = 1;</script></head><body><h1>502 Bad Gateway</h1><SCRIPT>evil()</SCRIPT></body></html>";
    let server = FakeServer::scripted(vec![Reply::html(502, page)]).await;
    let err = client(&server).maps().await.unwrap_err();
    match &err {
        Error::Server { message, .. } => assert_eq!(message, "502 Bad Gateway"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_tiers_get_the_regular_limits() {
    let regular = TierLimits::for_tier(&Tier::Regular);
    let gc = TierLimits::for_tier(&Tier::Gc);
    assert_eq!(TierLimits::for_tier(&Tier::Other("mythic".into())), regular);
    assert_eq!(TierLimits::for_tier(&Tier::Legend), gc);
    assert_eq!(TierLimits::for_tier(&Tier::Org), gc);
}

/// The `ping` example, built by `cargo test` next to this test binary.
fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p ballchasing-api` (it builds the examples)",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_variables_never_see_a_loopback_base_or_its_token() {
    let api = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"name":"Alice","steam_id":"1","type":"gold"}),
    )])
    .await;
    let proxy = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"name":"Proxy","steam_id":"2","type":"gc"}),
    )])
    .await;
    let mut command = std::process::Command::new(example("ping"));
    command
        .env("BALLCHASING_API_URL", api.url())
        .env("BALLCHASING_TOKEN", TOKEN)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env(var, proxy.url());
    }
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        proxy.requests().is_empty(),
        "the proxy saw {:#?}",
        proxy.requests()
    );
    assert_eq!(api.requests().len(), 1);
    assert!(stdout.contains("Alice"), "{stdout}");
}

#[tokio::test]
async fn a_ping_that_echoes_the_token_gives_it_back_to_nobody() {
    let server = FakeServer::scripted(vec![Reply::json(
        200,
        json!({"name": format!("hi {TOKEN}"), "steam_id": TOKEN, "type": "regular"}),
    )])
    .await;
    let me = client(&server).ping().await.unwrap();
    assert_eq!(me.value.name.as_deref(), Some("hi [token]"));
    assert_eq!(me.value.steam_id.as_deref(), Some("[token]"));
    let raw = String::from_utf8_lossy(&me.response.body).into_owned();
    assert!(!raw.contains(TOKEN), "{raw}");
}

/// A 429 without `Retry-After` on an upload is most often a used-up quota that does not say
/// so: the client does not send the whole file again and again, it tells the caller. Other
/// calls wait a second at least before they try again.
#[tokio::test]
async fn a_bare_429_is_never_answered_by_resending_the_file_and_elsewhere_waits_a_second() {
    let server = FakeServer::start(|req| match req.path.as_str() {
        "/v2/upload" => Reply::json(429, json!({"error": "slow down"})),
        _ => Reply::json(429, json!({"error": "slow down"})),
    })
    .await;
    let retrying = Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    let err = retrying.upload(&upload()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1, "the file was sent again");
    retrying.ping().await.unwrap_err();
    let pings: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path != "/v2/upload")
        .collect();
    assert_eq!(pings.len(), 3);
    for pair in pings.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(950), "{gap:?}");
    }
}
