//! Misbehaves on purpose, for the controller manager's fault tests. Never shipped
//! in the binary.
//!
//! It reconciles ConfigMaps in one namespace (`{"namespace": ...}`, default
//! `faults`); each ConfigMap's `data.fault` says what to do with it:
//! - `loop` spins forever, `panic` panics, `memory` allocates without end;
//! - `host-heavy` lists ConfigMaps from the API server again and again for
//!   `data.hostMillis` of wall time, far past the deadline, while the guest itself
//!   runs only briefly: the deadline must count guest time, so this one succeeds;
//! - anything else, or none, is a well-behaved reconcile.
//!
//! A reconcile that succeeds marks the ConfigMap with the annotation
//! `faulty.wharf.dev/reconciled` (for `host-heavy`, the number of reads made).
//! `{"fault": KIND}` in the config makes every reconcile, in any namespace,
//! misbehave that way: a version that fails whatever it is given.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use wharf_controller_sdk::{
    Context, Error, Key, Outcome, PatchType, Reconciler, Registration, kind_of, registration,
};

pub const RECONCILED: &str = "faulty.wharf.dev/reconciled";

pub struct Faulty {
    namespace: String,
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
        "panic" => panic!("the faulty controller panics as asked"),
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

impl Reconciler for Faulty {
    fn configure(config: &str) -> Result<Self, String> {
        let config: serde_json::Value =
            serde_json::from_str(config).map_err(|e| format!("config: {e}"))?;
        Ok(Faulty {
            namespace: config["namespace"].as_str().unwrap_or("faults").to_string(),
            fault: config["fault"].as_str().map(str::to_string),
        })
    }

    fn registration(&self) -> Registration {
        registration::<ConfigMap>(vec![])
    }

    fn reconcile(&self, ctx: &Context<'_>, key: &Key) -> Result<Outcome, Error> {
        if let Some(fault) = &self.fault {
            misbehave(fault);
        }
        if key.namespace != self.namespace {
            return Ok(Outcome::Done);
        }
        let Some(cm) = ctx.get::<ConfigMap>(&key.namespace, &key.name)? else {
            return Ok(Outcome::Done);
        };
        let marked = cm
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(RECONCILED));
        if marked {
            return Ok(Outcome::Done);
        }
        let data = cm.data.unwrap_or_default();
        let fault = data.get("fault").map(String::as_str).unwrap_or("");
        misbehave(fault);
        let mark = if fault == "host-heavy" {
            let millis = data
                .get("hostMillis")
                .and_then(|m| m.parse().ok())
                .unwrap_or(2000);
            // Each read lists the namespace's ConfigMaps through the API server
            // with a selector that matches none: the server does the work and the
            // guest receives an empty list, so nearly all of the reconcile's time is
            // the host's however fast the server answers.
            let until = Instant::now() + Duration::from_millis(millis);
            let kind = kind_of::<ConfigMap>();
            let mut reads = 0u64;
            while Instant::now() < until {
                for _ in 0..8 {
                    ctx.fetch_list_json(&kind, &key.namespace, "faulty.wharf.dev/never=matched")?;
                    reads += 1;
                }
            }
            reads.to_string()
        } else {
            "true".to_string()
        };
        ctx.patch::<ConfigMap>(
            &key.namespace,
            &key.name,
            PatchType::Merge,
            &json!({"metadata": {"annotations": {RECONCILED: mark}}}),
            None,
        )?;
        Ok(Outcome::Done)
    }
}

wharf_controller_sdk::export_controller!(Faulty);
