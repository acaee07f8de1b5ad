"""The Envoy side of a Wasm filter, shared by the Istio EnvoyFilter and the standalone Envoy bootstrap.

Shapes follow envoy.extensions.wasm.v3 (PluginConfig, VmConfig, AsyncDataSource) and
envoy.extensions.filters.http.wasm.v3.Wasm; field names are the protos' own snake_case names, which
both Envoy's YAML loader and Istio's EnvoyFilter (proto JSON) accept.
"""

from __future__ import annotations

from typing import Any

WASM_HTTP_FILTER = "envoy.filters.http.wasm"
WASM_HTTP_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
TYPED_STRUCT_TYPE = "type.googleapis.com/udpa.type.v1.TypedStruct"
STRING_VALUE_TYPE = "type.googleapis.com/google.protobuf.StringValue"
RUNTIME_V8 = "envoy.wasm.runtime.v8"  # the only runtime in official Envoy and istio-proxy builds


def local_code(filename: str) -> dict[str, Any]:
    """Code from a file inside the proxy's filesystem."""
    return {"local": {"filename": filename}}


def remote_code(uri: str, sha256: str, cluster: str, timeout: str = "10s") -> dict[str, Any]:
    """Code Envoy downloads itself through `cluster` and verifies against the module's sha256."""
    return {"remote": {"http_uri": {"uri": uri, "cluster": cluster, "timeout": timeout}, "sha256": sha256}}


def plugin_config(*, name: str, root_id: str, vm_id: str, code: dict[str, Any],
                  configuration: str | None = None, fail_open: bool = False) -> dict[str, Any]:
    """An envoy.extensions.wasm.v3.PluginConfig.

    The configuration travels as a google.protobuf.StringValue: Envoy hands its bytes to
    proxy_on_configure unchanged, which is what filters that parse JSON themselves expect.
    `fail_open` is the field every v3 Envoy knows; failure_policy (newer) would break older proxies.
    """
    config: dict[str, Any] = {"name": name}
    if root_id:
        config["root_id"] = root_id
    if configuration is not None:
        config["configuration"] = {"@type": STRING_VALUE_TYPE, "value": configuration}
    if fail_open:
        config["fail_open"] = True
    config["vm_config"] = {"vm_id": vm_id, "runtime": RUNTIME_V8, "code": code}
    return config


def http_filter(config: dict[str, Any], typed_struct: bool = False) -> dict[str, Any]:
    """An HttpConnectionManager.HttpFilter running the plugin.

    `typed_struct` wraps the Wasm message in a udpa.type.v1.TypedStruct, as wasme's EnvoyFilters did:
    the control plane passes it through and Envoy converts it.
    """
    if typed_struct:
        typed: dict[str, Any] = {"@type": TYPED_STRUCT_TYPE, "type_url": WASM_HTTP_TYPE, "value": {"config": config}}
    else:
        typed = {"@type": WASM_HTTP_TYPE, "config": config}
    return {"name": WASM_HTTP_FILTER, "typed_config": typed}
