//! The context traits a filter implements. Every method has a default, as upstream's do:
//! callbacks do nothing and continue; accessors call the host and, where upstream unwraps,
//! panic with the failing call's name (the panic is logged at Critical and aborts the VM).

use std::time::{Duration, SystemTime};

use crate::hostcalls;
use crate::types::*;

/// Unwraps a host call result the way upstream's defaults do, naming the call on failure.
fn ok<T>(result: Result<T, Status>, call: &str) -> T {
    match result {
        Ok(value) => value,
        Err(status) => panic!("proxy-wasm: {} failed: {:?}", call, status),
    }
}

/// What every context can do: properties, shared data and queues, HTTP and gRPC callouts,
/// foreign functions, and the end-of-life callbacks.
pub trait Context {
    fn get_current_time(&self) -> SystemTime {
        ok(hostcalls::get_current_time(), "get_current_time")
    }

    fn get_property(&self, path: Vec<&str>) -> Option<Bytes> {
        ok(hostcalls::get_property(path), "get_property")
    }

    fn set_property(&self, path: Vec<&str>, value: Option<&[u8]>) {
        ok(hostcalls::set_property(path, value), "set_property")
    }

    fn get_shared_data(&self, key: &str) -> (Option<Bytes>, Option<u32>) {
        ok(hostcalls::get_shared_data(key), "get_shared_data")
    }

    fn set_shared_data(&self, key: &str, value: Option<&[u8]>, cas: Option<u32>) -> Result<(), Status> {
        hostcalls::set_shared_data(key, value, cas)
    }

    fn remove_shared_data(&self, key: &str, cas: Option<u32>) -> Result<(), Status> {
        hostcalls::set_shared_data(key, None, cas)
    }

    fn register_shared_queue(&self, name: &str) -> u32 {
        ok(hostcalls::register_shared_queue(name), "register_shared_queue")
    }

    fn resolve_shared_queue(&self, vm_id: &str, name: &str) -> Option<u32> {
        ok(hostcalls::resolve_shared_queue(vm_id, name), "resolve_shared_queue")
    }

    fn dequeue_shared_queue(&self, queue_id: u32) -> Result<Option<Bytes>, Status> {
        hostcalls::dequeue_shared_queue(queue_id)
    }

    fn enqueue_shared_queue(&self, queue_id: u32, value: Option<&[u8]>) -> Result<(), Status> {
        hostcalls::enqueue_shared_queue(queue_id, value)
    }

    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: Vec<(&str, &str)>,
        body: Option<&[u8]>,
        trailers: Vec<(&str, &str)>,
        timeout: Duration,
    ) -> Result<u32, Status> {
        hostcalls::dispatch_http_call(upstream, headers, body, trailers, timeout)
    }

    fn on_http_call_response(&mut self, _token_id: u32, _num_headers: usize, _body_size: usize, _num_trailers: usize) {}

    fn get_http_call_response_headers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpCallResponseHeaders), "get_map")
    }

    fn get_http_call_response_headers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(
            hostcalls::get_map_bytes(MapType::HttpCallResponseHeaders),
            "get_map_bytes",
        )
    }

    fn get_http_call_response_header(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpCallResponseHeaders, name),
            "get_map_value",
        )
    }

    fn get_http_call_response_header_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, name),
            "get_map_value_bytes",
        )
    }

    fn get_http_call_response_body(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::HttpCallResponseBody, start, max_size),
            "get_buffer",
        )
    }

    fn get_http_call_response_trailers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpCallResponseTrailers), "get_map")
    }

    fn get_http_call_response_trailers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(
            hostcalls::get_map_bytes(MapType::HttpCallResponseTrailers),
            "get_map_bytes",
        )
    }

    fn get_http_call_response_trailer(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpCallResponseTrailers, name),
            "get_map_value",
        )
    }

    fn get_http_call_response_trailer_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpCallResponseTrailers, name),
            "get_map_value_bytes",
        )
    }

    fn dispatch_grpc_call(
        &self,
        upstream_name: &str,
        service_name: &str,
        method_name: &str,
        initial_metadata: Vec<(&str, &[u8])>,
        message: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<u32, Status> {
        hostcalls::dispatch_grpc_call(
            upstream_name,
            service_name,
            method_name,
            initial_metadata,
            message,
            timeout,
        )
    }

    fn on_grpc_call_response(&mut self, _token_id: u32, _status_code: u32, _response_size: usize) {}

    fn get_grpc_call_response_body(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, start, max_size),
            "get_buffer",
        )
    }

    fn cancel_grpc_call(&self, token_id: u32) {
        ok(hostcalls::cancel_grpc_call(token_id), "cancel_grpc_call")
    }

    fn open_grpc_stream(
        &self,
        cluster_name: &str,
        service_name: &str,
        method_name: &str,
        initial_metadata: Vec<(&str, &[u8])>,
    ) -> Result<u32, Status> {
        hostcalls::open_grpc_stream(cluster_name, service_name, method_name, initial_metadata)
    }

    fn on_grpc_stream_initial_metadata(&mut self, _token_id: u32, _num_elements: u32) {}

    fn get_grpc_stream_initial_metadata(&self) -> Vec<(String, Bytes)> {
        ok(
            hostcalls::get_map_bytes(MapType::GrpcReceiveInitialMetadata),
            "get_map_bytes",
        )
    }

    fn get_grpc_stream_initial_metadata_value(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::GrpcReceiveInitialMetadata, name),
            "get_map_value_bytes",
        )
    }

    fn send_grpc_stream_message(&self, token_id: u32, message: Option<&[u8]>, end_stream: bool) {
        ok(
            hostcalls::send_grpc_stream_message(token_id, message, end_stream),
            "send_grpc_stream_message",
        )
    }

    fn on_grpc_stream_message(&mut self, _token_id: u32, _message_size: usize) {}

    fn get_grpc_stream_message(&mut self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, start, max_size),
            "get_buffer",
        )
    }

    fn on_grpc_stream_trailing_metadata(&mut self, _token_id: u32, _num_elements: u32) {}

    fn get_grpc_stream_trailing_metadata(&self) -> Vec<(String, Bytes)> {
        ok(
            hostcalls::get_map_bytes(MapType::GrpcReceiveTrailingMetadata),
            "get_map_bytes",
        )
    }

    fn get_grpc_stream_trailing_metadata_value(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::GrpcReceiveTrailingMetadata, name),
            "get_map_value_bytes",
        )
    }

    fn cancel_grpc_stream(&self, token_id: u32) {
        ok(hostcalls::cancel_grpc_stream(token_id), "cancel_grpc_stream")
    }

    fn close_grpc_stream(&self, token_id: u32) {
        ok(hostcalls::close_grpc_stream(token_id), "close_grpc_stream")
    }

    fn on_grpc_stream_close(&mut self, _token_id: u32, _status_code: u32) {}

    fn get_grpc_status(&self) -> (u32, Option<String>) {
        ok(hostcalls::get_grpc_status(), "get_grpc_status")
    }

    fn on_foreign_function(&mut self, _function_id: u32, _arguments_size: usize) {}

    fn call_foreign_function(&self, function_name: &str, arguments: Option<&[u8]>) -> Result<Option<Bytes>, Status> {
        hostcalls::call_foreign_function(function_name, arguments)
    }

    /// Return false to finish later with `done()`.
    fn on_done(&mut self) -> bool {
        true
    }

    fn done(&self) {
        ok(hostcalls::done(), "done")
    }
}

/// The plugin: one per configured filter instance, alive as long as the VM.
pub trait RootContext: Context {
    /// Return false to fail the VM start.
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        true
    }

    fn get_vm_configuration(&self) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::VmConfiguration, 0, usize::MAX),
            "get_buffer",
        )
    }

    /// Return false to reject the plugin configuration.
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        true
    }

    fn get_plugin_configuration(&self) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX),
            "get_buffer",
        )
    }

    fn set_tick_period(&self, period: Duration) {
        ok(hostcalls::set_tick_period(period), "set_tick_period")
    }

    fn on_tick(&mut self) {}

    fn on_queue_ready(&mut self, _queue_id: u32) {}

    fn on_log(&mut self) {}

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        None
    }

    fn create_stream_context(&self, _context_id: u32) -> Option<Box<dyn StreamContext>> {
        None
    }

    /// Which kind of context `create_*_context` makes when no global factory is set.
    fn get_type(&self) -> Option<ContextType> {
        None
    }
}

/// A TCP connection passing through a network filter.
pub trait StreamContext: Context {
    fn on_new_connection(&mut self) -> Action {
        Action::Continue
    }

    fn on_downstream_data(&mut self, _data_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_downstream_data(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::DownstreamData, start, max_size),
            "get_buffer",
        )
    }

    fn set_downstream_data(&self, start: usize, size: usize, value: &[u8]) {
        ok(
            hostcalls::set_buffer(BufferType::DownstreamData, start, size, value),
            "set_buffer",
        )
    }

    fn resume_downstream(&self) {
        ok(hostcalls::resume_downstream(), "resume_downstream")
    }

    fn close_downstream(&self) {
        ok(hostcalls::close_downstream(), "close_downstream")
    }

    fn on_downstream_close(&mut self, _peer_type: PeerType) {}

    fn on_upstream_data(&mut self, _data_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_upstream_data(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::UpstreamData, start, max_size),
            "get_buffer",
        )
    }

    fn set_upstream_data(&self, start: usize, size: usize, value: &[u8]) {
        ok(
            hostcalls::set_buffer(BufferType::UpstreamData, start, size, value),
            "set_buffer",
        )
    }

    fn resume_upstream(&self) {
        ok(hostcalls::resume_upstream(), "resume_upstream")
    }

    fn close_upstream(&self) {
        ok(hostcalls::close_upstream(), "close_upstream")
    }

    fn on_upstream_close(&mut self, _peer_type: PeerType) {}

    fn on_log(&mut self) {}
}

/// One HTTP request/response exchange passing through an HTTP filter.
pub trait HttpContext: Context {
    // ----------------------------------------------------------------------- request side

    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_http_request_headers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpRequestHeaders), "get_map")
    }

    fn get_http_request_headers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(hostcalls::get_map_bytes(MapType::HttpRequestHeaders), "get_map_bytes")
    }

    fn set_http_request_headers(&self, headers: Vec<(&str, &str)>) {
        ok(hostcalls::set_map(MapType::HttpRequestHeaders, headers), "set_map")
    }

    fn set_http_request_headers_bytes(&self, headers: Vec<(&str, &[u8])>) {
        ok(
            hostcalls::set_map_bytes(MapType::HttpRequestHeaders, headers),
            "set_map_bytes",
        )
    }

    fn get_http_request_header(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpRequestHeaders, name),
            "get_map_value",
        )
    }

    fn get_http_request_header_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name),
            "get_map_value_bytes",
        )
    }

    /// `Some` replaces (or adds) the header; `None` removes it.
    fn set_http_request_header(&self, name: &str, value: Option<&str>) {
        ok(
            hostcalls::set_map_value(MapType::HttpRequestHeaders, name, value),
            "set_map_value",
        )
    }

    fn set_http_request_header_bytes(&self, name: &str, value: Option<&[u8]>) {
        ok(
            hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, value),
            "set_map_value_bytes",
        )
    }

    fn add_http_request_header(&self, name: &str, value: &str) {
        ok(
            hostcalls::add_map_value(MapType::HttpRequestHeaders, name, value),
            "add_map_value",
        )
    }

    fn add_http_request_header_bytes(&self, name: &str, value: &[u8]) {
        ok(
            hostcalls::add_map_value_bytes(MapType::HttpRequestHeaders, name, value),
            "add_map_value_bytes",
        )
    }

    fn remove_http_request_header(&self, name: &str) {
        ok(
            hostcalls::remove_map_value(MapType::HttpRequestHeaders, name),
            "remove_map_value",
        )
    }

    fn on_http_request_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_http_request_body(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::HttpRequestBody, start, max_size),
            "get_buffer",
        )
    }

    fn set_http_request_body(&self, start: usize, size: usize, value: &[u8]) {
        ok(
            hostcalls::set_buffer(BufferType::HttpRequestBody, start, size, value),
            "set_buffer",
        )
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        Action::Continue
    }

    fn get_http_request_trailers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpRequestTrailers), "get_map")
    }

    fn get_http_request_trailers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(hostcalls::get_map_bytes(MapType::HttpRequestTrailers), "get_map_bytes")
    }

    fn set_http_request_trailers(&self, trailers: Vec<(&str, &str)>) {
        ok(hostcalls::set_map(MapType::HttpRequestTrailers, trailers), "set_map")
    }

    fn set_http_request_trailers_bytes(&self, trailers: Vec<(&str, &[u8])>) {
        ok(
            hostcalls::set_map_bytes(MapType::HttpRequestTrailers, trailers),
            "set_map_bytes",
        )
    }

    fn get_http_request_trailer(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpRequestTrailers, name),
            "get_map_value",
        )
    }

    fn get_http_request_trailer_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpRequestTrailers, name),
            "get_map_value_bytes",
        )
    }

    fn set_http_request_trailer(&self, name: &str, value: Option<&str>) {
        ok(
            hostcalls::set_map_value(MapType::HttpRequestTrailers, name, value),
            "set_map_value",
        )
    }

    fn set_http_request_trailer_bytes(&self, name: &str, value: Option<&[u8]>) {
        ok(
            hostcalls::set_map_value_bytes(MapType::HttpRequestTrailers, name, value),
            "set_map_value_bytes",
        )
    }

    fn add_http_request_trailer(&self, name: &str, value: &str) {
        ok(
            hostcalls::add_map_value(MapType::HttpRequestTrailers, name, value),
            "add_map_value",
        )
    }

    fn add_http_request_trailer_bytes(&self, name: &str, value: &[u8]) {
        ok(
            hostcalls::add_map_value_bytes(MapType::HttpRequestTrailers, name, value),
            "add_map_value_bytes",
        )
    }

    fn remove_http_request_trailer(&self, name: &str) {
        ok(
            hostcalls::remove_map_value(MapType::HttpRequestTrailers, name),
            "remove_map_value",
        )
    }

    fn resume_http_request(&self) {
        ok(hostcalls::resume_http_request(), "resume_http_request")
    }

    fn reset_http_request(&self) {
        ok(hostcalls::reset_http_request(), "reset_http_request")
    }

    // ---------------------------------------------------------------------- response side

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_http_response_headers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpResponseHeaders), "get_map")
    }

    fn get_http_response_headers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(hostcalls::get_map_bytes(MapType::HttpResponseHeaders), "get_map_bytes")
    }

    fn set_http_response_headers(&self, headers: Vec<(&str, &str)>) {
        ok(hostcalls::set_map(MapType::HttpResponseHeaders, headers), "set_map")
    }

    fn set_http_response_headers_bytes(&self, headers: Vec<(&str, &[u8])>) {
        ok(
            hostcalls::set_map_bytes(MapType::HttpResponseHeaders, headers),
            "set_map_bytes",
        )
    }

    fn get_http_response_header(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpResponseHeaders, name),
            "get_map_value",
        )
    }

    fn get_http_response_header_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpResponseHeaders, name),
            "get_map_value_bytes",
        )
    }

    /// `Some` replaces (or adds) the header; `None` removes it.
    fn set_http_response_header(&self, name: &str, value: Option<&str>) {
        ok(
            hostcalls::set_map_value(MapType::HttpResponseHeaders, name, value),
            "set_map_value",
        )
    }

    fn set_http_response_header_bytes(&self, name: &str, value: Option<&[u8]>) {
        ok(
            hostcalls::set_map_value_bytes(MapType::HttpResponseHeaders, name, value),
            "set_map_value_bytes",
        )
    }

    fn add_http_response_header(&self, name: &str, value: &str) {
        ok(
            hostcalls::add_map_value(MapType::HttpResponseHeaders, name, value),
            "add_map_value",
        )
    }

    fn add_http_response_header_bytes(&self, name: &str, value: &[u8]) {
        ok(
            hostcalls::add_map_value_bytes(MapType::HttpResponseHeaders, name, value),
            "add_map_value_bytes",
        )
    }

    fn remove_http_response_header(&self, name: &str) {
        ok(
            hostcalls::remove_map_value(MapType::HttpResponseHeaders, name),
            "remove_map_value",
        )
    }

    fn on_http_response_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn get_http_response_body(&self, start: usize, max_size: usize) -> Option<Bytes> {
        ok(
            hostcalls::get_buffer(BufferType::HttpResponseBody, start, max_size),
            "get_buffer",
        )
    }

    fn set_http_response_body(&self, start: usize, size: usize, value: &[u8]) {
        ok(
            hostcalls::set_buffer(BufferType::HttpResponseBody, start, size, value),
            "set_buffer",
        )
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        Action::Continue
    }

    fn get_http_response_trailers(&self) -> Vec<(String, String)> {
        ok(hostcalls::get_map(MapType::HttpResponseTrailers), "get_map")
    }

    fn get_http_response_trailers_bytes(&self) -> Vec<(String, Bytes)> {
        ok(hostcalls::get_map_bytes(MapType::HttpResponseTrailers), "get_map_bytes")
    }

    fn set_http_response_trailers(&self, trailers: Vec<(&str, &str)>) {
        ok(hostcalls::set_map(MapType::HttpResponseTrailers, trailers), "set_map")
    }

    fn set_http_response_trailers_bytes(&self, trailers: Vec<(&str, &[u8])>) {
        ok(
            hostcalls::set_map_bytes(MapType::HttpResponseTrailers, trailers),
            "set_map_bytes",
        )
    }

    fn get_http_response_trailer(&self, name: &str) -> Option<String> {
        ok(
            hostcalls::get_map_value(MapType::HttpResponseTrailers, name),
            "get_map_value",
        )
    }

    fn get_http_response_trailer_bytes(&self, name: &str) -> Option<Bytes> {
        ok(
            hostcalls::get_map_value_bytes(MapType::HttpResponseTrailers, name),
            "get_map_value_bytes",
        )
    }

    fn set_http_response_trailer(&self, name: &str, value: Option<&str>) {
        ok(
            hostcalls::set_map_value(MapType::HttpResponseTrailers, name, value),
            "set_map_value",
        )
    }

    fn set_http_response_trailer_bytes(&self, name: &str, value: Option<&[u8]>) {
        ok(
            hostcalls::set_map_value_bytes(MapType::HttpResponseTrailers, name, value),
            "set_map_value_bytes",
        )
    }

    fn add_http_response_trailer(&self, name: &str, value: &str) {
        ok(
            hostcalls::add_map_value(MapType::HttpResponseTrailers, name, value),
            "add_map_value",
        )
    }

    fn add_http_response_trailer_bytes(&self, name: &str, value: &[u8]) {
        ok(
            hostcalls::add_map_value_bytes(MapType::HttpResponseTrailers, name, value),
            "add_map_value_bytes",
        )
    }

    fn remove_http_response_trailer(&self, name: &str) {
        ok(
            hostcalls::remove_map_value(MapType::HttpResponseTrailers, name),
            "remove_map_value",
        )
    }

    fn resume_http_response(&self) {
        ok(hostcalls::resume_http_response(), "resume_http_response")
    }

    fn reset_http_response(&self) {
        ok(hostcalls::reset_http_response(), "reset_http_response")
    }

    // ------------------------------------------------------------------------ local reply

    /// Answers locally instead of forwarding (call it from a request callback, then `Pause`).
    fn send_http_response(&self, status_code: u32, headers: Vec<(&str, &str)>, body: Option<&[u8]>) {
        ok(
            hostcalls::send_http_response(status_code, headers, body),
            "send_http_response",
        )
    }

    fn send_grpc_response(
        &self,
        grpc_status: GrpcStatusCode,
        grpc_status_message: Option<&str>,
        custom_metadata: Vec<(&str, &[u8])>,
    ) {
        ok(
            hostcalls::send_grpc_response(grpc_status, grpc_status_message, custom_metadata),
            "send_grpc_response",
        )
    }

    fn on_log(&mut self) {}
}
