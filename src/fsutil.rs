//! Writing files so that a crash at any instant leaves the old content or the new one, never
//! a mix, and creating what autochase keeps (state, lock, logs, requests) private to the user.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Options that create a file only its owner can read and write (unix mode 0600; Windows
/// files in the profile are private to the user already).
pub fn private_file() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes every file and folder this process creates from now on private to the user (umask
/// 077): the state, the lock, requests, logs and the config hold replay paths, private links
/// and the token. Unix only; Windows profile folders are private already.
pub fn private_from_now_on() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and its parents) and makes it private to its owner (unix mode 0700), also
/// when it already existed with a looser mode: it holds replay paths and private links.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Makes an open file private to its owner (unix mode 0600) if it is not already: one
/// written by an older autochase may be readable by others.
pub fn make_private(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// A temp file name beside `path` that no other writer (or planted link) can share: `create_new`
/// refuses any existing entry, a symlink included.
fn temp_beside(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Replaces `path` with what `fill` writes: into a new temp file in the same folder, synced,
/// then renamed over `path`, and the folder synced. The file is private when `private`.
pub fn write_atomic(
    path: &Path,
    private: bool,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let mut options = if private {
        private_file()
    } else {
        OpenOptions::new()
    };
    let file = options.write(true).create_new(true).open(&tmp)?;
    let written = (|| {
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        fill(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Makes a rename in `dir` durable; failing here loses nothing that the next write won't redo.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) {
        let _ = d.sync_all();
    }
}

/// Windows makes renames durable without a folder sync (and cannot open a folder as a file).
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, true, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let failed = write_atomic(&path, true, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk gone"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"new", "old content kept");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f.txt"], "no temp file left");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_the_temp_name_is_never_written_through() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let path = dir.path().join("answer.done");
        // The temp names the next writes will use (other tests share the counter), each a
        // link to the victim.
        let used = temp_beside(&path).to_string_lossy().into_owned();
        let (stem, n) = used.strip_suffix(".tmp").unwrap().rsplit_once('-').unwrap();
        let n: u64 = n.parse().unwrap();
        for next in n + 1..n + 64 {
            std::os::unix::fs::symlink(&victim, format!("{stem}-{next}.tmp")).unwrap();
        }
        assert!(write_atomic(&path, true, |w| w.write_all(b"reply")).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().ends_with(".tmp") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        write_atomic(&path, true, |w| w.write_all(b"reply")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
