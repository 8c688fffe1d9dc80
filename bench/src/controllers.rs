//! `wharf-bench controllers`: the controller manager end to end.
//!
//! - Scale-up: a Deployment on N simulated nodes scaled from 0 to M replicas; the
//!   clock stops when the Deployment reports M available (the Deployment and
//!   ReplicaSet controllers, the scheduler and the simulated kubelets all work
//!   for it). Reconciles per second per controller come from `/metrics`.
//! - Hot-swap pause: a probe ReplicaSet is rescaled every 100 ms and the time
//!   until the controller has observed each change (its `observedGeneration`)
//!   is measured, first alone, then while the ReplicaSet controller is swapped
//!   to a new version five times.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use crate::cluster::SimCluster;
use crate::schedule::metric;

pub struct Options {
    pub nodes: usize,
    pub replicas: usize,
    pub wharf: Option<PathBuf>,
}

const NS: &str = "/apis/apps/v1/namespaces/default";

fn deployment(name: &str, replicas: usize) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "c",
                    "image": "busybox:1.36",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                }]},
            },
        },
    })
}

async fn get(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http.get(url).send().await?.json().await?)
}

async fn patch(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<Value> {
    let resp = http
        .patch(url)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await?;
    let code = resp.status();
    let v: Value = resp.json().await?;
    if !code.is_success() {
        bail!("PATCH {url}: {code}: {v}");
    }
    Ok(v)
}

/// Reconcile counts and time per controller, from `/metrics`.
fn reconciles(text: &str) -> BTreeMap<String, (f64, f64)> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        for (family, slot) in [
            ("wharf_controller_reconciles_total{controller=\"", 0),
            ("wharf_controller_reconcile_seconds_total{controller=\"", 1),
        ] {
            if let Some(rest) = line.strip_prefix(family)
                && let Some((name, value)) = rest.split_once("\"} ")
            {
                let e: &mut (f64, f64) = out.entry(name.to_string()).or_default();
                let v: f64 = value.trim().parse().unwrap_or(0.0);
                if slot == 0 {
                    e.0 = v;
                } else {
                    e.1 = v;
                }
            }
        }
    }
    out
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    let wharf = crate::wharf_binary(o.wharf.as_deref())?;
    println!(
        "# wharf-bench controllers — {} simulated nodes, a Deployment scaled 0 → {}",
        o.nodes, o.replicas
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()?.get()
    );
    println!();
    let c = SimCluster::start(&wharf, o.nodes, "bench").await?;
    let (base, http) = (c.base.clone(), c.http.clone());
    println!(
        "{} nodes registered in {:.1} s",
        o.nodes,
        c.registered_in.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The Deployment at 0, observed, before the clock starts.
    let resp = http
        .post(format!("{base}{NS}/deployments"))
        .json(&deployment("scale", 0))
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("creating the Deployment: {}", resp.text().await?);
    }
    let url = format!("{base}{NS}/deployments/scale");
    loop {
        let d = get(&http, &url).await?;
        if d["status"]["observedGeneration"] == d["metadata"]["generation"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = reconciles(
        &http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?,
    );

    let started = Instant::now();
    patch(&http, &url, json!({"spec": {"replicas": o.replicas}})).await?;
    let mut all_created = None;
    loop {
        let d = get(&http, &url).await?;
        let replicas = d["status"]["replicas"].as_u64().unwrap_or(0) as usize;
        if all_created.is_none() && replicas >= o.replicas {
            all_created = Some(started.elapsed());
        }
        if d["status"]["availableReplicas"].as_u64().unwrap_or(0) as usize >= o.replicas {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("not all replicas available after 900 s: {}", d["status"]);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let available = started.elapsed();
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let after = reconciles(&text);

    println!();
    println!("## Scale-up");
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    if let Some(t) = all_created {
        println!(
            "| all {} pods counted by the Deployment after | {:.2} s |",
            o.replicas,
            t.as_secs_f64()
        );
    }
    println!(
        "| **all {} replicas available after** | **{:.2} s** ({:.0} pods/s) |",
        o.replicas,
        available.as_secs_f64(),
        o.replicas as f64 / available.as_secs_f64()
    );
    if let Some(bound) = metric(&text, "wharf_scheduler_pods_scheduled_total") {
        println!("| pods bound by the scheduler | {bound:.0} |");
    }
    println!();
    println!("| controller | reconciles | per second | mean reconcile |");
    println!("|---|---:|---:|---:|");
    for (name, (count, secs)) in &after {
        let (c0, s0) = before.get(name).copied().unwrap_or_default();
        let (n, t) = (count - c0, secs - s0);
        if n <= 0.0 {
            continue;
        }
        println!(
            "| {name} | {n:.0} | {:.0} | {:.2} ms |",
            n / available.as_secs_f64(),
            t / n * 1e3
        );
    }

    swap_pause(&http, &base).await
}

/// Latency from a ReplicaSet change to the controller having observed it.
async fn probe_once(http: &reqwest::Client, url: &str, replicas: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let written = patch(http, url, json!({"spec": {"replicas": replicas}})).await?;
    let generation = written["metadata"]["generation"].clone();
    loop {
        let rs = get(http, url).await?;
        if rs["status"]["observedGeneration"] == generation {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("a probe change not observed after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn probes(http: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(probe_once(http, url, 1 + (i % 2) as u64).await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    out.sort();
    Ok(out)
}

async fn swap_pause(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let rs = json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "probe"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "probe"}},
            "template": {"metadata": {"labels": {"app": "probe"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}},
        },
    });
    http.post(format!("{base}{NS}/replicasets"))
        .json(&rs)
        .send()
        .await?;
    let url = format!("{base}{NS}/replicasets/probe");
    let alone = probes(http, &url, 40).await?;

    let plugin = format!("{base}/apis/wharf.dev/v1alpha1/plugins/replicaset");
    let swapper = {
        let http = http.clone();
        tokio::spawn(async move {
            for n in 0..5 {
                let written =
                    patch(&http, &plugin, json!({"spec": {"config": {"swap": n}}})).await?;
                let generation = written["metadata"]["generation"].clone();
                loop {
                    let p = get(&http, &plugin).await?;
                    if p["status"]["observedGeneration"] == generation {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            anyhow::Ok(())
        })
    };
    let during = probes(http, &url, 40).await?;
    swapper.await??;

    let show = |v: &[Duration]| {
        format!(
            "{:.1} ms / {:.1} ms",
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() - 1].as_secs_f64() * 1e3
        )
    };
    println!();
    println!("## Hot-swap pause (change → observed by the ReplicaSet controller, 40 probes)");
    println!();
    println!("| while | p50 / max |");
    println!("|---|---:|");
    println!("| no swap | {} |", show(&alone));
    println!("| 5 swaps of the controller | {} |", show(&during));
    Ok(())
}
