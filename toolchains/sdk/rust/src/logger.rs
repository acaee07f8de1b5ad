//! Logging without the `log` crate (which is not available offline): a level filter set by
//! `set_log_level`, the `trace!` … `critical!` macros, and a panic hook that reports panics
//! through `proxy_log` at Critical before the VM aborts.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::hostcalls;
use crate::types::LogLevel;

/// Everything is sent until `set_log_level` says otherwise; the host filters as well.
static MIN_LEVEL: AtomicU32 = AtomicU32::new(LogLevel::Trace as u32);
static HOOK_INSTALLED: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_level(level: LogLevel) {
    MIN_LEVEL.store(level as u32, Ordering::Relaxed);
    install_panic_hook();
}

pub(crate) fn enabled(level: LogLevel) -> bool {
    level as u32 >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Sends one message, dropping host errors: logging must never fail a filter.
pub(crate) fn log_message(level: LogLevel, message: &str) {
    if enabled(level) {
        let _ = hostcalls::log(level, message);
    }
}

pub(crate) fn log_args(level: LogLevel, args: fmt::Arguments) {
    match args.as_str() {
        Some(message) => log_message(level, message),
        None => log_message(level, &fmt::format(args)),
    }
}

/// Makes a panic show up in the proxy's log (otherwise it is a bare wasm trap).
pub(crate) fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    if !HOOK_INSTALLED.swap(true, Ordering::Relaxed) {
        std::panic::set_hook(Box::new(|info| {
            let _ = hostcalls::log(LogLevel::Critical, &info.to_string());
        }));
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = &HOOK_INSTALLED;
}

/// Logs at a level through `proxy_log` if `set_log_level` lets it through:
/// `proxy_wasm::log!(LogLevel::Info, "x = {}", x)`. The level macros below are shorthands.
#[macro_export]
macro_rules! log {
    (target: $target:expr, $level:expr, $($arg:tt)+) => {
        $crate::log!($level, $($arg)+)
    };
    ($level:expr, $($arg:tt)+) => {{
        let level: $crate::types::LogLevel = $level;
        if $crate::__log_enabled(level) {
            $crate::__log(level, ::std::format_args!($($arg)+));
        }
    }};
}

/// `trace!("...")`, like the `log` crate's macro of the same name.
#[macro_export]
macro_rules! trace {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Trace, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Trace, $($arg)+) };
}

/// `debug!("...")`, like the `log` crate's macro of the same name.
#[macro_export]
macro_rules! debug {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Debug, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Debug, $($arg)+) };
}

/// `info!("...")`, like the `log` crate's macro of the same name.
#[macro_export]
macro_rules! info {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Info, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Info, $($arg)+) };
}

/// `warn!("...")`, like the `log` crate's macro of the same name.
#[macro_export]
macro_rules! warn {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Warn, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Warn, $($arg)+) };
}

/// `error!("...")`, like the `log` crate's macro of the same name.
#[macro_export]
macro_rules! error {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Error, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Error, $($arg)+) };
}

/// `critical!("...")`: proxy-wasm's highest level (the `log` crate has no equivalent).
#[macro_export]
macro_rules! critical {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Critical, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::types::LogLevel::Critical, $($arg)+) };
}
