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
