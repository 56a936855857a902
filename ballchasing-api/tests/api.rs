//! The API client against a fake ballchasing on loopback: for every endpoint, the request the
//! client sent (method, path, query, headers, body) and what it decoded; every error mapping;
//! retries, cooldown, pacing and pagination.

#[path = "api/calls.rs"]
mod calls;
#[path = "api/failures.rs"]
mod failures;
#[path = "api/groups.rs"]
mod groups;
mod support;

use std::time::Duration;

use ballchasing_api::{
    Client, Error, GroupFilter, GroupPatch, GroupStatus, MatchResult, NewGroup, Operation,
    Platform, PlayerIdentification, Playlist, Rank, Replay, ReplayFilter, ReplayPatch,
    ReplayStatus, RetryPolicy, TeamIdentification, Tier, Upload, UploadOutcome, Visibility,
    collect_all,
};
use serde_json::json;
use support::{FakeServer, Recorded, Reply};
use tokio::time::Instant;

const TOKEN: &str = "tok-0123456789abcdefghijklmnopqrstuv";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        budget: Duration::from_secs(10),
    }
}

/// A client for `server` with limits off (pacing has its own tests) and quick retries.
fn client(server: &FakeServer) -> Client {
    Client::builder(TOKEN)
        .base_url(server.url())
        .rate_limit(false)
        .retry(fast_retries())
        .build()
        .unwrap()
}

fn only(server: &FakeServer) -> Recorded {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.into_iter().next().unwrap()
}

fn assert_authorized(req: &Recorded) {
    assert_eq!(
        req.header("authorization"),
        Some(TOKEN),
        "raw token, no Bearer"
    );
    assert!(
        req.header("user-agent")
            .unwrap()
            .starts_with("ballchasing-api/")
    );
}

fn replay_item(id: &str) -> serde_json::Value {
    json!({"id": id, "replay_title": format!("t-{id}"), "playlist_id": "ranked-doubles",
           "blue": {"players": [{"name": "Bot"}]}, "orange": {"goals": 2, "players": []}})
}

async fn futures_collect<T>(stream: impl futures_util::Stream<Item = T>) -> Vec<T> {
    use futures_util::StreamExt;
    stream.collect().await
}
