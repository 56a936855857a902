//! `autochase init`: writes a commented config with the token and the replay folders found
//! on this machine, readable by the user only, never replacing one without `--force`.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use crate::config::TOKEN_ENV;
use crate::discover;
use crate::fsutil;
use crate::platform::Home;

use super::check::describe_found;

/// Writes the config at `explicit` (else the default path).
pub async fn run(explicit: Option<&Path>, token: Option<String>, force: bool) -> ExitCode {
    let Some(path) = explicit
        .map(Path::to_path_buf)
        .or_else(crate::config::default_config_path)
    else {
        eprintln!("error: no home folder to put the config in; pass --config PATH");
        return ExitCode::from(2);
    };
    if path.exists() && !force {
        eprintln!(
            "error: {} already exists; edit it, or run `autochase init --force` to replace it",
            path.display()
        );
        return ExitCode::from(2);
    }
    let found = Home::current()
        .map(|home| discover::find(&home))
        .unwrap_or_default();
    if found.is_empty() {
        println!("no Rocket League replay folder found yet; autochase keeps looking while it runs");
    }
    for f in &found {
        println!("found {} ({})", f.dir.display(), describe_found(f));
    }
    let token = token
        .or_else(|| std::env::var(TOKEN_ENV).ok())
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            if !std::io::stdin().is_terminal() {
                return None;
            }
            rpassword::prompt_password(
                "ballchasing API token (create one at https://ballchasing.com/upload; input hidden; Enter to skip): ",
            )
            .ok()
            .filter(|t| !t.trim().is_empty())
        })
        .map(crate::api::Token::new);
    let text = crate::config::template(token.as_ref(), &found);
    if let Err(e) = write_private(&path, text.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    // Only unix modes are set; on Windows the profile's own rights decide who reads it.
    if cfg!(unix) {
        println!("wrote {} (readable by you only)", path.display());
    } else {
        println!("wrote {}", path.display());
    }
    if token.is_none() {
        println!(
            "no token yet: add `token = \"...\"` to it, or set BALLCHASING_TOKEN (create one at https://ballchasing.com/upload)"
        );
    }
    if let Some(token) = &token {
        // Tried now, so a mistyped token is known before the daemon runs: a refused one fails
        // the command (the config stays written, to fix); one that could not be tried (no
        // network) does not.
        let url = crate::config::api_url_from_env()
            .unwrap_or_else(|| crate::api::DEFAULT_BASE_URL.to_owned());
        let timeout = crate::config::QUICK_TIMEOUT;
        let refused = match crate::config::quick_client(token.clone(), &url, timeout) {
            Ok(client) => match super::check::token_test(&client).await {
                Ok(works) => {
                    println!("{works}");
                    None
                }
                Err(problem) if problem.refused => Some(problem.said),
                Err(problem) => {
                    println!("{}", problem.said);
                    None
                }
            },
            Err(e) => Some(format!("token: cannot be used ({e})")),
        };
        if let Some(refused) = refused {
            eprintln!(
                "{refused}; the config is written: fix the token in {}, then `autochase check`",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    println!("next: `autochase check`, then `autochase service install` (or `autochase run`)");
    ExitCode::SUCCESS
}

/// Writes a file only its owner can read (it holds the token), replacing it atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    fsutil::write_atomic(path, true, |out| out.write_all(bytes))
}
