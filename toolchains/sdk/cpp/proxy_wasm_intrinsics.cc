// proxy-wasm C++ SDK (wasmbuild's offline edition): context registry and the module's exports.
//
// The host drives a filter through the proxy_on_* exports below (signatures per the Proxy-Wasm
// ABI); each one finds the context object by id and calls its virtual callback. Contexts are
// created by the factories filters register with RegisterContextFactory, chosen by the plugin's
// root_id, exactly as the upstream SDK does.
#include "proxy_wasm_intrinsics.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

namespace {

struct Registry {
  std::unordered_map<std::string, RootFactory> root_factories;
  std::unordered_map<std::string, ContextFactory> context_factories;
  std::unordered_map<uint32_t, std::unique_ptr<ContextBase>> contexts;
  std::unordered_map<std::string, RootContext *> roots;
};

// Created on first use (registrations run during static initialisation, in any order) and never
// destroyed: the module lives as long as the VM.
Registry &registry() {
  static Registry *r = new Registry();
  return *r;
}

std::string rootIdOfPlugin() {
  static const char key[] = "plugin_root_id";
  const char *value = nullptr;
  size_t size = 0;
  if (proxy_get_property(key, sizeof(key) - 1, &value, &size) != WasmResult::Ok) {
    logWarn("proxy-wasm SDK: the host did not provide plugin_root_id; using the default root id \"\"");
    return "";
  }
  std::string root_id(value != nullptr ? value : "", size);
  ::free(const_cast<char *>(value));
  return root_id;
}

RootContext *ensureRootContext(uint32_t context_id) {
  Registry &r = registry();
  auto existing = r.contexts.find(context_id);
  if (existing != r.contexts.end()) {
    return existing->second->asRoot();
  }
  std::string root_id = rootIdOfPlugin();
  std::unique_ptr<RootContext> root;
  auto factory = r.root_factories.find(root_id);
  if (factory != r.root_factories.end()) {
    root = factory->second(context_id, root_id);
  } else {
    if (!r.root_factories.empty() || !r.context_factories.empty()) {
      std::string known;
      for (const auto &f : r.context_factories) {
        known += (known.empty() ? "\"" : ", \"") + f.first + "\"";
      }
      for (const auto &f : r.root_factories) {
        if (r.context_factories.count(f.first) == 0) {
          known += (known.empty() ? "\"" : ", \"") + f.first + "\"";
        }
      }
      logWarn("proxy-wasm SDK: no root context registered for root_id \"" + root_id +
              "\" (registered: " + known + "); this plugin uses the default contexts and does nothing");
    }
    root = std::make_unique<RootContext>(context_id, root_id);
  }
  RootContext *raw = root.get();
  r.contexts[context_id] = std::move(root);
  r.roots[root_id] = raw;
  return raw;
}

Context *ensureContext(uint32_t context_id, uint32_t root_context_id) {
  Registry &r = registry();
  auto existing = r.contexts.find(context_id);
  if (existing != r.contexts.end()) {
    return existing->second->asContext();
  }
  auto parent = r.contexts.find(root_context_id);
  RootContext *root = parent != r.contexts.end() ? parent->second->asRoot() : nullptr;
  if (root == nullptr) {
    logError("proxy-wasm SDK: context " + std::to_string(context_id) + " names unknown root context " +
             std::to_string(root_context_id));
    return nullptr;
  }
  std::unique_ptr<Context> context;
  auto factory = r.context_factories.find(std::string(root->root_id()));
  if (factory != r.context_factories.end()) {
    context = factory->second(context_id, root);
  } else {
    context = std::make_unique<Context>(context_id, root);
  }
  Context *raw = context.get();
  r.contexts[context_id] = std::move(context);
  return raw;
}

} // namespace

RegisterContextFactory::RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory,
                                               std::string_view root_id) {
  Registry &r = registry();
  if (root_factory) {
    r.root_factories[std::string(root_id)] = std::move(root_factory);
  }
  if (context_factory) {
    r.context_factories[std::string(root_id)] = std::move(context_factory);
  }
}

RegisterContextFactory::RegisterContextFactory(RootFactory root_factory, std::string_view root_id)
    : RegisterContextFactory(nullptr, std::move(root_factory), root_id) {}

RegisterContextFactory::RegisterContextFactory(ContextFactory context_factory, std::string_view root_id)
    : RegisterContextFactory(std::move(context_factory), nullptr, root_id) {}

RootContext *getRoot(std::string_view root_id) {
  Registry &r = registry();
  auto it = r.roots.find(std::string(root_id));
  return it != r.roots.end() ? it->second : nullptr;
}

ContextBase *getContextBase(uint32_t context_id) {
  Registry &r = registry();
  auto it = r.contexts.find(context_id);
  return it != r.contexts.end() ? it->second.get() : nullptr;
}

Context *getContext(uint32_t context_id) {
  ContextBase *base = getContextBase(context_id);
  return base != nullptr ? base->asContext() : nullptr;
}

RootContext *getRootContext(uint32_t context_id) {
  ContextBase *base = getContextBase(context_id);
  return base != nullptr ? base->asRoot() : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Module exports. Callbacks for unknown context ids are ignored (the upstream SDK would crash).

#if PROXY_WASM_ABI_VERSION == 10
WASM_EXPORT(void, proxy_abi_version_0_1_0, ()) {}
#elif PROXY_WASM_ABI_VERSION == 20
WASM_EXPORT(void, proxy_abi_version_0_2_0, ()) {}
#else
WASM_EXPORT(void, proxy_abi_version_0_2_1, ()) {}
#endif

// The host copies data into the module through an exported allocator: Envoy (cpp-host) looks for
// `malloc` first, the spec and other hosts for `proxy_on_memory_allocate`. Export both.
WASM_EXPORT(void *, proxy_on_memory_allocate, (size_t size)) { return ::malloc(size); }
#ifndef PROXY_WASM_NO_MALLOC_EXPORT
extern "C" PROXY_WASM_EXPORT_AS(malloc) void *proxy_wasm_exported_malloc(size_t size) { return ::malloc(size); }
#endif

WASM_EXPORT(void, proxy_on_context_create, (uint32_t context_id, uint32_t parent_context_id)) {
  ContextBase *context = parent_context_id != 0 ? static_cast<ContextBase *>(ensureContext(context_id, parent_context_id))
                                                : ensureRootContext(context_id);
  if (context != nullptr) {
    context->onCreate();
  }
}

WASM_EXPORT(uint32_t, proxy_on_vm_start, (uint32_t root_context_id, uint32_t vm_configuration_size)) {
  RootContext *root = getRootContext(root_context_id);
  return root != nullptr && root->onStart(vm_configuration_size) ? 1 : 0;
}

WASM_EXPORT(uint32_t, proxy_validate_configuration, (uint32_t root_context_id, uint32_t configuration_size)) {
  RootContext *root = getRootContext(root_context_id);
  return root != nullptr && root->validateConfiguration(configuration_size) ? 1 : 0;
}

WASM_EXPORT(uint32_t, proxy_on_configure, (uint32_t root_context_id, uint32_t configuration_size)) {
  RootContext *root = getRootContext(root_context_id);
  return root != nullptr && root->onConfigure(configuration_size) ? 1 : 0;
}

WASM_EXPORT(void, proxy_on_tick, (uint32_t root_context_id)) {
  if (RootContext *root = getRootContext(root_context_id)) {
    root->onTick();
  }
}

WASM_EXPORT(void, proxy_on_queue_ready, (uint32_t root_context_id, uint32_t token)) {
  if (RootContext *root = getRootContext(root_context_id)) {
    root->onQueueReady(token);
  }
}

#if PROXY_WASM_ABI_VERSION >= 20
WASM_EXPORT(void, proxy_on_foreign_function, (uint32_t context_id, uint32_t function_id, uint32_t data_size)) {
  if (ContextBase *context = getContextBase(context_id)) {
    context->onForeignFunction(function_id, data_size);
  }
}
#endif

// TCP.

WASM_EXPORT(FilterStatus, proxy_on_new_connection, (uint32_t context_id)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onNewConnection() : FilterStatus::Continue;
}

WASM_EXPORT(FilterStatus, proxy_on_downstream_data, (uint32_t context_id, uint32_t data_size, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onDownstreamData(data_size, end_of_stream != 0) : FilterStatus::Continue;
}

WASM_EXPORT(FilterStatus, proxy_on_upstream_data, (uint32_t context_id, uint32_t data_size, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onUpstreamData(data_size, end_of_stream != 0) : FilterStatus::Continue;
}

WASM_EXPORT(void, proxy_on_downstream_connection_close, (uint32_t context_id, uint32_t close_type)) {
  if (Context *context = getContext(context_id)) {
    context->onDownstreamConnectionClose(static_cast<CloseType>(close_type));
  }
}

WASM_EXPORT(void, proxy_on_upstream_connection_close, (uint32_t context_id, uint32_t close_type)) {
  if (Context *context = getContext(context_id)) {
    context->onUpstreamConnectionClose(static_cast<CloseType>(close_type));
  }
}

// HTTP. ABI 0.1.0 passes no end_of_stream to the header callbacks.

#if PROXY_WASM_ABI_VERSION >= 20
WASM_EXPORT(FilterHeadersStatus, proxy_on_request_headers,
            (uint32_t context_id, uint32_t headers, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onRequestHeaders(headers, end_of_stream != 0) : FilterHeadersStatus::Continue;
}

WASM_EXPORT(FilterHeadersStatus, proxy_on_response_headers,
            (uint32_t context_id, uint32_t headers, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onResponseHeaders(headers, end_of_stream != 0) : FilterHeadersStatus::Continue;
}
#else
WASM_EXPORT(FilterHeadersStatus, proxy_on_request_headers, (uint32_t context_id, uint32_t headers)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onRequestHeaders(headers, false) : FilterHeadersStatus::Continue;
}

WASM_EXPORT(FilterHeadersStatus, proxy_on_response_headers, (uint32_t context_id, uint32_t headers)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onResponseHeaders(headers, false) : FilterHeadersStatus::Continue;
}
#endif

WASM_EXPORT(FilterDataStatus, proxy_on_request_body,
            (uint32_t context_id, uint32_t body_buffer_length, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onRequestBody(body_buffer_length, end_of_stream != 0)
                            : FilterDataStatus::Continue;
}

WASM_EXPORT(FilterTrailersStatus, proxy_on_request_trailers, (uint32_t context_id, uint32_t trailers)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onRequestTrailers(trailers) : FilterTrailersStatus::Continue;
}

WASM_EXPORT(FilterMetadataStatus, proxy_on_request_metadata, (uint32_t context_id, uint32_t elements)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onRequestMetadata(elements) : FilterMetadataStatus::Continue;
}

WASM_EXPORT(FilterDataStatus, proxy_on_response_body,
            (uint32_t context_id, uint32_t body_buffer_length, uint32_t end_of_stream)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onResponseBody(body_buffer_length, end_of_stream != 0)
                            : FilterDataStatus::Continue;
}

WASM_EXPORT(FilterTrailersStatus, proxy_on_response_trailers, (uint32_t context_id, uint32_t trailers)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onResponseTrailers(trailers) : FilterTrailersStatus::Continue;
}

WASM_EXPORT(FilterMetadataStatus, proxy_on_response_metadata, (uint32_t context_id, uint32_t elements)) {
  Context *context = getContext(context_id);
  return context != nullptr ? context->onResponseMetadata(elements) : FilterMetadataStatus::Continue;
}

// Callouts are answered on the root context that made them.

WASM_EXPORT(void, proxy_on_http_call_response,
            (uint32_t context_id, uint32_t token, uint32_t headers, uint32_t body_size, uint32_t trailers)) {
  if (RootContext *root = getRootContext(context_id)) {
    root->onHttpCallResponse(token, headers, body_size, trailers);
  }
}

WASM_EXPORT(void, proxy_on_grpc_receive_initial_metadata, (uint32_t context_id, uint32_t token, uint32_t headers)) {
  if (RootContext *root = getRootContext(context_id)) {
    root->onGrpcReceiveInitialMetadata(token, headers);
  }
}

WASM_EXPORT(void, proxy_on_grpc_receive_trailing_metadata, (uint32_t context_id, uint32_t token, uint32_t trailers)) {
  if (RootContext *root = getRootContext(context_id)) {
    root->onGrpcReceiveTrailingMetadata(token, trailers);
  }
}

WASM_EXPORT(void, proxy_on_grpc_receive, (uint32_t context_id, uint32_t token, uint32_t response_size)) {
  if (RootContext *root = getRootContext(context_id)) {
    root->onGrpcReceive(token, response_size);
  }
}

WASM_EXPORT(void, proxy_on_grpc_close, (uint32_t context_id, uint32_t token, uint32_t status_code)) {
  if (RootContext *root = getRootContext(context_id)) {
    root->onGrpcClose(token, static_cast<GrpcStatus>(status_code));
  }
}

// End of a context: done (a root may return 0 and call done() later), log, delete.

WASM_EXPORT(uint32_t, proxy_on_done, (uint32_t context_id)) {
  ContextBase *context = getContextBase(context_id);
  return context == nullptr || context->onDoneBase() ? 1 : 0;
}

WASM_EXPORT(void, proxy_on_log, (uint32_t context_id)) {
  if (ContextBase *context = getContextBase(context_id)) {
    context->onLog();
  }
}

WASM_EXPORT(void, proxy_on_delete, (uint32_t context_id)) {
  Registry &r = registry();
  auto it = r.contexts.find(context_id);
  if (it == r.contexts.end()) {
    return;
  }
  it->second->onDelete();
  if (RootContext *root = it->second->asRoot()) {
    auto named = r.roots.find(std::string(root->root_id()));
    if (named != r.roots.end() && named->second == root) {
      r.roots.erase(named);
    }
  }
  // onDelete may have created or deleted other contexts: find this one again before erasing.
  r.contexts.erase(context_id);
}
