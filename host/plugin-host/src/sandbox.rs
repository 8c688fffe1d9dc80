//! The sandbox every plugin call runs in: a WASI context with no ambient access,
//! a memory limiter that remembers why it refused, a deadline, and the
//! classification of what went wrong when a call fails.

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Trap, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Bounds on one plugin instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Budget of one call on the guest's clock ([`guest_clock`]); a guest still
    /// running past it is interrupted.
    pub deadline: Duration,
    /// Linear memory an instance may grow to, in bytes.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(100),
            memory_bytes: 64 << 20,
        }
    }
}

/// How a call into a plugin failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// It ran past its deadline and was interrupted.
    Deadline,
    /// It asked for more memory than its cap.
    Memory,
    /// It trapped: a panic, an `unreachable`, an out-of-bounds access.
    Crash,
}

impl TrapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Deadline => "deadline",
            TrapKind::Memory => "memory",
            TrapKind::Crash => "crash",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The instance is poisoned: drop it and build another.
    #[error("plugin {plugin} {what}: {message}")]
    Trap {
        plugin: String,
        kind: TrapKind,
        what: &'static str,
        message: String,
    },
    /// The plugin answered, refusing (e.g. its configuration).
    #[error("plugin {plugin} refused: {message}")]
    Refused { plugin: String, message: String },
    /// The host could not build an instance at all.
    #[error("plugin {plugin} could not be instantiated: {message}")]
    Instantiate { plugin: String, message: String },
}

impl CallError {
    pub fn trap_kind(&self) -> Option<TrapKind> {
        match self {
            CallError::Trap { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// Per-instance host state.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    /// [`guest_clock`] when the current call began.
    pub(crate) call_started: Duration,
}

/// The clock a plugin's deadline runs on: the calling thread's CPU time. A guest
/// that waits for a core on a busy machine is not charged for the wait (on a loaded
/// machine, wall time made a short call pass a deadline it never used), and a guest
/// stuck in a loop still reaches its deadline, since wasm code only runs on a core.
/// Wall time where the platform has no thread clock.
pub(crate) fn guest_clock() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the timespec it is handed.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// How old this thread's last [`guest_clock`] reading may be before
/// [`call_start`] takes a new one; also the most a deadline can be reached late.
pub(crate) const CLOCK_READING_MAX_AGE: Duration = Duration::from_millis(1);

thread_local! {
    /// This thread's last [`guest_clock`] reading and the wall time it was taken.
    static LAST_READING: Cell<Option<(Duration, Instant)>> = const { Cell::new(None) };
}

/// Where a call's deadline is counted from: [`guest_clock`] now, or a bound just
/// above it. Reading a thread's CPU clock is a system call (1.2–1.3 µs measured on
/// these machines, about a tenth of a decision over a few hundred nodes), and a
/// scheduler makes two calls per pod. A thread's CPU clock cannot advance faster
/// than wall time, so the last reading plus the wall time since it bounds the clock
/// from above; that bound is used while the reading is younger than
/// [`CLOCK_READING_MAX_AGE`]. Counting from a later point than the true start can
/// only make an interruption late, by at most that age, never early.
pub(crate) fn call_start() -> Duration {
    let now = Instant::now();
    LAST_READING.with(|last| match last.get() {
        Some((cpu, at)) if now.saturating_duration_since(at) < CLOCK_READING_MAX_AGE => {
            cpu + now.saturating_duration_since(at)
        }
        _ => {
            let cpu = guest_clock();
            last.set(Some((cpu, now)));
            cpu
        }
    })
}

/// The epoch callback's decision once a call's ticks have run out: interrupt the
/// guest if it has spent `deadline` of [`guest_clock`] since `started`, not counting
/// `excluded` (a controller's host calls), or look again a `tick` later.
pub(crate) fn past_deadline(
    started: Duration,
    excluded: Duration,
    deadline: Duration,
    tick: u64,
) -> wasmtime::Result<UpdateDeadline> {
    let spent = guest_clock()
        .saturating_sub(started)
        .saturating_sub(excluded);
    if spent >= deadline {
        return Err(Trap::Interrupt.into());
    }
    Ok(UpdateDeadline::Continue(tick))
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    pub(crate) fn new(plugin: &str, limits: Limits) -> Self {
        // Nothing inherited: no environment, arguments, preopened directories,
        // network or stdin. Clocks and randomness remain (std needs them).
        let plugin: Arc<str> = plugin.into();
        let wasi = WasiCtxBuilder::new()
            .stdout(GuestOutput::new(plugin.clone(), Stream::Stdout))
            .stderr(GuestOutput::new(plugin, Stream::Stderr))
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                cap: limits.memory_bytes,
                refused: false,
            },
            call_started: guest_clock(),
        }
    }

    /// Starts a call afresh: no refusal recorded yet, and its deadline counted
    /// from now.
    pub(crate) fn begin_call(&mut self) {
        self.limiter.refused = false;
        self.call_started = call_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spin of about `d` of wall time, so the thread's CPU clock moves.
    fn spin(d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_call_start_is_never_before_the_thread_clock_nor_past_it_by_more_than_the_reading_age() {
        // Fresh readings, stale ones and every age between, with the thread
        // running (spinning) and idle (sleeping) in between.
        for round in 0..400 {
            match round % 4 {
                0 => spin(Duration::from_micros(50)),
                1 => std::thread::sleep(Duration::from_micros(300)),
                2 => spin(CLOCK_READING_MAX_AGE),
                _ => {}
            }
            let before = guest_clock();
            let start = call_start();
            let after = guest_clock();
            // The CPU clock and the wall clock tick from different sources (and the
            // wall clock is slewed by NTP, by up to 500 ppm), so "never before" holds
            // to within a few microseconds over a reading's millisecond.
            assert!(
                start + Duration::from_micros(10) >= before,
                "round {round}: a call started at {start:?} on a clock already at {before:?}"
            );
            assert!(
                start <= after + CLOCK_READING_MAX_AGE,
                "round {round}: a call started at {start:?}, more than {CLOCK_READING_MAX_AGE:?} past the clock's {after:?}"
            );
        }
    }
}

/// Caps linear memory and remembers refusing, so a trap that follows is reported as
/// the memory cap rather than as an anonymous crash.
pub(crate) struct MemoryLimiter {
    cap: usize,
    pub(crate) refused: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.refused = true;
            // Trapping at once gives a precise report; returning false would let
            // the guest's allocator fail and abort less clearly.
            return Err(wasmtime::Error::msg(format!(
                "memory cap of {} MiB reached (asked for {} MiB)",
                self.cap >> 20,
                desired >> 20
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Turns a failed wasmtime call into a [`CallError::Trap`].
pub(crate) fn classify(
    plugin: &str,
    what: &'static str,
    err: wasmtime::Error,
    memory_refused: bool,
    deadline: Duration,
) -> CallError {
    let kind = if memory_refused {
        TrapKind::Memory
    } else if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        TrapKind::Deadline
    } else {
        TrapKind::Crash
    };
    let message = match kind {
        TrapKind::Deadline => format!(
            "ran past its {} ms deadline and was interrupted",
            deadline.as_millis()
        ),
        TrapKind::Memory => format!("{err:#}"),
        TrapKind::Crash => format!("trapped: {}", first_line(&format!("{err:#}"))),
    };
    CallError::Trap {
        plugin: plugin.into(),
        kind,
        what,
        message,
    }
}

/// A failed instantiation: a trap while starting (in the guest's initialisers)
/// is reported as the instance not starting.
pub(crate) fn instantiation_failed(
    plugin: &str,
    err: wasmtime::Error,
    memory_refused: bool,
    deadline: Duration,
) -> CallError {
    match classify(plugin, "instantiating", err, memory_refused, deadline) {
        CallError::Trap { message, .. } => CallError::Instantiate {
            plugin: plugin.into(),
            message,
        },
        other => other,
    }
}

/// What a call into an instance that trapped before gets.
pub(crate) fn poisoned(plugin: &str, what: &'static str) -> CallError {
    CallError::Trap {
        plugin: plugin.into(),
        kind: TrapKind::Crash,
        what,
        message: "the instance trapped earlier and cannot be used again".into(),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// A guest's stdout or stderr: whole lines go to `tracing` with the plugin's name.
#[derive(Clone)]
struct GuestOutput {
    plugin: Arc<str>,
    stream: Stream,
    partial: Arc<Mutex<Vec<u8>>>,
}

/// A guest cannot flood the log with one endless line.
const MAX_LINE: usize = 16 * 1024;

impl GuestOutput {
    fn new(plugin: Arc<str>, stream: Stream) -> Self {
        GuestOutput {
            plugin,
            stream,
            partial: Arc::default(),
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        match self.stream {
            Stream::Stdout => tracing::info!(plugin = %self.plugin, stream = "stdout", "{text}"),
            Stream::Stderr => tracing::warn!(plugin = %self.plugin, stream = "stderr", "{text}"),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
        partial.extend_from_slice(bytes);
        while let Some(nl) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=nl).collect();
            self.emit(&line[..line.len() - 1]);
        }
        if partial.len() > MAX_LINE {
            let line: Vec<u8> = std::mem::take(&mut *partial);
            self.emit(&line);
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp2 guests are supported; a p3 guest's output is discarded.
        Box::new(tokio::io::sink())
    }
}

#[async_trait::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[async_trait::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}
