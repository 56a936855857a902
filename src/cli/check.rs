//! `autochase check`: the config, the token (a ping) and the replay folders, with what to
//! fix when something is wrong.

use std::process::ExitCode;

use crate::config::Config;
use crate::discover;
use crate::platform::Home;

/// Checks everything; exit code 1 with what to fix.
pub async fn run(config: &Config) -> ExitCode {
    let mut problems = Vec::new();
    match &config.path {
        Some(path) => println!("config: {}", path.display()),
        None => println!("config: none found, using defaults"),
    }
    // What the environment sets wins over the file: said, or a fix to the file seems to do
    // nothing (and a service started without the variable would use the file's).
    for (name, key) in [
        (crate::config::TOKEN_ENV, "token"),
        (crate::config::API_URL_ENV, "api_url"),
    ] {
        if std::env::var(name).is_ok_and(|v| !v.trim().is_empty()) {
            println!(
                "{key}: from {name}, which wins over the config file (a service started without it uses the file's)"
            );
        }
    }
    match config.quick_client() {
        Ok(Some(client)) => match token_test(&client).await {
            Ok(works) => println!("{works}"),
            Err(problem) => problems.push(problem.said),
        },
        Ok(None) => problems.push(format!("token: none set; {}", config.token_advice())),
        Err(e) => problems.push(format!("api: {e}")),
    }
    let found = folders_found(config);
    for f in &found {
        println!(
            "folder: {} ({})",
            crate::platform::printable(&f.dir.display().to_string()),
            describe_found(f)
        );
    }
    // Where autochase waits for a folder that is not there yet (the game creates it at the
    // first save), so a user can tell whether theirs is among them.
    let awaited: Vec<std::path::PathBuf> = match config.discover {
        true => Home::current()
            .map(|home| discover::watch_list(&home))
            .unwrap_or_default(),
        false => config.replay_dirs.clone(),
    };
    for dir in awaited.iter().filter(|d| !d.is_dir()) {
        println!(
            "folder: {} (not there yet; watched for when it appears)",
            crate::platform::printable(&dir.display().to_string())
        );
    }
    if found.is_empty() {
        problems.push(if config.discover {
            "folders: no Rocket League replay folder found on this machine; save a replay in the game (it creates the folder), or set `replay_dirs` in the config to where your replays are".to_string()
        } else {
            "folders: none of the folders in `replay_dirs` exists; set it to where Rocket League saves replays (…/My Games/Rocket League/TAGame/Demos)".to_string()
        });
    }
    if problems.is_empty() {
        println!("all good");
        ExitCode::SUCCESS
    } else {
        for p in problems {
            eprintln!("problem: {}", crate::platform::printable(&p));
        }
        ExitCode::FAILURE
    }
}

/// What is wrong with a token, or with trying it.
pub struct TokenProblem {
    /// ballchasing refused the token (else it could not be tested).
    pub refused: bool,
    /// In words, with what to do.
    pub said: String,
}

/// Asks ballchasing who the token belongs to: what works, or what is wrong, telling a refused
/// token from a server that cannot be reached.
pub async fn token_test(client: &crate::api::Client) -> Result<String, TokenProblem> {
    use crate::api::Error;
    let untested = |said: String| TokenProblem {
        refused: false,
        said,
    };
    match client.ping().await {
        Ok(me) => Ok(format!(
            "token: works, account {} (tier {})",
            crate::platform::printable(me.value.name.as_deref().unwrap_or("(no name)")),
            client.tier()
        )),
        Err(e @ (Error::Unauthorized { .. } | Error::Forbidden { .. })) => Err(TokenProblem {
            refused: true,
            said: format!("token: {e}"),
        }),
        Err(e @ (Error::Transport { .. } | Error::Timeout { .. })) => Err(untested(format!(
            "api: cannot reach ballchasing at {} ({e}); check the network (the token could not be tested)",
            client.base_url()
        ))),
        Err(e) => Err(untested(format!(
            "api: ballchasing answered but not as expected ({e}); the token could not be tested"
        ))),
    }
}

/// The replay folders that exist: found by discovery, or the configured ones.
pub fn folders_found(config: &Config) -> Vec<discover::Found> {
    if config.discover {
        return Home::current()
            .map(|home| discover::find(&home))
            .unwrap_or_default();
    }
    config
        .replay_dirs
        .iter()
        .filter(|d| d.is_dir())
        .map(|d| discover::survey(d, "replay_dirs"))
        .collect()
}

/// One found folder for people: its replay count, newest replay and where it came from.
pub fn describe_found(f: &discover::Found) -> String {
    let newest = match &f.newest {
        Some((path, at)) => format!(
            ", newest {} from {}",
            crate::platform::printable(&path.file_name().unwrap_or_default().to_string_lossy()),
            crate::dates::local_at(*at)
        ),
        None => String::new(),
    };
    let replays = super::transfer::plural(f.replays, "replay", "replays");
    format!("{replays}{newest}; {}", f.source)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn a_found_folder_reads_well_with_one_replay_or_many() {
        let mut found = crate::discover::Found {
            dir: PathBuf::from("/games/Demos"),
            source: "Steam library /games".into(),
            replays: 1,
            newest: None,
        };
        assert_eq!(
            super::describe_found(&found),
            "1 replay; Steam library /games"
        );
        found.replays = 0;
        assert_eq!(
            super::describe_found(&found),
            "0 replays; Steam library /games"
        );
    }
}
