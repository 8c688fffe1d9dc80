//! `wharf`: one binary for every role. This file only parses the command line and
//! hands over; each command lives in its own module.

#![forbid(unsafe_code)]

mod cli;
mod control_plane;
mod plugin;
mod sim;
mod status;

use clap::Parser;

// glibc's allocator was the largest single cost on the write path (measured with
// perf: `_int_malloc` at ~30% of the API server's CPU under load); mimalloc's
// per-thread free lists avoid its arena contention. Its v2 line, because v3 spent
// more time re-initialising pages under the same load (fewer pod creates/s and
// pods scheduled/s, measured side by side; see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wharf: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Up(args) => {
                control_plane::run(args, control_plane::Shape::AllInOne).await
            }
            cli::Command::Server(args) => {
                control_plane::run(args, control_plane::Shape::Server).await
            }
            cli::Command::Status(args) => status::run(args).await,
            cli::Command::Sim(cli::SimCommand::Nodes(args)) => sim::run(args).await,
            cli::Command::Plugin(cmd) => plugin::run(cmd).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wharf: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
