//! The allocator: mimalloc, which the front end's many small strings like
//! (~20% faster, and big schemas scale linearly: see the `validate` bench),
//! told to keep the memory it frees. A run of `hubgen` is short: by default
//! mimalloc hands freed pages back to the OS after a second, and `generate`,
//! which builds and drops a syntax tree per item, then pays for the kernel
//! zeroing the same pages again (~10% of its time, see the `generate` bench).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc's option enum.
const PURGE_DELAY: std::ffi::c_int = 15;
/// Its default in mimalloc 3 (the version linked), in milliseconds.
const DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;

/// Never purge freed memory. Applied only where the option holds its
/// default, so a mimalloc whose options moved (or a `MIMALLOC_PURGE_DELAY`
/// in the environment) is left alone.
pub fn keep_freed_memory() {
    // SAFETY: mimalloc's own API for its option table; called first thing
    // in `main`, before any other thread exists.
    unsafe {
        if mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY {
            mi_option_set(PURGE_DELAY, -1);
        }
    }
}
