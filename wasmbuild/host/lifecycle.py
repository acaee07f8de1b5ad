"""The call sequences Envoy runs against a filter: start-up, HTTP streams, ticks, async answers.

    start:   _initialize (+ main / __main_void) or _start
             proxy_on_context_create(root, 0); proxy_on_vm_start(root, |vm config|);
             proxy_on_configure(root, |plugin config|)
    stream:  proxy_on_context_create(ctx, root); request headers/body/trailers;
             response headers/body/trailers; then log, done, delete (Envoy's HTTP order)
             or done, log, delete (the spec's order, with proxy_done for a pending done)
    async:   proxy_on_tick, proxy_on_http_call_response, proxy_on_grpc_*, proxy_on_queue_ready,
             delivered after the callback that caused them returns, as Envoy's dispatcher does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wasmbuild.host.contexts import Action, Direction, HttpContext, RootContext
from wasmbuild.host.pairs import HeaderMap, Pair
from wasmbuild.host.state import GrpcCall, GrpcResponse, HttpCall, HttpCallResponse
from wasmbuild.host.tables import Status
from wasmbuild.host.vm import CallbackFailure, FilterVm


# -- start-up -----------------------------------------------------------------------------------
def start(vm: FilterVm) -> bool:
    """Run the entry points and bring up the root context; False if the configuration is rejected.

    Raises CallbackFailure when a callback fails or proxy_on_vm_start returns 0.
    """
    run_entry_points(vm)
    root = RootContext(vm.new_context_id(), vm.options.root_id)
    vm.root = root
    vm.contexts[root.id] = root
    vm.call("proxy_on_context_create", root, root.id, 0)
    started = vm.call("proxy_on_vm_start", root, root.id, len(vm.options.vm_config))
    if started == 0:
        vm.failed = CallbackFailure("proxy_on_vm_start returned false: the filter failed to start (Envoy: "
                                    "StartFailed)", "the filter's logs usually say why", callback="proxy_on_vm_start",
                                    reason="start-failed")
        raise vm.failed
    vm.drain()
    return configure(vm, vm.options.plugin_config)


def run_entry_points(vm: FilterVm) -> None:
    """_initialize then main(0, 0) or __main_void(); else _start. proc_exit(0) ends start-up cleanly."""
    try:
        if vm.exports("_initialize"):
            vm.call_restricted("_initialize")
            if vm.exports("main"):
                vm.call_restricted("main", 0, 0)
            elif vm.exports("__main_void"):
                vm.call_restricted("__main_void")
        elif vm.exports("_start"):
            vm.call_restricted("_start")
    except CallbackFailure as failure:
        if failure.reason == "proc-exit" and failure.proc_exit_code == 0:
            vm.failed = None
            return
        raise


def configure(vm: FilterVm, plugin_config: bytes) -> bool:
    """proxy_on_configure with `plugin_config`; True when the filter accepts it (or lacks the callback)."""
    assert vm.root is not None
    vm.options.plugin_config = plugin_config
    vm.configuring = True
    try:
        accepted = vm.call("proxy_on_configure", vm.root, vm.root.id, len(plugin_config))
    finally:
        vm.configuring = False
    vm.drain()
    return accepted is None or accepted != 0


def shutdown(vm: FilterVm) -> None:
    """Plugin shutdown: proxy_on_done(root); proxy_on_delete(root) unless done is pending."""
    root = vm.root
    if root is None or root.deleted or vm.failed is not None:
        return
    done = vm.call("proxy_on_done", root, root.id)
    if done == 0:
        root.done_pending = True
    else:
        _delete(vm, root)
    vm.drain()


def _delete(vm: FilterVm, ctx: RootContext | HttpContext) -> None:
    vm.call("proxy_on_delete", ctx, ctx.id)
    ctx.deleted = True
    if isinstance(ctx, HttpContext):
        vm.contexts.pop(ctx.id, None)  # ids are never reused; the stream object keeps its state


def proxy_done(vm: FilterVm) -> int:
    """The module says a pending done has completed: finish the context after this callback."""
    ctx = vm.effective
    if ctx is None or not ctx.done_pending:
        return Status.NOT_FOUND
    ctx.done_pending = False
    if isinstance(ctx, HttpContext):
        vm.post(lambda: _log_and_delete(vm, ctx))
    else:
        vm.post(lambda: _delete(vm, ctx))
    return Status.OK


# -- HTTP streams -------------------------------------------------------------------------------
def open_stream(vm: FilterVm) -> HttpContext:
    vm.ensure_alive()
    assert vm.root is not None, "start the VM first"
    ctx = HttpContext(vm.new_context_id(), vm.root)
    vm.contexts[ctx.id] = ctx
    vm.call("proxy_on_context_create", ctx, ctx.id, vm.root.id)
    vm.drain()
    return ctx


def _stream_call(vm: FilterVm, ctx: HttpContext, direction: Direction, name: str, *args: int) -> int | None:
    ctx.phase = direction
    ctx.local_response_in_callback = ctx.resumed_in_callback = False
    result = vm.call(name, ctx, *args)
    if ctx.local_response_in_callback:
        return 4  # cpp-host forces StopAllIterationAndWatermark after a local response
    if ctx.resumed_in_callback:
        return 0  # the filter paused and resumed its own direction in one callback
    return result


def _headers_action(result: int | None) -> Action:
    # 0 Continue and 2 ContinueAndEndStream continue; StopIteration (upgraded by cpp-host) and
    # the StopAll* statuses pause
    return "continue" if result in (None, 0, 2) else "pause"


def send_headers(vm: FilterVm, ctx: HttpContext, direction: Direction, headers: Iterable[Pair],
                 end_of_stream: bool) -> Action:
    header_map = HeaderMap(headers)
    if direction == "request":
        ctx.request_headers = header_map
    else:
        ctx.response_headers = header_map
    ctx.end_of_stream = end_of_stream
    name = f"proxy_on_{direction}_headers"
    args = (ctx.id, len(header_map)) if vm.v010 else (ctx.id, len(header_map), int(end_of_stream))
    action = _headers_action(_stream_call(vm, ctx, direction, name, *args))
    _set_action(ctx, direction, action)
    vm.drain()
    return action


def send_body(vm: FilterVm, ctx: HttpContext, direction: Direction, chunk: bytes, end_of_stream: bool) -> Action:
    body = ctx.request_body if direction == "request" else ctx.response_body
    body.seen = True
    body.buffered += chunk
    ctx.end_of_stream = end_of_stream
    result = _stream_call(vm, ctx, direction, f"proxy_on_{direction}_body", ctx.id, len(body.buffered),
                          int(end_of_stream))
    action: Action = "continue" if result in (None, 0) else "pause"
    if action == "continue":
        body.flush()
    _set_action(ctx, direction, action)
    vm.drain()
    return action


def send_trailers(vm: FilterVm, ctx: HttpContext, direction: Direction, trailers: Iterable[Pair]) -> Action:
    trailer_map = HeaderMap(trailers)
    if direction == "request":
        ctx.request_trailers = trailer_map
    else:
        ctx.response_trailers = trailer_map
    ctx.end_of_stream = True
    result = _stream_call(vm, ctx, direction, f"proxy_on_{direction}_trailers", ctx.id, len(trailer_map))
    action: Action = "continue" if result in (None, 0) else "pause"
    _set_action(ctx, direction, action)
    vm.drain()
    return action


def _set_action(ctx: HttpContext, direction: Direction, action: Action) -> None:
    if direction == "request":
        ctx.request_action = action
    else:
        ctx.response_action = action


def finish_stream(vm: FilterVm, ctx: HttpContext) -> None:
    """End of stream: log, done, delete (Envoy HTTP) or done, log, delete (spec order)."""
    if ctx.done or vm.failed is not None:
        return
    ctx.done = True
    if vm.options.stream_end_order == "envoy":
        _log(vm, ctx)
        vm.call("proxy_on_done", ctx, ctx.id)  # Envoy ignores the result for HTTP streams
        _delete(vm, ctx)
    else:
        done = vm.call("proxy_on_done", ctx, ctx.id)
        if done == 0:
            ctx.done_pending = True
        else:
            _log_and_delete(vm, ctx)
    vm.drain()


def _log(vm: FilterVm, ctx: HttpContext) -> None:
    ctx.log_phase = True
    vm.call("proxy_on_log", ctx, ctx.id)


def _log_and_delete(vm: FilterVm, ctx: HttpContext) -> None:
    _log(vm, ctx)
    _delete(vm, ctx)


# -- time -----------------------------------------------------------------------------------------
def advance(vm: FilterVm, ns: int) -> int:
    """Move the clock by `ns`, calling proxy_on_tick whenever a root context's period elapses.

    Returns the number of ticks delivered.
    """
    target = vm.clock.monotonic_ns + ns
    ticks = 0
    while vm.failed is None:
        due = [r for r in vm.contexts.values()
               if isinstance(r, RootContext) and r.next_tick_ns is not None and r.next_tick_ns <= target
               and not r.deleted]
        if not due:
            break
        root = min(due, key=lambda r: (r.next_tick_ns or 0, r.id))
        assert root.next_tick_ns is not None
        vm.clock.advance_ns(root.next_tick_ns - vm.clock.monotonic_ns)
        root.next_tick_ns += max(1, root.tick_period_ms) * 1_000_000
        vm.call("proxy_on_tick", root, root.id)
        ticks += 1
        vm.drain()
    vm.clock.advance_ns(max(0, target - vm.clock.monotonic_ns))
    return ticks


# -- HTTP calls -------------------------------------------------------------------------------------
def script_http_call(vm: FilterVm, call: HttpCall) -> None:
    """Answer a new call from the scripted responder, after the current callback."""
    responder = vm.http_responder
    if responder is None:
        return
    response = responder(call)
    if response is not None:
        vm.post(lambda: deliver_http_response(vm, call, response))


def deliver_http_response(vm: FilterVm, call: HttpCall, response: HttpCallResponse) -> None:
    if call.answered:
        raise ValueError(f"HTTP call {call.token} to {call.upstream!r} was already answered")
    call.response = response
    root = vm.contexts.get(call.root_context_id)
    if not isinstance(root, RootContext) or root.deleted:
        return
    headers = response.header_pairs()
    trailers = [] if response.failed else list(response.trailers)
    body = b"" if response.failed else response.body
    root.http_call_headers = HeaderMap(headers)
    root.http_call_trailers = HeaderMap(trailers)
    root.http_call_body = body
    root.status = (Status.BROKEN_CONNECTION, b"reset") if response.failed else (Status.OK, b"")
    try:
        vm.call("proxy_on_http_call_response", root, root.id, call.token, len(headers), len(body), len(trailers))
    finally:
        root.http_call_headers = root.http_call_trailers = None
        root.http_call_body = None
    vm.drain()


# -- gRPC -------------------------------------------------------------------------------------------
def script_grpc_call(vm: FilterVm, call: GrpcCall) -> None:
    responder = vm.grpc_responder
    if responder is None or call.streaming:
        return
    response = responder(call)
    if response is not None:
        vm.post(lambda: deliver_grpc_response(vm, call, response))


def _grpc_root(vm: FilterVm, call: GrpcCall) -> RootContext | None:
    root = vm.contexts.get(call.root_context_id)
    return root if isinstance(root, RootContext) and not root.deleted else None


def grpc_metadata(vm: FilterVm, call: GrpcCall, metadata: Iterable[Pair], trailing: bool) -> None:
    root = _grpc_root(vm, call)
    if root is None or call.closed:
        return
    header_map = HeaderMap(metadata)
    name = "proxy_on_grpc_receive_trailing_metadata" if trailing else "proxy_on_grpc_receive_initial_metadata"
    if trailing:
        root.grpc_trailing_metadata = header_map
    else:
        root.grpc_initial_metadata = header_map
    try:
        vm.call(name, root, root.id, call.token, len(header_map))
    finally:
        root.grpc_initial_metadata = root.grpc_trailing_metadata = None


def grpc_message(vm: FilterVm, call: GrpcCall, message: bytes) -> None:
    root = _grpc_root(vm, call)
    if root is None or call.closed:
        return
    root.grpc_receive_buffer = message
    try:
        vm.call("proxy_on_grpc_receive", root, root.id, call.token, len(message))
    finally:
        root.grpc_receive_buffer = None


def grpc_close(vm: FilterVm, call: GrpcCall, status: int, message: str) -> None:
    root = _grpc_root(vm, call)
    if root is None or call.closed:
        return
    call.closed = True
    root.status = (status, message.encode())
    vm.call("proxy_on_grpc_close", root, root.id, call.token, status)


def deliver_grpc_response(vm: FilterVm, call: GrpcCall, response: GrpcResponse) -> None:
    """A unary answer, as Envoy delivers it: the message on success, a close on failure."""
    if call.response is not None:
        raise ValueError(f"gRPC call {call.token} was already answered")
    call.response = response
    if response.initial_metadata:
        grpc_metadata(vm, call, response.initial_metadata, trailing=False)
    if response.status == 0:
        grpc_message(vm, call, response.message)
        if response.trailing_metadata:
            grpc_metadata(vm, call, response.trailing_metadata, trailing=True)
        call.closed = True
    else:
        if response.trailing_metadata:
            grpc_metadata(vm, call, response.trailing_metadata, trailing=True)
        grpc_close(vm, call, response.status, response.status_message)
    vm.drain()


# -- shared queues and foreign functions ----------------------------------------------------------
def queue_notifier(vm: FilterVm, root: RootContext) -> Callable[[int], None]:
    """What SharedState calls when an item lands in a queue `root` registered."""
    def notify(queue_id: int) -> None:
        vm.post(lambda: _queue_ready(vm, root, queue_id))
        vm.shared.wake(vm.drain)
    return notify


def _queue_ready(vm: FilterVm, root: RootContext, queue_id: int) -> None:
    if not root.deleted:
        vm.call("proxy_on_queue_ready", root, root.id, queue_id)


def call_foreign_function(vm: FilterVm, function_id: int, arguments: bytes) -> None:
    """proxy_on_foreign_function(root, function_id, |arguments|) with the arguments in buffer 8."""
    root = vm.root
    assert root is not None
    root.foreign_arguments = arguments
    try:
        vm.call("proxy_on_foreign_function", root, root.id, function_id, len(arguments))
    finally:
        root.foreign_arguments = None
    vm.drain()

