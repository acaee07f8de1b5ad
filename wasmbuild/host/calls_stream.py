"""Host functions about the context and the HTTP stream: logging, time, ticks, configuration,
header/trailer maps, bodies and other buffers, local responses, continue/close, done.

Status codes follow Envoy's implementation (source/extensions/common/wasm/context.cc and
proxy-wasm-cpp-host's exports.cc) where the spec leaves room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wasmbuild.host.contexts import Direction
from wasmbuild.host.native import signed32
from wasmbuild.host.pairs import HeaderMap
from wasmbuild.host.state import LocalResponse
from wasmbuild.host.tables import BufferType, MapType, Status, StreamType

if TYPE_CHECKING:
    from wasmbuild.host.vm import FilterVm

_OVERFLOW = 1 << 32


def bind(vm: FilterVm) -> dict[str, Any]:
    """name -> implementation, for every env.* function in this group."""

    def mem_read(ptr: int, size: int) -> bytes:
        return vm.memory.read(ptr, size)

    # -- context and lifecycle -----------------------------------------------------------------
    def proxy_set_effective_context(context_id: int) -> int:
        ctx = vm.contexts.get(context_id)
        if ctx is None or getattr(ctx, "deleted", False):
            return Status.BAD_ARGUMENT
        vm.effective = ctx
        return Status.OK

    def proxy_done() -> int:
        from wasmbuild.host import lifecycle

        return lifecycle.proxy_done(vm)

    def proxy_log(level: int, ptr: int, size: int) -> int:
        message = mem_read(ptr, size)
        if level > 5:
            return Status.BAD_ARGUMENT
        vm.log(level, message.decode("utf-8", "replace"))
        return Status.OK

    def proxy_get_log_level(ptr: int) -> int:
        vm.memory.write_u32(ptr, vm.log_threshold)
        return Status.OK

    def proxy_get_current_time_nanoseconds(ptr: int) -> int:
        vm.memory.write_u64(ptr, vm.clock.realtime_ns)
        return Status.OK

    def proxy_set_tick_period_milliseconds(period: int) -> int:
        root = vm.root_context()
        if root is None:
            return Status.BAD_ARGUMENT
        root.tick_period_ms = period
        root.next_tick_ns = vm.clock.monotonic_ns + period * 1_000_000 if period else None
        return Status.OK

    def proxy_get_status(code_ptr: int, msg_ptr_ptr: int, msg_size_ptr: int) -> int:
        root = vm.root_context()
        code, message = root.status if root is not None else (0, b"")
        vm.memory.write_u32(code_ptr, code)
        return vm.copy_out(message, msg_ptr_ptr, msg_size_ptr)

    def proxy_get_configuration(ptr_ptr: int, size_ptr: int) -> int:  # 0.1.0
        data = vm.options.plugin_config if vm.configuring else vm.options.vm_config
        return vm.copy_out(data, ptr_ptr, size_ptr)

    # -- buffers ---------------------------------------------------------------------------------
    def buffer(kind: int) -> bytearray | bytes | None:
        stream = vm.stream_context()
        root = vm.root_context()
        if kind == BufferType.REQUEST_BODY:
            return stream.request_body.buffered if stream is not None else None
        if kind == BufferType.RESPONSE_BODY:
            return stream.response_body.buffered if stream is not None else None
        if kind == BufferType.VM_CONFIGURATION:
            return vm.options.vm_config
        if kind == BufferType.PLUGIN_CONFIGURATION:
            return vm.options.plugin_config if vm.configuring else None
        if root is None:
            return None
        if kind == BufferType.HTTP_CALL_RESPONSE_BODY:
            return root.http_call_body
        if kind == BufferType.GRPC_RECEIVE_BUFFER:
            return root.grpc_receive_buffer
        if kind == BufferType.FOREIGN_FUNCTION_ARGUMENTS:
            return root.foreign_arguments
        return None  # downstream/upstream data: the host runs HTTP streams only

    def proxy_get_buffer_bytes(kind: int, start: int, max_size: int, ptr_ptr: int, size_ptr: int) -> int:
        if kind > BufferType.MAX:
            return Status.BAD_ARGUMENT
        data = buffer(kind)
        if data is None:
            return Status.NOT_FOUND
        if start + max_size >= _OVERFLOW:
            return Status.BAD_ARGUMENT
        return vm.copy_out(bytes(data[start:start + max_size]), ptr_ptr, size_ptr)

    def proxy_get_buffer_status(kind: int, size_ptr: int, flags_ptr: int) -> int:
        if kind > BufferType.MAX:
            return Status.BAD_ARGUMENT
        data = buffer(kind)
        if data is None:
            return Status.NOT_FOUND
        vm.memory.write_u32(size_ptr, len(data))
        vm.memory.write_u32(flags_ptr, 0)
        return Status.OK

    def proxy_set_buffer_bytes(kind: int, start: int, size: int, ptr: int, length: int) -> int:
        value = mem_read(ptr, length)
        if kind > BufferType.MAX:
            return Status.BAD_ARGUMENT
        stream = vm.stream_context()
        if kind in (BufferType.REQUEST_BODY, BufferType.RESPONSE_BODY):
            if stream is None:
                return Status.NOT_FOUND
            body = stream.request_body if kind == BufferType.REQUEST_BODY else stream.response_body
            current = body.buffered
            if start == 0:
                body.buffered = bytearray(value) + current[size:]
            elif start >= len(current):
                current += value
            else:
                return Status.BAD_ARGUMENT
            body.seen = True
            return Status.OK
        return Status.NOT_FOUND if buffer(kind) is None else Status.BAD_ARGUMENT

    # -- header maps -----------------------------------------------------------------------------
    def readable_map(kind: int) -> HeaderMap | None:
        ctx = vm.effective
        if ctx is None:
            return None
        root = ctx.root
        if kind == MapType.GRPC_INITIAL_METADATA:
            return root.grpc_initial_metadata
        if kind == MapType.GRPC_TRAILING_METADATA:
            return root.grpc_trailing_metadata
        if kind == MapType.HTTP_CALL_RESPONSE_HEADERS:
            return root.http_call_headers
        if kind == MapType.HTTP_CALL_RESPONSE_TRAILERS:
            return root.http_call_trailers
        return writable_map(kind)

    def writable_map(kind: int) -> HeaderMap | None:
        stream = vm.stream_context()
        if stream is None:
            return None
        if kind == MapType.REQUEST_HEADERS:
            return stream.request_headers
        if kind == MapType.RESPONSE_HEADERS:
            return stream.response_headers
        if kind == MapType.REQUEST_TRAILERS:
            if stream.request_trailers is None and stream.end_of_stream and stream.phase == "request":
                stream.request_trailers = HeaderMap()  # Envoy: addDecodedTrailers at end of stream
            return stream.request_trailers
        if kind == MapType.RESPONSE_TRAILERS:
            if stream.response_trailers is None and stream.end_of_stream and stream.phase == "response":
                stream.response_trailers = HeaderMap()
            return stream.response_trailers
        return None

    def in_log_phase() -> bool:
        stream = vm.stream_context()
        return stream is not None and stream.log_phase

    def proxy_get_header_map_pairs(kind: int, ptr_ptr: int, size_ptr: int) -> int:
        if kind > MapType.MAX:
            return Status.BAD_ARGUMENT
        found = readable_map(kind)
        data = found.serialize() if found is not None and len(found) else b""
        return vm.copy_out(data, ptr_ptr, size_ptr)

    def proxy_set_header_map_pairs(kind: int, ptr: int, size: int) -> int:
        raw = mem_read(ptr, size)
        if kind > MapType.MAX:
            return Status.BAD_ARGUMENT
        target = writable_map(kind)
        if target is None:
            return Status.BAD_ARGUMENT
        target.set_all(vm.read_pairs(raw, "proxy_set_header_map_pairs got a malformed map",
                                     "; Envoy treats it as an empty map, so the map was cleared"))
        return Status.OK

    def proxy_get_header_map_value(kind: int, key_ptr: int, key_size: int, ptr_ptr: int, size_ptr: int) -> int:
        key = mem_read(key_ptr, key_size)
        if kind > MapType.MAX:
            return Status.BAD_ARGUMENT
        found = readable_map(kind)
        if found is None:
            if in_log_phase():
                return vm.copy_out(b"", ptr_ptr, size_ptr) if vm.v010 else Status.NOT_FOUND
            return Status.BAD_ARGUMENT
        value = found.get(key)
        if value is None:
            return vm.copy_out(b"", ptr_ptr, size_ptr) if vm.v010 else Status.NOT_FOUND
        return vm.copy_out(value, ptr_ptr, size_ptr)

    def edit(kind: int, key_ptr: int, key_size: int) -> tuple[HeaderMap | None, bytes]:
        key = mem_read(key_ptr, key_size)
        if kind > MapType.MAX:
            return None, key
        return writable_map(kind), key

    def proxy_add_header_map_value(kind: int, key_ptr: int, key_size: int, value_ptr: int, value_size: int) -> int:
        target, key = edit(kind, key_ptr, key_size)
        value = mem_read(value_ptr, value_size)
        if target is None:
            return Status.BAD_ARGUMENT
        target.add(key, value)
        return Status.OK

    def proxy_replace_header_map_value(kind: int, key_ptr: int, key_size: int, value_ptr: int,
                                       value_size: int) -> int:
        target, key = edit(kind, key_ptr, key_size)
        value = mem_read(value_ptr, value_size)
        if target is None:
            return Status.BAD_ARGUMENT
        target.replace(key, value)
        return Status.OK

    def proxy_remove_header_map_value(kind: int, key_ptr: int, key_size: int) -> int:
        target, key = edit(kind, key_ptr, key_size)
        if target is None:
            return Status.BAD_ARGUMENT
        target.remove(key)
        return Status.OK

    def proxy_get_header_map_size(kind: int, size_ptr: int) -> int:
        if kind > MapType.MAX:
            return Status.BAD_ARGUMENT
        target = writable_map(kind)
        if target is None:
            return Status.BAD_ARGUMENT
        vm.memory.write_u32(size_ptr, target.byte_size())
        return Status.OK

    # -- local responses and stream control -------------------------------------------------------
    def proxy_send_local_response(status: int, details_ptr: int, details_size: int, body_ptr: int, body_size: int,
                                  headers_ptr: int, headers_size: int, grpc_status: int) -> int:
        details = mem_read(details_ptr, details_size)
        body = mem_read(body_ptr, body_size)
        raw_headers = mem_read(headers_ptr, headers_size)
        stream = vm.stream_context()
        if stream is None:
            return Status.BAD_ARGUMENT
        headers = vm.read_pairs(raw_headers, "proxy_send_local_response got malformed headers",
                                "; Envoy sends the response without them")
        grpc = signed32(grpc_status)
        stream.local_response = LocalResponse(status, body, tuple((k.lower(), v) for k, v in headers),
                                              details.decode("utf-8", "replace"), None if grpc < 0 else grpc)
        stream.local_response_in_callback = True
        return Status.OK

    def continue_direction(direction: Direction) -> int:
        stream = vm.stream_context()
        if stream is None:
            return Status.BAD_ARGUMENT
        stream.resume(direction)
        return Status.OK

    def proxy_continue_stream(kind: int) -> int:
        if kind > StreamType.MAX:
            return Status.BAD_ARGUMENT
        if kind == StreamType.REQUEST:
            return continue_direction("request")
        if kind == StreamType.RESPONSE:
            return continue_direction("response")
        return Status.UNIMPLEMENTED  # TCP streams: the host runs HTTP streams only

    def proxy_close_stream(kind: int) -> int:
        if kind > StreamType.MAX:
            return Status.BAD_ARGUMENT
        stream = vm.stream_context()
        if kind in (StreamType.DOWNSTREAM, StreamType.UPSTREAM):
            return Status.UNIMPLEMENTED
        if stream is None:
            return Status.BAD_ARGUMENT
        stream.closed.add("request" if kind == StreamType.REQUEST else "response")
        return Status.OK

    def proxy_continue_request() -> int:  # 0.1.0
        return continue_direction("request")

    def proxy_continue_response() -> int:  # 0.1.0
        return continue_direction("response")

    def proxy_clear_route_cache() -> int:  # 0.1.0
        stream = vm.stream_context()
        if stream is not None:
            stream.route_cache_cleared += 1
        return Status.OK

    # -- other env functions cpp-host registers -----------------------------------------------------
    def pthread_equal(left: int, right: int) -> int:
        return int(left == right)

    def emscripten_notify_memory_growth(_index: int) -> None:
        return None

    names = {k: v for k, v in locals().items() if k.startswith(("proxy_", "pthread_", "emscripten_"))}
    return names

