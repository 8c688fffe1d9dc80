//! The command line: every subcommand and flag, with the conventions all roles
//! share (`--data-dir`, `--listen`, `--kubeconfig` honouring `KUBECONFIG`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "A Kubernetes-style container orchestrator whose scheduling policies and controllers are WebAssembly components."
)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an all-in-one cluster on this machine (every role that exists so far).
    Up(ServerArgs),
    /// Start a control-plane server (store and API server).
    Server(ServerArgs),
    /// Show whether the API server in your kubeconfig is up, and its version.
    Status(ClientArgs),
    /// Simulated cluster members, for scale tests and for trying policies.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Install, list, roll back and shadow WebAssembly plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Upload FILE.wasm and make it the active version of plugin NAME (for a
    /// scheduler policy, NAME is the profile pods select with spec.schedulerName).
    Install(PluginInstallArgs),
    /// List plugins: active module, failures, shadow agreement.
    List(ClientArgs),
    /// Return plugin NAME to the version that ran before the current one.
    Rollback {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Run FILE.wasm beside plugin NAME's active version: it sees every cycle, its
    /// choices are compared, none is applied. `--clear` stops it.
    Shadow(PluginShadowArgs),
}

#[derive(Debug, Args)]
pub struct PluginInstallArgs {
    pub name: String,
    pub file: PathBuf,
    /// scheduler-policy or controller.
    #[arg(long, default_value = "scheduler-policy", value_parser = ["scheduler-policy", "controller"])]
    pub kind: String,
    /// Configuration passed to the plugin: a JSON object, or @FILE.
    #[arg(long)]
    pub config: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct PluginShadowArgs {
    pub name: String,
    pub file: Option<PathBuf>,
    /// Stop shadowing.
    #[arg(long, conflicts_with = "file")]
    pub clear: bool,
    /// Configuration for the candidate: a JSON object, or @FILE.
    #[arg(long)]
    pub config: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Register N simulated nodes that heartbeat and run the pods bound to them
    /// (Running and Ready, with a pod IP) without containers. Runs until stopped.
    Nodes(SimNodesArgs),
}

#[derive(Debug, Args)]
pub struct SimNodesArgs {
    /// How many nodes.
    pub count: usize,
    /// Node names are PREFIX-0 … PREFIX-(N-1); zones are PREFIX-zone-<i>.
    #[arg(long, default_value = "sim")]
    pub prefix: String,
    /// CPU capacity of each node (a quantity: 4, 500m).
    #[arg(long, default_value = "4")]
    pub cpu: String,
    /// Memory capacity of each node (a quantity: 16Gi).
    #[arg(long, default_value = "16Gi")]
    pub memory: String,
    /// Pod capacity of each node.
    #[arg(long, default_value_t = 110)]
    pub pods: u32,
    /// Spread the nodes round-robin over this many zones.
    #[arg(long, default_value_t = 3)]
    pub zones: usize,
    /// A taint for every node, as key=value:Effect (repeatable).
    #[arg(long = "taint")]
    pub taints: Vec<String>,
    /// Seconds between lease renewals.
    #[arg(long, default_value_t = 10)]
    pub heartbeat_seconds: u64,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter, in tracing's syntax (e.g. `info`, `wharf_store=debug`); RUST_LOG wins.
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Where state lives: the store, and `admin.kubeconfig` for clients.
    #[arg(long, env = "WHARF_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address of the API server. Plain HTTP, so loopback only.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Revisions of change history kept for watches to resume from.
    #[arg(long, default_value_t = 100_000)]
    pub history_window: u64,
    /// CPU-time budget of one call into a scheduling policy, in milliseconds; a
    /// policy still running is interrupted. Time spent waiting for a core is not
    /// counted.
    #[arg(long, default_value_t = 100)]
    pub plugin_deadline_ms: u64,
    /// Memory each plugin instance may use, in MiB (at least 16: less cannot hold
    /// an instance of the built-in policies).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(16..))]
    pub plugin_memory_mib: u64,
    /// Run without the scheduler, e.g. when another server's scheduler serves
    /// the cluster, or to measure the API alone.
    #[arg(long)]
    pub no_scheduler: bool,
    /// Run without the controller manager (no ReplicaSet, ServiceAccount …
    /// controllers), e.g. to measure the API alone.
    #[arg(long)]
    pub no_controllers: bool,
    /// Keys each controller reconciles at once (each key by one worker at most).
    #[arg(long, default_value_t = 4)]
    pub controller_workers: usize,
    /// Budget of one reconcile's own computation, in milliseconds; the time it
    /// waits for the API is not counted.
    #[arg(long, default_value_t = 1000)]
    pub controller_deadline_ms: u64,
    /// Memory each controller instance may use, in MiB (at least 16).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(16..))]
    pub controller_memory_mib: u64,
    /// Where compiled plugins are kept across restarts (default
    /// DATA_DIR/plugin-cache). Entries are keyed by module digest and wasmtime
    /// build, so several servers may share one directory.
    #[arg(long, env = "WHARF_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// How long an Event is kept after it was last written (as kube-apiserver's
    /// `--event-ttl`): `1h`, `30m`, `90s`; 0 keeps Events forever.
    #[arg(long, default_value = "1h", value_parser = crate::event_ttl::parse_ttl)]
    pub event_ttl: std::time::Duration,
    /// How long a new pod tolerates its node reporting not ready before it is
    /// evicted, in seconds (as kube-apiserver's flag of the same name).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i64).range(0..))]
    pub default_not_ready_toleration_seconds: i64,
    /// How long a new pod tolerates its node being unreachable before it is
    /// evicted, in seconds (as kube-apiserver's flag of the same name).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i64).range(0..))]
    pub default_unreachable_toleration_seconds: i64,
    /// Install every NAME.wasm in this directory as Plugin NAME, and again
    /// whenever the file changes (for plugin authors iterating locally).
    #[arg(long)]
    pub plugin_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The kubeconfig to use (default: the first file in KUBECONFIG, else ~/.kube/config).
    #[arg(long, env = "WHARF_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
}

pub fn init_logging(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&args.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

/// The default data directory: /var/lib/wharf for root, else under the user's home.
pub fn default_data_dir() -> PathBuf {
    let is_root = std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || std::env::var("HOME").map(|h| h == "/root").unwrap_or(false);
    if is_root {
        return PathBuf::from("/var/lib/wharf");
    }
    match std::env::var_os("XDG_DATA_HOME") {
        Some(d) => PathBuf::from(d).join("wharf"),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".local/share/wharf"))
            .unwrap_or_else(|| PathBuf::from("wharf-data")),
    }
}
