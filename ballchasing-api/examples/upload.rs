//! Task 2: upload one replay (streamed from disk), private, into a group; a duplicate is a
//! success too. `cargo run -p ballchasing-api --example upload -- FILE GROUP`
use ballchasing_api::{Client, Upload, Visibility};

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let args: Vec<String> = std::env::args().collect();
    let upload = Upload::from_path(&args[1]).visibility(Visibility::Private);
    let up = client.upload(&upload.group(&args[2])).await?.value;
    let (id, dup, page) = (up.id(), up.is_duplicate(), up.location());
    println!("{id} (duplicate: {dup}) {page}");
    Ok(())
}
