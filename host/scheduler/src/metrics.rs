//! The scheduler's numbers, rendered in Prometheus' text format on the API
//! server's `/metrics`.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::profiles::ShadowStats;

/// Bucket bounds in seconds, from 100 µs to 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += s;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", self.sum, self.count);
    }
}

#[derive(Debug, Clone)]
pub struct ProfileReport {
    pub profile: String,
    pub digest: String,
    pub shadow_digest: Option<String>,
    pub shadow: ShadowStats,
    pub failures: u64,
    pub failed: Option<(String, String)>,
    pub last_error: Option<String>,
    pub history: usize,
}

#[derive(Default)]
pub struct Metrics {
    scheduled: AtomicU64,
    unschedulable: AtomicU64,
    bind_failures: AtomicU64,
    notes_dropped: AtomicU64,
    queue: AtomicU64,
    decisions: Mutex<Histogram>,
    e2e: Mutex<Histogram>,
    plugin_failures: Mutex<Vec<(String, String, u64)>>,
    profiles: Mutex<Vec<ProfileReport>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub(crate) fn decided(&self, d: Duration) {
        lock(&self.decisions).observe(d);
    }

    pub(crate) fn bound(&self, since_queued: Option<Duration>) {
        self.scheduled.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = since_queued {
            lock(&self.e2e).observe(d);
        }
    }

    pub(crate) fn unschedulable(&self) {
        self.unschedulable.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bind_failed(&self) {
        self.bind_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_dropped(&self) {
        self.notes_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_queue(&self, n: u64) {
        self.queue.store(n, Ordering::Relaxed);
    }

    pub(crate) fn plugin_failed(&self, profile: &str, kind: &str) {
        let mut f = lock(&self.plugin_failures);
        match f.iter_mut().find(|(p, k, _)| p == profile && k == kind) {
            Some(e) => e.2 += 1,
            None => f.push((profile.to_string(), kind.to_string(), 1)),
        }
    }

    pub(crate) fn set_profiles(&self, report: Vec<ProfileReport>) {
        *lock(&self.profiles) = report;
    }

    /// The profiles as they stand: active version, shadow and its agreement.
    pub fn profiles(&self) -> Vec<ProfileReport> {
        lock(&self.profiles).clone()
    }

    pub fn scheduled(&self) -> u64 {
        self.scheduled.load(Ordering::Relaxed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "wharf_scheduler_pods_scheduled_total",
            "Pods bound to a node.",
            self.scheduled.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "wharf_scheduler_unschedulable_total",
            "Scheduling cycles that found no node.",
            self.unschedulable.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "wharf_scheduler_binding_failures_total",
            "Bindings the API refused.",
            self.bind_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "wharf_scheduler_events_dropped_total",
            "Events and conditions dropped under load.",
            self.notes_dropped.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP wharf_scheduler_pending_pods Pods waiting in the scheduling queue.\n# TYPE wharf_scheduler_pending_pods gauge\nwharf_scheduler_pending_pods {}",
            self.queue.load(Ordering::Relaxed)
        );
        lock(&self.decisions).render(
            &mut out,
            "wharf_scheduler_decision_duration_seconds",
            "Time in the policy per scheduling cycle.",
        );
        lock(&self.e2e).render(
            &mut out,
            "wharf_scheduler_pod_scheduling_duration_seconds",
            "From a pod entering the queue to its binding.",
        );
        let _ = writeln!(
            out,
            "# HELP wharf_plugin_failures_total Policy calls that trapped or failed, by kind.\n# TYPE wharf_plugin_failures_total counter"
        );
        for (profile, kind, n) in lock(&self.plugin_failures).iter() {
            let _ = writeln!(
                out,
                "wharf_plugin_failures_total{{profile=\"{profile}\",kind=\"{kind}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP wharf_scheduler_shadow_cycles_total Cycles a shadow policy decided alongside the active one.\n# TYPE wharf_scheduler_shadow_cycles_total counter"
        );
        let _ = writeln!(
            out,
            "# HELP wharf_scheduler_shadow_agreements_total Shadow decisions equal to the active policy's.\n# TYPE wharf_scheduler_shadow_agreements_total counter"
        );
        for p in lock(&self.profiles).iter() {
            if p.shadow_digest.is_some() {
                let _ = writeln!(
                    out,
                    "wharf_scheduler_shadow_cycles_total{{profile=\"{}\"}} {}",
                    p.profile, p.shadow.cycles
                );
                let _ = writeln!(
                    out,
                    "wharf_scheduler_shadow_agreements_total{{profile=\"{}\"}} {}",
                    p.profile, p.shadow.agreed
                );
            }
        }
        out
    }
}
