//! Process-level memory policy of the allocator, for large files.
//!
//! glibc's allocator serves blocks of up to 32 MB from its heap once a block of that
//! size has been freed (its mmap threshold adapts upwards), and a freed heap block is
//! kept by the process. Reading a large CSV makes thousands of blocks of a few
//! megabytes (polars parses each batch into pieces of columns); without the policy
//! below, the joined columns and the freed pieces would both count in the peak memory
//! of the process. Other platforms' allocators need nothing here.

/// Blocks of at least this size come straight from the kernel and go back to it when
/// freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Make the allocator return large freed blocks to the kernel at once (glibc: a fixed
/// mmap threshold of 1 MiB). Called once at the start of the binary.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes no pointers; setting M_MMAP_THRESHOLD only changes which
    // future allocations are served by mmap, under the allocator's own locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Hand the heap memory freed so far back to the kernel (glibc: `malloc_trim`).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only returns free pages of the heap to
    // the kernel, under the allocator's own locks, and is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
