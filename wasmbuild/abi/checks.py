"""The proxy-wasm ABI checks V2 to V16 (proxy-wasm-abi.md section 1) over a parsed module.

Each check is a function `(info, rules, version) -> list[Finding]`; the tables come from
`wasmbuild.abi.rules` (the ABI data), the messages say what Envoy would do and how to fix it.
Envoy's quoted errors are cpp-host's, with the V8 runtime Envoy uses by default: it is the
strictest of the hosts, so a module that passes here loads everywhere.
"""

from __future__ import annotations

from wasmbuild.abi.module import PAGE_SIZE, Export, FuncType, ModuleInfo
from wasmbuild.abi.report import Finding, finding
from wasmbuild.abi.rules import Rules

REFUSES = "Envoy refuses to load it"


def _missing_import(symbol: str) -> str:
    return f"{REFUSES}: 'Failed to load Wasm module due to a missing import: {symbol}'"


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def markers(info: ModuleInfo, rules: Rules, requested: str | None) -> tuple[str | None, list[Finding]]:
    """V2, V3: exactly one accepted ABI marker, exported as a function. Returns the declared version."""
    out: list[Finding] = []
    known = [e for e in info.exports if e.kind == "func" and e.name in rules.markers]
    others = [e for e in info.exports if e.name.startswith(rules.marker_prefix) and e not in known]
    accepted = ", ".join(rules.markers)
    declared = rules.markers[known[0].name] if known else None
    for export in others:
        if export.name in rules.markers:  # right name, wrong kind
            if not known:
                out.append(finding("missing-abi-marker", export.name, (
                    f"{export.name} is exported as {_a(export.kind)}, but hosts only recognise a function export: "
                    f"{REFUSES}: 'Missing or unknown Proxy-Wasm ABI version'. Fix: export it as a function "
                    "(an empty function with no parameters)")))
            continue
        what = rules.unaccepted_markers.get(export.name, "not an ABI version any host knows")
        if known:
            out.append(finding("unknown-abi-marker", export.name, (
                f"{export.name} ({what}) is ignored: Envoy uses {known[0].name}. Fix: remove it"), "warning"))
        else:
            out.append(finding("unknown-abi-marker", export.name, (
                f"{export.name} is {what}: {REFUSES}: 'Missing or unknown Proxy-Wasm ABI version'. "
                f"Fix: build with a released proxy-wasm SDK, which exports one of {accepted}")))
    if not known and not out:
        out.append(finding("missing-abi-marker", None, (
            f"exports no ABI version marker ({accepted}): {REFUSES}: 'Missing or unknown Proxy-Wasm ABI "
            "version'. Fix: build with a proxy-wasm SDK (it exports the marker), or export an empty function "
            f"named after the ABI version you target (e.g. {list(rules.markers)[-1]})")))
    if len(known) > 1:
        ignored = ", ".join(e.name for e in known[1:])
        out.append(finding("multiple-abi-markers", ", ".join(e.name for e in known), (
            f"exports {len(known)} ABI markers: Envoy uses the first in export order, {known[0].name} "
            f"(ABI {declared}), and ignores {ignored}. Fix: export exactly one marker (are two SDK versions "
            "linked into the module?)")))
    if requested and declared and requested != declared:
        out.append(finding("abi-mismatch", known[0].name, (
            f"the module declares ABI {declared} but ABI {requested} was asked for: Envoy runs it as {declared}. "
            f"Fix: build it for ABI {requested} (the SDK version decides the marker), or check with --abi {declared}")))
    return declared, out


def imports(info: ModuleInfo, rules: Rules, version: str | None) -> list[Finding]:
    """V4, V5, V6, V14: every import must be something the host of that ABI version provides."""
    out: list[Finding] = []
    for imp in info.imports:
        symbol = imp.symbol
        if imp.kind == "global":
            out.append(finding("imported-global", symbol, (
                f"imports the global {symbol} ({imp.glob}): proxy-wasm hosts provide no globals, so "
                f"{_missing_import(symbol)}. Fix: build a standalone "
                "module (no -shared / -sSIDE_MODULE / PIC dynamic linking) so the module defines its globals")))
            continue
        if imp.kind in ("memory", "table"):
            flag = "--import-memory / -sIMPORTED_MEMORY" if imp.kind == "memory" else "--import-table"
            out.append(finding(f"imported-{imp.kind}", symbol, (
                f"imports its {imp.kind} {symbol} ({imp.limits}): Envoy's V8 runtime creates it, but Envoy's "
                f"wasmtime runtime and other hosts fail to instantiate the module. Fix: let the module define "
                f"and export its {imp.kind} (drop {flag})")))
            continue
        host = rules.host_type(imp.module, imp.name, version)
        if host is None:
            out.append(_unknown_import(imp.module, imp.name, imp.kind, rules, version))
            continue
        if imp.kind != "func":
            out.append(finding("import-type-mismatch", symbol, (
                f"imports {symbol} as {_a(imp.kind)}, but the host provides a function {host.type}: "
                f"{REFUSES} (import type mismatch). Fix: declare it as a function import")))
        elif imp.type != host.type:
            extra = ""
            if host.wasi_type is not None and imp.type == host.wasi_type:
                extra = (f" (that is WASI's own signature, but cpp-host registers {imp.name} with {host.type}: "
                         "a known cpp-host bug, so avoid calling it)")
            out.append(finding("import-type-mismatch", symbol, (
                f"the module wants {symbol}: {imp.type} but the host provides {host.type}{extra}: {REFUSES}: "
                f"'Failed to load Wasm module due to an import type mismatch: {symbol}'. "
                f"Fix: declare the import as {host.type}")))
        elif host.envoy_only:
            out.append(finding("envoy-only-import", symbol, (
                f"{symbol} is provided by Envoy only: it loads in Envoy and Istio, but other proxy-wasm hosts "
                f"fail with a missing import")))
    return out


def _unknown_import(module: str, name: str, kind: str, rules: Rules, version: str | None) -> Finding:
    symbol = f"{module}.{name}"
    other = rules.imports.get((module, name))
    if other is not None and version is not None and kind == "func":
        need = ", ".join(other.versions)
        note = other.note.split(". ")[0].rstrip(".") if other.note else ""
        marker = next((m for m, v in rules.markers.items() if v == other.versions[-1]), "")
        return finding("import-version-mismatch", symbol, (
            f"{name} exists only in ABI {need}, but this module declares ABI {version}: {_missing_import(symbol)}. "
            f"Fix: use the ABI {version} API instead{f' ({note})' if note else ''}, or build for ABI "
            f"{other.versions[-1]} ({marker})"))
    foreign = rules.foreign_imports.get((module, name))
    if foreign is not None:
        fix = f"it comes from {foreign['source']}. Fix: {foreign['fix']}"
    else:
        modules = sorted({m for m, _ in rules.imports})
        same_module = [n for m, n in rules.imports if m == module]
        guess = _close(name, same_module)
        if guess:
            fix = f"Fix: did you mean {module}.{guess}?"
        elif same_module:
            fix = (f"Fix: remove what calls it (a library needs {name}, which the host does not provide; "
                   "check the linker's undefined symbols)")
        else:
            fix = f"Fix: proxy-wasm hosts provide imports from {', '.join(modules)} only"
    return finding("unknown-import", symbol, f"{_missing_import(symbol)}; {fix}")


def _close(name: str, candidates: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    return found[0] if found else None


def memory(info: ModuleInfo, rules: Rules, version: str | None) -> list[Finding]:
    """V7: a memory is exported (as 'memory'), of a size the host accepts."""
    exported = [e for e in info.exports if e.kind == "memory"]
    if not exported:
        has = bool(info.memories) or bool(info.imported("memory"))
        what = "defines a memory but does not export it" if has else "has no memory"
        return [finding("missing-memory", rules.memory_name, (
            f"the module {what}: Envoy cannot pass data to it, every host call with a buffer fails "
            f"(cpp-host asserts on the missing memory). Fix: export the memory as '{rules.memory_name}' "
            "(the default of every toolchain: do not strip or rename the export)"))]
    out: list[Finding] = []
    if not any(e.name == rules.memory_name for e in exported):
        out.append(finding("memory-name", exported[0].name, (
            f"the memory is exported as {exported[0].name!r}, not {rules.memory_name!r}: Envoy takes the first "
            f"exported memory whatever its name, but other hosts and the proxy-wasm test tools require "
            f"{rules.memory_name!r}. Fix: export it as {rules.memory_name!r}")))
    imported = info.imported("memory")
    index = exported[0].index
    limits = imported[index].limits if index < len(imported) else info.memories[index - len(imported)]
    if limits is not None and limits.minimum * PAGE_SIZE > rules.max_memory_bytes:
        out.append(finding("memory-too-large", exported[0].name, (
            f"the memory starts at {limits.minimum} pages ({limits.minimum * PAGE_SIZE >> 20} MiB), more than the "
            f"{rules.max_memory_bytes >> 20} MiB cpp-host allows a wasm VM: Envoy fails to start it. "
            "Fix: lower the initial memory (linker --initial-memory, -sINITIAL_MEMORY)")))
    return out


def exports(info: ModuleInfo, rules: Rules, version: str | None) -> list[Finding]:
    """V8, V9, V10, V13, V16: the exports the host looks up have the right types; allocator present."""
    out: list[Finding] = []
    by_name = {e.name: e for e in info.exports}
    for export in info.exports:
        rule = rules.exports.get(export.name)
        if rule is None:
            if export.name.startswith(rules.callback_prefix) and export.kind == "func":
                out.append(_unknown_callback(export.name, rules, None))
            continue
        if version is not None and version not in rule.types:
            if export.name.startswith(rules.callback_prefix):
                out.append(_unknown_callback(export.name, rules, version))
            continue
        wanted = [rule.types[version]] if version else list(dict.fromkeys(rule.types.values()))
        problem = _signature_problem(export, wanted, rule.types, version)
        if problem:
            out.append(finding("signature-mismatch", export.name, problem))
    if not any(name in by_name for name in rules.allocators):
        want = _allocator_type(rules, version)
        names = " nor ".join(rules.allocators)
        out.append(finding("missing-allocator", rules.allocators[0], (
            f"exports neither {names} {want}: {REFUSES}: 'Wasm module is missing malloc function.' Fix: export an "
            f"allocator; the proxy-wasm SDKs do (C++/Emscripten: link with -sEXPORTED_FUNCTIONS=_malloc; "
            "AssemblyScript: re-export the SDK's exports from index.ts; Rust: depend on the proxy-wasm crate)")))
    if not any(name in by_name for name in rules.entry_points):
        out.append(finding("no-entry-point", None, (
            f"exports none of {', '.join(rules.entry_points)}: Envoy calls the callbacks directly, so any "
            "start-up code (C++ static constructors, a language runtime's set-up) never runs. Fine if the "
            "SDK needs none")))
    return out


def _allocator_type(rules: Rules, version: str | None) -> FuncType | None:
    rule = rules.exports.get(rules.allocators[0])
    if rule is None:
        return None
    return rule.types.get(version or rules.versions[-1])


def _signature_problem(export: Export, wanted: list[FuncType], by_version: dict[str, FuncType],
                       version: str | None) -> str | None:
    want = " or ".join(str(w) for w in wanted)
    if export.kind != "func":
        return (f"{export.name} is exported as {_a(export.kind)}, but the host calls it as a function {want}: "
                f"{REFUSES}. Fix: export a function {want}")
    if export.type in wanted:
        return None
    got = export.type
    other = [v for v, t in by_version.items() if t == got]
    hint = f" ({got} is the ABI {', '.join(other)} signature; this module declares ABI {version})" if other else ""
    return (f"{REFUSES}: 'Bad function signature for: {export.name}, want: {want} but the module exports: "
            f"{got}'{hint}. Fix: give {export.name} the type {want}")


def _unknown_callback(name: str, rules: Rules, version: str | None) -> Finding:
    rule = rules.exports.get(name)
    if rule is not None and version is not None:
        return finding("unknown-callback", name, (
            f"{name} exists only in ABI {', '.join(rule.types)}; with ABI {version} Envoy never calls it. "
            f"Fix: build for ABI {list(rule.types)[-1]} or remove it"))
    right = rules.misnamed_exports.get(name) or _close(
        name, [n for n in rules.exports if n.startswith(rules.callback_prefix)])
    fix = f"Fix: did you mean {right}?" if right else "Fix: rename it to a proxy-wasm callback or stop exporting it"
    return finding("unknown-callback", name, f"{name} is not a proxy-wasm callback: Envoy never calls it. {fix}")


def callbacks(info: ModuleInfo, rules: Rules, version: str | None) -> list[Finding]:
    """A module no callback of which the host would call loads fine but does nothing."""
    names = {e.name for e in info.exports if e.kind == "func"}
    known = {n for n in names if n in rules.exports and n.startswith(rules.callback_prefix)
             and n not in rules.allocators}
    if not known:
        return [finding("no-callbacks", None, (
            f"exports no {rules.callback_prefix}* callbacks: Envoy loads it but never calls into it. Fix: "
            "implement a root context and an HTTP or TCP context with your SDK")), ]
    if rules.root_callback not in known and not known & rules.stream_callbacks:
        return [finding("no-callbacks", rules.root_callback, (
            f"exports neither {rules.root_callback} nor any HTTP or TCP callback: Envoy creates no context for "
            "it, so it never sees traffic. Fix: register a root context and an HTTP or TCP context with your SDK"))]
    return []


def custom_sections(info: ModuleInfo, rules: Rules, version: str | None) -> list[Finding]:
    """V15: custom sections with a meaning for the host."""
    out: list[Finding] = []
    for index, section in enumerate(info.sections):
        if section.id != 0:
            continue
        if section.name.startswith(rules.stripped_prefix):
            out.append(finding("precompiled-section", section.name, (
                f"custom section {section.name!r} ({section.size} bytes): Envoy strips precompiled_* sections "
                "before loading, so this precompiled code is never used")))
        elif section.name == rules.signature_section:
            where = "" if index == 0 else " It is not the first section, so verification would fail."
            out.append(finding("signature-section", section.name, (
                "carries a wasmsign2 signature: Envoy verifies it only when built with "
                f"PROXY_WASM_VERIFY_WITH_ED25519_PUBKEY; otherwise it is ignored.{where}")))
    return out


ALL = (imports, memory, exports, callbacks, custom_sections)
