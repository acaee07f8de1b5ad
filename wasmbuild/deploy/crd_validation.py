"""Validate objects against Istio's CRDs the way the Kubernetes API server would, without a server.

The CRDs' openAPIV3Schema (data/istio-crds.json, converted from Istio's manifests by
dev/gen_crd_schemas.py) is a *structural* schema: the API server prunes unknown fields, and
`kubectl apply` with strict field validation refuses them. So before handing it to jsonschema we
make unknown fields errors (additionalProperties: false wherever x-kubernetes-preserve-unknown-fields
is not set), turn `nullable` and the int32/int64 formats into JSON Schema, and add the metadata rules
every object has. The CEL rules (x-kubernetes-validations) are evaluated by small Python
translations, one per rule text; a rule without one fails closed, so a CRD update cannot silently
drop a check (a test keeps the table complete).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wasmbuild.deploy.inputs import DNS1123_LABEL, DNS1123_SUBDOMAIN

DATA_FILE = Path(__file__).resolve().parent / "data" / "istio-crds.json"

_INT_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DNS1123_SUBDOMAIN = f"^{DNS1123_SUBDOMAIN}$"
_DNS1123_LABEL = f"^{DNS1123_LABEL}$"


def _has(value: Any, key: str) -> bool:
    return isinstance(value, Mapping) and key in value


def _url_scheme_ok(url: str) -> bool:
    """CEL: isURL(self) ? scheme in [...] : isURL("http://" + self) && ... (a missing scheme means oci)."""
    allowed = {"", "http", "https", "oci", "file"}
    scheme = urlsplit(url).scheme if "://" in url else ""
    return scheme in allowed


# CEL rule text (as in the CRDs) -> a Python predicate over `self`.
CEL_RULES: dict[str, Callable[[Any], bool]] = {
    '!self.contains("*")': lambda s: "*" not in s,
    'self.all(key, !key.contains("*"))': lambda s: all("*" not in k for k in s),
    "self.all(key, key.size() != 0)": lambda s: all(k != "" for k in s),
    "self.size() == 0": lambda s: len(s) == 0,
    "0 < self && self <= 65535": lambda s: 0 < s <= 65535,
    "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1":
        lambda s: _has(s, "selector") + _has(s, "targetRef") + _has(s, "targetRefs") <= 1,
    "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1":
        lambda s: _has(s, "workloadSelector") + _has(s, "targetRefs") <= 1,
    '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)':
        lambda s: s.get("valueFrom", "") != "HOST" or "value" not in s,
    'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) '
    ": !has(self.waypoint)":
        lambda s: (_has(s, "waypoint") if s.get("context") == "WAYPOINT" else not _has(s, "waypoint")),
    'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) '
    '&&\nurl("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])': _url_scheme_ok,
}


@lru_cache(maxsize=1)
def crds() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the CRD version entry, for every served version."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {(f"{c['group']}/{c['version']}", c["kind"]): c for c in data["crds"]}


def _json_schema(node: Any) -> Any:
    """A structural schema node as strict JSON Schema (draft 7)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    if node.get("format") in _INT_FORMATS:
        low, high = _INT_FORMATS[node["format"]]
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=4)
def json_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The JSON Schema for a whole object of `kind`, metadata included."""
    crd = crds()[(api_version, kind)]
    schema: dict[str, Any] = _json_schema(crd["openAPIV3Schema"])
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    schema["properties"] = dict(schema.get("properties", {}))
    schema["properties"].update({
        "apiVersion": {"const": api_version},
        "kind": {"const": kind},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 253, "pattern": _DNS1123_SUBDOMAIN},
                "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS1123_LABEL},
                "labels": string_map,
                "annotations": string_map,
            },
        },
    })
    schema["required"] = ["apiVersion", "kind", "metadata"]
    schema["additionalProperties"] = False
    return schema


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(object)"


def _walk(schema: Mapping[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[tuple[str, str]]:
    """(path, message) for every failed CEL rule and duplicate list-map key below `path`."""
    for validation in schema.get("x-kubernetes-validations", ()):
        rule = validation["rule"]
        check = CEL_RULES.get(rule)
        if check is None:
            yield _path(path), f"cannot evaluate the CRD's validation rule {rule!r}"
            continue
        try:
            ok = check(value)
        except (TypeError, AttributeError):
            ok = False
        if not ok:
            yield _path(path), validation.get("message") or f"failed {rule!r}"
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            child_schema = properties.get(key, extra if isinstance(extra, Mapping) else None)
            if child_schema is not None:
                yield from _walk(child_schema, child, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        list_type = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen: set[str] = set()
        for index, item in enumerate(value):
            if list_type in ("map", "set"):
                marker = json.dumps([item.get(k) for k in keys] if list_type == "map" and isinstance(item, Mapping)
                                    else item, sort_keys=True)
                if marker in seen:
                    yield _path((*path, index)), "duplicate entry"
                seen.add(marker)
            yield from _walk(schema["items"], item, (*path, index))


def validate(obj: Mapping[str, Any]) -> list[str]:
    """Every problem of an Istio object, as `path: message` lines; [] when the API server would accept it."""
    import jsonschema

    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key not in crds():
        known = ", ".join(f"{k} ({v})" for v, k in sorted(crds()))
        return [f"apiVersion/kind: no CRD schema for {key[1]} {key[0]} (known: {known})"]
    validator = jsonschema.Draft7Validator(json_schema(*key))
    problems = [f"{_path(e.absolute_path)}: {e.message}"
                for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]
    spec = obj.get("spec")
    if isinstance(spec, Mapping):
        root = crds()[key]["openAPIV3Schema"]
        problems += [f"{p}: {m}" for p, m in _walk(root["properties"]["spec"], spec, ("spec",))]
    return problems
