//! Giving freed memory back to the system after a reload.
//!
//! When an engine is replaced, its memory is freed in pieces spread over the heap, between allocations that
//! stay (sessions, buffers), so glibc's malloc keeps the pages: it returns only the top of an arena on its
//! own. `malloc_trim` also releases the free pages inside every arena (glibc ≥ 2.8), which is what a
//! reload leaves. One call after each reload and after each replaced engine's last session is gone costs a
//! few milliseconds on the reload thread; another allocator (jemalloc, mimalloc) would do this by itself
//! but adds a C build and a second allocator's behaviour to every measurement, for one call's worth of gain.

/// How often the daemon gives free heap pages back while it runs, reload or not. Session churn and reloads
/// leave freed chunks spread over the arenas: in a 10-minute soak with a fixed set of check threads the heap
/// held stayed at 72–77 MiB while malloc's free-but-kept bytes went 6 → 20–25 MiB and RSS followed them up
/// by ~5 MiB between reloads (each reload's trim took it back down). A trim costs about a millisecond per
/// call on a check thread; the pages it releases are faulted back in only where malloc reuses them.
pub const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

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

/// Caps glibc's malloc arenas at `arenas` (≥ 1) unless the operator set `MALLOC_ARENA_MAX` or
/// `GLIBC_TUNABLES` (theirs wins). glibc gives threads up to 8 arenas per core; each keeps the holes that
/// session churn and replaced engines leave in it, and a hole in one arena is no use to a thread on another.
/// In a 10-minute soak (1,000 clients, a reload a minute, 9 threads) malloc's free-but-kept bytes plateaued at
/// ~20 MiB with the default and ~14 MiB with 2 arenas, and RSS after the first minute grew 13 % vs 6 %
/// (benches/RESULTS.md, "Sidecar session 3"). Call it first, before threads allocate: arenas already made stay.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas(arenas: usize) {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some()
    {
        return;
    }
    let n = libc::c_int::try_from(arenas.max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt takes two integers and only sets glibc's malloc parameters (under its lock).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, n);
    }
}

/// Caps malloc's arenas (glibc); does nothing elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas(_arenas: usize) {}

/// The malloc heap as glibc counts it: what the program holds, and what malloc holds free (kept in its
/// arenas and not given back). RSS alone cannot tell a leak (`in_use` climbs) from fragmentation (`free`
/// climbs while `in_use` stays), which is the first question when RSS grows under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    /// Bytes allocated and not yet freed, mmapped chunks included.
    pub in_use: u64,
    /// Bytes free inside the arenas (reusable by malloc, resident when touched before).
    pub free: u64,
    /// Bytes of the arenas themselves (sbrk'd and per-thread heaps), free parts included.
    pub arenas: u64,
}

/// The heap's counters (`mallinfo2`, glibc ≥ 2.33); `None` elsewhere. It walks every arena under its lock,
/// so call it per scrape, not per request.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn heap() -> Option<Heap> {
    // SAFETY: mallinfo2 takes no argument and returns a plain struct by value.
    let m = unsafe { libc::mallinfo2() };
    Some(Heap {
        in_use: (m.uordblks + m.hblkhd) as u64,
        free: m.fordblks as u64,
        arenas: m.arena as u64,
    })
}

/// The heap's counters (`mallinfo2`, glibc ≥ 2.33); `None` elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap() -> Option<Heap> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn heap_counts_a_live_allocation() {
        let before = super::heap().expect("glibc counts its heap");
        // 32 MiB: far more than other tests running in parallel could free between the two readings.
        let block = std::hint::black_box(vec![7u8; 32 << 20]);
        let during = super::heap().expect("glibc counts its heap");
        assert!(
            during.in_use >= before.in_use + (24 << 20),
            "{before:?} → {during:?}"
        );
        drop(block);
    }
}
