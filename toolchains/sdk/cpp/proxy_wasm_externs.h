// proxy-wasm C++ SDK (wasmbuild's offline edition): the host functions (imports from module "env").
//
// Every declaration carries its wasm import name, so no JS library or link-time list is needed:
// Debian's clang (wasm32-wasi) and emscripten both turn them into `env.proxy_*` imports.
// Types map to wasm as the ABI says: pointers, size_t, uint32_t and the enums are i32; the only
// i64 parameters are the values of proxy_increment_metric and proxy_record_metric.
// A module imports only the functions it uses, so declaring all of them costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"

#if defined(__wasm__)
#define PROXY_WASM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#else
#define PROXY_WASM_IMPORT(name)
#endif

// Host calls a proxy does not register for the ABI being built are compile-time errors rather
// than a module the proxy refuses to load.
#if defined(__clang__)
#define PROXY_WASM_UNAVAILABLE(msg) __attribute__((unavailable(msg)))
#else
#define PROXY_WASM_UNAVAILABLE(msg) __attribute__((deprecated(msg)))
#endif
#if PROXY_WASM_ABI_VERSION >= 20
#define PROXY_WASM_SINCE_0_2_0
#define PROXY_WASM_ONLY_0_1_0 PROXY_WASM_UNAVAILABLE("ABI 0.1.0 only; use the ABI 0.2.x replacement")
#else
#define PROXY_WASM_SINCE_0_2_0 PROXY_WASM_UNAVAILABLE("needs proxy-wasm ABI 0.2.0 or newer")
#define PROXY_WASM_ONLY_0_1_0
#endif
#if PROXY_WASM_ABI_VERSION >= 21
#define PROXY_WASM_SINCE_0_2_1
#else
#define PROXY_WASM_SINCE_0_2_1 PROXY_WASM_UNAVAILABLE("needs proxy-wasm ABI 0.2.1")
#endif

extern "C" {

// Logging, time, status.
PROXY_WASM_IMPORT(proxy_log)
WasmResult proxy_log(LogLevel level, const char *message, size_t message_size);
PROXY_WASM_IMPORT(proxy_get_log_level) PROXY_WASM_SINCE_0_2_1
WasmResult proxy_get_log_level(LogLevel *level);
PROXY_WASM_IMPORT(proxy_get_status)
WasmResult proxy_get_status(uint32_t *status_code, const char **message, size_t *message_size);
PROXY_WASM_IMPORT(proxy_set_tick_period_milliseconds)
WasmResult proxy_set_tick_period_milliseconds(uint32_t millisecond);
PROXY_WASM_IMPORT(proxy_get_current_time_nanoseconds)
WasmResult proxy_get_current_time_nanoseconds(uint64_t *nanoseconds);

// Configuration (ABI 0.1.0; later versions read buffers VmConfiguration/PluginConfiguration).
PROXY_WASM_IMPORT(proxy_get_configuration) PROXY_WASM_ONLY_0_1_0
WasmResult proxy_get_configuration(const char **configuration, size_t *configuration_size);

// Properties. A path is its segments joined by NUL bytes.
PROXY_WASM_IMPORT(proxy_get_property)
WasmResult proxy_get_property(const char *path, size_t path_size, const char **value, size_t *value_size);
PROXY_WASM_IMPORT(proxy_set_property)
WasmResult proxy_set_property(const char *path, size_t path_size, const char *value, size_t value_size);

// Stream control.
PROXY_WASM_IMPORT(proxy_continue_stream) PROXY_WASM_SINCE_0_2_0
WasmResult proxy_continue_stream(WasmStreamType stream_type);
PROXY_WASM_IMPORT(proxy_close_stream) PROXY_WASM_SINCE_0_2_0
WasmResult proxy_close_stream(WasmStreamType stream_type);
PROXY_WASM_IMPORT(proxy_continue_request) PROXY_WASM_ONLY_0_1_0
WasmResult proxy_continue_request();
PROXY_WASM_IMPORT(proxy_continue_response) PROXY_WASM_ONLY_0_1_0
WasmResult proxy_continue_response();
PROXY_WASM_IMPORT(proxy_clear_route_cache) PROXY_WASM_ONLY_0_1_0
WasmResult proxy_clear_route_cache();
PROXY_WASM_IMPORT(proxy_send_local_response)
WasmResult proxy_send_local_response(uint32_t response_code, const char *response_code_details,
                                     size_t response_code_details_size, const char *body, size_t body_size,
                                     const char *additional_response_header_pairs,
                                     size_t additional_response_header_pairs_size, uint32_t grpc_status);

// Shared data (key/value store shared by every VM of a proxy).
PROXY_WASM_IMPORT(proxy_get_shared_data)
WasmResult proxy_get_shared_data(const char *key, size_t key_size, const char **value, size_t *value_size,
                                 uint32_t *cas);
PROXY_WASM_IMPORT(proxy_set_shared_data)
WasmResult proxy_set_shared_data(const char *key, size_t key_size, const char *value, size_t value_size,
                                 uint32_t cas);

// Shared queues.
PROXY_WASM_IMPORT(proxy_register_shared_queue)
WasmResult proxy_register_shared_queue(const char *queue_name, size_t queue_name_size, uint32_t *token);
PROXY_WASM_IMPORT(proxy_resolve_shared_queue)
WasmResult proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *queue_name,
                                      size_t queue_name_size, uint32_t *token);
PROXY_WASM_IMPORT(proxy_dequeue_shared_queue)
WasmResult proxy_dequeue_shared_queue(uint32_t token, const char **data, size_t *data_size);
PROXY_WASM_IMPORT(proxy_enqueue_shared_queue)
WasmResult proxy_enqueue_shared_queue(uint32_t token, const char *data, size_t data_size);

// Header, trailer and metadata maps.
PROXY_WASM_IMPORT(proxy_add_header_map_value)
WasmResult proxy_add_header_map_value(WasmHeaderMapType type, const char *key, size_t key_size, const char *value,
                                      size_t value_size);
PROXY_WASM_IMPORT(proxy_get_header_map_value)
WasmResult proxy_get_header_map_value(WasmHeaderMapType type, const char *key, size_t key_size, const char **value,
                                      size_t *value_size);
PROXY_WASM_IMPORT(proxy_get_header_map_pairs)
WasmResult proxy_get_header_map_pairs(WasmHeaderMapType type, const char **pairs, size_t *pairs_size);
PROXY_WASM_IMPORT(proxy_set_header_map_pairs)
WasmResult proxy_set_header_map_pairs(WasmHeaderMapType type, const char *pairs, size_t pairs_size);
PROXY_WASM_IMPORT(proxy_replace_header_map_value)
WasmResult proxy_replace_header_map_value(WasmHeaderMapType type, const char *key, size_t key_size,
                                          const char *value, size_t value_size);
PROXY_WASM_IMPORT(proxy_remove_header_map_value)
WasmResult proxy_remove_header_map_value(WasmHeaderMapType type, const char *key, size_t key_size);
PROXY_WASM_IMPORT(proxy_get_header_map_size)
WasmResult proxy_get_header_map_size(WasmHeaderMapType type, size_t *size);

// Buffers (bodies, network data, configuration, call arguments).
PROXY_WASM_IMPORT(proxy_get_buffer_bytes)
WasmResult proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char **data,
                                  size_t *data_size);
PROXY_WASM_IMPORT(proxy_get_buffer_status)
WasmResult proxy_get_buffer_status(WasmBufferType type, size_t *length, uint32_t *flags);
PROXY_WASM_IMPORT(proxy_set_buffer_bytes)
WasmResult proxy_set_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char *data,
                                  size_t data_size);

// HTTP callouts.
PROXY_WASM_IMPORT(proxy_http_call)
WasmResult proxy_http_call(const char *uri, size_t uri_size, const char *header_pairs, size_t header_pairs_size,
                           const char *body, size_t body_size, const char *trailer_pairs, size_t trailer_pairs_size,
                           uint32_t timeout_milliseconds, uint32_t *token);

// gRPC callouts.
PROXY_WASM_IMPORT(proxy_grpc_call)
WasmResult proxy_grpc_call(const char *service, size_t service_size, const char *service_name,
                           size_t service_name_size, const char *method_name, size_t method_name_size,
                           const char *initial_metadata, size_t initial_metadata_size, const char *request,
                           size_t request_size, uint32_t timeout_milliseconds, uint32_t *token);
PROXY_WASM_IMPORT(proxy_grpc_stream)
WasmResult proxy_grpc_stream(const char *service, size_t service_size, const char *service_name,
                             size_t service_name_size, const char *method_name, size_t method_name_size,
                             const char *initial_metadata, size_t initial_metadata_size, uint32_t *token);
PROXY_WASM_IMPORT(proxy_grpc_cancel)
WasmResult proxy_grpc_cancel(uint32_t token);
PROXY_WASM_IMPORT(proxy_grpc_close)
WasmResult proxy_grpc_close(uint32_t token);
PROXY_WASM_IMPORT(proxy_grpc_send)
WasmResult proxy_grpc_send(uint32_t token, const char *message, size_t message_size, uint32_t end_stream);

// Metrics.
PROXY_WASM_IMPORT(proxy_define_metric)
WasmResult proxy_define_metric(MetricType type, const char *name, size_t name_size, uint32_t *metric_id);
PROXY_WASM_IMPORT(proxy_increment_metric)
WasmResult proxy_increment_metric(uint32_t metric_id, int64_t offset);
PROXY_WASM_IMPORT(proxy_record_metric)
WasmResult proxy_record_metric(uint32_t metric_id, uint64_t value);
PROXY_WASM_IMPORT(proxy_get_metric)
WasmResult proxy_get_metric(uint32_t metric_id, uint64_t *value);

// Contexts and foreign functions.
PROXY_WASM_IMPORT(proxy_set_effective_context)
WasmResult proxy_set_effective_context(uint32_t context_id);
PROXY_WASM_IMPORT(proxy_done)
WasmResult proxy_done();
PROXY_WASM_IMPORT(proxy_call_foreign_function)
WasmResult proxy_call_foreign_function(const char *function_name, size_t function_name_size, const char *arguments,
                                       size_t arguments_size, char **results, size_t *results_size);

} // extern "C"
