//! Where this user's files are: the operating system and its folders (home, Documents,
//! config, data), the inputs of discovery, service installation and notifications.

use std::path::{Path, PathBuf};

/// The operating system whose conventions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Windows: the Documents known folder.
    Windows,
    /// Linux: Proton prefixes.
    Linux,
    /// macOS: only the dead native port.
    MacOs,
}

impl Os {
    /// The OS this build runs on.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }
}

/// Where a user's files are: the inputs of discovery.
#[derive(Debug, Clone)]
pub struct Home {
    /// Which layout.
    pub os: Os,
    /// The home folder.
    pub home: PathBuf,
    /// Windows: the Documents known folder (follows OneDrive's Known Folder Move).
    pub documents: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` or `~/.config` (Windows: %APPDATA%).
    pub config: PathBuf,
    /// `$XDG_DATA_HOME` or `~/.local/share` (Windows: %LOCALAPPDATA%).
    pub data: PathBuf,
}

impl Home {
    /// This user's home, or `None` when it cannot be found.
    pub fn current() -> Option<Home> {
        let base = directories::BaseDirs::new()?;
        let user = directories::UserDirs::new();
        let home = base.home_dir().to_path_buf();
        Some(Home {
            os: Os::current(),
            documents: user.and_then(|u| u.document_dir().map(Path::to_path_buf)),
            config: base.config_dir().to_path_buf(),
            // Windows: %LOCALAPPDATA%, which roaming profiles do not copy around.
            data: base.data_local_dir().to_path_buf(),
            home,
        })
    }

    /// A Linux-style home rooted at `home` (for tests).
    pub fn linux(home: &Path) -> Home {
        Home {
            os: Os::Linux,
            home: home.to_path_buf(),
            documents: None,
            config: home.join(".config"),
            data: home.join(".local/share"),
        }
    }
}

/// A path's identity for comparing folders and files: canonical when it exists (symlinks
/// resolved, so a folder replaced by a link to another is another folder), else absolute;
/// on Windows without the `\\?\` prefix and in lower case, since its paths ignore case.
pub fn path_key(path: &Path) -> String {
    let resolved = std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let text = resolved.to_string_lossy();
    if cfg!(windows) {
        text.strip_prefix(r"\\?\").unwrap_or(&text).to_lowercase()
    } else {
        text.into_owned()
    }
}

/// A path for people: its last two parts after `…`, enough to recognise a replay, with any
/// control character written out (a file name cannot start a line or steer a terminal).
pub fn shown(path: &Path) -> String {
    use std::path::Component;
    let parts: Vec<Component> = path.components().collect();
    let text = if parts.len() <= 3 {
        path.display().to_string()
    } else {
        let tail: PathBuf = parts[parts.len() - 2..].iter().collect();
        format!("…{}{}", std::path::MAIN_SEPARATOR, tail.display())
    };
    printable(&text).into_owned()
}

/// `text` with every control character written out as an escape (`\n`, `\u{1b}`): what a
/// file name or a server message holds is shown, never obeyed by a terminal or taken for a
/// new line of a log.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_by_their_last_two_parts() {
        let long: PathBuf = ["home", "me", "Documents", "Demos", "A.replay"]
            .iter()
            .collect();
        let sep = std::path::MAIN_SEPARATOR;
        assert_eq!(shown(&long), format!("…{sep}Demos{sep}A.replay"));
        assert_eq!(shown(Path::new("A.replay")), "A.replay");
        assert_eq!(
            shown(Path::new("/d/x\nERROR y\u{1b}[2J\u{9b}.replay")),
            "/d/x\\nERROR y\\u{1b}[2J\\u{9b}.replay"
        );
        assert_eq!(printable("plain é 日本\ttab"), "plain é 日本\\ttab");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_folder_has_the_target_s_key_and_a_missing_one_its_absolute_path() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        assert_eq!(path_key(&dir.path().join("link")), path_key(&real));
        let missing = dir.path().join("not/yet");
        assert_eq!(path_key(&missing), missing.to_string_lossy());
    }
}
