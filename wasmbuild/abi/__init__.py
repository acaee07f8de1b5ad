"""Proxy-wasm ABI conformance: a wasm reader of our own and the checks Envoy applies at load time.

    check(path_or_bytes, abi=None, strict=False) -> Report      never raises for a bad module
    check_files(paths, abi=None, strict=False) -> list[Report]
    read_module(bytes) / read_module_file(path) -> ModuleInfo    imports, exports with types, memories
    detect_abi(bytes_or_info) -> "0.2.1" | None                  the version the module declares

The names load lazily (PEP 562), so `wasmbuild.abi.spec` can be imported alone (the CLI's --help
does); nothing here imports wasmtime unless `strict=True` is asked for.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from wasmbuild.abi.checker import (
        check as check,
    )
    from wasmbuild.abi.checker import (
        check_files as check_files,
    )
    from wasmbuild.abi.checker import (
        detect_abi as detect_abi,
    )
    from wasmbuild.abi.checker import (
        resolve_abi as resolve_abi,
    )
    from wasmbuild.abi.module import (
        Export as Export,
    )
    from wasmbuild.abi.module import (
        FuncType as FuncType,
    )
    from wasmbuild.abi.module import (
        Import as Import,
    )
    from wasmbuild.abi.module import (
        Limits as Limits,
    )
    from wasmbuild.abi.module import (
        ModuleInfo as ModuleInfo,
    )
    from wasmbuild.abi.module import (
        ReadError as ReadError,
    )
    from wasmbuild.abi.module import (
        Section as Section,
    )
    from wasmbuild.abi.reader import (
        read_module as read_module,
    )
    from wasmbuild.abi.reader import (
        read_module_file as read_module_file,
    )
    from wasmbuild.abi.report import (
        CODES as CODES,
    )
    from wasmbuild.abi.report import (
        ERROR as ERROR,
    )
    from wasmbuild.abi.report import (
        INFO as INFO,
    )
    from wasmbuild.abi.report import (
        SEVERITIES as SEVERITIES,
    )
    from wasmbuild.abi.report import (
        WARNING as WARNING,
    )
    from wasmbuild.abi.report import (
        Finding as Finding,
    )
    from wasmbuild.abi.report import (
        Report as Report,
    )

_WHERE = {
    "check": "checker", "check_files": "checker", "detect_abi": "checker", "resolve_abi": "checker",
    "Export": "module", "FuncType": "module", "Import": "module", "Limits": "module", "ModuleInfo": "module",
    "ReadError": "module", "Section": "module", "read_module": "reader", "read_module_file": "reader",
    "CODES": "report", "ERROR": "report", "INFO": "report", "SEVERITIES": "report", "WARNING": "report",
    "Finding": "report", "Report": "report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'wasmbuild.abi' has no attribute {name!r}")
    value = getattr(import_module(f"wasmbuild.abi.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
