"""`check()`: read a module, apply the ABI checks, return a Report. Never raises for a bad module:
a missing, unreadable, empty, truncated or random file is a finding like any other."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from wasmbuild.abi import checks
from wasmbuild.abi.module import ModuleInfo
from wasmbuild.abi.reader import read_module, read_module_file
from wasmbuild.abi.report import Finding, Report, finding
from wasmbuild.abi.rules import rules
from wasmbuild.errors import UsageError

TYPE_CHECKING = False  # not `from typing import ...`: see wasmbuild.record on start-up cost
if TYPE_CHECKING:
    from typing import Any

    Source = str | os.PathLike[str] | bytes | bytearray | memoryview
MEMORY = "<memory>"  # the path reported for modules given as bytes


def resolve_abi(abi: str | None) -> str | None:
    """None or 'auto' -> None (use what the module declares); else a known version, or UsageError."""
    if abi is None or abi == "auto":
        return None
    versions = rules().versions
    if abi.lstrip("v") in versions:
        return abi.lstrip("v")
    raise UsageError(f"unknown ABI version {abi!r}", f"use auto or one of {', '.join(versions)}")


def check(module: Source, abi: str | None = None, *, strict: bool = False, _engine: Any = None) -> Report:
    """Check one module (a path, or the module's bytes) against the proxy-wasm ABI.

    `abi` is the version the module must declare (None or 'auto': whatever it declares). With
    `strict`, wasmtime also validates every function body (slower: it compiles nothing, but reads all).
    """
    requested = resolve_abi(abi)
    data: bytes | bytearray | memoryview | None
    if isinstance(module, (bytes, bytearray, memoryview)):
        path, data = MEMORY, module
        info = read_module(data)
    else:
        path = os.fspath(module)
        try:
            info, data = _read_path(path)
        except OSError as exc:
            return Report(path, None, (_unreadable(path, exc),))
    report = _apply(path, info, requested)
    if strict and info.error is None:
        report = _strict(report, path, data, _engine)
    return report


def check_files(paths: Iterable[Source], abi: str | None = None, *, strict: bool = False) -> list[Report]:
    """Check many modules in one call (the CLI and the pre-commit hook use this)."""
    requested = resolve_abi(abi)
    engine = None
    if strict:
        from wasmbuild.abi import strict as strict_mode

        engine = strict_mode.engine()
    return [check(p, requested, strict=strict, _engine=engine) for p in paths]


def detect_abi(module: bytes | bytearray | memoryview | ModuleInfo) -> str | None:
    """The ABI version a module declares, as cpp-host detects it: the first marker function export."""
    info = module if isinstance(module, ModuleInfo) else read_module(module)
    markers = rules().markers
    for export in info.exports:
        if export.kind == "func" and export.name in markers:
            return markers[export.name]
    return None


# a pipe or device is read whole; this bounds what `wasmbuild check /dev/zero` can take
STREAM_LIMIT = 256 << 20


def _read_path(path: str) -> tuple[ModuleInfo, bytes | None]:
    """The module at `path`, and its bytes when they had to be read whole (not a regular file)."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if stat.S_ISREG(st.st_mode):
        return read_module_file(path), None
    with open(path, "rb") as stream:
        data = stream.read(STREAM_LIMIT + 1)
    if len(data) > STREAM_LIMIT:
        raise OSError(errno.EFBIG, f"more than {STREAM_LIMIT >> 20} MiB from a pipe or device", path)
    return read_module(data), data


def _unreadable(path: str, exc: OSError) -> Finding:
    if exc.errno == errno.ENOENT:
        why, fix = "no such file", "check the path (did the build produce it?)"
    elif exc.errno == errno.EISDIR:
        why, fix = "it is a directory", "pass the .wasm files inside it"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why, fix = "permission denied", "check the file's permissions"
    else:
        why, fix = exc.strerror or str(exc), "check the file"
    return finding("unreadable", None, f"cannot read {path}: {why}. Fix: {fix}")


def _apply(path: str, info: ModuleInfo, requested: str | None) -> Report:
    if info.error is not None:
        error = info.error
        if error.code == "not-wasm":
            message = (f"not a WebAssembly module: {error.message}: Envoy refuses to load it: "
                       f"'Failed to parse corrupted Wasm module'. Fix: {error.hint}")
        else:
            where = f" (at byte {error.offset})" if error.offset is not None else ""
            message = (f"{error.message}{where}: Envoy refuses to load it: 'Failed to parse corrupted Wasm "
                       "module'. Fix: rebuild it; a file cut short by a copy or download is the usual cause")
        return Report(path, None, (finding(error.code, None, message),), info.size, info)
    table = rules()
    declared, findings = checks.markers(info, table, requested)
    version = declared or requested
    for run in checks.ALL:
        findings.extend(run(info, table, version))
    findings.sort(key=lambda f: _RANK.get(f.severity, 3))  # errors first; stable within a severity
    return Report(path, declared, tuple(findings), info.size, info)


_RANK = {"error": 0, "warning": 1, "info": 2}


def _strict(report: Report, path: str, data: bytes | bytearray | memoryview | None, engine: Any) -> Report:
    from wasmbuild.abi import strict

    if data is None:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            return report._replace(findings=(*report.findings, _unreadable(path, exc)))
    reason = strict.validate(bytes(data), engine)
    if reason is None:
        return report
    problem = finding("invalid-module", None, (
        f"wasmtime rejects the module: {reason}: Envoy refuses to load it: 'Failed to load Wasm module'. "
        "Fix: rebuild it; a compiler that emits invalid code, a wasm feature proxy-wasm hosts do not enable "
        "(GC, exceptions, memory64) or a post-processing tool that broke it is the usual cause"))
    return report._replace(findings=(*report.findings, problem))
