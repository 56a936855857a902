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
        .env_remove("AUTOCHASE_API_URL")
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

/// A spawned daemon that is killed when the test ends, even by a failed assertion, so it
/// cannot outlive the test holding its output pipes (which would hang `cargo test`).
pub struct Daemon(pub Option<std::process::Child>);

impl Daemon {
    /// Spawns `command`.
    pub fn spawn(command: &mut Command) -> Daemon {
        Daemon(Some(command.spawn().unwrap()))
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    /// Sends `signal` (e.g. "TERM", "HUP") with kill(1).
    #[cfg(unix)]
    pub fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([&format!("-{signal}"), &self.id().to_string()])
            .status()
            .unwrap();
    }

    /// Kills it with SIGKILL and waits.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for it to exit and collects its output.
    pub async fn output(mut self) -> Output {
        let child = self.0.take().unwrap();
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
