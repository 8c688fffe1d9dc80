//! The process-wide plugin host: engine, epoch ticker, compiled-component caches.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::artifact::{self, LoadError, PluginKind};
use crate::cache::DiskCache;
use crate::controller::{ControllerPluginPre, ControllerState};
use crate::sandbox::HostState;
use crate::scheduler_policy::SchedulerPre;
use crate::ticker::Ticker;

#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are kept across restarts; none keeps them in
    /// memory only.
    pub cache_dir: Option<PathBuf>,
    /// Granularity of deadlines: the engine's epoch advances this often.
    pub epoch_tick: Duration,
    /// Writes `/tmp/perf-<pid>.map` so that `perf report` names the plugins'
    /// compiled functions instead of showing anonymous addresses.
    pub perf_map: bool,
    /// Called after each compilation, once its memory is freed: the binary's
    /// allocator may keep freed memory until it is next busy, and a compilation
    /// frees hundreds of MiB at once (see `PluginHost::compile_image`).
    pub after_compile: fn(),
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            epoch_tick: Duration::from_millis(2),
            perf_map: false,
            after_compile: || {},
        }
    }
}

/// Shared by every role that runs plugins. Cheap to clone.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    /// The engine's configuration for the throwaway engines that compile (see
    /// `compile_image`), on one thread each.
    compile_config: Config,
    after_compile: fn(),
    /// Compilations in flight, at most one per core.
    compiling_now: Slots,
    tick: Duration,
    disk: Option<DiskCache>,
    compiled: Mutex<Compiled>,
    /// A lock per digest being compiled. The controller manager and the Plugin
    /// object loop load the same built-ins at start-up; without this both would
    /// compile each one, seconds of CPU apiece on a first start.
    compiling: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Components compiled from wasm (not found in memory or on disk), for tests.
    #[cfg(test)]
    compiles: std::sync::atomic::AtomicUsize,
    scheduler_linker: Linker<HostState>,
    controller_linker: Linker<ControllerState>,
    /// Stops when the host is dropped.
    ticker: Ticker,
}

/// A validated, compiled plugin version, ready to instantiate. Immutable and
/// identified by its content digest; cheap to clone.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub name: String,
    pub digest: String,
    pub kind: PluginKind,
    pub(crate) scheduler: Option<SchedulerPre<HostState>>,
    pub(crate) controller: Option<ControllerPluginPre<ControllerState>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("kind", &self.kind)
            .finish()
    }
}

impl PluginHost {
    pub fn new(config: HostConfig) -> anyhow::Result<Self> {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true);
        wasm.epoch_interruption(true);
        if config.perf_map {
            wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine =
            Engine::new(&wasm).map_err(|e| anyhow::anyhow!("configuring wasmtime: {e:#}"))?;

        let mut scheduler_linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut scheduler_linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e:#}"))?;
        let controller_linker = crate::controller::linker(&engine)?;

        let disk = match &config.cache_dir {
            Some(dir) => match DiskCache::open(dir, &engine) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "compiled-plugin cache unavailable; compiling on every start");
                    None
                }
            },
            None => None,
        };

        let ticker = Ticker::start(engine.clone(), config.epoch_tick)?;
        Ok(PluginHost {
            inner: Arc::new(Inner {
                engine,
                compile_config: {
                    let mut c = wasm;
                    c.parallel_compilation(false);
                    c
                },
                after_compile: config.after_compile,
                compiling_now: Slots::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                ),
                tick: config.epoch_tick,
                disk,
                compiled: Mutex::new(Compiled::default()),
                compiling: Mutex::new(HashMap::new()),
                #[cfg(test)]
                compiles: Default::default(),
                scheduler_linker,
                controller_linker,
                ticker,
            }),
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Runs `enter_guest` (an instantiation or a call) with the epoch advancing:
    /// every entry into guest code goes through here, or its deadline may never
    /// come.
    pub(crate) fn while_running<R>(&self, enter_guest: impl FnOnce() -> R) -> R {
        let _running = self.inner.ticker.running();
        enter_guest()
    }

    /// Epoch ticks that make up `d` (at least one more than the rounding down, so a
    /// deadline is never shorter than asked).
    pub(crate) fn ticks(&self, d: Duration) -> u64 {
        (d.as_nanos() / self.inner.tick.as_nanos().max(1)) as u64 + 1
    }

    /// Validates and compiles a plugin module (or finds it compiled). CPU-heavy on
    /// a cache miss: call it off the async runtime's threads.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<LoadedPlugin, LoadError> {
        artifact::check_header(name, bytes)?;
        let digest = artifact::digest(bytes);
        let component = self.compile(name, &digest, bytes)?;
        let engine = self.engine();
        let ty = component.component_type();
        let kind = artifact::identify(name, ty.exports(engine).map(|(n, _)| n))?;
        let invalid = |e: wasmtime::Error| LoadError::Invalid {
            name: name.into(),
            message: format!("{e:#}"),
        };
        let (scheduler, controller) = match kind {
            PluginKind::SchedulerPolicy => {
                let pre = self
                    .inner
                    .scheduler_linker
                    .instantiate_pre(&component)
                    .map_err(invalid)?;
                (Some(SchedulerPre::new(pre).map_err(invalid)?), None)
            }
            PluginKind::Controller => {
                // Linking fails here, not at the first reconcile, when the module
                // imports something the host does not offer.
                let pre = self
                    .inner
                    .controller_linker
                    .instantiate_pre(&component)
                    .map_err(invalid)?;
                (None, Some(ControllerPluginPre::new(pre).map_err(invalid)?))
            }
        };
        Ok(LoadedPlugin {
            name: name.into(),
            digest,
            kind,
            scheduler,
            controller,
        })
    }

    fn compile(&self, name: &str, digest: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        if let Some(c) = self.lock_compiled().get(digest) {
            return Ok(c);
        }
        // One compile per digest at a time: a second load of the same module waits
        // for the first and then finds it in memory.
        let gate = Arc::clone(
            lock(&self.inner.compiling)
                .entry(digest.to_string())
                .or_default(),
        );
        let turn = lock(&gate);
        let found = self.lock_compiled().get(digest);
        let result = match found {
            Some(c) => Ok(c),
            None => self.compile_uncached(name, digest, bytes),
        };
        // Waiters hold their own handle on the gate. After a failure each of them
        // tries again, and the error they get is their own.
        lock(&self.inner.compiling).remove(digest);
        drop(turn);
        result
    }

    /// Finds the component on disk or compiles it, and keeps it in memory.
    fn compile_uncached(
        &self,
        name: &str,
        digest: &str,
        bytes: &[u8],
    ) -> Result<Component, LoadError> {
        let engine = self.engine();
        let component = match self
            .inner
            .disk
            .as_ref()
            .and_then(|d| d.load(engine, digest))
        {
            Some(c) => c,
            None => {
                let started = std::time::Instant::now();
                let image = self.compile_image(name, bytes)?;
                #[cfg(test)]
                self.inner
                    .compiles
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    plugin = name,
                    digest,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "compiled plugin"
                );
                // Loaded from the cache file when there is one: its machine code is
                // then mapped from the file rather than held in anonymous memory.
                let cached = self.inner.disk.as_ref().and_then(|d| {
                    d.store(digest, &image);
                    d.load(engine, digest)
                });
                match cached {
                    Some(c) => c,
                    // SAFETY: `image` is what `precompile_component` produced a
                    // moment ago, on an engine of this engine's configuration but
                    // for parallel compilation (wasmtime checks compatibility too).
                    None => unsafe { Component::deserialize(engine, &image) }.map_err(|e| {
                        LoadError::Invalid {
                            name: name.into(),
                            message: format!("loading the compiled module: {e:#}"),
                        }
                    })?,
                }
            }
        };
        self.lock_compiled()
            .insert(digest.to_string(), component.clone());
        Ok(component)
    }

    /// Compiles `bytes` and returns the serialized result, on a thread of its own
    /// with a throwaway engine of this engine's configuration (but for compiling
    /// on one thread, which is not part of what makes artifacts compatible).
    /// cranelift keeps each compiling thread's scratch space for the life of its
    /// engine (its register allocator's arena is sized by the largest function it
    /// has met), and the allocator keeps a thread's freed memory until that thread
    /// runs again: compiled on the shared engine by its pool of threads, the
    /// shipped plugins left ~450 MiB resident after a first `wharf up`. Here the
    /// engine and the thread end with the compilation, and the memory goes with
    /// them. Compilations run one per core at most, side by side.
    fn compile_image(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>, LoadError> {
        let host_error = |message: String| LoadError::Host {
            name: name.into(),
            message,
        };
        let slot = self.inner.compiling_now.take();
        let compiled = std::thread::scope(|s| {
            let compiling = std::thread::Builder::new()
                .name("wharf-compile".into())
                .spawn_scoped(s, || {
                    let scratch = Engine::new(&self.inner.compile_config)
                        .map_err(|e| host_error(format!("configuring the compiler: {e:#}")))?;
                    // Compiled to its serialized form without being loaded, so
                    // nothing (a perf map, say) records code that is about to go.
                    scratch
                        .precompile_component(bytes)
                        .map_err(|e| LoadError::Invalid {
                            name: name.into(),
                            message: format!("{e:#}"),
                        })
                })
                .map_err(|e| host_error(format!("starting a compiler thread: {e}")))?;
            compiling.join().unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(host_error(format!("the compiler panicked: {why}")))
            })
        });
        drop(slot);
        (self.inner.after_compile)();
        compiled
    }

    fn lock_compiled(&self) -> std::sync::MutexGuard<'_, Compiled> {
        lock(&self.inner.compiled)
    }
}

/// Locks `m`. A panic while it was held left nothing half-done here (a cache entry
/// is inserted or not), so a poisoned lock is still used.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Compiled components kept in memory, least recently used dropped first beyond
/// [`COMPILED_IN_MEMORY`] (an instance keeps its own component alive; the disk
/// cache still has the dropped ones).
#[derive(Default)]
struct Compiled {
    by_digest: HashMap<String, Component>,
    /// Digests, least recently used first.
    order: std::collections::VecDeque<String>,
}

const COMPILED_IN_MEMORY: usize = 64;

impl Compiled {
    fn touch(&mut self, digest: &str) {
        if let Some(i) = self.order.iter().position(|d| d == digest)
            && let Some(d) = self.order.remove(i)
        {
            self.order.push_back(d);
        }
    }

    fn get(&mut self, digest: &str) -> Option<Component> {
        let c = self.by_digest.get(digest).cloned()?;
        self.touch(digest);
        Some(c)
    }

    fn insert(&mut self, digest: String, component: Component) {
        if self.by_digest.insert(digest.clone(), component).is_some() {
            self.touch(&digest);
            return;
        }
        self.order.push_back(digest);
        while self.order.len() > COMPILED_IN_MEMORY {
            if let Some(old) = self.order.pop_front() {
                self.by_digest.remove(&old);
            }
        }
    }
}

/// A counting gate: at most `n` holders at once.
struct Slots {
    free: Mutex<usize>,
    freed: std::sync::Condvar,
}

struct Slot<'a>(&'a Slots);

impl Slots {
    fn new(n: usize) -> Self {
        Slots {
            free: Mutex::new(n.max(1)),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free slot; it is given back when the returned guard drops.
    fn take(&self) -> Slot<'_> {
        let mut free = lock(&self.free);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_admit_at_most_their_number_at_once() {
        let slots = Slots::new(2);
        let first = slots.take();
        let second = slots.take();
        let slots = &slots;
        std::thread::scope(|s| {
            let (taken, got) = std::sync::mpsc::channel();
            s.spawn(move || {
                let _third = slots.take();
                taken.send(()).unwrap();
            });
            assert!(
                got.recv_timeout(Duration::from_millis(200)).is_err(),
                "a third holder got in while two held their slots"
            );
            drop(first);
            got.recv_timeout(Duration::from_secs(10))
                .expect("a freed slot is taken");
        });
        drop(second);
    }

    #[test]
    fn compiled_components_in_memory_are_bounded_least_recently_used_first() {
        let host = PluginHost::new(HostConfig::default()).unwrap();
        let wasm = wharf_builtin_plugins::scheduler_policy("default")
            .unwrap()
            .wasm;
        let component = Component::new(host.engine(), wasm).unwrap();
        let mut compiled = Compiled::default();
        for i in 0..COMPILED_IN_MEMORY {
            compiled.insert(format!("d{i}"), component.clone());
        }
        // d0 is used again, so d1 is now the least recently used.
        assert!(compiled.get("d0").is_some());
        compiled.insert("new".into(), component.clone());
        assert_eq!(compiled.by_digest.len(), COMPILED_IN_MEMORY);
        assert!(compiled.get("d0").is_some());
        assert!(compiled.get("d1").is_none());
        assert!(compiled.get("new").is_some());
    }

    #[test]
    fn concurrent_loads_of_one_module_compile_it_once() {
        let host = PluginHost::new(HostConfig::default()).unwrap();
        let wasm = wharf_builtin_plugins::scheduler_policy("binpack")
            .unwrap()
            .wasm;
        let start = std::sync::Barrier::new(4);
        let digests: Vec<String> = std::thread::scope(|s| {
            let loads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        host.load("binpack", wasm).unwrap().digest
                    })
                })
                .collect();
            loads.into_iter().map(|l| l.join().unwrap()).collect()
        });
        assert!(digests.iter().all(|d| *d == digests[0]));
        let compiles = &host.inner.compiles;
        assert_eq!(compiles.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(lock(&host.inner.compiling).is_empty());
        // Loaded again later, it comes from memory.
        host.load("binpack", wasm).unwrap();
        assert_eq!(compiles.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
