//! Runs Wharf's WebAssembly plugins.
//!
//! One [`PluginHost`] per process holds the wasmtime `Engine` (with epoch
//! interruption, so a runaway guest can be stopped), the compiled-component cache
//! (in memory and on disk, keyed by content hash, so a restart does not recompile),
//! and the linker offering guests a WASI with nothing in it: no filesystem, network,
//! environment or arguments; stdout and stderr go to `tracing` under the plugin's
//! name.
//!
//! [`PluginHost::load`] validates a module (is it a component, which Wharf interface
//! and version does it export) before anything runs it. Each role then makes
//! instances of the interface it uses ([`scheduler_policy::PolicyInstance`],
//! [`controller::ControllerInstance`]); every call into an instance is bounded by a
//! deadline and a memory cap, and a trap leaves the instance poisoned so the caller
//! drops it and builds a fresh one.

mod artifact;
mod cache;
pub mod controller;
mod failures;
mod host;
mod sandbox;
pub mod scheduler_policy;
mod ticker;

pub use artifact::{LoadError, PluginKind, SUPPORTED_PACKAGE, check_header, digest};
pub use failures::{FailureBudget, Verdict};
pub use host::{HostConfig, LoadedPlugin, PluginHost};
pub use sandbox::{CallError, Limits, TrapKind};
