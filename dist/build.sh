#!/usr/bin/env bash
# Builds the downloads into dist/out (or $DIST_OUT), from a clean clone:
#   autochase-VERSION-x86_64-windows.msi   per-user installer (no admin rights)
#   autochase-VERSION-x86_64-windows.zip   the same files, to unpack anywhere
#   autochase-VERSION-x86_64-linux.tar.gz  a static (musl) binary: Steam Deck / SteamOS, any Linux
#   SHA256SUMS
# The version is Cargo.toml's. Needs: rustup targets x86_64-pc-windows-gnu and
# x86_64-unknown-linux-musl, mingw-w64, musl-tools, wixl and msitools, zip (.ci/run installs
# them all). Archives are made deterministic (sorted, owner 0, times from SOURCE_DATE_EPOCH,
# default the last commit's); the MSI carries wixl's own timestamps. The test-only Wine stub
# DLL is never part of any of them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${DIST_OUT:-$root/dist/out}
target_dir=${CARGO_TARGET_DIR:-$root/target}
version=$(cargo pkgid -p autochase | sed 's/.*[#@]//')
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
# No build machine paths in the binaries.
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$root=. --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo"

for tool in x86_64-w64-mingw32-gcc musl-gcc wixl msibuild zip; do
    command -v "$tool" >/dev/null || { echo "dist: $tool is missing (see the top of $0)" >&2; exit 1; }
done

echo "dist: autochase $version"
cargo build --locked --release --target x86_64-pc-windows-gnu --bin autochase --bin autochasew
CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --locked --release --target x86_64-unknown-linux-musl --bin autochase

rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
win_bin=$target_dir/x86_64-pc-windows-gnu/release
linux_bin=$target_dir/x86_64-unknown-linux-musl/release
touch_all() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# Windows zip.
win=$stage/autochase-$version-x86_64-windows
mkdir -p "$win"
cp "$win_bin/autochase.exe" "$win_bin/autochasew.exe" README.md config.example.toml "$win/"
touch_all "$win"
(cd "$stage" && find "$(basename "$win")" -type f | LC_ALL=C sort |
    TZ=UTC zip -X -q -9 "$out/$(basename "$win").zip" -@)

# Windows MSI: wixl, then the tables wixl has no element for.
# A product code per version, so that installing the same version twice is a repair.
product_code=$(python3 -c "import uuid,sys; print(uuid.uuid5(uuid.NAMESPACE_URL, 'autochase-msi-' + sys.argv[1]))" "$version")
msi=$out/autochase-$version-x86_64-windows.msi
# wixl takes sources relative to where it runs: it runs in a folder holding them all.
msi_stage=$stage/msi
mkdir -p "$msi_stage"
cp "$win"/* dist/autochase.wxs "$msi_stage/"
(cd "$msi_stage" && wixl -o "$msi" -D Version="$version" -D ProductCode="$product_code" \
    -D Bin=. -D Docs=. autochase.wxs)
tables=$stage/tables
mkdir -p "$tables"
# PATH: append the install folder to the user's PATH; uninstall removes just that part.
printf 'Environment\tName\tValue\tComponent_\ns72\tl255\tS255\ts72\nEnvironment\tEnvironment\nUserPath\t=-PATH\t[~];[INSTALLDIR]\tPrograms\n' \
    > "$tables/Environment.idt"
# The Start-menu shortcut carries the AppUserModelID of desktop.rs's toasts.
app_id=$(sed -n 's/^pub const APP_ID: &str = "\(.*\)";/\1/p' src/desktop.rs)
[ -n "$app_id" ] || { echo "dist: no APP_ID in src/desktop.rs" >&2; exit 1; }
printf 'MsiShortcutProperty\tShortcut_\tPropertyKey\tPropVariantValue\ns72\ts72\ts255\ts255\nMsiShortcutProperty\tMsiShortcutProperty\nAppUserModelId\tStartMenuShortcut\tSystem.AppUserModel.ID\t%s\n' \
    "$app_id" > "$tables/MsiShortcutProperty.idt"
msibuild "$msi" -i "$tables/Environment.idt"
msibuild "$msi" -i "$tables/MsiShortcutProperty.idt"
# wixl ignores Before=: the task must be removed inside the install script, before the files
# go; and the environment actions are not in wixl's sequence at all.
msibuild "$msi" -q "UPDATE InstallExecuteSequence SET Sequence = 3450 WHERE Action = 'RemoveLogonTask'"
msibuild "$msi" -q "INSERT INTO InstallExecuteSequence (Action, Sequence) VALUES ('RemoveEnvironmentStrings', 3300)"
msibuild "$msi" -q "INSERT INTO InstallExecuteSequence (Action, Sequence) VALUES ('WriteEnvironmentStrings', 5200)"

# Linux tarball: a static binary, runs on SteamOS with nothing installed.
lin=$stage/autochase-$version-x86_64-linux
mkdir -p "$lin"
cp "$linux_bin/autochase" README.md config.example.toml "$lin/"
cp systemd/autochase.service "$lin/"
touch_all "$lin"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -C "$stage" -cf - "$(basename "$lin")" | gzip -n -9 > "$out/$(basename "$lin").tar.gz"

(cd "$out" && sha256sum -- *.msi *.zip *.tar.gz > SHA256SUMS)
ls -l "$out"
cat "$out/SHA256SUMS"
