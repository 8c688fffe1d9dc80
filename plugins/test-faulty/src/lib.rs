//! Misbehaves on purpose, as its config says: `{"fault": "loop"}` spins forever in
//! `schedule`, `"panic"` panics, `"memory"` allocates without end, `"refuse"` fails
//! `configure`, and a pod labelled `fault: <kind>` triggers that fault for that pod
//! only (so a test can check that other pods still schedule). Otherwise it places
//! pods like `default`'s filters with no scoring. Never shipped in the binary.

use wharf_plugin_sdk::scheduling::{NodeInfo, Pod, Policy, Rejection, View, filters};

#[derive(Default)]
pub struct Faulty {
    fault: Option<String>,
}

fn misbehave(kind: &str) {
    match kind {
        "loop" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "panic" => panic!("the faulty policy panics as asked"),
        "memory" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        _ => {}
    }
}

impl Policy for Faulty {
    fn configure(&mut self, config: &str) -> Result<(), String> {
        for kind in ["loop", "panic", "memory", "refuse"] {
            if config.contains(&format!("\"{kind}\"")) {
                if kind == "refuse" {
                    return Err("the faulty policy refuses its config as asked".into());
                }
                self.fault = Some(kind.to_string());
            }
        }
        Ok(())
    }

    fn filter(&self, view: &View, pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        if let Some(kind) = &self.fault {
            misbehave(kind);
        }
        if let Some(l) = pod.labels.iter().find(|l| l.key == "fault") {
            misbehave(&l.value);
        }
        filters::standard(view, pod, node)
    }

    fn score(&self, _view: &View, _pod: &Pod, _node: &NodeInfo) -> i64 {
        0
    }
}

wharf_plugin_sdk::export_scheduler_policy!(Faulty);
