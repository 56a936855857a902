//! The downloads `dist/build.sh` makes (in `AUTOCHASE_DIST_DIR`): every artifact listed in
//! `SHA256SUMS` with its right sum and the version from Cargo.toml, the Wine stub in none of
//! them, the MSI's tables, and the Linux tarball's static binary, which runs with nothing
//! installed and, unpacked anywhere, installs a service pointing at where it was unpacked.
//! Skips with a notice without `AUTOCHASE_DIST_DIR`, unless `AUTOCHASE_REQUIRE_DIST=1` (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

fn dist_dir() -> Option<PathBuf> {
    let required = std::env::var("AUTOCHASE_REQUIRE_DIST").is_ok_and(|v| v == "1");
    match std::env::var_os("AUTOCHASE_DIST_DIR").map(PathBuf::from) {
        Some(dir) if dir.join("SHA256SUMS").is_file() => Some(dir),
        _ if required => {
            panic!("AUTOCHASE_REQUIRE_DIST=1 but AUTOCHASE_DIST_DIR holds no SHA256SUMS")
        }
        _ => {
            eprintln!(
                "SKIPPED dist tests: AUTOCHASE_DIST_DIR is not set (`bash dist/build.sh` makes dist/out)"
            );
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn artifact(dir: &Path, suffix: &str) -> PathBuf {
    let name = format!("autochase-{}-{suffix}", env!("CARGO_PKG_VERSION"));
    let path = dir.join(&name);
    assert!(path.is_file(), "{name} missing");
    path
}

#[test]
fn the_four_artifacts_are_there_with_their_sums_and_without_the_wine_stub() {
    let Some(dir) = dist_dir() else { return };
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    listed.sort();
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        listed,
        [
            format!("autochase-{v}-x86_64-linux.tar.gz"),
            format!("autochase-{v}-x86_64-windows.msi"),
            format!("autochase-{v}-x86_64-windows.zip"),
        ]
    );
    run(Command::new("sha256sum")
        .arg("--check")
        .arg("--quiet")
        .arg("SHA256SUMS")
        .current_dir(&dir));
    let zip = run(Command::new("unzip")
        .arg("-Z1")
        .arg(artifact(&dir, "x86_64-windows.zip")));
    let tar = run(Command::new("tar")
        .arg("-tzf")
        .arg(artifact(&dir, "x86_64-linux.tar.gz")));
    let msi = run(Command::new("msiinfo")
        .args(["export"])
        .arg(artifact(&dir, "x86_64-windows.msi"))
        .arg("File"));
    for (what, listing) in [("zip", &zip), ("tar", &tar), ("msi", &msi)] {
        assert!(
            !listing.to_lowercase().contains("bcryptprimitives"),
            "{what}: {listing}"
        );
    }
    assert!(
        zip.contains("/autochase.exe") && zip.contains("/autochasew.exe"),
        "{zip}"
    );
    assert!(
        msi.contains("autochase.exe") && msi.contains("autochasew.exe"),
        "{msi}"
    );
    // What wixl cannot write, build.sh adds: the shortcut's app id and the user's PATH.
    let table = |name: &str| {
        run(Command::new("msiinfo")
            .arg("export")
            .arg(artifact(&dir, "x86_64-windows.msi"))
            .arg(name))
    };
    assert!(
        table("MsiShortcutProperty").contains("System.AppUserModel.ID\tio.github.autochase"),
        "the toast app id is desktop.rs's"
    );
    assert_eq!(autochase::desktop::APP_ID, "io.github.autochase");
    assert!(table("Environment").contains("=-PATH\t[~];[INSTALLDIR]"));
    assert!(
        run(Command::new("msiinfo")
            .arg("suminfo")
            .arg(artifact(&dir, "x86_64-windows.msi")))
        .contains("Source: 10"),
        "per-user: compressed, no elevation (Word Count 10)"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_linux_tarball_runs_anywhere_and_its_service_points_where_it_was_unpacked() {
    let Some(dir) = dist_dir() else { return };
    let unpacked = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(artifact(&dir, "x86_64-linux.tar.gz"))
        .arg("-C")
        .arg(unpacked.path()));
    let folder = unpacked.path().join(format!(
        "autochase-{}-x86_64-linux",
        env!("CARGO_PKG_VERSION")
    ));
    let exe = folder.join("autochase");
    // Static: no program interpreter (ld.so) to find on a SteamOS with nothing installed.
    let bytes = std::fs::read(&exe).unwrap();
    assert!(
        !bytes.windows(b"ld-linux".len()).any(|w| w == b"ld-linux"),
        "statically linked"
    );
    let home = unpacked.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let version = run(Command::new(&exe).arg("--version").env_clear());
    assert_eq!(
        version.trim(),
        format!("autochase {}", env!("CARGO_PKG_VERSION"))
    );
    let unit = run(Command::new(&exe)
        .args(["service", "install", "--dry-run"])
        .env_clear()
        .env("HOME", &home));
    assert!(
        unit.contains(&format!("ExecStart={} run\n", exe.display())),
        "{unit}"
    );
}

/// Whether an ELF64 little-endian executable names a program interpreter (PT_INTERP): a
/// dynamically linked one does, a static one does not.
#[cfg(target_os = "linux")]
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}

#[cfg(target_os = "linux")]
#[test]
fn the_interpreter_check_tells_a_dynamic_binary() {
    // This very test binary is dynamically linked.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert!(has_interpreter(&me));
}
