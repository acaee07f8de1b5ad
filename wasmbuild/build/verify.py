"""The ABI check every build ends with: an error finding fails the build (exit 4), warnings are shown."""

from __future__ import annotations

from typing import Any, NamedTuple

from wasmbuild import console
from wasmbuild.errors import BuildError


def check_module(module: bytes, abi: str | None) -> Any:
    """wasmbuild.abi.check's Report for the module (`.ok`, `.abi`, `.findings`)."""
    try:
        from wasmbuild.abi import check  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # until the checker lands on main: the essentials only
        return _essentials(module, abi)
    return check(module, abi)


class _Finding(NamedTuple):
    code: str
    severity: str
    symbol: str | None
    message: str


class _Report(NamedTuple):
    abi: str | None
    findings: tuple[_Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def _essentials(module: bytes, abi: str | None) -> _Report:
    """Magic, ABI marker, memory and allocator exports: what Envoy refuses to load without."""
    if module[:8] != b"\0asm\x01\0\0\0":
        return _Report(None, (_Finding("not-wasm", "error", None, "not a WebAssembly module"),))
    exports: dict[str, int] = {}
    pos = 8
    try:
        while pos < len(module):
            section = module[pos]
            size, pos = _leb(module, pos + 1)
            if section == 7:
                count, p = _leb(module, pos)
                for _ in range(count):
                    length, p = _leb(module, p)
                    name = module[p:p + length].decode("utf-8", errors="replace")
                    kind = module[p + length]
                    _index, p = _leb(module, p + length + 1)
                    exports[name] = kind
            pos += size
    except IndexError:
        return _Report(None, (_Finding("malformed", "error", None, "the module is truncated"),))
    markers = [n for n, k in exports.items() if k == 0 and n.startswith("proxy_abi_version_")]
    declared = markers[0][len("proxy_abi_version_"):].replace("_", ".") if markers else None
    findings: list[_Finding] = []
    if declared is None:
        findings.append(_Finding("missing-abi-marker", "error", None, "no proxy_abi_version_* function export"))
    elif abi and declared != abi:
        findings.append(_Finding("abi-mismatch", "error", markers[0], f"declares ABI {declared}, not {abi}"))
    if not any(k == 2 for k in exports.values()):
        findings.append(_Finding("missing-memory", "error", None, "no exported memory"))
    if "malloc" not in exports and "proxy_on_memory_allocate" not in exports:
        findings.append(_Finding("missing-allocator", "error", None,
                                 "neither malloc nor proxy_on_memory_allocate is exported"))
    return _Report(declared, tuple(findings))


def require_ok(report: Any, what: str) -> None:
    """Print warnings; raise BuildError listing every error finding."""
    errors = [f for f in report.findings if f.severity == "error"]
    for finding in report.findings:
        if finding.severity == "warning":
            console.warn(f"{finding.code}: {finding.message}")
    if errors:
        lines = "\n".join(f"  {f.code}{' (' + f.symbol + ')' if f.symbol else ''}: {f.message}" for f in errors)
        raise BuildError(f"{what} fails the proxy-wasm ABI check ({len(errors)} "
                         f"error{'s' if len(errors) != 1 else ''}):\n{lines}",
                         "fix the module's exports/imports; 'wasmbuild check FILE' shows every finding")
