//! The official Kubernetes Python client (installed by scripts/setup.sh into a
//! virtualenv) drives a real `wharf server`: typed create/read/list, label
//! selectors, watch, patch, the scale subresource, 404 and 409, namespace deletion.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::Server;

fn python() -> PathBuf {
    let tools = std::env::var_os("WHARF_TOOLS")
        .map_or_else(|| PathBuf::from("/var/tmp/wharf-tools"), PathBuf::from);
    let python = tools.join("py/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (make test does) to install the Kubernetes Python client",
        python.display()
    );
    python
}

#[test]
fn official_python_client() {
    let s = Server::start();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/python/client_smoke.py"
    );
    let out = Command::new(python())
        .arg(script)
        .arg(&s.kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python client failed:\nstdout: {}\nstderr: {}\nserver log: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("python client: ok"));
}
