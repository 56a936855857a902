//! Task 7: the map codes and their names.
//! `cargo run -p ballchasing-api --example maps`
use ballchasing_api::Client;

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    for (code, name) in client.maps().await?.value {
        println!("{code}: {name}");
    }
    Ok(())
}
