//! The epoch ticker: advances the engine's epoch while guest code runs, so that
//! deadlines can pass, and sleeps once no guest has run for a while, so that an idle
//! control plane is not woken every tick (500 times a second at the default 2 ms).
//!
//! A guest whose ticker sleeps would never reach its deadline, so waking is a
//! handshake: a caller first counts itself as running and then looks whether the
//! ticker sleeps; the ticker first says it sleeps and then looks whether anyone
//! runs. Both use sequentially consistent operations, so at least one of the two
//! sees the other: either the ticker stays awake, or the caller wakes it (and an
//! unpark that comes before the park makes the park return at once).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::Engine;

/// Ticks in a row with no guest running after which the ticker sleeps.
const IDLE_TICKS: u32 = 50;

pub(crate) struct Ticker {
    shared: Arc<Shared>,
    thread: Thread,
}

struct Shared {
    /// Calls (and instantiations) running guest code now.
    running: AtomicUsize,
    /// Set by the ticker just before it parks; a caller that sees it wakes it.
    asleep: AtomicBool,
    stop: AtomicBool,
}

/// Counts one guest as running until dropped.
pub(crate) struct Running<'a>(&'a Shared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, SeqCst);
    }
}

impl Ticker {
    pub(crate) fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            running: AtomicUsize::new(0),
            asleep: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let theirs = shared.clone();
        let handle = std::thread::Builder::new()
            .name("wharf-plugin-epoch".into())
            .spawn(move || run(&engine, tick, &theirs))?;
        Ok(Ticker {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// Call before entering guest code; keep the guard until it returns.
    pub(crate) fn running(&self) -> Running<'_> {
        self.shared.running.fetch_add(1, SeqCst);
        if self.shared.asleep.load(SeqCst) {
            self.thread.unpark();
        }
        Running(&self.shared)
    }

    #[cfg(test)]
    fn is_asleep(&self) -> bool {
        self.shared.asleep.load(SeqCst)
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        self.thread.unpark();
    }
}

fn run(engine: &Engine, tick: Duration, shared: &Shared) {
    let mut idle = 0;
    while !shared.stop.load(SeqCst) {
        std::thread::sleep(tick);
        engine.increment_epoch();
        if shared.running.load(SeqCst) > 0 {
            idle = 0;
            continue;
        }
        idle += 1;
        if idle < IDLE_TICKS {
            continue;
        }
        shared.asleep.store(true, SeqCst);
        if shared.running.load(SeqCst) == 0 && !shared.stop.load(SeqCst) {
            // May also return spuriously; the loop then counts idle ticks again.
            std::thread::park();
        }
        shared.asleep.store(false, SeqCst);
        idle = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < until, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn an_idle_ticker_sleeps_and_a_running_guest_wakes_it_every_time() {
        let engine = Engine::default();
        let ticker = Ticker::start(engine, Duration::from_millis(1)).unwrap();
        for _ in 0..20 {
            wait_until("the ticker sleeps", || ticker.is_asleep());
            let running = ticker.running();
            wait_until("the ticker wakes", || !ticker.is_asleep());
            // Awake for as long as a guest runs, however long that is.
            std::thread::sleep(Duration::from_millis(u64::from(IDLE_TICKS) * 2));
            assert!(
                !ticker.is_asleep(),
                "the ticker slept under a running guest"
            );
            drop(running);
        }
    }
}
