//! Plugin objects (`plugins.wharf.dev`) turned into running plugin versions, for
//! every role that runs plugins: the scheduler (kind `scheduler-policy`) and the
//! controller manager (kind `controller`) each pass their own [`Runner`].
//!
//! Watches the Plugin objects of the runner's kind; for each change it fetches the
//! module blob, validates and compiles it (off the async threads) and hands it to
//! the runner, which tries it before it installs it. The outcome goes into the
//! object's status: `Loaded` with the active module, or `Failed` with the reason
//! while the previous version keeps running. A new module pushes the old one onto
//! `status.history`; a roll back (`spec.module` set to the history's last entry)
//! pops it. The built-in plugins are registered as Plugin objects, so
//! `kubectl get plugins` shows everything that runs, and each object's status
//! follows the runner's live failure counts (and shadow agreement).

pub mod dir;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use wharf_api_types::plugin::{BLOBS_PATH, ModuleRef, Plugin, PluginStatus, ShadowStatus};
use wharf_builtin_plugins::Builtin;
use wharf_client::{Client, ClientError, Reflected, reflect};
use wharf_plugin_host::{LoadedPlugin, PluginHost, PluginKind};

pub const PLUGINS_PATH: &str = "/apis/wharf.dev/v1alpha1/plugins";
/// Marks a Plugin object that mirrors a plugin embedded in the binary.
pub const BUILTIN_ANNOTATION: &str = "wharf.dev/builtin";
/// Entries kept in `status.history`.
const HISTORY_LIMIT: usize = 10;

/// Creates Plugin `name` or points it at a new module. `config`: none leaves the
/// object's config as it is; `Some(None)` clears it. An operator's install
/// replaces a built-in's: the object stops being marked built-in.
pub async fn put_plugin(
    client: &Client,
    name: &str,
    kind: &str,
    digest: &str,
    config: Option<Option<Value>>,
) -> Result<Value, ClientError> {
    let edited = update_plugin(client, name, |obj| {
        if let Some(annotations) = obj
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove(BUILTIN_ANNOTATION);
        }
        let spec = &mut obj["spec"];
        spec["kind"] = json!(kind);
        spec["module"] = json!(digest);
        if let Some(c) = &config {
            set_config(spec, c.clone());
        }
    })
    .await;
    match edited {
        Err(ClientError::Api { code: 404, .. }) => {
            let mut spec = json!({"kind": kind, "module": digest});
            if let Some(Some(c)) = config {
                spec["config"] = c;
            }
            let obj = json!({
                "apiVersion": "wharf.dev/v1alpha1",
                "kind": "Plugin",
                "metadata": {"name": name},
                "spec": spec,
            });
            client.create(PLUGINS_PATH, &obj).await
        }
        other => other,
    }
}

/// Sets (or with `None`, removes) the config of a Plugin's `spec` or of its
/// `spec.shadow`, whole: a new config replaces the old one rather than merging
/// into it, so a key left out is gone.
pub fn set_config(spec: &mut Value, config: Option<Value>) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    match config {
        Some(c) => {
            map.insert("config".into(), c);
        }
        None => {
            map.remove("config");
        }
    }
}

/// Reads Plugin `name`, applies `edit` and writes it back, conditional on the
/// version read (a JSON merge patch would merge a new `config` into the old one
/// key by key); read again and retried when someone else wrote in between.
pub async fn update_plugin(
    client: &Client,
    name: &str,
    edit: impl Fn(&mut Value),
) -> Result<Value, ClientError> {
    let path = format!("{PLUGINS_PATH}/{name}");
    let mut attempt = 0;
    loop {
        let mut obj = client.get(&path).await?;
        edit(&mut obj);
        match client.replace(&path, &obj).await {
            Err(ClientError::Api { code: 409, .. }) if attempt < 10 => attempt += 1,
            other => return other,
        }
    }
}

/// A role that runs plugins of one kind.
#[async_trait::async_trait]
pub trait Runner: Clone + Send + Sync + 'static {
    /// The `spec.kind` this runner serves; other Plugins are left to other roles.
    fn kind(&self) -> PluginKind;

    /// The plugins of this kind embedded in the binary.
    fn builtins(&self) -> &'static [Builtin];

    /// Tries `plugin` with `config` (a trial instance) and, if it works, makes it
    /// the active version of `name` (or its shadow). An error is the module's
    /// fault: the reason it was refused; the running version stays.
    async fn install(
        &self,
        name: &str,
        plugin: LoadedPlugin,
        config: String,
        shadow: bool,
    ) -> Result<(), String>;

    /// Stops the shadow of `name`, if any.
    fn clear_shadow(&self, name: &str);

    /// The Plugin object is gone: a built-in returns to the embedded version,
    /// anything else stops.
    fn removed(&self, name: &str);

    /// Live numbers of every running plugin, copied into the objects' status.
    fn reports(&self) -> Vec<Report>;
}

/// What a runner knows about one running plugin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub name: String,
    /// The module running now.
    pub digest: String,
    pub failures: u64,
    /// (the module that failed repeatedly, why), once the previous one took over.
    pub failed: Option<(String, String)>,
    pub last_error: Option<String>,
    pub shadow_digest: Option<String>,
    pub shadow_cycles: u64,
    pub shadow_agreed: u64,
}

/// What has been handed to the runner for one Plugin.
#[derive(Debug, Clone, PartialEq, Default)]
struct Applied {
    /// The last spec tried (whether it loaded or was refused).
    module: Option<String>,
    config: String,
    /// The config the active module runs with.
    active_config: String,
    shadow: Option<(String, String)>,
}

/// Runs until the process stops: registers the runner's built-ins, then follows
/// the Plugin objects of its kind.
pub fn spawn<R: Runner>(client: Client, host: PluginHost, runner: R) {
    tokio::spawn(async move {
        // A plugin that keeps failing the same way gets one Event, counted.
        let events = wharf_client::events::Recorder::new(client.clone());
        register_builtins(&client, runner.kind(), runner.builtins()).await;
        let (tx, mut rx) = mpsc::unbounded_channel::<Reflected>();
        tokio::spawn(reflect(client.clone(), PLUGINS_PATH.into(), tx));
        let mut applied: HashMap<String, Applied> = HashMap::new();
        let mut objects: HashMap<String, Plugin> = HashMap::new();
        let mut reported: HashMap<String, PluginStatus> = HashMap::new();
        // Plugins whose module could not be reached: tried again every tick.
        let mut retry: HashSet<String> = HashSet::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                r = rx.recv() => {
                    let Some(r) = r else { return };
                    let items = match r {
                        Reflected::Listed(items) => {
                            let names: Vec<String> = items.iter().filter_map(|i| i.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string)).collect();
                            let gone: Vec<String> = objects.keys().filter(|n| !names.contains(n)).cloned().collect();
                            for name in gone {
                                objects.remove(&name);
                                reported.remove(&name);
                                applied.remove(&name);
                                runner.removed(&name);
                            }
                            items
                        }
                        Reflected::Applied(obj) => vec![obj],
                        Reflected::Deleted(obj) => {
                            if let Some(name) = obj.pointer("/metadata/name").and_then(Value::as_str) {
                                objects.remove(name);
                                reported.remove(name);
                                applied.remove(name);
                                runner.removed(name);
                            }
                            continue;
                        }
                    };
                    for item in items {
                        let Ok(plugin) = serde_json::from_value::<Plugin>(item) else { continue };
                        let Some(name) = plugin.metadata.name.clone() else { continue };
                        if plugin.spec.as_ref().map(|s| s.kind.as_str()) != Some(runner.kind().as_str()) {
                            continue;
                        }
                        reconcile(&client, &host, &runner, &plugin, &mut applied, &mut reported, &mut retry).await;
                        objects.insert(name, plugin);
                    }
                }
                _ = tick.tick() => {
                    for name in std::mem::take(&mut retry) {
                        if let Some(plugin) = objects.get(&name).cloned() {
                            reconcile(&client, &host, &runner, &plugin, &mut applied, &mut reported, &mut retry).await;
                        }
                    }
                    report(&client, &events, &runner.reports(), &objects, &mut reported).await;
                }
            }
        }
    });
}

/// A config as `status.history` records it: none when empty.
fn config_value(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|c| c.as_object().is_some_and(|o| !o.is_empty()))
}

fn config_text(config: &Option<Value>) -> String {
    match config {
        Some(v) if !v.is_null() => v.to_string(),
        _ => "{}".to_string(),
    }
}

/// Fetches, validates and compiles a module, then hands it to the runner, which
/// tries it (a trial instance with the config) before it installs it, so that a
/// module that traps on start or refuses its config is refused here rather than
/// failing its first real calls.
async fn fetch_and_install<R: Runner>(
    client: &Client,
    host: &PluginHost,
    runner: &R,
    name: &str,
    digest: &str,
    config: &str,
    shadow: bool,
) -> Result<(), LoadFailure> {
    let bytes = client
        .get_bytes(&format!("{BLOBS_PATH}/{digest}"))
        .await
        .map_err(|e| LoadFailure::Transient(format!("fetching module {digest}: {e}")))?;
    let loaded = {
        let host = host.clone();
        let name = name.to_string();
        let digest = digest.to_string();
        let kind = runner.kind();
        tokio::task::spawn_blocking(move || {
            let plugin = host.load(&name, &bytes).map_err(|e| e.to_string())?;
            if plugin.kind != kind {
                return Err(format!(
                    "module {digest} is a {} plugin, but spec.kind is {kind}",
                    plugin.kind
                ));
            }
            Ok(plugin)
        })
        .await
        .map_err(|e| LoadFailure::Transient(format!("loading: {e}")))?
        .map_err(LoadFailure::Refused)?
    };
    runner
        .install(name, loaded, config.to_string(), shadow)
        .await
        .map_err(LoadFailure::Refused)
}

/// Installs the version the status says ran last (module and config), for a
/// process that starts with a spec it refuses. Returns it, with its config text.
async fn restore<R: Runner>(
    client: &Client,
    host: &PluginHost,
    runner: &R,
    name: &str,
    status: &PluginStatus,
) -> Option<(String, String)> {
    let module = status.active_module.clone()?;
    let config = config_text(&status.active_config);
    fetch_and_install(client, host, runner, name, &module, &config, false)
        .await
        .ok()?;
    Some((module, config))
}

/// Why a module could not be put to work.
enum LoadFailure {
    /// The module itself is at fault (not loadable, wrong kind, refused its
    /// config): retried only when the spec changes.
    Refused(String),
    /// Reaching it failed (the API was briefly unavailable, say): retried.
    Transient(String),
}

async fn reconcile<R: Runner>(
    client: &Client,
    host: &PluginHost,
    runner: &R,
    plugin: &Plugin,
    applied: &mut HashMap<String, Applied>,
    reported: &mut HashMap<String, PluginStatus>,
    retry: &mut HashSet<String>,
) {
    let Some(name) = plugin.metadata.name.as_deref() else {
        return;
    };
    let Some(spec) = &plugin.spec else { return };
    let generation = plugin.metadata.generation;
    let previous = applied.get(name).cloned().unwrap_or_default();
    // Our own last write is the truth about status: the object in this event may
    // predate it (the watch delivers our status writes after later spec changes).
    let mut status = reported
        .get(name)
        .cloned()
        .or_else(|| plugin.status.clone())
        .unwrap_or_default();
    let want_config = config_text(&spec.config);
    let mut changed = false;

    if previous.module.as_deref() != Some(spec.module.as_str()) || previous.config != want_config {
        match fetch_and_install(
            client,
            host,
            runner,
            name,
            &spec.module,
            &want_config,
            false,
        )
        .await
        {
            Ok(()) => {
                // A new active version (module or config): the old one joins the
                // history, unless the new one is the history's last entry (a roll
                // back), which leaves it.
                if let Some(old) = status.active_module.clone() {
                    let before = ModuleRef {
                        module: old,
                        config: config_value(&previous.active_config),
                    };
                    let now = ModuleRef {
                        module: spec.module.clone(),
                        config: config_value(&want_config),
                    };
                    if before != now {
                        if status.history.last() == Some(&now) {
                            status.history.pop();
                        } else {
                            status.history.push(before);
                            let excess = status.history.len().saturating_sub(HISTORY_LIMIT);
                            status.history.drain(..excess);
                        }
                    }
                }
                status.phase = Some("Loaded".into());
                status.active_module = Some(spec.module.clone());
                status.active_config = config_value(&want_config);
                status.message = None;
                status.failures = Some(0);
                applied.insert(
                    name.to_string(),
                    Applied {
                        module: Some(spec.module.clone()),
                        config: want_config.clone(),
                        active_config: want_config,
                        shadow: previous.shadow.clone(),
                    },
                );
            }
            Err(LoadFailure::Transient(message)) => {
                tracing::warn!(plugin = name, %message, "plugin not loaded yet; retrying");
                status.message = Some(format!("retrying: {message}"));
                retry.insert(name.to_string());
            }
            Err(LoadFailure::Refused(message)) => {
                status.phase = Some("Failed".into());
                let mut active_config = previous.active_config.clone();
                if previous.module.is_none() {
                    // Nothing of this plugin runs in this process yet (it has just
                    // started): the version that ran before the refused spec was
                    // written is brought back, so a refusal survives a restart
                    // as it survived the install.
                    match restore(client, host, runner, name, &status).await {
                        Some((module, config)) => {
                            tracing::warn!(plugin = name, %message, %module, "plugin refused; its last good version was restored");
                            status.message =
                                Some(format!("{message} (the last good version, {module}, runs)"));
                            active_config = config;
                        }
                        None => {
                            tracing::warn!(plugin = name, %message, "plugin refused, and no earlier version could be restored");
                            status.message = Some(format!("{message} (no version runs)"));
                            status.active_module = None;
                            status.active_config = None;
                        }
                    }
                } else {
                    tracing::warn!(plugin = name, %message, "plugin refused; the previous version keeps running");
                    status.message = Some(message);
                }
                // Remember the refusal so that it is not retried on every event;
                // a new spec (generation) tries again.
                applied.insert(
                    name.to_string(),
                    Applied {
                        module: Some(spec.module.clone()),
                        config: want_config,
                        active_config,
                        shadow: previous.shadow.clone(),
                    },
                );
            }
        }
        changed = true;
    }

    let want_shadow = spec
        .shadow
        .as_ref()
        .map(|s| (s.module.clone(), config_text(&s.config)));
    let current_shadow = applied.get(name).and_then(|a| a.shadow.clone());
    // A shadow runs beside an active version: with none active yet (a new
    // profile whose module was refused), it waits rather than being dropped.
    if want_shadow != current_shadow && status.active_module.is_some() {
        match &want_shadow {
            Some((module, config)) => {
                match fetch_and_install(client, host, runner, name, module, config, true).await {
                    Ok(()) => {
                        status.shadow = Some(ShadowStatus {
                            module: module.clone(),
                            cycles: 0,
                            agreed: 0,
                            agreement: "-".into(),
                        });
                    }
                    Err(LoadFailure::Refused(message)) => {
                        status.phase = Some("Failed".into());
                        status.message = Some(format!("shadow: {message}"));
                    }
                    Err(LoadFailure::Transient(message)) => {
                        status.message = Some(format!("shadow: retrying: {message}"));
                        retry.insert(name.to_string());
                    }
                }
            }
            None => {
                runner.clear_shadow(name);
                status.shadow = None;
            }
        }
        if !retry.contains(name)
            && let Some(a) = applied.get_mut(name)
        {
            a.shadow = want_shadow;
        }
        changed = true;
    }

    if changed || status.observed_generation != generation {
        status.observed_generation = generation;
        write_status(client, name, &status).await;
        reported.insert(name.to_string(), status);
    }
}

async fn write_status(client: &Client, name: &str, status: &PluginStatus) {
    // A merge patch leaves out what it does not mention: fields now empty must be
    // sent as null to be cleared.
    let mut value = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    if let Some(map) = value.as_object_mut() {
        for field in [
            "phase",
            "observedGeneration",
            "activeModule",
            "message",
            "history",
            "failures",
            "shadow",
        ] {
            map.entry(field).or_insert(Value::Null);
        }
    }
    let body = json!({"status": value});
    if let Err(e) = client
        .merge_patch(&format!("{PLUGINS_PATH}/{name}/status"), &body)
        .await
    {
        tracing::debug!(plugin = name, error = %e, "could not write plugin status");
    }
}

/// Copies the runner's live numbers (failures, fallbacks, shadow agreement)
/// into the Plugin objects' status when they change.
async fn report(
    client: &Client,
    events: &wharf_client::events::Recorder,
    profiles: &[Report],
    objects: &HashMap<String, Plugin>,
    reported: &mut HashMap<String, PluginStatus>,
) {
    for p in profiles {
        let Some(obj) = objects.get(&p.name) else {
            continue;
        };
        let mut status = reported
            .get(&p.name)
            .cloned()
            .or_else(|| obj.status.clone())
            .unwrap_or_default();
        let before = status.clone();
        status.failures = Some(p.failures);
        if let Some((bad, why)) = &p.failed
            && status.active_module.as_deref() == Some(bad.as_str())
        {
            status.phase = Some("Failed".into());
            status.message = Some(format!(
                "{why}; failed repeatedly, so the previous version {} took over",
                p.digest
            ));
            status.active_module = Some(p.digest.clone());
        } else if p.failures > 0
            && let Some(e) = &p.last_error
        {
            status.message = Some(format!("last failure: {e}"));
        }
        if let (Some(shadow), Some(digest)) = (&mut status.shadow, &p.shadow_digest)
            && shadow.module == *digest
        {
            shadow.cycles = p.shadow_cycles;
            shadow.agreed = p.shadow_agreed;
            shadow.agreement = if p.shadow_cycles == 0 {
                "-".into()
            } else {
                format!(
                    "{:.1}%",
                    p.shadow_agreed as f64 * 100.0 / p.shadow_cycles as f64
                )
            };
        }
        let uid = obj.metadata.uid.as_deref().unwrap_or_default();
        let fell_back = status.phase.as_deref() == Some("Failed")
            && status.active_module != before.active_module;
        if fell_back {
            // Reported apart from the failure that caused it: the two may reach
            // this loop in separate rounds.
            let message = status.message.clone().unwrap_or_default();
            plugin_event(events, &p.name, uid, "PluginFellBack", &message).await;
        } else if status.failures.unwrap_or(0) > before.failures.unwrap_or(0) {
            let message = p
                .last_error
                .clone()
                .unwrap_or_else(|| "the plugin failed".into());
            plugin_event(events, &p.name, uid, "PluginFailed", &message).await;
        }
        if status != before {
            write_status(client, &p.name, &status).await;
            reported.insert(p.name.clone(), status);
        }
    }
}

/// A Warning event about a Plugin (cluster-scoped objects' events live in
/// `default`, as Nodes' do), so `kubectl describe plugin NAME` shows failures.
async fn plugin_event(
    events: &wharf_client::events::Recorder,
    name: &str,
    uid: &str,
    reason: &str,
    message: &str,
) {
    let involved =
        json!({"apiVersion": "wharf.dev/v1alpha1", "kind": "Plugin", "name": name, "uid": uid});
    let event = wharf_api_types::event::new("wharf-plugins", involved, true, reason, message);
    if let Err(e) = events.record(event).await {
        tracing::debug!(plugin = name, error = %e, "could not record a plugin event");
    }
}

/// Uploads each embedded plugin and creates its Plugin object if there is none.
/// An object still marked built-in but naming another module (an older binary's)
/// is moved to this binary's module; an operator's own object is left alone.
async fn register_builtins(client: &Client, kind: PluginKind, builtins: &[Builtin]) {
    for builtin in builtins {
        let result: Result<(), ClientError> = async {
            let blob = client
                .post_bytes(BLOBS_PATH, "application/wasm", builtin.wasm.to_vec())
                .await?;
            let digest = blob["digest"].as_str().unwrap_or_default().to_string();
            let path = format!("{PLUGINS_PATH}/{}", builtin.name);
            match client.get(&path).await {
                Ok(existing) => {
                    let is_builtin = existing
                        .pointer(&format!(
                            "/metadata/annotations/{}",
                            BUILTIN_ANNOTATION.replace('/', "~1")
                        ))
                        .and_then(Value::as_str)
                        == Some("true");
                    if is_builtin
                        && existing.pointer("/spec/module").and_then(Value::as_str)
                            != Some(digest.as_str())
                    {
                        client
                            .merge_patch(&path, &json!({"spec": {"module": digest}}))
                            .await?;
                    }
                    Ok(())
                }
                Err(ClientError::Api { code: 404, .. }) => {
                    let obj = json!({
                        "apiVersion": "wharf.dev/v1alpha1",
                        "kind": "Plugin",
                        "metadata": {
                            "name": builtin.name,
                            "annotations": {
                                BUILTIN_ANNOTATION: "true",
                                "wharf.dev/description": builtin.description,
                            },
                        },
                        "spec": {
                            "kind": kind.as_str(),
                            "module": digest,
                            "config": serde_json::from_str::<Value>(builtin.config)
                                .ok()
                                .filter(|c| c.as_object().is_some_and(|o| !o.is_empty())),
                        },
                    });
                    match client.create(PLUGINS_PATH, &obj).await {
                        Ok(_) | Err(ClientError::Api { code: 409, .. }) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(plugin = builtin.name, error = %e, "could not register the built-in plugin");
        }
    }
}
