//! The upload of one replay, on a task of its own: read and validate the file once more,
//! send exactly those bytes, and after a success set its title and group (one PATCH), which
//! can never make the upload a failure.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::check::{self, Complete, FileCheck};
use crate::api::{Client, Error as ApiError, NewGroup, ReplayPatch, Upload, UploadOutcome};
use crate::config::Config;
use crate::groups::{self, GroupEntry, Placement};
use crate::replay::ReplayInfo;

/// How an upload task ended.
#[derive(Debug)]
pub enum UploadEnd {
    /// The file no longer holds a complete copy of the queued replay: nothing was sent.
    Changed(Box<FileCheck>),
    /// ballchasing answered (or could not be reached).
    Answered(Box<Answered>),
}

/// What was sent and what ballchasing said.
#[derive(Debug)]
pub struct Answered {
    /// What was sent.
    pub file: Complete,
    /// The answer.
    pub result: Result<UploadOutcome, ApiError>,
    /// Title and group, after a success.
    pub post: PostUpload,
}

/// Title and group, set after an upload; none of it can make the upload a failure.
#[derive(Debug, Default)]
pub struct PostUpload {
    /// The title set, or why not.
    pub title: Option<Result<String, String>>,
    /// The group the replay was put in, or why not.
    pub group: Option<Result<String, String>>,
    /// A group created or grown, to remember.
    pub remember: Option<GroupEntry>,
    /// Something the user should know, e.g. whose duplicate it is.
    pub note: Option<String>,
    /// The token's account (SteamID64), once learned.
    pub account: Option<String>,
}

/// ballchasing's map names (code → name), asked once per run when a title shows the map.
pub type MapNames = Arc<tokio::sync::OnceCell<crate::api::Maps>>;

/// An upload under way.
pub struct InFlight {
    /// The file.
    pub path: PathBuf,
    /// The replay's Id.
    pub id: String,
    /// The task.
    pub task: JoinHandle<UploadEnd>,
}

/// What an upload needs besides the file: the client and config it runs with, and what is
/// known so far (map names, the groups made, the token's account).
pub struct Context {
    /// The API client.
    pub client: Client,
    /// ballchasing's map names, for titles.
    pub maps: MapNames,
    /// The config of this upload.
    pub config: Arc<Config>,
    /// The automatic groups made so far.
    pub groups: Vec<GroupEntry>,
    /// The token's account (SteamID64), once learned.
    pub account: Option<String>,
}

/// Starts the upload of `path` (replay `id`) on a task of its own.
pub fn start(cx: Context, path: PathBuf, id: String) -> InFlight {
    let task_path = path.clone();
    let queued_id = id.clone();
    let task = tokio::spawn(async move {
        let Context {
            ref client,
            ref config,
            ..
        } = cx;
        let read_path = task_path.clone();
        let max = config.max_replay_size;
        // Upload exactly the bytes validated here, read once, right before sending.
        let read = tokio::task::spawn_blocking(move || check::read_for_upload(&read_path, max))
            .await
            .unwrap_or_else(|e| Err(Box::new(FileCheck::Unreadable(e.to_string()))));
        let (file, bytes) = match read {
            // Overwritten in place by another replay since it was queued: not this one.
            Ok((file, _)) if file.id(&task_path) != queued_id => {
                return UploadEnd::Changed(Box::new(FileCheck::Complete(Box::new(file))));
            }
            Ok(read) => read,
            Err(check) => return UploadEnd::Changed(check),
        };
        let mut upload =
            Upload::new(check::file_name(&task_path), bytes).visibility(config.visibility.clone());
        // A fixed group goes with the upload; automatic groups are chosen after it.
        if config.group_rule.is_none()
            && let Some(group) = &config.group
        {
            upload = upload.group(group.clone());
        }
        let result = client.upload(&upload).await.map(|r| r.value);
        drop(upload);
        let post = match &result {
            Ok(outcome) => {
                let fallback = i64::try_from(file.mtime_ns / 1_000_000_000).unwrap_or(0);
                after_upload(&cx, &file.info, outcome, fallback).await
            }
            Err(_) => PostUpload::default(),
        };
        UploadEnd::Answered(Box::new(Answered { file, result, post }))
    });
    InFlight { path, id, task }
}

/// After an upload: for a replay we created, its title and its group; for a duplicate, its
/// group only when it is ours (ballchasing does not apply `group` to a duplicate, and a
/// teammate's replay is not ours to move). One PATCH carries both.
async fn after_upload(
    cx: &Context,
    info: &ReplayInfo,
    outcome: &UploadOutcome,
    fallback_time: i64,
) -> PostUpload {
    let (client, config, groups) = (&cx.client, &*cx.config, &cx.groups[..]);
    let mut out = PostUpload::default();
    let created = !outcome.is_duplicate();
    let wants_group = config.group_rule.is_some() || config.group.is_some();
    let mut ours = created;
    if !created && wants_group {
        let account = match cx.account.clone() {
            Some(a) => Some(a),
            None => client.ping().await.ok().and_then(|p| p.value.steam_id),
        };
        out.account = account.clone();
        match client.get_replay(outcome.id()).await {
            Ok(replay) => {
                let uploader = replay.value.uploader().cloned();
                let theirs = uploader.as_ref().and_then(|u| u.steam_id.clone());
                ours = account.is_some() && theirs == account;
                if !ours {
                    let who = uploader
                        .and_then(|u| u.name)
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    out.note = Some(format!("duplicate, owned by another uploader{who}"));
                }
            }
            Err(e) => out.note = Some(format!("duplicate; its uploader could not be checked: {e}")),
        }
    }
    let mut patch = ReplayPatch::new();
    let mut title = None;
    let map_names = match &config.title {
        Some(template) if created && template.uses_map() => {
            // Asked once per run; a failure leaves codes in titles rather than holding one.
            cx.maps
                .get_or_init(|| async { client.maps().await.map(|r| r.value).unwrap_or_default() })
                .await
                .clone()
        }
        _ => Default::default(),
    };
    if created
        && let Some(template) = &config.title
        && let Some(t) = template.render(info, &map_names)
    {
        patch = patch.title(t.clone());
        title = Some(t);
    }
    let mut group = None;
    if ours {
        match (&config.group_rule, &config.group) {
            (Some(rule), _) => match rule.place(groups, groups::match_time(info, fallback_time)) {
                Placement::Existing(entry) => {
                    group = Some(entry.id.clone());
                    out.remember = Some(entry);
                }
                Placement::New { key, name, at } => {
                    let mut new = NewGroup::new(name.clone());
                    new.parent = rule.parent.clone();
                    match client.create_group(&new).await {
                        Ok(made) => {
                            group = Some(made.value.id.clone());
                            out.remember = Some(GroupEntry {
                                key,
                                id: made.value.id,
                                name,
                                first: at,
                                last: at,
                            });
                        }
                        Err(e) => out.group = Some(Err(format!("cannot create group {name}: {e}"))),
                    }
                }
            },
            // A created replay got the fixed group with the upload.
            (None, Some(fixed)) if !created => group = Some(fixed.clone()),
            (None, Some(fixed)) => out.group = Some(Ok(fixed.clone())),
            (None, None) => {}
        }
        if let Some(g) = &group {
            patch = patch.group(g.clone());
        }
    }
    if !patch.is_empty() {
        let patched = client
            .patch_replay(outcome.id(), &patch)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        out.title = title.map(|t| patched.clone().map(|()| t));
        if let Some(g) = group {
            out.group = Some(patched.map(|()| g));
        }
    }
    out
}

/// Waits for the upload in flight, or forever when there is none (for `select!`).
pub async fn finished(flight: &mut Option<InFlight>) -> Result<UploadEnd, tokio::task::JoinError> {
    match flight {
        Some(flight) => (&mut flight.task).await,
        None => std::future::pending().await,
    }
}
