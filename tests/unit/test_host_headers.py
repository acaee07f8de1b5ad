"""Header and trailer maps through real WAT filters: every map host call, per ABI version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.host import HELPERS, load, wat_filter
from wasmbuild.testing import load_filter

ECHO = HELPERS + """
(func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
  (call $say_int (local.get $n))
  (call $say_int (local.get $eos))
  (i32.const 0))
(func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
  ;; copy the request headers, serialised, over the response headers: a round trip through the module
  (call $say_int (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 0) (i32.const 4)))
  (call $say_int (call $proxy_set_header_map_pairs (i32.const 2) (i32.load (i32.const 0)) (i32.load (i32.const 4))))
  (i32.const 0))
"""


def test_pairs_round_trip_through_the_module_memory() -> None:
    f = load(ECHO)
    stream = f.http_stream()
    request = [(":method", "POST"), (":path", "/a?b=c"), (":authority", "example.com"), ("x-dup", "1"),
               ("x-dup", "2"), ("x-empty", ""), ("x-utf8", "héllo")]
    assert stream.send_request_headers(request, end_of_stream=True) == "continue"
    stream.send_response_headers([(":status", "204")])
    assert stream.response_headers == request
    assert f.log_messages() == ["7", "1", "0", "0"]


MAP_CALLS = HELPERS + """
(func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
  (call $say_int (call $proxy_get_header_map_value (i32.const 2) <<server>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (call $say_int (call $proxy_get_header_map_value (i32.const 2) <<missing>> (i32.const 0) (i32.const 4)))
  (call $say_int (call $proxy_replace_header_map_value (i32.const 2) <<location>> <<envoy>>))
  (call $say_int (call $proxy_add_header_map_value (i32.const 2) <<Hello>> <<world>>))
  (call $say_int (call $proxy_remove_header_map_value (i32.const 2) <<server>>))
  (call $say_int (call $proxy_get_header_map_size (i32.const 2) (i32.const 8)))
  (call $say_int (i32.load (i32.const 8)))
  (call $say_int (call $proxy_get_header_map_value (i32.const 8) <<server>> (i32.const 0) (i32.const 4)))
  (call $say_int (call $proxy_add_header_map_value (i32.const 6) <<Hello>> <<world>>))
  (i32.const 0))
"""
MAP_STRINGS = {"server": "Server", "missing": "x-missing", "location": "location", "envoy": "envoy-wasm",
               "Hello": "Hello", "world": "world!"}


def test_get_add_replace_remove_and_size_on_0_2_1() -> None:
    f = load(MAP_CALLS, strings=MAP_STRINGS)
    stream = f.run_http(response_headers=[(":status", "200"), ("server", "upstream"), ("location", "/a"),
                                          ("location", "/b")])
    assert stream.response_headers == [(":status", "200"), ("location", "envoy-wasm"), ("hello", "world!")]
    size = len(":status200locationenvoy-wasmhelloworld!")
    # found, value, NOT_FOUND for a missing key (0.2.x), OK x3, size, BAD_ARGUMENT for map 8,
    # BAD_ARGUMENT for a read-only/absent map (6: http call response headers)
    assert f.log_messages() == ["0", "upstream", "1", "0", "0", "0", "0", str(size), "2", "2"]


@pytest.mark.parametrize("abi, expected", [("0.1.0", ["0", "0"]), ("0.2.0", ["1", "99"]), ("0.2.1", ["1", "99"])])
def test_a_missing_header_is_ok_and_empty_on_0_1_0_and_not_found_after(abi: str, expected: list[str]) -> None:
    params = "(param i32 i32)" if abi == "0.1.0" else "(param i32 i32 i32)"
    body = HELPERS + f"""
    (func (export "proxy_on_response_headers") {params} (result i32)
      (i32.store (i32.const 4) (i32.const 99))
      (call $say_int (call $proxy_get_header_map_value (i32.const 2) <<missing>> (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.const 4)))
      (i32.const 0))
    """
    f = load(body, abi=abi, strings=MAP_STRINGS)
    f.run_http()
    assert f.log_messages() == expected


HEADER_ARGS = HELPERS + """
(func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) {eos_param} (result i32)
  (call $say_int (local.get $ctx)) (call $say_int (local.get $n)) {log_eos} (i32.const 0))
"""


@pytest.mark.parametrize("abi, eos", [("0.1.0", False), ("0.2.0", True), ("0.2.1", True)])
def test_header_callback_arity_follows_the_abi(abi: str, eos: bool) -> None:
    body = HEADER_ARGS.format(eos_param="(param $eos i32)" if eos else "",
                              log_eos="(call $say_int (local.get $eos))" if eos else "")
    f = load(body, abi=abi)
    f.http_stream().send_request_headers(end_of_stream=True)
    assert f.log_messages() == (["2", "4", "1"] if eos else ["2", "4"])


def test_a_0_2_x_header_callback_in_a_0_1_0_module_is_refused() -> None:
    body = HEADER_ARGS.format(eos_param="(param $eos i32)", log_eos="")
    from wasmbuild.errors import FilterFailure

    with pytest.raises(FilterFailure, match="Bad function signature for: proxy_on_request_headers"):
        load(body, abi="0.1.0")


TRAILERS = HELPERS + """
(func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
  ;; at the end of the stream a filter may add trailers (Envoy: addDecodedTrailers)
  (call $say_int (call $proxy_add_header_map_value (i32.const 1) <<name>> <<value>>))
  (i32.const 0))
(func (export "proxy_on_response_trailers") (param $ctx i32) (param $n i32) (result i32)
  (call $say_int (local.get $n))
  (call $say_int (call $proxy_get_header_map_value (i32.const 3) <<grpc>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (call $say_int (call $proxy_replace_header_map_value (i32.const 3) <<grpc>> <<value>>))
  (i32.const 0))
"""


def test_trailers_are_readable_writable_and_addable_at_end_of_stream() -> None:
    f = load(TRAILERS, strings={"name": "x-checksum", "value": "42", "grpc": "grpc-status"})
    stream = f.run_http(request_body="payload", response_body="ok",
                        response_trailers=[("grpc-status", "0"), ("grpc-message", "fine")])
    assert stream.request_trailers == [("x-checksum", "42")]
    assert stream.response_trailers == [("grpc-message", "fine"), ("grpc-status", "42")]
    assert f.log_messages() == ["0", "2", "0", "0", "0"]


def test_a_malformed_map_clears_it_like_envoy_and_leaves_a_note() -> None:
    body = HELPERS + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $say_int (call $proxy_set_header_map_pairs (i32.const 0) <<junk>>))
      (i32.const 0))
    """
    f = load(body, strings={"junk": b"\x05\x00\x00\x00garbage"})
    stream = f.run_http()
    assert stream.request_headers == []
    assert f.log_messages() == ["0"]
    assert "malformed map" in f.notes[0]


def test_response_headers_are_not_available_during_the_request() -> None:
    body = HELPERS + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $say_int (call $proxy_get_header_map_value (i32.const 2) <<status>> (i32.const 0) (i32.const 4)))
      (call $say_int (call $proxy_get_header_map_pairs (i32.const 2) (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.const 4)))
      (i32.const 0))
    """
    f = load(body, strings={"status": ":status"})
    f.http_stream().send_request_headers()
    # get_value: BAD_ARGUMENT (map not there yet); get_pairs: OK with an empty map (0 bytes)
    assert f.log_messages() == ["2", "0", "0"]


def test_headers_can_be_given_as_a_mapping_and_read_case_insensitively(tmp_path: Any) -> None:
    f = load_filter(wat_filter(ECHO))
    stream = f.http_stream()
    stream.send_request_headers({":path": "/x", "X-Upper": "v"})
    assert stream.request_headers["x-upper"] == "v"
    assert stream.request_headers.get("X-UPPER") == "v"
    assert "x-upper" in stream.request_headers
    with pytest.raises(KeyError):
        stream.request_headers["absent"]
