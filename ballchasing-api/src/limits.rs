//! Client-side rate limiting: the documented limits per tier and category, governor
//! limiters driven by tokio's clock (so paused-time tests see them), and the shared cooldown
//! that a 429 starts.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::enums::Tier;
use crate::response::Operation;

/// Which limit bucket a request counts against. The server's docs give limits per endpoint;
/// grouping them by category and sharing each bucket across clones is the safe reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// `GET /replays`, `GET /groups`.
    List,
    /// Single replay and group calls.
    Core,
    /// `GET /replays/{id}/file`.
    Download,
    /// `POST /v2/upload`, paced by the configured upload rate.
    Upload,
    /// Ping and maps: no documented limit.
    Unlimited,
}

impl Category {
    /// The bucket an operation counts against.
    ///
    /// ```
    /// use ballchasing_api::{Category, Operation};
    /// assert_eq!(Category::of(Operation::DownloadReplay), Category::Download);
    /// ```
    pub fn of(operation: Operation) -> Category {
        match operation {
            Operation::ListReplays | Operation::ListGroups => Category::List,
            Operation::GetReplay
            | Operation::PatchReplay
            | Operation::DeleteReplay
            | Operation::CreateGroup
            | Operation::GetGroup
            | Operation::PatchGroup
            | Operation::DeleteGroup => Category::Core,
            Operation::DownloadReplay => Category::Download,
            Operation::Upload => Category::Upload,
            Operation::Ping | Operation::Maps => Category::Unlimited,
        }
    }
}

/// One documented limit: calls per second and, where there is one, per hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Calls per second.
    pub per_second: f64,
    /// Calls per hour, `None` when uncapped.
    pub per_hour: Option<u32>,
}

/// The documented limits of one tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierLimits {
    /// List calls.
    pub list: Rate,
    /// Core calls.
    pub core: Rate,
    /// Downloads.
    pub download: Rate,
}

const fn rate(per_second: f64, per_hour: Option<u32>) -> Rate {
    Rate {
        per_second,
        per_hour,
    }
}

impl TierLimits {
    /// The limits ballchasing.com documents for `tier`. `legend` and `org` are above `gc`
    /// but undocumented, so they get `gc`'s; a tier this version does not know gets the
    /// strictest (`regular`) ones, since nothing says it is a paid tier.
    ///
    /// ```
    /// use ballchasing_api::{Tier, TierLimits};
    /// assert_eq!(TierLimits::for_tier(&Tier::Regular).download.per_second, 1.0);
    /// assert_eq!(TierLimits::for_tier(&Tier::Legend), TierLimits::for_tier(&Tier::Gc));
    /// assert_eq!(TierLimits::for_tier(&Tier::parse("mythic")), TierLimits::for_tier(&Tier::Regular));
    /// ```
    pub fn for_tier(tier: &Tier) -> TierLimits {
        match tier {
            Tier::Regular | Tier::Other(_) => TierLimits {
                list: rate(2.0, Some(500)),
                core: rate(2.0, Some(1000)),
                download: rate(1.0, Some(200)),
            },
            Tier::Gold => TierLimits {
                list: rate(2.0, Some(1000)),
                core: rate(2.0, Some(2000)),
                download: rate(2.0, Some(400)),
            },
            Tier::Diamond => TierLimits {
                list: rate(4.0, Some(2000)),
                core: rate(4.0, Some(5000)),
                download: rate(2.0, Some(1000)),
            },
            Tier::Champion => TierLimits {
                list: rate(8.0, None),
                core: rate(8.0, None),
                download: rate(2.0, Some(2000)),
            },
            Tier::Gc | Tier::Legend | Tier::Org => TierLimits {
                list: rate(16.0, None),
                core: rate(16.0, None),
                download: rate(2.0, None),
            },
        }
    }
}

/// tokio's clock for governor: under `tokio::time::pause` the limiter sees paused time.
#[derive(Debug, Clone, Copy)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// A per-second pacer plus an optional hourly budget for one category.
struct Bucket {
    per_second: Limiter,
    per_hour: Option<Limiter>,
}

impl Bucket {
    fn new(clock: TokioClock, per_second: f64, per_hour: Option<u32>) -> Bucket {
        // Burst 1: calls are evenly spaced, never bunched at the start of a second.
        let period = Duration::from_secs_f64(1.0 / per_second.max(1e-6));
        let pacing = Quota::with_period(period).expect("period is positive");
        // An hourly cap L is modelled as a burst of L/5 refilled at 4L/5 per hour, so no
        // rolling hour can ever see more than L calls.
        let per_hour = per_hour.filter(|&cap| cap > 0).map(|cap| {
            let burst = NonZeroU32::new((cap / 5).max(1)).expect("nonzero");
            let refill = Duration::from_secs_f64(3600.0 / f64::from((cap - cap / 5).max(1)));
            Limiter::direct_with_clock(
                Quota::with_period(refill)
                    .expect("positive")
                    .allow_burst(burst),
                clock,
            )
        });
        Bucket {
            per_second: Limiter::direct_with_clock(pacing, clock),
            per_hour,
        }
    }

    async fn acquire(&self, clock: TokioClock) {
        if let Some(hourly) = &self.per_hour {
            wait_for(hourly, clock).await;
        }
        wait_for(&self.per_second, clock).await;
    }
}

async fn wait_for(limiter: &Limiter, clock: TokioClock) {
    while let Err(not_until) = limiter.check() {
        tokio::time::sleep(not_until.wait_time_from(clock.now())).await;
    }
}

/// The limiters for one tier, shared (behind an `Arc`) by every clone of a client.
pub(crate) struct Limits {
    tier: Tier,
    clock: TokioClock,
    list: Bucket,
    core: Bucket,
    download: Bucket,
    upload: Option<Bucket>,
}

impl Limits {
    /// Builds limiters for `tier`, scaling every documented rate by `margin` (0 < margin ≤ 1)
    /// and pacing uploads at `upload_rate` per second when set.
    pub(crate) fn new(tier: Tier, margin: f64, upload_rate: Option<f64>) -> Limits {
        let clock = TokioClock {
            origin: Instant::now(),
        };
        let documented = TierLimits::for_tier(&tier);
        let bucket = |r: Rate| {
            Bucket::new(
                clock,
                r.per_second * margin,
                r.per_hour
                    .map(|h| ((f64::from(h) * margin).floor() as u32).max(1)),
            )
        };
        Limits {
            clock,
            list: bucket(documented.list),
            core: bucket(documented.core),
            download: bucket(documented.download),
            upload: upload_rate
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Bucket::new(clock, r, None)),
            tier,
        }
    }

    pub(crate) fn tier(&self) -> &Tier {
        &self.tier
    }

    /// Waits until a call of `category` may go out, and takes its slot.
    pub(crate) async fn acquire(&self, category: Category) {
        let bucket = match category {
            Category::List => &self.list,
            Category::Core => &self.core,
            Category::Download => &self.download,
            Category::Upload => match &self.upload {
                Some(bucket) => bucket,
                None => return,
            },
            Category::Unlimited => return,
        };
        bucket.acquire(self.clock).await;
    }
}

/// The pause after a 429, shared by all clones: no request of the token goes out before it ends.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    until: Mutex<Option<Instant>>,
}

impl Cooldown {
    /// Extends the cooldown to at least `delay` from now (callers clamp `delay`; a delay
    /// past any representable instant is cut to a year rather than panicking).
    pub(crate) fn start(&self, delay: Duration) {
        let now = Instant::now();
        let end = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if until.is_none_or(|current| current < end) {
            *until = Some(end);
        }
    }

    /// Waits out the cooldown, if one is running.
    pub(crate) async fn wait(&self) {
        loop {
            let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(end) if end > Instant::now() => tokio::time::sleep_until(end).await,
                _ => return,
            }
        }
    }

    /// When the current cooldown ends, if one is running.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        until
            .map(|end| end.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `n` slots of `category` back to back and returns when each was granted,
    /// in seconds of paused time since the start.
    async fn grant_times(limits: &Limits, category: Category, n: usize) -> Vec<f64> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..n {
            limits.acquire(category).await;
            times.push((Instant::now() - start).as_secs_f64());
        }
        times
    }

    fn assert_spacing(times: &[f64], expected: f64) {
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (gap - expected).abs() < 1e-3,
                "gap {gap} != {expected} in {times:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_follows_tier_and_category() {
        let cases: &[(Tier, Category, f64)] = &[
            (Tier::Regular, Category::List, 0.5),
            (Tier::Regular, Category::Core, 0.5),
            (Tier::Regular, Category::Download, 1.0),
            (Tier::Diamond, Category::List, 0.25),
            (Tier::Champion, Category::Core, 0.125),
            (Tier::Gc, Category::List, 1.0 / 16.0),
            (Tier::Gc, Category::Download, 0.5),
            (Tier::Legend, Category::Core, 1.0 / 16.0),
            (Tier::Org, Category::List, 1.0 / 16.0),
            (Tier::Other("mythic".into()), Category::List, 0.5),
        ];
        for (tier, category, gap) in cases {
            let limits = Limits::new(tier.clone(), 1.0, None);
            let times = grant_times(&limits, *category, 5).await;
            assert_eq!(times[0], 0.0, "{tier} {category:?}: first call waits");
            assert_spacing(&times, *gap);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn categories_are_independent_and_margin_slows_down() {
        let limits = Limits::new(Tier::Regular, 1.0, None);
        limits.acquire(Category::List).await;
        let start = Instant::now();
        limits.acquire(Category::Core).await;
        limits.acquire(Category::Download).await;
        assert_eq!(
            Instant::now(),
            start,
            "other categories are not held up by list"
        );

        let halved = Limits::new(Tier::Regular, 0.5, None);
        assert_spacing(&grant_times(&halved, Category::List, 4).await, 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn uploads_follow_the_configured_rate_and_ping_is_unpaced() {
        let limits = Limits::new(Tier::Regular, 1.0, Some(0.5));
        assert_spacing(&grant_times(&limits, Category::Upload, 4).await, 2.0);
        assert_eq!(grant_times(&limits, Category::Unlimited, 50).await[49], 0.0);
        let unpaced = Limits::new(Tier::Regular, 1.0, None);
        assert_eq!(grant_times(&unpaced, Category::Upload, 50).await[49], 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn hourly_caps_hold_over_any_hour() {
        // regular downloads: 1/s and 200/h. After the burst the hourly bucket takes over.
        let limits = Limits::new(Tier::Regular, 1.0, None);
        let times = grant_times(&limits, Category::Download, 400).await;
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|u| **u < t + 3600.0).count();
            assert!(in_window <= 200, "{in_window} calls within an hour of {t}");
        }
        // And it still makes progress: 400 calls take between one and three hours.
        assert!(
            times[399] > 3600.0 && times[399] < 3.0 * 3600.0,
            "{}",
            times[399]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cooldown_holds_every_waiter_until_it_ends() {
        let cooldown = Cooldown::default();
        cooldown.start(Duration::from_secs(30));
        cooldown.start(Duration::from_secs(5)); // a shorter one never shortens it
        let start = Instant::now();
        cooldown.wait().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(30));
        assert_eq!(cooldown.remaining(), None);
    }

    #[test]
    fn every_operation_has_the_documented_category() {
        assert_eq!(Category::of(Operation::ListGroups), Category::List);
        assert_eq!(Category::of(Operation::CreateGroup), Category::Core);
        assert_eq!(Category::of(Operation::DeleteGroup), Category::Core);
        assert_eq!(Category::of(Operation::DownloadReplay), Category::Download);
        assert_eq!(Category::of(Operation::Ping), Category::Unlimited);
    }
}
