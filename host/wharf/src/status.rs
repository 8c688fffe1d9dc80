//! `wharf status`: is the API server in the kubeconfig up, and what is it.

use anyhow::Context;
use wharf_client::Client;

use crate::cli::ClientArgs;

pub async fn run(args: ClientArgs) -> anyhow::Result<()> {
    let client = Client::from_kubeconfig(args.kubeconfig.as_deref())?;
    let version = client
        .get("/version")
        .await
        .with_context(|| format!("asking {} for its version", client.base()))?;
    let (code, ready) = client.get_text("/readyz?verbose").await?;
    println!("server:  {}", client.base());
    println!(
        "version: {}",
        version
            .get("gitVersion")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
    );
    println!("ready:   {}", if code == 200 { "yes" } else { "no" });
    for line in ready.lines() {
        println!("  {line}");
    }
    if code != 200 {
        anyhow::bail!("the API server is not ready");
    }
    Ok(())
}
