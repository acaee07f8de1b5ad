"""One filter instance under the emulated host: load, link, sandbox, and call its callbacks.

The VM links only the host functions of the module's ABI version (as Envoy does), gives every
top-level callback a fresh fuel budget, caps linear memory with store limits, and turns anything
that stops a callback (trap, budget, memory, bad pointer to a host call, restricted call) into a
`CallbackFailure` naming the callback, with the wasm backtrace. After a failure the VM refuses
further calls, as Envoy stops calling a failed VM.

The lifecycle (streams, ticks, calls) is in `wasmbuild.host.lifecycle`, the host functions in
`calls_*` and `wasi`; this module is the machinery they share.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import wasmtime

from wasmbuild.errors import FilterFailure
from wasmbuild.host import loader, native, pairs, tables
from wasmbuild.host.contexts import Context, HttpContext, RootContext
from wasmbuild.host.memory import BadPointer, GuestMemory, HostCallError
from wasmbuild.host.state import GrpcCall, HttpCall, LogRecord, ManualClock, Metric, SharedState
from wasmbuild.host.tables import Status

DEFAULT_BUDGET = 1_000_000_000  # fuel units (~wasm instructions) per callback: 0.2-0.6 s of CPU
DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024
PAGE = 65536
MAX_EVENTS_PER_DRAIN = 10_000  # async events (answers, queue notifications) delivered in a row
StreamEndOrder = Literal["envoy", "spec"]


@dataclass
class VmOptions:
    """How the host presents itself to the filter. Every field has a usable default."""

    root_id: str = ""
    vm_id: str = ""
    plugin_name: str = ""  # the plugin_name property; defaults to the root id
    plugin_config: bytes = b""
    vm_config: bytes = b""
    budget: int = DEFAULT_BUDGET
    memory_limit: int = DEFAULT_MEMORY_LIMIT
    log_level: str = "trace"
    stream_end_order: StreamEndOrder = "envoy"
    environ: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[tuple[bytes, ...], bytes] = field(default_factory=dict)
    enforce_restrictions: bool = True  # trap on host calls V8 forbids during start and malloc


class CallbackFailure(FilterFailure):
    """A callback did not complete: `reason` says why, `backtrace` where (innermost first)."""

    def __init__(self, message: str, hint: str | None = None, *, callback: str, reason: str,
                 backtrace: tuple[str, ...] = ()) -> None:
        text = message
        if backtrace:
            text += "\nwasm backtrace:\n" + "\n".join(f"    {frame}" for frame in backtrace)
        super().__init__(text, hint)
        self.callback = callback
        self.reason = reason  # trap | budget | memory | bad-pointer | restricted-call | proc-exit | ...
        self.backtrace = backtrace
        self.proc_exit_code: int | None = None  # for reason == "proc-exit"
        self.logs: list[LogRecord] = []  # what the filter logged up to the failure (set by the caller)


class RestrictedCall(HostCallError):
    pass


class ProcExit(HostCallError):
    def __init__(self, code: int) -> None:
        super().__init__(f"proc_exit({code})")
        self.code = code


class AllocatorFault(HostCallError):
    def __init__(self, fault: native.Fault, allocator: str) -> None:
        super().__init__(f"{allocator} failed: {fault.cause}")
        self.fault = fault


class FilterVm:
    """A loaded, linked and instantiated filter module plus all host-side state."""

    def __init__(self, module: bytes, options: VmOptions | None = None, *,
                 clock: ManualClock | None = None, shared: SharedState | None = None) -> None:
        self.options = options or VmOptions()
        self.clock = clock or ManualClock()
        self.shared = shared or SharedState()
        self.info = loader.inspect(loader.read(module))
        wasm = loader.compile_module(module)
        self.abi = self.info.abi
        self.v010 = self.abi == "0.1.0"
        self.log_threshold = tables.LOG_LEVEL_VALUES[self.options.log_level]

        # host-side records the tests and `wasmbuild run` read
        self.logs: list[LogRecord] = []
        self.notes: list[str] = []  # things the host noticed that Envoy would do silently
        self.metrics: dict[int, Metric] = {}
        self.http_calls: list[HttpCall] = []
        self.grpc_calls: dict[int, GrpcCall] = {}
        self.http_responder: Callable[[HttpCall], Any] | None = None
        self.grpc_responder: Callable[[GrpcCall], Any] | None = None
        self.foreign_functions: dict[str, Callable[[bytes], bytes]] = {}

        self.contexts: dict[int, Context] = {}
        self.root: RootContext | None = None
        self.current: Context | None = None
        self.effective: Context | None = None
        self.configuring = False  # inside proxy_on_configure (plugin configuration readable)
        self.failed: CallbackFailure | None = None
        self._next_context = 1
        self._events: deque[Callable[[], None]] = deque()
        self._draining = False
        self._allowed: frozenset[str] | None = None
        self._pending: BaseException | None = None
        self._callback = ""

        self._store = wasmtime.Store(loader.engine())
        self._store.set_limits(memory_size=self.options.memory_limit)
        self._native = native.Engine(self._store)
        self._linker = native.Linker(loader.engine())
        self._link()
        self._instantiate(wasm)

    # -- linking --------------------------------------------------------------------------------
    def _link(self) -> None:
        from wasmbuild.host import calls_io, calls_stream, wasi

        impls: dict[str, native.HostImpl] = {}
        impls.update(calls_stream.bind(self))
        impls.update(calls_io.bind(self))
        wasi_impls = wasi.bind(self)
        for function in tables.host_functions(self.abi):
            is_wasi = function.module in tables.wasi_modules()
            impl = (wasi_impls if is_wasi else impls).get(function.name)
            if impl is None:
                impl = _unsupported(tables.Errno.NOSYS if is_wasi else Status.UNIMPLEMENTED)
            self._linker.define(function.module, function.name, function.signature, impl, self._host_error, self)

    @property
    def allowed(self) -> frozenset[str] | None:
        """The host calls allowed right now (None: all); read by every host function."""
        return self._allowed

    def refuse(self, key: str) -> BaseException:
        phase = "the allocator" if self._allowed is tables.restricted_during_malloc() else "start-up"
        return RestrictedCall(f"called {key} during {phase}, which Envoy's default runtime (V8) does not allow: "
                              "it traps with 'restricted_callback'")

    def _host_error(self, exc: BaseException, key: str) -> str:
        if isinstance(exc, BadPointer) and not exc.function:
            exc.function = key
        if self._pending is None:
            self._pending = exc
        return str(exc) or type(exc).__name__

    def _instantiate(self, wasm: wasmtime.Module) -> None:
        self._native.set_fuel(self.options.budget)
        try:
            instance = self._linker.instantiate(self._store, wasm)
        except wasmtime.Trap as trap:
            fault = native.parse_fault(trap.message, trap.trap_code == wasmtime.TrapCode.OUT_OF_FUEL)
            raise self._failure("the start function", fault) from None
        except wasmtime.WasmtimeError as exc:
            text = str(exc).strip()
            if "memory" in text and ("limit" in text or "minimum" in text or "exceed" in text):
                raise CallbackFailure(f"instantiation failed: its initial memory is over the host's limit of "
                                      f"{self.options.memory_limit // (1024 * 1024)} MiB",
                                      "raise the memory limit or shrink the module's initial memory",
                                      callback="instantiation", reason="memory") from None
            raise CallbackFailure(f"instantiation failed: {text.splitlines()[0] if text else exc}",
                                  callback="instantiation", reason="link") from None
        exports = instance.exports(self._store)
        memory_name = "memory" if "memory" in self.info.memories else self.info.memories[0]
        memory = exports[memory_name]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = GuestMemory(*self._native.memory_view(memory))
        wanted = tables.callback_signatures(self.abi)
        self._exports: dict[str, native.Export] = {}
        for name, signature in self.info.exports.items():
            if name in wanted:
                func = exports[name]
                assert isinstance(func, wasmtime.Func)
                self._exports[name] = native.Export(name, func, signature)
        self._allocator = next(self._exports[n] for n in tables.allocators() if n in self._exports)

    # -- calling into the module ----------------------------------------------------------------
    def exports(self, name: str) -> bool:
        return name in self._exports

    def call(self, name: str, context: Context | None, *args: int) -> int | None:
        """Run one top-level callback with a fresh budget; None when the module lacks it."""
        export = self._exports.get(name)
        if export is None:
            return None
        if self.failed is not None:
            self.ensure_alive()
        self.current = self.effective = context
        self._callback = name
        self._native.set_fuel(self.options.budget)
        try:
            out = self._native.call(export, args)
        finally:
            self.current = self.effective = None
        if isinstance(out, native.Fault):
            raise self._failure(self._describe(name, context), out)
        return out

    def call_restricted(self, name: str, *args: int) -> int | None:
        """Run a start-up entry point with V8's allow-list of host calls in force."""
        if self.options.enforce_restrictions:
            self._allowed = tables.restricted_during_start()
        try:
            return self.call(name, None, *args)
        finally:
            self._allowed = None

    def allocate(self, size: int) -> int:
        """Call the module's allocator from inside a host function (copy-out of return values)."""
        saved = self._allowed
        if self.options.enforce_restrictions:
            self._allowed = tables.restricted_during_malloc()
        try:
            out = self._native.call(self._allocator, (size,))
        finally:
            self._allowed = saved
        if isinstance(out, native.Fault):
            raise AllocatorFault(out, self._allocator.name)
        return out & native.MASK32

    def copy_out(self, data: bytes, ptr_ptr: int, size_ptr: int) -> int:
        """cpp-host's copyToPointerSize: allocate in the module, copy, write pointer and size."""
        self.memory.check_writable(ptr_ptr, 4)
        self.memory.check_writable(size_ptr, 4)
        address = 0
        if data:
            address = self.allocate(len(data))
            if address == 0:
                return Status.INVALID_MEMORY_ACCESS
            self.memory.write(address, data)
        self.memory.write_u32(ptr_ptr, address)
        self.memory.write_u32(size_ptr, len(data))
        return Status.OK

    def read_pairs(self, raw: bytes, complaint: str, consequence: str = "") -> list[pairs.Pair]:
        """The map serialised in `raw`. A malformed one is empty, as cpp-host treats it, and leaves
        the note "<callback>: <complaint> (<what is wrong>)<consequence>"."""
        try:
            return pairs.deserialize(raw)
        except pairs.MalformedPairs as exc:
            self.notes.append(f"{self._callback}: {complaint} ({exc}){consequence}")
            return []

    def _describe(self, name: str, context: Context | None) -> str:
        return f"{name} (context {context.id})" if context is not None else name

    def _failure(self, where: str, fault: native.Fault) -> CallbackFailure:
        pending, self._pending = self._pending, None
        backtrace = self._name_frames(fault.backtrace)
        limit_mib = self.options.memory_limit // (1024 * 1024)
        if isinstance(pending, BadPointer):
            failure = CallbackFailure(f"{where} handed a bad pointer to {pending.function}: {pending}",
                                      "Envoy returns INVALID_MEMORY_ACCESS here; check the pointer and length "
                                      "the filter passes", callback=where, reason="bad-pointer", backtrace=backtrace)
        elif isinstance(pending, AllocatorFault):
            inner = pending.fault
            reason = "budget" if inner.out_of_fuel else "trap"
            failure = CallbackFailure(f"{where}: the module's {self._allocator.name} trapped while the host copied "
                                      f"data into it: {inner.cause}", self._memory_hint(), callback=where,
                                      reason=reason, backtrace=self._name_frames(inner.backtrace) + backtrace)
        elif isinstance(pending, RestrictedCall):
            failure = CallbackFailure(f"{where} {pending}", "move that call out of start-up code (e.g. into "
                                      "onStart/on_vm_start or onConfigure)", callback=where,
                                      reason="restricted-call", backtrace=backtrace)
        elif isinstance(pending, ProcExit):
            failure = CallbackFailure(f"{where} called {pending} (Envoy would log it and carry on; here it stops "
                                      "the filter)", "an SDK abort or panic usually ends in proc_exit; see the logs",
                                      callback=where, reason="proc-exit", backtrace=backtrace)
            failure.proc_exit_code = pending.code
        elif isinstance(pending, HostCallError):
            failure = CallbackFailure(f"{where}: {pending}", callback=where, reason="host-call", backtrace=backtrace)
        elif pending is not None:
            raise pending  # a bug in the host itself: let the CLI's crash handler report it
        elif fault.out_of_fuel:
            failure = CallbackFailure(f"{where} ran out of its budget of {self.options.budget:,} instructions "
                                      "(an endless loop?)", "raise the budget if the work is legitimate",
                                      callback=where, reason="budget", backtrace=backtrace)
        elif self.memory_at_limit():
            failure = CallbackFailure(f"{where} trapped with its memory at the host's limit of {limit_mib} MiB "
                                      f"(memory exhausted): {fault.cause}", self._memory_hint(),
                                      callback=where, reason="memory", backtrace=backtrace)
        else:
            failure = CallbackFailure(f"{where} trapped: {fault.cause}", callback=where, reason="trap",
                                      backtrace=backtrace)
        self.failed = failure
        return failure

    def _name_frames(self, frames: tuple[str, ...]) -> tuple[str, ...]:
        """Replace "function #12" with the export name when the module has no name section."""
        names = self.info.export_names
        out = []
        for frame in frames:
            number, _, rest = frame.partition(" function #")
            if rest:
                index, _, tail = rest.partition(" ")
                if index.isdigit() and int(index) in names:
                    frame = f"{number} {names[int(index)]} {tail}"
            out.append(frame)
        return tuple(out)

    def memory_at_limit(self) -> bool:
        """Whether the memory is (nearly) as large as the limit allows.

        wasmtime reports a refused memory.grow to the module as -1, not to the host, so a trap
        that follows one is recognised by the memory being within 1/16 of the limit.
        """
        try:
            limit = self.options.memory_limit
            return self.memory.size() + max(PAGE, limit // 16) > limit
        except AttributeError:
            return False

    def _memory_hint(self) -> str:
        mib = self.options.memory_limit // (1024 * 1024)
        return f"the memory limit is {mib} MiB; raise it if the filter needs more"

    def ensure_alive(self) -> None:
        if self.failed is not None:
            first = self.failed.message.splitlines()[0]
            raise CallbackFailure(f"the filter already failed ({first}); Envoy calls a failed VM no more",
                                  "load the filter again", callback=self.failed.callback, reason="failed-earlier")

    @property
    def current_callback(self) -> str:
        return self._callback

    # -- contexts and events --------------------------------------------------------------------
    def new_context_id(self) -> int:
        cid = self._next_context
        self._next_context += 1
        return cid

    def stream_context(self) -> HttpContext | None:
        ctx = self.effective
        return ctx if isinstance(ctx, HttpContext) else None

    def root_context(self) -> RootContext | None:
        ctx = self.effective
        if ctx is not None:
            return ctx.root
        return self.root

    def post(self, event: Callable[[], None]) -> None:
        """Run `event` after the current top-level callback (Envoy posts these to its dispatcher)."""
        self._events.append(event)

    def drain(self) -> None:
        """Deliver posted events (queue notifications, scripted responses, deferred deletes)."""
        if self._draining or not (self._events or self.shared.woken):
            return
        self._draining = True
        delivered = 0
        try:
            while self._events and self.failed is None:
                delivered += 1
                if delivered > MAX_EVENTS_PER_DRAIN:
                    self._events.clear()
                    self.failed = CallbackFailure(
                        f"the filter kept the host busy with more than {MAX_EVENTS_PER_DRAIN:,} async events in a row "
                        f"(last callback: {self._callback}); Envoy would never get back to the stream",
                        "look for a call or enqueue made from the callback that answers it",
                        callback=self._callback, reason="event-loop")
                    raise self.failed
                self._events.popleft()()
        finally:
            self._draining = False
        self.shared.flush()

    def log(self, level: int, message: str) -> None:
        if level >= self.log_threshold:
            ctx = self.effective
            self.logs.append(LogRecord(tables.LOG_LEVELS[level], message, ctx.id if ctx is not None else 0))


def _unsupported(status: int) -> native.HostImpl:
    def impl(*_args: int) -> int:
        return status
    return impl
