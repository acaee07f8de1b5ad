"""Filter and load_filter: a filter loaded, started and configured as Envoy adds a plugin."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeAlias

from wasmbuild.errors import FilterFailure
from wasmbuild.host import lifecycle, properties
from wasmbuild.host.discovery import discover_root_id, project_module
from wasmbuild.host.pairs import to_bytes
from wasmbuild.host.state import (
    GrpcCall,
    GrpcResponse,
    HttpCall,
    HttpCallResponse,
    LogRecord,
    ManualClock,
    SharedState,
)
from wasmbuild.host.vm import DEFAULT_BUDGET, DEFAULT_MEMORY_LIMIT, CallbackFailure, FilterVm, VmOptions
from wasmbuild.testing.headers import HeadersLike, to_pairs
from wasmbuild.testing.stream import HttpStream

ConfigLike: TypeAlias = "str | bytes | Mapping[str, Any] | list[Any] | None"
HttpResponder: TypeAlias = "HttpCallResponse | Callable[[HttpCall], HttpCallResponse | None]"
GrpcResponder: TypeAlias = "GrpcResponse | Callable[[GrpcCall], GrpcResponse | None]"


class ConfigurationRejected(FilterFailure):
    """proxy_on_configure returned false: the filter refused its plugin configuration."""

    def __init__(self, message: str, hint: str | None, logs: list[LogRecord]) -> None:
        super().__init__(message, hint)
        self.logs = logs


def _config_bytes(config: ConfigLike) -> bytes:
    if config is None:
        return b""
    if isinstance(config, bytes):
        return config
    if isinstance(config, str):
        return config.encode("utf-8")
    return json.dumps(config).encode("utf-8")


class Filter:
    """A loaded filter: its root context is configured and it is ready for streams.

    Create it with :func:`load_filter`. Use it as a context manager (or call :meth:`close`)
    to run the plugin's shutdown (proxy_on_done, proxy_on_delete).
    """

    def __init__(self, vm: FilterVm) -> None:
        self.vm = vm
        self.http_responses: dict[str, HttpResponder] = {}
        """Scripted answers to proxy_http_call by upstream (cluster) name; ``"*"`` for any."""
        self.grpc_responses: dict[str, GrpcResponder] = {}
        """Scripted answers to proxy_grpc_call by upstream, ``"service/method"`` or ``"*"``."""
        vm.http_responder = self._answer_http
        vm.grpc_responder = self._answer_grpc

    # -- streams -------------------------------------------------------------------------------
    def http_stream(self) -> HttpStream:
        """A new HTTP stream (proxy_on_context_create); send its parts with the stream's methods."""
        return HttpStream(self, lifecycle.open_stream(self.vm))

    def run_http(self, request_headers: HeadersLike | None = None, request_body: str | bytes | None = None,
                 response_headers: HeadersLike | None = None, response_body: str | bytes | None = None, *,
                 request_trailers: HeadersLike | None = None, response_trailers: HeadersLike | None = None,
                 finish: bool = True) -> HttpStream:
        """One whole stream, as ``wasmbuild run`` does it; returns the (finished) stream.

        See :meth:`HttpStream.run`.
        """
        stream = self.http_stream()
        stream.run(request_headers, request_body, response_headers, response_body,
                   request_trailers=request_trailers, response_trailers=response_trailers, finish=finish)
        return stream

    # -- what the filter did ----------------------------------------------------------------------
    @property
    def abi(self) -> str:
        """The module's ABI version ("0.1.0", "0.2.0" or "0.2.1")."""
        return self.vm.abi

    @property
    def root_id(self) -> str:
        return self.vm.options.root_id

    @property
    def logs(self) -> list[LogRecord]:
        """Everything the filter logged, in order (proxy_log, and WASI stdout/stderr)."""
        return list(self.vm.logs)

    def log_messages(self, level: str | None = None) -> list[str]:
        """The logged messages, optionally only those at `level` ("debug", "warn", ...)."""
        return [r.message for r in self.vm.logs if level is None or r.level == level]

    @property
    def metrics(self) -> dict[str, int | list[int]]:
        """Metric name -> value (counters and gauges) or recorded values (histograms)."""
        return {m.name: (list(m.samples) if m.kind == "histogram" else m.value) for m in self.vm.metrics.values()}

    @property
    def notes(self) -> list[str]:
        """Things the host noticed that Envoy would do silently (e.g. a malformed map it ignored)."""
        return list(self.vm.notes)

    # -- configuration ----------------------------------------------------------------------------
    def configure(self, plugin_config: ConfigLike) -> bool:
        """Call proxy_on_configure again with a new configuration (as Envoy does on an update)."""
        return lifecycle.configure(self.vm, _config_bytes(plugin_config))

    def set_property(self, path: str, value: str | bytes | int | bool | Mapping[str, str]) -> None:
        """A property every context of this filter reads, unless a stream sets its own."""
        assert self.vm.root is not None
        self.vm.root.properties[properties.path_of(path)] = properties.encode_user_value(path, value)

    # -- time -----------------------------------------------------------------------------------------
    @property
    def clock(self) -> ManualClock:
        return self.vm.clock

    @property
    def tick_period_ms(self) -> int:
        """What the filter set with proxy_set_tick_period_milliseconds (0: no ticks)."""
        return self.vm.root.tick_period_ms if self.vm.root is not None else 0

    def advance(self, ms: float = 0, *, seconds: float = 0) -> int:
        """Move the clock forward, firing proxy_on_tick as periods elapse; returns the tick count."""
        return lifecycle.advance(self.vm, int(ms * 1_000_000 + seconds * 1_000_000_000))

    # -- HTTP calls -----------------------------------------------------------------------------------
    @property
    def http_calls(self) -> list[HttpCall]:
        """Every proxy_http_call the filter made, answered or not."""
        return list(self.vm.http_calls)

    @property
    def pending_http_calls(self) -> list[HttpCall]:
        return [c for c in self.vm.http_calls if not c.answered]

    def respond_http_call(self, call: HttpCall | int | None = None, status: int = 200,
                          headers: HeadersLike | None = None, body: str | bytes = b"",
                          trailers: HeadersLike | None = None) -> None:
        """Answer a call (the oldest pending one by default): proxy_on_http_call_response."""
        target = self._http_call(call)
        response = HttpCallResponse(status, tuple(to_pairs(headers)), to_bytes(body), tuple(to_pairs(trailers)))
        lifecycle.deliver_http_response(self.vm, target, response)

    def fail_http_call(self, call: HttpCall | int | None = None) -> None:
        """Make a call fail (reset, timeout): proxy_on_http_call_response with no headers."""
        lifecycle.deliver_http_response(self.vm, self._http_call(call), HttpCallResponse(failed=True))

    def _http_call(self, call: HttpCall | int | None) -> HttpCall:
        if isinstance(call, HttpCall):
            return call
        pending = self.pending_http_calls
        if call is None:
            if not pending:
                raise LookupError("the filter has no pending HTTP call")
            return pending[0]
        for candidate in self.vm.http_calls:
            if candidate.token == call:
                return candidate
        raise LookupError(f"the filter made no HTTP call with token {call}")

    def _answer_http(self, call: HttpCall) -> HttpCallResponse | None:
        scripted = self.http_responses.get(call.upstream, self.http_responses.get("*"))
        if scripted is None:
            return None
        return scripted(call) if callable(scripted) else scripted

    # -- gRPC ---------------------------------------------------------------------------------------------
    @property
    def grpc_calls(self) -> list[GrpcCall]:
        """Every proxy_grpc_call and proxy_grpc_stream the filter opened."""
        return list(self.vm.grpc_calls.values())

    def respond_grpc_call(self, call: GrpcCall | int | None = None, message: str | bytes = b"", *, status: int = 0,
                          status_message: str = "", initial_metadata: HeadersLike | None = None,
                          trailing_metadata: HeadersLike | None = None) -> None:
        """Answer a unary gRPC call: the message when status is 0, else a close with the status."""
        response = GrpcResponse(to_bytes(message), status, status_message, tuple(to_pairs(initial_metadata)),
                                tuple(to_pairs(trailing_metadata)))
        lifecycle.deliver_grpc_response(self.vm, self._grpc_call(call), response)

    def grpc_stream_receive(self, call: GrpcCall | int, message: str | bytes,
                            initial_metadata: HeadersLike | None = None) -> None:
        """Deliver a message on an open gRPC stream (proxy_on_grpc_receive)."""
        target = self._grpc_call(call)
        if initial_metadata is not None:
            lifecycle.grpc_metadata(self.vm, target, to_pairs(initial_metadata), trailing=False)
        lifecycle.grpc_message(self.vm, target, to_bytes(message))
        self.vm.drain()

    def grpc_stream_close(self, call: GrpcCall | int, status: int = 0, message: str = "",
                          trailing_metadata: HeadersLike | None = None) -> None:
        """Close a gRPC stream from the server side (trailing metadata, then proxy_on_grpc_close)."""
        target = self._grpc_call(call)
        if trailing_metadata is not None:
            lifecycle.grpc_metadata(self.vm, target, to_pairs(trailing_metadata), trailing=True)
        lifecycle.grpc_close(self.vm, target, status, message)
        self.vm.drain()

    def _grpc_call(self, call: GrpcCall | int | None) -> GrpcCall:
        if isinstance(call, GrpcCall):
            return call
        if call is None:
            pending = [c for c in self.vm.grpc_calls.values() if c.response is None and not c.closed]
            if not pending:
                raise LookupError("the filter has no open gRPC call")
            return pending[0]
        if call not in self.vm.grpc_calls:
            raise LookupError(f"the filter opened no gRPC call with token {call}")
        return self.vm.grpc_calls[call]

    def _answer_grpc(self, call: GrpcCall) -> GrpcResponse | None:
        responses = self.grpc_responses
        scripted = responses.get(f"{call.service}/{call.method}", responses.get(call.upstream, responses.get("*")))
        if scripted is None:
            return None
        return scripted(call) if callable(scripted) else scripted

    # -- shared data, queues, foreign functions ----------------------------------------------------
    @property
    def shared(self) -> SharedState:
        """The shared data and queues (pass the same SharedState to several filters to share them)."""
        return self.vm.shared

    def shared_data(self, key: str | bytes) -> bytes | None:
        """The value stored under `key` in this filter's VM id, or None."""
        found = self.vm.shared.get(self.vm.options.vm_id, to_bytes(key))
        return found[0] if found is not None else None

    def set_shared_data(self, key: str | bytes, value: str | bytes) -> None:
        self.vm.shared.set(self.vm.options.vm_id, to_bytes(key), to_bytes(value), 0)

    def enqueue(self, queue: str, value: str | bytes, *, vm_id: str | None = None) -> None:
        """Put an item on a shared queue the filter registered (fires proxy_on_queue_ready)."""
        queue_id = self.vm.shared.resolve_queue(self.vm.options.vm_id if vm_id is None else vm_id, queue)
        if queue_id is None:
            raise LookupError(f"no shared queue named {queue!r} is registered")
        self.vm.shared.enqueue(queue_id, to_bytes(value))
        self.vm.drain()

    def queue_items(self, queue: str, *, vm_id: str | None = None) -> list[bytes]:
        """What is waiting on a shared queue, oldest first."""
        queue_id = self.vm.shared.resolve_queue(self.vm.options.vm_id if vm_id is None else vm_id, queue)
        return list(self.vm.shared.queues[queue_id].items) if queue_id is not None else []

    @property
    def foreign_functions(self) -> dict[str, Callable[[bytes], bytes]]:
        """Host functions the filter may call with proxy_call_foreign_function, by name."""
        return self.vm.foreign_functions

    def call_foreign_function(self, function_id: int, arguments: str | bytes = b"") -> None:
        """Call the filter's proxy_on_foreign_function (ABI 0.2.x)."""
        lifecycle.call_foreign_function(self.vm, function_id, to_bytes(arguments))

    # -- shutdown ---------------------------------------------------------------------------------------
    def close(self, *, strict: bool = False) -> None:
        """Shut the plugin down (proxy_on_done, then proxy_on_delete unless done is pending).

        A failure during shutdown is what Envoy logs and moves on from (the plugin is going
        away), so by default it becomes a note (see :attr:`notes`); ``strict=True`` raises it.
        """
        try:
            lifecycle.shutdown(self.vm)
        except CallbackFailure as failure:
            if strict:
                raise
            self.vm.notes.append(f"plugin shutdown failed (Envoy logs this and carries on): "
                                 f"{failure.message.splitlines()[0]}")

    def __enter__(self) -> Filter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()

    def __repr__(self) -> str:
        return f"<Filter abi={self.abi} root_id={self.root_id!r}>"


def load_filter(module: str | Path | bytes | None = None, *, plugin_config: ConfigLike = None,
                vm_config: ConfigLike = None, root_id: str | None = None, vm_id: str = "",
                plugin_name: str = "", properties: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None, budget: int = DEFAULT_BUDGET,
                memory_limit: int = DEFAULT_MEMORY_LIMIT, log_level: str = "trace",
                stream_end_order: Literal["envoy", "spec"] = "envoy", clock: ManualClock | None = None,
                shared: SharedState | None = None, enforce_restrictions: bool = True) -> Filter:
    """Load, start and configure a filter, as Envoy does when a plugin is added.

    module: a .wasm path, its bytes, a project directory (its wasmbuild.toml names the module), or
        None for the project around the current directory.
    plugin_config / vm_config: text, bytes, or a dict/list (sent as JSON).
    root_id: the plugin's root id; by default from runtime-config.json or wasmbuild.toml.
    properties: extra properties by dotted path, e.g. ``{"source.address": "10.0.0.1:1234"}``.
    budget: fuel (about one unit per wasm instruction) each callback may use before it is stopped.
    memory_limit: bytes of linear memory the module may grow to.
    log_level: the level the host reports (proxy_get_log_level) and keeps logs from.
    stream_end_order: "envoy" (log, done, delete) or "spec" (done, log, delete).

    Raises CallbackFailure when a start-up callback fails and ConfigurationRejected when
    proxy_on_configure returns false.
    """
    if module is None:
        module = project_module()
    elif isinstance(module, (str, Path)) and Path(module).is_dir():
        module = project_module(Path(module))
    if isinstance(module, (str, Path)):
        path = Path(module)
        try:
            data = path.read_bytes()
        except OSError as exc:
            from wasmbuild.errors import from_os_error

            raise from_os_error(exc, "cannot read the filter module") from exc
        if root_id is None:
            root_id = discover_root_id(path)
    else:
        data = bytes(module)
    from wasmbuild.host import properties as props

    options = VmOptions(
        root_id=root_id or "", vm_id=vm_id, plugin_name=plugin_name, plugin_config=_config_bytes(plugin_config),
        vm_config=_config_bytes(vm_config), budget=budget, memory_limit=memory_limit, log_level=log_level,
        stream_end_order=stream_end_order, environ=dict(environ or {}),
        properties={props.path_of(k): props.encode_user_value(k, v) for k, v in (properties or {}).items()},
        enforce_restrictions=enforce_restrictions)
    vm = FilterVm(data, options, clock=clock, shared=shared)
    loaded = Filter(vm)
    try:
        accepted = lifecycle.start(vm)
    except CallbackFailure as failure:
        failure.logs = list(vm.logs)
        raise
    if not accepted:
        warnings = [r.message for r in vm.logs if r.level in ("warn", "error", "critical")]
        said = f": {warnings[-1]}" if warnings else ""
        raise ConfigurationRejected(f"the filter rejected its plugin configuration (proxy_on_configure returned "
                                    f"false){said}", "check the configuration against what the filter expects",
                                    list(vm.logs))
    return loaded
