//! The controller manager's numbers, rendered as Prometheus text on `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use wharf_plugin_host::TrapKind;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControllerCounts {
    pub reconciles: u64,
    /// Reconciles that returned an error (retried with backoff).
    pub errors: u64,
    /// Calls that trapped (deadline, memory, crash); the instance was rebuilt.
    pub traps: u64,
    /// The same, by how the call failed (`deadline`, `memory`, `crash`).
    pub traps_by_kind: BTreeMap<&'static str, u64>,
    pub writes: u64,
    pub reconcile_seconds: f64,
    pub queue_depth: usize,
    /// Versions installed since the start (hot swaps and roll backs).
    pub swaps: u64,
}

/// One metric family: name, type, help, and how to read it from the counts.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ControllerCounts) -> f64,
);

#[derive(Default)]
pub struct Metrics {
    by_controller: Mutex<BTreeMap<String, ControllerCounts>>,
}

impl Metrics {
    fn with(&self, controller: &str, f: impl FnOnce(&mut ControllerCounts)) {
        let mut m = self.by_controller.lock().unwrap_or_else(|e| e.into_inner());
        f(m.entry(controller.to_string()).or_default());
    }

    pub fn reconciled(&self, controller: &str, took: Duration, failed: bool) {
        self.with(controller, |c| {
            c.reconciles += 1;
            c.reconcile_seconds += took.as_secs_f64();
            if failed {
                c.errors += 1;
            }
        });
    }

    pub fn trapped(&self, controller: &str, kind: TrapKind) {
        self.with(controller, |c| {
            c.traps += 1;
            *c.traps_by_kind.entry(kind.as_str()).or_default() += 1;
        });
    }

    pub fn write(&self, controller: &str) {
        self.with(controller, |c| c.writes += 1);
    }

    pub fn swapped(&self, controller: &str) {
        self.with(controller, |c| c.swaps += 1);
    }

    pub fn queue_depth(&self, controller: &str, depth: usize) {
        self.with(controller, |c| c.queue_depth = depth);
    }

    pub fn get(&self, controller: &str) -> ControllerCounts {
        self.by_controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(controller)
            .cloned()
            .unwrap_or_default()
    }

    pub fn render(&self) -> String {
        let m = self.by_controller.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let families: [Family; 6] = [
            (
                "wharf_controller_reconciles_total",
                "counter",
                "Reconcile calls.",
                |c| c.reconciles as f64,
            ),
            (
                "wharf_controller_reconcile_errors_total",
                "counter",
                "Reconciles that returned an error.",
                |c| c.errors as f64,
            ),
            (
                "wharf_controller_writes_total",
                "counter",
                "Writes through the API.",
                |c| c.writes as f64,
            ),
            (
                "wharf_controller_reconcile_seconds_total",
                "counter",
                "Time spent reconciling.",
                |c| c.reconcile_seconds,
            ),
            (
                "wharf_controller_queue_depth",
                "gauge",
                "Keys waiting.",
                |c| c.queue_depth as f64,
            ),
            (
                "wharf_controller_swaps_total",
                "counter",
                "Versions installed.",
                |c| c.swaps as f64,
            ),
        ];
        for (name, kind, help, get) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (controller, c) in m.iter() {
                let _ = writeln!(out, "{name}{{controller=\"{controller}\"}} {}", get(c));
            }
        }
        let name = "wharf_controller_plugin_traps_total";
        let _ = writeln!(
            out,
            "# HELP {name} Controller calls that trapped, by kind (deadline, memory, crash).\n# TYPE {name} counter"
        );
        for (controller, c) in m.iter() {
            for (kind, n) in &c.traps_by_kind {
                let _ = writeln!(
                    out,
                    "{name}{{controller=\"{controller}\",kind=\"{kind}\"}} {n}"
                );
            }
        }
        out
    }
}
