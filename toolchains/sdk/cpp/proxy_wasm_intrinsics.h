// proxy-wasm C++ SDK (wasmbuild's offline edition). Filters include this header and nothing else:
//
//   #include "proxy_wasm_intrinsics.h"
//
// It brings the whole API (proxy_wasm_api.h) and the standard headers filters rely on
// (<string>, <string_view>, <optional>, <memory>, <functional>, <vector>, <unordered_map>).
// The same include works against the upstream proxy-wasm-cpp-sdk.
#pragma once

// Keeps a function in the module and visible to the linker.
#ifndef PROXY_WASM_KEEPALIVE
#define PROXY_WASM_KEEPALIVE __attribute__((used)) __attribute__((visibility("default")))
#endif

// Names a function's wasm export (so no link-time export list is needed).
#if defined(__wasm__)
#define PROXY_WASM_EXPORT_AS(_name) __attribute__((export_name(#_name)))
#else
#define PROXY_WASM_EXPORT_AS(_name)
#endif

// WASM_EXPORT(void, my_function, (uint32_t arg)) defines an exported C function.
#define WASM_EXPORT(_return_type, _function_name, _function_args)                                                     \
  extern "C" PROXY_WASM_KEEPALIVE PROXY_WASM_EXPORT_AS(_function_name) _return_type _function_name _function_args

#define START_WASM_PLUGIN(_x)
#define END_WASM_PLUGIN

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"
#include "proxy_wasm_externs.h"

#ifdef PROXY_WASM_PROTOBUF_FULL
#define PROXY_WASM_PROTOBUF 1
#include "proxy_wasm_intrinsics.pb.h"
#endif
#ifdef PROXY_WASM_PROTOBUF_LITE
#define PROXY_WASM_PROTOBUF 1
#include "proxy_wasm_intrinsics_lite.pb.h"
#endif

#include "proxy_wasm_api.h"
