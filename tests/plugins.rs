//! Plugins as cluster objects, through the real `wharf plugin` CLI and kubectl:
//! install, refusal of bad modules, roll back, shadow, contained faults, and hot
//! swaps while thousands of pods are being scheduled.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Sim, artifact, wait_for, wharf};

fn pod(name: &str, scheduler: &str, labels: &[(&str, &str)]) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"schedulerName": scheduler,
                 "containers": [{"name": "c", "image": "busybox:1.36",
                                 "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}]}
    })
}

fn create_pod(s: &Server, body: &Value) {
    let (code, answer) = s.http().post_json("/api/v1/namespaces/default/pods", body);
    assert_eq!(code, 201, "{answer}");
}

fn node_of(s: &Server, name: &str) -> String {
    let (_, p) = s
        .http()
        .get(&format!("/api/v1/namespaces/default/pods/{name}"));
    p["spec"]["nodeName"].as_str().unwrap_or("").to_string()
}

fn plugin(s: &Server, name: &str) -> Value {
    s.http()
        .get(&format!("/apis/wharf.dev/v1alpha1/plugins/{name}"))
        .1
}

/// The default policy rebuilt as if for another release of the WIT package: every
/// `wharf:plugin/…@0.1.0` name in a real component rewritten to `@0.9.0` (same
/// length, so the file stays well-formed).
fn future_version_module(dir: &std::path::Path) -> PathBuf {
    let mut bytes = std::fs::read(artifact("wharf_scheduler_default.wasm")).unwrap();
    let (from, to) = (b"@0.1.0", b"@0.9.0");
    for i in 0..bytes.len().saturating_sub(from.len()) {
        let near = &bytes[i.saturating_sub(40)..i];
        if &bytes[i..i + from.len()] == from && near.windows(13).any(|w| w == b"wharf:plugin/") {
            bytes[i..i + to.len()].copy_from_slice(to);
        }
    }
    let path = dir.join("future.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn install_refuse_and_roll_back() {
    let s = Server::start();
    let _sim = Sim::start(&s, 3, "n", &[]);
    let dir = tempfile::tempdir().unwrap();

    // The built-in policies are listed as Plugin objects.
    wait_for(
        Duration::from_secs(20),
        "built-in plugins registered",
        || wharf(&s, &["plugin", "list"]).1.contains("spread"),
    );
    let (_, listed) = wharf(&s, &["plugin", "list"]);
    for name in ["default", "binpack", "spread"] {
        assert!(listed.contains(name), "{listed}");
    }
    assert!(listed.contains("(built-in)"), "{listed}");
    let table = s.ok(&["get", "plugins"]);
    assert!(
        table.contains("scheduler-policy") && table.contains("Loaded"),
        "{table}"
    );

    // A new profile from a module file; pods naming it are scheduled by it.
    let binpack = artifact("wharf_scheduler_binpack.wasm");
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "packer", binpack.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    assert!(out.contains("is active"), "{out}");
    create_pod(&s, &pod("packed", "packer", &[]));
    wait_for(Duration::from_secs(20), "packed bound", || {
        !node_of(&s, "packed").is_empty()
    });

    // Bad modules are refused with messages that say why; nothing changes.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a module").unwrap();
    let (ok, out) = wharf(&s, &["plugin", "install", "packer", text.to_str().unwrap()]);
    assert!(
        !ok && out.contains("notes.txt") && out.contains("not a WebAssembly file"),
        "{out}"
    );

    // A core module (built for wasm32-wasip1, say) is refused before anything is
    // written: no Plugin object is left behind for a plugin that never ran.
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "newcomer", core.to_str().unwrap()],
    );
    assert!(
        !ok && out.contains("core.wasm") && out.contains("not a component"),
        "{out}"
    );
    assert!(
        s.fails(&["get", "plugins.wharf.dev", "newcomer"])
            .contains("NotFound")
    );

    let future = future_version_module(dir.path());
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "packer", future.to_str().unwrap()],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("wharf:plugin@0.9.0") && out.contains("wharf:plugin@0.1.0"),
        "{out}"
    );
    assert!(out.contains("still running"), "{out}");

    // Configurations refused: by the policy itself, as text, and by key.
    let install_packer = |module: &std::path::Path, config: &str| {
        let module = module.to_str().unwrap();
        wharf(
            &s,
            &["plugin", "install", "packer", module, "--config", config],
        )
    };
    let faulty = artifact("wharf_test_faulty.wasm");
    let (ok, out) = install_packer(&faulty, r#"{"fault": "refuse"}"#);
    assert!(!ok && out.contains("refuses its config"), "{out}");
    let (ok, out) = install_packer(&binpack, "{oops");
    assert!(
        !ok && out.contains("--config") && out.contains("not valid JSON"),
        "{out}"
    );
    // A key the policy does not take (a typo, here) is refused by name.
    let (ok, out) = install_packer(&binpack, r#"{"percentageOfNodeToScore": 50}"#);
    assert!(
        !ok && out.contains("unknown key \"percentageOfNodeToScore\""),
        "{out}"
    );
    // kubectl shows why with -o wide, beside the phase and the module still running.
    let wide = s.ok(&["get", "wp", "packer", "-o", "wide"]);
    assert!(
        wide.contains("MESSAGE")
            && wide.contains("Failed")
            && wide.contains("percentageOfNodeToScore"),
        "{wide}"
    );
    assert!(!s.ok(&["get", "wp", "packer"]).contains("MESSAGE"));

    // Through the API: a Plugin naming a module never uploaded is a 422.
    let (code, answer) = s.http().post_json(
        "/apis/wharf.dev/v1alpha1/plugins",
        &json!({"apiVersion": "wharf.dev/v1alpha1", "kind": "Plugin", "metadata": {"name": "ghost"},
                "spec": {"kind": "scheduler-policy", "module": format!("sha256:{}", "0".repeat(64))}}),
    );
    assert_eq!(code, 422, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("upload the module first"),
        "{answer}"
    );
    let (code, _) = s.http().post_json(
        "/apis/wharf.dev/v1alpha1/plugins",
        &json!({"apiVersion": "wharf.dev/v1alpha1", "kind": "Plugin", "metadata": {"name": "bad"},
                "spec": {"kind": "sorcery", "module": "latest"}}),
    );
    assert_eq!(code, 422);

    // Install a second good version, then roll back to the first. A new config
    // replaces the old one whole (a key left out is gone), and a roll back
    // restores the earlier config exactly.
    let first = plugin(&s, "packer")["status"]["activeModule"]
        .as_str()
        .unwrap()
        .to_string();
    let spread = artifact("wharf_scheduler_spread.wasm");
    let half = json!({"percentageOfNodesToScore": 50});
    let (ok, out) = install_packer(&spread, &half.to_string());
    assert!(ok, "{out}");
    assert_ne!(plugin(&s, "packer")["status"]["activeModule"], json!(first));
    let (ok, out) = install_packer(&spread, "{}");
    assert!(ok, "{out}");
    assert_eq!(plugin(&s, "packer")["spec"]["config"], json!({}));
    let (ok, out) = wharf(&s, &["plugin", "rollback", "packer"]);
    assert!(ok, "{out}");
    assert_eq!(plugin(&s, "packer")["spec"]["config"], half);
    let (ok, out) = wharf(&s, &["plugin", "rollback", "packer"]);
    assert!(ok, "{out}");
    assert_eq!(plugin(&s, "packer")["status"]["activeModule"], json!(first));
    assert!(plugin(&s, "packer")["spec"].get("config").is_none());
    let (ok, out) = wharf(&s, &["plugin", "rollback", "packer"]);
    assert!(!ok && out.contains("no earlier version"), "{out}");

    // Deleting the Plugin removes the profile; a pod naming it then waits.
    s.ok(&["delete", "plugin", "packer"]);
    std::thread::sleep(Duration::from_millis(500));
    create_pod(&s, &pod("orphan", "packer", &[]));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(node_of(&s, "orphan"), "");
    // Installing the profile again picks up the pod that waited for it.
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "packer", binpack.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    wait_for(Duration::from_secs(20), "orphan bound", || {
        !node_of(&s, "orphan").is_empty()
    });
}

#[test]
fn faults_are_contained_and_reported() {
    let s = Server::start_with(
        &tempfile::tempdir().unwrap().keep().join("data"),
        &["--plugin-deadline-ms", "50", "--plugin-memory-mib", "32"],
    );
    let _sim = Sim::start(&s, 3, "n", &[]);
    let faulty = artifact("wharf_test_faulty.wasm");
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "faulty", faulty.to_str().unwrap()],
    );
    assert!(ok, "{out}");

    for (fault, words) in [
        ("loop", "deadline"),
        ("panic", "trapped"),
        ("memory", "memory cap"),
    ] {
        let name = format!("bad-{fault}");
        create_pod(&s, &pod(&name, "faulty", &[("fault", fault)]));
        wait_for(
            Duration::from_secs(20),
            &format!("{name} failure reported"),
            || s.ok(&["describe", "pod", &name]).contains(words),
        );
        assert_eq!(node_of(&s, &name), "");
    }
    // The same plugin still places well-behaved pods, and other profiles never
    // noticed.
    create_pod(&s, &pod("good-faulty", "faulty", &[]));
    create_pod(&s, &pod("good-default", "default-scheduler", &[]));
    wait_for(Duration::from_secs(20), "good pods bound", || {
        !node_of(&s, "good-faulty").is_empty() && !node_of(&s, "good-default").is_empty()
    });
    // What the guest printed (its panic message, on stderr) is in the server's log,
    // under the plugin's name.
    let log = s.log();
    assert!(
        log.lines()
            .any(|l| l.contains("plugin=faulty") && l.contains("panics as asked")),
        "{log}"
    );
    let (_, metrics) = s.http().get("/metrics");
    let metrics = metrics.as_str().unwrap().to_string();
    for kind in ["deadline", "crash", "memory"] {
        assert!(
            metrics.contains(&format!(
                "wharf_plugin_failures_total{{profile=\"faulty\",kind=\"{kind}\"}}"
            )),
            "{metrics}"
        );
    }
    wait_for(
        Duration::from_secs(10),
        "failures in the Plugin status",
        || {
            plugin(&s, "faulty")["status"]["failures"]
                .as_u64()
                .unwrap_or(0)
                > 0
        },
    );
    wait_for(Duration::from_secs(10), "a PluginFailed event", || {
        s.ok(&["describe", "plugin", "faulty"])
            .contains("PluginFailed")
    });

    // A default policy that panics on every pod fails past its budget, and the
    // built-in version takes over by itself.
    let (ok, out) = wharf(
        &s,
        &[
            "plugin",
            "install",
            "default",
            faulty.to_str().unwrap(),
            "--config",
            r#"{"fault": "panic"}"#,
        ],
    );
    assert!(ok, "{out}");
    for i in 0..3 {
        create_pod(&s, &pod(&format!("victim{i}"), "default-scheduler", &[]));
    }
    wait_for(
        Duration::from_secs(60),
        "victims bound after fallback",
        || (0..3).all(|i| !node_of(&s, &format!("victim{i}")).is_empty()),
    );
    wait_for(Duration::from_secs(10), "fallback reported", || {
        let p = plugin(&s, "default");
        p["status"]["phase"] == "Failed"
            && p["status"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("took over")
    });
}

#[test]
fn shadow_decisions_are_compared_not_applied() {
    let s = Server::start();
    let _sim = Sim::start(&s, 4, "n", &["--cpu", "8", "--zones", "1"]);
    // Active: default (least allocated, spreads load). Shadow: binpack (packs).
    let binpack = artifact("wharf_scheduler_binpack.wasm");
    wait_for(Duration::from_secs(20), "built-ins registered", || {
        plugin(&s, "default")["status"]["phase"] == "Loaded"
    });
    let (ok, out) = wharf(
        &s,
        &["plugin", "shadow", "default", binpack.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    for i in 0..8 {
        create_pod(&s, &pod(&format!("p{i}"), "default-scheduler", &[]));
    }
    let mut nodes = HashMap::new();
    wait_for(Duration::from_secs(20), "pods bound", || {
        (0..8).all(|i| !node_of(&s, &format!("p{i}")).is_empty())
    });
    for i in 0..8 {
        *nodes.entry(node_of(&s, &format!("p{i}"))).or_insert(0) += 1;
    }
    assert_eq!(
        nodes.len(),
        4,
        "the active policy spread the pods: {nodes:?}"
    );
    wait_for(Duration::from_secs(10), "agreement in the list", || {
        let (_, list) = wharf(&s, &["plugin", "list"]);
        list.lines()
            .any(|l| l.starts_with("default") && l.contains("/8)"))
    });
    let (_, metrics) = s.http().get("/metrics");
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("wharf_scheduler_shadow_cycles_total{profile=\"default\"} 8"),
        "{metrics}"
    );
    // A new candidate replaces the previous one whole, its config included.
    let module = binpack.to_str().unwrap();
    let half = json!({"percentageOfNodesToScore": 50});
    let (ok, out) = wharf(
        &s,
        &[
            "plugin",
            "shadow",
            "default",
            module,
            "--config",
            &half.to_string(),
        ],
    );
    assert!(ok, "{out}");
    assert_eq!(plugin(&s, "default")["spec"]["shadow"]["config"], half);
    let (ok, out) = wharf(&s, &["plugin", "shadow", "default", module]);
    assert!(ok, "{out}");
    assert!(
        plugin(&s, "default")["spec"]["shadow"]
            .get("config")
            .is_none()
    );
    let (ok, out) = wharf(&s, &["plugin", "shadow", "default", "--clear"]);
    assert!(ok, "{out}");
    assert!(plugin(&s, "default")["spec"].get("shadow").is_none());
}

/// Swaps the default policy back and forth while 3,000 pods are created and
/// scheduled: every pod ends bound exactly once, none is lost or left pending.
#[test]
fn hot_swaps_lose_nothing_under_load() {
    const PODS: usize = 3000;
    let s = Server::start();
    let _sim = Sim::start(&s, 60, "n", &["--cpu", "64", "--memory", "256Gi"]);
    let versions = [
        artifact("wharf_scheduler_binpack.wasm"),
        artifact("wharf_scheduler_spread.wasm"),
        artifact("wharf_scheduler_default.wasm"),
    ];
    let creator = {
        let base = s.url.clone();
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            for i in 0..PODS {
                let body = pod(&format!("load{i}"), "default-scheduler", &[]);
                let resp = client
                    .post(format!("{base}/api/v1/namespaces/default/pods"))
                    .json(&body)
                    .send()
                    .expect("create");
                assert_eq!(resp.status().as_u16(), 201);
            }
        })
    };
    let mut swaps = 0;
    while !creator.is_finished() || swaps < 6 {
        let file = &versions[swaps % versions.len()];
        let (ok, out) = wharf(
            &s,
            &["plugin", "install", "default", file.to_str().unwrap()],
        );
        assert!(ok, "swap {swaps}: {out}");
        swaps += 1;
    }
    creator.join().unwrap();
    wait_for(Duration::from_secs(120), "every pod bound", || {
        let (_, list) = s.http().get("/api/v1/namespaces/default/pods");
        list["items"].as_array().is_some_and(|items| {
            items.len() == PODS && items.iter().all(|p| p["spec"]["nodeName"].is_string())
        })
    });
    let (_, metrics) = s.http().get("/metrics");
    let metrics = metrics.as_str().unwrap().to_string();
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(u64::MAX)
    };
    // Each pod was bound once: no binding was refused (a second binding of a
    // bound pod is a 409), and the scheduler counted exactly PODS bindings.
    assert_eq!(
        value("wharf_scheduler_binding_failures_total"),
        0,
        "{metrics}"
    );
    assert_eq!(
        value("wharf_scheduler_pods_scheduled_total"),
        PODS as u64,
        "{metrics}"
    );
    assert_eq!(value("wharf_scheduler_pending_pods"), 0, "{metrics}");
    eprintln!("{swaps} swaps while scheduling {PODS} pods");
}

/// The worked example in examples/scheduler-policy, built and used as its README
/// says: installed as its own profile, then swapped in as the default.
#[test]
fn the_example_policy_builds_installs_and_swaps_in() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = support::checkout_target_dir("example-policy");
    let status = Command::new("cargo")
        .current_dir(root.join("examples/scheduler-policy"))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo builds the example");
    assert!(
        status.success(),
        "building examples/scheduler-policy failed"
    );
    let module = target.join("wasm32-wasip2/release/cheapest_node.wasm");

    let s = Server::start();
    let _cheap = Sim::start(&s, 2, "cheap", &["--zones", "1"]);
    let _pricey = Sim::start(&s, 2, "pricey", &["--zones", "1"]);
    s.ok(&["label", "node", "cheap-0", "cheap-1", "example.com/cost=5"]);
    s.ok(&[
        "label",
        "node",
        "pricey-0",
        "pricey-1",
        "example.com/cost=80",
    ]);

    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "cheapest", module.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    create_pod(&s, &pod("thrifty", "cheapest", &[]));
    wait_for(Duration::from_secs(20), "thrifty bound", || {
        !node_of(&s, "thrifty").is_empty()
    });
    assert!(node_of(&s, "thrifty").starts_with("cheap-"));

    let (ok, out) = wharf(
        &s,
        &[
            "plugin",
            "install",
            "cheapest",
            module.to_str().unwrap(),
            "--config",
            r#"{"maxCost": "lots"}"#,
        ],
    );
    assert!(!ok && out.contains("maxCost must be an integer"), "{out}");

    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "default", module.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    for i in 0..4 {
        create_pod(&s, &pod(&format!("d{i}"), "default-scheduler", &[]));
    }
    wait_for(Duration::from_secs(20), "default pods bound", || {
        (0..4).all(|i| !node_of(&s, &format!("d{i}")).is_empty())
    });
    assert!((0..4).all(|i| node_of(&s, &format!("d{i}")).starts_with("cheap-")));
    let (ok, out) = wharf(&s, &["plugin", "rollback", "default"]);
    assert!(ok, "{out}");
}

/// A Plugin is an ordinary API object: kubectl applies it (referring to a blob
/// uploaded through the API), shows it, and gets Kubernetes-style errors.
#[test]
fn kubectl_applies_plugin_objects() {
    let s = Server::start();
    let bytes = std::fs::read(artifact("wharf_scheduler_binpack.wasm")).unwrap();
    let (code, blob) = s.http().send(
        "POST",
        "/apis/wharf.dev/v1alpha1/blobs",
        "application/wasm",
        bytes.clone(),
    );
    assert_eq!(code, 201, "{blob}");
    let digest = blob["digest"].as_str().unwrap().to_string();
    let resp = s
        .http()
        .client
        .get(format!("{}/apis/wharf.dev/v1alpha1/blobs/{digest}", s.url))
        .send()
        .unwrap();
    let status = resp.status();
    let back = resp.bytes().unwrap();
    // Compared without printing either side: a module is hundreds of kilobytes.
    assert!(
        status == 200 && back.as_ref() == bytes.as_slice(),
        "the blob should read back byte for byte: {status}, {} bytes for {} sent, starting {:?}",
        back.len(),
        bytes.len(),
        String::from_utf8_lossy(&back[..back.len().min(300)])
    );
    let manifest = format!(
        "apiVersion: wharf.dev/v1alpha1\nkind: Plugin\nmetadata:\n  name: packer\nspec:\n  kind: scheduler-policy\n  module: {digest}\n  config: {{percentageOfNodesToScore: 50}}\n"
    );
    assert_eq!(s.apply(&manifest).trim(), "plugin.wharf.dev/packer created");
    wait_for(Duration::from_secs(20), "packer loaded", || {
        plugin(&s, "packer")["status"]["phase"] == "Loaded"
    });
    assert_eq!(
        s.apply(&manifest).trim(),
        "plugin.wharf.dev/packer unchanged"
    );
    let table = s.ok(&["get", "wp", "packer"]);
    assert!(
        table.contains("Loaded") && table.contains("scheduler-policy"),
        "{table}"
    );
    let bad = manifest.replace("kind: scheduler-policy", "kind: wizard");
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(&bad));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("spec.kind: Unsupported value: \"wizard\"")
            && !err.contains("spec.kind: spec.kind"),
        "{err}"
    );
}

/// A module installed as the wrong kind is refused by the role that runs that
/// kind, with both kinds named, and the CLI says so at once.
#[test]
fn a_module_of_the_wrong_kind_is_refused() {
    let s = Server::start();
    let module = artifact("wharf_scheduler_default.wasm");
    let started = std::time::Instant::now();
    let (ok, out) = wharf(
        &s,
        &[
            "plugin",
            "install",
            "reconciler",
            module.to_str().unwrap(),
            "--kind",
            "controller",
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("is a scheduler-policy plugin, but spec.kind is controller"),
        "{out}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(plugin(&s, "reconciler")["status"]["phase"], "Failed");
}

/// `--plugin-dir`: a file dropped in is installed; a changed file swaps the
/// version in; a broken one is refused and the running version stays.
#[test]
fn a_plugin_directory_is_watched() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--plugin-dir", plugins.to_str().unwrap()],
    );
    let file = plugins.join("packer.wasm");
    let digest_of = |name: &str| wharf_plugin_host::digest(&std::fs::read(artifact(name)).unwrap());
    let active = || {
        plugin(&s, "packer")["status"]["activeModule"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };

    std::fs::copy(artifact("wharf_scheduler_binpack.wasm"), &file).unwrap();
    let binpack = digest_of("wharf_scheduler_binpack.wasm");
    wait_for(
        Duration::from_secs(30),
        "the dropped-in file installed",
        || active() == binpack,
    );
    assert_eq!(plugin(&s, "packer")["spec"]["kind"], "scheduler-policy");

    std::fs::copy(artifact("wharf_scheduler_spread.wasm"), &file).unwrap();
    let spread = digest_of("wharf_scheduler_spread.wasm");
    wait_for(
        Duration::from_secs(30),
        "the changed file swapped in",
        || active() == spread,
    );

    std::fs::write(&file, b"not wasm at all").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        active(),
        spread,
        "a broken file must not replace the running version"
    );
    assert!(
        s.log().contains("not a WebAssembly file"),
        "the refusal is logged"
    );
}

/// Without a reachable server the CLI says which file or address failed and why,
/// each cause once.
#[test]
fn the_cli_says_why_it_cannot_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(support::WHARF)
            .args(args)
            .env_remove("KUBECONFIG")
            .output()
            .expect("run wharf");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };

    let missing = dir.path().join("missing.kubeconfig");
    let text = run(&["plugin", "list", "--kubeconfig", missing.to_str().unwrap()]);
    assert!(text.contains("missing.kubeconfig"), "{text}");
    assert_eq!(
        text.matches("No such file or directory").count(),
        1,
        "{text}"
    );

    // A port nothing listens on: one just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = dir.path().join("closed.kubeconfig");
    std::fs::write(
        &closed,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u}}}}]\n\
             users: [{{name: u, user: {{}}}}]\n"
        ),
    )
    .unwrap();
    let text = run(&["plugin", "list", "--kubeconfig", closed.to_str().unwrap()]);
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
    assert_eq!(text.matches("error sending request").count(), 1, "{text}");
}

/// A refusal survives a restart as it survived the install: a server that starts
/// with a Plugin whose spec it refuses brings back the version that ran before
/// (module and config, kept in the status), and says so.
#[test]
fn a_refused_version_stays_refused_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(data.path());
    let binpack = artifact("wharf_scheduler_binpack.wasm");
    let module = binpack.to_str().unwrap();
    let (ok, out) = wharf(&s, &["plugin", "install", "packer", module]);
    assert!(ok, "{out}");
    let (ok, out) = wharf(
        &s,
        &[
            "plugin",
            "install",
            "packer",
            module,
            "--config",
            r#"{"typo": 1}"#,
        ],
    );
    assert!(!ok && out.contains("still running"), "{out}");
    let running = plugin(&s, "packer")["status"]["activeModule"].clone();
    assert!(running.is_string(), "{}", plugin(&s, "packer"));

    s.kill9();
    let s = Server::start_in(data.path());
    let _sim = Sim::start(&s, 2, "n", &[]);
    wait_for(Duration::from_secs(60), "the refusal seen again", || {
        plugin(&s, "packer")["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the last good version"))
    });
    let status = plugin(&s, "packer")["status"].clone();
    assert_eq!(status["phase"], "Failed", "{status}");
    assert_eq!(status["activeModule"], running, "{status}");
    create_pod(&s, &pod("packed", "packer", &[]));
    wait_for(
        Duration::from_secs(60),
        "a pod placed by the restored version",
        || !node_of(&s, "packed").is_empty(),
    );
}
