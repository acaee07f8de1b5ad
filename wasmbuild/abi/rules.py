"""The check tables, derived from the ABI data (abi/data/proxy-wasm-abi.json via `spec.load()`).

Nothing here restates the ABI: every name, signature and version list comes from the data file.
This module only reshapes it into lookups: per ABI version, which imports the host provides and
with which type, and which exports it looks up and with which type.
"""

from __future__ import annotations

from functools import lru_cache

from wasmbuild.abi import spec
from wasmbuild.abi.module import FuncType

TYPE_CHECKING = False  # not `from typing import ...`: see wasmbuild.record on start-up cost
if TYPE_CHECKING:
    from typing import Any


class HostImport:
    """Something a proxy-wasm host provides for the module to import."""

    __slots__ = ("envoy_only", "module", "name", "note", "type", "versions", "wasi_type")

    def __init__(self, module: str, name: str, type: FuncType, versions: tuple[str, ...], note: str = "",
                 envoy_only: bool = False, wasi_type: FuncType | None = None) -> None:
        self.module = module
        self.name = name
        self.type = type
        self.versions = versions  # ABI versions whose host registers it
        self.note = note
        self.envoy_only = envoy_only
        self.wasi_type = wasi_type  # set when cpp-host registers a different type than WASI defines

    def __repr__(self) -> str:
        return f"HostImport({self.module}.{self.name}: {self.type}, ABI {', '.join(self.versions)})"


class ExportRule:
    """An export the host looks up, with the type it expects per ABI version."""

    __slots__ = ("name", "required", "section", "types")

    def __init__(self, name: str, types: dict[str, FuncType], section: str, required: str) -> None:
        self.name = name
        self.types = types  # ABI version -> expected type
        self.section = section
        self.required = required

    def __repr__(self) -> str:
        return f"ExportRule({self.name}: {self.types})"


class Rules:
    """The lookups the checks use. Built once per process (plain slots, not NamedTuples: these are
    internal and their class creation would cost start-up time)."""

    __slots__ = ("allocators", "callback_prefix", "entry_points", "exports", "foreign_imports", "imports",
                 "marker_prefix", "markers", "max_memory_bytes", "memory_name", "misnamed_exports",
                 "root_callback", "signature_section", "stream_callbacks", "stripped_prefix",
                 "unaccepted_markers", "versions")

    versions: tuple[str, ...]
    markers: dict[str, str]  # marker export name -> ABI version
    unaccepted_markers: dict[str, str]  # e.g. vNEXT marker -> description
    marker_prefix: str
    imports: dict[tuple[str, str], HostImport]
    exports: dict[str, ExportRule]
    allocators: tuple[str, ...]
    entry_points: tuple[str, ...]
    stream_callbacks: frozenset[str]
    root_callback: str
    callback_prefix: str
    foreign_imports: dict[tuple[str, str], dict[str, str]]
    misnamed_exports: dict[str, str]
    stripped_prefix: str
    signature_section: str
    memory_name: str
    max_memory_bytes: int

    def __init__(self, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(self, key, value)

    def host_type(self, module: str, name: str, version: str | None) -> HostImport | None:
        """What the host of `version` (any version when None) provides under module.name."""
        found = self.imports.get((module, name))
        if found is None or (version is not None and version not in found.versions):
            return None
        return found


def _valtypes(items: Any) -> tuple[str, ...]:
    """Params/results appear in three shapes in the data: [{name, type}], ["i32 name"], "i32 a, i32 b"."""
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    out = []
    for item in items:
        text = item["type"] if isinstance(item, dict) else item
        out.append(text.split()[0])
    return tuple(t for t in out if t in ("i32", "i64", "f32", "f64"))


@lru_cache(maxsize=1)
def rules() -> Rules:
    data = spec.load()
    checker = data["checker"]
    versions = spec.versions()
    markers: dict[str, str] = {}
    unaccepted: dict[str, str] = {}
    for version, marker in data["abi_markers"].items():
        if version in versions:
            markers[marker] = version
        else:
            unaccepted[marker] = version
    # the part of a marker before its version digits ("proxy_abi_version_")
    prefix = _common_prefix([m[: -len(v)] for m, v in markers.items()])

    imports: dict[tuple[str, str], HostImport] = {}
    for fn in data["host_functions"]:
        imports[(fn["module"], fn["name"])] = HostImport(
            fn["module"], fn["name"], FuncType(_valtypes(fn["params"]), tuple(fn["results"])),
            tuple(fn["abi"]), fn.get("notes", ""))
    registration = data["cpp_host_registration"]
    envoy_only = set(registration["envoy_only_env"])
    for fn in data["extra_env_imports"]:
        imports[(fn["module"], fn["name"])] = HostImport(
            fn["module"], fn["name"], FuncType(_valtypes(fn["params"]), _valtypes(fn["results"])), versions,
            fn.get("note", ""), envoy_only=fn["name"] in envoy_only)
    cpp_wasi = checker["cpp_host_wasi_params"]
    for fn in data["wasi_functions"]:
        wasi_type = FuncType(_valtypes(fn["params"]), _valtypes([fn["result"]]))
        host_type, differs = wasi_type, None
        if fn["name"] in cpp_wasi:
            host_type, differs = FuncType(tuple(cpp_wasi[fn["name"]]), wasi_type.results), wasi_type
        for module in fn["modules"]:
            imports[(module, fn["name"])] = HostImport(module, fn["name"], host_type, versions,
                                                       fn.get("cpp_host_behavior", ""), wasi_type=differs)

    exports: dict[str, ExportRule] = {}
    for ex in data["module_exports"]:
        if ex["name"] in markers or "<" in ex["name"]:
            continue
        types = {}
        for sig in ex["signatures"]:
            for version in sig["abi"]:
                types[version] = FuncType(_valtypes(sig["params"]), tuple(sig["results"]))
        exports[ex["name"]] = ExportRule(ex["name"], types, ex["section"], ex.get("required", ""))
    for ex in data["extra_module_exports"]:
        ftype = FuncType(_valtypes(ex["params"]), _valtypes(ex["results"]))
        exports[ex["name"]] = ExportRule(ex["name"], dict.fromkeys(versions, ftype), "host lookups", "optional")

    sections = set(checker["stream_callback_sections"])
    return Rules(
        versions=versions,
        markers=markers,
        unaccepted_markers=unaccepted,
        marker_prefix=prefix,
        imports=imports,
        exports=exports,
        allocators=tuple(registration["allocator_lookup_order"]),
        entry_points=tuple(checker["entry_points"]),
        stream_callbacks=frozenset(n for n, r in exports.items() if r.section in sections),
        root_callback=checker["root_callback"],
        callback_prefix=_common_prefix([n for n, r in exports.items() if r.section not in ("Integration",
                                                                                           "host lookups",
                                                                                           "Memory management")]),
        foreign_imports={(f["module"], f["name"]): f for f in checker["foreign_imports"]},
        misnamed_exports=dict(checker["misnamed_exports"]),
        stripped_prefix=checker["custom_sections"]["stripped_prefix"],
        signature_section=checker["custom_sections"]["signature"],
        memory_name=checker["memory_export_name"],
        max_memory_bytes=int(registration["limits"]["max_wasm_memory_bytes"]),
    )


def _common_prefix(names: list[str]) -> str:
    if not names:
        return ""
    first, last = min(names), max(names)
    i = 0
    while i < len(first) and i < len(last) and first[i] == last[i]:
        i += 1
    return first[:i]
