//! `wharf sim nodes N`: see the `wharf-sim` crate.

use std::time::Duration;

use anyhow::Context;
use wharf_client::Client;
use wharf_sim::SimConfig;

use crate::cli::SimNodesArgs;
use crate::control_plane::shutdown_signal;

pub async fn run(args: SimNodesArgs) -> anyhow::Result<()> {
    let client = Client::from_kubeconfig(args.client.kubeconfig.as_deref())
        .context("finding the API server")?;
    let config = SimConfig {
        count: args.count,
        prefix: args.prefix,
        cpu: args.cpu,
        memory: args.memory,
        pods: args.pods,
        zones: args.zones,
        taints: args.taints,
        renew_every: Duration::from_secs(args.heartbeat_seconds.max(1)),
    };
    wharf_sim::run(client, config, shutdown_signal()).await
}
