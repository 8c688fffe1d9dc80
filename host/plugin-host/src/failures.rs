//! When to give up on a plugin version: a sliding count of recent failures.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Counts a plugin version's failures within a window; past the threshold the
/// version is declared failed and its role falls back to the previous good one.
#[derive(Debug, Clone)]
pub struct FailureBudget {
    threshold: usize,
    window: Duration,
    recent: VecDeque<Instant>,
    total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Rebuild the instance and carry on.
    Retry,
    /// Too many failures: stop using this version.
    GiveUp,
}

impl FailureBudget {
    pub fn new(threshold: usize, window: Duration) -> Self {
        FailureBudget {
            threshold: threshold.max(1),
            window,
            recent: VecDeque::new(),
            total: 0,
        }
    }

    pub fn record(&mut self, now: Instant) -> Verdict {
        self.total += 1;
        self.recent.push_back(now);
        while let Some(&t) = self.recent.front() {
            if now.duration_since(t) > self.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= self.threshold {
            Verdict::GiveUp
        } else {
            Verdict::Retry
        }
    }

    /// Failures since the version was loaded.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Default for FailureBudget {
    /// Three failures within a minute.
    fn default() -> Self {
        FailureBudget::new(3, Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_up_after_threshold_within_window_only() {
        let mut b = FailureBudget::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(b.record(t0), Verdict::Retry);
        assert_eq!(b.record(t0 + Duration::from_secs(1)), Verdict::Retry);
        // The first two have aged out of the window by now.
        assert_eq!(b.record(t0 + Duration::from_secs(12)), Verdict::Retry);
        assert_eq!(b.record(t0 + Duration::from_secs(13)), Verdict::Retry);
        assert_eq!(b.record(t0 + Duration::from_secs(14)), Verdict::GiveUp);
        assert_eq!(b.total(), 5);
    }
}
