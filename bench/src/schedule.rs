//! `wharf-bench schedule`: the scheduler end to end, and the policy's decision
//! cost in wasm against the same policy compiled natively.
//!
//! End to end: a real `wharf server` and `wharf sim nodes N`; M pods are created
//! through the API as fast as a pool of clients can, and the clock stops when the
//! scheduler has bound the last one. Latencies come from the scheduler's own
//! histograms on `/metrics`.
//!
//! Decision cost: one process, the same synthetic cluster fed to the `default`
//! policy as a wasm component (through the plugin host, as the scheduler runs it)
//! and as native Rust; each decides the same pods and is told each placement.
//! The hot-swap pause is what a swap costs the deciding thread: instantiating the
//! new version and seeding it with every node and placement before its first
//! decision.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::raw_http::RawHttp;

pub struct Options {
    pub nodes: usize,
    pub pods: usize,
    pub clients: usize,
    pub decisions: usize,
    pub wharf: Option<PathBuf>,
    /// Measure the decision cost only (no server, no sim).
    pub decisions_only: bool,
    /// Name the wasm policy's functions for `perf` (see `HostConfig::perf_map`).
    pub perf_map: bool,
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    let wharf = crate::wharf_binary(o.wharf.as_deref())?;
    println!(
        "# wharf-bench schedule — {} simulated nodes, {} pods, `default` policy",
        o.nodes, o.pods
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()?.get()
    );
    println!();
    decision_cost(o.nodes, o.decisions, o.perf_map)?;
    if o.decisions_only {
        return Ok(());
    }
    println!();
    end_to_end(&wharf, &o).await
}

// ---------------------------------------------------------------------------
// Decision cost: wasm vs native, and the swap pause.
// ---------------------------------------------------------------------------

/// The synthetic cluster both builds see: nodes over 3 zones, a few tainted.
struct SynthNode {
    name: String,
    zone: String,
    tainted: bool,
}

fn synth_nodes(n: usize) -> Vec<SynthNode> {
    (0..n)
        .map(|i| SynthNode {
            name: format!("node-{i}"),
            zone: format!("zone-{}", i % 3),
            tainted: i % 10 == 0,
        })
        .collect()
}

macro_rules! build_types {
    ($m:path) => {{
        use $m as t;
        let node = |s: &SynthNode| t::Node {
            name: s.name.clone(),
            labels: vec![
                t::Label {
                    key: "kubernetes.io/hostname".into(),
                    value: s.name.clone(),
                },
                t::Label {
                    key: "topology.kubernetes.io/zone".into(),
                    value: s.zone.clone(),
                },
            ],
            taints: if s.tainted {
                vec![t::Taint {
                    key: "dedicated".into(),
                    value: "infra".into(),
                    effect: t::TaintEffect::NoSchedule,
                }]
            } else {
                vec![]
            },
            allocatable: t::Resources {
                milli_cpu: 64_000,
                memory_bytes: 256 << 30,
                pods: 110,
            },
            unschedulable: false,
        };
        let pod = |i: usize| t::Pod {
            uid: format!("pod-{i}"),
            namespace: "default".into(),
            name: format!("pod-{i}"),
            labels: vec![t::Label {
                key: "app".into(),
                value: "bench".into(),
            }],
            node_name: None,
            node_selector: vec![],
            required_terms: vec![],
            preferred_terms: vec![],
            tolerations: vec![],
            requests: t::Resources {
                milli_cpu: 100,
                memory_bytes: 64 << 20,
                pods: 1,
            },
            host_ports: vec![],
            owner_uid: Some(format!("rs-{}", i % 50)),
            priority: 0,
        };
        let placement = |p: &t::Pod, node: &str| t::Placement {
            pod_uid: p.uid.clone(),
            namespace: p.namespace.clone(),
            node_name: node.to_string(),
            requests: p.requests,
            host_ports: vec![],
            owner_uid: p.owner_uid.clone(),
        };
        (node, pod, placement)
    }};
}

/// Decisions per round of the wasm/native comparison. The two builds take turns
/// round by round (alternating which goes first), so a slow moment of this
/// shared machine falls on both rather than on whichever happened to run then.
const ROUND: usize = 100;

fn decision_cost(nodes: usize, decisions: usize, perf_map: bool) -> anyhow::Result<()> {
    use wharf_plugin_host::scheduler_policy as w;
    use wharf_plugin_sdk::scheduling as n;

    let synth = synth_nodes(nodes);
    // The cluster already runs one pod per node.
    let warm = nodes;

    // --- wasm, through the plugin host ---
    let host = wharf_plugin_host::PluginHost::new(wharf_plugin_host::HostConfig {
        perf_map,
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let module = wharf_builtin_plugins::scheduler_policy("default").context("built-in default")?;
    let plugin = host.load("default", module.wasm)?;
    let limits = wharf_plugin_host::Limits {
        deadline: Duration::from_secs(10),
        memory_bytes: 1 << 30,
    };
    let (wnode, wpod, wplace) = build_types!(wharf_plugin_host::scheduler_policy);
    let mut seed: Vec<w::Change> = synth
        .iter()
        .map(|s| w::Change::NodeUpserted(wnode(s)))
        .collect();
    for i in 0..warm {
        seed.push(w::Change::PodPlaced(wplace(
            &wpod(1_000_000 + i),
            &synth[i % nodes].name,
        )));
    }
    let swap_started = Instant::now();
    let mut wasm = w::PolicyInstance::new(&host, &plugin, limits, "{}")?;
    wasm.sync(&seed)?;
    let first = wasm.schedule(&wpod(0))?;
    let swap_pause = swap_started.elapsed();
    if let w::Decision::Place(c) = &first {
        wasm.sync(&[w::Change::PodPlaced(wplace(&wpod(0), &c.node))])?;
    }

    // --- native, the same crate compiled for this machine ---
    let (nnode, npod, nplace) = build_types!(wharf_plugin_sdk::scheduling);
    let mut native = n::Instance::<wharf_scheduler_default::DefaultPolicy>::default();
    native.configure("{}").map_err(|e| anyhow::anyhow!(e))?;
    let mut seed: Vec<n::Change> = synth
        .iter()
        .map(|s| n::Change::NodeUpserted(nnode(s)))
        .collect();
    for i in 0..warm {
        seed.push(n::Change::PodPlaced(nplace(
            &npod(1_000_000 + i),
            &synth[i % nodes].name,
        )));
    }
    native.sync(seed);
    if let n::Decision::Place(c) = native.schedule(&npod(0)) {
        native.sync(vec![n::Change::PodPlaced(nplace(&npod(0), &c.node))]);
    }

    // Each decides pods 1..=decisions and is told each placement, as the scheduler
    // does; the clock covers building the pod, deciding and the placement sync.
    let mut wasm_round =
        |from: usize, to: usize, chosen: &mut Vec<String>| -> anyhow::Result<Duration> {
            let started = Instant::now();
            for i in from..to {
                let p = wpod(i);
                match wasm.schedule(&p)? {
                    w::Decision::Place(c) => {
                        wasm.sync(&[w::Change::PodPlaced(wplace(&p, &c.node))])?;
                        chosen.push(c.node);
                    }
                    w::Decision::Unschedulable(_) => bail!("wasm: pod {i} unschedulable"),
                }
            }
            Ok(started.elapsed())
        };
    let mut native_round =
        |from: usize, to: usize, chosen: &mut Vec<String>| -> anyhow::Result<Duration> {
            let started = Instant::now();
            for i in from..to {
                let p = npod(i);
                match native.schedule(&p) {
                    n::Decision::Place(c) => {
                        native.sync(vec![n::Change::PodPlaced(nplace(&p, &c.node))]);
                        chosen.push(c.node);
                    }
                    n::Decision::Unschedulable(_) => bail!("native: pod {i} unschedulable"),
                }
            }
            Ok(started.elapsed())
        };
    let (mut wasm_choices, mut native_choices) = (Vec::new(), Vec::new());
    let (mut wasm_time, mut native_time) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::new();
    let mut from = 1;
    while from <= decisions {
        let to = (from + ROUND).min(decisions + 1);
        let (wt, nt) = if (from / ROUND).is_multiple_of(2) {
            let wt = wasm_round(from, to, &mut wasm_choices)?;
            (wt, native_round(from, to, &mut native_choices)?)
        } else {
            let nt = native_round(from, to, &mut native_choices)?;
            (wasm_round(from, to, &mut wasm_choices)?, nt)
        };
        wasm_time += wt;
        native_time += nt;
        ratios.push(wt.as_secs_f64() / nt.as_secs_f64());
        from = to;
    }
    let agree = wasm_choices
        .iter()
        .zip(&native_choices)
        .filter(|(a, b)| a == b)
        .count();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];

    let per = |d: Duration| d.as_secs_f64() * 1e6 / decisions as f64;
    println!(
        "## Decision cost ({nodes} nodes, {warm} pods already placed, {decisions} decisions, default policy)"
    );
    println!();
    println!("| build | µs per decision (incl. placement sync) | decisions/s |");
    println!("|---|---:|---:|");
    println!(
        "| wasm (wasmtime 48, plugin host) | {:.1} | {:.0} |",
        per(wasm_time),
        decisions as f64 / wasm_time.as_secs_f64()
    );
    println!(
        "| native (same crate) | {:.1} | {:.0} |",
        per(native_time),
        decisions as f64 / native_time.as_secs_f64()
    );
    println!();
    println!(
        "wasm / native = {:.2}× overall, {median:.2}× median of {} alternating rounds of {ROUND} \
         (fastest round {:.2}×, slowest {:.2}×); same node chosen in {agree}/{decisions} decisions",
        wasm_time.as_secs_f64() / native_time.as_secs_f64(),
        ratios.len(),
        ratios[0],
        ratios[ratios.len() - 1],
    );
    println!(
        "hot-swap pause (new instance + seeding {nodes} nodes and {warm} placements + first decision): {:.1} ms",
        swap_pause.as_secs_f64() * 1e3
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// End to end through the API.
// ---------------------------------------------------------------------------

fn bench_pod(i: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("bench-{i:06}"), "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "app", "image": "registry.local/bench/app:1.0.0",
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    })
}

/// Creates pods `0..count` through the API from `clients` concurrent keep-alive
/// connections. The load generator shares the cores with the cluster it measures,
/// so it sends pre-rendered bytes over a minimal client (see `raw_http`) rather
/// than building JSON and going through reqwest for each pod.
async fn create_pods(
    base: &str,
    count: usize,
    clients: usize,
    make: fn(usize) -> Value,
) -> anyhow::Result<()> {
    let host = base.trim_start_matches("http://").to_string();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| serde_json::to_vec(&make(i)))
            .collect::<Result<_, _>>()?,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let mut creators = Vec::new();
    for _ in 0..clients.max(1) {
        let mut conn = RawHttp::connect(&host).await?;
        let (host, bodies, next) = (host.clone(), bodies.clone(), next.clone());
        creators.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let code = conn
                    .post(&host, "/api/v1/namespaces/default/pods", body)
                    .await?;
                if code != 201 {
                    bail!("create of pod {i} answered {code}");
                }
            }
        }));
    }
    for c in creators {
        c.await??;
    }
    Ok(())
}

/// Reads a counter or gauge from Prometheus text.
pub(crate) fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

/// A quantile from a Prometheus histogram's cumulative buckets (upper bound of
/// the bucket holding it).
fn quantile(text: &str, name: &str, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(&format!("{name}_bucket{{le=\"")) else {
            continue;
        };
        let (le, count) = rest.split_once("\"} ")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        buckets.push((le, count.trim().parse().ok()?));
    }
    let total = buckets.last()?.1;
    buckets
        .iter()
        .find(|(_, c)| *c >= total * q)
        .map(|(le, _)| *le)
}

async fn end_to_end(wharf: &std::path::Path, o: &Options) -> anyhow::Result<()> {
    let cluster = crate::cluster::SimCluster::start(wharf, o.nodes, "bench").await?;
    let (base, http) = (cluster.base.clone(), cluster.http.clone());
    println!(
        "## End to end ({} nodes registered in {:.1} s)",
        o.nodes,
        cluster.registered_in.as_secs_f64()
    );
    // Let the scheduler's node watch catch up before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let cpu_before = cluster.cpu_times()?;
    let started = Instant::now();
    create_pods(&base, o.pods, o.clients, bench_pod).await?;
    let created = started.elapsed();
    let text = loop {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        if metric(&text, "wharf_scheduler_pods_scheduled_total").unwrap_or(0.0) >= o.pods as f64 {
            break text;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("not all pods bound after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let bound = started.elapsed();
    let cpu_after = cluster.cpu_times()?;
    let per_pod = |before: Duration, after: Duration| {
        after.saturating_sub(before).as_secs_f64() * 1e6 / o.pods as f64
    };
    let ms = |v: Option<f64>| {
        v.map(|s| format!("≤ {:.2} ms", s * 1e3))
            .unwrap_or_else(|| "?".into())
    };
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| pods created through the API | {} in {:.2} s ({:.0}/s) |",
        o.pods,
        created.as_secs_f64(),
        o.pods as f64 / created.as_secs_f64()
    );
    println!("| all pods bound after | {:.2} s |", bound.as_secs_f64());
    println!(
        "| **end-to-end scheduling throughput** | **{:.0} pods/s** |",
        o.pods as f64 / bound.as_secs_f64()
    );
    println!(
        "| CPU per pod: server (API, store, scheduler, controllers) | {:.0} µs |",
        per_pod(cpu_before.server, cpu_after.server)
    );
    println!(
        "| CPU per pod: simulated nodes | {:.0} µs |",
        per_pod(cpu_before.sim, cpu_after.sim)
    );
    println!(
        "| queue→bound latency p50 | {} |",
        ms(quantile(
            &text,
            "wharf_scheduler_pod_scheduling_duration_seconds",
            0.5
        ))
    );
    println!(
        "| queue→bound latency p99 | {} |",
        ms(quantile(
            &text,
            "wharf_scheduler_pod_scheduling_duration_seconds",
            0.99
        ))
    );
    println!(
        "| policy decision p50 | {} |",
        ms(quantile(
            &text,
            "wharf_scheduler_decision_duration_seconds",
            0.5
        ))
    );
    println!(
        "| policy decision p99 | {} |",
        ms(quantile(
            &text,
            "wharf_scheduler_decision_duration_seconds",
            0.99
        ))
    );
    println!(
        "| bindings refused | {} |",
        metric(&text, "wharf_scheduler_binding_failures_total").unwrap_or(-1.0)
    );
    println!(
        "| events dropped under load | {} |",
        metric(&text, "wharf_scheduler_events_dropped_total").unwrap_or(-1.0)
    );
    backlog(&http, &base, o).await
}

/// Scheduler throughput alone, as kube-scheduler's scheduler_perf measures it:
/// the pods exist first (naming a profile nobody serves yet), then the profile is
/// installed and the clock runs until the last is bound.
async fn backlog(http: &reqwest::Client, base: &str, o: &Options) -> anyhow::Result<()> {
    const PROFILE: &str = "backlog";
    create_pods(base, o.pods, o.clients, |i| {
        let mut pod = bench_pod(i);
        pod["metadata"]["name"] = json!(format!("backlog-{i:06}"));
        pod["spec"]["schedulerName"] = json!(PROFILE);
        pod
    })
    .await?;
    // Let the API and the sim settle after the creation burst.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = metric(
        &http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?,
        "wharf_scheduler_pods_scheduled_total",
    )
    .unwrap_or(0.0);
    let module = wharf_builtin_plugins::scheduler_policy("default").context("built-in default")?;
    let blob: Value = http
        .post(format!("{base}/apis/wharf.dev/v1alpha1/blobs"))
        .header("content-type", "application/wasm")
        .body(module.wasm.to_vec())
        .send()
        .await?
        .json()
        .await?;
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/apis/wharf.dev/v1alpha1/plugins"))
        .json(
            &json!({"apiVersion": "wharf.dev/v1alpha1", "kind": "Plugin",
                      "metadata": {"name": PROFILE},
                      "spec": {"kind": "scheduler-policy", "module": blob["digest"]}}),
        )
        .send()
        .await?;
    if resp.status().as_u16() != 201 {
        bail!("creating the Plugin answered {}", resp.status());
    }
    loop {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        if metric(&text, "wharf_scheduler_pods_scheduled_total").unwrap_or(0.0)
            >= before + o.pods as f64
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("backlog not bound after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    println!();
    println!(
        "## Scheduler throughput on a backlog ({} pods waiting, then their profile is installed)",
        o.pods
    );
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| all bound after | {:.2} s (includes loading the plugin) |",
        took.as_secs_f64()
    );
    println!(
        "| **scheduler throughput** | **{:.0} pods/s** |",
        o.pods as f64 / took.as_secs_f64()
    );
    Ok(())
}
