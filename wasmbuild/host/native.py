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
from typing import Any, Protocol

import wasmtime
from wasmtime import _ffi as ffi

from wasmbuild.host.tables import Signature

MASK32 = 0xFFFFFFFF


def signed32(value: int) -> int:
    """An i32 as host functions receive it (unsigned) read as a signed number."""
    return value - (1 << 32) if value >= 1 << 31 else value

# Our own prototypes of the few C functions on the hot path, taking and returning plain ints
# (addresses): no Python wrapper frame, no pointer objects to build per call.
_VOIDP = ctypes.c_void_p
_memory_data = ctypes.CFUNCTYPE(ctypes.c_size_t, _VOIDP, _VOIDP)(("wasmtime_memory_data", ffi.dll))
_memory_data_size = ctypes.CFUNCTYPE(ctypes.c_size_t, _VOIDP, _VOIDP)(("wasmtime_memory_data_size", ffi.dll))
_call_unchecked = ctypes.CFUNCTYPE(_VOIDP, _VOIDP, _VOIDP, _VOIDP, ctypes.c_size_t, _VOIDP)(
    ("wasmtime_func_call_unchecked", ffi.dll))
_set_fuel = ctypes.CFUNCTYPE(_VOIDP, _VOIDP, ctypes.c_uint64)(("wasmtime_context_set_fuel", ffi.dll))
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

    __slots__ = ("address", "all_i32", "args", "args_address", "func", "name", "nparams", "nresults",
                 "signature", "size")

    def __init__(self, name: str, func: wasmtime.Func, signature: Signature) -> None:
        self.name = name
        self.func = func  # keeps the wasmtime_func_t alive
        self.signature = signature
        self.nparams = len(signature.params)
        self.nresults = len(signature.results)
        self.all_i32 = all(p == "i32" for p in signature.params)
        self.size = max(1, self.nparams, self.nresults)
        self.args = (ffi.wasmtime_val_raw_t * self.size)()
        self.args_address = ctypes.addressof(self.args)
        self.address = ctypes.addressof(func._func)


class Engine:
    """A store context plus the trap slot, shared by every call into one instance."""

    def __init__(self, store: wasmtime.Store) -> None:
        self.store = store
        self.context = store._context()
        self.context_address: int = ctypes.cast(self.context, ctypes.c_void_p).value or 0
        self._trap = ctypes.c_void_p()  # wasm_trap_t*, written by wasmtime when a call traps
        self._trap_address = ctypes.addressof(self._trap)

    def set_fuel(self, fuel: int) -> None:
        error = _set_fuel(self.context_address, fuel)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))

    def call(self, export: Export, args: tuple[int, ...]) -> int | Fault:
        """Call `export`; return its i32 result (0 when it has none) or the Fault that stopped it."""
        values = export.args
        if export.all_i32:
            for i, value in enumerate(args):
                values[i].i32 = value
        else:
            params = export.signature.params
            for i, value in enumerate(args):
                if params[i] == "i64":
                    values[i].i64 = value
                else:
                    values[i].i32 = value
        error = _call_unchecked(self.context_address, export.address, export.args_address, export.size,
                                self._trap_address)
        if error or self._trap.value:
            return self._fault(error)
        return values[0].i32 if export.nresults else 0

    def _fault(self, error: int | None) -> Fault:
        if self._trap.value:
            trap = wasmtime.Trap._from_ptr(ctypes.cast(self._trap.value, ctypes.POINTER(ffi.wasm_trap_t)))
            self._trap.value = None
            code = trap.trap_code
            return parse_fault(trap.message, code == wasmtime.TrapCode.OUT_OF_FUEL)
        err = wasmtime.WasmtimeError._from_ptr(ctypes.cast(error or 0, ctypes.POINTER(ffi.wasmtime_error_t)))
        text = str(err)
        return parse_fault(text, "all fuel consumed" in text)

    # -- memory -------------------------------------------------------------------------------
    def memory_view(self, memory: wasmtime.Memory) -> tuple[int, Callable[[], int]]:
        """(base address, a function returning the size in bytes now) of `memory`.

        The base never changes: the engine is configured with memory_may_move=False, so memory
        grows in place inside its reservation.
        """
        context = self.context_address
        address = ctypes.addressof(memory._memory)

        def size(keepalive: wasmtime.Memory = memory) -> int:  # the struct lives in `memory`
            return int(_memory_data_size(context, address))

        return int(_memory_data(context, address)), size


class Linker:
    """Defines host functions by (module, name) with the unchecked calling convention."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.linker = wasmtime.Linker(engine)
        self._keepalive: list[Any] = []

    def define(self, module: str, name: str, signature: Signature, impl: HostImpl,
               on_error: Callable[[BaseException, str], str], gate: Gate) -> None:
        """Link `impl` (called with unsigned i32 / signed i64 ints) as module.name.

        While `gate.allowed` is a set, a call whose "module.name" is not in it raises
        `gate.refuse(key)` instead. An exception from `impl` becomes a trap whose message is
        `on_error(exc, key)`; the caller keeps the exception itself to report it.
        """
        key = f"{module}.{name}"
        callback = ffi.wasmtime_func_unchecked_callback_t(_trampoline(impl, signature, on_error, gate, key))
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


class Gate(Protocol):
    @property
    def allowed(self) -> frozenset[str] | None: ...

    def refuse(self, key: str) -> BaseException: ...


def _fail(on_error: Callable[[BaseException, str], str], exc: BaseException, key: str) -> int:
    """The trap a failed host function returns; this path itself must never raise."""
    try:
        message = on_error(exc, key)
    except BaseException:
        message = f"{key}: internal host error"
    return _trap(message)


def _trampoline(impl: HostImpl, signature: Signature, on_error: Callable[[BaseException, str], str], gate: Gate,
                key: str) -> Callable[..., int]:
    """A ctypes callback for `impl`, specialised on the common all-i32 arities for speed."""
    params = signature.params
    has_result = bool(signature.results)
    n = len(params)
    m = MASK32

    if all(p == "i32" for p in params) and n <= 5:
        def callback(_env: Any, _caller: Any, vals: Any, _nvals: int) -> int:
            try:
                allowed = gate.allowed
                if allowed is not None and key not in allowed:
                    raise gate.refuse(key)
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
                return _fail(on_error, exc, key)
        return callback

    def general(_env: Any, _caller: Any, vals: Any, _nvals: int) -> int:
        try:
            args = [vals[i].i64 if params[i] == "i64" else vals[i].i32 & m for i in range(n)]
            result = impl(*args)
            if has_result:
                vals[0].i32 = result
            return 0
        except BaseException as exc:
            return _fail(on_error, exc, key)
    return general
