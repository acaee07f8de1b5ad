"""The result of a check: findings with stable codes, and a report per module.

Findings are data, not exceptions: `check` collects every problem of a module (nox's Result style)
and only the CLI and the pre-commit hook turn a failed report into an exit code. Records, not
dataclasses, for the start-up reason given in `wasmbuild.record`.
"""

from __future__ import annotations

from wasmbuild.abi.module import ModuleInfo
from wasmbuild.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

# Every finding code, with its usual severity and what it means. Codes are part of the CLI's
# contract (JSON output, suppressions in CI scripts): add new ones, never rename or reuse them.
CODES: dict[str, tuple[str, str]] = {
    "unreadable": (ERROR, "the file cannot be read (missing, a directory, no permission)"),
    "not-wasm": (ERROR, "the file is not a WebAssembly core module (V1)"),
    "malformed": (ERROR, "the binary breaks the wasm format: truncated, bad LEB128, bad section (V1)"),
    "invalid-module": (ERROR, "--strict: wasmtime rejects the module (a function body does not validate)"),
    "missing-abi-marker": (ERROR, "no proxy_abi_version_* function export (V2)"),
    "unknown-abi-marker": (ERROR, "an ABI marker no host accepts, e.g. the vNEXT proxy_abi_version_0_x_x (V3)"),
    "multiple-abi-markers": (WARNING, "more than one ABI marker; the first in export order wins (V2)"),
    "abi-mismatch": (ERROR, "the module declares another ABI version than the one asked for (--abi)"),
    "missing-memory": (ERROR, "no exported memory (V7)"),
    "memory-name": (WARNING, "the exported memory is not called 'memory' (V7)"),
    "memory-too-large": (WARNING, "the initial memory is larger than proxy-wasm hosts allow"),
    "missing-allocator": (ERROR, "neither malloc nor proxy_on_memory_allocate is exported (V8)"),
    "signature-mismatch": (ERROR, "an export the host looks up has the wrong type (V8, V9, V10, V16)"),
    "unknown-import": (ERROR, "an import no proxy-wasm host provides (V4)"),
    "import-type-mismatch": (ERROR, "an import has another type than the host provides (V5)"),
    "import-version-mismatch": (ERROR, "a host function of another ABI version than the module declares (V14)"),
    "envoy-only-import": (INFO, "an import only Envoy provides, not other proxy-wasm hosts (V4)"),
    "imported-global": (ERROR, "the module imports a global, which no host provides (V6)"),
    "imported-memory": (WARNING, "the module imports its memory: V8 creates it, wasmtime-based hosts fail (V6)"),
    "imported-table": (WARNING, "the module imports a table: V8 creates it, wasmtime-based hosts fail (V6)"),
    "unknown-callback": (WARNING, "a proxy_on_* export the host never calls (V13)"),
    "no-callbacks": (WARNING, "no callbacks the host would call: the module loads but does nothing"),
    "no-entry-point": (INFO, "no _initialize or _start export (V10)"),
    "precompiled-section": (INFO, "a precompiled_* custom section, which hosts strip before loading (V15)"),
    "signature-section": (INFO, "a wasmsign2 signature section, verified only by hosts built for it (V15)"),
}


class Finding(Record):
    """One problem: a stable `code`, its `severity`, the symbol concerned (or None) and a message
    saying what a proxy-wasm host (Envoy) would do and how to fix it."""

    _fields = ("code", "severity", "symbol", "message")  # the order of __init__'s parameters
    __slots__ = _fields
    code: str
    severity: str
    symbol: str | None
    message: str

    def __init__(self, code: str, severity: str, symbol: str | None, message: str) -> None:
        self._set(code, severity, symbol, message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "symbol": self.symbol, "message": self.message}


class Report(Record):
    """The check of one module. `abi` is the ABI version the module declares (None if none)."""

    _fields = ("path", "abi", "findings", "size", "module")  # the order of __init__'s parameters
    __slots__ = _fields
    path: str
    abi: str | None
    findings: tuple[Finding, ...]
    size: int | None
    module: ModuleInfo | None  # what the reader parsed; None when the file could not be read

    def __init__(self, path: str, abi: str | None, findings: tuple[Finding, ...], size: int | None = None,
                 module: ModuleInfo | None = None) -> None:
        self._set(path, abi, findings, size, module)

    @property
    def ok(self) -> bool:
        """True when no finding is an error: Envoy would load the module."""
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """The `--format json` shape: path, abi, ok, findings."""
        return {"path": self.path, "abi": self.abi, "ok": self.ok,
                "findings": [f.to_dict() for f in self.findings]}


def finding(code: str, symbol: str | None, message: str, severity: str | None = None) -> Finding:
    """A finding with the code's usual severity unless `severity` overrides it."""
    return Finding(code, severity or CODES[code][0], symbol, message)
