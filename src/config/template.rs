//! The config `autochase init` writes (the documented example with the token and the folders
//! found filled in), and the warning when the file holding the token is readable by others.

use std::path::Path;

use crate::api::Token;
use crate::discover;

/// The config `autochase init` writes: the documented example with the token filled in and
/// the folders found now listed (discovery stays on, so folders that appear later are found).
pub fn template(token: Option<&Token>, found: &[discover::Found]) -> String {
    let example = include_str!("../../config.example.toml");
    let mut out = String::with_capacity(example.len() + 1024);
    out.push_str("# Written by `autochase init`.\n");
    for line in example.lines() {
        if line == "# token = \"...\""
            && let Some(token) = token
        {
            out.push_str("token = ");
            out.push_str(&toml::Value::String(token.expose().to_owned()).to_string());
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.starts_with("# replay_dirs = ") {
            if found.is_empty() {
                out.push_str("# (No replay folder was found when this file was written.)\n");
            } else {
                out.push_str("# Found when this file was written:\n");
                for f in found {
                    out.push_str(&format!(
                        "#   {}  ({} {}; {})\n",
                        f.dir.display(),
                        f.replays,
                        if f.replays == 1 { "replay" } else { "replays" },
                        f.source
                    ));
                }
            }
        }
    }
    out
}

/// A warning when the file holding the token can be read by other users (unix modes).
#[cfg(unix)]
pub fn exposed_token_warning(file: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds your ballchasing token and other users can read it (mode {mode:o}); run `chmod 600 {}`",
            file.display(),
            file.display()
        )
    })
}

/// Windows keeps files in the profile private to the user; nothing to check.
#[cfg(not(unix))]
pub fn exposed_token_warning(_file: &Path) -> Option<String> {
    None
}
