//! A stateful fake ballchasing for daemon tests: checks the token, stores uploads, answers
//! 409 with the original id for a replay it already has, and can be told to fail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{FakeServer, Reply};

pub const TOKEN: &str = "test-token-0123456789abcdefghij";

#[derive(Default)]
pub struct Books {
    /// Replay key (header Id) → ballchasing id.
    pub by_key: HashMap<String, String>,
    /// Every accepted upload's bytes, in order.
    pub created: Vec<Vec<u8>>,
    /// Upload requests seen, answered or not.
    pub upload_requests: usize,
    /// Replies to give to the next upload requests instead of the normal answer.
    pub script: VecDeque<Reply>,
    /// Delay for the normal answers.
    pub delay: Duration,
}

pub struct FakeBallchasing {
    pub server: FakeServer,
    pub books: Arc<Mutex<Books>>,
}

/// The key ballchasing deduplicates on, for the fake: the header Id.
pub fn replay_key(bytes: &[u8]) -> String {
    autochase::replay::validate(bytes)
        .ok()
        .and_then(|info| info.id)
        .unwrap_or_else(|| format!("len-{}", bytes.len()))
}

impl FakeBallchasing {
    pub async fn start() -> FakeBallchasing {
        let books = Arc::new(Mutex::new(Books::default()));
        let shared = books.clone();
        let server = FakeServer::start(move |req| {
            if req.path == "/v2/upload" {
                shared.lock().unwrap().upload_requests += 1;
            }
            if req.header("authorization") != Some(TOKEN) {
                return Reply::json(401, json!({"error": "missing API key"}));
            }
            match (req.method.as_str(), req.path.as_str()) {
                ("GET", "/") => Reply::json(200, json!({"name": "Tester", "steam_id": "1", "type": "regular"})),
                ("POST", "/v2/upload") => {
                    let mut books = shared.lock().unwrap();
                    if let Some(reply) = books.script.pop_front() {
                        return reply;
                    }
                    let parts = req.multipart();
                    let bytes = parts[0].data.to_vec();
                    let key = replay_key(&bytes);
                    let delay = books.delay;
                    let reply = if let Some(id) = books.by_key.get(&key) {
                        Reply::json(409, json!({"error": "duplicate replay", "id": id,
                            "location": format!("https://ballchasing.com/replay/{id}")}))
                    } else {
                        let id = format!("bc-{}", books.created.len() + 1);
                        books.by_key.insert(key, id.clone());
                        books.created.push(bytes);
                        Reply::json(201, json!({"id": id, "location": format!("https://ballchasing.com/replay/{id}")}))
                    };
                    reply.delay(delay)
                }
                _ => Reply::json(404, json!({"error": "not found"})),
            }
        })
        .await;
        FakeBallchasing { server, books }
    }

    pub fn created(&self) -> usize {
        self.books.lock().unwrap().created.len()
    }

    pub fn upload_requests(&self) -> usize {
        self.books.lock().unwrap().upload_requests
    }
}
