//! Uploads one file N times to a ballchasing-compatible server: the Rust side of the client
//! overhead benchmark (`benches/client_overhead/run.sh`). Not for real use: it would upload
//! the same replay N times.
//!
//! `upload_loop URL FILE N`

use ballchasing_api::{Client, Tier, Upload, Visibility};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, file, n] = &args[..] else {
        eprintln!("usage: upload_loop URL FILE N");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let bytes = std::fs::read(file).expect("readable file");
    // One thread, like the Python client; no pacing, so only the client's own work counts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::builder("bench-token-not-real")
            .base_url(url.as_str())
            .tier(Tier::Gc)
            .rate_limit(false)
            .build()
            .expect("client");
        let upload = Upload::new("bench.replay", bytes).visibility(Visibility::Private);
        for _ in 0..n {
            client.upload(&upload).await.expect("upload");
        }
    });
}
