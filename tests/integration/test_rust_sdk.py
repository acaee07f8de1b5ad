"""The bundled Rust SDK and the Rust template, built for real with Debian's rustc 1.63 (offline)
and run in wasmtime under a recording host.

* the example filter (templates/rust) builds for wasm32-wasi and wasm32-unknown-unknown, has
  the ABI 0.2.1 shape, and does the add-header behaviour of the brief;
* every `hostcalls` wrapper marshals its arguments and results exactly (the probe module in
  rust_sdk_probe/ calls each with fixed arguments);
* the dispatcher routes callbacks, callouts, logs and panics as documented;
* the pure-Rust parts (header-map codec, JSON configuration) pass `cargo test` on the host.
"""

from __future__ import annotations

import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from tests.fixtures.common import run_cli
from tests.fixtures.recording_host import (
    BAD_ARGUMENT,
    NOT_FOUND,
    OK,
    RecordingHost,
    deserialize_pairs,
    serialize_pairs,
)
from tests.fixtures.rust_sdk import (
    SDK_DIR,
    TARGETS,
    build_wasm,
    cargo,
    cargo_env,
)
from wasmbuild import abi as abi_checker
from wasmbuild.abi import spec

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

EMPTY, CAS_MISMATCH, UNIMPLEMENTED = 7, 8, 12
REQUEST_HEADERS, RESPONSE_HEADERS = 0, 2
WARN, DEBUG, INFO, ERROR, CRITICAL = 3, 1, 2, 4, 5
ALLOCATORS = {"wasm32-wasi": {"proxy_on_memory_allocate"},
              "wasm32-unknown-unknown": {"malloc", "proxy_on_memory_allocate"}}


def export_signatures(module: wasmtime.Module) -> dict[str, tuple[list[str], list[str]]]:
    out = {}
    for export in module.exports:
        if isinstance(export.type, wasmtime.FuncType):
            out[export.name] = ([str(p) for p in export.type.params], [str(r) for r in export.type.results])
    return out


def check_abi_shape(path: Path, target: str, marker: str = "proxy_abi_version_0_2_1", abi: str = "0.2.1") -> None:
    """What a proxy checks at load: marker, memory, allocator, callback and import signatures."""
    module = wasmtime.Module(wasmtime.Engine(), path.read_bytes())
    exports = export_signatures(module)
    assert "memory" in {e.name for e in module.exports}
    assert [name for name in exports if name.startswith("proxy_abi_version_")] == [marker]
    assert exports["_initialize"] == ([], [])
    allocators = {name for name in exports if name in ("malloc", "proxy_on_memory_allocate")}
    assert allocators == ALLOCATORS[target]
    for name in allocators:
        assert exports[name] == (["i32"], ["i32"])
    reference = {e["name"]: e for e in spec.load()["module_exports"]}
    callbacks = [name for name in exports if name.startswith("proxy_on_") and name != "proxy_on_memory_allocate"]
    assert len(callbacks) == 25, callbacks
    for name in callbacks:
        signature = next(s for s in reference[name]["signatures"] if abi in s["abi"])
        assert exports[name] == ([p["type"] for p in signature["params"]], signature["results"]), name
    host_functions = {f["name"]: f for f in spec.load()["host_functions"]}
    for imp in module.imports:
        if imp.module == "env":
            assert abi in host_functions[imp.name]["abi"], imp.name
        else:
            assert target == "wasm32-wasi" and imp.module == "wasi_snapshot_preview1", (imp.module, imp.name)


# --------------------------------------------------------------------------- the example


@pytest.mark.parametrize("target", TARGETS)
def test_example_builds_with_the_abi_0_2_1_shape(add_header_wasm: dict[str, Path], target: str) -> None:
    module = add_header_wasm[target]
    check_abi_shape(module, target)
    report = abi_checker.check(module, "0.2.1")
    assert report.findings == (), report.findings
    result = run_cli("check", "--strict", str(module))
    assert result.returncode == 0 and "ok (ABI 0.2.1)" in result.stdout, result.stdout + result.stderr
    size = module.stat().st_size
    print(f"add_header.wasm ({target}): {size} bytes")
    assert size < 256 * 1024


@pytest.mark.parametrize("target", TARGETS)
def test_example_runs_under_wasmbuilds_host(add_header_wasm: dict[str, Path], target: str) -> None:
    """The same behaviour through wasmbuild.testing (the host `wasmbuild run` uses, with Envoy's
    start-up restrictions enforced)."""
    from wasmbuild.testing import ConfigurationRejected, load_filter

    with load_filter(add_header_wasm[target], root_id="add_header",
                     plugin_config={"name": "x-team", "value": "edge"}) as loaded:
        stream = loaded.run_http(response_headers={":status": "200", "location": "/old"})
        assert stream.response_headers["x-team"] == "edge"
        assert stream.response_headers["location"] == "envoy-wasm"
        assert stream.response_headers["hello"] == "world!"
        assert any("request with" in m for m in loaded.log_messages("debug"))
    with pytest.raises(ConfigurationRejected, match="invalid plugin configuration"):
        load_filter(add_header_wasm[target], root_id="add_header", plugin_config="{oops")


def start_example(module: Path, configuration: bytes, root_id: bytes = b"add_header") -> RecordingHost:
    host = RecordingHost(module, plugin_configuration=configuration, properties={b"plugin_root_id": root_id})
    host.call("_initialize")
    host.call("proxy_on_context_create", 1, 0)
    assert host.call("proxy_on_vm_start", 1, 0) == 1
    return host


def exchange(host: RecordingHost, response: list[tuple[bytes, bytes]]) -> int:
    """One HTTP exchange on context 2, in Envoy's callback order; returns the response action."""
    host.call("proxy_on_context_create", 2, 1)
    host.maps[REQUEST_HEADERS] = [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"example")]
    assert host.call("proxy_on_request_headers", 2, 3, 1) == 0
    host.maps[RESPONSE_HEADERS] = list(response)
    action = host.call("proxy_on_response_headers", 2, len(response), 0)
    host.call("proxy_on_log", 2)
    assert host.call("proxy_on_done", 2) == 1
    host.call("proxy_on_delete", 2)
    return int(action)


@pytest.mark.parametrize("target", TARGETS)
def test_example_adds_the_configured_and_fixed_headers(add_header_wasm: dict[str, Path], target: str) -> None:
    configuration = b'{"name": "x-wasm-filter", "value": "add-header"}'
    host = start_example(add_header_wasm[target], configuration)
    assert host.call("proxy_on_configure", 1, len(configuration)) == 1
    assert host.calls_to("proxy_get_buffer_bytes")[0].args == {"buffer_id": 7, "start": 0, "max_size": 0xFFFF_FFFF}
    assert exchange(host, [(b":status", b"200"), (b"location", b"/elsewhere")]) == 0
    assert host.map_text(RESPONSE_HEADERS) == [
        (":status", "200"), ("location", "envoy-wasm"), ("x-wasm-filter", "add-header"), ("hello", "world!"),
    ]
    header_calls = [(c.name, c.args) for c in host.calls if c.name.endswith("_header_map_value")]
    assert header_calls == [
        ("proxy_add_header_map_value", {"map_id": 2, "key": b"x-wasm-filter", "value": b"add-header"}),
        ("proxy_replace_header_map_value", {"map_id": 2, "key": b"location", "value": b"envoy-wasm"}),
        ("proxy_add_header_map_value", {"map_id": 2, "key": b"hello", "value": b"world!"}),
    ]
    assert host.map_text(REQUEST_HEADERS) == [(":method", "GET"), (":path", "/"), (":authority", "example")]
    assert any("request with 3 headers" in m for m in host.logged(DEBUG))
    assert any("x-wasm-filter: add-header" in m for m in host.logged(INFO))
    assert host.logged(WARN) == [] and host.logged(CRITICAL) == []


@pytest.mark.parametrize("target", TARGETS)
def test_example_without_configuration_adds_only_the_fixed_headers(add_header_wasm: dict[str, Path],
                                                                     target: str) -> None:
    host = start_example(add_header_wasm[target], b"")
    assert host.call("proxy_on_configure", 1, 0) == 1
    # no location header yet: replacing adds it
    assert exchange(host, [(b":status", b"404")]) == 0
    assert host.map_text(RESPONSE_HEADERS) == [(":status", "404"), ("location", "envoy-wasm"), ("hello", "world!")]
    assert any("no extra response header" in m for m in host.logged(INFO))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("configuration", "problem"), [
    (b"{not json", "expected a string"),
    (b'["x-a", "b"]', "expected a JSON object"),
    (b'{"nmae": "x-a"}', 'unknown field "nmae"'),
    (b'{"name": 5}', 'field "name" must be a string'),
    (b'{"name": "bad header"}', "not a valid header name"),
])
def test_example_rejects_an_invalid_configuration(add_header_wasm: dict[str, Path], target: str,
                                                  configuration: bytes, problem: str) -> None:
    host = start_example(add_header_wasm[target], configuration)
    assert host.call("proxy_on_configure", 1, len(configuration)) == 0
    warnings = host.logged(WARN)
    assert len(warnings) == 1 and "invalid plugin configuration" in warnings[0] and problem in warnings[0], warnings


@pytest.mark.parametrize("target", TARGETS)
def test_example_warns_when_deployed_under_another_root_id(add_header_wasm: dict[str, Path], target: str) -> None:
    host = start_example(add_header_wasm[target], b"", root_id=b"other")
    assert host.call("proxy_on_configure", 1, 0) == 1
    assert host.calls_to("proxy_get_property")[0].args == {"path": b"plugin_root_id"}
    assert any('"other"' in m and '"add_header"' in m for m in host.logged(WARN))


# ------------------------------------------------------------------ host-call marshalling


def pairs(*items: tuple[str, str | bytes]) -> bytes:
    return serialize_pairs([(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in items])


HTTP_CALL_HEADERS = pairs((":method", "GET"), (":path", "/x"), (":authority", "upstream"))

# (probe export, scripted reply or None, expected host call or None, its arguments, reported result)
Reply = tuple[int, dict[str, Any]] | None
CASES: list[tuple[str, Reply, str | None, dict[str, Any], str]] = [
    ("probe_log", None, "proxy_log", {"log_level": 3, "message": b"hello"}, "Ok(())"),
    ("probe_log", (BAD_ARGUMENT, {}), "proxy_log", {"log_level": 3, "message": b"hello"}, "Err(BadArgument)"),
    ("probe_get_log_level", (OK, {"return_log_level": 4}), "proxy_get_log_level", {}, "Ok(Error)"),
    ("probe_get_current_time", (OK, {"return_time": 1_700_000_000_123_456_789}),
     "proxy_get_current_time_nanoseconds", {}, "Ok(1700000000123456789)"),
    ("probe_set_tick_period", None, "proxy_set_tick_period_milliseconds", {"tick_period": 1500}, "Ok(())"),
    ("probe_get_buffer", (OK, {"return_value": b"body"}), "proxy_get_buffer_bytes",
     {"buffer_id": 0, "start": 3, "max_size": 10}, "Ok(Some([98, 111, 100, 121]))"),
    ("probe_get_buffer", (NOT_FOUND, {}), "proxy_get_buffer_bytes",
     {"buffer_id": 0, "start": 3, "max_size": 10}, "Ok(None)"),
    ("probe_get_buffer", (OK, {"return_value": b""}), "proxy_get_buffer_bytes",
     {"buffer_id": 0, "start": 3, "max_size": 10}, "Ok(None)"),
    ("probe_get_plugin_configuration", (OK, {"return_value": b"{}"}), "proxy_get_buffer_bytes",
     {"buffer_id": 7, "start": 0, "max_size": 0xFFFF_FFFF}, "Ok(Some([123, 125]))"),
    ("probe_set_buffer", None, "proxy_set_buffer_bytes",
     {"buffer_id": 1, "start": 1, "size": 2, "value": b"xyz"}, "Ok(())"),
    ("probe_get_map", (OK, {"return_serialized_pairs": pairs(("a", "1"), ("b", "22"))}),
     "proxy_get_header_map_pairs", {"map_id": 0}, 'Ok([("a", "1"), ("b", "22")])'),
    ("probe_get_map", (OK, {"return_serialized_pairs": b""}), "proxy_get_header_map_pairs", {"map_id": 0}, "Ok([])"),
    ("probe_get_map", (OK, {"return_serialized_pairs": b"\x05\0\0\0"}), "proxy_get_header_map_pairs",
     {"map_id": 0}, "Err(SerializationFailure)"),
    ("probe_get_map_bytes", (OK, {"return_serialized_pairs": pairs(("k", b"\xff"))}),
     "proxy_get_header_map_pairs", {"map_id": 3}, 'Ok([("k", [255])])'),
    ("probe_set_map", None, "proxy_set_header_map_pairs",
     {"map_id": 0, "serialized_pairs": pairs(("a", "1"), ("b", "22"))}, "Ok(())"),
    ("probe_set_map_bytes", None, "proxy_set_header_map_pairs",
     {"map_id": 1, "serialized_pairs": pairs(("k", b"\xff\x00"))}, "Ok(())"),
    ("probe_get_map_value", (OK, {"return_value": b"v"}), "proxy_get_header_map_value",
     {"map_id": 2, "key": b"x-key"}, 'Ok(Some("v"))'),
    ("probe_get_map_value", (NOT_FOUND, {}), "proxy_get_header_map_value",
     {"map_id": 2, "key": b"x-key"}, "Ok(None)"),
    ("probe_get_map_value", (OK, {"return_value": b""}), "proxy_get_header_map_value",
     {"map_id": 2, "key": b"x-key"}, 'Ok(Some(""))'),
    ("probe_get_map_value_bytes", (OK, {"return_value": b"\x00\x01"}), "proxy_get_header_map_value",
     {"map_id": 6, "key": b"k"}, "Ok(Some([0, 1]))"),
    ("probe_set_map_value", None, "proxy_replace_header_map_value",
     {"map_id": 0, "key": b"k", "value": b"v"}, "Ok(())"),
    ("probe_set_map_value_none", None, "proxy_remove_header_map_value", {"map_id": 1, "key": b"k"}, "Ok(())"),
    ("probe_set_map_value_bytes", None, "proxy_replace_header_map_value",
     {"map_id": 3, "key": b"k", "value": b"\x01"}, "Ok(())"),
    ("probe_add_map_value", None, "proxy_add_header_map_value", {"map_id": 2, "key": b"k", "value": b"v"}, "Ok(())"),
    ("probe_add_map_value_bytes", None, "proxy_add_header_map_value",
     {"map_id": 4, "key": b"k", "value": b""}, "Ok(())"),
    ("probe_remove_map_value", None, "proxy_remove_header_map_value", {"map_id": 7, "key": b"gone"}, "Ok(())"),
    ("probe_get_property", (OK, {"return_value": b"/x"}), "proxy_get_property",
     {"path": b"request\0path"}, "Ok(Some([47, 120]))"),
    ("probe_get_property", (NOT_FOUND, {}), "proxy_get_property", {"path": b"request\0path"}, "Ok(None)"),
    ("probe_set_property", None, "proxy_set_property", {"path": b"a\0b", "value": b"v"}, "Ok(())"),
    ("probe_set_property_none", None, "proxy_set_property", {"path": b"a", "value": None}, "Ok(())"),
    ("probe_get_shared_data", (OK, {"return_value": b"v", "return_cas": 9}), "proxy_get_shared_data",
     {"key": b"key"}, "Ok((Some([118]), Some(9)))"),
    ("probe_get_shared_data", (OK, {"return_value": b"v", "return_cas": 0}), "proxy_get_shared_data",
     {"key": b"key"}, "Ok((Some([118]), None))"),
    ("probe_get_shared_data", (NOT_FOUND, {}), "proxy_get_shared_data", {"key": b"key"}, "Ok((None, None))"),
    ("probe_set_shared_data", None, "proxy_set_shared_data", {"key": b"key", "value": b"value", "cas": 7}, "Ok(())"),
    ("probe_set_shared_data", (CAS_MISMATCH, {}), "proxy_set_shared_data",
     {"key": b"key", "value": b"value", "cas": 7}, "Err(CasMismatch)"),
    ("probe_set_shared_data_none", None, "proxy_set_shared_data", {"key": b"key", "value": None, "cas": 0}, "Ok(())"),
    ("probe_register_shared_queue", (OK, {"return_queue_id": 12}), "proxy_register_shared_queue",
     {"name": b"q"}, "Ok(12)"),
    ("probe_resolve_shared_queue", (OK, {"return_queue_id": 13}), "proxy_resolve_shared_queue",
     {"vm_id": b"vm", "name": b"q"}, "Ok(Some(13))"),
    ("probe_resolve_shared_queue", (NOT_FOUND, {}), "proxy_resolve_shared_queue",
     {"vm_id": b"vm", "name": b"q"}, "Ok(None)"),
    ("probe_dequeue_shared_queue", (OK, {"return_value": b"it"}), "proxy_dequeue_shared_queue",
     {"queue_id": 5}, "Ok(Some([105, 116]))"),
    ("probe_dequeue_shared_queue", (EMPTY, {}), "proxy_dequeue_shared_queue", {"queue_id": 5}, "Ok(None)"),
    ("probe_dequeue_shared_queue", (NOT_FOUND, {}), "proxy_dequeue_shared_queue", {"queue_id": 5}, "Err(NotFound)"),
    ("probe_enqueue_shared_queue", None, "proxy_enqueue_shared_queue", {"queue_id": 5, "value": b"item"}, "Ok(())"),
    ("probe_resume_http_request", None, "proxy_continue_stream", {"stream_type": 0}, "Ok(())"),
    ("probe_resume_http_response", None, "proxy_continue_stream", {"stream_type": 1}, "Ok(())"),
    ("probe_resume_downstream", None, "proxy_continue_stream", {"stream_type": 2}, "Ok(())"),
    ("probe_resume_upstream", None, "proxy_continue_stream", {"stream_type": 3}, "Ok(())"),
    ("probe_reset_http_request", None, "proxy_close_stream", {"stream_type": 0}, "Ok(())"),
    ("probe_reset_http_response", None, "proxy_close_stream", {"stream_type": 1}, "Ok(())"),
    ("probe_close_downstream", None, "proxy_close_stream", {"stream_type": 2}, "Ok(())"),
    ("probe_close_upstream", (UNIMPLEMENTED, {}), "proxy_close_stream", {"stream_type": 3}, "Err(Unimplemented)"),
    ("probe_send_http_response", None, "proxy_send_local_response",
     {"status_code": 403, "status_code_details": None, "body": b"denied", "serialized_headers": pairs(("x", "y")),
      "grpc_status": 0xFFFF_FFFF}, "Ok(())"),
    ("probe_send_http_response_empty", None, "proxy_send_local_response",
     {"status_code": 204, "status_code_details": None, "body": None, "serialized_headers": b"\0\0\0\0",
      "grpc_status": 0xFFFF_FFFF}, "Ok(())"),
    ("probe_send_grpc_response", None, "proxy_send_local_response",
     {"status_code": 200, "status_code_details": None, "body": b"no", "serialized_headers": pairs(("m", "v")),
      "grpc_status": 7}, "Ok(())"),
    ("probe_dispatch_http_call", (OK, {"return_call_id": 77}), "proxy_http_call",
     {"upstream_name": b"cluster", "serialized_headers": HTTP_CALL_HEADERS, "body": b"body",
      "serialized_trailers": pairs(("t", "1")), "timeout": 5000}, "Ok(77)"),
    ("probe_dispatch_http_call", (BAD_ARGUMENT, {}), "proxy_http_call",
     {"upstream_name": b"cluster", "serialized_headers": HTTP_CALL_HEADERS, "body": b"body",
      "serialized_trailers": pairs(("t", "1")), "timeout": 5000}, "Err(BadArgument)"),
    ("probe_dispatch_grpc_call", (OK, {"return_call_id": 78}), "proxy_grpc_call",
     {"upstream_name": b"grpc", "service_name": b"svc.S", "method_name": b"M",
      "serialized_initial_metadata": pairs(("k", "v")), "message": b"msg", "timeout": 250}, "Ok(78)"),
    ("probe_open_grpc_stream", (OK, {"return_stream_id": 79}), "proxy_grpc_stream",
     {"upstream_name": b"grpc", "service_name": b"svc.S", "method_name": b"Stream",
      "serialized_initial_metadata": b"\0\0\0\0"}, "Ok(79)"),
    ("probe_send_grpc_stream_message", None, "proxy_grpc_send",
     {"stream_id": 9, "message": b"m", "end_stream": 1}, "Ok(())"),
    ("probe_cancel_grpc_call", None, "proxy_grpc_cancel", {"call_or_stream_id": 9}, "Ok(())"),
    ("probe_cancel_grpc_stream", None, "proxy_grpc_cancel", {"call_or_stream_id": 10}, "Ok(())"),
    ("probe_close_grpc_stream", (NOT_FOUND, {}), "proxy_grpc_close", {"call_or_stream_id": 11}, "Err(NotFound)"),
    ("probe_get_grpc_status", (OK, {"return_status_code": 14, "return_status_message": b"unavailable"}),
     "proxy_get_status", {}, 'Ok((14, Some("unavailable")))'),
    ("probe_set_effective_context", None, "proxy_set_effective_context", {"context_id": 42}, "Ok(())"),
    ("probe_set_effective_context", (BAD_ARGUMENT, {}), "proxy_set_effective_context",
     {"context_id": 42}, "Err(BadArgument)"),
    ("probe_call_foreign_function", (OK, {"return_results": b"r"}), "proxy_call_foreign_function",
     {"name": b"fn", "arguments": b"args"}, "Ok(Some([114]))"),
    ("probe_done", None, "proxy_done", {}, "Ok(())"),
    ("probe_done", (99, {}), "proxy_done", {}, "Err(InternalFailure)"),
    ("probe_define_metric", (OK, {"return_metric_id": 4}), "proxy_define_metric",
     {"metric_type": 2, "name": b"m"}, "Ok(4)"),
    ("probe_get_metric", (OK, {"return_value": 2**40 + 5}), "proxy_get_metric", {"metric_id": 3}, "Ok(1099511627781)"),
    ("probe_record_metric", None, "proxy_record_metric", {"metric_id": 3, "value": 2**64 - 2}, "Ok(())"),
    ("probe_increment_metric", None, "proxy_increment_metric", {"metric_id": 3, "delta": 2**64 - 5}, "Ok(())"),
]


@pytest.fixture(scope="module", params=TARGETS)
def probe_host(request: pytest.FixtureRequest, sdk_probe_wasm: dict[str, Path]) -> Iterator[RecordingHost]:
    host = RecordingHost(sdk_probe_wasm[request.param])
    host.call("_initialize")
    yield host


def test_every_hostcalls_wrapper_has_a_marshalling_case() -> None:
    wrappers = set(re.findall(r"^pub fn (\w+)", (SDK_DIR / "src" / "hostcalls.rs").read_text(), re.M))
    probed = {case[0].removeprefix("probe_") for case in CASES}
    probed |= {"get_buffer"}  # probe_get_plugin_configuration covers get_buffer as well
    aliases = {"set_map_value_none", "set_property_none", "set_shared_data_none", "send_http_response_empty",
               "get_plugin_configuration"}
    assert wrappers == probed - aliases


@pytest.mark.parametrize(("probe", "reply", "call", "args", "result"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hostcall_marshalling(probe_host: RecordingHost, probe: str, reply: Reply, call: str,
                              args: dict[str, Any], result: str) -> None:
    host = probe_host
    host.calls.clear()
    host.reports.clear()
    host.replies.clear()
    if reply is not None:
        host.reply(call, reply[0], **reply[1])
    host.call(probe)
    assert [(c.name, c.args) for c in host.calls] == [(call, args)]
    for name, out in host.calls[0].outs.items():
        pointers = out if isinstance(out, tuple) else (out,)
        assert all(p != 0 for p in pointers), f"null out-parameter {name}"
    assert host.reports == [result]


# The trait defaults' oracle: which host function a method must reach, and with which map,
# buffer or stream type, derived from the method's name alone.
MAP_IDS = {"http_request_header": 0, "http_request_trailer": 1, "http_response_header": 2,
           "http_response_trailer": 3, "grpc_stream_initial_metadata": 4, "grpc_stream_trailing_metadata": 5,
           "http_call_response_header": 6, "http_call_response_trailer": 7}
BUFFER_IDS = {"http_request_body": 0, "http_response_body": 1, "downstream_data": 2, "upstream_data": 3,
              "http_call_response_body": 4, "grpc_call_response_body": 5, "grpc_stream_message": 5,
              "vm_configuration": 6, "plugin_configuration": 7}
STREAM_TYPES = {"http_request": 0, "http_response": 1, "downstream": 2, "upstream": 3}
PLAIN = {"get_current_time": "proxy_get_current_time_nanoseconds", "get_property": "proxy_get_property",
         "set_property": "proxy_set_property", "get_shared_data": "proxy_get_shared_data",
         "set_shared_data": "proxy_set_shared_data", "remove_shared_data": "proxy_set_shared_data",
         "register_shared_queue": "proxy_register_shared_queue", "resolve_shared_queue": "proxy_resolve_shared_queue",
         "dequeue_shared_queue": "proxy_dequeue_shared_queue", "enqueue_shared_queue": "proxy_enqueue_shared_queue",
         "dispatch_http_call": "proxy_http_call", "dispatch_grpc_call": "proxy_grpc_call",
         "open_grpc_stream": "proxy_grpc_stream", "send_grpc_stream_message": "proxy_grpc_send",
         "cancel_grpc_call": "proxy_grpc_cancel", "cancel_grpc_stream": "proxy_grpc_cancel",
         "close_grpc_stream": "proxy_grpc_close", "get_grpc_status": "proxy_get_status",
         "call_foreign_function": "proxy_call_foreign_function", "done": "proxy_done",
         "set_tick_period": "proxy_set_tick_period_milliseconds", "send_http_response": "proxy_send_local_response",
         "send_grpc_response": "proxy_send_local_response"}


def expected_call(method: str) -> tuple[str, dict[str, int]]:
    if method in PLAIN:
        return PLAIN[method], {}
    verb, _, rest = method.partition("_")
    rest = rest.removesuffix("_bytes")
    if verb in ("resume", "close", "reset"):
        host_function = "proxy_continue_stream" if verb == "resume" else "proxy_close_stream"
        return host_function, {"stream_type": STREAM_TYPES[rest]}
    if rest in BUFFER_IDS:
        return f"proxy_{verb}_buffer_bytes", {"buffer_id": BUFFER_IDS[rest]}
    whole_map = rest.endswith("s") or rest.endswith("metadata")
    key = rest.removesuffix("_value").removesuffix("s")
    operation = {("get", True): "proxy_get_header_map_pairs", ("set", True): "proxy_set_header_map_pairs",
                 ("get", False): "proxy_get_header_map_value", ("set", False): "proxy_replace_header_map_value",
                 ("add", False): "proxy_add_header_map_value", ("remove", False): "proxy_remove_header_map_value"}
    return operation[verb, whole_map], {"map_id": MAP_IDS[key]}


@pytest.mark.parametrize("target", TARGETS)
def test_trait_defaults_reach_the_right_host_function(sdk_probe_wasm: dict[str, Path], target: str) -> None:
    host = RecordingHost(sdk_probe_wasm[target])
    host.call("_initialize")
    host.call("probe_trait_defaults")
    made: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for event in host.timeline:
        if isinstance(event, str):
            method = event
            made[method] = []
        else:
            made[method].append((event.name, event.args))
    # every default method except the callbacks (on_*) and the context factories is exercised
    methods = set(re.findall(r"fn (\w+)\(\s*&(?:mut )?self", (SDK_DIR / "src" / "traits.rs").read_text()))
    assert set(made) == {m for m in methods if not m.startswith(("on_", "create_")) and m != "get_type"}
    for method, calls in made.items():
        assert len(calls) == 1, (method, calls)
        name, args = calls[0]
        wanted_name, wanted_args = expected_call(method)
        assert name == wanted_name, method
        assert {k: args[k] for k in wanted_args} == wanted_args, method


# ------------------------------------------------------------------------------ dispatcher


@pytest.mark.parametrize("target", TARGETS)
def test_dispatcher_routes_callbacks_and_callouts(sdk_probe_wasm: dict[str, Path], target: str) -> None:
    host = RecordingHost(sdk_probe_wasm[target], vm_configuration=b"vm", plugin_configuration=b"plugin")
    host.call("_initialize")
    host.call("proxy_on_context_create", 1, 0)
    assert host.call("proxy_on_vm_start", 1, 2) == 1
    assert host.call("proxy_on_configure", 1, 6) == 1
    assert host.call("proxy_on_configure", 1, 13) == 0
    host.call("proxy_on_tick", 1)
    host.call("proxy_on_queue_ready", 1, 4)
    assert host.reports == [
        "root 1 vm_start 2 Some([118, 109])", "root 1 configure 6 Some([112, 108, 117, 103, 105, 110])",
        "root 1 configure 13 Some([112, 108, 117, 103, 105, 110])", "root 1 tick", "root 1 queue 4",
    ]
    host.reports.clear()

    host.call("proxy_on_context_create", 2, 1)
    assert host.call("proxy_on_request_headers", 2, 3, 0) == 0  # Continue
    host.reply("proxy_http_call", OK, return_call_id=5)
    assert host.call("proxy_on_request_headers", 2, 3, 1) == 1  # Pause until the callout answers
    assert host.reports == ["http 2 dispatched 5"]
    assert host.logged(DEBUG) == ["http 2 of root 1: 3 headers, end false", "http 2 of root 1: 3 headers, end true"]

    host.reports.clear()
    host.calls.clear()
    host.maps[6] = [(b":status", b"200")]
    host.buffers[4] = b"ok!"
    host.call("proxy_on_http_call_response", 1, 5, 1, 3, 0)  # the host names the root; the SDK finds the owner
    assert host.calls[0].name == "proxy_set_effective_context" and host.calls[0].args == {"context_id": 2}
    assert host.reports == ['http 2 call response 5 1 3 0 [(":status", "200")] Some(Ok("ok!"))']
    assert host.calls[-1].name == "proxy_continue_stream" and host.calls[-1].args == {"stream_type": 0}

    host.reports.clear()
    host.call("proxy_on_http_call_response", 1, 5, 1, 3, 0)  # a token answered twice is dropped
    assert host.reports == []
    assert host.call("proxy_on_response_headers", 2, 1, 0) == 0
    assert host.map_text(RESPONSE_HEADERS) == [("x-probe", "2")]
    host.call("proxy_on_log", 2)
    assert host.call("proxy_on_done", 2) == 1
    host.call("proxy_on_delete", 2)
    assert host.reports == ["http 2 log", "http 2 done"]

    # a context the module does not know: logged, the stream continues, the VM lives on
    assert host.call("proxy_on_request_headers", 2, 1, 0) == 0
    assert any("unknown context id 2" in m for m in host.logged(ERROR))
    assert host.call("proxy_on_done", 1) == 1  # the root's default on_done


@pytest.mark.parametrize("target", TARGETS)
def test_a_panic_is_logged_at_critical(sdk_probe_wasm: dict[str, Path], target: str) -> None:
    host = RecordingHost(sdk_probe_wasm[target])
    host.call("_initialize")
    host.call("proxy_on_context_create", 1, 0)
    host.call("proxy_on_context_create", 2, 1)
    with pytest.raises(wasmtime.Trap):
        host.call("proxy_on_response_headers", 2, 99, 0)
    critical = host.logged(CRITICAL)
    assert len(critical) == 1 and "boom in context 2" in critical[0], host.logs


# ----------------------------------------------------------------- other builds and tests


def test_abi_0_2_0_feature_exports_the_0_2_0_marker(add_header_project: Path, tmp_path: Path) -> None:
    """A project that enables the SDK's `abi-0-2-0` feature gets the 0.2.0 marker and passes 0.2.0's checks."""
    project = tmp_path / "old-proxy"
    shutil.copytree(add_header_project, project, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    manifest = project / "Cargo.toml"
    line = 'proxy-wasm = { path = "third_party/proxy-wasm" }'
    assert line in manifest.read_text()
    manifest.write_text(manifest.read_text().replace(line, line[:-2] + ', features = ["abi-0-2-0"] }'))
    module = build_wasm(project, "wasm32-unknown-unknown", cargo_env(tmp_path), "add_header")
    check_abi_shape(module, "wasm32-unknown-unknown", "proxy_abi_version_0_2_0", "0.2.0")
    report = abi_checker.check(module)
    assert report.abi == "0.2.0" and report.findings == (), report.findings


def test_sdk_unit_tests_pass_on_the_host(rust_build_root: Path, tmp_path: Path) -> None:
    """The header-map codec's own tests (`cargo test` of the SDK, host target), in a copy: cargo
    writes Cargo.lock next to Cargo.toml."""
    sdk = tmp_path / "proxy-wasm"
    shutil.copytree(SDK_DIR, sdk)
    proc = cargo(["test", "--offline"], sdk, cargo_env(rust_build_root))
    assert re.search(r"test result: ok\. \d+ passed; 0 failed", proc.stdout), proc.stdout
    assert "pairs::tests::rejects_malformed_maps ... ok" in proc.stdout


def test_example_unit_tests_pass_on_the_host(add_header_project: Path, rust_build_root: Path) -> None:
    """A scaffolded project's `cargo test` works offline (its JSON configuration parser's tests)."""
    proc = cargo(["test", "--offline"], add_header_project, cargo_env(rust_build_root))
    assert "config::tests::rejects_invalid_configurations ... ok" in proc.stdout
    assert re.search(r"test result: ok\. \d+ passed; 0 failed", proc.stdout), proc.stdout


def test_pairs_helpers_round_trip() -> None:
    """The test host's own codec agrees with the ABI reference's example bytes."""
    encoded = serialize_pairs([(b"a", b"1"), (b"b", b"22")])
    assert encoded == struct.pack("<5I", 2, 1, 1, 1, 2) + b"a\x001\x00b\x0022\x00"
    assert deserialize_pairs(encoded) == [(b"a", b"1"), (b"b", b"22")]
