"""--strict: wasmtime validates every function body, with the wasm features proxy-wasm hosts
(Envoy's V8, cpp-host's wasmtime) enable: the MVP plus bulk memory, multi-value, reference types,
SIMD, sign extension and the like; not GC, typed function references, exceptions, memory64 or
other proposals a filter cannot count on. Imported only on the strict path: wasmtime is heavy."""

from __future__ import annotations

from typing import Any

import wasmtime

DISABLED = ("wasm_gc", "wasm_function_references", "wasm_exceptions", "wasm_stack_switching",
            "wasm_component_model", "wasm_custom_page_sizes", "wasm_wide_arithmetic", "wasm_memory64")


def engine() -> Any:
    """A wasmtime Engine configured with the features proxy-wasm hosts accept."""
    config = wasmtime.Config()
    for feature in DISABLED:
        if feature in dir(type(config)):  # write-only properties: hasattr() would say False
            setattr(config, feature, False)
    return wasmtime.Engine(config)


def validate(data: bytes, engine_: Any = None) -> str | None:
    """None when wasmtime accepts the module, else the reason it gives (one line)."""
    try:
        wasmtime.Module.validate(engine_ or engine(), data)
    except wasmtime.WasmtimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return lines[-1] if lines else "invalid module"
    return None
