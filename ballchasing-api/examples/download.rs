//! Task 5: download one replay file (to a file, or into a folder as `<id>.replay`).
//! `cargo run -p ballchasing-api --example download -- REPLAY_ID PATH`
use ballchasing_api::Client;

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let args: Vec<String> = std::env::args().collect();
    let done = client.download_replay_to(&args[1], &args[2]).await?.value;
    println!("{} bytes in {}", done.bytes, done.path.display());
    Ok(())
}
