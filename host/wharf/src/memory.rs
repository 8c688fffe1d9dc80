//! The process's allocator: mimalloc (see `main.rs` for why), and the one thing
//! Wharf asks of it beyond allocating.

/// Hands freed memory back to the operating system now: the calling thread's, that
/// of threads that have ended (a compilation's), and what the allocator's arenas
/// hold free (not what other live threads keep cached). mimalloc returns freed
/// memory lazily, during later allocations, which an idle control plane does not
/// make; after compiling the built-in plugins (hundreds of MiB freed at once) a
/// first `wharf up` stayed at 517–668 MiB resident instead of ~134 MiB. Purging
/// at every free instead (`MIMALLOC_PURGE_DELAY=0`) cost ~15% more CPU per pod
/// create.
#[allow(unsafe_code)]
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointers and has no preconditions; it may be
    // called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
