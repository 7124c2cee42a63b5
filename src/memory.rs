//! Returning freed memory to the operating system, for large files.
//!
//! Reading a large CSV leaves each column in pieces of a few megabytes (polars parses
//! each batch on its own). glibc's allocator serves such pieces from its heap once its
//! adaptive threshold has risen, and keeps heap memory when it is freed. When the
//! pieces are joined into one array per column, the joined columns and the freed
//! pieces would then both count in the peak memory of the process; handing the freed
//! pieces back after each column keeps the peak at about the columns. Other platforms'
//! allocators need nothing here.

/// Hand the heap memory freed so far back to the kernel (glibc: `malloc_trim`).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only returns free pages of the heap to
    // the kernel, under the allocator's own locks, and is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Fault in the pages of `v` ahead of writing it, in one system call for the whole
/// range (Linux 5.14 or later: `MADV_POPULATE_WRITE`) instead of one page fault per
/// page as it is first written: a column of 10^6 values is about 2,000 pages. Only the
/// pages wholly inside `v` are touched; where the call is not known the pages are
/// faulted in as they are written, as before.
pub fn populate(v: &mut [f64]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf takes no pointers.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
        if page == 0 {
            return;
        }
        let start = v.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(v);
        let first = start.next_multiple_of(page);
        let last = end / page * page;
        if last > first {
            // SAFETY: the range lies inside `v`, memory this process owns and may write;
            // MADV_POPULATE_WRITE maps its pages writable as a write would, without
            // changing a byte of them. A refusal (an older kernel) changes nothing.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}
