"""Istio WasmPlugin / EnvoyFilter, Envoy bootstrap and Gloo renderers, their validation and kubectl.

Rendering is pure (dicts in, dicts out); `validation.check` gates every object before it is printed,
written or applied; only `kubectl` touches the outside world. `render_istio(ref, name=...)` is the
one-call API for a stored module (what `wasmbuild deploy istio` prints).
"""

from __future__ import annotations

from wasmbuild.deploy.envoy_bootstrap import render_bootstrap
from wasmbuild.deploy.gloo import render_gateway_patch, wasm_filter
from wasmbuild.deploy.istio import render_istio
from wasmbuild.deploy.istio_envoyfilter import render_envoyfilter
from wasmbuild.deploy.istio_wasmplugin import render_wasmplugin
from wasmbuild.deploy.output import to_json, to_yaml, write_atomic
from wasmbuild.deploy.validation import check, problems
from wasmbuild.deploy.wasm_filter import local_code, plugin_config, remote_code

__all__ = [
    "check",
    "local_code",
    "plugin_config",
    "problems",
    "remote_code",
    "render_bootstrap",
    "render_envoyfilter",
    "render_gateway_patch",
    "render_istio",
    "render_wasmplugin",
    "to_json",
    "to_yaml",
    "wasm_filter",
    "write_atomic",
]
