//! A real `wharf server` with `wharf sim nodes N` beside it, for the benchmarks
//! that need a cluster.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{Proc, free_port, wait_http};

pub struct SimCluster {
    pub base: String,
    pub http: reqwest::Client,
    /// How long the nodes took to register.
    pub registered_in: Duration,
    // Dropped last: the processes go before their directory.
    sim: Proc,
    server: Proc,
    _scratch: tempfile::TempDir,
}

/// CPU time the cluster's two processes have used so far.
#[derive(Clone, Copy)]
pub struct CpuTimes {
    pub server: Duration,
    pub sim: Duration,
}

impl SimCluster {
    pub fn cpu_times(&self) -> anyhow::Result<CpuTimes> {
        Ok(CpuTimes {
            server: self.server.cpu_time()?,
            sim: self.sim.cpu_time()?,
        })
    }

    /// Starts the server and `nodes` simulated nodes (64 cores, 256 GiB, 110
    /// pods each) and waits until every node is registered.
    pub async fn start(wharf: &Path, nodes: usize, prefix: &str) -> anyhow::Result<SimCluster> {
        let scratch = tempfile::Builder::new()
            .prefix("wharf-bench-")
            .tempdir_in("/var/tmp")?;
        let port = free_port()?;
        let data = scratch.path().join("data");
        let server = Proc(
            Command::new(wharf)
                .args([
                    "server",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--data-dir",
                ])
                .arg(&data)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", wharf.display()))?,
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_http(&format!("{base}/readyz")).await?;
        let registered = Instant::now();
        let sim = Proc(
            Command::new(wharf)
                .args(["sim", "nodes", &nodes.to_string(), "--prefix", prefix])
                .args(["--cpu", "64", "--memory", "256Gi"])
                .arg("--kubeconfig")
                .arg(data.join("admin.kubeconfig"))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting wharf sim")?,
        );
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        let last = format!("{base}/api/v1/nodes/{prefix}-{}", nodes - 1);
        loop {
            if http
                .get(&last)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if registered.elapsed() > Duration::from_secs(300) {
                bail!("sim nodes not registered after 300 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let registered_in = registered.elapsed();
        // A fresh data directory has no compiled plugins yet: the server compiles
        // its built-in policies and controllers in its first seconds, one after
        // another, and registers each one's Plugin object when it is installed.
        // Measure the cluster once every built-in one is loaded, not its first
        // start (waiting only for the objects listed so far let the last
        // controllers compile during the measurement).
        let plugins = format!("{base}/apis/wharf.dev/v1alpha1/plugins");
        let builtins: Vec<&str> = wharf_builtin_plugins::SCHEDULER_POLICIES
            .iter()
            .chain(wharf_builtin_plugins::CONTROLLERS)
            .map(|b| b.name)
            .collect();
        loop {
            let list: serde_json::Value = http.get(&plugins).send().await?.json().await?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            let loaded = |name: &str| {
                items
                    .iter()
                    .any(|p| p["metadata"]["name"] == name && p["status"]["phase"] == "Loaded")
            };
            if builtins.iter().all(|name| loaded(name)) {
                break;
            }
            if registered.elapsed() > Duration::from_secs(300) {
                bail!("built-in plugins not loaded after 300 s: {list}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(SimCluster {
            base,
            http,
            registered_in,
            sim,
            server,
            _scratch: scratch,
        })
    }
}
