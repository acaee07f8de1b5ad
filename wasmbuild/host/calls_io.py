"""Host functions that reach beyond the stream: properties, shared data and queues, metrics,
HTTP and gRPC calls (answered from scripted responses), foreign functions, DNS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wasmbuild.host import properties
from wasmbuild.host.native import signed32
from wasmbuild.host.state import GrpcCall, HttpCall, Metric, MetricKind
from wasmbuild.host.tables import MetricType, Status

if TYPE_CHECKING:
    from wasmbuild.host.vm import FilterVm

_KINDS: dict[int, MetricKind] = {MetricType.COUNTER: "counter", MetricType.GAUGE: "gauge",
                                 MetricType.HISTOGRAM: "histogram"}


def bind(vm: FilterVm) -> dict[str, Any]:
    """name -> implementation, for every env.* function in this group."""

    def read(ptr: int, size: int) -> bytes:
        return vm.memory.read(ptr, size)

    def text(ptr: int, size: int) -> str:
        return read(ptr, size).decode("utf-8", "replace")

    # -- properties ------------------------------------------------------------------------------
    def proxy_get_property(path_ptr: int, path_size: int, ptr_ptr: int, size_ptr: int) -> int:
        path = properties.split_path(read(path_ptr, path_size))
        value = properties.lookup(vm, path)
        if value is None:
            return Status.NOT_FOUND
        return vm.copy_out(value, ptr_ptr, size_ptr)

    def proxy_set_property(path_ptr: int, path_size: int, value_ptr: int, value_size: int) -> int:
        path = properties.split_path(read(path_ptr, path_size))
        value = read(value_ptr, value_size)
        ctx = vm.effective
        target = ctx.properties if ctx is not None else (vm.root.properties if vm.root is not None else None)
        if target is None:
            return Status.NOT_FOUND
        target[path] = value
        return Status.OK

    # -- shared data and queues --------------------------------------------------------------------
    def proxy_get_shared_data(key_ptr: int, key_size: int, ptr_ptr: int, size_ptr: int, cas_ptr: int) -> int:
        found = vm.shared.get(vm.options.vm_id, read(key_ptr, key_size))
        if found is None:
            return Status.NOT_FOUND
        vm.memory.write_u32(cas_ptr, found[1])
        return vm.copy_out(found[0], ptr_ptr, size_ptr)

    def proxy_set_shared_data(key_ptr: int, key_size: int, value_ptr: int, value_size: int, cas: int) -> int:
        key, value = read(key_ptr, key_size), read(value_ptr, value_size)
        return Status.OK if vm.shared.set(vm.options.vm_id, key, value, cas) else Status.CAS_MISMATCH

    def proxy_register_shared_queue(name_ptr: int, name_size: int, id_ptr: int) -> int:
        name = text(name_ptr, name_size)
        root = vm.root_context()
        if root is None:
            return Status.BAD_ARGUMENT
        vm.memory.check_writable(id_ptr, 4)
        from wasmbuild.host import lifecycle

        queue_id = vm.shared.register_queue(vm.options.vm_id, name, lifecycle.queue_notifier(vm, root))
        vm.memory.write_u32(id_ptr, queue_id)
        return Status.OK

    def proxy_resolve_shared_queue(vm_id_ptr: int, vm_id_size: int, name_ptr: int, name_size: int,
                                   id_ptr: int) -> int:
        vm_id, name = text(vm_id_ptr, vm_id_size), text(name_ptr, name_size)
        queue_id = vm.shared.resolve_queue(vm_id, name)
        if queue_id is None:
            return Status.NOT_FOUND
        vm.memory.write_u32(id_ptr, queue_id)
        return Status.OK

    def proxy_enqueue_shared_queue(queue_id: int, value_ptr: int, value_size: int) -> int:
        value = read(value_ptr, value_size)
        return Status.OK if vm.shared.enqueue(queue_id, value) else Status.NOT_FOUND

    def proxy_dequeue_shared_queue(queue_id: int, ptr_ptr: int, size_ptr: int) -> int:
        try:
            item = vm.shared.dequeue(queue_id)
        except KeyError:
            return Status.NOT_FOUND
        if item is None:
            return Status.EMPTY
        return vm.copy_out(item, ptr_ptr, size_ptr)

    # -- metrics (Envoy's semantics: ids carry the type in their low 2 bits) ----------------------
    def proxy_define_metric(kind: int, name_ptr: int, name_size: int, id_ptr: int) -> int:
        name = text(name_ptr, name_size)
        if kind > MetricType.MAX:
            return Status.BAD_ARGUMENT
        for metric_id, metric in vm.metrics.items():
            if metric.name == name and metric.kind == _KINDS[kind]:
                vm.memory.write_u32(id_ptr, metric_id)
                return Status.OK
        metric_id = (len(vm.metrics) + 1) * 4 + kind
        vm.memory.write_u32(id_ptr, metric_id)
        vm.metrics[metric_id] = Metric(name, _KINDS[kind])
        return Status.OK

    def proxy_increment_metric(metric_id: int, delta: int) -> int:
        metric = vm.metrics.get(metric_id)
        if metric is None:
            return Status.BAD_ARGUMENT if metric_id & 3 == MetricType.HISTOGRAM else Status.NOT_FOUND
        if metric.kind == "histogram":
            return Status.BAD_ARGUMENT
        if metric.kind == "counter" and delta <= 0:
            return Status.BAD_ARGUMENT
        metric.value += delta
        return Status.OK

    def proxy_record_metric(metric_id: int, value: int) -> int:
        metric = vm.metrics.get(metric_id)
        if metric is None:
            return Status.NOT_FOUND
        value &= 0xFFFFFFFFFFFFFFFF
        if metric.kind == "counter":
            metric.value += value
        elif metric.kind == "gauge":
            metric.value = value
        else:
            metric.samples.append(value)
        return Status.OK

    def proxy_get_metric(metric_id: int, value_ptr: int) -> int:
        metric = vm.metrics.get(metric_id)
        if metric is None:
            return Status.BAD_ARGUMENT if metric_id & 3 == MetricType.HISTOGRAM else Status.NOT_FOUND
        if metric.kind == "histogram":
            return Status.BAD_ARGUMENT
        vm.memory.write_u64(value_ptr, metric.value)
        return Status.OK

    # -- HTTP and gRPC calls ---------------------------------------------------------------------
    def proxy_http_call(upstream_ptr: int, upstream_size: int, headers_ptr: int, headers_size: int,
                        body_ptr: int, body_size: int, trailers_ptr: int, trailers_size: int, timeout: int,
                        token_ptr: int) -> int:
        upstream = text(upstream_ptr, upstream_size)
        headers = vm.read_pairs(read(headers_ptr, headers_size),
                                "the proxy_http_call headers is not a valid serialised map")
        body = read(body_ptr, body_size)
        trailers = vm.read_pairs(read(trailers_ptr, trailers_size),
                                 "the proxy_http_call trailers is not a valid serialised map")
        vm.memory.check_writable(token_ptr, 4)
        root = vm.root_context()
        if root is None or signed32(timeout) < 0:
            return Status.BAD_ARGUMENT
        names = {k.lower() for k, _ in headers}
        if not {b":method", b":path", b":authority"} <= names:
            vm.notes.append(f"{vm.current_callback}: proxy_http_call to {upstream!r} lacks one of :method, :path, "
                            ":authority, so Envoy refuses it with BAD_ARGUMENT")
            return Status.BAD_ARGUMENT
        token = len(vm.http_calls) + 1
        source = vm.effective
        call = HttpCall(token, upstream, headers, body, trailers, timeout,
                        source.id if source is not None else root.id, root.id)
        vm.http_calls.append(call)
        vm.memory.write_u32(token_ptr, token)
        from wasmbuild.host import lifecycle

        lifecycle.script_http_call(vm, call)
        return Status.OK

    def open_grpc(upstream_ptr: int, upstream_size: int, service_ptr: int, service_size: int, method_ptr: int,
                  method_size: int, metadata_ptr: int, metadata_size: int, message: bytes, timeout: int,
                  token_ptr: int, streaming: bool) -> int:
        upstream = text(upstream_ptr, upstream_size)
        service = text(service_ptr, service_size)
        method = text(method_ptr, method_size)
        metadata = vm.read_pairs(read(metadata_ptr, metadata_size),
                                 "the gRPC initial metadata is not a valid serialised map")
        vm.memory.check_writable(token_ptr, 4)
        root = vm.root_context()
        if root is None:
            return Status.BAD_ARGUMENT
        token = len(vm.grpc_calls) + 1
        source = vm.effective
        call = GrpcCall(token, upstream, service, method, metadata, message, timeout,
                        source.id if source is not None else root.id, root.id, streaming=streaming)
        vm.grpc_calls[token] = call
        vm.memory.write_u32(token_ptr, token)
        from wasmbuild.host import lifecycle

        lifecycle.script_grpc_call(vm, call)
        return Status.OK

    def proxy_grpc_call(upstream_ptr: int, upstream_size: int, service_ptr: int, service_size: int,
                        method_ptr: int, method_size: int, metadata_ptr: int, metadata_size: int,
                        message_ptr: int, message_size: int, timeout: int, token_ptr: int) -> int:
        message = read(message_ptr, message_size)
        return open_grpc(upstream_ptr, upstream_size, service_ptr, service_size, method_ptr, method_size,
                         metadata_ptr, metadata_size, message, timeout, token_ptr, streaming=False)

    def proxy_grpc_stream(upstream_ptr: int, upstream_size: int, service_ptr: int, service_size: int,
                          method_ptr: int, method_size: int, metadata_ptr: int, metadata_size: int,
                          token_ptr: int) -> int:
        return open_grpc(upstream_ptr, upstream_size, service_ptr, service_size, method_ptr, method_size,
                         metadata_ptr, metadata_size, b"", 0, token_ptr, streaming=True)

    def proxy_grpc_send(token: int, message_ptr: int, message_size: int, end_stream: int) -> int:
        message = read(message_ptr, message_size)
        call = vm.grpc_calls.get(token)
        if call is None or not call.streaming or call.closed:
            return Status.BAD_ARGUMENT if call is not None else Status.NOT_FOUND
        call.sent.append(message)
        call.half_closed = call.half_closed or bool(end_stream)
        return Status.OK

    def proxy_grpc_cancel(token: int) -> int:
        call = vm.grpc_calls.get(token)
        if call is None or call.closed:
            return Status.NOT_FOUND
        call.cancelled = call.closed = True
        return Status.OK

    def proxy_grpc_close(token: int) -> int:
        call = vm.grpc_calls.get(token)
        if call is None or call.closed:
            return Status.NOT_FOUND
        if call.streaming:
            call.half_closed = True
        else:
            call.cancelled = call.closed = True
        return Status.OK

    # -- foreign functions and Envoy extras --------------------------------------------------------
    def proxy_call_foreign_function(name_ptr: int, name_size: int, args_ptr: int, args_size: int,
                                    ptr_ptr: int, size_ptr: int) -> int:
        name = text(name_ptr, name_size)
        arguments = read(args_ptr, args_size)
        function = vm.foreign_functions.get(name)
        if function is None:
            return Status.NOT_FOUND
        result = function(arguments)
        if ptr_ptr == 0:
            return Status.OK
        return vm.copy_out(bytes(result), ptr_ptr, size_ptr)

    def envoy_resolve_dns(address_ptr: int, address_size: int, token_ptr: int) -> int:
        read(address_ptr, address_size)
        vm.notes.append(f"{vm.current_callback}: envoy_resolve_dns is Envoy-only and not emulated")
        return Status.UNIMPLEMENTED

    return {k: v for k, v in locals().items() if k.startswith(("proxy_", "envoy_"))}
