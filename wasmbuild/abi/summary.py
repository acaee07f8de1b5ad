"""What `wasmbuild inspect` shows: a reviewer's view of a module, as plain JSON-able data.

ABI version, imports grouped by module, exported callbacks, memory limits, section sizes, whether
the module carries a name section or debug info, and the check verdict. The CLI renders it as
text or prints it as JSON; build/package may store it beside the module.
"""

from __future__ import annotations

from typing import Any

from wasmbuild.abi.module import PAGE_SIZE, Limits, ModuleInfo
from wasmbuild.abi.report import Report
from wasmbuild.abi.rules import rules

# custom sections that carry debug information (DWARF, source maps, split DWARF pointers)
DEBUG_PREFIXES = (".debug_", "sourceMappingURL", "external_debug_info", "reloc.", "linking")


def summarize(report: Report) -> dict[str, Any]:
    """The inspect view of a checked module (report.module must be set)."""
    info = report.module
    assert info is not None, "summarize() needs a report whose module could be read"
    table = rules()
    marker = next((e.name for e in info.exports if e.kind == "func" and e.name in table.markers), None)
    callbacks, entry, allocators, other = [], [], [], []
    for export in info.exports:
        if export.kind == "func" and export.name == marker:
            continue
        item = {"name": export.name, "kind": export.kind, "type": str(export.type) if export.type else None}
        if export.name in table.allocators:
            allocators.append(export.name)
        elif export.name in table.entry_points:
            entry.append(export.name)
        elif export.name.startswith(table.callback_prefix) and export.kind == "func":
            callbacks.append(export.name)
        elif export.kind != "memory":
            other.append(item)
    imports: dict[str, list[dict[str, Any]]] = {}
    for imp in info.imports:
        detail = imp.type or imp.limits or imp.glob
        imports.setdefault(imp.module, []).append(
            {"name": imp.name, "kind": imp.kind, "type": str(detail) if detail is not None else None})
    customs = [s.name for s in info.custom_sections()]
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return {
        "path": report.path,
        "size": info.size,
        "abi": report.abi or (table.markers[marker] if marker else None),
        "marker": marker,
        "ok": report.ok,
        "findings": counts,
        "codes": sorted({f.code for f in report.findings}),
        "error": info.error.message if info.error else None,
        "producers": _producers(info),
        "memories": _memories(info),
        "allocators": allocators,
        "entry_points": entry,
        "callbacks": callbacks,
        "other_exports": other,
        "imports": imports,
        "functions": {"imported": len(info.imported("func")), "defined": info.functions},
        "start": info.start,
        "sections": [{"id": s.id, "name": s.label, "offset": s.offset, "size": s.size} for s in info.sections],
        "name_section": "name" in customs,
        "debug_sections": [n for n in customs if n.startswith(DEBUG_PREFIXES)],
    }


def _producers(info: ModuleInfo) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, name, version in info.producers:
        out.setdefault(field, []).append(f"{name} {version}".strip())
    return out


def _limits(limits: Limits) -> dict[str, Any]:
    return {"min_pages": limits.minimum, "max_pages": limits.maximum, "min_bytes": limits.minimum * PAGE_SIZE,
            "max_bytes": None if limits.maximum is None else limits.maximum * PAGE_SIZE, "shared": limits.shared,
            "memory64": limits.is64}


def _memories(info: ModuleInfo) -> list[dict[str, Any]]:
    spaces: list[tuple[str | None, Limits | None]] = [(i.symbol, i.limits) for i in info.imported("memory")]
    spaces += [(None, m) for m in info.memories]
    out = []
    for index, (import_name, limits) in enumerate(spaces):
        names = [e.name for e in info.exports if e.kind == "memory" and e.index == index]
        entry: dict[str, Any] = {"index": index, "exported_as": names, "imported_from": import_name}
        if limits is not None:
            entry.update(_limits(limits))
        out.append(entry)
    return out
