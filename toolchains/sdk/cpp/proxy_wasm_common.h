// proxy-wasm C++ SDK (wasmbuild's offline edition): types shared by the SDK and host-facing code.
//
// Written from the Proxy-Wasm ABI 0.2.1 specification; names and values follow the upstream
// proxy-wasm-cpp-sdk so filters port between the two SDKs unchanged.
#pragma once

#include <cstdint>
#include <string>

// The ABI version the module is built for. 0.2.1 unless the build defines
// PROXY_WASM_ABI_VERSION_0_2_0 or PROXY_WASM_ABI_VERSION_0_1_0 (for proxies that predate 0.2.1).
// The choice changes the exported marker, the callback signatures and which host calls exist.
#if defined(PROXY_WASM_ABI_VERSION_0_1_0)
#define PROXY_WASM_ABI_VERSION 10
#elif defined(PROXY_WASM_ABI_VERSION_0_2_0)
#define PROXY_WASM_ABI_VERSION 20
#else
#define PROXY_WASM_ABI_VERSION 21
#endif

// Status returned by every host call (proxy_status_t on the wire).
enum class WasmResult : uint32_t {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
};

inline std::string toString(WasmResult r) {
  switch (r) {
  case WasmResult::Ok:
    return "Ok";
  case WasmResult::NotFound:
    return "NotFound";
  case WasmResult::BadArgument:
    return "BadArgument";
  case WasmResult::SerializationFailure:
    return "SerializationFailure";
  case WasmResult::ParseFailure:
    return "ParseFailure";
  case WasmResult::BadExpression:
    return "BadExpression";
  case WasmResult::InvalidMemoryAccess:
    return "InvalidMemoryAccess";
  case WasmResult::Empty:
    return "Empty";
  case WasmResult::CasMismatch:
    return "CasMismatch";
  case WasmResult::ResultMismatch:
    return "ResultMismatch";
  case WasmResult::InternalFailure:
    return "InternalFailure";
  case WasmResult::BrokenConnection:
    return "BrokenConnection";
  case WasmResult::Unimplemented:
    return "Unimplemented";
  }
  return "Unknown";
}

// Header/trailer/metadata maps the host keeps (proxy_map_type_t).
enum class WasmHeaderMapType : int32_t {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
  MAX = 7,
};

// Byte buffers the host keeps (proxy_buffer_type_t). 6..8 exist since ABI 0.2.0.
enum class WasmBufferType : int32_t {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
  MAX = 8,
};

// Flags of proxy_get_buffer_status (powers of two).
enum class WasmBufferFlags : int32_t {
  EndOfStream = 1,
};

// Stream direction for proxy_continue_stream / proxy_close_stream (ABI 0.2.0+).
enum class WasmStreamType : int32_t {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
  MAX = 3,
};
