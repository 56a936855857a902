//! `Response<T>`: what a call returns on success: the operation, the decoded value and the
//! raw HTTP response it came from.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The API operation a request performs; part of every response and error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /`
    Ping,
    /// `POST /v2/upload`
    Upload,
    /// `GET /replays`
    ListReplays,
    /// `GET /replays/{id}`
    GetReplay,
    /// `PATCH /replays/{id}`
    PatchReplay,
    /// `DELETE /replays/{id}`
    DeleteReplay,
    /// `GET /replays/{id}/file`
    DownloadReplay,
    /// `POST /groups`
    CreateGroup,
    /// `GET /groups`
    ListGroups,
    /// `GET /groups/{id}`
    GetGroup,
    /// `PATCH /groups/{id}`
    PatchGroup,
    /// `DELETE /groups/{id}`
    DeleteGroup,
    /// `GET /maps`
    Maps,
}

impl Operation {
    /// A short lowercase name, used in logs and error messages.
    ///
    /// ```
    /// assert_eq!(ballchasing_api::Operation::GetReplay.as_str(), "get replay");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Ping => "ping",
            Operation::Upload => "upload",
            Operation::ListReplays => "list replays",
            Operation::GetReplay => "get replay",
            Operation::PatchReplay => "patch replay",
            Operation::DeleteReplay => "delete replay",
            Operation::DownloadReplay => "download replay",
            Operation::CreateGroup => "create group",
            Operation::ListGroups => "list groups",
            Operation::GetGroup => "get group",
            Operation::PatchGroup => "patch group",
            Operation::DeleteGroup => "delete group",
            Operation::Maps => "maps",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HTTP response a value was decoded from.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Final status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The request URL (never holds the token: it travels in a header).
    pub url: reqwest::Url,
    /// The body as received; empty for 204 and for streamed downloads.
    pub body: Bytes,
    /// How many requests it took, retries included (1 when the first try succeeded).
    pub attempts: u32,
}

/// A successful call: which operation, what it decoded to, and the raw response.
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The operation that produced this response.
    pub operation: Operation,
    /// The decoded value.
    pub value: T,
    /// The raw response.
    pub response: RawResponse,
}

impl<T> Response<T> {
    /// Drops the metadata and keeps the value.
    ///
    /// ```
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let maps = client.maps().await?.into_value();
    /// # Ok(()) }
    /// ```
    pub fn into_value(self) -> T {
        self.value
    }

    /// Applies `f` to the value, keeping the metadata.
    ///
    /// ```
    /// # async fn demo(client: ballchasing_api::Client) -> Result<(), ballchasing_api::Error> {
    /// let count = client.maps().await?.map(|maps| maps.len());
    /// println!("{} maps after {} attempt(s)", count.value, count.response.attempts);
    /// # Ok(()) }
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            operation: self.operation,
            value: f(self.value),
            response: self.response,
        }
    }
}
