"""Loading a module: compile (with an on-disk cache), find its ABI version, and check that every
import is one the host links for that version, as Envoy would before instantiating it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import wasmtime

from wasmbuild import __version__, abi, files
from wasmbuild.errors import FilterFailure, WasmbuildError
from wasmbuild.host import tables
from wasmbuild.host.tables import Signature

_ENGINE_TAG = "fuel1-nomove"  # bump when the engine configuration below changes


@lru_cache(maxsize=1)
def engine() -> wasmtime.Engine:
    """The process's one engine: fuel metering on, so every callback can be given a budget."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.cranelift_opt_level = "speed"
    config.memory_may_move = False  # linear memory grows in place: the host caches its base address
    return wasmtime.Engine(config)


def _cache_dir() -> Path:
    from wasmbuild.paths import home

    return home() / "cache" / "compiled"


def compile_module(data: bytes) -> wasmtime.Module:
    """Compile `data`, reusing a serialized artifact compiled earlier by this wasmtime.

    Compiling a C++ or Rust filter takes a noticeable fraction of a second; test suites load the
    same module many times, so the artifact is cached by content hash. A cache that cannot be
    read or written is ignored (it is only a cache).
    """
    return _compile_cached(hashlib.sha256(data).hexdigest(), data)


@lru_cache(maxsize=16)
def _compile_cached(digest: str, data: bytes) -> wasmtime.Module:
    eng = engine()
    version = getattr(wasmtime, "__version__", "") or _wasmtime_version()
    key = hashlib.sha256(f"{digest}:{version}:{_ENGINE_TAG}:{__version__}".encode()).hexdigest()
    path = _cache_dir() / f"{key}.cwasm"
    if path.is_file():
        try:
            return wasmtime.Module.deserialize_file(eng, str(path))
        except (wasmtime.WasmtimeError, OSError):
            pass
    try:
        module = wasmtime.Module(eng, data)
    except wasmtime.WasmtimeError as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        reason = lines[0] if lines else "invalid module"
        if "Caused by:" in lines:
            causes = [re.sub(r"^\d+:\s*", "", line) for line in lines[lines.index("Caused by:") + 1:]]
            reason += ": " + "; ".join(c for c in causes if c)
        raise FilterFailure(f"not a valid WebAssembly module: {reason}",
                            "check that the file is the .wasm your build produced") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, module.serialize(), sync=False)
    except (OSError, WasmbuildError):
        pass
    return module


@lru_cache(maxsize=1)
def _wasmtime_version() -> str:
    try:
        from importlib.metadata import version

        return version("wasmtime")
    except Exception:
        return "unknown"


@dataclass(frozen=True)
class ModuleInfo:
    abi: str
    marker: str
    exports: dict[str, Signature]  # exported functions
    memories: tuple[str, ...]  # exported memories, in export order
    export_names: dict[int, str]  # function index -> export name, to name frames of stripped modules


def _signature(functype: abi.FuncType | None) -> Signature:
    return Signature(tuple(functype.params), tuple(functype.results)) if functype else Signature((), ())


def read(data: bytes) -> abi.ModuleInfo:
    """The module's structure from wasmbuild.abi's reader (no compilation), or a FilterFailure."""
    info = abi.read_module(data)
    if info.error is not None:
        if info.error.code == "not-wasm":
            raise FilterFailure(f"not a WebAssembly module: {info.error.message}",
                                info.error.hint or "check that the file is the .wasm your build produced")
        compile_module(data)  # wasmtime's own account of what is wrong, when it has one
        where = f" at offset {info.error.offset}" if info.error.offset is not None else ""
        raise FilterFailure(f"the module is malformed{where}: {info.error.message}",
                            info.error.hint or "rebuild it; the file may be truncated")
    return info


def detect_abi(info: abi.ModuleInfo) -> tuple[str, str]:
    """(ABI version, marker) from the first marker export, as cpp-host picks it."""
    version = abi.detect_abi(info)
    if version is not None and version in tables.ABI_VERSIONS:
        marker = next(m for m, v in tables.markers().items() if v == version)
        return version, marker
    wip = [e.name for e in info.exports if e.name.startswith("proxy_abi_version_")]
    if wip:
        raise FilterFailure(f"the module declares an ABI version hosts do not accept ({wip[0]})",
                            "build it with an SDK that targets ABI 0.2.1, 0.2.0 or 0.1.0")
    raise FilterFailure("the module has no proxy-wasm ABI marker export (proxy_abi_version_0_2_1, 0_2_0 or 0_1_0); "
                        "Envoy refuses it with 'Missing or unknown Proxy-Wasm ABI version'",
                        "is this a proxy-wasm filter? SDKs export the marker for you; hand-written modules "
                        "must export a function named like proxy_abi_version_0_2_1")


def inspect(info: abi.ModuleInfo) -> ModuleInfo:
    """The ABI version, function exports and memories, after checking imports against the ABI."""
    version, marker = detect_abi(info)
    exports = {e.name: _signature(e.type) for e in info.exports if e.kind == "func"}
    memories = tuple(e.name for e in info.exports if e.kind == "memory")
    names: dict[int, str] = {}
    for export in info.exports:
        if export.kind == "func":
            names.setdefault(export.index, export.name)
    check_imports(info, version)
    check_exports(exports, version)
    if not memories:
        raise FilterFailure("the module exports no memory, so the host cannot exchange data with it",
                            "export the linear memory as 'memory' (SDK builds do)")
    if not any(name in exports for name in tables.allocators()):
        raise FilterFailure("Wasm module is missing malloc function (it exports neither malloc nor "
                            "proxy_on_memory_allocate), so Envoy refuses to load it",
                            "export an allocator (i32) -> i32 named malloc or proxy_on_memory_allocate")
    return ModuleInfo(version, marker, exports, memories, names)


def check_imports(info: abi.ModuleInfo, version: str) -> None:
    """Fail as Envoy's link step would, with a message saying why and what to do."""
    linked = {(f.module, f.name): f.signature for f in tables.host_functions(version)}
    versions = tables.proxy_function_versions()
    for imp in info.imports:
        where = imp.symbol
        if imp.kind != "func":
            raise FilterFailure(f"the module imports a {imp.kind} ({where}); proxy-wasm hosts provide only functions",
                                "define the memory/table/global inside the module and export it instead")
        wanted = linked.get((imp.module, imp.name))
        if wanted is None:
            if imp.module == "env" and imp.name in versions:
                have = ", ".join(versions[imp.name])
                raise FilterFailure(f"the module imports {where}, which exists only in ABI {have}, but its marker "
                                    f"declares ABI {version}: Envoy does not link it for this version",
                                    "use the call of the declared ABI version (e.g. proxy_continue_stream instead "
                                    "of proxy_continue_request for 0.2.x) or build against the matching SDK")
            hint = "proxy-wasm hosts provide env.proxy_* and WASI preview1 functions only"
            if (imp.module, imp.name) == ("env", "abort"):
                hint = "AssemblyScript: build with --use abort=abort_proc_exit so the runtime does not import env.abort"
            raise FilterFailure(f"the module imports {where}, which no proxy-wasm host provides", hint)
        got = _signature(imp.type)
        if got != wanted:
            raise FilterFailure(f"the module imports {where} with type {got}, but the host provides {wanted}",
                                "declare the import with the ABI's signature (see the proxy-wasm spec)")


def check_exports(exports: dict[str, Signature], version: str) -> None:
    """Callbacks with the wrong type fail the load, as under V8 (Envoy's default runtime)."""
    expected = tables.callback_signatures(version)
    for name, got in exports.items():
        want = expected.get(name)
        if want is not None and got != want:
            raise FilterFailure(f"Bad function signature for: {name}, want: {want} but the module exports: {got} "
                                f"(ABI {version})",
                                "0.1.0 header callbacks take (context_id, num_headers); 0.2.x add end_of_stream")
