//! Pagination: [`Items`], the stream every multi-page call returns (no pinning needed), and
//! the page walker that re-sends the caller's filters with only `after` taken from `next`,
//! after checking that `next` stays on the API.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::warn;

use super::Client;
use super::http::invalid;
use crate::error::Error;
use crate::models::{GroupPage, ReplayPage};
use crate::response::{Operation, Response};

type Result<T, E = Error> = std::result::Result<T, E>;

/// A stream of results that needs no pinning: `while let Some(item) = items.next().await`.
/// It also implements [`futures_util::Stream`] for every stream combinator. It stops after
/// the first error.
///
/// ```no_run
/// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
/// use ballchasing_api::ReplayFilter;
/// let mut replays = client.replays(&ReplayFilter::mine());
/// while let Some(replay) = replays.next().await {
///     println!("{}", replay?.id);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing until polled"]
pub struct Items<T> {
    inner: BoxStream<'static, Result<T>>,
}

impl<T> std::fmt::Debug for Items<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Items { .. }")
    }
}

impl<T: Send + 'static> Items<T> {
    pub(crate) fn new(stream: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        Items {
            inner: stream.boxed(),
        }
    }

    /// The next item, `None` at the end.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut groups = client.groups(&ballchasing_api::GroupFilter::mine());
    /// if let Some(first) = groups.next().await {
    ///     println!("newest group: {}", first?.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next(&mut self) -> Option<Result<T>> {
        self.inner.next().await
    }

    /// The next item as `Ok(Some(_))`, `Ok(None)` at the end, or the error, so a loop can
    /// use `?`: `while let Some(item) = items.try_next().await? { … }`.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let mut replays = client.replays(&ballchasing_api::ReplayFilter::mine());
    /// while let Some(replay) = replays.try_next().await? {
    ///     println!("{}", replay.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn try_next(&mut self) -> Result<Option<T>> {
        self.inner.next().await.transpose()
    }

    /// Every item, or the first error.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let all = client.groups(&ballchasing_api::GroupFilter::mine()).collect_all().await?;
    /// println!("{} groups", all.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(item) = self.inner.next().await {
            out.push(item?);
        }
        Ok(out)
    }

    /// At most `n` items; no page past the one that holds the `n`-th item is requested.
    ///
    /// ```no_run
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let latest = client.replays(&ballchasing_api::ReplayFilter::mine()).limit(5).collect_all().await?;
    /// assert!(latest.len() <= 5);
    /// # Ok(()) }
    /// ```
    pub fn limit(self, n: usize) -> Items<T> {
        Items::new(self.inner.take(n))
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Drains any stream of results into a vector, stopping at the first error.
///
/// ```no_run
/// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
/// use ballchasing_api::{ReplayFilter, collect_all};
/// let pages = collect_all(client.replay_pages(&ReplayFilter::mine())).await?;
/// # Ok(()) }
/// ```
pub async fn collect_all<T>(stream: impl Stream<Item = Result<T>>) -> Result<Vec<T>> {
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item?);
    }
    Ok(out)
}

/// A list answer that may point to a next page.
pub(crate) trait Page {
    /// The `next` link.
    fn next(&self) -> Option<&str>;
}

impl Page for ReplayPage {
    fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

impl Page for GroupPage {
    fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

impl Client {
    /// Every page of a list endpoint, each requested with the full filter plus `after`.
    pub(super) fn pages<P>(
        &self,
        op: Operation,
        path: &'static str,
        query: Result<Vec<(String, String)>, String>,
    ) -> Items<Response<P>>
    where
        P: Page + DeserializeOwned + Send + 'static,
    {
        enum Cursor {
            First,
            After(String),
            /// The page before was fine but its `next` link was not: report that next.
            Refused(Error),
            Done,
        }
        let client = self.clone();
        Items::new(stream::unfold(Cursor::First, move |cursor| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let after = match cursor {
                    Cursor::Done => return None,
                    Cursor::Refused(e) => return Some((Err(e), Cursor::Done)),
                    Cursor::First => None,
                    Cursor::After(after) => Some(after),
                };
                let mut query = match query {
                    Ok(query) => query,
                    Err(reason) => return Some((Err(invalid(op, reason)), Cursor::Done)),
                };
                if let Some(after) = &after {
                    query.retain(|(key, _)| key != "after");
                    query.push(("after".into(), after.clone()));
                }
                let page: Response<P> = match client
                    .json(op, Method::GET, &[path], &query, None::<&()>)
                    .await
                {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), Cursor::Done)),
                };
                let next = match page.value.next() {
                    None => Cursor::Done,
                    Some(link) => match client.cursor_from(op, link) {
                        Err(e) => Cursor::Refused(e),
                        Ok(None) => Cursor::Done,
                        Ok(Some(next)) if Some(&next) == after.as_ref() => {
                            warn!(operation = %op, "the server sent the same page cursor twice; stopping");
                            Cursor::Done
                        }
                        Ok(Some(next)) => Cursor::After(next),
                    },
                };
                Some((Ok(page), next))
            }
        }))
    }

    /// The `after` cursor of a `next` link, after checking that the link stays on the API's
    /// scheme, host, port and path.
    pub(super) fn cursor_from(&self, op: Operation, link: &str) -> Result<Option<String>> {
        let base = &self.inner.base;
        let refuse = || Error::UnsafeNext {
            operation: op,
            url: crate::excerpt::truncate(&self.inner.token.scrub(link)),
        };
        let next = base.join(link).map_err(|_| refuse())?;
        let base_path = base.path().trim_end_matches('/');
        let same_origin = next.scheme() == base.scheme()
            && next.host() == base.host()
            && next.port_or_known_default() == base.port_or_known_default()
            && next.username().is_empty()
            && next.password().is_none()
            && next.path().starts_with(base_path)
            && matches!(
                next.path()[base_path.len()..].chars().next(),
                None | Some('/')
            );
        if !same_origin {
            return Err(refuse());
        }
        Ok(next
            .query_pairs()
            .find(|(key, value)| key == "after" && !value.is_empty())
            .map(|(_, value)| value.into_owned()))
    }
}

/// The items of every page, in order.
pub(super) fn flatten_pages<P, T>(pages: Items<Response<P>>, items: fn(P) -> Vec<T>) -> Items<T>
where
    P: Send + 'static,
    T: Send + 'static,
{
    Items::new(pages.flat_map(move |page| {
        let batch: Vec<Result<T>> = match page {
            Ok(page) => items(page.value).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(batch)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_must_stay_on_the_api() {
        let client = Client::new("t").unwrap();
        let op = Operation::ListReplays;
        let ok = client
            .cursor_from(
                op,
                "https://ballchasing.com/api/replays?after=abc%3D&count=2",
            )
            .unwrap();
        assert_eq!(ok.as_deref(), Some("abc="));
        assert_eq!(
            client
                .cursor_from(op, "https://ballchasing.com/api/replays?count=2")
                .unwrap(),
            None
        );
        for hostile in [
            "http://ballchasing.com/api/replays?after=x",
            "https://evil.example/api/replays?after=x",
            "https://ballchasing.com:8443/api/replays?after=x",
            "https://user@ballchasing.com/api/replays?after=x",
            "https://ballchasing.com/elsewhere?after=x",
            "https://ballchasing.com/apix/replays?after=x",
            "//evil.example/api/replays?after=x",
        ] {
            assert!(
                matches!(
                    client.cursor_from(op, hostile),
                    Err(Error::UnsafeNext { .. })
                ),
                "{hostile}"
            );
        }
    }
}
