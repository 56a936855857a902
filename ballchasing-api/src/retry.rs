//! Retry policy: which failures are repeated, how long to wait, and when to give up.

use std::time::Duration;

/// How failed calls are retried. Transient failures (5xx, gateway pages, timeouts, broken
/// connections, rate-limit 429s) are retried with jittered exponential backoff until
/// `max_retries` or `budget` runs out; 400, 401, 403, 404 and quota 429s never are, nor an
/// upload answered 429 without `Retry-After` (most often a quota that does not say so: the
/// caller decides, rather than the file being sent again). A 429 waits a second at least.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first try (0 disables retrying).
    pub max_retries: u32,
    /// The first backoff; each retry doubles it.
    pub base_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
    /// The most time one call may spend, retries and waits included; a wait that would end
    /// past it is not started and the last error is returned instead.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    ///
    /// ```
    /// assert_eq!(ballchasing_api::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0-based): `base · 2^retry`, capped at
    /// `max_delay`, scaled by `jitter` in [0, 1) into the upper half ("equal jitter"), so
    /// clients that failed together do not come back together.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = ballchasing_api::RetryPolicy::default();
    /// assert!(policy.backoff(1, 0.5) >= Duration::from_millis(500));
    /// ```
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(30)));
        let capped = exp.min(self.max_delay);
        capped.div_f64(2.0) + capped.div_f64(2.0).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Decides whether retry number `retry` may wait `delay` when `elapsed` has already gone
    /// by since the first try.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = ballchasing_api::RetryPolicy::default();
    /// assert!(!policy.allows(0, Duration::ZERO, Duration::from_secs(3600)), "past the budget");
    /// ```
    pub fn allows(&self, retry: u32, elapsed: Duration, delay: Duration) -> bool {
        retry < self.max_retries && elapsed.saturating_add(delay) <= self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_stays_in_the_upper_half_and_caps() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(60),
        };
        let table = [
            (0, 0.0, 0.5),
            (0, 0.999, 1.0),
            (1, 0.0, 1.0),
            (2, 0.5, 3.0),
            (3, 0.0, 4.0),
            (9, 0.0, 4.0),
            (9, 1.0, 8.0),
        ];
        for (retry, jitter, expected) in table {
            let got = policy.backoff(retry, jitter).as_secs_f64();
            assert!(
                (got - expected).abs() < 0.01,
                "retry {retry} jitter {jitter}: {got}"
            );
        }
        assert!(policy.backoff(u32::MAX, 1.0) <= Duration::from_secs(8));
    }

    #[test]
    fn retries_stop_at_the_count_or_the_budget() {
        let policy = RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(10),
        };
        assert!(policy.allows(0, Duration::ZERO, Duration::from_secs(1)));
        assert!(policy.allows(1, Duration::from_secs(9), Duration::from_secs(1)));
        assert!(!policy.allows(2, Duration::ZERO, Duration::from_secs(1)));
        assert!(!policy.allows(0, Duration::from_secs(9), Duration::from_secs(2)));
        assert!(!RetryPolicy::none().allows(0, Duration::ZERO, Duration::ZERO));
    }
}
