//! Checks a token: `BALLCHASING_TOKEN=... cargo run --example ping`.

use ballchasing_api::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("BALLCHASING_TOKEN").map_err(|_| "set BALLCHASING_TOKEN first")?;
    let mut builder = Client::builder(token);
    if let Ok(url) = std::env::var("BALLCHASING_API_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;
    let me = client.ping().await?;
    let name = me.value.name.as_deref().unwrap_or("(no name)");
    println!("token works: {name}, tier {}", client.tier());
    println!(
        "status {} after {} attempt(s)",
        me.response.status, me.response.attempts
    );
    Ok(())
}
