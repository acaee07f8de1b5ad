"""Bodies and the other buffers: get, set (Envoy's replace/prepend/append rules), status."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load

BODY = HELPERS + """
(func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
  (call $say_int (local.get $size))
  (call $say_int (call $proxy_get_buffer_status (i32.const 0) (i32.const 8) (i32.const 12)))
  (call $say_int (i32.load (i32.const 8)))
  ;; keep buffering until the end of the stream, then rewrite the body
  (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
  (call $say_int (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 0) (local.get $size)
                                                   (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  ;; start 0, size 5: drop the first 5 bytes and prepend
  (call $say_int (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 5) <<new>>))
  ;; start >= length: append
  (call $say_int (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 1000) (i32.const 0) <<tail>>))
  ;; in the middle: Envoy refuses
  (call $say_int (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 2) (i32.const 0) <<tail>>))
  (i32.const 0))
"""


def test_body_buffers_while_paused_and_is_rewritten() -> None:
    f = load(BODY, strings={"new": "HELLO", "tail": "!"})
    stream = f.http_stream()
    stream.send_request_headers()
    assert stream.send_request_body("hello ", end_of_stream=False) == "pause"
    assert stream.send_request_body("world", end_of_stream=True) == "continue"
    assert stream.request_body == b"HELLO world!"
    assert f.log_messages() == ["6", "0", "6", "11", "0", "11", "0", "hello world", "0", "0", "2"]


def test_a_continued_chunk_is_flushed_and_the_next_one_starts_fresh() -> None:
    body = HELPERS + """
    (func (export "proxy_on_response_body") (param i32) (param $size i32) (param i32) (result i32)
      (call $say_int (local.get $size)) (i32.const 0))
    """
    f = load(body)
    stream = f.http_stream()
    stream.send_request_headers()
    stream.send_response_headers()
    stream.send_response_body("abc", end_of_stream=False)
    stream.send_response_body("de", end_of_stream=True)
    assert f.log_messages() == ["3", "2"]
    assert stream.response_body == b"abcde"


@pytest.mark.parametrize("kind, expected", [
    (1, "1"),  # response body: no response yet, but the stream has one (empty) -> OK with 0 bytes
    (2, "1"),  # downstream data: HTTP streams only -> NOT_FOUND
    (4, "1"),  # HTTP call response body outside proxy_on_http_call_response -> NOT_FOUND
    (9, "2"),  # no such buffer type -> BAD_ARGUMENT
])
def test_unavailable_and_unknown_buffers(kind: int, expected: str) -> None:
    body = HELPERS + f"""
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $say_int (call $proxy_get_buffer_bytes (i32.const {kind}) (i32.const 0) (i32.const 10)
                                                   (i32.const 0) (i32.const 4)))
      (i32.const 0))
    """
    f = load(body)
    f.http_stream().send_request_headers()
    assert f.log_messages() == (["0"] if kind == 1 else [expected])


def test_start_beyond_the_end_gives_an_empty_buffer_and_overflow_is_refused() -> None:
    body = HELPERS + """
    (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
      (i32.store (i32.const 4) (i32.const 77))
      (call $say_int (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 50) (i32.const 10)
                                                   (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.const 4)))
      (call $say_int (call $proxy_get_buffer_bytes (i32.const 0) (i32.const -1) (i32.const 10)
                                                   (i32.const 0) (i32.const 4)))
      (call $say_int (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 2) (i32.const 2)
                                                   (i32.const 0) (i32.const 4)))
      (call $say_out (i32.const 0) (i32.const 4))
      (i32.const 0))
    """
    f = load(body)
    f.run_http(request_body="abcdef")
    assert f.log_messages() == ["0", "0", "2", "0", "cd"]


def test_configuration_buffers_are_read_only() -> None:
    body = HELPERS + """
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (call $say_int (call $proxy_set_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 0) <<x>>))
      (i32.const 1))
    """
    f = load(body, strings={"x": "x"}, plugin_config="conf")
    assert f.log_messages() == ["2"]
