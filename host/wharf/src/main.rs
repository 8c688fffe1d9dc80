//! `wharf`: one binary for every role. This file only parses the command line and
//! hands over; each command lives in its own module.

// Denied everywhere but `memory::release_freed`, one call into the allocator.
#![deny(unsafe_code)]

mod cli;
mod control_plane;
mod event_ttl;
mod memory;
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

/// Keeps this process's heap in ordinary 4 KiB pages. mimalloc asks the kernel for
/// transparent huge pages on its segments, so the first touch of each 2 MiB is a
/// fault that zeroes all of it, and the allocator's purges then split those pages
/// again: under the API benchmark at 64 clients, `clear_page_erms` was ~12% of
/// the server's CPU, and without huge pages the server spent ~15% less CPU per pod
/// create (docs/benchmarks.md, run S23). The flag is inherited across fork and
/// exec, so processes Wharf starts itself run without huge pages too.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        // Only a cost, never a fault: say so and go on.
        eprintln!("wharf: cannot turn off transparent huge pages for this process: {e}");
    }
}

fn main() -> std::process::ExitCode {
    without_transparent_huge_pages();
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
