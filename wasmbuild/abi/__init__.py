"""Proxy-wasm ABI conformance: a wasm reader of our own and the checks Envoy applies at load time.

    check(path_or_bytes, abi=None, strict=False) -> Report      never raises for a bad module
    check_files(paths, abi=None, strict=False) -> list[Report]
    read_module(bytes) / read_module_file(path) -> ModuleInfo    imports, exports with types, memories
    detect_abi(bytes_or_info) -> "0.2.1" | None                  the version the module declares

Nothing here imports wasmtime (only `strict=True` does), so checking stays fast.
"""

from __future__ import annotations

from wasmbuild.abi.checker import check, check_files, detect_abi, resolve_abi
from wasmbuild.abi.module import Export, FuncType, Import, Limits, ModuleInfo, ReadError, Section
from wasmbuild.abi.reader import read_module, read_module_file
from wasmbuild.abi.report import CODES, ERROR, INFO, SEVERITIES, WARNING, Finding, Report

__all__ = [
    "CODES", "ERROR", "INFO", "SEVERITIES", "WARNING", "Export", "Finding", "FuncType", "Import", "Limits",
    "ModuleInfo", "ReadError", "Report", "Section", "check", "check_files", "detect_abi", "read_module",
    "read_module_file", "resolve_abi",
]
