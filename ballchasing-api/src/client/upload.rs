//! Uploads: the [`Upload`] request (bytes in memory, or a file streamed from disk), the
//! multipart request, and the checks on the answer before it counts as a success.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use futures_util::stream;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tracing::warn;

use super::Client;
use super::http::decode_error;
use crate::enums::Visibility;
use crate::error::Error;
use crate::models::UploadOutcome;
use crate::response::{Operation, Response};

/// Where an upload's bytes come from.
#[derive(Debug, Clone)]
enum Source {
    Bytes(Bytes),
    File(PathBuf),
}

/// One replay to upload: its bytes (or a file to stream), the name ballchasing sees, and
/// where it goes. Visibility is always sent (public unless changed), never left to the
/// server's default.
///
/// ```
/// use ballchasing_api::{Upload, Visibility};
/// let up = Upload::from_path("/home/me/replays/4F2A.replay")
///     .visibility(Visibility::Private)
///     .group("my-season-k3j2h1");
/// assert_eq!(up.file_name(), "4F2A.replay"); // never the local path
/// ```
#[derive(Debug, Clone)]
pub struct Upload {
    file_name: String,
    source: Source,
    visibility: Visibility,
    group: Option<String>,
}

/// The file name ballchasing sees: the last path component of `name` (a local path never
/// leaves the machine), with `.replay` appended when missing.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let mut base = if base.is_empty() {
        "replay".to_owned()
    } else {
        base.to_owned()
    };
    if !base.to_ascii_lowercase().ends_with(".replay") {
        base.push_str(".replay");
    }
    base
}

impl Upload {
    /// An upload of `bytes` under `file_name` (only its last path component is sent;
    /// `.replay` is appended when missing).
    ///
    /// ```
    /// use ballchasing_api::Upload;
    /// let up = Upload::new("C:\\Users\\me\\Demos\\match", vec![0u8; 10]);
    /// assert_eq!(up.file_name(), "match.replay");
    /// ```
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Upload {
            file_name: clean_name(&file_name.into()),
            source: Source::Bytes(bytes.into()),
            visibility: Visibility::Public,
            group: None,
        }
    }

    /// An upload of the file at `path`, streamed from disk on each try (never held in memory
    /// whole); ballchasing sees only its file name. The file is opened when the upload is
    /// sent; a missing file is then an [`Error::Io`].
    ///
    /// ```
    /// use ballchasing_api::Upload;
    /// let up = Upload::from_path("replays/final.replay");
    /// assert_eq!(up.file_name(), "final.replay");
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Upload {
            file_name: clean_name(&name),
            source: Source::File(path.to_path_buf()),
            visibility: Visibility::Public,
            group: None,
        }
    }

    /// Sets the visibility.
    ///
    /// ```
    /// use ballchasing_api::{Upload, Visibility};
    /// let up = Upload::new("a.replay", vec![1u8]).visibility(Visibility::Unlisted);
    /// ```
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = visibility;
        self
    }

    /// Puts the replay in an existing group (not applied by ballchasing to a duplicate).
    ///
    /// ```
    /// use ballchasing_api::Upload;
    /// let up = Upload::new("a.replay", vec![1u8]).group("my-group-id");
    /// ```
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The file name sent.
    ///
    /// ```
    /// assert_eq!(ballchasing_api::Upload::new("x", vec![1u8]).file_name(), "x.replay");
    /// ```
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The bytes sent, for an upload made from memory (`None` for [`Upload::from_path`]).
    ///
    /// ```
    /// let up = ballchasing_api::Upload::new("x", vec![1u8, 2]);
    /// assert_eq!(up.bytes().map(|b| b.len()), Some(2));
    /// ```
    pub fn bytes(&self) -> Option<&Bytes> {
        match &self.source {
            Source::Bytes(bytes) => Some(bytes),
            Source::File(_) => None,
        }
    }

    /// The multipart body for one try: a fresh read of the file each time.
    fn part(&self, op: Operation) -> Result<Part, Error> {
        let part = match &self.source {
            Source::Bytes(bytes) => {
                Part::stream_with_length(reqwest::Body::from(bytes.clone()), bytes.len() as u64)
            }
            Source::File(path) => {
                let io = |source| Error::Io {
                    operation: op,
                    source,
                };
                let file = std::fs::File::open(path).map_err(io)?;
                let len = file.metadata().map_err(io)?.len();
                Part::stream_with_length(file_body(tokio::fs::File::from_std(file)), len)
            }
        };
        Ok(part
            .file_name(self.file_name.clone())
            .mime_str("application/octet-stream")
            .expect("static mime type parses"))
    }
}

/// A request body that reads `file` in 64 KiB chunks.
fn file_body(file: tokio::fs::File) -> reqwest::Body {
    reqwest::Body::wrap_stream(stream::try_unfold(file, |mut file| async move {
        let mut chunk = BytesMut::with_capacity(64 * 1024);
        let n = file.read_buf(&mut chunk).await?;
        Ok::<_, std::io::Error>((n > 0).then(|| (chunk.freeze(), file)))
    }))
}

/// The body of a 201 or 409 upload answer.
#[derive(Debug, Deserialize)]
struct UploadBody {
    id: String,
    location: Option<String>,
}

/// A replay id as ballchasing makes them (UUIDs): 1 to 64 of `A-Z a-z 0-9 - _`.
fn is_replay_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for an `https` page on ballchasing.com (or the API's own https host), default port,
/// no user name.
fn is_safe_location(location: &str, api: &reqwest::Url) -> bool {
    let Ok(url) = reqwest::Url::parse(location) else {
        return false;
    };
    let host_ok = match url.host_str() {
        Some(host) => {
            host.eq_ignore_ascii_case("ballchasing.com")
                || (api.scheme() == "https" && Some(host) == api.host_str())
        }
        None => false,
    };
    url.scheme() == "https"
        && host_ok
        && url.port().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

impl Client {
    /// `POST /v2/upload`. A 409 is `Ok(UploadOutcome::Duplicate)` carrying the existing
    /// replay; repeating an upload whose answer was lost is therefore safe.
    ///
    /// The answer is checked before it counts: an id that is not a replay id (empty, longer
    /// than 64, or other than `A-Z a-z 0-9 - _`) is an [`Error::Decode`]; a `location` that
    /// is not an `https` page on ballchasing.com is replaced by
    /// `https://ballchasing.com/replay/<id>`.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// use ballchasing_api::{Upload, Visibility};
    /// let up = client
    ///     .upload(&Upload::from_path("match.replay").visibility(Visibility::Private))
    ///     .await?;
    /// println!("{} at {} (duplicate: {})", up.value.id(), up.value.location(), up.value.is_duplicate());
    /// # Ok(()) }
    /// ```
    pub async fn upload(&self, upload: &Upload) -> Result<Response<UploadOutcome>, Error> {
        let op = Operation::Upload;
        let url = self.url(&["v2", "upload"]);
        let mut query = vec![("visibility", upload.visibility.to_string())];
        if let Some(group) = &upload.group {
            query.push(("group", group.clone()));
        }
        let (resp, attempts) = self
            .send(op, || {
                Ok(self
                    .inner
                    .http
                    .post(url.clone())
                    .query(&query)
                    .multipart(Form::new().part("file", upload.part(op)?)))
            })
            .await?;
        let raw = self
            .read_body(op, resp, attempts, self.inner.body_limits.upload_answer)
            .await?;
        let body: UploadBody = self.decode(op, &raw)?;
        if !is_replay_id(&body.id) {
            return Err(decode_error(
                op,
                &raw,
                "id",
                "not a replay id (expected 1 to 64 of A-Z a-z 0-9 - _)",
                &self.inner.token,
            ));
        }
        let page = format!("https://ballchasing.com/replay/{}", body.id);
        let location = match body.location {
            Some(location) if is_safe_location(&location, &self.inner.base) => location,
            Some(location) => {
                let shown = crate::excerpt::truncate(&self.inner.token.scrub(&location));
                warn!(replay = %body.id, location = %shown, "upload answer pointed off ballchasing.com; using the replay's page");
                page
            }
            None => page,
        };
        let value = if raw.status == StatusCode::CONFLICT {
            UploadOutcome::Duplicate {
                id: body.id,
                location,
            }
        } else {
            UploadOutcome::Created {
                id: body.id,
                location,
            }
        };
        Ok(Response {
            operation: op,
            value,
            response: raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_name_leaves_the_machine() {
        let cases = [
            ("/home/me/replays/A1.replay", "A1.replay"),
            ("C:\\Users\\me\\Demos\\B2.replay", "B2.replay"),
            ("plain", "plain.replay"),
            ("dir/", "replay.replay"),
            ("X.REPLAY", "X.REPLAY"),
        ];
        for (given, sent) in cases {
            assert_eq!(clean_name(given), sent, "{given}");
        }
    }

    #[test]
    fn ids_and_locations_are_checked() {
        assert!(is_replay_id("2d7a0f4c-8b1e-4c5a-9f0e-1a2b3c4d5e6f"));
        for bad in ["", "a/b", "a b", "<x>", &"x".repeat(65)] {
            assert!(!is_replay_id(bad), "{bad}");
        }
        let api = reqwest::Url::parse("https://ballchasing.com/api").unwrap();
        assert!(is_safe_location("https://ballchasing.com/replay/x", &api));
        assert!(is_safe_location("https://BALLCHASING.com/replay/x", &api));
        for bad in [
            "javascript:alert(1)",
            "http://ballchasing.com/replay/x",
            "https://ballchasing.com:444/replay/x",
            "https://evil.example/replay/x",
            "//ballchasing.com/replay/x",
        ] {
            assert!(!is_safe_location(bad, &api), "{bad}");
        }
        let mirror = reqwest::Url::parse("https://mirror.example/api").unwrap();
        assert!(is_safe_location("https://mirror.example/replay/x", &mirror));
    }
}
