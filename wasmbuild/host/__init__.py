"""wasmbuild's emulated proxy-wasm host: a filter module under an Envoy-like host on wasmtime.

Users test through `wasmbuild.testing`; `wasmbuild run` drives one stream. The public surface
here is the VM those two build on (imported lazily: `wasmbuild.host.discovery` stays light).

    vm.py         FilterVm, VmOptions, CallbackFailure: load, link, sandbox, call
    lifecycle.py  Envoy's call sequences: start-up, HTTP streams, ticks, async answers
    calls_*.py    the env.proxy_* host functions; wasi.py the WASI preview1 subset
    tables.py     the ABI tables (from wasmbuild/abi/data); pairs.py the header-map format
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CallbackFailure", "FilterVm", "VmOptions"]

if TYPE_CHECKING:  # pragma: no cover
    from wasmbuild.host.vm import CallbackFailure, FilterVm, VmOptions


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wasmbuild.host import vm

        return getattr(vm, name)
    raise AttributeError(f"module 'wasmbuild.host' has no attribute {name!r}")
