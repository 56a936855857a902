//! Task 4: one replay's per-player stats as a table.
//! `cargo run -p ballchasing-api --example stats_table -- REPLAY_ID`
use ballchasing_api::Client;

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let id = std::env::args().nth(1).unwrap();
    let replay = client.get_replay(&id).await?.value;
    println!("team   player           goals saves  bpm behind%");
    for (team, p) in replay.players() {
        let s = p.stats.clone().unwrap_or_default();
        let (core, boost) = (s.core.unwrap_or_default(), s.boost.unwrap_or_default());
        let n = |v: Option<f64>| v.unwrap_or(0.0);
        let behind = n(s.positioning.unwrap_or_default().percent_behind_ball);
        let (goals, saves, bpm) = (n(core.goals), n(core.saves), n(boost.bpm));
        let name = p.name.as_deref().unwrap_or("?");
        println!("{team:<6} {name:<16} {goals:>5} {saves:>5} {bpm:>4} {behind:>7.1}");
    }
    Ok(())
}
