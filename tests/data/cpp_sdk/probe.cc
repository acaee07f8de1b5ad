// A test module for the C++ SDK: each exported test_* function calls SDK wrappers with fixed
// arguments; tests/integration/test_cpp_sdk.py runs it under a recording host and asserts the exact
// host calls. Results the wrappers hand back are reported through logInfo("result: ...").
#include <string>
#include <vector>

#include "proxy_wasm_intrinsics.h"

namespace {

void report(const std::string &what) { logInfo("result: " + what); }

std::string view(const WasmDataPtr &data) {
  return data->data() == nullptr ? std::string("<null>") : data->toString();
}

class ProbeRoot : public RootContext {
public:
  explicit ProbeRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  void onTick() override { report("tick"); }
  void onQueueReady(uint32_t token) override { report("queue " + std::to_string(token)); }
  bool onDone() override {
    report("root done");
    return false;
  }
};

class ProbeContext : public Context {
public:
  explicit ProbeContext(uint32_t id, RootContext *root) : Context(id, root) {}
  void onCreate() override { report("create " + std::to_string(id()) + " root " + std::to_string(root()->id())); }
  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override {
    report("request headers " + std::to_string(headers) + " " + toString(end_of_stream));
    return FilterHeadersStatus::StopIteration;
  }
  FilterDataStatus onRequestBody(size_t size, bool end_of_stream) override {
    report("request body " + std::to_string(size) + " " + toString(end_of_stream));
    return FilterDataStatus::StopIterationAndBuffer;
  }
  FilterTrailersStatus onRequestTrailers(uint32_t trailers) override {
    report("request trailers " + std::to_string(trailers));
    return FilterTrailersStatus::StopIteration;
  }
  FilterDataStatus onResponseBody(size_t size, bool end_of_stream) override {
    report("response body " + std::to_string(size) + " " + toString(end_of_stream));
    return FilterDataStatus::StopIterationNoBuffer;
  }
  FilterTrailersStatus onResponseTrailers(uint32_t trailers) override {
    report("response trailers " + std::to_string(trailers));
    return FilterTrailersStatus::Continue;
  }
  FilterStatus onNewConnection() override {
    report("new connection");
    return FilterStatus::StopIteration;
  }
  FilterStatus onDownstreamData(size_t size, bool end_of_stream) override {
    report("downstream " + std::to_string(size) + " " + toString(end_of_stream));
    return FilterStatus::Continue;
  }
  FilterStatus onUpstreamData(size_t size, bool end_of_stream) override {
    report("upstream " + std::to_string(size) + " " + toString(end_of_stream));
    return FilterStatus::StopIteration;
  }
  void onDownstreamConnectionClose(CloseType t) override { report("downstream close " + toString((int)t)); }
  void onUpstreamConnectionClose(CloseType t) override { report("upstream close " + toString((int)t)); }
  void onForeignFunction(uint32_t function_id, uint32_t size) override {
    report("foreign " + std::to_string(function_id) + " " + std::to_string(size));
  }
  void onDone() override { report("done " + std::to_string(id())); }
  void onLog() override { report("log " + std::to_string(id())); }
  void onDelete() override { report("delete " + std::to_string(id())); }
};

static RegisterContextFactory register_probe(CONTEXT_FACTORY(ProbeContext), ROOT_FACTORY(ProbeRoot), "probe");

RootContext *probeRoot() { return getRoot("probe"); }

} // namespace

WASM_EXPORT(void, test_logging, ()) {
  logTrace("t");
  logDebug("d");
  logInfo("i");
  logWarn("w");
  logError("e");
  logCritical("c");
  LOG_INFO("hello " + std::to_string(42));
}

WASM_EXPORT(void, test_log_abort, ()) { logAbort("fatal"); }

WASM_EXPORT(void, test_properties, ()) {
  auto path = getProperty({"request", "path"});
  report(path ? view(path.value()) : "nullopt");
  auto missing = getProperty(std::vector<std::string>{"a", "b", "c"});
  report(missing ? "found" : "nullopt");
  int64_t size = 0;
  report(getValue({"request", "size"}, &size) ? std::to_string(size) : "false");
  std::string name;
  report(getValue<std::string>({"plugin_name"}, &name) ? name : "false");
  setFilterState("key", "value");
  setFilterStateStringValue("key2", "value2");
}

WASM_EXPORT(void, test_time_status_tick, ()) {
  report(std::to_string(getCurrentTimeNanoseconds()));
  auto status = getStatus();
  report(std::to_string(status.first) + " " + view(status.second));
  setTickPeriodMilliseconds(1500);
  proxy_set_tick_period_milliseconds(0);
}

WASM_EXPORT(void, test_stream_control, ()) {
  continueRequest();
  continueResponse();
  continueDownstream();
  continueUpstream();
  closeRequest();
  closeResponse();
  closeDownstream();
  closeUpstream();
}

WASM_EXPORT(void, test_send_local_response, ()) {
  sendLocalResponse(403, "denied", "go away", {{"x-a", "1"}, {"x-b", ""}});
  sendLocalResponse(200, "", "", {}, GrpcStatus::Unauthenticated);
}

WASM_EXPORT(void, test_shared_data, ()) {
  setSharedData("key", "val", 7);
  setSharedData("key", "val");
  WasmDataPtr value;
  uint32_t cas = 0;
  WasmResult result = getSharedData("key", &value, &cas);
  report(toString(result) + " " + view(value) + " " + std::to_string(cas));
  WasmDataPtr untouched;
  result = getSharedData("missing", &untouched);
  report(toString(result) + " " + (untouched ? "set" : "unset"));
  report(view(getSharedDataValue("key")));
}

WASM_EXPORT(void, test_shared_queues, ()) {
  uint32_t token = 0;
  registerSharedQueue("queue", &token);
  report(std::to_string(token));
  resolveSharedQueue("vm", "queue", &token);
  report(std::to_string(token));
  enqueueSharedQueue(token, "item");
  WasmDataPtr data;
  WasmResult result = dequeueSharedQueue(token, &data);
  report(toString(result) + " " + view(data));
  result = dequeueSharedQueue(token, &data);
  report(toString(result) + " " + view(data));
}

WASM_EXPORT(void, test_header_map, (uint32_t map)) {
  auto type = static_cast<WasmHeaderMapType>(map);
  addHeaderMapValue(type, "k", "v");
  replaceHeaderMapValue(type, "k", "w");
  report(view(getHeaderMapValue(type, "k")));
  report(view(getHeaderMapValue(type, "missing")));
  removeHeaderMapValue(type, "k");
  setHeaderMapPairs(type, {{"a", "1"}, {"b", "2"}});
  report(std::to_string(getHeaderMapPairs(type)->pairs().size()));
  size_t size = 0;
  getHeaderMapSize(type, &size);
  report(std::to_string(size));
}

// The typed wrappers, in the order: request headers, request trailers, response headers,
// response trailers; each does add, replace, get, remove, set pairs, get pairs, size.
#define PROBE_TYPED(_Name)                                                                                             \
  {                                                                                                                    \
    add##_Name("k", "v");                                                                                              \
    replace##_Name("k", "w");                                                                                          \
    report(view(get##_Name("k")));                                                                                     \
    remove##_Name("k");                                                                                                \
    set##_Name##Pairs({{"a", "1"}});                                                                                   \
    report(std::to_string(get##_Name##Pairs()->pairs().size()));                                                       \
    size_t size = 0;                                                                                                   \
    get##_Name##Size(&size);                                                                                           \
  }
WASM_EXPORT(void, test_typed_maps, ()) {
  PROBE_TYPED(RequestHeader)
  PROBE_TYPED(RequestTrailer)
  PROBE_TYPED(ResponseHeader)
  PROBE_TYPED(ResponseTrailer)
}

// Decodes the request headers and writes them back as the response headers.
WASM_EXPORT(void, test_pairs_roundtrip, ()) {
  auto pairs = getRequestHeaderPairs();
  HeaderStringPairs copy;
  for (const auto &p : pairs->pairs()) {
    copy.emplace_back(std::string(p.first), std::string(p.second));
  }
  report(std::to_string(copy.size()));
  setResponseHeaderPairs(copy);
}

WASM_EXPORT(void, test_buffers, ()) {
  report(view(getBufferBytes(WasmBufferType::HttpRequestBody, 3, 10)));
  size_t size = 0;
  uint32_t flags = 0;
  getBufferStatus(WasmBufferType::HttpResponseBody, &size, &flags);
  report(std::to_string(size) + " " + std::to_string(flags));
  size_t new_size = 20;
  setBuffer(WasmBufferType::HttpResponseBody, 0, 5, "hello, world", &new_size);
  report(std::to_string(new_size));
  report(view(getConfiguration()));
}

WASM_EXPORT(void, test_http_call, ()) {
  RootContext *root = probeRoot();
  WasmResult result = root->httpCall(
      "cluster", {{":method", "GET"}, {":path", "/"}, {":authority", "example"}}, "body", {{"t", "1"}}, 5000,
      [](uint32_t headers, size_t body_size, uint32_t trailers) {
        auto status = getHeaderMapValue(WasmHeaderMapType::HttpCallResponseHeaders, ":status");
        auto body = getBufferBytes(WasmBufferType::HttpCallResponseBody, 0, body_size);
        report("http " + std::to_string(headers) + " " + std::to_string(body_size) + " " +
               std::to_string(trailers) + " " + view(status) + " " + view(body));
      });
  report(toString(result));
  uint32_t token = 0;
  makeHttpCall("other", {}, "", {}, 100, &token);
}

WASM_EXPORT(void, test_grpc, ()) {
  RootContext *root = probeRoot();
  uint32_t token = 0;
  grpcCall("svc", "pkg.Service", "Method", {{"md", "1"}}, "request", 250, &token);
  grpcStream("svc", "pkg.Service", "Stream", {}, &token);
  grpcSend(token, "message", true);
  grpcCancel(token);
  grpcClose(token);
  for (int i = 0; i < 2; i++) {
    root->grpcSimpleCall("svc", "pkg.Service", "Method", {}, "req", 1000, [](GrpcStatus status, size_t body_size) {
      report("grpc " + std::to_string(static_cast<int>(status)) + " " + std::to_string(body_size));
    });
  }
}

WASM_EXPORT(void, test_metrics, ()) {
  uint32_t id = 0;
  defineMetric(MetricType::Gauge, "gauge", &id);
  report(std::to_string(id));
  incrementMetric(id, -5);
  recordMetric(id, 1ULL << 40);
  uint64_t value = 0;
  getMetric(id, &value);
  report(std::to_string(value));
  auto *counter = Counter<std::string, int>::New("requests", "service", "code");
  counter->increment(1, "foo", 200);
  auto *histogram = Histogram<bool>::New("latency", "cached");
  histogram->record(30, true);
  auto *gauge = Gauge<std::string>::New("memory", "pool");
  gauge->record(7, "heap");
}

WASM_EXPORT(void, test_contexts, (uint32_t context_id)) {
  ContextBase *context = getContextBase(context_id);
  report(context == nullptr ? "none" : (context->asRoot() != nullptr ? "root" : "stream"));
  if (context != nullptr) {
    context->setEffectiveContext();
    LogLevel level = LogLevel::trace;
    report(toString(context->getLogLevel(&level)) + " " + std::to_string(static_cast<int>(level)));
  }
  report(getRoot("probe") != nullptr ? "probe root" : "no probe root");
  report(getContext(context_id) != nullptr ? "is stream" : "not stream");
  report(getRootContext(context_id) != nullptr ? "is root" : "not root");
  if (RootContext *root = getRootContext(context_id)) {
    root->done();
  }
}
