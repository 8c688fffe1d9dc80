//! `wharf-bench api`: the API server and its store, measured through HTTP, side by
//! side with a real single-member etcd in the same run.
//!
//! Both systems get the same bytes (a realistic ~1.5 KB pod), the same client
//! concurrency levels and the same wall-clock budget per level, on the same disk and
//! cores, one after the other. Absolute numbers on a shared 2-core machine are noisy;
//! the ratio measured within one run is what to compare.

mod cluster;
mod controllers;
mod raw_http;
mod schedule;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use raw_http::RawHttp;

#[derive(Parser)]
#[command(about = "Benchmarks of Wharf against the systems it replaces")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Durable creates through the API (1, 16, 64 clients) vs etcd puts, and LIST latency.
    Api {
        /// Seconds per concurrency level and system.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Client concurrency levels.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        clients: Vec<usize>,
        /// Pods in the namespace for the LIST measurement.
        #[arg(long, default_value_t = 10_000)]
        list_pods: usize,
        /// The `wharf` binary (default: next to this one).
        #[arg(long)]
        wharf: Option<PathBuf>,
        /// The `etcd` binary.
        #[arg(long, default_value = "etcd")]
        etcd: PathBuf,
        /// Use an already running Wharf API server (e.g. one under a profiler) instead of
        /// starting one.
        #[arg(long)]
        server: Option<String>,
    },
    /// The scheduler: pods bound per second end to end on simulated nodes, and the
    /// default policy's decision cost in wasm vs native.
    Schedule {
        #[arg(long, default_value_t = 5_000)]
        nodes: usize,
        #[arg(long, default_value_t = 10_000)]
        pods: usize,
        /// Concurrent clients creating pods.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Decisions timed in the wasm-vs-native comparison: 300 alternating
        /// rounds of 100 (at 20 rounds, one binary's ratio varied by 0.2).
        #[arg(long, default_value_t = 30_000)]
        decisions: usize,
        /// The `wharf` binary (default: next to this one).
        #[arg(long)]
        wharf: Option<PathBuf>,
        /// Only the wasm-vs-native decision cost (no server, no sim).
        #[arg(long)]
        decisions_only: bool,
        /// Write `/tmp/perf-<pid>.map` so that `perf report` names the wasm
        /// policy's compiled functions.
        #[arg(long)]
        perf_map: bool,
    },
    /// The controller manager: a Deployment scaled from 0 to M replicas on N
    /// simulated nodes, reconciles per controller, and the hot-swap pause.
    Controllers {
        #[arg(long, default_value_t = 1_000)]
        nodes: usize,
        #[arg(long, default_value_t = 10_000)]
        replicas: usize,
        /// The `wharf` binary (default: next to this one).
        #[arg(long)]
        wharf: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.bench {
        Bench::Api {
            seconds,
            clients,
            list_pods,
            wharf,
            etcd,
            server,
        } => runtime.block_on(api(seconds, clients, list_pods, wharf, etcd, server)),
        Bench::Schedule {
            nodes,
            pods,
            clients,
            decisions,
            wharf,
            decisions_only,
            perf_map,
        } => runtime.block_on(schedule::run(schedule::Options {
            nodes,
            pods,
            clients,
            decisions,
            wharf,
            decisions_only,
            perf_map,
        })),
        Bench::Controllers {
            nodes,
            replicas,
            wharf,
        } => runtime.block_on(controllers::run(controllers::Options {
            nodes,
            replicas,
            wharf,
        })),
    }
}

/// A ~1.5 KB pod, as a small real workload's pod looks.
fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "backend", "track": "stable"},
                     "annotations": {"bench.wharf.dev/padding": "x".repeat(600)}},
        "spec": {"containers": [{
            "name": "app", "image": "registry.local/bench/app:1.0.0",
            "command": ["/bin/app", "--listen=:8080", "--log-level=info"],
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "MODE", "value": "bench"}, {"name": "REGION", "value": "local"}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}
        }]}
    })
}

/// Latency samples of one run.
struct Samples {
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
}

impl Samples {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i]
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Runs `op` from `clients` tasks for `seconds`, each task numbering its own calls.
async fn drive<F, Fut>(clients: usize, seconds: u64, op: F) -> Samples
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let op = op.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                if op(c, i).await {
                    lat.push(t.elapsed());
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    Samples {
        ops: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
        errors: errors.load(Ordering::Relaxed),
    }
}

pub(crate) struct Proc(pub(crate) Child);

impl Proc {
    /// CPU time (user + system) the process has used so far, from
    /// `/proc/PID/stat`. Time spent waiting for a core is not in it, so on a
    /// shared machine it moves much less from run to run than throughput does.
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        let path = format!("/proc/{}/stat", self.0.id());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // The command name (field 2) is in parentheses and may hold spaces; utime
        // and stime are fields 14 and 15, the 12th and 13th after it.
        let after_name = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .with_context(|| format!("{path}: no command name"))?;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |i: usize| -> anyhow::Result<u64> {
            fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .with_context(|| format!("{path}: field {} is not a number", i + 3))
        };
        let total = ticks(11)? + ticks(12)?;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let per_second = if per_second > 0 {
            per_second as u64
        } else {
            100
        };
        Ok(Duration::from_secs_f64(total as f64 / per_second as f64))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `wharf` binary: the one given, else the one built beside this one.
pub(crate) fn wharf_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    Ok(match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .context("bench binary has no directory")?
            .join("wharf"),
    })
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) async fn wait_http(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{url} did not come up")
}

fn start_wharf(bin: &Path, dir: &Path, port: u16) -> anyhow::Result<Proc> {
    let child = Command::new(bin)
        .args([
            "server",
            "--no-scheduler",
            "--no-controllers",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    Ok(Proc(child))
}

fn start_etcd(bin: &Path, dir: &Path, port: u16, peer: u16) -> anyhow::Result<Proc> {
    let client_url = format!("http://127.0.0.1:{port}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let child = Command::new(bin)
        .arg("--data-dir")
        .arg(dir)
        .args([
            "--name",
            "bench",
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
        ])
        .args([
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
        ])
        .args([
            "--initial-cluster",
            &format!("bench={peer_url}"),
            "--log-level",
            "error",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} (install Debian's etcd-server)", bin.display()))?;
    Ok(Proc(child))
}

async fn api(
    seconds: u64,
    levels: Vec<usize>,
    list_pods: usize,
    wharf: Option<PathBuf>,
    etcd: PathBuf,
    server: Option<String>,
) -> anyhow::Result<()> {
    let wharf = wharf_binary(wharf.as_deref())?;
    let scratch = tempfile::Builder::new()
        .prefix("wharf-bench-")
        .tempdir_in("/var/tmp")?;
    let value_bytes = serde_json::to_vec(&pod("bench-000000"))?.len();
    println!(
        "# wharf-bench api — {} s per level, pod body {value_bytes} bytes",
        seconds
    );
    println!(
        "machine: {} cores; scratch dir on {}",
        std::thread::available_parallelism()?.get(),
        scratch.path().display()
    );
    println!();

    // --- Wharf through HTTP ---
    let (base, _server) = match server {
        Some(url) => (url.trim_end_matches('/').to_string(), None),
        None => {
            let port = free_port()?;
            let proc = start_wharf(&wharf, &scratch.path().join("wharf"), port)?;
            (format!("http://127.0.0.1:{port}"), Some(proc))
        }
    };
    wait_http(&format!("{base}/readyz")).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    // Namespaces unique to this run, so a reused server (--server) does not collide.
    let run = std::process::id();
    let mut wharf_results = Vec::new();
    for (level, &clients) in levels.iter().enumerate() {
        let ns = format!("bench-{run}-{level}");
        let created = http
            .post(format!("{base}/api/v1/namespaces"))
            .json(&json!({"metadata": {"name": ns}}))
            .send()
            .await?;
        if !created.status().is_success() {
            bail!("creating namespace {ns}: {}", created.status());
        }
        // Pre-rendered around the name, so the client spends its CPU on requests,
        // not on JSON.
        let template = serde_json::to_string(&pod("NAME_HERE"))?;
        let (head, tail) = template
            .split_once("NAME_HERE")
            .context("template has a name")?;
        let (head, tail) = (Arc::new(head.to_string()), Arc::new(tail.to_string()));
        let host = base.trim_start_matches("http://").to_string();
        let path = format!("/api/v1/namespaces/{ns}/pods");
        let mut conns = Vec::new();
        for _ in 0..clients {
            conns.push(Arc::new(tokio::sync::Mutex::new(
                RawHttp::connect(&host).await?,
            )));
        }
        let conns = Arc::new(conns);
        let s = drive(clients, seconds, move |c, i| {
            let conn = conns[c].clone();
            let body = format!("{head}p-{c}-{i}{tail}");
            let (host, path) = (host.clone(), path.clone());
            async move {
                let mut conn = conn.lock().await;
                conn.post(&host, &path, body.as_bytes())
                    .await
                    .is_ok_and(|code| code == 201)
            }
        })
        .await;
        wharf_results.push((clients, s));
    }

    // LIST latency with `list_pods` pods in one namespace.
    let ns = &format!("bench-{run}-list");
    http.post(format!("{base}/api/v1/namespaces"))
        .json(&json!({"metadata": {"name": ns}}))
        .send()
        .await?;
    let url = format!("{base}/api/v1/namespaces/{ns}/pods");
    let filled = Arc::new(AtomicUsize::new(0));
    let mut fill = Vec::new();
    for c in 0..16 {
        let (http, url, filled) = (http.clone(), url.clone(), filled.clone());
        fill.push(tokio::spawn(async move {
            loop {
                let i = filled.fetch_add(1, Ordering::Relaxed);
                if i >= list_pods {
                    return;
                }
                let _ = http
                    .post(&url)
                    .json(&pod(&format!("l-{c}-{i}")))
                    .send()
                    .await;
            }
        }));
    }
    for f in fill {
        f.await?;
    }
    let mut list_full = Vec::new();
    let mut list_table = Vec::new();
    let mut list_page = Vec::new();
    let mut count = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let v: Value = http.get(&url).send().await?.json().await?;
        list_full.push(t.elapsed());
        count = v["items"].as_array().map_or(0, Vec::len);
        let t = Instant::now();
        let _ = http
            .get(&url)
            .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .send()
            .await?
            .bytes()
            .await?;
        list_table.push(t.elapsed());
        let t = Instant::now();
        let _ = http
            .get(format!("{url}?limit=500"))
            .send()
            .await?
            .bytes()
            .await?;
        list_page.push(t.elapsed());
    }
    drop(_server);

    // --- etcd, same bytes, same concurrency ---
    let (eport, epeer) = (free_port()?, free_port()?);
    let _etcd = start_etcd(&etcd, &scratch.path().join("etcd"), eport, epeer)?;
    wait_http(&format!("http://127.0.0.1:{eport}/health")).await?;
    let value = Arc::new(serde_json::to_vec(&pod("bench-000000"))?);
    let mut etcd_results = Vec::new();
    for (level, &clients) in levels.iter().enumerate() {
        let mut conns = Vec::new();
        for _ in 0..clients.min(16) {
            conns.push(etcd_client::Client::connect([format!("127.0.0.1:{eport}")], None).await?);
        }
        let conns = Arc::new(conns);
        let value = value.clone();
        let s = drive(clients, seconds, move |c, i| {
            let mut kv = conns[c % conns.len()].kv_client();
            let key = format!("/registry/pods/bench-{level}/p-{c}-{i}");
            let value = value.as_ref().clone();
            async move { kv.put(key, value, None).await.is_ok() }
        })
        .await;
        etcd_results.push((clients, s));
    }

    println!("## Durable creates (Wharf: POST pods over HTTP; etcd: gRPC put of the same bytes)");
    println!();
    println!(
        "| clients | wharf creates/s | p50 ms | p99 ms | errors | etcd puts/s | p50 ms | p99 ms | wharf ÷ etcd |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ((clients, w), (_, e)) in wharf_results.iter().zip(&etcd_results) {
        println!(
            "| {clients} | {:.0} | {} | {} | {} | {:.0} | {} | {} | {:.2}× |",
            w.rate(),
            ms(w.percentile(0.5)),
            ms(w.percentile(0.99)),
            w.errors,
            e.rate(),
            ms(e.percentile(0.5)),
            ms(e.percentile(0.99)),
            w.rate() / e.rate().max(f64::MIN_POSITIVE),
        );
    }
    println!();
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    println!("## LIST of {count} pods in one namespace (median of 5)");
    println!();
    println!("| request | ms |");
    println!("|---|---:|");
    println!("| full list, JSON | {} |", ms(median(&mut list_full)));
    println!(
        "| full list, Table (kubectl get) | {} |",
        ms(median(&mut list_table))
    );
    println!("| first page, limit=500 | {} |", ms(median(&mut list_page)));
    Ok(())
}
