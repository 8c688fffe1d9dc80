//! `--plugin-dir`: for authors iterating locally. Every `NAME.wasm` in the
//! directory is installed as Plugin `NAME` (of the kind its exports say), and
//! installed again whenever the file changes, through the same path as
//! `wharf plugin install`: a module that does not load is refused and the running
//! version stays.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wharf_api_types::plugin::BLOBS_PATH;
use wharf_client::Client;
use wharf_plugin_host::PluginHost;

/// How often the directory is looked at.
pub const POLL: Duration = Duration::from_millis(500);

/// What a file looked like when last installed.
type Seen = (SystemTime, u64);

/// Watches `dir` until the process stops.
pub fn spawn_watch(client: Client, host: PluginHost, dir: PathBuf) {
    tokio::spawn(async move {
        let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
        let mut tick = tokio::time::interval(POLL);
        loop {
            tick.tick().await;
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot read the plugin directory");
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("wasm") {
                    continue;
                }
                let Ok(meta) = entry.metadata() else { continue };
                let stamp = (
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    meta.len(),
                );
                if seen.get(&path) == Some(&stamp) {
                    continue;
                }
                // A file being written may change again; it is taken once it
                // holds still for one poll.
                std::thread::sleep(Duration::from_millis(50));
                match std::fs::metadata(&path) {
                    Ok(m) if (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()) == stamp => {
                    }
                    _ => continue,
                }
                seen.insert(path.clone(), stamp);
                if let Err(e) = install(&client, &host, &path).await {
                    tracing::warn!(file = %path.display(), error = %e, "plugin file not installed");
                }
            }
        }
    });
}

async fn install(client: &Client, host: &PluginHost, path: &Path) -> Result<(), String> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if let Err(e) = wharf_api_types::validation::dns1123_subdomain(&name) {
        return Err(format!("{name:?} cannot name a Plugin: {e}"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("reading: {e}"))?;
    // Which kind it is (and whether it loads at all) decides before anything is
    // written; the role's own checks follow once the object changes.
    let kind = {
        let (host, name, bytes) = (host.clone(), name.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || host.load(&name, &bytes).map(|p| p.kind))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    let blob = client
        .post_bytes(BLOBS_PATH, "application/wasm", bytes)
        .await
        .map_err(|e| e.to_string())?;
    let digest = blob["digest"].as_str().unwrap_or_default().to_string();
    crate::put_plugin(client, &name, kind.as_str(), &digest, None)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(plugin = %name, %digest, file = %path.display(), "plugin file installed");
    Ok(())
}
