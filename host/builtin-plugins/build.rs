//! Compiles the guest workspace (`plugins/`) to `wasm32-wasip2` components so that
//! the binary can embed them: a fresh `wharf up` needs no plugin files.
//!
//! The guest build is a separate cargo invocation with its own target directory
//! (beside this build's), because it targets another architecture with another
//! profile; it is incremental like any cargo build.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let plugins = root.join("plugins");
    for watched in [
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
        "plugins/sdk",
        "plugins/controller-sdk",
        "plugins/controller-replicaset",
        "plugins/controller-deployment",
        "plugins/controller-gc",
        "plugins/controller-namespace",
        "plugins/controller-endpoints",
        "plugins/controller-endpointslice",
        "plugins/controller-nodelifecycle",
        "plugins/controller-serviceaccount",
        "plugins/controller-disruption",
        "plugins/controller-clusterrole-aggregation",
        "plugins/scheduler-default",
        "plugins/scheduler-binpack",
        "plugins/scheduler-spread",
        "plugins/test-faulty",
        "plugins/test-faulty-controller",
        "wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // Cargo fingerprints path packages relative to their workspace, so two
    // checkouts sharing one target directory (CI's clean clones, a developer's
    // worktrees) share this script's last run, and its paths above name the other
    // checkout's files. The directory cargo is run from tells them apart, so a
    // build in another checkout runs this script again and embeds its own plugins.
    println!("cargo:rerun-if-env-changed=PWD");

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = guest_target_dir(&out_dir, &root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&plugins)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    // The outer build's settings describe the host build, not this one.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let inherited_build_setting = (key.starts_with("CARGO_")
            && !key.starts_with("CARGO_HOME")
            && !key.starts_with("CARGO_NET_")
            && !key.starts_with("CARGO_REGISTRIES_")
            && !key.starts_with("CARGO_HTTP_"))
            || key == "RUSTFLAGS"
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key == "RUSTC_WRAPPER";
        if inherited_build_setting {
            cmd.env_remove(&key);
        }
    }
    let status = cmd.status().expect("running cargo for the guest plugins");
    if !status.success() {
        panic!(
            "building the plugins in {} for {TARGET} failed (is the target installed? \
             `rustup target add {TARGET}`; scripts/setup.sh does it)",
            plugins.display()
        );
    }
    let artifacts = target_dir.join(TARGET).join("release");
    println!(
        "cargo:rustc-env=WHARF_PLUGIN_ARTIFACTS={}",
        artifacts.display()
    );
}

/// `<target>/<profile>/build/<pkg>-<hash>/out` → `<target>/wasm-plugins/<checkout>`,
/// shared by every profile of the host build. One directory per checkout: two
/// checkouts building into one target directory (a CI clone beside a working
/// tree) would otherwise overwrite each other's final `.wasm` files, which cargo
/// does not copy again when it finds its own build fresh.
fn guest_target_dir(out_dir: &Path, root: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut h);
    let checkout = format!("{:016x}", h.finish());
    match out_dir.ancestors().nth(4) {
        Some(target) => target.join("wasm-plugins").join(checkout),
        None => out_dir.join("wasm-plugins").join(checkout),
    }
}
