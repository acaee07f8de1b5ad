"""The fast path between Python and wasmtime: host functions and export calls without boxing.

wasmtime-py's public `Func.__call__` re-reads the function type and wraps every argument in a
`Val`; its host-function trampoline builds a `Caller` and a `Val` per parameter. Per proxy-wasm
callback that is most of the cost of a stream, so the host uses the C API's "unchecked" entry
points (the same library wasmtime-py loads): arguments and results travel in one preallocated
`wasmtime_val_raw_t` array. This is safe because the host checks every export's type against the
ABI table before calling it and defines every import with the exact type the table gives.

Everything touching wasmtime's private `_ffi` module is in this file.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from wasmbuild.host.tables import Signature

MASK32 = 0xFFFFFFFF

# The memory base address as a plain int (wasmtime-py's binding returns a ctypes pointer object).
_memory_data = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.POINTER(ffi.wasmtime_context_t),
                                ctypes.POINTER(ffi.wasmtime_memory_t))(("wasmtime_memory_data", ffi.dll))
_memory_data_size = ffi.wasmtime_memory_data_size
_call_unchecked = ffi.wasmtime_func_call_unchecked
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()  # a NULL function pointer

HostImpl = Callable[..., Any]


@dataclass(frozen=True)
class Fault:
    """Why a call into the module did not return: a trap or an error from a host function."""

    cause: str  # "wasm `unreachable` instruction executed", "all fuel consumed by WebAssembly", ...
    backtrace: tuple[str, ...]  # "#0 proxy_on_request_headers (0x1a3)", innermost first
    out_of_fuel: bool
    raw: str


_FRAME = re.compile(r"^\s*(\d+):\s+(0x[0-9a-f]+)\s+-\s+(?:(.*?)!)?(.*)$")


def parse_fault(message: str, out_of_fuel: bool) -> Fault:
    """Split wasmtime's error text into the cause and the frames of the wasm backtrace."""
    frames: list[str] = []
    lines = message.splitlines()
    in_trace = False
    for line in lines:
        if "wasm backtrace:" in line:
            in_trace = True
            continue
        if in_trace:
            match = _FRAME.match(line)
            if match:
                number, offset, _module, func = match.groups()
                func = func.strip()
                if func.startswith("<wasm function ") and func.endswith(">"):
                    func = "function #" + func[len("<wasm function "):-1]
                frames.append(f"#{number} {func} ({offset})")
            elif line.strip() and not line.strip().startswith("note:") and not line.startswith(" " * 10):
                in_trace = False
    cause = message.strip()
    if "Caused by:" in message:
        cause = message.split("Caused by:", 1)[1].strip().splitlines()[0].strip()
    elif frames:
        cause = lines[0].strip()
    for prefix in ("wasm trap: ", "error while executing at "):
        if cause.startswith(prefix):
            cause = cause[len(prefix):]
    return Fault(cause or message.strip(), tuple(frames), out_of_fuel, message)


class Export:
    """One exported function, ready to be called with ints (i32/i64 by its signature)."""

    __slots__ = ("args", "func", "name", "nparams", "nresults", "ref", "signature", "size")

    def __init__(self, name: str, func: wasmtime.Func, signature: Signature) -> None:
        self.name = name
        self.func = func  # keeps the wasmtime_func_t alive
        self.signature = signature
        self.nparams = len(signature.params)
        self.nresults = len(signature.results)
        self.size = max(1, self.nparams, self.nresults)
        self.args = (ffi.wasmtime_val_raw_t * self.size)()
        self.ref = ctypes.byref(func._func)


class Engine:
    """A store context plus the trap slot, shared by every call into one instance."""

    def __init__(self, store: wasmtime.Store) -> None:
        self.store = store
        self.context = store._context()
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)

    def set_fuel(self, fuel: int) -> None:
        error = ffi.wasmtime_context_set_fuel(self.context, fuel)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)

    def call(self, export: Export, args: tuple[int, ...]) -> int | Fault:
        """Call `export`; return its i32 result (0 when it has none) or the Fault that stopped it."""
        values = export.args
        params = export.signature.params
        for i, value in enumerate(args):
            if params[i] == "i64":
                values[i].i64 = value
            else:
                values[i].i32 = value
        error = _call_unchecked(self.context, export.ref, values, export.size, self._trap_ref)
        if error or self._trap:
            return self._fault(error)
        return values[0].i32 if export.nresults else 0

    def _fault(self, error: Any) -> Fault:
        if self._trap:
            trap = wasmtime.Trap._from_ptr(self._trap)
            self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
            self._trap_ref = ctypes.byref(self._trap)
            code = trap.trap_code
            return parse_fault(trap.message, code == wasmtime.TrapCode.OUT_OF_FUEL)
        err = wasmtime.WasmtimeError._from_ptr(error)
        text = str(err)
        return parse_fault(text, "all fuel consumed" in text)

    # -- memory -------------------------------------------------------------------------------
    def memory_view(self, memory: wasmtime.Memory) -> Callable[[], tuple[int, int]]:
        """A function returning (base address, size in bytes) of `memory` right now."""
        context = self.context
        ref = ctypes.byref(memory._memory)

        def view() -> tuple[int, int]:
            return _memory_data(context, ref), _memory_data_size(context, ref)

        return view


class Linker:
    """Defines host functions by (module, name) with the unchecked calling convention."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.linker = wasmtime.Linker(engine)
        self._keepalive: list[Any] = []

    def define(self, module: str, name: str, signature: Signature, impl: HostImpl,
               on_error: Callable[[BaseException], str]) -> None:
        """Link `impl` (called with unsigned i32 / signed i64 ints) as module.name.

        An exception from `impl` becomes a trap whose message is `on_error(exc)`; the caller
        keeps the exception itself to report it.
        """
        callback = ffi.wasmtime_func_unchecked_callback_t(_trampoline(impl, signature, on_error))
        functype = wasmtime.FuncType([_valtype(t) for t in signature.params], [_valtype(t) for t in signature.results])
        mod, nm = module.encode(), name.encode()
        error = ffi.wasmtime_linker_define_func_unchecked(self.linker.ptr(), mod, len(mod), nm, len(nm),
                                                          functype.ptr(), callback, None, _NO_FINALIZER)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        self._keepalive.append((callback, functype))

    def instantiate(self, store: wasmtime.Store, module: wasmtime.Module) -> wasmtime.Instance:
        return self.linker.instantiate(store, module)


def _valtype(name: str) -> wasmtime.ValType:
    return {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
            "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64}[name]()


def _trap(message: str) -> int:
    data = message.encode("utf-8", "replace")
    trap = ffi.wasmtime_trap_new(data, len(data))
    value: int = ctypes.cast(trap, ctypes.c_void_p).value or 0
    return value


def _trampoline(impl: HostImpl, signature: Signature, on_error: Callable[[BaseException], str]) -> Callable[..., int]:
    """A ctypes callback for `impl`, specialised on the common all-i32 arities for speed."""
    params = signature.params
    has_result = bool(signature.results)
    n = len(params)
    m = MASK32

    if all(p == "i32" for p in params) and n <= 5:
        def callback(_env: Any, _caller: Any, vals: Any, _nvals: int) -> int:
            try:
                if n == 0:
                    result = impl()
                elif n == 1:
                    result = impl(vals[0].i32 & m)
                elif n == 2:
                    result = impl(vals[0].i32 & m, vals[1].i32 & m)
                elif n == 3:
                    result = impl(vals[0].i32 & m, vals[1].i32 & m, vals[2].i32 & m)
                elif n == 4:
                    result = impl(vals[0].i32 & m, vals[1].i32 & m, vals[2].i32 & m, vals[3].i32 & m)
                else:
                    result = impl(vals[0].i32 & m, vals[1].i32 & m, vals[2].i32 & m, vals[3].i32 & m,
                                  vals[4].i32 & m)
                if has_result:
                    vals[0].i32 = result
                return 0
            except BaseException as exc:
                return _trap(on_error(exc))
        return callback

    def general(_env: Any, _caller: Any, vals: Any, _nvals: int) -> int:
        try:
            args = [vals[i].i64 if params[i] == "i64" else vals[i].i32 & m for i in range(n)]
            result = impl(*args)
            if has_result:
                vals[0].i32 = result
            return 0
        except BaseException as exc:
            return _trap(on_error(exc))
    return general
