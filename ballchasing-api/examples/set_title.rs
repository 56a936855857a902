//! Task 8: set a replay's title.
//! `cargo run -p ballchasing-api --example set_title -- REPLAY_ID TITLE`
use ballchasing_api::{Client, ReplayPatch};

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let args: Vec<String> = std::env::args().collect();
    let patch = ReplayPatch::new().title(&args[2]);
    client.patch_replay(&args[1], &patch).await?;
    println!("title set");
    Ok(())
}
