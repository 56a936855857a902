//! The paths people type: folders stand for the replays in them, `*` and `?` are expanded
//! (Windows shells leave them to the program), a stray quote left by `"C:\Demos\"` is
//! dropped, and every path becomes absolute so the state holds one entry per file whatever
//! folder the command ran from.

use std::path::{Path, PathBuf};

use crate::platform::path_key;
use crate::watcher::{is_replay, scan};

/// Why a path given on the command line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Nothing there.
    #[error("{0}: no such file or folder")]
    Missing(String),
    /// A file that is not named `*.replay`.
    #[error("{0}: not a .replay file (autochase uploads Rocket League replays only)")]
    NotReplay(String),
    /// A pattern or folder that holds no replay.
    #[error("{0}: no .replay files there")]
    Empty(String),
}

/// The replay files `args` name, absolute, each once, in a stable order; and what was wrong
/// with the arguments that name none (each said, none keeps the others from going).
pub fn replay_files(args: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathError>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        match named(arg) {
            Ok(found) => out.extend(found.into_iter().map(absolute)),
            Err(e) => problems.push(e),
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(path_key(p)));
    (out, problems)
}

/// The replay files one argument names.
fn named(arg: &Path) -> Result<Vec<PathBuf>, PathError> {
    let shown = arg.display().to_string();
    let arg = strip_stray_quote(arg);
    if has_wildcard(&arg) && !arg.exists() {
        let files = expand_wildcard(&arg);
        if files.is_empty() {
            return Err(PathError::Empty(shown));
        }
        Ok(files)
    } else if arg.is_dir() {
        let mut files = scan(std::slice::from_ref(&arg));
        files.sort();
        if files.is_empty() {
            return Err(PathError::Empty(shown));
        }
        Ok(files)
    } else if !is_replay(&arg) {
        Err(if arg.exists() {
            PathError::NotReplay(shown)
        } else {
            PathError::Missing(shown)
        })
    } else if !arg.exists() && std::fs::symlink_metadata(&arg).is_err() {
        Err(PathError::Missing(shown))
    } else {
        Ok(vec![arg])
    }
}

/// `path` made absolute against the current folder (links are kept as they are: the watcher
/// sees files under the folder names the config gives).
pub fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// `"C:\Demos\"` reaches a Windows program as `C:\Demos"`: the backslash escaped the quote.
fn strip_stray_quote(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_suffix('"') {
        Some(rest) if !path.exists() => PathBuf::from(rest),
        _ => path.to_path_buf(),
    }
}

fn has_wildcard(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().contains(['*', '?']))
}

/// The files in the pattern's folder whose names match its last part.
fn expand_wildcard(pattern: &Path) -> Vec<PathBuf> {
    let dir = pattern
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let wanted = pattern.file_name().unwrap_or_default().to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            is_replay(p) && matches_pattern(&wanted, &name, cfg!(windows))
        })
        .collect();
    out.sort();
    out
}

/// `*` matches any run of characters, `?` one; case-insensitively when `fold` (Windows).
pub fn matches_pattern(pattern: &str, name: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        match fold {
            true => s.to_lowercase().chars().collect(),
            false => s.chars().collect(),
        }
    };
    let (p, n) = (norm(pattern), norm(name));
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_a_shell() {
        let table = [
            ("*.replay", "A.replay", true),
            ("*.replay", "A.replay.tmp", false),
            ("A?C*.replay", "ABC123.replay", true),
            ("A?C*.replay", "AC.replay", false),
            ("*", "", true),
            ("**x", "abx", true),
        ];
        for (pattern, name, expected) in table {
            assert_eq!(
                matches_pattern(pattern, name, false),
                expected,
                "{pattern} {name}"
            );
        }
        assert!(matches_pattern("*.REPLAY", "a.replay", true));
        assert!(!matches_pattern("*.REPLAY", "a.replay", false));
    }

    #[test]
    fn folders_patterns_and_files_become_absolute_replay_paths_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let demos = dir.path().join("Demos");
        std::fs::create_dir(&demos).unwrap();
        for name in ["A.replay", "B.replay", "notes.txt"] {
            std::fs::write(demos.join(name), b"x").unwrap();
        }
        let (files, problems) = replay_files(&[
            demos.clone(),
            demos.join("*.replay"),
            demos.join("A.replay"),
        ]);
        assert_eq!(files, [demos.join("A.replay"), demos.join("B.replay")]);
        assert!(problems.is_empty());
        assert!(files.iter().all(|f| f.is_absolute()));
        let quoted = PathBuf::from(format!("{}\"", demos.display()));
        assert_eq!(replay_files(&[quoted]).0.len(), 2);
        // A wrong argument is said, and the others still count.
        let (files, problems) = replay_files(&[
            demos.join("notes.txt"),
            demos.join("nope.replay"),
            demos.join("A.replay"),
            demos.join("Z*.replay"),
        ]);
        assert_eq!(files, [demos.join("A.replay")]);
        assert_eq!(problems.len(), 3);
        assert_eq!(
            problems[0],
            PathError::NotReplay(demos.join("notes.txt").display().to_string())
        );
        assert!(matches!(problems[1], PathError::Missing(_)));
        assert!(matches!(problems[2], PathError::Empty(_)));
    }
}
