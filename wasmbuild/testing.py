"""Test a compiled proxy-wasm filter from Python, without Envoy.

``wasmbuild.testing`` runs the real ``.wasm`` under wasmbuild's emulated proxy-wasm host (on
wasmtime): the same call sequence Envoy makes, the host functions of the module's ABI version,
WASI, a manual clock, and scripted answers for HTTP and gRPC calls. Tests assert on what a proxy
would see: the headers as the filter left them, bodies, local responses, logs and metrics.

A first test::

    from wasmbuild.testing import load_filter

    def test_adds_the_configured_header():
        with load_filter("build/filter.wasm", root_id="add_header",
                         plugin_config={"name": "x-team", "value": "edge"}) as f:
            stream = f.http_stream()
            assert stream.send_request_headers() == "continue"
            assert stream.send_response_headers({":status": "200"}) == "continue"
            assert stream.response_headers["x-team"] == "edge"
            stream.finish()
            assert "debug" in {record.level for record in f.logs}

Inside a wasmbuild project the module path and the root id can be left out: they come from
``wasmbuild.toml`` ([build] output, [project] root_id) or the ``runtime-config.json``.

In a ``conftest.py``, ``filter_fixture`` makes a pytest fixture that loads the filter for each
test and shuts it down afterwards::

    from wasmbuild.testing import filter_fixture

    add_header = filter_fixture(plugin_config={"name": "x-team", "value": "edge"})

    # test_filter.py
    def test_hello(add_header):
        stream = add_header.run_http()
        assert stream.response_headers["hello"] == "world!"

A filter that traps, loops past its budget, exhausts its memory or hands a host call a bad
pointer raises :class:`CallbackFailure` (a ``wasmbuild.errors.FilterFailure``) naming the
callback, with the wasm backtrace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeAlias

from wasmbuild.errors import FilterFailure
from wasmbuild.host import lifecycle, properties
from wasmbuild.host.contexts import HttpContext
from wasmbuild.host.discovery import discover_root_id, project_module
from wasmbuild.host.pairs import HeaderMap, Pair, to_bytes
from wasmbuild.host.state import (
    GrpcCall,
    GrpcResponse,
    HttpCall,
    HttpCallResponse,
    LocalResponse,
    LogRecord,
    ManualClock,
    SharedState,
)
from wasmbuild.host.vm import DEFAULT_BUDGET, DEFAULT_MEMORY_LIMIT, CallbackFailure, FilterVm, VmOptions

__all__ = [
    "CONTINUE",
    "DEFAULT_REQUEST_HEADERS",
    "DEFAULT_RESPONSE_HEADERS",
    "PAUSE",
    "Action",
    "CallbackFailure",
    "ConfigurationRejected",
    "Filter",
    "FilterFailure",
    "GrpcCall",
    "GrpcResponse",
    "Headers",
    "HttpCall",
    "HttpCallResponse",
    "HttpStream",
    "LocalResponse",
    "LogRecord",
    "ManualClock",
    "SharedState",
    "filter_factory",
    "filter_fixture",
    "load_filter",
    "project_module",
]

Action = Literal["continue", "pause"]
CONTINUE: Action = "continue"
PAUSE: Action = "pause"

HeadersLike: TypeAlias = "Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | Headers"
ConfigLike: TypeAlias = "str | bytes | Mapping[str, Any] | list[Any] | None"
HttpResponder: TypeAlias = "HttpCallResponse | Callable[[HttpCall], HttpCallResponse | None]"
GrpcResponder: TypeAlias = "GrpcResponse | Callable[[GrpcCall], GrpcResponse | None]"

DEFAULT_REQUEST_HEADERS: tuple[tuple[str, str], ...] = (
    (":method", "GET"), (":path", "/"), (":authority", "localhost"), (":scheme", "http"))
DEFAULT_RESPONSE_HEADERS: tuple[tuple[str, str], ...] = ((":status", "200"),)


class ConfigurationRejected(FilterFailure):
    """proxy_on_configure returned false: the filter refused its plugin configuration."""

    def __init__(self, message: str, hint: str | None, logs: list[LogRecord]) -> None:
        super().__init__(message, hint)
        self.logs = logs


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class Headers:
    """Headers (or trailers) in order, as the filter left them. Names are lower-case.

    >>> h = Headers([(":status", "200"), ("set-cookie", "a=1"), ("set-cookie", "b=2")])
    >>> h["set-cookie"], h.get_all("set-cookie"), "x-missing" in h
    ('a=1', ['a=1', 'b=2'], False)
    >>> h == [(":status", "200"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    True
    """

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str | bytes, str | bytes]] = ()) -> None:
        self._pairs: list[tuple[str, str]] = [
            (k.decode("utf-8", "replace") if isinstance(k, bytes) else k,
             v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for k, v in pairs]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name` (case-insensitive), or `default`."""
        name = name.lower()
        return next((v for k, v in self._pairs if k.lower() == name), default)

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self._pairs if k.lower() == name]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(f"no header {name!r} in {self!r}")
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def names(self) -> list[str]:
        return [k for k, _ in self._pairs]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._pairs == other._pairs
        if isinstance(other, Mapping):
            return dict(self._pairs) == dict(other) and len(self._pairs) == len(other)
        if isinstance(other, (list, tuple)):
            return self._pairs == [tuple(p) for p in other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


_DEFAULT_REQUEST = tuple((k.encode(), v.encode()) for k, v in DEFAULT_REQUEST_HEADERS)
_DEFAULT_RESPONSE = tuple((k.encode(), v.encode()) for k, v in DEFAULT_RESPONSE_HEADERS)


def _pairs(headers: HeadersLike | None, default: Iterable[Pair] = ()) -> list[Pair]:
    if headers is None:
        return list(default)
    if isinstance(headers, Headers):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    return [(to_bytes(k).lower(), to_bytes(v)) for k, v in items]


def _config_bytes(config: ConfigLike) -> bytes:
    if config is None:
        return b""
    if isinstance(config, bytes):
        return config
    if isinstance(config, str):
        return config.encode("utf-8")
    return json.dumps(config).encode("utf-8")


def _headers_view(found: HeaderMap | None) -> Headers:
    return Headers(found.pairs() if found is not None else [])


class HttpStream:
    """One HTTP stream through the filter. Send each part in order; read what the filter did.

    Every ``send_*`` method calls the matching ``proxy_on_*`` callback and returns its action
    (``"continue"`` or ``"pause"``); a pause is recorded, not waited on, so a test can go on and
    check what the filter does next (``request_action`` tells whether it resumed since).
    """

    def __init__(self, filter: Filter, context: HttpContext) -> None:
        self._filter = filter
        self._ctx = context

    @property
    def id(self) -> int:
        """The stream's context id (the root context is 1, streams count up from 2)."""
        return self._ctx.id

    # -- driving -------------------------------------------------------------------------------
    def send_request_headers(self, headers: HeadersLike | None = None, *, end_of_stream: bool = False) -> Action:
        """proxy_on_request_headers; `headers` default to a GET / for localhost over http."""
        return lifecycle.send_headers(self._filter.vm, self._ctx, "request",
                                      _pairs(headers, _DEFAULT_REQUEST), end_of_stream)

    def send_request_body(self, body: str | bytes, *, end_of_stream: bool = True) -> Action:
        """proxy_on_request_body with this chunk (appended to what the filter is buffering)."""
        return lifecycle.send_body(self._filter.vm, self._ctx, "request", to_bytes(body), end_of_stream)

    def send_request_trailers(self, trailers: HeadersLike) -> Action:
        return lifecycle.send_trailers(self._filter.vm, self._ctx, "request", _pairs(trailers))

    def send_response_headers(self, headers: HeadersLike | None = None, *, end_of_stream: bool = False) -> Action:
        """proxy_on_response_headers; `headers` default to ``:status: 200``."""
        return lifecycle.send_headers(self._filter.vm, self._ctx, "response",
                                      _pairs(headers, _DEFAULT_RESPONSE), end_of_stream)

    def send_response_body(self, body: str | bytes, *, end_of_stream: bool = True) -> Action:
        return lifecycle.send_body(self._filter.vm, self._ctx, "response", to_bytes(body), end_of_stream)

    def send_response_trailers(self, trailers: HeadersLike) -> Action:
        return lifecycle.send_trailers(self._filter.vm, self._ctx, "response", _pairs(trailers))

    def run(self, request_headers: HeadersLike | None = None, request_body: str | bytes | None = None,
            response_headers: HeadersLike | None = None, response_body: str | bytes | None = None, *,
            request_trailers: HeadersLike | None = None, response_trailers: HeadersLike | None = None,
            finish: bool = True) -> HttpStream:
        """Send every part of the stream in order, then finish it (unless `finish` is False).

        Request headers (default: GET / for localhost), the body and trailers if given; then,
        unless the filter sent a local response, response headers (default ``:status: 200``),
        body and trailers. A pause does not stop the sequence: it is recorded in the actions.
        """
        last_request = request_body is None and request_trailers is None
        self.send_request_headers(request_headers, end_of_stream=last_request)
        if request_body is not None:
            self.send_request_body(request_body, end_of_stream=request_trailers is None)
        if request_trailers is not None:
            self.send_request_trailers(request_trailers)
        if self.local_response is None:
            last_response = response_body is None and response_trailers is None
            self.send_response_headers(response_headers, end_of_stream=last_response)
            if response_body is not None and self.local_response is None:
                self.send_response_body(response_body, end_of_stream=response_trailers is None)
            if response_trailers is not None and self.local_response is None:
                self.send_response_trailers(response_trailers)
        if finish:
            self.finish()
        return self

    def finish(self) -> None:
        """End the stream: proxy_on_log, proxy_on_done, proxy_on_delete (in the filter's order)."""
        lifecycle.finish_stream(self._filter.vm, self._ctx)

    def __enter__(self) -> HttpStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.finish()

    # -- what the filter left ------------------------------------------------------------------
    @property
    def request_headers(self) -> Headers:
        return _headers_view(self._ctx.request_headers)

    @property
    def response_headers(self) -> Headers:
        return _headers_view(self._ctx.response_headers)

    @property
    def request_trailers(self) -> Headers:
        return _headers_view(self._ctx.request_trailers)

    @property
    def response_trailers(self) -> Headers:
        return _headers_view(self._ctx.response_trailers)

    @property
    def request_body(self) -> bytes | None:
        """The request body as it leaves the filter (None if none was sent or set)."""
        return self._ctx.request_body.content()

    @property
    def response_body(self) -> bytes | None:
        return self._ctx.response_body.content()

    @property
    def request_action(self) -> Action | None:
        """The request direction's state: the last callback's action, or continue once resumed."""
        return self._ctx.request_action

    @property
    def response_action(self) -> Action | None:
        return self._ctx.response_action

    @property
    def local_response(self) -> LocalResponse | None:
        """The response the filter sent with proxy_send_local_response, if it did."""
        return self._ctx.local_response

    @property
    def closed(self) -> frozenset[str]:
        """Directions the filter reset with proxy_close_stream ("request", "response")."""
        return frozenset(self._ctx.closed)

    @property
    def finished(self) -> bool:
        return self._ctx.done

    @property
    def http_calls(self) -> list[HttpCall]:
        """HTTP calls made while this stream's context was current."""
        return [c for c in self._filter.vm.http_calls if c.context_id == self._ctx.id]

    def set_property(self, path: str, value: str | bytes | int | bool | Mapping[str, str]) -> None:
        """A property this stream's filter will read (e.g. ``"source.address"``)."""
        self._ctx.properties[properties.path_of(path)] = properties.encode_user_value(path, value)

    def __repr__(self) -> str:
        return f"<HttpStream {self.id} request={self.request_action} response={self.response_action}>"


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
        response = HttpCallResponse(status, tuple(_pairs(headers)), to_bytes(body), tuple(_pairs(trailers)))
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
        response = GrpcResponse(to_bytes(message), status, status_message, tuple(_pairs(initial_metadata)),
                                tuple(_pairs(trailing_metadata)))
        lifecycle.deliver_grpc_response(self.vm, self._grpc_call(call), response)

    def grpc_stream_receive(self, call: GrpcCall | int, message: str | bytes,
                            initial_metadata: HeadersLike | None = None) -> None:
        """Deliver a message on an open gRPC stream (proxy_on_grpc_receive)."""
        target = self._grpc_call(call)
        if initial_metadata is not None:
            lifecycle.grpc_metadata(self.vm, target, _pairs(initial_metadata), trailing=False)
        lifecycle.grpc_message(self.vm, target, to_bytes(message))
        self.vm.drain()

    def grpc_stream_close(self, call: GrpcCall | int, status: int = 0, message: str = "",
                          trailing_metadata: HeadersLike | None = None) -> None:
        """Close a gRPC stream from the server side (trailing metadata, then proxy_on_grpc_close)."""
        target = self._grpc_call(call)
        if trailing_metadata is not None:
            lifecycle.grpc_metadata(self.vm, target, _pairs(trailing_metadata), trailing=True)
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


def filter_fixture(module: str | Path | bytes | None = None, *, scope: str = "function",
                   **options: Any) -> Any:
    """A pytest fixture that loads the filter for each test and shuts it down afterwards.

    In a conftest.py: ``add_header = filter_fixture(plugin_config={...})``; tests then take an
    ``add_header`` argument. `options` are those of :func:`load_filter`.
    """
    import pytest

    def fixture() -> Iterator[Filter]:
        loaded = load_filter(module, **options)
        yield loaded
        if loaded.vm.failed is None:
            loaded.close()

    return pytest.fixture(scope=scope)(fixture)  # type: ignore[call-overload]


def filter_factory(module: str | Path | bytes | None = None, *, scope: str = "function", **defaults: Any) -> Any:
    """A pytest fixture giving a ``load(**overrides) -> Filter`` function, for tests that need
    several configurations; every filter it loaded is shut down after the test.

    ``load_add_header = filter_factory()`` then ``f = load_add_header(plugin_config="{}")``.
    """
    import pytest

    def fixture() -> Iterator[Callable[..., Filter]]:
        loaded: list[Filter] = []

        def load(**overrides: Any) -> Filter:
            target = overrides.pop("module", module)
            filt = load_filter(target, **{**defaults, **overrides})
            loaded.append(filt)
            return filt

        yield load
        for filt in loaded:
            if filt.vm.failed is None:
                filt.close()

    return pytest.fixture(scope=scope)(fixture)  # type: ignore[call-overload]
