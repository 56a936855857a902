//! The log file: one a day beside the path the user gave (`name.YYYY-MM-DD.ext`, local
//! dates), private to the user, never opened through a link, the newest 14 kept. Only files
//! named exactly that way are ever removed: the folder may hold the user's own files.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::civil::Date;

/// How many daily files are kept.
pub const KEEP: usize = 14;

/// A log file that starts a new file each day; share it with `tracing` as a writer.
pub struct DailyFile {
    dir: PathBuf,
    stem: String,
    /// With its dot (`.log`), or empty.
    ext: String,
    current: Mutex<Option<(Date, File)>>,
}

impl DailyFile {
    /// Opens today's file for `path` (creating its folder), and prunes old ones.
    pub fn open(path: &Path) -> std::io::Result<DailyFile> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let stem = path
            .file_stem()
            .map_or("autochase".into(), |s| s.to_string_lossy().into_owned());
        let ext = path
            .extension()
            .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
        let log = DailyFile {
            dir,
            stem,
            ext,
            current: Mutex::new(None),
        };
        let today = today();
        let file = log.open_day(today)?;
        *log.current.lock().unwrap_or_else(|e| e.into_inner()) = Some((today, file));
        Ok(log)
    }

    /// The file for `day`, appended to, private, never through a link.
    fn open_day(&self, day: Date) -> std::io::Result<File> {
        let path = self.dir.join(format!("{}.{day}{}", self.stem, self.ext));
        let mut options = crate::fsutil::private_file();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let file = options
            .open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        crate::fsutil::make_private(&file)?;
        prune(&self.dir, &self.stem, &self.ext, KEEP);
        Ok(file)
    }

    fn write_line(&self, buf: &[u8]) -> std::io::Result<()> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let today = today();
        if current.as_ref().is_none_or(|(day, _)| *day != today) {
            // A failed open keeps writing to yesterday's file rather than losing the line.
            if let Ok(file) = self.open_day(today) {
                *current = Some((today, file));
            }
        }
        match current.as_mut() {
            Some((_, file)) => file.write_all(buf),
            None => Ok(()),
        }
    }
}

fn today() -> Date {
    jiff::ZonedDateTime::now().date()
}

/// The day in `name` when it is exactly `stem.YYYY-MM-DD ext`.
fn day_of(name: &str, stem: &str, ext: &str) -> Option<Date> {
    let date = name
        .strip_prefix(stem)?
        .strip_prefix('.')?
        .strip_suffix(ext)?;
    (date.len() == 10).then(|| date.parse().ok()).flatten()
}

/// Removes all but the newest `keep` files named `stem.YYYY-MM-DD ext` in `dir`: regular
/// files only, and nothing else whatever its name.
fn prune(dir: &Path, stem: &str, ext: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dated: Vec<(Date, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let day = day_of(e.file_name().to_str()?, stem, ext)?;
            Some((day, e.path()))
        })
        .collect();
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    for (_, old) in dated.into_iter().skip(keep) {
        let _ = std::fs::remove_file(old);
    }
}

/// One event's text, written whole to the day's file.
pub struct Line<'a>(&'a DailyFile);

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for DailyFile {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_dated_names_are_days() {
        let table = [
            ("autochase.2026-12-04.log", Some("2026-12-04")),
            ("autochase.2026-13-04.log", None),
            ("autochase.2026-12-04.log.bak", None),
            ("autochase notes.2026-12-04.log", None),
            ("autochase.log", None),
            ("autochase.x2026-12-04.log", None),
            ("autochase.2026-12-04", None),
        ];
        for (name, day) in table {
            assert_eq!(
                day_of(name, "autochase", ".log"),
                day.map(|d| d.parse().unwrap()),
                "{name}"
            );
        }
        assert!(day_of("notes.2026-12-04", "notes", "").is_some());
    }

    #[test]
    fn pruning_keeps_the_newest_and_never_a_folder_or_another_name() {
        let dir = tempfile::tempdir().unwrap();
        for d in 1..=5 {
            std::fs::write(dir.path().join(format!("a.2026-01-0{d}.log")), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("a.2025-01-01.log")).unwrap();
        std::fs::write(dir.path().join("a notes.2025-01-01.log"), "").unwrap();
        prune(dir.path(), "a", ".log", 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "a notes.2025-01-01.log",
                "a.2025-01-01.log",
                "a.2026-01-04.log",
                "a.2026-01-05.log"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_log_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "keep me").unwrap();
        let today = dir.path().join(format!("a.{}.log", today()));
        std::os::unix::fs::symlink(&target, &today).unwrap();
        assert!(DailyFile::open(&dir.path().join("a.log")).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }
}
