//! A stateful fake ballchasing for daemon tests: checks the token, stores uploads, answers
//! 409 with the original id for a replay it already has, and injects faults: rate limits,
//! a daily quota, 5xx gateway pages, resets before and after storing, and slow answers.
//! Random faults come from a seeded generator, so a run can be replayed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::{FakeServer, Reply};

pub const TOKEN: &str = "test-token-0123456789abcdefghij";

/// What the fake does wrong, and how often. The default is a healthy server.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Seed for the random faults.
    pub seed: u64,
    /// Patron tier reported by ping.
    pub tier: &'static str,
    /// Share of uploads answered 500/502/503/504 (an HTML page), not stored.
    pub server_error: f64,
    /// Share of uploads whose connection is dropped before anything is stored.
    pub reset: f64,
    /// Share of uploads stored, then the connection dropped without an answer.
    pub accept_then_reset: f64,
    /// Share of uploads stored, then answered after `slow_by` (longer than the client waits).
    pub slow: f64,
    /// How late a slow answer comes.
    pub slow_by: Duration,
    /// Uploads allowed per second; beyond, 429.
    pub per_second: Option<usize>,
    /// Uploads allowed per hour; beyond, 429.
    pub per_hour: Option<usize>,
    /// Send `Retry-After: 1` with rate-limit 429s.
    pub retry_after: bool,
    /// Replays the account may create; beyond, 429 with a quota message.
    pub quota: Option<usize>,
    /// Answer every upload with this (a server stuck in one misbehaviour).
    pub always: Option<Reply>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            seed: 1,
            tier: "regular",
            server_error: 0.0,
            reset: 0.0,
            accept_then_reset: 0.0,
            slow: 0.0,
            slow_by: Duration::from_secs(5),
            per_second: None,
            per_hour: None,
            retry_after: false,
            quota: None,
            always: None,
        }
    }
}

/// How an upload request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    Created,
    Duplicate,
    ServerError,
    Reset,
    AcceptedThenReset,
    Slow,
    RateLimited,
    Quota,
    Unauthorized,
    Scripted,
}

#[derive(Default)]
pub struct Books {
    /// Replay key (header Id) → ballchasing id.
    pub by_key: HashMap<String, String>,
    /// Every stored upload's bytes, in order.
    pub created: Vec<Vec<u8>>,
    /// Upload requests seen, answered or not.
    pub upload_requests: usize,
    /// The bytes of every upload request, answered or not, in order.
    pub sent: Vec<Vec<u8>>,
    /// Every upload request's answer and arrival time, in order.
    pub answers: Vec<(Answer, Instant)>,
    /// Replies to give to the next upload requests instead of the normal answer.
    pub script: VecDeque<Reply>,
    /// Replies to give to the next PATCH requests instead of 204.
    pub patch_script: VecDeque<Reply>,
    /// Every PATCH: replay id and JSON body.
    pub patches: Vec<(String, serde_json::Value)>,
    /// Every group created: its JSON body.
    pub groups: Vec<serde_json::Value>,
    /// Replay id → uploader SteamID64; the token's account is "1", and replays not listed
    /// (put in `by_key` by a test) belong to "999".
    pub owners: HashMap<String, String>,
    /// What `GET /maps` answers (404 when unset).
    pub maps: Option<serde_json::Value>,
    /// Delay for the normal answers.
    pub delay: Duration,
    /// The faults to inject; tests may change them while the server runs.
    pub faults: Faults,
    rng: Option<fastrand::Rng>,
    /// Arrival times of uploads that counted against the rate limits.
    recent: VecDeque<Instant>,
}

impl Books {
    /// How many upload requests got this answer.
    pub fn count(&self, answer: Answer) -> usize {
        self.answers.iter().filter(|(a, _)| *a == answer).count()
    }

    fn roll(&mut self, share: f64) -> bool {
        let seed = self.faults.seed;
        let rng = self
            .rng
            .get_or_insert_with(|| fastrand::Rng::with_seed(seed));
        share > 0.0 && rng.f64() < share
    }

    fn status_5xx(&mut self) -> u16 {
        let seed = self.faults.seed;
        let rng = self
            .rng
            .get_or_insert_with(|| fastrand::Rng::with_seed(seed));
        [500, 502, 503, 504][rng.usize(..4)]
    }

    /// Rate limits by sliding window; only requests let through count.
    fn rate_limited(&mut self, now: Instant) -> bool {
        let hour = Duration::from_secs(3600);
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= hour)
        {
            self.recent.pop_front();
        }
        let last_second = self
            .recent
            .iter()
            .filter(|t| now.duration_since(**t) < Duration::from_secs(1))
            .count();
        let over = self.faults.per_second.is_some_and(|n| last_second >= n)
            || self.faults.per_hour.is_some_and(|n| self.recent.len() >= n);
        if !over {
            self.recent.push_back(now);
        }
        over
    }

    fn upload(&mut self, bytes: Vec<u8>, now: Instant) -> Reply {
        let (answer, reply) = self.decide(bytes, now);
        self.answers.push((answer, now));
        reply
    }

    fn decide(&mut self, bytes: Vec<u8>, now: Instant) -> (Answer, Reply) {
        if let Some(reply) = self.script.pop_front() {
            return (Answer::Scripted, reply);
        }
        if let Some(reply) = &self.faults.always {
            return (Answer::Scripted, reply.clone());
        }
        if self.rate_limited(now) {
            let mut reply = Reply::empty(429);
            if self.faults.retry_after {
                reply = reply.header("retry-after", "1");
            }
            return (Answer::RateLimited, reply);
        }
        if self.roll(self.faults.server_error) {
            let status = self.status_5xx();
            let page = format!("<html><body><h1>{status} Bad Gateway</h1>cloudflare</body></html>");
            return (Answer::ServerError, Reply::html(status, &page));
        }
        if self.roll(self.faults.reset) {
            return (Answer::Reset, Reply::Reset);
        }
        let key = replay_key(&bytes);
        if let Some(id) = self.by_key.get(&key) {
            let reply = Reply::json(
                409,
                json!({"error": "duplicate replay", "id": id,
                    "location": format!("https://ballchasing.com/replay/{id}")}),
            );
            return (Answer::Duplicate, reply.delay(self.delay));
        }
        if self.faults.quota.is_some_and(|q| self.created.len() >= q) {
            let reply = Reply::json(
                429,
                json!({"error": "upload quota exceeded: 3 uploads in the last 24h"}),
            );
            return (Answer::Quota, reply);
        }
        let id = format!("bc-{}", self.created.len() + 1);
        self.by_key.insert(key, id.clone());
        self.owners.insert(id.clone(), "1".into());
        self.created.push(bytes);
        if self.roll(self.faults.accept_then_reset) {
            return (Answer::AcceptedThenReset, Reply::Reset);
        }
        let reply = Reply::json(
            201,
            json!({"id": id, "location": format!("https://ballchasing.com/replay/{id}")}),
        );
        if self.roll(self.faults.slow) {
            return (Answer::Slow, reply.delay(self.faults.slow_by));
        }
        (Answer::Created, reply.delay(self.delay))
    }
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
    /// A healthy server.
    pub async fn start() -> FakeBallchasing {
        FakeBallchasing::with_faults(Faults::default()).await
    }

    /// A server that injects `faults`.
    pub async fn with_faults(faults: Faults) -> FakeBallchasing {
        let books = Arc::new(Mutex::new(Books {
            faults,
            ..Books::default()
        }));
        let shared = books.clone();
        let server = FakeServer::start(move |req| {
            let now = Instant::now();
            let mut books = shared.lock().unwrap();
            if req.header("authorization") != Some(TOKEN) {
                if req.path == "/v2/upload" {
                    books.upload_requests += 1;
                    books.answers.push((Answer::Unauthorized, now));
                }
                return Reply::json(401, json!({"error": "missing API key"}));
            }
            match (req.method.as_str(), req.path.as_str()) {
                ("GET", "/") => Reply::json(
                    200,
                    json!({"name": "Tester", "steam_id": "1", "type": books.faults.tier}),
                ),
                ("POST", "/v2/upload") => {
                    books.upload_requests += 1;
                    let bytes = req.multipart()[0].data.to_vec();
                    books.sent.push(bytes.clone());
                    books.upload(bytes, now)
                }
                ("GET", "/maps") => match &books.maps {
                    Some(maps) => Reply::json(200, maps.clone()),
                    None => Reply::json(404, json!({"error": "not found"})),
                },
                ("POST", "/groups") => {
                    books.groups.push(req.json());
                    let id = format!("g-{}", books.groups.len());
                    Reply::json(201, json!({"id": id, "link": format!("https://ballchasing.com/api/groups/{id}")}))
                }
                ("GET", path) if path.starts_with("/replays/") => {
                    let id = path.trim_start_matches("/replays/").to_string();
                    let owner = books.owners.get(&id).cloned().unwrap_or_else(|| "999".into());
                    let name = if owner == "1" { "Tester" } else { "Someone Else" };
                    Reply::json(200, json!({"id": id, "status": "ok",
                        "uploader": {"steam_id": owner, "name": name}}))
                }
                ("PATCH", path) if path.starts_with("/replays/") => {
                    let id = path.trim_start_matches("/replays/").to_string();
                    books.patches.push((id, req.json()));
                    books.patch_script.pop_front().unwrap_or(Reply::empty(204))
                }
                _ => Reply::json(404, json!({"error": "not found"})),
            }
        })
        .await;
        FakeBallchasing { server, books }
    }

    /// Makes the server already hold `bytes` as replay `id`, uploaded by the token's
    /// account (`ours`) or by someone else.
    pub fn already_has(&self, bytes: &[u8], id: &str, ours: bool) {
        let mut books = self.books.lock().unwrap();
        books.by_key.insert(replay_key(bytes), id.into());
        if ours {
            books.owners.insert(id.into(), "1".into());
        }
    }

    pub fn created(&self) -> usize {
        self.books.lock().unwrap().created.len()
    }

    pub fn upload_requests(&self) -> usize {
        self.books.lock().unwrap().upload_requests
    }

    /// How many stored replays share a key with an earlier one (must stay 0: the fake, like
    /// ballchasing, never creates a replay twice, so this checks the fake itself).
    pub fn created_twice(&self) -> usize {
        let books = self.books.lock().unwrap();
        let mut keys: Vec<String> = books.created.iter().map(|b| replay_key(b)).collect();
        let all = keys.len();
        keys.sort();
        keys.dedup();
        all - keys.len()
    }
}
