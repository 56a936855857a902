//! The `autochase` command line. The upload daemon is not built yet; the library's
//! `autochase::api` client is usable today (see `examples/ping.rs`).

fn main() {
    println!(
        "autochase {}: the upload daemon is not built yet; see README.md",
        env!("CARGO_PKG_VERSION")
    );
}
