//! `wharf plugin …`: install, list, roll back and shadow plugins through the API.
//! Everything here is an API call any client could make (upload the module as a
//! blob, write the Plugin object, read its status); the CLI adds waiting for the
//! outcome and messages that say what happened.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use wharf_api_types::plugin::{BLOBS_PATH, Plugin};
use wharf_client::Client;

use crate::cli::{PluginCommand, PluginInstallArgs, PluginShadowArgs};

const PLUGINS: &str = "/apis/wharf.dev/v1alpha1/plugins";

pub async fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Install(args) => install(args).await,
        PluginCommand::List(args) => list(&client(args.kubeconfig.as_deref())?).await,
        PluginCommand::Rollback { name, client: c } => {
            rollback(&client(c.kubeconfig.as_deref())?, &name).await
        }
        PluginCommand::Shadow(args) => shadow(args).await,
    }
}

fn client(kubeconfig: Option<&Path>) -> anyhow::Result<Client> {
    Client::from_kubeconfig(kubeconfig).context("finding the API server")
}

/// Reads `--config`: inline JSON, or `@FILE`.
fn parse_config(config: Option<&str>) -> anyhow::Result<Option<Value>> {
    let Some(text) = config else { return Ok(None) };
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => (
            path.to_string(),
            std::fs::read_to_string(path)
                .with_context(|| format!("reading --config file {path}"))?,
        ),
        None => ("--config".to_string(), text.to_string()),
    };
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{source}: not valid JSON"))?;
    if !value.is_object() {
        bail!("{source}: the config must be a JSON object");
    }
    Ok(Some(value))
}

/// Uploads `file` as plugin `name`'s module, once its header shows a component:
/// a file that could never load is refused here, before any object is written.
async fn upload(client: &Client, name: &str, file: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    match wharf_plugin_host::check_header(name, &bytes) {
        Ok(()) => {}
        Err(wharf_plugin_host::LoadError::NotWasm { .. }) => bail!(
            "{}: not a WebAssembly file (build the plugin with `cargo build --target wasm32-wasip2 --release`)",
            file.display()
        ),
        Err(e) => bail!("{}: {e}", file.display()),
    }
    let answer = client
        .post_bytes(BLOBS_PATH, "application/wasm", bytes)
        .await
        .with_context(|| format!("uploading {}", file.display()))?;
    answer["digest"]
        .as_str()
        .map(str::to_string)
        .context("the server did not return the module's digest")
}

async fn install(args: PluginInstallArgs) -> anyhow::Result<()> {
    let client = client(args.client.kubeconfig.as_deref())?;
    let config = parse_config(args.config.as_deref())?;
    let digest = upload(&client, &args.name, &args.file).await?;
    let written =
        wharf_plugin_objects::put_plugin(&client, &args.name, &args.kind, &digest, Some(config))
            .await
            .with_context(|| format!("writing plugin {}", args.name))?;
    let plugin = wait_observed(&client, &args.name, &written).await?;
    let status = plugin.status.unwrap_or_default();
    match status.phase.as_deref() {
        Some("Loaded") if status.active_module.as_deref() == Some(digest.as_str()) => {
            println!("plugin {} installed: {digest} is active", args.name);
            Ok(())
        }
        _ => bail!(
            "plugin {} was not activated: {}{}",
            args.name,
            status.message.unwrap_or_else(|| "no reason given".into()),
            status
                .active_module
                .map(|m| format!(" (still running {m})"))
                .unwrap_or_default()
        ),
    }
}

/// Waits until the server has acted on the generation just written.
async fn wait_observed(client: &Client, name: &str, written: &Value) -> anyhow::Result<Plugin> {
    let generation = written
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let obj = client.get(&format!("{PLUGINS}/{name}")).await?;
        let plugin: Plugin = serde_json::from_value(obj).context("decoding the Plugin")?;
        let observed = plugin
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        if observed >= generation {
            return Ok(plugin);
        }
        if Instant::now() > deadline {
            bail!(
                "plugin {name}: the server has not acted on the change after 60 s (are the scheduler and controller manager running?)"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn short(d: &str) -> String {
    match d.strip_prefix("sha256:") {
        Some(h) if h.len() >= 12 => format!("sha256:{}", &h[..12]),
        _ => d.to_string(),
    }
}

async fn list(client: &Client) -> anyhow::Result<()> {
    let answer = client.get(PLUGINS).await.context("listing plugins")?;
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    let mut rows = vec![[
        "NAME".to_string(),
        "KIND".into(),
        "PHASE".into(),
        "MODULE".into(),
        "FAILURES".into(),
        "SHADOW".into(),
        "AGREEMENT".into(),
        "MESSAGE".into(),
    ]];
    for item in items {
        let plugin: Plugin = serde_json::from_value(item).context("decoding a Plugin")?;
        let spec = plugin.spec.unwrap_or_default();
        let status = plugin.status.unwrap_or_default();
        let builtin = plugin
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("wharf.dev/builtin"))
            .is_some_and(|v| v == "true");
        rows.push([
            plugin.metadata.name.unwrap_or_default(),
            spec.kind,
            status.phase.unwrap_or_else(|| "Pending".into()),
            format!(
                "{}{}",
                short(status.active_module.as_deref().unwrap_or(&spec.module)),
                if builtin { " (built-in)" } else { "" }
            ),
            status.failures.unwrap_or(0).to_string(),
            spec.shadow
                .map(|s| short(&s.module))
                .unwrap_or_else(|| "-".into()),
            status
                .shadow
                .map(|s| format!("{} ({}/{})", s.agreement, s.agreed, s.cycles))
                .unwrap_or_else(|| "-".into()),
            status.message.unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
    Ok(())
}

async fn rollback(client: &Client, name: &str) -> anyhow::Result<()> {
    let path = format!("{PLUGINS}/{name}");
    let obj = client
        .get(&path)
        .await
        .with_context(|| format!("reading plugin {name}"))?;
    let plugin: Plugin = serde_json::from_value(obj).context("decoding the Plugin")?;
    let status = plugin.status.unwrap_or_default();
    let Some(previous) = status.history.last() else {
        bail!("plugin {name} has no earlier version to roll back to");
    };
    let written = wharf_plugin_objects::update_plugin(client, name, |obj| {
        obj["spec"]["module"] = json!(previous.module);
        wharf_plugin_objects::set_config(&mut obj["spec"], previous.config.clone());
    })
    .await
    .with_context(|| format!("rolling back plugin {name}"))?;
    let after = wait_observed(client, name, &written).await?;
    let status = after.status.unwrap_or_default();
    if status.active_module.as_deref() == Some(previous.module.as_str()) {
        println!("plugin {name} rolled back: {} is active", previous.module);
        Ok(())
    } else {
        bail!(
            "plugin {name}: roll back to {} failed: {}",
            previous.module,
            status.message.unwrap_or_default()
        )
    }
}

async fn shadow(args: PluginShadowArgs) -> anyhow::Result<()> {
    let client = client(args.client.kubeconfig.as_deref())?;
    let shadow = match (&args.file, args.clear) {
        (_, true) => Value::Null,
        (Some(file), false) => {
            let digest = upload(&client, &args.name, file).await?;
            let mut s = json!({"module": digest});
            if let Some(c) = parse_config(args.config.as_deref())? {
                s["config"] = c;
            }
            s
        }
        (None, false) => bail!("give the candidate module's FILE, or --clear to stop shadowing"),
    };
    let written = wharf_plugin_objects::update_plugin(&client, &args.name, |obj| match obj["spec"]
        .as_object_mut()
    {
        Some(spec) if shadow.is_null() => {
            spec.remove("shadow");
        }
        Some(spec) => {
            spec.insert("shadow".into(), shadow.clone());
        }
        None => {}
    })
    .await
    .with_context(|| format!("updating plugin {}", args.name))?;
    let after = wait_observed(&client, &args.name, &written).await?;
    let status = after.status.unwrap_or_default();
    if args.clear {
        println!("plugin {}: shadowing stopped", args.name);
        return Ok(());
    }
    match status.shadow {
        Some(s) if status.phase.as_deref() != Some("Failed") => {
            println!(
                "plugin {}: {} now runs in shadow; see `wharf plugin list` for its agreement",
                args.name, s.module
            );
            Ok(())
        }
        _ => bail!(
            "plugin {}: the shadow candidate was refused: {}",
            args.name,
            status.message.unwrap_or_default()
        ),
    }
}
