//! One replay's record and one invalid file's, the pause of every upload, and the
//! transitions a record goes through (waiting, uploaded, refused, skipped).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{now_rfc3339, path_repr};

/// Where a replay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to be uploaded (or parked).
    Pending,
    /// On ballchasing.
    Uploaded,
    /// Refused for good by ballchasing (a 400); `retry` puts it back. Written `failed` in
    /// the journal, as in every version so far.
    #[serde(rename = "failed")]
    Refused,
    /// Deliberately not uploaded (present before its folder was first seen, or filtered).
    Skipped,
    /// Its file was deleted, or now holds something else, before it could be uploaded. If
    /// the replay shows up again it is queued again.
    Missing,
}

/// How an uploaded replay got there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 201: we created it.
    Created,
    /// 409: ballchasing already had it.
    Duplicate,
}

/// One replay, keyed by its header `Id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Header `Id` (or the file stem when the header has none).
    pub id: String,
    /// Last path it was seen at.
    #[serde(with = "path_repr")]
    pub path: PathBuf,
    /// Size of the validated file.
    pub size: u64,
    /// Modification time of the validated file (ns since the epoch), to skip unchanged files.
    #[serde(default)]
    pub mtime_ns: u64,
    /// A fingerprint of the validated content: its CRCs and length (version 1 kept a
    /// SHA-256 here, read as a fingerprint like any other).
    #[serde(alias = "sha256")]
    pub digest: String,
    /// Where it stands.
    pub status: Status,
    /// Created or duplicate, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// When it went up (RFC 3339); `updated` moves on with later changes (a title, a rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<String>,
    /// ballchasing's replay id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ballchasing_id: Option<String>,
    /// ballchasing's page for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The title autochase gave it on ballchasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Why the title could not be set (the upload itself succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_error: Option<String>,
    /// The group autochase put it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Something worth knowing, e.g. "duplicate, owned by another uploader".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Upload attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last error or the reason it is failed/skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Taken out of sight by `autochase forget`: kept, so that its file is never taken for a
    /// new replay (a deleted file back from an SD card, a copy left in the folder).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forgotten: bool,
    /// When first seen (RFC 3339).
    pub first_seen: String,
    /// When last changed (RFC 3339).
    pub updated: String,
}

impl Record {
    /// A new pending record for the replay `id` found at `path`.
    pub fn pending(id: String, path: PathBuf) -> Record {
        let now = now_rfc3339();
        Record {
            id,
            path,
            size: 0,
            mtime_ns: 0,
            digest: String::new(),
            status: Status::Pending,
            outcome: None,
            uploaded_at: None,
            ballchasing_id: None,
            location: None,
            title: None,
            title_error: None,
            group: None,
            note: None,
            attempts: 0,
            last_error: None,
            forgotten: false,
            first_seen: now.clone(),
            updated: now,
        }
    }

    /// Notes the file this replay was last validated as; true when anything changed.
    pub fn seen_as(&mut self, path: &Path, size: u64, mtime_ns: u64, digest: &str) -> bool {
        let changed = self.path != path
            || self.size != size
            || self.mtime_ns != mtime_ns
            || self.digest != digest;
        if changed {
            self.path = path.to_path_buf();
            self.size = size;
            self.mtime_ns = mtime_ns;
            self.digest = digest.to_owned();
            self.updated = now_rfc3339();
        }
        changed
    }

    /// In the queue for its upload (the last error, if any, stays until the next try).
    pub fn queued(&mut self) {
        self.status = Status::Pending;
        self.forgotten = false;
        self.updated = now_rfc3339();
    }

    /// Waiting for (another) upload; `error` is why the last one did not work.
    pub fn wait(&mut self, error: Option<String>) {
        self.status = Status::Pending;
        self.last_error = error;
        self.updated = now_rfc3339();
    }

    /// On ballchasing: created by this upload or found there already.
    pub fn uploaded(&mut self, outcome: Outcome, ballchasing_id: &str, location: &str) {
        let now = now_rfc3339();
        self.status = Status::Uploaded;
        self.uploaded_at = Some(now.clone());
        self.forgotten = false;
        self.outcome = Some(outcome);
        self.ballchasing_id = Some(ballchasing_id.to_owned());
        self.location = Some(location.to_owned());
        self.last_error = None;
        self.updated = now;
    }

    /// Refused for good by ballchasing; `autochase retry` puts it back.
    pub fn refused(&mut self, reason: String) {
        self.status = Status::Refused;
        self.last_error = Some(reason);
        self.updated = now_rfc3339();
    }

    /// Its file no longer holds it (deleted, truncated, overwritten) before its upload.
    pub fn missing(&mut self, reason: String) {
        self.status = Status::Missing;
        self.last_error = Some(reason);
        self.updated = now_rfc3339();
    }

    /// Deliberately not uploaded, for `reason`.
    pub fn skipped(&mut self, reason: String) {
        self.status = Status::Skipped;
        self.last_error = Some(reason);
        self.updated = now_rfc3339();
    }

    /// Out of sight on request (`autochase forget`): a replay not on ballchasing becomes
    /// skipped, so its file is never uploaded unless someone asks for it by name. Applied
    /// again when the journal is read, so it changes nothing else (not even `updated`).
    pub fn forget(&mut self) {
        self.forgotten = true;
        if !matches!(self.status, Status::Uploaded | Status::Skipped) {
            self.status = Status::Skipped;
            self.last_error = Some(FORGOTTEN_REASON.into());
        }
    }

    /// True for a replay skipped for its age: there before autochase first saw its folder,
    /// or copied in later with a date from before then. `autochase backfill` uploads these.
    pub fn backfillable(&self) -> bool {
        self.status == Status::Skipped
            && !self.forgotten
            && matches!(
                self.last_error.as_deref(),
                Some(BASELINE_REASON | OLDER_REASON)
            )
    }
}

/// Why a replay already there when its folder was first seen is not uploaded, and how to.
pub const BASELINE_REASON: &str =
    "already there when autochase first saw its folder; `autochase backfill` uploads it";
/// Why a replay copied into a folder with a date from before autochase first saw that folder
/// (a restored backup, a copy that kept its dates) is not uploaded, and how to.
pub const OLDER_REASON: &str = "dated before autochase first saw its folder (a copy or a restored backup); `autochase backfill` uploads it";
/// Why a forgotten replay is not uploaded, and how to.
pub const FORGOTTEN_REASON: &str = "forgotten on request; `autochase upload FILE` uploads it";

/// A replay folder whose replays already there have been recorded: new replays in it are
/// uploaded; a folder seen for the first time gets a baseline first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// Its identity (`platform::path_key`: canonical, case-folded on Windows).
    pub key: String,
    /// The folder as it was found.
    #[serde(with = "path_repr")]
    pub path: PathBuf,
    /// When its baseline was done (RFC 3339).
    pub since: String,
}

/// A file that never became a valid replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvalidFile {
    /// The file.
    #[serde(with = "path_repr")]
    pub path: PathBuf,
    /// Its size when judged.
    pub size: u64,
    /// Its mtime when judged (ns since the epoch).
    #[serde(default)]
    pub mtime_ns: u64,
    /// Why it is not uploaded.
    pub reason: String,
    /// When judged (RFC 3339).
    pub at: String,
    /// Taken out of sight by `autochase forget`: kept, so that the same file (same size and
    /// mtime) is not judged again and shown again; a changed file is judged afresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forgotten: bool,
}

/// Why every upload stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseCause {
    /// The upload quota is used up.
    Quota,
    /// ballchasing refused the token.
    Token,
    /// The upload address answered "not found" or pointed elsewhere: `api_url` is wrong.
    Endpoint,
    /// ballchasing asked to wait a long while (`Retry-After`).
    RateLimit,
    /// ballchasing kept failing (server errors, no answer): every upload backs off.
    Trouble,
}

/// Uploads parked until a moment, recorded so that `status` can say so and a restart does
/// not probe ballchasing again before then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    /// Why.
    pub cause: PauseCause,
    /// The answer that caused it.
    pub reason: String,
    /// Until when (RFC 3339).
    pub until: String,
    /// ballchasing said how long (`Retry-After`); otherwise the wait is autochase's own
    /// guess, which a person's request may cut short.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub told: bool,
    /// When a command running alone (`upload` with no daemon) last tried through it (RFC
    /// 3339), so that commands in a row try at most once a minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tried: Option<String>,
}

impl Pause {
    /// A pause of `wait` from now, `told` when ballchasing named its length.
    pub fn new(cause: PauseCause, reason: String, wait: std::time::Duration, told: bool) -> Pause {
        Pause {
            cause,
            reason,
            until: crate::dates::utc(SystemTime::now() + wait),
            told,
            tried: None,
        }
    }

    /// Time left, or `None` when it is over (or the time does not parse).
    pub fn remaining(&self) -> Option<std::time::Duration> {
        let until = crate::dates::parse_utc(&self.until)?;
        until
            .duration_since(SystemTime::now())
            .ok()
            .filter(|d| !d.is_zero())
    }
}
