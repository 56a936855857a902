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
