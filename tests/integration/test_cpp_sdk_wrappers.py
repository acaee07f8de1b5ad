"""The C++ SDK's wrappers, one by one: tests/data/cpp_sdk/probe.cc calls each with fixed
arguments and the recording host checks the exact host call (every pointer/length pair is read
back from the module's memory), then what the wrapper made of the host's answer. Also the
header-map encoding and decoding, against an encoder written from the spec, and the dispatch of
every callback. The probe is built with clang-wasi and with emscripten."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.cpp_sdk import DATA_DIR, OUT, configure_root, positional, positional_calls, start
from tests.fixtures.recording_host import RecordingHost, deserialize_pairs, serialize_pairs
from wasmbuild.abi import check

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]


MASK64 = 2**64 - 1


def probe_host(module: Path) -> RecordingHost:
    host = RecordingHost(module)
    start(host)
    assert configure_root(host, "probe") == (1, 1)
    host.calls.clear()
    host.logs.clear()
    return host


def results(host: RecordingHost) -> list[str]:
    return [m.removeprefix("result: ") for _, m in host.logs if m.startswith("result: ")]


def names(host: RecordingHost) -> list[str]:
    return [c.name for c in host.calls]


def test_probe_passes_the_abi_check(probe_module: Path) -> None:
    report = check(probe_module, abi="0.2.1", strict=True)
    assert report.errors == () and report.warnings == (), report.findings


def test_logging(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("test_logging")
    line = next(i for i, text in enumerate((DATA_DIR / "probe.cc").read_text().splitlines(), 1) if "LOG_INFO(" in text)
    assert positional_calls(host, "proxy_log") == [
        (0, b"t"), (1, b"d"), (2, b"i"), (3, b"w"), (4, b"e"), (5, b"c"),
        (2, f"[probe.cc:{line}]::test_logging() hello 42".encode()),
    ]


def test_log_abort_logs_then_traps(probe_module: Path) -> None:
    host = probe_host(probe_module)
    with pytest.raises(wasmtime.Trap):
        host.call("test_log_abort")
    assert positional_calls(host, "proxy_log") == [(5, b"fatal")]


def test_properties(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.properties.update({b"request\0path": b"/index", b"request\0size": struct.pack("<q", 1234),
                            b"plugin_name": b"probe-plugin"})
    host.call("test_properties")
    # Path segments joined by NUL, as the spec says (no trailing NUL).
    assert positional_calls(host, "proxy_get_property") == [
        (b"request\0path", OUT, OUT), (b"a\0b\0c", OUT, OUT), (b"request\0size", OUT, OUT), (b"plugin_name", OUT, OUT),
    ]
    assert positional_calls(host, "proxy_set_property") == [(b"key", b"value"), (b"key2", b"value2")]
    assert results(host) == ["/index", "nullopt", "1234", "probe-plugin"]


def test_time_status_and_tick(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_get_current_time_nanoseconds", return_time=1234567890123456789)
    host.queue_reply("proxy_get_status", return_status_code=14, return_status_message=b"unavailable")
    host.call("test_time_status_tick")
    assert positional_calls(host, "proxy_get_current_time_nanoseconds") == [(OUT,)]
    assert positional_calls(host, "proxy_get_status") == [(OUT, OUT, OUT)]
    assert positional_calls(host, "proxy_set_tick_period_milliseconds") == [(1500,), (0,)]
    assert results(host) == ["1234567890123456789", "14 unavailable"]


def test_stream_control(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("test_stream_control")
    assert [(c.name, positional(c)) for c in host.calls] == [
        *[("proxy_continue_stream", (t,)) for t in range(4)], *[("proxy_close_stream", (t,)) for t in range(4)],
    ]


def test_send_local_response(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("test_send_local_response")
    assert positional_calls(host, "proxy_send_local_response") == [
        (403, b"denied", b"go away", serialize_pairs([(b"x-a", b"1"), (b"x-b", b"")]), 0xFFFFFFFF),
        (200, b"", b"", None, 16),  # no headers: a null pointer, as upstream; gRPC status Unauthenticated
    ]


def test_shared_data(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_get_shared_data", return_value=b"stored", return_cas=9)
    host.queue_reply("proxy_get_shared_data", 1)
    host.queue_reply("proxy_get_shared_data", return_value=b"again", return_cas=10)
    host.call("test_shared_data")
    assert positional_calls(host, "proxy_set_shared_data") == [(b"key", b"val", 7), (b"key", b"val", 0)]
    assert positional_calls(host, "proxy_get_shared_data") == [(b"key", OUT, OUT, OUT), (b"missing", OUT, OUT, OUT),
                                                      (b"key", OUT, OUT, OUT)]
    assert results(host) == ["Ok stored 9", "NotFound unset", "again"]


def test_shared_queues(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_register_shared_queue", return_queue_id=5)
    host.queue_reply("proxy_resolve_shared_queue", return_queue_id=6)
    host.queue_reply("proxy_dequeue_shared_queue", return_value=b"payload")
    host.queue_reply("proxy_dequeue_shared_queue", 7)
    host.call("test_shared_queues")
    assert [(c.name, positional(c)) for c in host.calls] == [
        ("proxy_register_shared_queue", (b"queue", OUT)),
        ("proxy_log", (2, b"result: 5")),
        ("proxy_resolve_shared_queue", (b"vm", b"queue", OUT)),
        ("proxy_log", (2, b"result: 6")),
        ("proxy_enqueue_shared_queue", (6, b"item")),
        ("proxy_dequeue_shared_queue", (6, OUT, OUT)),
        ("proxy_log", (2, b"result: Ok payload")),
        ("proxy_dequeue_shared_queue", (6, OUT, OUT)),
        ("proxy_log", (2, b"result: Empty <null>")),
    ]


@pytest.mark.parametrize("map_id", range(8))
def test_header_map_wrappers(probe_module: Path, map_id: int) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_get_header_map_size", return_serialized_pairs_size=42)
    host.call("test_header_map", map_id)
    assert [(c.name, positional(c)) for c in host.calls if c.name != "proxy_log"] == [
        ("proxy_add_header_map_value", (map_id, b"k", b"v")),
        ("proxy_replace_header_map_value", (map_id, b"k", b"w")),
        ("proxy_get_header_map_value", (map_id, b"k", OUT, OUT)),
        ("proxy_get_header_map_value", (map_id, b"missing", OUT, OUT)),
        ("proxy_remove_header_map_value", (map_id, b"k")),
        ("proxy_set_header_map_pairs", (map_id, serialize_pairs([(b"a", b"1"), (b"b", b"2")]))),
        ("proxy_get_header_map_pairs", (map_id, OUT, OUT)),
        ("proxy_get_header_map_size", (map_id, OUT)),
    ]
    assert results(host) == ["w", "<null>", "2", "42"]


def test_typed_header_map_wrappers(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("test_typed_maps")
    calls = [(c.name.removeprefix("proxy_"), positional(c)[0]) for c in host.calls if c.name != "proxy_log"]
    sequence = ["add_header_map_value", "replace_header_map_value", "get_header_map_value",
                "remove_header_map_value", "set_header_map_pairs", "get_header_map_pairs", "get_header_map_size"]
    # Request headers, request trailers, response headers, response trailers = maps 0..3.
    assert calls == [(name, map_id) for map_id in range(4) for name in sequence]
    assert results(host) == ["w", "1"] * 4


def test_buffers(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.buffers[0] = b"0123456789abcdef"
    host.buffers[7] = b"plugin configuration"
    host.queue_reply("proxy_get_buffer_status", return_buffer_size=77, return_unused=1)
    host.call("test_buffers")
    assert [(c.name, positional(c)) for c in host.calls if c.name != "proxy_log"] == [
        ("proxy_get_buffer_bytes", (0, 3, 10, OUT, OUT)),
        ("proxy_get_buffer_status", (1, OUT, OUT)),
        ("proxy_set_buffer_bytes", (1, 0, 5, b"hello, world")),
        ("proxy_get_buffer_bytes", (7, 0, 0xFFFFFFFF, OUT, OUT)),  # getConfiguration(): all of it
    ]
    assert results(host) == ["3456789abc", "77 1", "27", "plugin configuration"]


def test_http_call_and_its_callback(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_http_call", return_call_id=77)
    host.call("test_http_call")
    headers = serialize_pairs([(b":method", b"GET"), (b":path", b"/"), (b":authority", b"example")])
    assert positional_calls(host, "proxy_http_call") == [
        (b"cluster", headers, b"body", serialize_pairs([(b"t", b"1")]), 5000, OUT),
        (b"other", None, b"", None, 100, OUT),  # empty header lists travel as null pointers
    ]
    host.maps[6] = [(b":status", b"200")]
    host.buffers[4] = b"response"
    host.call("proxy_on_http_call_response", 1, 77, 1, 8, 0)
    host.call("proxy_on_http_call_response", 1, 77, 1, 8, 0)  # answered already: ignored
    host.call("proxy_on_http_call_response", 1, 5, 0, 0, 0)  # unknown token: ignored
    assert results(host) == ["Ok", "http 1 8 0 200 response"]


def test_grpc_calls(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.queue_reply("proxy_grpc_stream", return_stream_id=9)
    host.queue_reply("proxy_grpc_call", return_call_id=10)
    host.queue_reply("proxy_grpc_call", return_call_id=11)
    host.queue_reply("proxy_grpc_call", return_call_id=12)
    host.call("test_grpc")
    assert [(c.name, positional(c)) for c in host.calls] == [
        ("proxy_grpc_call", (b"svc", b"pkg.Service", b"Method", serialize_pairs([(b"md", b"1")]), b"request", 250,
                             OUT)),
        ("proxy_grpc_stream", (b"svc", b"pkg.Service", b"Stream", None, OUT)),
        ("proxy_grpc_send", (9, b"message", 1)),
        ("proxy_grpc_cancel", (9,)),
        ("proxy_grpc_close", (9,)),
        ("proxy_grpc_call", (b"svc", b"pkg.Service", b"Method", None, b"req", 1000, OUT)),
        ("proxy_grpc_call", (b"svc", b"pkg.Service", b"Method", None, b"req", 1000, OUT)),
    ]
    host.call("proxy_on_grpc_receive", 1, 11, 5)
    host.call("proxy_on_grpc_close", 1, 12, 14)
    host.call("proxy_on_grpc_close", 1, 11, 0)  # finished already: ignored
    assert results(host) == ["grpc 0 5", "grpc 14 0"]


def test_metrics(probe_module: Path) -> None:
    host = probe_host(probe_module)
    for metric_id in (3, 4, 5, 6):
        host.queue_reply("proxy_define_metric", return_metric_id=metric_id)
    host.queue_reply("proxy_get_metric", return_value=2**40 + 1)
    host.call("test_metrics")
    assert [(c.name, positional(c)) for c in host.calls if c.name != "proxy_log"] == [
        ("proxy_define_metric", (1, b"gauge", OUT)),
        ("proxy_increment_metric", (3, -5 & MASK64)),  # i64, read unsigned
        ("proxy_record_metric", (3, 2**40)),
        ("proxy_get_metric", (3, OUT)),
        ("proxy_define_metric", (0, b"service.foo.code.200.requests", OUT)),
        ("proxy_increment_metric", (4, 1)),
        ("proxy_define_metric", (2, b"cached.true.latency", OUT)),
        ("proxy_record_metric", (5, 30)),
        ("proxy_define_metric", (1, b"pool.heap.memory", OUT)),
        ("proxy_record_metric", (6, 7)),
    ]
    assert results(host) == ["3", str(2**40 + 1)]


def test_context_lookups(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("proxy_on_context_create", 2, 1)
    host.queue_reply("proxy_get_log_level", return_log_level=2)
    host.call("test_contexts", 2)
    host.call("test_contexts", 1)
    host.call("test_contexts", 99)
    assert results(host) == [
        "create 2 root 1",
        "stream", "Ok 2", "probe root", "is stream", "not root",
        "root", "Ok 0", "probe root", "not stream", "is root",
        "none", "probe root", "not stream", "not root",
    ]
    assert positional_calls(host, "proxy_set_effective_context") == [(2,), (1,)]
    assert positional_calls(host, "proxy_get_log_level") == [(OUT,), (OUT,)]
    assert positional_calls(host, "proxy_done") == [()]


def test_callbacks_reach_the_context_and_return_its_status(probe_module: Path) -> None:
    host = probe_host(probe_module)
    host.call("proxy_on_context_create", 2, 1)
    returned = [
        host.call("proxy_on_request_headers", 2, 5, 1),
        host.call("proxy_on_request_body", 2, 100, 0),
        host.call("proxy_on_request_trailers", 2, 3),
        host.call("proxy_on_response_body", 2, 7, 1),
        host.call("proxy_on_response_trailers", 2, 2),
        host.call("proxy_on_new_connection", 2),
        host.call("proxy_on_downstream_data", 2, 10, 0),
        host.call("proxy_on_upstream_data", 2, 11, 1),
    ]
    assert returned == [1, 1, 1, 3, 0, 1, 0, 1]
    host.call("proxy_on_downstream_connection_close", 2, 1)
    host.call("proxy_on_upstream_connection_close", 2, 2)
    host.call("proxy_on_foreign_function", 2, 7, 3)
    host.call("proxy_on_tick", 1)
    host.call("proxy_on_queue_ready", 1, 5)
    assert [host.call("proxy_on_done", 2), host.call("proxy_on_done", 1)] == [1, 0]  # the root says "later"
    host.call("proxy_on_log", 2)
    host.call("proxy_on_delete", 2)
    host.call("test_contexts", 2)
    assert results(host) == [
        "create 2 root 1", "request headers 5 true", "request body 100 false", "request trailers 3",
        "response body 7 true", "response trailers 2", "new connection", "downstream 10 false", "upstream 11 true",
        "downstream close 1", "upstream close 2", "foreign 7 3", "tick", "queue 5", "done 2", "root done",
        "log 2", "delete 2", "none", "probe root", "not stream", "not root",
    ]


def test_callbacks_for_unknown_contexts_are_ignored(probe_module: Path) -> None:
    host = probe_host(probe_module)
    assert host.call("proxy_on_request_headers", 42, 1, 0) == 0
    assert host.call("proxy_on_done", 42) == 1
    host.call("proxy_on_delete", 42)
    host.call("proxy_on_context_create", 50, 49)  # a stream whose root does not exist
    assert any(level == 4 and "unknown root context 49" in m for level, m in host.logs)
    host.call("test_contexts", 50)
    assert results(host)[0] == "none"


header_bytes = st.binary(max_size=12)


def test_header_pairs_encode_and_decode_like_the_spec(probe_module: Path) -> None:
    host = probe_host(probe_module)

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(header_bytes, header_bytes), max_size=6))
    def roundtrip(pairs: list[tuple[bytes, bytes]]) -> None:
        host.calls.clear()
        host.logs.clear()
        host.maps[0] = pairs
        host.call("test_pairs_roundtrip")
        assert results(host) == [str(len(pairs))]
        # An empty list is sent as nothing (nullptr, 0), as the upstream SDK does.
        assert positional_calls(host, "proxy_set_header_map_pairs") == [(2, serialize_pairs(pairs) if pairs else None)]
        assert host.maps[2] == pairs

    roundtrip()


MALFORMED_MAPS = [
    b"\x01\x00\x00\x00",  # one pair announced, no sizes
    b"\xff\xff\xff\xff" + b"\x00" * 16,  # absurd count
    serialize_pairs([(b"k", b"v")])[:-1],  # last NUL missing
    serialize_pairs([(b"k", b"v")]) + b"x",  # trailing bytes
    struct.pack("<III", 1, 0xFFFFFFFF, 0) + b"k\0\0",  # key size overflows
    serialize_pairs([(b"k", b"v")]).replace(b"k\0", b"kx"),  # NUL replaced
]


@pytest.mark.parametrize("data", MALFORMED_MAPS)
def test_malformed_header_maps_decode_to_nothing(probe_module: Path, data: bytes) -> None:
    with pytest.raises((AssertionError, IndexError, struct.error)):
        deserialize_pairs(data)
    host = probe_host(probe_module)
    host.queue_reply("proxy_get_header_map_pairs", return_serialized_pairs=data)
    host.call("test_pairs_roundtrip")
    assert results(host) == ["0"]


def test_decoding_arbitrary_bytes_never_reads_out_of_bounds(probe_module: Path) -> None:
    host = probe_host(probe_module)

    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=48))
    def decode(data: bytes) -> None:
        host.logs.clear()
        host.queue_reply("proxy_get_header_map_pairs", return_serialized_pairs=data)
        host.call("test_pairs_roundtrip")
        try:
            expected = len(deserialize_pairs(data))
        except (AssertionError, IndexError, struct.error):
            expected = 0
        assert results(host) == [str(expected)]

    decode()
