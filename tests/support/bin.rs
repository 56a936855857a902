//! Running the real `autochase` binary from tests, with a clean environment.

use std::path::Path;
use std::process::{Command, Output};

/// The binary with `--config config`, no token or log filter inherited from the caller.
pub fn command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autochase"));
    command
        .arg("--config")
        .arg(config)
        .env_remove("BALLCHASING_TOKEN")
        .env_remove("AUTOCHASE_CONFIG")
        .env_remove("RUST_LOG");
    command
}

/// Runs `autochase --config config args…` to the end.
pub async fn autochase(config: &Path, args: &[&str]) -> Output {
    let mut command = command(config);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes a config file at `path` for the fake server at `api`; `extra` is appended.
pub fn write_config(path: &Path, api: &str, token: &str, extra: &str) {
    std::fs::write(
        path,
        format!(
            "token = \"{token}\"\napi_url = \"{api}\"\nstate_dir = \"state\"\nreplay_dirs = [\"Demos\"]\nupload_rate = 10.0\n{extra}"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
