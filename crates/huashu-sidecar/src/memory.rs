//! Giving freed memory back to the system after a reload.
//!
//! When an engine is replaced, its memory is freed in pieces spread over the heap, between allocations that
//! stay (sessions, buffers), so glibc's malloc keeps the pages: it returns only the top of an arena on its
//! own. `malloc_trim` also releases the free pages inside every arena (glibc ≥ 2.8), which is what a
//! reload leaves. One call after each reload and after each replaced engine's last session is gone costs a
//! few milliseconds on the reload thread; another allocator (jemalloc, mimalloc) would do this by itself
//! but adds a C build and a second allocator's behaviour to every measurement, for one call's worth of gain.

/// Returns free heap pages to the system (glibc); does nothing elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own arenas under their locks; any thread
    // may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns free heap pages to the system (glibc); does nothing elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
