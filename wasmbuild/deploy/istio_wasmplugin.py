"""Istio's WasmPlugin (extensions.istio.io/v1alpha1): the proxy's agent pulls the image itself.

No cache DaemonSet, no pod annotations, no restarts: Istio's agent fetches the module (OCI or
HTTP), verifies it and hands it to Envoy. Field semantics from istio/api extensions/v1alpha1/wasm.proto.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

API_VERSION = "extensions.istio.io/v1alpha1"
KIND = "WasmPlugin"
MANAGED_BY = {"app.kubernetes.io/managed-by": "wasmbuild"}
PHASES = ("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS")
PULL_POLICIES = ("IfNotPresent", "Always")


def oci_url(reference: str) -> str:
    return f"oci://{reference}"


def render_wasmplugin(*, name: str, namespace: str, url: str, sha256: str | None = None,
                      plugin_name: str | None = None, plugin_config: Mapping[str, Any] | None = None,
                      selector: Mapping[str, str] | None = None, phase: str | None = None,
                      priority: int | None = None, fail_open: bool = False, pull_policy: str | None = None,
                      pull_secret: str | None = None) -> dict[str, Any]:
    """A WasmPlugin object.

    `sha256` means different things per scheme, and Istio enforces it: for oci:// it must be the image's
    manifest digest (hex), for http(s):// the module's own sha256. Leave it None when it is not known;
    a wrong value makes every proxy refuse the module.
    `plugin_name` is Envoy's root id. Unset options are left out, so Istio's defaults apply
    (FAIL_CLOSE, IfNotPresent unless the tag is latest, just before the router).
    """
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    spec["url"] = url
    if sha256:
        spec["sha256"] = sha256
    if pull_policy:
        spec["imagePullPolicy"] = pull_policy
    if pull_secret:
        spec["imagePullSecret"] = pull_secret
    if phase:
        spec["phase"] = phase
    if priority is not None:
        spec["priority"] = priority
    if fail_open:
        spec["failStrategy"] = "FAIL_OPEN"
    if plugin_name:
        spec["pluginName"] = plugin_name
    if plugin_config is not None:
        spec["pluginConfig"] = dict(plugin_config)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }
