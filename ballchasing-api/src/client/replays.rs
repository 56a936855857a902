//! Replay endpoints: list (one page, every page, every item, the total count, full details
//! for each), get (typed or as any `Deserialize` type), patch, delete, download.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::Client;
use super::http::{check_id, invalid, transport};
use super::pages::{Items, flatten_pages};
use crate::error::Error;
use crate::models::{Replay, ReplayPage, ReplaySummary};
use crate::params::{ReplayFilter, ReplayPatch};
use crate::response::{Operation, RawResponse, Response};

type Result<T, E = Error> = std::result::Result<T, E>;

/// A replay file written to disk by [`Client::download_replay_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A file name made of `id`: characters other than `A-Z a-z 0-9 - _ .` become `_`, so a
/// server-sent id can never climb out of the folder.
pub(super) fn file_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match stem.trim_matches('.') {
        "" => "_".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

impl Client {
    /// `GET /replays`: one page (the API's `count` is the page size, 1 to 200).
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// use ballchasing_api::{Playlist, ReplayFilter};
    /// let page = client.list_replays(&ReplayFilter::new().playlist(Playlist::RankedDoubles).count(10)).await?;
    /// println!("{} of {:?} matches", page.value.list.len(), page.value.count);
    /// # Ok(()) }
    /// ```
    pub async fn list_replays(&self, filter: &ReplayFilter) -> Result<Response<ReplayPage>> {
        let op = Operation::ListReplays;
        let query = filter.to_query().map_err(|reason| invalid(op, reason))?;
        self.json(op, Method::GET, &["replays"], &query, None::<&()>)
            .await
    }

    /// `GET /replays`, every page: re-sends the filter with each page's `after` cursor and
    /// refuses a `next` link that leaves the API.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut pages = client.replay_pages(&ballchasing_api::ReplayFilter::mine());
    /// while let Some(page) = pages.next().await {
    ///     println!("{} replays on this page", page?.value.list.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replay_pages(&self, filter: &ReplayFilter) -> Items<Response<ReplayPage>> {
        self.pages(Operation::ListReplays, "replays", filter.to_query())
    }

    /// `GET /replays`, every matching replay across all pages.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut replays = client.replays(&ballchasing_api::ReplayFilter::mine());
    /// while let Some(replay) = replays.next().await {
    ///     let replay = replay?;
    ///     println!("{} {:?}", replay.id, replay.replay_title);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replays(&self, filter: &ReplayFilter) -> Items<ReplaySummary> {
        flatten_pages(self.replay_pages(filter), |page| page.list)
    }

    /// The full detail ([`GET /replays/{id}`](Client::get_replay)) of every replay the filter
    /// lists, one after the other (each is a core call, paced as such).
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut details = client.replay_details(&ballchasing_api::ReplayFilter::mine()).limit(3);
    /// while let Some(replay) = details.next().await {
    ///     println!("{:?} on {:?}", replay?.title, "map");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replay_details(&self, filter: &ReplayFilter) -> Items<Replay> {
        let client = self.clone();
        Items::new(self.replays(filter).then(move |summary| {
            let client = client.clone();
            async move { Ok(client.get_replay(&summary?.id).await?.value) }
        }))
    }

    /// How many replays match the filter in all (one request of one item).
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let n = client.count_replays(&ballchasing_api::ReplayFilter::mine()).await?;
    /// println!("{n} replays uploaded");
    /// # Ok(()) }
    /// ```
    pub async fn count_replays(&self, filter: &ReplayFilter) -> Result<u64> {
        let page = self.list_replays(&filter.clone().count(1)).await?;
        Ok(page.value.count.unwrap_or(page.value.list.len() as u64))
    }

    /// `GET /replays/{id}`: the replay in whatever processing state it is
    /// ([`Replay::status`]), with every stat typed.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let replay = client.get_replay("2d7a0f4c-8b1e-4c5a-9f0e-1a2b3c4d5e6f").await?.value;
    /// for (color, player) in replay.players() {
    ///     let goals = player.core().and_then(|c| c.goals).unwrap_or(0.0);
    ///     println!("{color} {:?}: {goals} goals", player.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_replay(&self, id: &str) -> Result<Response<Replay>> {
        self.get_replay_as(id).await
    }

    /// `GET /replays/{id}` decoded as any `T`: `serde_json::Value` for the raw answer, or a
    /// struct of your own with just the fields you need.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let raw = client.get_replay_as::<serde_json::Value>("2d7a0f4c").await?.value;
    /// println!("{}", raw["blue"]["players"][0]["stats"]["core"]["goals"]);
    /// # Ok(()) }
    /// ```
    pub async fn get_replay_as<T: DeserializeOwned>(&self, id: &str) -> Result<Response<T>> {
        let op = Operation::GetReplay;
        let id = check_id(op, id)?;
        self.json(op, Method::GET, &["replays", id], &[], None::<&()>)
            .await
    }

    /// `PATCH /replays/{id}`. An empty patch is refused instead of sent.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// use ballchasing_api::ReplayPatch;
    /// client.patch_replay("2d7a0f4c", &ReplayPatch::new().title("Grand final, game 7")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch_replay(&self, id: &str, patch: &ReplayPatch) -> Result<Response<()>> {
        let op = Operation::PatchReplay;
        let id = check_id(op, id)?;
        if patch.is_empty() {
            return Err(invalid(op, "the patch changes nothing"));
        }
        self.no_content(op, Method::PATCH, &["replays", id], Some(patch))
            .await
    }

    /// `DELETE /replays/{id}`: permanent.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// client.delete_replay("2d7a0f4c").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_replay(&self, id: &str) -> Result<Response<()>> {
        let op = Operation::DeleteReplay;
        let id = check_id(op, id)?;
        self.no_content(op, Method::DELETE, &["replays", id], None::<&()>)
            .await
    }

    /// `GET /replays/{id}/file`: streams the replay into `writer` and returns the byte count,
    /// at most [`BodyLimits::download`](crate::BodyLimits::download). Failures before the
    /// first byte are retried; a connection lost mid-body is not (the writer already holds
    /// part of the file), and comes back as an error.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut file = tokio::fs::File::create("game.replay").await.unwrap();
    /// let written = client.download_replay("2d7a0f4c", &mut file).await?.value;
    /// # Ok(()) }
    /// ```
    pub async fn download_replay<W>(&self, id: &str, writer: &mut W) -> Result<Response<u64>>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let op = Operation::DownloadReplay;
        let id = check_id(op, id)?;
        let url = self.url(&["replays", id, "file"]);
        let limit = self.inner.body_limits.download;
        let too_large = || Error::TooLarge {
            operation: op,
            limit,
        };
        let (mut resp, attempts) = self
            .send(op, || Ok(self.inner.http.get(url.clone())))
            .await?;
        if resp.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        let io = |source| Error::Io {
            operation: op,
            source,
        };
        let mut written = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport(op, e))? {
            if written + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            writer.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(io)?;
        Ok(Response {
            operation: op,
            value: written,
            response: RawResponse {
                status,
                headers,
                url: final_url,
                body: bytes::Bytes::new(),
                attempts,
            },
        })
    }

    /// Downloads a replay to a file: `path` itself, or `path/<id>.replay` when `path` is a
    /// folder. The bytes go to `<file>.part` first and are renamed at the end, so a failed
    /// download never leaves a partial file under the final name.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let done = client.download_replay_to("2d7a0f4c", "downloads/").await?;
    /// println!("{} bytes in {}", done.value.bytes, done.value.path.display());
    /// # Ok(()) }
    /// ```
    pub async fn download_replay_to(
        &self,
        id: &str,
        path: impl AsRef<Path>,
    ) -> Result<Response<Downloaded>> {
        let op = Operation::DownloadReplay;
        let io = |source| Error::Io {
            operation: op,
            source,
        };
        let mut path = path.as_ref().to_path_buf();
        if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
            path.push(format!("{}.replay", file_stem(id)));
        }
        let mut part = path.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
        let result = self.download_replay(id, &mut file).await;
        drop(file);
        match result {
            Ok(done) => {
                tokio::fs::rename(&part, &path).await.map_err(io)?;
                Ok(done.map(|bytes| Downloaded { path, bytes }))
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_safe_file_names() {
        assert_eq!(file_stem("2d7a-0f4c"), "2d7a-0f4c");
        assert_eq!(file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_stem(".."), "_");
        assert_eq!(file_stem("a b/c"), "a_b_c");
    }
}
