//! Running the Windows build under Wine for tests: a fresh prefix with its own `HOME`, the
//! test-only `bcryptprimitives.dll` stub (Wine 8 lacks it; Rust's std needs its `ProcessPrng`)
//! in the prefix's system32, and the mingw "game" that writes replays the way Rocket League
//! does on Windows. Nothing here is shipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The Wine loader on Debian (not on PATH).
pub const WINE: &str = "/usr/lib/wine/wine64";

/// The folder holding the Windows build under test (`autochase.exe`, `autochasew.exe`), from
/// `AUTOCHASE_WINDOWS_BIN`; `None` (with a notice) when it is not set, unless
/// `AUTOCHASE_REQUIRE_WINE=1` (CI), where a skip is a failure.
pub fn windows_bin(test: &str) -> Option<PathBuf> {
    let required = std::env::var("AUTOCHASE_REQUIRE_WINE").is_ok_and(|v| v == "1");
    let found = std::env::var_os("AUTOCHASE_WINDOWS_BIN")
        .map(PathBuf::from)
        .filter(|dir| dir.join("autochase.exe").is_file());
    let missing = if found.is_none() {
        Some(
            "AUTOCHASE_WINDOWS_BIN does not name a folder holding autochase.exe (`.ci/run` builds it)",
        )
    } else if !Path::new(WINE).exists() {
        Some("no Wine (apt-get install wine64)")
    } else if which("x86_64-w64-mingw32-gcc").is_none() {
        Some("no mingw (apt-get install gcc-mingw-w64-x86-64)")
    } else {
        None
    };
    match missing {
        Some(why) if required => panic!("{test}: AUTOCHASE_REQUIRE_WINE=1 but {why}"),
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
        None => found,
    }
}

/// `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Builds the C helpers once per test binary: the stub DLL and the game.
fn helpers() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/windows");
        let out =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wine-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let dll = out.join("bcryptprimitives.dll");
        let game = out.join("game.exe");
        let gcc = |args: &[&Path], extra: &[&str]| {
            let status = Command::new("x86_64-w64-mingw32-gcc")
                .arg("-O2")
                .args(args)
                .args(extra)
                .status()
                .expect("mingw gcc");
            assert!(status.success(), "mingw build of {args:?} failed");
        };
        gcc(
            &[
                Path::new("-shared"),
                Path::new("-o"),
                &dll,
                &src.join("bcryptprimitives.c"),
                &src.join("bcryptprimitives.def"),
            ],
            &["-ladvapi32"],
        );
        gcc(
            &[
                Path::new("-municode"),
                Path::new("-o"),
                &game,
                &src.join("game.c"),
            ],
            &[],
        );
        (dll, game)
    })
}

/// A Wine prefix of its own, with its own `HOME`; its processes are ended when it is dropped.
pub struct Prefix {
    pub root: tempfile::TempDir,
    pub prefix: PathBuf,
    pub home: PathBuf,
    /// The Windows user's profile folder (`drive_c/users/<login>`).
    pub profile: PathBuf,
    /// The game stand-in.
    pub game: PathBuf,
}

impl Prefix {
    /// Creates the prefix (10–20 s) and puts the stub DLL in its system32. `HOME/Documents`
    /// exists first, so the prefix's Documents is linked there.
    pub fn new() -> Prefix {
        let (dll, game) = helpers().clone();
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(home.join("Documents")).unwrap();
        let prefix = root.path().join("prefix");
        let mut made = Prefix {
            profile: PathBuf::new(),
            prefix,
            home,
            game,
            root,
        };
        let out = output(&mut made.wine(&["wineboot", "-i"]));
        assert!(out.status.success(), "wineboot: {}", text(&out.stderr));
        std::fs::copy(
            &dll,
            made.drive_c().join("windows/system32/bcryptprimitives.dll"),
        )
        .unwrap();
        let users = made.drive_c().join("users");
        made.profile = std::fs::read_dir(&users)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| !p.ends_with("Public"))
            .expect("a user profile in the prefix");
        made
    }

    /// The prefix's C: drive.
    pub fn drive_c(&self) -> PathBuf {
        self.prefix.join("drive_c")
    }

    /// `wine64 args…` in this prefix, with a clean environment for autochase.
    pub fn wine(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(WINE);
        cmd.args(args)
            .env("WINEPREFIX", &self.prefix)
            .env("HOME", &self.home)
            .env("WINEDEBUG", "-all")
            .env_remove("BALLCHASING_TOKEN")
            .env_remove("AUTOCHASE_CONFIG")
            .env_remove("AUTOCHASE_API_URL")
            .env_remove("RUST_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `exe args…` to the end.
    pub fn run(&self, exe: &Path, args: &[&str]) -> Output {
        self.run_with(exe, args, &[])
    }

    /// Runs `exe args…` to the end with these environment variables.
    pub fn run_with(&self, exe: &Path, args: &[&str], vars: &[(String, String)]) -> Output {
        let mut all = vec![exe.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut cmd = self.wine(&all);
        cmd.envs(vars.iter().map(|(k, v)| (k, v)));
        output(&mut cmd)
    }

    /// The Windows path of a file in this prefix (`C:\…`), or of any other file (`Z:\…`).
    pub fn win(&self, path: &Path) -> String {
        let (drive, rest) = match path.strip_prefix(self.drive_c()) {
            Ok(rest) => ("C:", rest.to_path_buf()),
            Err(_) => ("Z:", path.to_path_buf()),
        };
        let rest = rest.to_string_lossy().replace('/', "\\");
        let rest = rest.trim_start_matches('\\');
        format!("{drive}\\{rest}")
    }

    /// Ends every process of this prefix.
    pub fn kill_all(&self) {
        let _ = Command::new("/usr/lib/wine/wineserver")
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .status();
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// How long one Wine command may take before the test fails instead of hanging.
pub const COMMAND_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `cmd` to the end, within `COMMAND_LIMIT` (a Wine program that hangs is killed and
/// fails the test rather than hanging it).
pub fn output(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = |mut from: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            bytes
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {COMMAND_LIMIT:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
