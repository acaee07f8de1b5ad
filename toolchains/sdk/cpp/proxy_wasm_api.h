// proxy-wasm C++ SDK (wasmbuild's offline edition): the API filters program against.
//
// Written from the Proxy-Wasm ABI specification. The names, signatures and semantics follow the
// upstream proxy-wasm-cpp-sdk, so a filter builds against either SDK by changing one dependency
// line. Where this SDK differs it says so next to the declaration ("wasmbuild:").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"
#include "proxy_wasm_externs.h"

#ifdef PROXY_WASM_PROTOBUF
#include "google/protobuf/message_lite.h"
#endif

// Context has both onRequestHeaders(uint32_t) (the pre-0.2 form older filters override) and
// onRequestHeaders(uint32_t, bool); a filter overriding one of them hides the other by design.
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

#define WASM_EXCEPTIONS 0

// Aliases of the 2020 API, kept so older filters compile.
using StringView = std::string_view;
template <typename T> using Optional = std::optional<T>;

// ---------------------------------------------------------------------------------------------
// String helpers.

template <typename T> inline std::string toString(T t) { return std::to_string(t); }
template <> inline std::string toString(std::string_view t) { return std::string(t); }
template <> inline std::string toString(const char *t) { return std::string(t); }
template <> inline std::string toString(std::string t) { return t; }
template <> inline std::string toString(bool t) { return t ? "true" : "false"; }

template <typename T> struct StringToStringView {
  typedef T type;
};
template <> struct StringToStringView<std::string> {
  typedef std::string_view type;
};

struct PairHash {
  template <typename T, typename U> std::size_t operator()(const std::pair<T, U> &x) const {
    return std::hash<T>()(x.first) + std::hash<U>()(x.second);
  }
};

struct Tuple3Hash {
  template <typename T, typename U, typename V> std::size_t operator()(const std::tuple<T, U, V> &x) const {
    return std::hash<T>()(std::get<0>(x)) + std::hash<U>()(std::get<1>(x)) + std::hash<V>()(std::get<2>(x));
  }
};

using HeaderStringPairs = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------------
// Logging.

inline WasmResult logTrace(std::string_view message) {
  return proxy_log(LogLevel::trace, message.data(), message.size());
}
inline WasmResult logDebug(std::string_view message) {
  return proxy_log(LogLevel::debug, message.data(), message.size());
}
inline WasmResult logInfo(std::string_view message) { return proxy_log(LogLevel::info, message.data(), message.size()); }
inline WasmResult logWarn(std::string_view message) { return proxy_log(LogLevel::warn, message.data(), message.size()); }
inline WasmResult logError(std::string_view message) {
  return proxy_log(LogLevel::error, message.data(), message.size());
}
inline WasmResult logCritical(std::string_view message) {
  return proxy_log(LogLevel::critical, message.data(), message.size());
}
// wasmbuild: traps (wasm `unreachable`) where upstream calls abort(): under emscripten abort()
// becomes WASI proc_exit, which Envoy logs and returns from instead of stopping the filter.
[[noreturn]] inline void logAbort(std::string_view message) {
  logCritical(message);
  __builtin_trap();
}

// LOG_INFO("text " + std::to_string(n)) logs "[file:line]::function() text n". The argument is
// appended to a std::string, so it must be a std::string or a C string expression.
#define LOG(_level, ...)                                                                                               \
  log##_level(std::string("[") + __FILE__ + ":" + std::to_string(__LINE__) + "]::" + __FUNCTION__ + "() " +           \
              __VA_ARGS__)
#define LOG_TRACE(...) LOG(Trace, __VA_ARGS__)
#define LOG_DEBUG(...) LOG(Debug, __VA_ARGS__)
#define LOG_INFO(...) LOG(Info, __VA_ARGS__)
#define LOG_WARN(...) LOG(Warn, __VA_ARGS__)
#define LOG_ERROR(...) LOG(Error, __VA_ARGS__)
#define LOG_CRITICAL(...) LOG(Critical, __VA_ARGS__)

// Evaluates a WasmResult expression; anything but Ok logs the expression at critical and traps.
#define CHECK_RESULT(_c)                                                                                               \
  do {                                                                                                                 \
    if ((_c) != WasmResult::Ok) {                                                                                      \
      proxy_log(LogLevel::critical, #_c, sizeof(#_c) - 1);                                                             \
      __builtin_trap();                                                                                                \
    }                                                                                                                  \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Header-map serialization (the ABI's pairs format): u32 count, count x (u32 key size, u32 value
// size), then each key and value followed by a NUL byte. Little-endian, as wasm memory is.

template <typename Pairs> size_t pairsSize(const Pairs &pairs) {
  size_t size = 4;
  for (const auto &p : pairs) {
    size += 8 + p.first.size() + 1 + p.second.size() + 1;
  }
  return size;
}

template <typename Pairs> void marshalPairs(const Pairs &pairs, char *buffer) {
  char *b = buffer;
  uint32_t word = static_cast<uint32_t>(pairs.size());
  memcpy(b, &word, sizeof(word));
  b += sizeof(word);
  for (const auto &p : pairs) {
    word = static_cast<uint32_t>(p.first.size());
    memcpy(b, &word, sizeof(word));
    b += sizeof(word);
    word = static_cast<uint32_t>(p.second.size());
    memcpy(b, &word, sizeof(word));
    b += sizeof(word);
  }
  for (const auto &p : pairs) {
    memcpy(b, p.first.data(), p.first.size());
    b += p.first.size();
    *b++ = 0;
    memcpy(b, p.second.data(), p.second.size());
    b += p.second.size();
    *b++ = 0;
  }
}

// Serializes into a malloc'ed buffer the caller frees; an empty list gives nullptr/0.
template <typename Pairs> void exportPairs(const Pairs &pairs, const char **ptr, size_t *size_ptr) {
  if (pairs.empty()) {
    *ptr = nullptr;
    *size_ptr = 0;
    return;
  }
  size_t size = pairsSize(pairs);
  char *buffer = static_cast<char *>(::malloc(size));
  marshalPairs(pairs, buffer);
  *ptr = buffer;
  *size_ptr = size;
}

inline void MakeHeaderStringPairsBuffer(const HeaderStringPairs &headers, void **buffer_ptr, size_t *size_ptr) {
  const char *ptr = nullptr;
  exportPairs(headers, &ptr, size_ptr);
  *buffer_ptr = const_cast<char *>(ptr);
}

namespace proxy_wasm_sdk {
// The serialized form of a pairs list, owned; empty lists serialize to nothing (nullptr/0 on the
// wire, which hosts read as an empty map).
template <typename Pairs> inline std::string serializePairs(const Pairs &pairs) {
  std::string out;
  if (!pairs.empty()) {
    out.resize(pairsSize(pairs));
    marshalPairs(pairs, &out[0]);
  }
  return out;
}
inline const char *dataOrNull(const std::string &s) { return s.empty() ? nullptr : s.data(); }

// Decodes a serialized map. A malformed buffer (short, overlong counts, missing NULs, trailing
// bytes) decodes to an empty list rather than reading out of bounds.
inline std::vector<std::pair<std::string_view, std::string_view>> parsePairs(const char *data, size_t size) {
  std::vector<std::pair<std::string_view, std::string_view>> result;
  if (data == nullptr || size < 4) {
    return result;
  }
  uint32_t count;
  memcpy(&count, data, 4);
  if (count > (size - 4) / 8) {
    return result;
  }
  size_t pos = 4 + static_cast<size_t>(count) * 8;
  result.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t sizes[2];
    memcpy(sizes, data + 4 + i * 8, 8);
    std::string_view parts[2];
    for (int j = 0; j < 2; j++) {
      if (sizes[j] >= size - pos || data[pos + sizes[j]] != 0) {
        return {};
      }
      parts[j] = std::string_view(data + pos, sizes[j]);
      pos += sizes[j] + 1;
    }
    result.emplace_back(parts[0], parts[1]);
  }
  if (pos != size) {
    return {};
  }
  return result;
}
} // namespace proxy_wasm_sdk

// ---------------------------------------------------------------------------------------------
// WasmData: bytes the host copied into this module (allocated through its exported malloc).

class WasmData {
public:
  // Takes ownership of `data`, which must come from malloc (or be nullptr).
  WasmData(const char *data, size_t size) : data_(data), size_(size) {}
  ~WasmData() { ::free(const_cast<char *>(data_)); }
  WasmData(const WasmData &) = delete;
  WasmData &operator=(const WasmData &) = delete;

  // nullptr when the host returned nothing (for example a missing header).
  const char *data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  std::string toString() const { return std::string(view()); }
  // The decoded header map; the views point into this object.
  std::vector<std::pair<std::string_view, std::string_view>> pairs() const {
    return proxy_wasm_sdk::parsePairs(data_, size_);
  }
  template <typename T> T proto() const {
    T p;
    p.ParseFromArray(data_, size_);
    return p;
  }

private:
  const char *data_;
  size_t size_;
};
typedef std::unique_ptr<WasmData> WasmDataPtr;

// ---------------------------------------------------------------------------------------------
// Properties, time, status.

// wasmbuild: the path is sent as the spec writes it (segments joined by NUL, no trailing NUL).
template <typename Iterable> inline std::string makePropertyPath(const Iterable &parts) {
  std::string path;
  bool first = true;
  for (const auto &part : parts) {
    if (!first) {
      path.push_back('\0');
    }
    path.append(part.data(), part.size());
    first = false;
  }
  return path;
}

namespace proxy_wasm_sdk {
inline std::optional<WasmDataPtr> getPropertyPath(const std::string &path) {
  const char *value = nullptr;
  size_t value_size = 0;
  if (proxy_get_property(path.data(), path.size(), &value, &value_size) != WasmResult::Ok) {
    return {};
  }
  return std::make_unique<WasmData>(value, value_size);
}
template <typename T> inline bool copyValue(std::optional<WasmDataPtr> value, T *out) {
  if (!value || value.value()->size() != sizeof(T)) {
    return false;
  }
  memcpy(out, value.value()->data(), sizeof(T));
  return true;
}
inline bool copyString(std::optional<WasmDataPtr> value, std::string *out) {
  if (!value) {
    return false;
  }
  out->assign(value.value()->data() ? value.value()->data() : "", value.value()->size());
  return true;
}
} // namespace proxy_wasm_sdk

inline std::optional<WasmDataPtr> getProperty(const std::initializer_list<std::string_view> &parts) {
  return proxy_wasm_sdk::getPropertyPath(makePropertyPath(parts));
}
template <typename S> inline std::optional<WasmDataPtr> getProperty(const std::vector<S> &parts) {
  return proxy_wasm_sdk::getPropertyPath(makePropertyPath(parts));
}

// Numeric values (int64, uint64, double, bool): true only when the size matches sizeof(T).
template <typename T> inline bool getValue(const std::initializer_list<std::string_view> &parts, T *out) {
  return proxy_wasm_sdk::copyValue(getProperty(parts), out);
}
template <> inline bool getValue<std::string>(const std::initializer_list<std::string_view> &parts, std::string *out) {
  return proxy_wasm_sdk::copyString(getProperty(parts), out);
}
template <typename S, typename T> inline bool getValue(const std::vector<S> &parts, T *out) {
  return proxy_wasm_sdk::copyValue(getProperty(parts), out);
}
template <> inline bool getValue<std::string, std::string>(const std::vector<std::string> &parts, std::string *out) {
  return proxy_wasm_sdk::copyString(getProperty(parts), out);
}
template <>
inline bool getValue<std::string_view, std::string>(const std::vector<std::string_view> &parts, std::string *out) {
  return proxy_wasm_sdk::copyString(getProperty(parts), out);
}

#ifdef PROXY_WASM_PROTOBUF
// An empty value is a null message and counts as success.
template <typename T> inline bool getMessageValue(const std::initializer_list<std::string_view> &parts, T *value_ptr) {
  auto value = getProperty(parts);
  if (!value) {
    return false;
  }
  if (value.value()->size() == 0) {
    value_ptr = nullptr;
    return true;
  }
  return value_ptr->ParseFromArray(value.value()->data(), value.value()->size());
}
template <typename S, typename T> inline bool getMessageValue(const std::vector<S> &parts, T *value_ptr) {
  auto value = getProperty(parts);
  if (!value) {
    return false;
  }
  if (value.value()->size() == 0) {
    value_ptr = nullptr;
    return true;
  }
  return value_ptr->ParseFromArray(value.value()->data(), value.value()->size());
}
#endif

inline WasmResult setFilterState(std::string_view key, std::string_view value) {
  return proxy_set_property(key.data(), key.size(), value.data(), value.size());
}
inline WasmResult setFilterStateStringValue(std::string_view key, std::string_view s) {
  return setFilterState(key, s);
}

inline uint64_t getCurrentTimeNanoseconds() {
  uint64_t t = 0;
  CHECK_RESULT(proxy_get_current_time_nanoseconds(&t));
  return t;
}

inline std::pair<uint32_t, WasmDataPtr> getStatus() {
  uint32_t code = 0;
  const char *message = nullptr;
  size_t message_size = 0;
  CHECK_RESULT(proxy_get_status(&code, &message, &message_size));
  return std::make_pair(code, std::make_unique<WasmData>(message, message_size));
}

// wasmbuild: upstream has no wrapper for the timer; plugins there call the extern directly.
inline WasmResult setTickPeriodMilliseconds(uint32_t millisecond) {
  return proxy_set_tick_period_milliseconds(millisecond);
}

// ---------------------------------------------------------------------------------------------
// Stream control.

#if PROXY_WASM_ABI_VERSION >= 20
inline WasmResult continueRequest() { return proxy_continue_stream(WasmStreamType::Request); }
inline WasmResult continueResponse() { return proxy_continue_stream(WasmStreamType::Response); }
inline WasmResult continueDownstream() { return proxy_continue_stream(WasmStreamType::Downstream); }
inline WasmResult continueUpstream() { return proxy_continue_stream(WasmStreamType::Upstream); }
inline WasmResult closeRequest() { return proxy_close_stream(WasmStreamType::Request); }
inline WasmResult closeResponse() { return proxy_close_stream(WasmStreamType::Response); }
inline WasmResult closeDownstream() { return proxy_close_stream(WasmStreamType::Downstream); }
inline WasmResult closeUpstream() { return proxy_close_stream(WasmStreamType::Upstream); }
#else
inline WasmResult continueRequest() { return proxy_continue_request(); }
inline WasmResult continueResponse() { return proxy_continue_response(); }
inline WasmResult continueDownstream() { return WasmResult::Unimplemented; }
inline WasmResult continueUpstream() { return WasmResult::Unimplemented; }
inline WasmResult closeRequest() { return WasmResult::Unimplemented; }
inline WasmResult closeResponse() { return WasmResult::Unimplemented; }
inline WasmResult closeDownstream() { return WasmResult::Unimplemented; }
inline WasmResult closeUpstream() { return WasmResult::Unimplemented; }
inline WasmResult clearRouteCache() { return proxy_clear_route_cache(); }
#endif

// grpc_status InvalidCode (-1) means a plain HTTP reply.
inline WasmResult sendLocalResponse(uint32_t response_code, std::string_view response_code_details,
                                    std::string_view body, const HeaderStringPairs &additional_response_headers,
                                    GrpcStatus grpc_status = GrpcStatus::InvalidCode) {
  std::string headers = proxy_wasm_sdk::serializePairs(additional_response_headers);
  return proxy_send_local_response(response_code, response_code_details.data(), response_code_details.size(),
                                   body.data(), body.size(), proxy_wasm_sdk::dataOrNull(headers), headers.size(),
                                   static_cast<uint32_t>(grpc_status));
}

// ---------------------------------------------------------------------------------------------
// Shared data and shared queues.

// Sets *value only on Ok; a missing key returns NotFound.
inline WasmResult getSharedData(std::string_view key, WasmDataPtr *value, uint32_t *cas = nullptr) {
  uint32_t dummy_cas = 0;
  const char *data = nullptr;
  size_t size = 0;
  if (cas == nullptr) {
    cas = &dummy_cas;
  }
  WasmResult result = proxy_get_shared_data(key.data(), key.size(), &data, &size, cas);
  if (result != WasmResult::Ok) {
    return result;
  }
  *value = std::make_unique<WasmData>(data, size);
  return WasmResult::Ok;
}

// cas 0 writes unconditionally; otherwise the host answers CasMismatch if the value moved on.
inline WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas = 0) {
  return proxy_set_shared_data(key.data(), key.size(), value.data(), value.size(), cas);
}

inline WasmDataPtr getSharedDataValue(std::string_view key, uint32_t *cas = nullptr) {
  WasmDataPtr data;
  WasmResult result = getSharedData(key, &data, cas);
  if (result != WasmResult::Ok) {
    logAbort("getSharedData returned WasmError: " + toString(result));
  }
  return data;
}

inline WasmResult registerSharedQueue(std::string_view queue_name, uint32_t *token) {
  return proxy_register_shared_queue(queue_name.data(), queue_name.size(), token);
}

inline WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view queue_name, uint32_t *token) {
  return proxy_resolve_shared_queue(vm_id.data(), vm_id.size(), queue_name.data(), queue_name.size(), token);
}

inline WasmResult enqueueSharedQueue(uint32_t token, std::string_view data) {
  return proxy_enqueue_shared_queue(token, data.data(), data.size());
}

// Always sets *data (empty on Empty/NotFound) and returns the host's status.
inline WasmResult dequeueSharedQueue(uint32_t token, WasmDataPtr *data) {
  const char *data_ptr = nullptr;
  size_t data_size = 0;
  WasmResult result = proxy_dequeue_shared_queue(token, &data_ptr, &data_size);
  *data = std::make_unique<WasmData>(data_ptr, data_size);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Header maps.

inline WasmResult addHeaderMapValue(WasmHeaderMapType type, std::string_view key, std::string_view value) {
  return proxy_add_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}

// Never null: a missing header gives data() == nullptr and size() == 0.
inline WasmDataPtr getHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  const char *value = nullptr;
  size_t value_size = 0;
  if (proxy_get_header_map_value(type, key.data(), key.size(), &value, &value_size) != WasmResult::Ok) {
    value = nullptr;
    value_size = 0;
  }
  return std::make_unique<WasmData>(value, value_size);
}

// Sets the header, adding it when absent.
inline WasmResult replaceHeaderMapValue(WasmHeaderMapType type, std::string_view key, std::string_view value) {
  return proxy_replace_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}

inline WasmResult removeHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  return proxy_remove_header_map_value(type, key.data(), key.size());
}

// Never null; decode with ->pairs().
inline WasmDataPtr getHeaderMapPairs(WasmHeaderMapType type) {
  const char *pairs = nullptr;
  size_t pairs_size = 0;
  if (proxy_get_header_map_pairs(type, &pairs, &pairs_size) != WasmResult::Ok) {
    pairs = nullptr;
    pairs_size = 0;
  }
  return std::make_unique<WasmData>(pairs, pairs_size);
}

inline WasmResult setHeaderMapPairs(WasmHeaderMapType type, const HeaderStringPairs &pairs) {
  std::string buffer = proxy_wasm_sdk::serializePairs(pairs);
  return proxy_set_header_map_pairs(type, proxy_wasm_sdk::dataOrNull(buffer), buffer.size());
}

// The host's size of the map (the serialized size in bytes on Envoy).
inline WasmResult getHeaderMapSize(WasmHeaderMapType type, size_t *size) {
  return proxy_get_header_map_size(type, size);
}

// Typed wrappers: addRequestHeader, getRequestHeader, replaceRequestHeader, removeRequestHeader,
// getRequestHeaderPairs, setRequestHeaderPairs, getRequestHeaderSize, and the same for
// RequestTrailer, ResponseHeader and ResponseTrailer.
#define PROXY_WASM_MAP_WRAPPERS(_Name, _map)                                                                           \
  inline WasmResult add##_Name(std::string_view key, std::string_view value) {                                         \
    return addHeaderMapValue(WasmHeaderMapType::_map, key, value);                                                     \
  }                                                                                                                    \
  inline WasmDataPtr get##_Name(std::string_view key) { return getHeaderMapValue(WasmHeaderMapType::_map, key); }      \
  inline WasmResult replace##_Name(std::string_view key, std::string_view value) {                                     \
    return replaceHeaderMapValue(WasmHeaderMapType::_map, key, value);                                                 \
  }                                                                                                                    \
  inline WasmResult remove##_Name(std::string_view key) { return removeHeaderMapValue(WasmHeaderMapType::_map, key); } \
  inline WasmDataPtr get##_Name##Pairs() { return getHeaderMapPairs(WasmHeaderMapType::_map); }                        \
  inline WasmResult set##_Name##Pairs(const HeaderStringPairs &pairs) {                                                \
    return setHeaderMapPairs(WasmHeaderMapType::_map, pairs);                                                          \
  }                                                                                                                    \
  inline WasmResult get##_Name##Size(size_t *size) { return getHeaderMapSize(WasmHeaderMapType::_map, size); }

PROXY_WASM_MAP_WRAPPERS(RequestHeader, RequestHeaders)
PROXY_WASM_MAP_WRAPPERS(RequestTrailer, RequestTrailers)
PROXY_WASM_MAP_WRAPPERS(ResponseHeader, ResponseHeaders)
PROXY_WASM_MAP_WRAPPERS(ResponseTrailer, ResponseTrailers)
#undef PROXY_WASM_MAP_WRAPPERS

// ---------------------------------------------------------------------------------------------
// Buffers.

// An error gives an empty WasmData (never null).
inline WasmDataPtr getBufferBytes(WasmBufferType type, size_t start, size_t length) {
  const char *data = nullptr;
  size_t size = 0;
#if PROXY_WASM_ABI_VERSION < 20
  // ABI 0.1.0 has no configuration buffers: serve them from proxy_get_configuration.
  if (type == WasmBufferType::PluginConfiguration || type == WasmBufferType::VmConfiguration) {
    if (proxy_get_configuration(&data, &size) != WasmResult::Ok || start >= size) {
      ::free(const_cast<char *>(data));
      return std::make_unique<WasmData>(nullptr, 0);
    }
    size_t n = size - start < length ? size - start : length;
    if (start > 0) {
      memmove(const_cast<char *>(data), data + start, n);
    }
    return std::make_unique<WasmData>(data, n);
  }
#endif
  if (proxy_get_buffer_bytes(type, static_cast<uint32_t>(start), static_cast<uint32_t>(length), &data, &size) !=
      WasmResult::Ok) {
    data = nullptr;
    size = 0;
  }
  return std::make_unique<WasmData>(data, size);
}

inline WasmResult getBufferStatus(WasmBufferType type, size_t *size, uint32_t *flags) {
  return proxy_get_buffer_status(type, size, flags);
}

// Replaces `length` bytes at `start` with `data`; on Ok adjusts *new_size when given.
inline WasmResult setBuffer(WasmBufferType type, size_t start, size_t length, std::string_view data,
                            size_t *new_size = nullptr) {
  WasmResult result = proxy_set_buffer_bytes(type, static_cast<uint32_t>(start), static_cast<uint32_t>(length),
                                             data.data(), data.size());
  if (result == WasmResult::Ok && new_size != nullptr) {
    *new_size = *new_size - length + data.size();
  }
  return result;
}

// The whole plugin configuration (the API of 2020; today's filters call
// getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size) in onConfigure).
inline WasmDataPtr getConfiguration() { return getBufferBytes(WasmBufferType::PluginConfiguration, 0, UINT32_MAX); }

// ---------------------------------------------------------------------------------------------
// HTTP and gRPC callouts (low level; RootContext::httpCall and friends wrap them).

inline WasmResult makeHttpCall(std::string_view uri, const HeaderStringPairs &request_headers,
                               std::string_view request_body, const HeaderStringPairs &request_trailers,
                               uint32_t timeout_milliseconds, uint32_t *token_ptr) {
  std::string headers = proxy_wasm_sdk::serializePairs(request_headers);
  std::string trailers = proxy_wasm_sdk::serializePairs(request_trailers);
  return proxy_http_call(uri.data(), uri.size(), proxy_wasm_sdk::dataOrNull(headers), headers.size(),
                         request_body.data(), request_body.size(), proxy_wasm_sdk::dataOrNull(trailers),
                         trailers.size(), timeout_milliseconds, token_ptr);
}

inline WasmResult grpcCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                           const HeaderStringPairs &initial_metadata, std::string_view request,
                           uint32_t timeout_milliseconds, uint32_t *token_ptr) {
  std::string metadata = proxy_wasm_sdk::serializePairs(initial_metadata);
  return proxy_grpc_call(service.data(), service.size(), service_name.data(), service_name.size(),
                         method_name.data(), method_name.size(), proxy_wasm_sdk::dataOrNull(metadata),
                         metadata.size(), request.data(), request.size(), timeout_milliseconds, token_ptr);
}

inline WasmResult grpcStream(std::string_view service, std::string_view service_name, std::string_view method_name,
                             const HeaderStringPairs &initial_metadata, uint32_t *token_ptr) {
  std::string metadata = proxy_wasm_sdk::serializePairs(initial_metadata);
  return proxy_grpc_stream(service.data(), service.size(), service_name.data(), service_name.size(),
                           method_name.data(), method_name.size(), proxy_wasm_sdk::dataOrNull(metadata),
                           metadata.size(), token_ptr);
}

inline WasmResult grpcCancel(uint32_t token) { return proxy_grpc_cancel(token); }
inline WasmResult grpcClose(uint32_t token) { return proxy_grpc_close(token); }
inline WasmResult grpcSend(uint32_t token, std::string_view message, bool end_stream) {
  return proxy_grpc_send(token, message.data(), message.size(), end_stream ? 1 : 0);
}

#ifdef PROXY_WASM_PROTOBUF
inline WasmResult grpcCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                           const HeaderStringPairs &initial_metadata, const google::protobuf::MessageLite &request,
                           uint32_t timeout_milliseconds, uint32_t *token_ptr) {
  std::string serialized;
  if (!request.SerializeToString(&serialized)) {
    return WasmResult::SerializationFailure;
  }
  return grpcCall(service, service_name, method_name, initial_metadata, serialized, timeout_milliseconds, token_ptr);
}
#endif

// ---------------------------------------------------------------------------------------------
// Metrics (low level).

inline WasmResult defineMetric(MetricType type, std::string_view name, uint32_t *metric_id) {
  return proxy_define_metric(type, name.data(), name.size(), metric_id);
}
inline WasmResult incrementMetric(uint32_t metric_id, int64_t offset) {
  return proxy_increment_metric(metric_id, offset);
}
inline WasmResult recordMetric(uint32_t metric_id, uint64_t value) { return proxy_record_metric(metric_id, value); }
inline WasmResult getMetric(uint32_t metric_id, uint64_t *value) { return proxy_get_metric(metric_id, value); }

// ---------------------------------------------------------------------------------------------
// Contexts.

class RootContext;
class Context;
class GrpcCallHandlerBase;
class GrpcStreamHandlerBase;

class ContextBase {
public:
  explicit ContextBase(uint32_t id) : id_(id) {}
  virtual ~ContextBase() = default;

  uint32_t id() const { return id_; }
  // Makes later host calls act on this context (for example from a callout callback).
  WasmResult setEffectiveContext() { return proxy_set_effective_context(id_); }

  virtual RootContext *asRoot() { return nullptr; }
  virtual Context *asContext() { return nullptr; }

  // Called right after construction.
  virtual void onCreate() {}
  virtual bool onDoneBase() = 0;
  // Called after onDone, before onDelete.
  virtual void onLog() {}
  // The last call; the object is destroyed right after.
  virtual void onDelete() {}
  // Arguments are in getBufferBytes(WasmBufferType::CallData, 0, data_size).
  virtual void onForeignFunction(uint32_t /* foreign_function_id */, uint32_t /* data_size */) {}

  WasmResult getLogLevel(LogLevel *level) {
#if PROXY_WASM_ABI_VERSION >= 21
    return proxy_get_log_level(level);
#else
    (void)level;
    return WasmResult::Unimplemented;
#endif
  }

  using HttpCallCallback = std::function<void(uint32_t num_headers, size_t body_size, uint32_t num_trailers)>;
  using GrpcSimpleCallCallback = std::function<void(GrpcStatus status, size_t body_size)>;

private:
  uint32_t id_;
};

// A unary gRPC call's handler (RootContext::grpcCallHandler owns it).
class GrpcCallHandlerBase {
public:
  GrpcCallHandlerBase() = default;
  virtual ~GrpcCallHandlerBase() = default;

  RootContext *context() { return context_; }
  uint32_t token() { return token_; }
  // Cancels the call and destroys this handler.
  void cancel();

  // The response is in getBufferBytes(WasmBufferType::GrpcReceiveBuffer, 0, body_size).
  virtual void onSuccess(size_t body_size) = 0;
  virtual void onFailure(GrpcStatus status) = 0;

private:
  friend class RootContext;
  RootContext *context_{nullptr};
  uint32_t token_{0};
};

template <typename Message> class GrpcCallHandler : public GrpcCallHandlerBase {
public:
  GrpcCallHandler() : GrpcCallHandlerBase() {}
  virtual ~GrpcCallHandler() = default;
  virtual void onSuccess(size_t body_size) = 0;
};

// A gRPC stream's handler (RootContext::grpcStreamHandler owns it until both sides closed).
class GrpcStreamHandlerBase {
public:
  GrpcStreamHandlerBase() = default;
  virtual ~GrpcStreamHandlerBase() = default;

  RootContext *context() { return context_; }
  uint32_t token() { return token_; }

  // end_of_stream closes the local side.
  WasmResult send(std::string_view message, bool end_of_stream);
  void close();
  // Cancels the stream and destroys this handler; no more callbacks arrive.
  void reset();

  virtual void onReceiveInitialMetadata(uint32_t /* headers */) {}
  virtual void onReceiveTrailingMetadata(uint32_t /* trailers */) {}
  virtual void onReceive(size_t body_size) = 0;
  virtual void onRemoteClose(GrpcStatus status) = 0;

protected:
  friend class RootContext;
  void doRemoteClose(GrpcStatus status);

  bool local_close_{false};
  bool remote_close_{false};
  RootContext *context_{nullptr};
  uint32_t token_{0};

private:
  // Marks the local side closed; destroys this handler if the remote side already closed.
  void doLocalClose();
};

template <typename Request, typename Response> class GrpcStreamHandler : public GrpcStreamHandlerBase {
public:
  GrpcStreamHandler() : GrpcStreamHandlerBase() {}
  virtual ~GrpcStreamHandler() = default;
#ifdef PROXY_WASM_PROTOBUF
  WasmResult send(const Request &message, bool end_of_stream) {
    std::string output;
    if (!message.SerializeToString(&output)) {
      return WasmResult::SerializationFailure;
    }
    GrpcStreamHandlerBase::send(output, end_of_stream);
    return WasmResult::Ok;
  }
#endif
  virtual void onReceive(size_t body_size) = 0;
};

// The plugin (root) context: one per plugin configuration; receives VM and plugin lifecycle
// callbacks, timers, queue notifications and every callout response.
class RootContext : public ContextBase {
public:
  RootContext(uint32_t id, std::string_view root_id) : ContextBase(id), root_id_(root_id) {}
  ~RootContext() override = default;

  std::string_view root_id() const { return root_id_; }
  RootContext *asRoot() override { return this; }
  Context *asContext() override { return nullptr; }

  virtual bool validateConfiguration(size_t /* configuration_size */) { return true; }
  // Read the configuration with getBufferBytes(WasmBufferType::PluginConfiguration, 0, size).
  // Returning false rejects it.
  virtual bool onConfigure(size_t /* configuration_size */) { return true; }
  // Read the VM configuration with getBufferBytes(WasmBufferType::VmConfiguration, 0, size).
  virtual bool onStart(size_t /* vm_configuration_size */) { return true; }
  // Called every period set with proxy_set_tick_period_milliseconds.
  virtual void onTick() {}
  virtual void onQueueReady(uint32_t /* token */) {}
  // Returning false means "I will call done() later".
  virtual bool onDone() { return true; }
  void done() { proxy_done(); }

  // The default dispatches to the callbacks registered by httpCall; overriding it disables them.
  // headers == 0 means the call failed or timed out.
  virtual void onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers);
  virtual void onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers);
  virtual void onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers);
  virtual void onGrpcReceive(uint32_t token, size_t body_size);
  virtual void onGrpcClose(uint32_t token, GrpcStatus status);

  // `uri` names the upstream cluster on Envoy. The callback runs on this root context; read the
  // response with getHeaderMapPairs(WasmHeaderMapType::HttpCallResponseHeaders) and
  // getBufferBytes(WasmBufferType::HttpCallResponseBody, 0, body_size).
  WasmResult httpCall(std::string_view uri, const HeaderStringPairs &request_headers, std::string_view request_body,
                      const HeaderStringPairs &request_trailers, uint32_t timeout_milliseconds,
                      HttpCallCallback callback);
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                            const HeaderStringPairs &initial_metadata, std::string_view request,
                            uint32_t timeout_milliseconds, GrpcSimpleCallCallback callback);
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                            const HeaderStringPairs &initial_metadata, std::string_view request,
                            uint32_t timeout_milliseconds, std::function<void(size_t body_size)> success_callback,
                            std::function<void(GrpcStatus status)> failure_callback) {
    auto callback = [success_callback, failure_callback](GrpcStatus status, size_t body_size) {
      if (status == GrpcStatus::Ok) {
        success_callback(body_size);
      } else {
        failure_callback(status);
      }
    };
    return grpcSimpleCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds,
                          callback);
  }
  WasmResult grpcCallHandler(std::string_view service, std::string_view service_name, std::string_view method_name,
                             const HeaderStringPairs &initial_metadata, std::string_view request,
                             uint32_t timeout_milliseconds, std::unique_ptr<GrpcCallHandlerBase> handler);
  WasmResult grpcStreamHandler(std::string_view service, std::string_view service_name,
                               std::string_view method_name, const HeaderStringPairs &initial_metadata,
                               std::unique_ptr<GrpcStreamHandlerBase> handler);
#ifdef PROXY_WASM_PROTOBUF
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                            const HeaderStringPairs &initial_metadata, const google::protobuf::MessageLite &request,
                            uint32_t timeout_milliseconds, GrpcSimpleCallCallback callback) {
    std::string serialized;
    if (!request.SerializeToString(&serialized)) {
      return WasmResult::SerializationFailure;
    }
    return grpcSimpleCall(service, service_name, method_name, initial_metadata, serialized, timeout_milliseconds,
                          callback);
  }
  WasmResult grpcCallHandler(std::string_view service, std::string_view service_name, std::string_view method_name,
                             const HeaderStringPairs &initial_metadata, const google::protobuf::MessageLite &request,
                             uint32_t timeout_milliseconds, std::unique_ptr<GrpcCallHandlerBase> handler) {
    std::string serialized;
    if (!request.SerializeToString(&serialized)) {
      return WasmResult::SerializationFailure;
    }
    return grpcCallHandler(service, service_name, method_name, initial_metadata, serialized, timeout_milliseconds,
                           std::move(handler));
  }
#endif

private:
  friend class GrpcCallHandlerBase;
  friend class GrpcStreamHandlerBase;
  bool onDoneBase() override { return onDone(); }

  const std::string root_id_;
  std::unordered_map<uint32_t, HttpCallCallback> http_calls_;
  std::unordered_map<uint32_t, GrpcSimpleCallCallback> simple_grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcCallHandlerBase>> grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcStreamHandlerBase>> grpc_streams_;
};

// A stream context: one per HTTP request or TCP connection.
class Context : public ContextBase {
public:
  Context(uint32_t id, RootContext *root) : ContextBase(id), root_(root) {}
  ~Context() override = default;

  RootContext *root() { return root_; }
  RootContext *asRoot() override { return nullptr; }
  Context *asContext() override { return this; }

  // TCP.
  virtual FilterStatus onNewConnection() { return FilterStatus::Continue; }
  virtual FilterStatus onDownstreamData(size_t /* data_size */, bool /* end_of_stream */) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onUpstreamData(size_t /* data_size */, bool /* end_of_stream */) {
    return FilterStatus::Continue;
  }
  virtual void onDownstreamConnectionClose(CloseType /* close_type */) {}
  virtual void onUpstreamConnectionClose(CloseType /* close_type */) {}

  // HTTP. The one-argument header callbacks are the pre-0.2 API: the two-argument form calls
  // them by default, so a filter may override either.
  virtual FilterHeadersStatus onRequestHeaders(uint32_t headers, bool /* end_of_stream */) {
    return onRequestHeaders(headers);
  }
  virtual FilterHeadersStatus onRequestHeaders(uint32_t /* headers */) { return FilterHeadersStatus::Continue; }
  virtual FilterMetadataStatus onRequestMetadata(uint32_t /* elements */) { return FilterMetadataStatus::Continue; }
  virtual FilterDataStatus onRequestBody(size_t /* body_buffer_length */, bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onRequestTrailers(uint32_t /* trailers */) { return FilterTrailersStatus::Continue; }
  virtual FilterHeadersStatus onResponseHeaders(uint32_t headers, bool /* end_of_stream */) {
    return onResponseHeaders(headers);
  }
  virtual FilterHeadersStatus onResponseHeaders(uint32_t /* headers */) { return FilterHeadersStatus::Continue; }
  virtual FilterMetadataStatus onResponseMetadata(uint32_t /* elements */) { return FilterMetadataStatus::Continue; }
  virtual FilterDataStatus onResponseBody(size_t /* body_buffer_length */, bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onResponseTrailers(uint32_t /* trailers */) { return FilterTrailersStatus::Continue; }
  // The stream finished (called before onLog and onDelete).
  virtual void onDone() {}

private:
  bool onDoneBase() override {
    onDone();
    return true;
  }

  RootContext *root_;
};

// ---------------------------------------------------------------------------------------------
// Registration: a static RegisterContextFactory at namespace scope ties context classes to a
// root_id (the plugin's root_id in the proxy configuration).

using RootFactory = std::function<std::unique_ptr<RootContext>(uint32_t id, std::string_view root_id)>;
using ContextFactory = std::function<std::unique_ptr<Context>(uint32_t id, RootContext *root)>;

struct RegisterContextFactory {
  RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory, std::string_view root_id = "");
  explicit RegisterContextFactory(RootFactory root_factory, std::string_view root_id = "");
  explicit RegisterContextFactory(ContextFactory context_factory, std::string_view root_id = "");
};

#define ROOT_FACTORY(_c)                                                                                               \
  [](uint32_t id, std::string_view root_id) -> std::unique_ptr<RootContext> {                                          \
    return std::make_unique<_c>(id, root_id);                                                                          \
  }
#define CONTEXT_FACTORY(_c)                                                                                            \
  [](uint32_t id, RootContext *root) -> std::unique_ptr<Context> { return std::make_unique<_c>(id, root); }

// Lookups (nullptr when absent or of the other kind).
RootContext *getRoot(std::string_view root_id);
Context *getContext(uint32_t context_id);
RootContext *getRootContext(uint32_t context_id);
ContextBase *getContextBase(uint32_t context_id);

// ---------------------------------------------------------------------------------------------
// RootContext and handler members that need the complete classes.

inline void GrpcCallHandlerBase::cancel() {
  grpcCancel(token_);
  if (context_ != nullptr) {
    context_->grpc_calls_.erase(token_); // destroys this
  }
}

inline WasmResult GrpcStreamHandlerBase::send(std::string_view message, bool end_of_stream) {
  WasmResult result = grpcSend(token_, message, end_of_stream);
  if (result != WasmResult::Ok) {
    return result;
  }
  if (end_of_stream) {
    doLocalClose();
  }
  return WasmResult::Ok;
}

inline void GrpcStreamHandlerBase::close() {
  grpcClose(token_);
  doLocalClose();
}

inline void GrpcStreamHandlerBase::doLocalClose() {
  local_close_ = true;
  if (remote_close_ && context_ != nullptr) {
    context_->grpc_streams_.erase(token_); // destroys this
  }
}

inline void GrpcStreamHandlerBase::reset() {
  grpcCancel(token_);
  if (context_ != nullptr) {
    context_->grpc_streams_.erase(token_); // destroys this
  }
}

inline void GrpcStreamHandlerBase::doRemoteClose(GrpcStatus status) {
  RootContext *context = context_;
  uint32_t token = token_;
  onRemoteClose(status);
  // onRemoteClose may have called reset(), which destroyed this handler: look it up again.
  if (context == nullptr) {
    return;
  }
  auto it = context->grpc_streams_.find(token);
  if (it == context->grpc_streams_.end() || it->second.get() != this) {
    return;
  }
  remote_close_ = true;
  if (local_close_) {
    context->grpc_streams_.erase(it); // destroys this
  }
}

inline WasmResult RootContext::httpCall(std::string_view uri, const HeaderStringPairs &request_headers,
                                        std::string_view request_body, const HeaderStringPairs &request_trailers,
                                        uint32_t timeout_milliseconds, HttpCallCallback callback) {
  uint32_t token = 0;
  WasmResult result =
      makeHttpCall(uri, request_headers, request_body, request_trailers, timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    http_calls_[token] = std::move(callback);
  }
  return result;
}

inline void RootContext::onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers) {
  auto it = http_calls_.find(token);
  if (it == http_calls_.end()) {
    return;
  }
  HttpCallCallback callback = std::move(it->second);
  http_calls_.erase(it);
  if (callback) {
    callback(headers, body_size, trailers);
  }
}

inline WasmResult RootContext::grpcSimpleCall(std::string_view service, std::string_view service_name,
                                              std::string_view method_name, const HeaderStringPairs &initial_metadata,
                                              std::string_view request, uint32_t timeout_milliseconds,
                                              GrpcSimpleCallCallback callback) {
  uint32_t token = 0;
  WasmResult result =
      grpcCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    simple_grpc_calls_[token] = std::move(callback);
  }
  return result;
}

inline WasmResult RootContext::grpcCallHandler(std::string_view service, std::string_view service_name,
                                               std::string_view method_name,
                                               const HeaderStringPairs &initial_metadata, std::string_view request,
                                               uint32_t timeout_milliseconds,
                                               std::unique_ptr<GrpcCallHandlerBase> handler) {
  uint32_t token = 0;
  WasmResult result =
      grpcCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_calls_[token] = std::move(handler);
  }
  return result;
}

inline WasmResult RootContext::grpcStreamHandler(std::string_view service, std::string_view service_name,
                                                 std::string_view method_name,
                                                 const HeaderStringPairs &initial_metadata,
                                                 std::unique_ptr<GrpcStreamHandlerBase> handler) {
  uint32_t token = 0;
  WasmResult result = grpcStream(service, service_name, method_name, initial_metadata, &token);
  if (result == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_streams_[token] = std::move(handler);
  }
  return result;
}

inline void RootContext::onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) {
    it->second->onReceiveInitialMetadata(headers);
  }
}

inline void RootContext::onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) {
    it->second->onReceiveTrailingMetadata(trailers);
  }
}

inline void RootContext::onGrpcReceive(uint32_t token, size_t body_size) {
  auto simple = simple_grpc_calls_.find(token);
  if (simple != simple_grpc_calls_.end()) {
    GrpcSimpleCallCallback callback = std::move(simple->second);
    simple_grpc_calls_.erase(simple);
    callback(GrpcStatus::Ok, body_size);
    return;
  }
  auto call = grpc_calls_.find(token);
  if (call != grpc_calls_.end()) {
    std::unique_ptr<GrpcCallHandlerBase> handler = std::move(call->second);
    grpc_calls_.erase(call);
    handler->onSuccess(body_size);
    return;
  }
  auto stream = grpc_streams_.find(token);
  if (stream != grpc_streams_.end()) {
    stream->second->onReceive(body_size);
  }
}

inline void RootContext::onGrpcClose(uint32_t token, GrpcStatus status) {
  auto simple = simple_grpc_calls_.find(token);
  if (simple != simple_grpc_calls_.end()) {
    GrpcSimpleCallCallback callback = std::move(simple->second);
    simple_grpc_calls_.erase(simple);
    callback(status, 0);
    return;
  }
  auto call = grpc_calls_.find(token);
  if (call != grpc_calls_.end()) {
    std::unique_ptr<GrpcCallHandlerBase> handler = std::move(call->second);
    grpc_calls_.erase(call);
    handler->onFailure(status);
    return;
  }
  auto stream = grpc_streams_.find(token);
  if (stream != grpc_streams_.end()) {
    stream->second->doRemoteClose(status);
  }
}

// ---------------------------------------------------------------------------------------------
// Metric helpers: names built from tags, ids defined on first use and cached.
//
// Full name = prefix + sum(tag name + value_separator + value + field_separator) + name, e.g.
// Counter<std::string, int>("requests", "service", "code") resolved with ("foo", 200) names
// "service.foo.code.200.requests".

struct MetricTag {
  enum class TagType : uint32_t {
    String = 0,
    Int = 1,
    Bool = 2,
  };
  std::string name;
  TagType tagType;
};

struct MetricBase {
  MetricBase(MetricType t, const std::string &n) : type(t), name(n) {}
  MetricBase(MetricType t, const std::string &n, const std::vector<MetricTag> &ts) : type(t), name(n), tags(ts) {}
  MetricBase(MetricType t, const std::string &n, const std::vector<MetricTag> &ts, std::string fs, std::string vs)
      : type(t), name(n), tags(ts), field_separator(std::move(fs)), value_separator(std::move(vs)) {}

  MetricType type;
  std::string name;
  std::string prefix;
  std::vector<MetricTag> tags;
  std::unordered_map<std::string, uint32_t> metric_ids;
  std::string field_separator = ".";
  std::string value_separator = ".";

  std::string prefixWithFields(const std::vector<std::string> &fields) {
    size_t n = std::min(fields.size(), tags.size());
    std::string s;
    for (size_t i = 0; i < n; i++) {
      s += tags[i].name + value_separator + fields[i] + field_separator;
    }
    return s;
  }
  uint32_t resolveFullName(const std::string &n) {
    auto it = metric_ids.find(n);
    if (it != metric_ids.end()) {
      return it->second;
    }
    uint32_t metric_id = 0;
    CHECK_RESULT(defineMetric(type, n, &metric_id));
    metric_ids[n] = metric_id;
    return metric_id;
  }
  uint32_t resolveWithFields(const std::vector<std::string> &fields) {
    if (fields.size() != tags.size()) {
      logAbort("metric fields.size() != tags.size()");
    }
    return resolveFullName(prefix + prefixWithFields(fields) + name);
  }
  void partiallyResolveWithFields(const std::vector<std::string> &fields) {
    if (fields.size() >= tags.size()) {
      logAbort("metric fields.size() >= tags.size()");
    }
    prefix = prefixWithFields(fields);
    tags.erase(tags.begin(), tags.begin() + static_cast<std::ptrdiff_t>(fields.size()));
  }
  std::string nameFromIdSlow(uint32_t id) {
    for (const auto &p : metric_ids) {
      if (p.second == id) {
        return p.first;
      }
    }
    return "";
  }
};

struct Metric : public MetricBase {
  Metric(MetricType t, const std::string &n) : MetricBase(t, n) {}
  Metric(MetricType t, const std::string &n, const std::vector<MetricTag> &ts) : MetricBase(t, n, ts) {}
  Metric(MetricType t, const std::string &n, const std::vector<MetricTag> &ts, std::string fs, std::string vs)
      : MetricBase(t, n, ts, std::move(fs), std::move(vs)) {}

  template <typename... Fields> void increment(int64_t offset, Fields... tags) {
    incrementMetric(resolveWithFields({toString(tags)...}), offset);
  }
  template <typename... Fields> void record(uint64_t value, Fields... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), value);
  }
  template <typename... Fields> uint64_t get(Fields... tags) {
    uint64_t value = 0;
    getMetric(resolveWithFields({toString(tags)...}), &value);
    return value;
  }
  template <typename... Fields> uint32_t resolve(Fields... tags) {
    return resolveWithFields({toString(tags)...});
  }
  template <typename... Fields> Metric partiallyResolve(Fields... tags) {
    Metric partial = *this;
    partial.partiallyResolveWithFields({toString(tags)...});
    return partial;
  }
};

template <typename T> struct MetricTagDescriptor {
  MetricTagDescriptor(std::string_view n) : name(n) {}
  MetricTagDescriptor(const char *n) : name(n) {}
  typedef T type;
  std::string_view name;
};

template <typename T> inline MetricTag toMetricTag(const MetricTagDescriptor<T> &) { return {}; }
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<const char *> &d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<std::string> &d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<std::string_view> &d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<int> &d) {
  return {std::string(d.name), MetricTag::TagType::Int};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<bool> &d) {
  return {std::string(d.name), MetricTag::TagType::Bool};
}

struct SimpleCounter {
  SimpleCounter(uint32_t id) : metric_id(id) {}
  // Records (not increments) the offset, as upstream does.
  void increment(int64_t offset) { recordMetric(metric_id, static_cast<uint64_t>(offset)); }
  void record(int64_t offset) { increment(offset); }
  uint64_t get() {
    uint64_t value = 0;
    getMetric(metric_id, &value);
    return value;
  }
  void operator++() { increment(1); }
  void operator++(int) { increment(1); }
  uint32_t metric_id;
};

struct SimpleGauge {
  SimpleGauge(uint32_t id) : metric_id(id) {}
  void record(uint64_t offset) { recordMetric(metric_id, offset); }
  uint64_t get() {
    uint64_t value = 0;
    getMetric(metric_id, &value);
    return value;
  }
  uint32_t metric_id;
};

struct SimpleHistogram {
  SimpleHistogram(uint32_t id) : metric_id(id) {}
  void record(int64_t offset) { recordMetric(metric_id, static_cast<uint64_t>(offset)); }
  uint32_t metric_id;
};

template <typename... Tags> struct Counter : public MetricBase {
  static Counter<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... fieldnames) {
    return new Counter<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(fieldnames)...});
  }
  template <typename... T>
  Counter(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Counter<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(descriptors)...}) {}

  SimpleCounter resolve(Tags... f) { return SimpleCounter(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Counter<AdditionalTags...> *extendAndResolve(Tags... f, MetricTagDescriptor<AdditionalTags>... fieldnames) {
    std::vector<MetricTag> new_tags = {toMetricTag(fieldnames)...};
    auto *c = new Counter<AdditionalTags...>(name, new_tags);
    c->prefix = prefix + prefixWithFields({toString(f)...});
    return c;
  }
  void increment(int64_t offset, Tags... tags) { incrementMetric(resolveWithFields({toString(tags)...}), offset); }
  void record(int64_t offset, Tags... tags) { increment(offset, tags...); }
  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    getMetric(resolveWithFields({toString(tags)...}), &value);
    return value;
  }

  Counter(const std::string &name, const std::vector<MetricTag> &tags)
      : MetricBase(MetricType::Counter, name, tags) {}
};

template <typename... Tags> struct Gauge : public MetricBase {
  static Gauge<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... fieldnames) {
    return new Gauge<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(fieldnames)...});
  }
  template <typename... T>
  Gauge(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Gauge<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(descriptors)...}) {}

  SimpleGauge resolve(Tags... f) { return SimpleGauge(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Gauge<AdditionalTags...> *extendAndResolve(Tags... f, MetricTagDescriptor<AdditionalTags>... fieldnames) {
    std::vector<MetricTag> new_tags = {toMetricTag(fieldnames)...};
    auto *g = new Gauge<AdditionalTags...>(name, new_tags);
    g->prefix = prefix + prefixWithFields({toString(f)...});
    return g;
  }
  void record(int64_t offset, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), static_cast<uint64_t>(offset));
  }
  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    getMetric(resolveWithFields({toString(tags)...}), &value);
    return value;
  }

  Gauge(const std::string &name, const std::vector<MetricTag> &tags) : MetricBase(MetricType::Gauge, name, tags) {}
};

template <typename... Tags> struct Histogram : public MetricBase {
  static Histogram<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... fieldnames) {
    return new Histogram<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(fieldnames)...});
  }
  template <typename... T>
  Histogram(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Histogram<Tags...>(std::string(name), std::vector<MetricTag>{toMetricTag(descriptors)...}) {}

  SimpleHistogram resolve(Tags... f) { return SimpleHistogram(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Histogram<AdditionalTags...> *extendAndResolve(Tags... f, MetricTagDescriptor<AdditionalTags>... fieldnames) {
    std::vector<MetricTag> new_tags = {toMetricTag(fieldnames)...};
    auto *h = new Histogram<AdditionalTags...>(name, new_tags);
    h->prefix = prefix + prefixWithFields({toString(f)...});
    return h;
  }
  void record(int64_t offset, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), static_cast<uint64_t>(offset));
  }

  Histogram(const std::string &name, const std::vector<MetricTag> &tags)
      : MetricBase(MetricType::Histogram, name, tags) {}
};
