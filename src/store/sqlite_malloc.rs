//! SQLite allocates through mimalloc, the allocator the rest of the server uses, instead of glibc's malloc.
//!
//! sqlx copies every column value it reads (`sqlite3_value_dup`) on its connection's thread and frees it on
//! tokio's; through glibc that took a third of an export's reading time (`malloc_consolidate` before every
//! body-sized copy, and frees contending for the reading thread's arena). mimalloc keeps thread-local heaps and
//! takes frees from other threads without a lock.

use libmimalloc_sys as mi;
use libsqlite3_sys as ffi;
use std::os::raw::{c_int, c_void};
use std::sync::Once;

unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
    // SAFETY: SQLite never asks for a negative or zero size; mimalloc returns null when it cannot allocate,
    // which SQLite handles as out of memory.
    unsafe { mi::mi_malloc(n.max(1) as usize) }
}

unsafe extern "C" fn free(p: *mut c_void) {
    // SAFETY: `p` came from `malloc` or `realloc` above (SQLite frees only what its allocator returned).
    unsafe { mi::mi_free(p) }
}

unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as for `malloc` and `free`.
    unsafe { mi::mi_realloc(p, n.max(1) as usize) }
}

unsafe extern "C" fn size(p: *mut c_void) -> c_int {
    // SAFETY: `p` is a live allocation of mimalloc's (SQLite asks only about its own).
    c_int::try_from(unsafe { mi::mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn roundup(n: c_int) -> c_int {
    // SAFETY: a pure function of its argument.
    c_int::try_from(unsafe { mi::mi_good_size(n.max(0) as usize) }).unwrap_or(n)
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

/// Installs the allocator, once per process, before SQLite initialises (on its first connection:
/// `SqliteStore::connect` calls this first); later calls do nothing. Should SQLite have been initialised
/// already (a connection opened elsewhere), it keeps the C library's allocator and says so.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(malloc),
            xFree: Some(free),
            xRealloc: Some(realloc),
            xSize: Some(size),
            xRoundup: Some(roundup),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to the methods and copies them; it is called once, before
        // any connection opens (or fails with SQLITE_MISUSE and changes nothing).
        let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(rc, "SQLite was already initialised: it keeps the C library's allocator");
        }
    });
}
