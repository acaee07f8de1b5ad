"""`render_istio`: the WasmPlugin or EnvoyFilter for a stored module, as `wasmbuild deploy istio` makes it.

The one place that turns "this ref, these options" into an Istio object: it resolves the ref in the
local store (root id, sha256, recorded image digest), checks names and labels with Kubernetes' rules,
chooses the checksum Istio will verify, and validates the result. The CLI and Python callers (the
walkthrough, users' scripts) share it:

    from wasmbuild.deploy import render_istio, to_yaml
    print(to_yaml([render_istio("localhost:5000/f/add-header:v1", name="add-header",
                                config={"name": "x-hello", "value": "world"})]))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wasmbuild.deploy import inputs, source
from wasmbuild.deploy import istio_envoyfilter as ef
from wasmbuild.deploy import istio_wasmplugin as wp
from wasmbuild.deploy.wasm_filter import local_code, plugin_config, remote_code
from wasmbuild.errors import UsageError

KINDS = ("wasmplugin", "envoyfilter")


def _config(config: Any) -> inputs.PluginConfig | None:
    if config is None or isinstance(config, inputs.PluginConfig):
        return config
    return inputs.PluginConfig.of(config)


def _sha256(text: str) -> str:
    value = text.removeprefix("sha256:")
    if not re.fullmatch(r"[a-f0-9]{64}", value):
        raise UsageError(f"--sha256 {text!r} is not 64 lower-case hex digits", "copy it from 'wasmbuild push' output")
    return value


def render_istio(module: str | source.Module, *, name: str, kind: str = "wasmplugin", namespace: str = "default",
                 selector: Mapping[str, str] | None = None, config: Any = None, root_id: str | None = None,
                 phase: str | None = None, priority: int | None = None, fail_open: bool = False,
                 pull_policy: str | None = None, pull_secret: str | None = None, url: str | None = None,
                 sha256: str | None = None, patch_context: str | None = None, code_uri: str | None = None,
                 code_cluster: str | None = None, code_path: str | None = None, typed_struct: bool = True,
                 notes: list[str] | None = None, validate: bool = True, check_module: bool = True
                 ) -> dict[str, Any]:
    """The Istio object for `module` (a store reference or a resolved Module).

    `config` is the plugin configuration: any JSON value (a WasmPlugin needs an object) or an
    inputs.PluginConfig. WasmPlugin-only: pull_policy, pull_secret, url, sha256. EnvoyFilter-only:
    patch_context (inbound|outbound|gateway|any), code_uri/code_cluster, code_path, typed_struct.
    Advice for a person (an unpinned image, a file to mount) is appended to `notes`.
    Raises UsageError/ConfigError for bad input, NotFoundError when the ref is not stored, and
    DeployError when the module fails the proxy-wasm ABI check (with `check_module`) or the result
    would not pass the CRD schema (with `validate`).
    """
    notes = notes if notes is not None else []
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
    name = inputs.object_name(name, "--id")
    namespace = inputs.namespace_name(namespace)
    labels = inputs.check_labels(selector or {})
    inputs.int32(priority, "--priority")
    if phase is not None and phase not in wp.PHASES:
        raise UsageError(f"--phase {phase!r} is not one of {', '.join(wp.PHASES)}")
    plugin_cfg = _config(config)
    resolved = source.from_store(module) if isinstance(module, str) else module
    if check_module:
        source.check_loadable(resolved)
    root = source.root_id(resolved, root_id)
    if len(root) > 256:
        raise UsageError("--root-id is longer than 256 characters")
    if kind == "wasmplugin":
        obj = _wasmplugin(resolved, name, namespace, labels, plugin_cfg, root, phase, priority, fail_open,
                          pull_policy, pull_secret, url, sha256, notes)
    else:
        obj = _envoyfilter(resolved, name, namespace, labels, plugin_cfg, root, phase, priority, fail_open,
                           patch_context, code_uri, code_cluster, code_path, typed_struct, notes)
    if validate:
        from wasmbuild.deploy.validation import check

        check([obj])
    return obj


def _wasmplugin(module: source.Module, name: str, namespace: str, labels: dict[str, str],
                config: inputs.PluginConfig | None, root: str, phase: str | None, priority: int | None,
                fail_open: bool, pull_policy: str | None, pull_secret: str | None, url: str | None,
                sha256: str | None, notes: list[str]) -> dict[str, Any]:
    checksum = _sha256(sha256) if sha256 else None
    if pull_policy is not None and pull_policy not in wp.PULL_POLICIES:
        raise UsageError(f"--pull-policy {pull_policy!r} is not one of {', '.join(wp.PULL_POLICIES)}")
    if url:
        if not re.match(r"(https?|oci)://[^/]+|file:///?[^/]", url):
            raise UsageError(f"--url {url!r} is not an http://, https://, file:// or oci:// URL",
                             "e.g. --url https://example.com/filters/add-header.wasm (the schemes a WasmPlugin "
                             "takes)")
        if checksum is None and url.startswith(("http://", "https://")):
            checksum = module.sha256  # Istio checks an http(s) download against the module's own sha256
    elif module.ref is None:
        raise UsageError(f"{module.path} is a file: Istio needs an image reference or --url")
    else:
        url = wp.oci_url(str(module.ref))
        if module.ref.registry is None:
            notes.append(f"{module.ref} names no registry, so Istio would pull it from Docker Hub: push it to "
                         "your registry and deploy that reference")
        if checksum is None and module.image_digest:
            checksum = module.image_digest.split(":", 1)[1]
        elif checksum is None:
            # For oci:// Istio compares sha256 with the image's manifest digest, which differs from the
            # module's sha256: guessing would make every proxy refuse the module.
            notes.append(f"sha256 left out: the manifest digest of {module.ref} is not known here; pin it with "
                         "REF@sha256:DIGEST or --sha256 DIGEST (as 'wasmbuild push' printed it)")
    return wp.render_wasmplugin(
        name=name, namespace=namespace, url=url, sha256=checksum, plugin_name=root or None,
        plugin_config=config.as_object() if config else None, selector=labels, phase=phase,
        priority=priority, fail_open=fail_open, pull_policy=pull_policy, pull_secret=pull_secret)


def _envoyfilter(module: source.Module, name: str, namespace: str, labels: dict[str, str],
                 config: inputs.PluginConfig | None, root: str, phase: str | None, priority: int | None,
                 fail_open: bool, patch_context: str | None, code_uri: str | None, code_cluster: str | None,
                 code_path: str | None, typed_struct: bool, notes: list[str]) -> dict[str, Any]:
    code: dict[str, Any]
    if code_uri:
        if not re.match(r"https?://[^/]+", code_uri):
            raise UsageError(f"--code-uri {code_uri!r} is not an http:// or https:// URL")
        if code_path:
            raise UsageError("--code-path and --code-uri are two different code sources: give one")
        code = remote_code(code_uri, module.sha256, code_cluster or ef.istio_cluster(code_uri))
    else:
        if code_cluster:
            raise UsageError("--code-cluster goes with --code-uri")
        path = code_path or ef.default_code_path(module.sha256)
        code = local_code(path)
        notes.append(f"the EnvoyFilter loads the module from {path} inside istio-proxy: mount it there, or use "
                     "--code-uri, or the default --kind wasmplugin, which pulls the image")
    plugin = plugin_config(name=name, root_id=root, vm_id=name, code=code,
                           configuration=config.text if config else None, fail_open=fail_open)
    if patch_context is None and any(k == "istio" and v.endswith("gateway") for k, v in labels.items()):
        # wasme defaulted to inbound here, which never matches a gateway's listeners (solo-io/wasm#267)
        patch_context = "gateway"
        notes.append("the selector picks an Istio gateway: using --patch-context gateway")
    context = ef.CONTEXTS.get(patch_context or "inbound")
    if context is None:
        raise UsageError(f"--patch-context {patch_context!r} is not one of {', '.join(ef.CONTEXTS)}")
    return ef.render_envoyfilter(name=name, namespace=namespace, plugin=plugin, selector=labels, context=context,
                                 phase=phase, priority=priority, typed_struct=typed_struct)
