//! A dependency-free Proxy-Wasm SDK for Rust, bundled with wasmbuild.
//!
//! It mirrors the public surface of the upstream `proxy-wasm` crate (0.2.x): the `main!`
//! macro, `set_log_level`, `set_root_context`, `set_http_context`, `set_stream_context`,
//! the `traits`, `types` and `hostcalls` modules. A filter written against it builds against
//! upstream by changing its Cargo.toml dependency line (plus `use log::…` for the logging
//! macros, which this crate provides itself because the `log` crate is not available offline).
//!
//! The module it produces targets Proxy-Wasm ABI 0.2.1: it exports
//! `proxy_abi_version_0_2_1`, every `proxy_on_*` callback, `_initialize` (from `main!`) and
//! an allocator (`malloc` + `proxy_on_memory_allocate` on wasm32-unknown-unknown,
//! `proxy_on_memory_allocate` on wasm32-wasi). It builds with Rust 1.63.

pub mod hostcalls;
pub mod traits;
pub mod types;

mod allocator;
mod dispatcher;
mod logger;
mod pairs;

use crate::types::{LogLevel, NewHttpContext, NewRootContext, NewStreamContext};

/// Defines the module's `_initialize` entry, which runs `$code` once when the VM starts.
///
/// ```ignore
/// proxy_wasm::main! {{
///     proxy_wasm::set_log_level(LogLevel::Trace);
///     proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(MyRoot) });
/// }}
/// ```
#[macro_export]
macro_rules! main {
    ($code:block) => {
        #[cfg(target_os = "wasi")]
        extern "C" {
            fn __wasm_call_ctors();
        }

        /// Module entry: the host calls it once before any other export.
        #[no_mangle]
        pub extern "C" fn _initialize() {
            #[cfg(target_os = "wasi")]
            unsafe {
                __wasm_call_ctors();
            }
            $crate::__initialize();
            $code
        }
    };
}

/// Only messages at `level` or above are sent to the host (all are, until this is called).
pub fn set_log_level(level: LogLevel) {
    logger::set_level(level);
}

/// Registers the factory of root contexts (one per plugin configuration).
pub fn set_root_context(callback: NewRootContext) {
    dispatcher::set_root_context(callback);
}

/// Registers the factory of TCP stream contexts (takes precedence over `RootContext::get_type`).
pub fn set_stream_context(callback: NewStreamContext) {
    dispatcher::set_stream_context(callback);
}

/// Registers the factory of HTTP contexts (takes precedence over `RootContext::get_type`).
pub fn set_http_context(callback: NewHttpContext) {
    dispatcher::set_http_context(callback);
}

/// The ABI version marker the host reads to choose callback signatures.
#[cfg(not(feature = "abi-0-2-0"))]
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// The ABI 0.2.0 marker, with the `abi-0-2-0` feature (the callbacks are the same).
#[cfg(feature = "abi-0-2-0")]
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_0() {}

#[doc(hidden)]
pub fn __initialize() {
    logger::install_panic_hook();
}

#[doc(hidden)]
pub fn __log_enabled(level: LogLevel) -> bool {
    logger::enabled(level)
}

#[doc(hidden)]
pub fn __log(level: LogLevel, args: std::fmt::Arguments) {
    logger::log_args(level, args);
}
