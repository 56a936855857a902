//! Task 1: check the token, see the account, its tier and its upload quota.
//! `BALLCHASING_TOKEN=... cargo run -p ballchasing-api --example ping`
use ballchasing_api::Client;

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let me = client.ping().await?.value;
    let (name, id) = (me.name.unwrap_or_default(), me.steam_id.unwrap_or_default());
    println!("token works: {name} ({id}), tier {}", client.tier());
    if let Some(day) = me.quota.and_then(|q| q.uploads_in_24h) {
        let (used, max) = (day.used.unwrap_or(0), day.max.unwrap_or(0));
        println!("uploads in 24 h: {used} of {max}");
    }
    Ok(())
}
