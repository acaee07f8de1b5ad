"""One gate every rendered object passes before it is printed, written or applied.

- Istio objects: the CRD schemas (crd_validation), and for an EnvoyFilter also the Envoy HTTP filter
  it patches in (envoy_validation), which the CRD leaves unchecked (x-kubernetes-preserve-unknown-fields).
- Gloo Gateway patches: the wasm filter fields of Gloo's wasm.proto.
- Envoy bootstraps: Envoy's API field tables, plus the references between parts (routes and code
  downloads name clusters that exist).
Deprecated Envoy fields are allowed only where wasmbuild chose them on purpose (ALLOWED_DEPRECATED).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from wasmbuild.deploy import crd_validation, envoy_validation
from wasmbuild.errors import DeployError

# PluginConfig.fail_open: deprecated in favour of failure_policy, which older proxies reject.
ALLOWED_DEPRECATED = frozenset({"fail_open"})

GLOO_FILTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "image": {"type": "string", "minLength": 1},
        "filePath": {"type": "string", "minLength": 1},
        "config": {"type": "object", "required": ["@type"], "properties": {"@type": {"type": "string"}}},
        "filterStage": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "stage": {"enum": ["FaultStage", "CorsStage", "WafStage", "AuthNStage", "AuthZStage",
                                   "RateLimitStage", "AcceptedStage", "OutAuthStage", "RouteStage"]},
                "predicate": {"enum": ["During", "Before", "After"]},
            },
        },
        "name": {"type": "string", "minLength": 1},
        "rootId": {"type": "string"},
        "vmType": {"enum": ["V8", "WAVM"]},
    },
    "oneOf": [{"required": ["image"]}, {"required": ["filePath"]}],
}


def _envoy(value: Any, message: str, path: str) -> list[str]:
    return [str(p) for p in envoy_validation.validate(value, message, path)
            if not (p.deprecated and p.path.rsplit(".", 1)[-1] in ALLOWED_DEPRECATED)]


def _envoyfilter_patches(obj: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for index, patch in enumerate(obj.get("spec", {}).get("configPatches", [])):
        if patch.get("applyTo") == "HTTP_FILTER" and "value" in patch.get("patch", {}):
            problems += _envoy(patch["patch"]["value"], envoy_validation.HTTP_FILTER,
                               f"spec.configPatches[{index}].patch.value")
    return problems


def _gloo(obj: Mapping[str, Any]) -> list[str]:
    import jsonschema

    filters = obj.get("spec", {}).get("httpGateway", {}).get("options", {}).get("wasm", {}).get("filters")
    if not isinstance(filters, list):
        return ["spec.httpGateway.options.wasm.filters: missing"]
    validator = jsonschema.Draft7Validator(GLOO_FILTER_SCHEMA)
    return [f"spec.httpGateway.options.wasm.filters[{i}]{''.join(f'.{p}' for p in e.absolute_path)}: {e.message}"
            for i, item in enumerate(filters) for e in validator.iter_errors(item)]


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) for every key of every object below `value`."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield key, child
            yield from _walk(child)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def bootstrap_references(bootstrap: Mapping[str, Any]) -> list[str]:
    """Clusters named by routes and by remote code sources that the bootstrap does not define."""
    defined = {c.get("name") for c in bootstrap.get("static_resources", {}).get("clusters", [])}
    problems = []
    for key, value in _walk(bootstrap):
        if key not in ("route", "http_uri") or not isinstance(value, Mapping):
            continue
        name = value.get("cluster")
        if isinstance(name, str) and name not in defined:
            problems.append(f"cluster {name!r} is used but not defined in static_resources.clusters")
    return problems


def problems(obj: Mapping[str, Any]) -> list[str]:
    """Every problem of one rendered object ([] when it is good to go)."""
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if kind == "Gateway" and api == "gateway.solo.io/v1":
        return _gloo(obj)
    if kind is None and "static_resources" in obj:
        return _envoy(obj, envoy_validation.BOOTSTRAP, "") + bootstrap_references(obj)
    found = crd_validation.validate(obj)
    if kind == "EnvoyFilter":
        found += _envoyfilter_patches(obj)
    return found


def check(objects: Sequence[Mapping[str, Any]]) -> None:
    """Raise DeployError naming the first problem (and how many there are) of any object."""
    for obj in objects:
        found = problems(obj)
        if found:
            what = obj.get("kind", "Envoy bootstrap")
            name = obj.get("metadata", {}).get("name")
            label = f"{what} {name}" if name else str(what)
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise DeployError(f"the rendered {label} is invalid: {found[0]}{more}",
                              "nothing was printed or applied; this is a wasmbuild bug if your input was valid")
