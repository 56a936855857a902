//! A fake HTTP server on loopback for tests: it records every request and answers what the
//! test's handler says, including dropped connections and slow answers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Recorded {
    /// Every value of a query key, in order.
    pub fn query_all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The single value of a query key.
    pub fn query_one(&self, key: &str) -> Option<&str> {
        let all = self.query_all(key);
        assert!(all.len() <= 1, "{key} sent {} times", all.len());
        all.first().copied()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// The parts of a multipart/form-data body: (name, filename, content type, bytes).
    pub fn multipart(&self) -> Vec<Part> {
        let content_type = self.header("content-type").expect("content-type");
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("multipart boundary")
            .trim_matches('"');
        let delimiter = format!("--{boundary}");
        let body = &self.body[..];
        let mut parts = Vec::new();
        let positions: Vec<usize> = find_all(body, delimiter.as_bytes());
        for window in positions.windows(2) {
            let chunk = &body[window[0] + delimiter.len()..window[1]];
            let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
            let split = find_all(chunk, b"\r\n\r\n")[0];
            let head = String::from_utf8_lossy(&chunk[..split]).to_string();
            let mut data = &chunk[split + 4..];
            data = data.strip_suffix(b"\r\n").unwrap_or(data);
            let disposition = head.lines().next().unwrap_or_default().to_string();
            let field = |key: &str| {
                disposition
                    .split(';')
                    .map(str::trim)
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                    .map(|v| v.trim_matches('"').to_string())
            };
            let content_type = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("Content-Type: ")
                        .or(l.strip_prefix("content-type: "))
                })
                .map(str::to_string);
            parts.push(Part {
                name: field("name").unwrap_or_default(),
                filename: field("filename"),
                content_type,
                data: Bytes::copy_from_slice(data),
            });
        }
        parts
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    (0..haystack.len().saturating_sub(needle.len() - 1))
        .filter(|&i| &haystack[i..i + needle.len()] == needle)
        .collect()
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer, after an optional delay.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
        delay: Duration,
    },
    /// Drop the connection without answering.
    Reset,
    /// Answer with a body of `chunk` repeated `count` times (forever when `None`), pausing
    /// `pause` between chunks: a server that never stops sending.
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        chunk: Bytes,
        count: Option<usize>,
        pause: Duration,
    },
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(value.to_string()),
            delay: Duration::ZERO,
        }
    }

    pub fn html(status: u16, page: &str) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: Bytes::from(page.to_string()),
            delay: Duration::ZERO,
        }
    }

    pub fn bytes(status: u16, body: impl Into<Bytes>) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "application/octet-stream".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply::Http {
            status,
            headers: vec![],
            body: Bytes::new(),
            delay: Duration::ZERO,
        }
    }

    /// A body that never ends: `chunk` again and again, `pause` apart.
    pub fn endless(status: u16, chunk: impl Into<Bytes>, pause: Duration) -> Reply {
        Reply::Stream {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunk: chunk.into(),
            count: None,
            pause,
        }
    }

    pub fn header(mut self, key: &str, value: &str) -> Reply {
        if let Reply::Http { headers, .. } | Reply::Stream { headers, .. } = &mut self {
            headers.push((key.into(), value.into()));
        }
        self
    }

    pub fn delay(mut self, by: Duration) -> Reply {
        if let Reply::Http { delay, .. } = &mut self {
            *delay = by;
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Starts a server answering every request with `handler`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        let handler = handler.clone();
                        let log = log.clone();
                        async move { answer(req, &*handler, &log).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeServer {
            addr,
            requests,
            task,
        }
    }

    /// Starts a server that gives the replies in order, repeating the last one.
    pub async fn scripted(replies: Vec<Reply>) -> FakeServer {
        let next = AtomicUsize::new(0);
        FakeServer::start(move |_| {
            let i = next.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
            replies[i].clone()
        })
        .await
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}
impl std::error::Error for Dropped {}

async fn answer(
    req: hyper::Request<Incoming>,
    handler: &Handler,
    log: &Mutex<Vec<Recorded>>,
) -> Result<hyper::Response<BoxBody<Bytes, Dropped>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query,
        headers: parts.headers,
        body,
        at: Instant::now(),
    };
    log.lock().unwrap().push(recorded.clone());
    match handler(&recorded) {
        Reply::Reset => Err(Dropped),
        Reply::Http {
            status,
            headers,
            body,
            delay,
        } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut response = hyper::Response::builder().status(status);
            for (k, v) in headers {
                response = response.header(k, v);
            }
            Ok(response
                .body(Full::new(body).map_err(|never| match never {}).boxed())
                .unwrap())
        }
        Reply::Stream {
            status,
            headers,
            chunk,
            count,
            pause,
        } => {
            let mut response = hyper::Response::builder().status(status);
            for (k, v) in headers {
                response = response.header(k, v);
            }
            let frames = stream::unfold(0usize, move |sent| {
                let chunk = chunk.clone();
                async move {
                    if count.is_some_and(|n| sent >= n) {
                        return None;
                    }
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                    Some((Ok::<_, Dropped>(Frame::data(chunk)), sent + 1))
                }
            });
            Ok(response
                .body(BodyExt::boxed(StreamBody::new(frames)))
                .unwrap())
        }
    }
}
