//! Group endpoints: create, list (page, pages, items), get (typed or as any type), patch,
//! delete; and what is built on them: every replay of a group and its children, and
//! downloading a whole group as a folder tree.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures_util::stream;
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::Client;
use super::http::{check_id, invalid};
use super::pages::{Items, flatten_pages};
use super::replays::file_stem;
use crate::error::Error;
use crate::models::{CreatedGroup, Group, GroupPage, GroupSummary, NewGroup, ReplaySummary};
use crate::params::{GroupFilter, GroupPatch, ReplayFilter};
use crate::response::{Operation, Response};

type Result<T, E = Error> = std::result::Result<T, E>;

/// A replay found under a group, with where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReplay {
    /// Group ids from the group asked for down to the one that holds the replay directly.
    pub path: Vec<String>,
    /// The replay, as the replay list gives it.
    pub replay: ReplaySummary,
}

impl Client {
    /// `POST /groups`. ballchasing answers 400 when the name is taken.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// use ballchasing_api::{NewGroup, PlayerIdentification};
    /// let made = client
    ///     .create_group(&NewGroup::new("Season 12").player_identification(PlayerIdentification::ByName))
    ///     .await?;
    /// println!("created {}", made.value.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_group(&self, group: &NewGroup) -> Result<Response<CreatedGroup>> {
        let op = Operation::CreateGroup;
        if group.name.trim().is_empty() {
            return Err(invalid(op, "a group needs a name"));
        }
        self.json(op, Method::POST, &["groups"], &[], Some(group))
            .await
    }

    /// `GET /groups`: one page.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let page = client.list_groups(&ballchasing_api::GroupFilter::mine().count(20)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_groups(&self, filter: &GroupFilter) -> Result<Response<GroupPage>> {
        let op = Operation::ListGroups;
        let query = filter.to_query().map_err(|reason| invalid(op, reason))?;
        self.json(op, Method::GET, &["groups"], &query, None::<&()>)
            .await
    }

    /// `GET /groups`, every page.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let pages = client.group_pages(&ballchasing_api::GroupFilter::mine()).collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub fn group_pages(&self, filter: &GroupFilter) -> Items<Response<GroupPage>> {
        self.pages(Operation::ListGroups, "groups", filter.to_query())
    }

    /// `GET /groups`, every matching group across all pages.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut groups = client.groups(&ballchasing_api::GroupFilter::mine());
    /// while let Some(group) = groups.next().await {
    ///     println!("{}", group?.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn groups(&self, filter: &GroupFilter) -> Items<GroupSummary> {
        flatten_pages(self.group_pages(filter), |page| page.list)
    }

    /// `GET /groups/{id}`: the group with per-player and per-team stats, typed.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let group = client.get_group("season-12-x1y2").await?.value;
    /// for player in &group.players {
    ///     let wins = player.cumulative.as_ref().and_then(|c| c.wins).unwrap_or(0.0);
    ///     println!("{:?}: {wins} wins", player.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_group(&self, id: &str) -> Result<Response<Group>> {
        self.get_group_as(id).await
    }

    /// `GET /groups/{id}` decoded as any `T` (`serde_json::Value` for the raw answer).
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let raw = client.get_group_as::<serde_json::Value>("season-12-x1y2").await?.value;
    /// # Ok(()) }
    /// ```
    pub async fn get_group_as<T: DeserializeOwned>(&self, id: &str) -> Result<Response<T>> {
        let op = Operation::GetGroup;
        let id = check_id(op, id)?;
        self.json(op, Method::GET, &["groups", id], &[], None::<&()>)
            .await
    }

    /// `PATCH /groups/{id}`. An empty patch is refused instead of sent.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// use ballchasing_api::GroupPatch;
    /// client.patch_group("season-12-x1y2", &GroupPatch::new().shared(false)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch_group(&self, id: &str, patch: &GroupPatch) -> Result<Response<()>> {
        let op = Operation::PatchGroup;
        let id = check_id(op, id)?;
        if patch.is_empty() {
            return Err(invalid(op, "the patch changes nothing"));
        }
        self.no_content(op, Method::PATCH, &["groups", id], Some(patch))
            .await
    }

    /// `DELETE /groups/{id}`: deletes the group and its child groups, permanently.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// client.delete_group("season-12-x1y2").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_group(&self, id: &str) -> Result<Response<()>> {
        let op = Operation::DeleteGroup;
        let id = check_id(op, id)?;
        self.no_content(op, Method::DELETE, &["groups", id], None::<&()>)
            .await
    }

    /// Every replay in a group and, recursively, in its child groups (depth first: a group's
    /// own replays, then each child's). A group seen twice is walked once.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut all = client.group_replays("season-12-x1y2");
    /// while let Some(found) = all.next().await {
    ///     let found = found?;
    ///     println!("{} in {}", found.replay.id, found.path.join("/"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn group_replays(&self, id: &str) -> Items<GroupReplay> {
        struct Walk {
            client: Client,
            /// Groups still to visit, as paths from the root.
            todo: Vec<Vec<String>>,
            seen: HashSet<String>,
            current: Option<(Vec<String>, Items<ReplaySummary>)>,
        }
        let walk = Walk {
            client: self.clone(),
            todo: vec![vec![id.trim().to_owned()]],
            seen: HashSet::new(),
            current: None,
        };
        Items::new(stream::unfold(Some(walk), |walk| async move {
            let mut walk = walk?;
            loop {
                if let Some((path, replays)) = &mut walk.current {
                    match replays.next().await {
                        Some(Ok(replay)) => {
                            let path = path.clone();
                            return Some((Ok(GroupReplay { path, replay }), Some(walk)));
                        }
                        Some(Err(e)) => return Some((Err(e), None)),
                        None => walk.current = None,
                    }
                }
                let path = walk.todo.pop()?;
                let group = path.last().expect("paths are never empty").clone();
                if !walk.seen.insert(group.clone()) {
                    continue;
                }
                let children = walk
                    .client
                    .groups(&GroupFilter::new().children_of(group.clone()))
                    .collect_all()
                    .await;
                match children {
                    Ok(children) => walk.todo.extend(children.into_iter().rev().map(|c| {
                        let mut child = path.clone();
                        child.push(c.id);
                        child
                    })),
                    Err(e) => return Some((Err(e), None)),
                }
                let replays = walk.client.replays(&ReplayFilter::new().group(group));
                walk.current = Some((path, replays));
            }
        }))
    }

    /// Downloads every replay of a group and its child groups into `folder`, one subfolder
    /// per group (`folder/<group>/<child>/<replay id>.replay`). Returns the files written.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let files = client.download_group("season-12-x1y2", "downloads").await?;
    /// println!("{} replays", files.len());
    /// # Ok(()) }
    /// ```
    pub async fn download_group(&self, id: &str, folder: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let op = Operation::DownloadReplay;
        let mut written = Vec::new();
        let mut replays = self.group_replays(id);
        while let Some(found) = replays.next().await {
            let found = found?;
            let mut dir = folder.as_ref().to_path_buf();
            dir.extend(found.path.iter().map(|g| file_stem(g)));
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|source| Error::Io {
                    operation: op,
                    source,
                })?;
            let file = dir.join(format!("{}.replay", file_stem(&found.replay.id)));
            written.push(
                self.download_replay_to(&found.replay.id, file)
                    .await?
                    .value
                    .path,
            );
        }
        Ok(written)
    }
}
