//! The allocator export the host uses to hand data to the module (`copy_out` in the ABI).
//!
//! cpp-host (Envoy, Istio) looks for `malloc` first and falls back to
//! `proxy_on_memory_allocate`; the spec prefers the latter. On wasm32-wasi the C library owns
//! the `malloc` symbol, so only `proxy_on_memory_allocate` is exported there (as upstream
//! does); on wasm32-unknown-unknown both names are exported, so every host finds one.
//!
//! Blocks are allocated with alignment 1 and exactly the requested size, so the host calls
//! can adopt them as `Vec<u8>` of that length and free them normally.

use std::alloc::{alloc, Layout};
use std::ptr::{null_mut, NonNull};

fn allocate(size: usize) -> *mut u8 {
    if size == 0 {
        // Nothing to write; a non-null answer keeps hosts from reading it as out-of-memory.
        return NonNull::dangling().as_ptr();
    }
    match Layout::from_size_align(size, 1) {
        // A null result (out of memory) tells the host the copy failed.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    allocate(size)
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[export_name = "malloc"]
pub extern "C" fn malloc(size: usize) -> *mut u8 {
    allocate(size)
}
