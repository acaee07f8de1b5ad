//! Safe wrappers of the host functions (module `env`) of Proxy-Wasm ABI 0.2.1.
//!
//! Names, signatures and the `Ok(None)` cases follow the upstream crate. One deliberate
//! difference: where upstream panics on a status it does not expect, these wrappers return
//! `Err(status)`, so a filter can handle it; the trait defaults still unwrap, as upstream's do.
//!
//! Memory the host returns was allocated through this module's allocator export with exactly
//! the returned length, so it is adopted as a `Vec` without copying.

use std::ptr::{null, null_mut};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::dispatcher;
use crate::pairs;
use crate::types::*;

/// Declares the host imports on wasm32 and, elsewhere, stand-ins that panic with a clear
/// message, so `cargo test` of a filter's pure logic links on the developer's machine.
macro_rules! host_functions {
    ($( fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> u32; )*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = "env")]
        extern "C" {
            $( fn $name($($arg: $ty),*) -> u32; )*
        }

        $(
            #[cfg(not(target_arch = "wasm32"))]
            #[allow(unused_variables, clippy::too_many_arguments)]
            unsafe fn $name($($arg: $ty),*) -> u32 {
                panic!(
                    "proxy-wasm: host function {} is only available in a wasm32 module loaded by a proxy-wasm host",
                    stringify!($name)
                )
            }
        )*
    };
}

host_functions! {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_log_level(return_level: *mut u32) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_get_buffer_bytes(buffer_type: u32, start: usize, max_size: usize,
                              return_data: *mut *mut u8, return_size: *mut usize) -> u32;
    fn proxy_set_buffer_bytes(buffer_type: u32, start: usize, size: usize,
                              value_data: *const u8, value_size: usize) -> u32;
    fn proxy_get_header_map_pairs(map_type: u32, return_data: *mut *mut u8, return_size: *mut usize) -> u32;
    fn proxy_set_header_map_pairs(map_type: u32, data: *const u8, size: usize) -> u32;
    fn proxy_get_header_map_value(map_type: u32, key_data: *const u8, key_size: usize,
                                  return_value_data: *mut *mut u8, return_value_size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(map_type: u32, key_data: *const u8, key_size: usize,
                                      value_data: *const u8, value_size: usize) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_add_header_map_value(map_type: u32, key_data: *const u8, key_size: usize,
                                  value_data: *const u8, value_size: usize) -> u32;
    fn proxy_get_property(path_data: *const u8, path_size: usize,
                          return_value_data: *mut *mut u8, return_value_size: *mut usize) -> u32;
    fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
    fn proxy_get_shared_data(key_data: *const u8, key_size: usize, return_value_data: *mut *mut u8,
                             return_value_size: *mut usize, return_cas: *mut u32) -> u32;
    fn proxy_set_shared_data(key_data: *const u8, key_size: usize, value_data: *const u8, value_size: usize,
                             cas: u32) -> u32;
    fn proxy_register_shared_queue(name_data: *const u8, name_size: usize, return_id: *mut u32) -> u32;
    fn proxy_resolve_shared_queue(vm_id_data: *const u8, vm_id_size: usize, name_data: *const u8,
                                  name_size: usize, return_id: *mut u32) -> u32;
    fn proxy_dequeue_shared_queue(queue_id: u32, return_value_data: *mut *mut u8,
                                  return_value_size: *mut usize) -> u32;
    fn proxy_enqueue_shared_queue(queue_id: u32, value_data: *const u8, value_size: usize) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_close_stream(stream_type: u32) -> u32;
    fn proxy_send_local_response(status_code: u32, details_data: *const u8, details_size: usize,
                                 body_data: *const u8, body_size: usize, headers_data: *const u8,
                                 headers_size: usize, grpc_status: i32) -> u32;
    fn proxy_http_call(upstream_data: *const u8, upstream_size: usize, headers_data: *const u8,
                       headers_size: usize, body_data: *const u8, body_size: usize, trailers_data: *const u8,
                       trailers_size: usize, timeout: u32, return_token: *mut u32) -> u32;
    fn proxy_grpc_call(upstream_data: *const u8, upstream_size: usize, service_data: *const u8,
                       service_size: usize, method_data: *const u8, method_size: usize,
                       metadata_data: *const u8, metadata_size: usize, message_data: *const u8,
                       message_size: usize, timeout: u32, return_token: *mut u32) -> u32;
    fn proxy_grpc_stream(upstream_data: *const u8, upstream_size: usize, service_data: *const u8,
                         service_size: usize, method_data: *const u8, method_size: usize,
                         metadata_data: *const u8, metadata_size: usize, return_token: *mut u32) -> u32;
    fn proxy_grpc_send(token: u32, message_data: *const u8, message_size: usize, end_stream: u32) -> u32;
    fn proxy_grpc_cancel(token: u32) -> u32;
    fn proxy_grpc_close(token: u32) -> u32;
    fn proxy_get_status(return_code: *mut u32, return_message_data: *mut *mut u8,
                        return_message_size: *mut usize) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
    fn proxy_call_foreign_function(name_data: *const u8, name_size: usize, arguments_data: *const u8,
                                   arguments_size: usize, return_results_data: *mut *mut u8,
                                   return_results_size: *mut usize) -> u32;
    fn proxy_done() -> u32;
    fn proxy_define_metric(metric_type: u32, name_data: *const u8, name_size: usize, return_id: *mut u32) -> u32;
    fn proxy_get_metric(metric_id: u32, return_value: *mut u64) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
}

const OK: u32 = Status::Ok as u32;
const NOT_FOUND: u32 = Status::NotFound as u32;
const EMPTY: u32 = Status::Empty as u32;

fn fail<T>(code: u32) -> Result<T, Status> {
    Err(Status::from_u32(code))
}

fn check(code: u32) -> Result<(), Status> {
    if code == OK {
        Ok(())
    } else {
        fail(code)
    }
}

/// Pointer and length of an optional byte string; `None` is (null, 0) on the wire.
fn opt(value: Option<&[u8]>) -> (*const u8, usize) {
    match value {
        Some(bytes) => (bytes.as_ptr(), bytes.len()),
        None => (null(), 0),
    }
}

/// Takes ownership of a buffer the host wrote through our allocator; a null pointer is `None`.
///
/// # Safety
/// `data` must be null or come from this module's allocator with exactly `size` bytes.
unsafe fn adopt(data: *mut u8, size: usize) -> Option<Bytes> {
    if data.is_null() {
        None
    } else if size == 0 {
        // The allocator hands out a dangling pointer for 0 bytes: nothing to free.
        Some(Vec::new())
    } else {
        Some(Vec::from_raw_parts(data, size, size))
    }
}

fn millis(duration: Duration) -> u32 {
    duration.as_millis().min(u32::MAX as u128) as u32
}

// ---------------------------------------------------------------------------------- logging

pub fn log(level: LogLevel, message: &str) -> Result<(), Status> {
    check(unsafe { proxy_log(level as u32, message.as_ptr(), message.len()) })
}

pub fn get_log_level() -> Result<LogLevel, Status> {
    let mut level = 0u32;
    match unsafe { proxy_get_log_level(&mut level) } {
        OK => Ok(LogLevel::from_u32(level)),
        code => fail(code),
    }
}

// ------------------------------------------------------------------------------ time, tick

pub fn get_current_time() -> Result<SystemTime, Status> {
    let mut nanos = 0u64;
    match unsafe { proxy_get_current_time_nanoseconds(&mut nanos) } {
        OK => Ok(UNIX_EPOCH + Duration::from_nanos(nanos)),
        code => fail(code),
    }
}

/// Asks the host to call `on_tick` every `period` (whole milliseconds; zero stops the timer).
pub fn set_tick_period(period: Duration) -> Result<(), Status> {
    check(unsafe { proxy_set_tick_period_milliseconds(millis(period)) })
}

// ---------------------------------------------------------------------------------- buffers

/// Up to `max_size` bytes of a buffer from `start`; `None` when the buffer is absent or empty.
pub fn get_buffer(buffer_type: BufferType, start: usize, max_size: usize) -> Result<Option<Bytes>, Status> {
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_get_buffer_bytes(buffer_type as u32, start, max_size, &mut data, &mut size) } {
        OK => Ok(unsafe { adopt(data, size) }),
        NOT_FOUND => Ok(None),
        code => fail(code),
    }
}

/// Replaces `size` bytes at `start` with `value` (Envoy: start 0 replaces/prepends, start at
/// the end appends).
pub fn set_buffer(buffer_type: BufferType, start: usize, size: usize, value: &[u8]) -> Result<(), Status> {
    check(unsafe { proxy_set_buffer_bytes(buffer_type as u32, start, size, value.as_ptr(), value.len()) })
}

// ------------------------------------------------------------------------------ header maps

fn get_map_raw(map_type: MapType) -> Result<Option<Bytes>, Status> {
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_get_header_map_pairs(map_type as u32, &mut data, &mut size) } {
        OK => Ok(unsafe { adopt(data, size) }),
        code => fail(code),
    }
}

/// The map's pairs with text keys, each value converted by `value` (an absent map is empty).
fn get_map_with<V>(map_type: MapType, value: impl Fn(&[u8]) -> V) -> Result<Vec<(String, V)>, Status> {
    match get_map_raw(map_type)? {
        None => Ok(Vec::new()),
        Some(bytes) => Ok(pairs::deserialize(&bytes)?
            .into_iter()
            .map(|(k, v)| (pairs::text(k), value(v)))
            .collect()),
    }
}

pub fn get_map(map_type: MapType) -> Result<Vec<(String, String)>, Status> {
    get_map_with(map_type, pairs::text)
}

pub fn get_map_bytes(map_type: MapType) -> Result<Vec<(String, Bytes)>, Status> {
    get_map_with(map_type, <[u8]>::to_vec)
}

pub fn set_map(map_type: MapType, map: Vec<(&str, &str)>) -> Result<(), Status> {
    let bytes = pairs::serialize(&map);
    check(unsafe { proxy_set_header_map_pairs(map_type as u32, bytes.as_ptr(), bytes.len()) })
}

pub fn set_map_bytes(map_type: MapType, map: Vec<(&str, &[u8])>) -> Result<(), Status> {
    let bytes = pairs::serialize(&map);
    check(unsafe { proxy_set_header_map_pairs(map_type as u32, bytes.as_ptr(), bytes.len()) })
}

/// The value of `key`; `None` when absent, `Some("")` when present and empty.
pub fn get_map_value(map_type: MapType, key: &str) -> Result<Option<String>, Status> {
    Ok(get_map_value_bytes(map_type, key)?.map(|v| pairs::text(&v)))
}

pub fn get_map_value_bytes(map_type: MapType, key: &str) -> Result<Option<Bytes>, Status> {
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_get_header_map_value(map_type as u32, key.as_ptr(), key.len(), &mut data, &mut size) } {
        OK => Ok(Some(unsafe { adopt(data, size) }.unwrap_or_default())),
        NOT_FOUND => Ok(None),
        code => fail(code),
    }
}

pub fn remove_map_value(map_type: MapType, key: &str) -> Result<(), Status> {
    check(unsafe { proxy_remove_header_map_value(map_type as u32, key.as_ptr(), key.len()) })
}

/// `Some` replaces every value of `key` (adding it when absent); `None` removes it.
pub fn set_map_value(map_type: MapType, key: &str, value: Option<&str>) -> Result<(), Status> {
    set_map_value_bytes(map_type, key, value.map(str::as_bytes))
}

pub fn set_map_value_bytes(map_type: MapType, key: &str, value: Option<&[u8]>) -> Result<(), Status> {
    match value {
        Some(value) => check(unsafe {
            proxy_replace_header_map_value(map_type as u32, key.as_ptr(), key.len(), value.as_ptr(), value.len())
        }),
        None => remove_map_value(map_type, key),
    }
}

/// Adds one more `key: value`, keeping existing values of `key`.
pub fn add_map_value(map_type: MapType, key: &str, value: &str) -> Result<(), Status> {
    add_map_value_bytes(map_type, key, value.as_bytes())
}

pub fn add_map_value_bytes(map_type: MapType, key: &str, value: &[u8]) -> Result<(), Status> {
    check(unsafe { proxy_add_header_map_value(map_type as u32, key.as_ptr(), key.len(), value.as_ptr(), value.len()) })
}

// ------------------------------------------------------------------------------- properties

/// A host property such as `vec!["request", "path"]` or `vec!["plugin_root_id"]`.
pub fn get_property(path: Vec<&str>) -> Result<Option<Bytes>, Status> {
    let path = pairs::property_path(&path);
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) } {
        OK => Ok(unsafe { adopt(data, size) }),
        NOT_FOUND => Ok(None),
        code => fail(code),
    }
}

pub fn set_property(path: Vec<&str>, value: Option<&[u8]>) -> Result<(), Status> {
    let path = pairs::property_path(&path);
    let (value_data, value_size) = opt(value);
    check(unsafe { proxy_set_property(path.as_ptr(), path.len(), value_data, value_size) })
}

// ------------------------------------------------------------------------------ shared data

/// The value and its CAS token (`None` for 0); `(None, None)` when the key does not exist.
pub fn get_shared_data(key: &str) -> Result<(Option<Bytes>, Option<u32>), Status> {
    let mut data = null_mut();
    let mut size = 0usize;
    let mut cas = 0u32;
    match unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) } {
        OK => Ok((unsafe { adopt(data, size) }, if cas == 0 { None } else { Some(cas) })),
        NOT_FOUND => Ok((None, None)),
        code => fail(code),
    }
}

/// Stores `value` under `key`; with `Some(cas)` only if nobody wrote since (else `CasMismatch`).
pub fn set_shared_data(key: &str, value: Option<&[u8]>, cas: Option<u32>) -> Result<(), Status> {
    let (value_data, value_size) = opt(value);
    check(unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value_data, value_size, cas.unwrap_or(0)) })
}

pub fn register_shared_queue(name: &str) -> Result<u32, Status> {
    let mut queue_id = 0u32;
    match unsafe { proxy_register_shared_queue(name.as_ptr(), name.len(), &mut queue_id) } {
        OK => Ok(queue_id),
        code => fail(code),
    }
}

pub fn resolve_shared_queue(vm_id: &str, name: &str) -> Result<Option<u32>, Status> {
    let mut queue_id = 0u32;
    match unsafe { proxy_resolve_shared_queue(vm_id.as_ptr(), vm_id.len(), name.as_ptr(), name.len(), &mut queue_id) } {
        OK => Ok(Some(queue_id)),
        NOT_FOUND => Ok(None),
        code => fail(code),
    }
}

/// The next item, or `None` when the queue is empty.
pub fn dequeue_shared_queue(queue_id: u32) -> Result<Option<Bytes>, Status> {
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_dequeue_shared_queue(queue_id, &mut data, &mut size) } {
        OK => Ok(unsafe { adopt(data, size) }),
        EMPTY => Ok(None),
        code => fail(code),
    }
}

pub fn enqueue_shared_queue(queue_id: u32, value: Option<&[u8]>) -> Result<(), Status> {
    let (value_data, value_size) = opt(value);
    check(unsafe { proxy_enqueue_shared_queue(queue_id, value_data, value_size) })
}

// ---------------------------------------------------------------------------------- streams

fn continue_stream(stream_type: StreamType) -> Result<(), Status> {
    check(unsafe { proxy_continue_stream(stream_type as u32) })
}

fn close_stream(stream_type: StreamType) -> Result<(), Status> {
    check(unsafe { proxy_close_stream(stream_type as u32) })
}

pub fn resume_downstream() -> Result<(), Status> {
    continue_stream(StreamType::Downstream)
}

pub fn resume_upstream() -> Result<(), Status> {
    continue_stream(StreamType::Upstream)
}

pub fn resume_http_request() -> Result<(), Status> {
    continue_stream(StreamType::HttpRequest)
}

pub fn resume_http_response() -> Result<(), Status> {
    continue_stream(StreamType::HttpResponse)
}

pub fn close_downstream() -> Result<(), Status> {
    close_stream(StreamType::Downstream)
}

pub fn close_upstream() -> Result<(), Status> {
    close_stream(StreamType::Upstream)
}

pub fn reset_http_request() -> Result<(), Status> {
    close_stream(StreamType::HttpRequest)
}

pub fn reset_http_response() -> Result<(), Status> {
    close_stream(StreamType::HttpResponse)
}

/// Answers the request locally with `status_code`, `headers` and `body` (no gRPC status).
pub fn send_http_response(status_code: u32, headers: Vec<(&str, &str)>, body: Option<&[u8]>) -> Result<(), Status> {
    let headers = pairs::serialize(&headers);
    let (body_data, body_size) = opt(body);
    check(unsafe {
        proxy_send_local_response(
            status_code,
            null(),
            0,
            body_data,
            body_size,
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    })
}

/// Answers a gRPC request locally: HTTP 200 carrying `grpc_status`; like upstream, the
/// message travels in the body argument and the metadata in the headers argument.
pub fn send_grpc_response(
    grpc_status: GrpcStatusCode,
    grpc_status_message: Option<&str>,
    custom_metadata: Vec<(&str, &[u8])>,
) -> Result<(), Status> {
    let metadata = pairs::serialize(&custom_metadata);
    let (message_data, message_size) = opt(grpc_status_message.map(str::as_bytes));
    check(unsafe {
        proxy_send_local_response(
            200,
            null(),
            0,
            message_data,
            message_size,
            metadata.as_ptr(),
            metadata.len(),
            grpc_status as i32,
        )
    })
}

// -------------------------------------------------------------------------------- callouts

/// Starts an HTTP call to cluster `upstream`; the answer arrives in `on_http_call_response`
/// of the context that made the call. `headers` need `:method`, `:path` and `:authority`.
pub fn dispatch_http_call(
    upstream: &str,
    headers: Vec<(&str, &str)>,
    body: Option<&[u8]>,
    trailers: Vec<(&str, &str)>,
    timeout: Duration,
) -> Result<u32, Status> {
    let headers = pairs::serialize(&headers);
    let trailers = pairs::serialize(&trailers);
    let (body_data, body_size) = opt(body);
    let mut token = 0u32;
    match unsafe {
        proxy_http_call(
            upstream.as_ptr(),
            upstream.len(),
            headers.as_ptr(),
            headers.len(),
            body_data,
            body_size,
            trailers.as_ptr(),
            trailers.len(),
            millis(timeout),
            &mut token,
        )
    } {
        OK => {
            dispatcher::register_http_callout(token);
            Ok(token)
        }
        code => fail(code),
    }
}

pub fn dispatch_grpc_call(
    upstream_name: &str,
    service_name: &str,
    method_name: &str,
    initial_metadata: Vec<(&str, &[u8])>,
    message: Option<&[u8]>,
    timeout: Duration,
) -> Result<u32, Status> {
    let metadata = pairs::serialize(&initial_metadata);
    let (message_data, message_size) = opt(message);
    let mut token = 0u32;
    match unsafe {
        proxy_grpc_call(
            upstream_name.as_ptr(),
            upstream_name.len(),
            service_name.as_ptr(),
            service_name.len(),
            method_name.as_ptr(),
            method_name.len(),
            metadata.as_ptr(),
            metadata.len(),
            message_data,
            message_size,
            millis(timeout),
            &mut token,
        )
    } {
        OK => {
            dispatcher::register_grpc_callout(token);
            Ok(token)
        }
        code => fail(code),
    }
}

pub fn open_grpc_stream(
    upstream_name: &str,
    service_name: &str,
    method_name: &str,
    initial_metadata: Vec<(&str, &[u8])>,
) -> Result<u32, Status> {
    let metadata = pairs::serialize(&initial_metadata);
    let mut token = 0u32;
    match unsafe {
        proxy_grpc_stream(
            upstream_name.as_ptr(),
            upstream_name.len(),
            service_name.as_ptr(),
            service_name.len(),
            method_name.as_ptr(),
            method_name.len(),
            metadata.as_ptr(),
            metadata.len(),
            &mut token,
        )
    } {
        OK => {
            dispatcher::register_grpc_stream(token);
            Ok(token)
        }
        code => fail(code),
    }
}

pub fn send_grpc_stream_message(token: u32, message: Option<&[u8]>, end_stream: bool) -> Result<(), Status> {
    let (message_data, message_size) = opt(message);
    check(unsafe { proxy_grpc_send(token, message_data, message_size, end_stream as u32) })
}

pub fn cancel_grpc_call(token_id: u32) -> Result<(), Status> {
    check(unsafe { proxy_grpc_cancel(token_id) })
}

pub fn cancel_grpc_stream(token_id: u32) -> Result<(), Status> {
    check(unsafe { proxy_grpc_cancel(token_id) })
}

pub fn close_grpc_stream(token_id: u32) -> Result<(), Status> {
    check(unsafe { proxy_grpc_close(token_id) })
}

/// The status code and message of the last gRPC (or HTTP call) response.
pub fn get_grpc_status() -> Result<(u32, Option<String>), Status> {
    let mut code = 0u32;
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe { proxy_get_status(&mut code, &mut data, &mut size) } {
        OK => Ok((code, unsafe { adopt(data, size) }.map(|m| pairs::text(&m)))),
        status => fail(status),
    }
}

// ------------------------------------------------------------------- contexts and foreign calls

/// Makes later host calls act on `context_id` (the SDK does this before async callbacks).
pub fn set_effective_context(context_id: u32) -> Result<(), Status> {
    check(unsafe { proxy_set_effective_context(context_id) })
}

pub fn call_foreign_function(function_name: &str, arguments: Option<&[u8]>) -> Result<Option<Bytes>, Status> {
    let (arguments_data, arguments_size) = opt(arguments);
    let mut data = null_mut();
    let mut size = 0usize;
    match unsafe {
        proxy_call_foreign_function(
            function_name.as_ptr(),
            function_name.len(),
            arguments_data,
            arguments_size,
            &mut data,
            &mut size,
        )
    } {
        OK => Ok(unsafe { adopt(data, size) }),
        code => fail(code),
    }
}

/// Tells the host that a context whose `on_done` returned false has finished.
pub fn done() -> Result<(), Status> {
    check(unsafe { proxy_done() })
}

// ---------------------------------------------------------------------------------- metrics

pub fn define_metric(metric_type: MetricType, name: &str) -> Result<u32, Status> {
    let mut metric_id = 0u32;
    match unsafe { proxy_define_metric(metric_type as u32, name.as_ptr(), name.len(), &mut metric_id) } {
        OK => Ok(metric_id),
        code => fail(code),
    }
}

pub fn get_metric(metric_id: u32) -> Result<u64, Status> {
    let mut value = 0u64;
    match unsafe { proxy_get_metric(metric_id, &mut value) } {
        OK => Ok(value),
        code => fail(code),
    }
}

pub fn record_metric(metric_id: u32, value: u64) -> Result<(), Status> {
    check(unsafe { proxy_record_metric(metric_id, value) })
}

pub fn increment_metric(metric_id: u32, offset: i64) -> Result<(), Status> {
    check(unsafe { proxy_increment_metric(metric_id, offset) })
}
