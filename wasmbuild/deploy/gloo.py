"""Gloo Gateway's Wasm filter settings: `spec.httpGateway.options.wasm.filters` of a gateway.solo.io Gateway.

What `wasme deploy gloo` wrote: one entry per filter id with the image (Gloo pulls it itself), the
configuration as a google.protobuf.Any, the filter name, the root id and the VM type. Field names
from Gloo's wasm.proto (wasm.options.gloo.solo.io.WasmFilter), in the camelCase its CRDs use.
Deploying keeps the other filters: an entry with the same name is replaced, the list stays sorted by
name (as wasme kept it, so repeated deploys are idempotent).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from wasmbuild.deploy.wasm_filter import STRING_VALUE_TYPE
from wasmbuild.errors import DeployError

API_VERSION = "gateway.solo.io/v1"
KIND = "Gateway"
RESOURCE = "gateways.gateway.solo.io"  # what kubectl calls it


def wasm_filter(*, name: str, image: str, root_id: str, configuration: str | None = None) -> dict[str, Any]:
    """One wasm.options.gloo.solo.io.WasmFilter."""
    entry: dict[str, Any] = {"name": name, "image": image}
    if configuration is not None:
        entry["config"] = {"@type": STRING_VALUE_TYPE, "value": configuration}
    if root_id:
        entry["rootId"] = root_id
    entry["vmType"] = "V8"
    return entry


def render_gateway_patch(*, gateway: str, namespace: str, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The Gateway fields to set: a merge patch for `kubectl patch --type merge` (it replaces the whole
    filters list, so pass every filter the gateway should run)."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": gateway, "namespace": namespace},
        "spec": {"httpGateway": {"options": {"wasm": {"filters": filters}}}},
    }


def live_gateway(gateway: str, namespace: str, context: str | None) -> dict[str, Any]:
    """The Gateway as the cluster has it (`kubectl get -o json`), to edit and replace."""
    import json

    from wasmbuild.deploy import kubectl

    data: dict[str, Any] = json.loads(kubectl.run(["get", RESOURCE, gateway, "-n", namespace, "-o", "json"],
                                                  context=context))
    return data


def replace_gateway(updated: Mapping[str, Any], context: str | None) -> str:
    """`kubectl replace` of an edited live Gateway (its resourceVersion makes a concurrent edit fail);
    what kubectl said."""
    import json

    from wasmbuild.deploy import kubectl

    return kubectl.run(["replace", "-f", "-"], json.dumps(updated), context=context)


def _filters(gateway: Mapping[str, Any], create: bool) -> list[Any] | None:
    where = f"Gateway {gateway.get('metadata', {}).get('name', '?')}"
    http = gateway.get("spec", {}).get("httpGateway")
    if not isinstance(http, dict):
        raise DeployError(f"{where} has no spec.httpGateway", "Wasm filters run in HTTP gateways only")
    node: Any = http
    for key, kind in (("options", dict), ("wasm", dict), ("filters", list)):  # options.wasm.filters
        child = node.get(key)
        if not isinstance(child, kind):
            if not create:
                return None
            child = node[key] = kind()
        node = child
    filters: list[Any] = node
    return filters


def with_filter(gateway: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a live Gateway object running `entry` (replacing a filter of the same name)."""
    updated = copy.deepcopy(dict(gateway))
    filters = _filters(updated, create=True)
    assert filters is not None
    kept = [f for f in filters if not (isinstance(f, dict) and f.get("name") == entry["name"])]
    kept.append(dict(entry))
    kept.sort(key=lambda f: str(f.get("name", "")) if isinstance(f, dict) else "")
    filters[:] = kept
    return updated


def without_filter(gateway: Mapping[str, Any], name: str) -> tuple[dict[str, Any], bool]:
    """A copy of a live Gateway object without the filter `name`, and whether there was one."""
    updated = copy.deepcopy(dict(gateway))
    filters = _filters(updated, create=False)
    if filters is None:
        return updated, False
    kept = [f for f in filters if not (isinstance(f, dict) and f.get("name") == name)]
    removed = len(kept) != len(filters)
    filters[:] = kept
    return updated, removed
