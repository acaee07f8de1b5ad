"""Istio's EnvoyFilter (networking.istio.io/v1alpha3) carrying a Wasm HTTP filter, in wasme's shape.

One configPatch: applyTo HTTP_FILTER in the HTTP connection manager, INSERT_BEFORE the router (or ADD
with a filterClass when a phase is asked for, which is how Istio orders filters without relying on
names). The code comes from a file inside the istio-proxy container or from a URL Envoy downloads
through a cluster it knows, verified by sha256.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wasmbuild.deploy.istio_wasmplugin import MANAGED_BY
from wasmbuild.deploy.wasm_filter import http_filter

API_VERSION = "networking.istio.io/v1alpha3"
KIND = "EnvoyFilter"
HCM_FILTER = "envoy.filters.network.http_connection_manager"
ROUTER_FILTER = "envoy.filters.http.router"
# wasme's --patch-context values and the Istio PatchContext each selects.
CONTEXTS = {"inbound": "SIDECAR_INBOUND", "outbound": "SIDECAR_OUTBOUND", "gateway": "GATEWAY", "any": "ANY"}
# WasmPlugin phases and the EnvoyFilter filterClass with the same meaning.
FILTER_CLASSES = {"AUTHN": "AUTHN", "AUTHZ": "AUTHZ", "STATS": "STATS"}
# Where wasme's cache DaemonSet put modules (<dir>/<sha256>); existing wasme set-ups mount it already.
WASME_CACHE_DIR = "/var/local/lib/wasme-cache"


def default_code_path(sha256: str) -> str:
    return f"{WASME_CACHE_DIR}/{sha256}"


def istio_cluster(uri: str) -> str:
    """The outbound cluster Istio generates for the host of `uri` (the host must be known to the mesh,
    e.g. through a ServiceEntry)."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"outbound|{port}||{parts.hostname}"


def render_envoyfilter(*, name: str, namespace: str, plugin: Mapping[str, Any],
                       selector: Mapping[str, str] | None = None, context: str = "SIDECAR_INBOUND",
                       phase: str | None = None, priority: int | None = None,
                       typed_struct: bool = True) -> dict[str, Any]:
    """An EnvoyFilter inserting the Wasm filter described by `plugin` (a PluginConfig)."""
    filter_match: dict[str, Any] = {"name": HCM_FILTER}
    patch: dict[str, Any]
    filter_class = FILTER_CLASSES.get(phase or "")
    if filter_class:
        patch = {"operation": "ADD", "filterClass": filter_class}
    else:
        filter_match["subFilter"] = {"name": ROUTER_FILTER}
        patch = {"operation": "INSERT_BEFORE"}
    patch["value"] = http_filter(dict(plugin), typed_struct=typed_struct)
    spec: dict[str, Any] = {}
    if selector:
        spec["workloadSelector"] = {"labels": dict(selector)}
    if priority is not None:
        spec["priority"] = priority
    spec["configPatches"] = [{
        "applyTo": "HTTP_FILTER",
        "match": {"context": context, "listener": {"filterChain": {"filter": filter_match}}},
        "patch": patch,
    }]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }
