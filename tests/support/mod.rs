//! Shared by the end-to-end tests: a real `wharf server` process on a free loopback
//! port with its own data directory, and the real `kubectl` pointed at it.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const WHARF: &str = env!("CARGO_BIN_EXE_wharf");

/// A running `wharf server`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub data_dir: PathBuf,
    pub url: String,
    pub kubeconfig: PathBuf,
    /// kubectl's HOME (its discovery cache), private to this server.
    pub home: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let mut s = Self::start_in(&data_dir);
        s._temp = Some(temp);
        s
    }

    /// Starts a server on `data_dir` (which may hold state from an earlier run).
    pub fn start_in(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    /// Like `start_in`, with extra `wharf server` flags.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_command("server", data_dir, extra, &shared_plugin_cache())
    }

    /// `wharf up`, the all-in-one cluster the README starts with, as on a fresh
    /// machine: a fresh data directory and an empty compiled-plugin cache, so it
    /// compiles every built-in; what it prints goes to `log()`.
    pub fn start_up() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let cache = temp.path().join("plugin-cache");
        let mut s = Self::start_command("up", &data_dir, &[], &cache);
        s._temp = Some(temp);
        s
    }

    fn start_command(command: &str, data_dir: &Path, extra: &[&str], plugin_cache: &Path) -> Self {
        let kubeconfig = data_dir.join("admin.kubeconfig");
        let _ = std::fs::remove_file(&kubeconfig);
        let log = std::fs::File::create(data_dir.with_extension("log"))
            .or_else(|_| {
                std::fs::create_dir_all(data_dir)?;
                std::fs::File::create(data_dir.with_extension("log"))
            })
            .expect("server log file");
        let child = Command::new(WHARF)
            .args([command, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            // Most test servers share one compiled-plugin cache, so only the
            // first compiles the built-in plugins.
            .env("WHARF_PLUGIN_CACHE_DIR", plugin_cache)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start wharf server");
        let home = data_dir.with_extension("home");
        std::fs::create_dir_all(&home).expect("kubectl home");
        let mut server = Self {
            child,
            data_dir: data_dir.to_path_buf(),
            url: String::new(),
            kubeconfig,
            home,
            _temp: None,
        };
        server.url = server.wait_ready();
        server
    }

    fn wait_ready(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::blocking::Client::new();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll server") {
                panic!(
                    "wharf server exited early with {status}; log: {}",
                    self.log()
                );
            }
            if let Ok(text) = std::fs::read_to_string(&self.kubeconfig)
                && let Some(url) = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("server: "))
                    .map(str::to_string)
                && client
                    .get(format!("{url}/readyz"))
                    .send()
                    .is_ok_and(|r| r.status().is_success())
            {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "server not ready in 30s; log: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// Runs kubectl with this server's kubeconfig; returns its output.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_stdin(args, None)
    }

    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("kubectl");
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("kubectl on the PATH");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("kubectl ran")
    }

    /// Runs kubectl and insists it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl and insists it fails; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should have failed; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Applies a manifest given inline.
    pub fn apply(&self, manifest: &str) -> String {
        let out = self.kubectl_stdin(&["apply", "-f", "-"], Some(manifest));
        assert!(
            out.status.success(),
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn get_json(&self, args: &[&str]) -> Value {
        let mut full = vec!["get"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&full)).expect("kubectl -o json prints JSON")
    }

    pub fn http(&self) -> Http {
        Http {
            base: self.url.clone(),
            client: reqwest::blocking::Client::new(),
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Raw HTTP to the API server, for what kubectl cannot express.
pub struct Http {
    pub base: String,
    pub client: reqwest::blocking::Client,
}

impl Http {
    /// Sends a request; returns the status code and the body as JSON (or a string).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .expect("request reaches the server");
        let code = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, "application/json", Vec::new())
    }

    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(
            "POST",
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

/// A running `wharf sim nodes` process; killed when dropped.
pub struct Sim {
    pub child: Child,
}

impl Sim {
    /// Starts `wharf sim nodes COUNT --prefix PREFIX EXTRA…` against `server` and
    /// waits until its nodes are registered.
    pub fn start(server: &Server, count: usize, prefix: &str, extra: &[&str]) -> Self {
        let child = Command::new(WHARF)
            .args([
                "sim",
                "nodes",
                &count.to_string(),
                "--prefix",
                prefix,
                "--kubeconfig",
            ])
            .arg(&server.kubeconfig)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wharf sim");
        let sim = Sim { child };
        let last = format!("{prefix}-{}", count - 1);
        wait_for(Duration::from_secs(30), "sim nodes registered", || {
            let (code, _) = server.http().get(&format!("/api/v1/nodes/{last}"));
            code == 200
        });
        sim
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `cond` every 50 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_for(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A component the guest build produced (embedded or not).
pub fn artifact(name: &str) -> PathBuf {
    PathBuf::from(wharf_builtin_plugins::ARTIFACT_DIR).join(name)
}

/// Runs a client-side `wharf` command against `server`: (succeeded, stdout+stderr).
pub fn wharf(server: &Server, args: &[&str]) -> (bool, String) {
    let out = Command::new(WHARF)
        .args(args)
        .env("KUBECONFIG", &server.kubeconfig)
        .output()
        .expect("run wharf");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The compiled-plugin cache the test servers share, beside the build.
pub fn shared_plugin_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("test-plugin-cache")
}

/// A build directory of this checkout's own under the target directory: builds of
/// examples from two checkouts sharing one target directory must not overwrite
/// each other's outputs.
pub fn checkout_target_dir(name: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut h);
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join(name)
        .join(format!("{:016x}", h.finish()))
}
