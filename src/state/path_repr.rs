//! Paths in the journal: a JSON string when the path is Unicode (always, in practice), else
//! its raw OS form, so a file named in another encoding still round-trips exactly.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Text(String),
    Unix { unix_bytes: Vec<u8> },
    Windows { windows_wide: Vec<u16> },
}

pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    if let Some(text) = path.to_str() {
        return s.serialize_str(text);
    }
    #[cfg(unix)]
    let repr = {
        use std::os::unix::ffi::OsStrExt;
        Repr::Unix {
            unix_bytes: path.as_os_str().as_bytes().to_vec(),
        }
    };
    #[cfg(windows)]
    let repr = {
        use std::os::windows::ffi::OsStrExt;
        Repr::Windows {
            windows_wide: path.as_os_str().encode_wide().collect(),
        }
    };
    #[cfg(not(any(unix, windows)))]
    let repr = Repr::Text(path.to_string_lossy().into_owned());
    repr.serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    Ok(match Repr::deserialize(d)? {
        Repr::Text(text) => PathBuf::from(text),
        Repr::Unix { unix_bytes } => from_unix(unix_bytes),
        Repr::Windows { windows_wide } => from_windows(windows_wide),
    })
}

#[cfg(unix)]
fn from_unix(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn from_unix(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(windows)]
fn from_windows(wide: Vec<u16>) -> PathBuf {
    use std::os::windows::ffi::OsStringExt;
    PathBuf::from(OsString::from_wide(&wide))
}

#[cfg(not(windows))]
fn from_windows(wide: Vec<u16>) -> PathBuf {
    PathBuf::from(String::from_utf16_lossy(&wide))
}
