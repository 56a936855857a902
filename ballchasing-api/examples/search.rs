//! Task 3: a filtered search, streamed over every page (the filters go with each page).
//! `cargo run -p ballchasing-api --example search -- PLAYER`
use ballchasing_api::{Client, MatchResult, Playlist, ReplayFilter};

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let filter = ReplayFilter::new()
        .player_name(std::env::args().nth(1).unwrap())
        .playlist(Playlist::RankedDoubles)
        .match_result(MatchResult::Win)
        .created_after("2024-01-01T00:00:00Z".parse().unwrap());
    let mut replays = client.replays(&filter);
    while let Some(r) = replays.try_next().await? {
        let date = r.date.map(|d| d.to_string()).unwrap_or_default();
        println!("{} {date} {}", r.id, r.replay_title.unwrap_or_default());
    }
    Ok(())
}
