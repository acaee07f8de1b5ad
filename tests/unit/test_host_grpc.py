"""gRPC calls and streams answered from the test, and foreign functions in both directions."""

from __future__ import annotations

from tests.fixtures.host import HELPERS, load
from wasmbuild.host import pairs
from wasmbuild.testing import GrpcResponse

GRPC = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $proxy_grpc_call <<cluster>> <<service>> <<method>> <<metadata>> <<message>>
                                        (i32.const 1000) (i32.const 200)))
  (call $say_int (call $proxy_grpc_stream <<cluster>> <<service>> <<watch>> <<metadata>> (i32.const 204)))
  (call $say_int (call $proxy_grpc_send (i32.load (i32.const 204)) <<message>> (i32.const 0)))
  (call $say_int (call $proxy_grpc_send (i32.const 77) <<message>> (i32.const 0)))
  (i32.const 1))
(func (export "proxy_on_grpc_receive_initial_metadata") (param $root i32) (param $token i32) (param $n i32)
  (call $say <<initial>>) (call $say_int (local.get $token)) (call $say_int (local.get $n)))
(func (export "proxy_on_grpc_receive") (param $root i32) (param $token i32) (param $size i32)
  (call $say <<receive>>) (call $say_int (local.get $token))
  (drop (call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (local.get $size) (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4)))
(func (export "proxy_on_grpc_receive_trailing_metadata") (param $root i32) (param $token i32) (param $n i32)
  (call $say <<trailing>>) (call $say_int (local.get $n))
  (drop (call $proxy_get_header_map_value (i32.const 5) <<grpc_message>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4)))
(func (export "proxy_on_grpc_close") (param $root i32) (param $token i32) (param $status i32)
  (call $say <<close>>) (call $say_int (local.get $token)) (call $say_int (local.get $status))
  (drop (call $proxy_get_status (i32.const 8) (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4)))
"""
STRINGS = {"cluster": "backend", "service": "pkg.Auth", "method": "Check", "watch": "Watch", "message": "req",
           "metadata": pairs.serialize([(b"x-tenant", b"acme")]), "initial": "initial", "receive": "receive",
           "trailing": "trailing", "close": "close", "grpc_message": "grpc-message"}


def test_a_unary_call_answered_with_a_message() -> None:
    f = load(GRPC, strings=STRINGS)
    f.http_stream().send_request_headers()
    unary, stream = f.grpc_calls
    assert (unary.upstream, unary.service, unary.method, unary.message, unary.timeout_ms) == \
        ("backend", "pkg.Auth", "Check", b"req", 1000)
    assert unary.initial_metadata == [(b"x-tenant", b"acme")]
    assert stream.streaming and stream.sent == [b"req"]
    assert f.log_messages() == ["0", "0", "0", "1"]  # send on an unknown token: NOT_FOUND
    f.respond_grpc_call(unary, b"allowed", initial_metadata={"x-a": "1"})
    assert f.log_messages()[4:] == ["initial", "1", "1", "receive", "1", "allowed"]


def test_a_failed_unary_call_is_a_close_with_its_status_and_message() -> None:
    f = load(GRPC, strings=STRINGS)
    f.grpc_responses["pkg.Auth/Check"] = GrpcResponse(status=7, status_message="denied")
    f.http_stream().send_request_headers()
    assert f.log_messages()[4:] == ["close", "1", "7", "denied"]


def test_a_stream_receives_messages_then_trailers_and_a_close() -> None:
    f = load(GRPC, strings=STRINGS)
    f.http_stream().send_request_headers()
    stream = f.grpc_calls[1]
    f.grpc_stream_receive(stream, "event-1")
    f.grpc_stream_close(stream, status=0, trailing_metadata={"grpc-message": "bye"})
    assert f.log_messages()[4:] == ["receive", "2", "event-1", "trailing", "1", "bye", "close", "2", "0", ""]
    assert stream.closed


def test_cancel_and_close_from_the_filter() -> None:
    body = GRPC + """
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (call $say_int (call $proxy_grpc_cancel (i32.load (i32.const 200))))
      (call $say_int (call $proxy_grpc_cancel (i32.load (i32.const 200))))
      (call $say_int (call $proxy_grpc_close (i32.load (i32.const 204))))
      (i32.const 0))
    """
    f = load(body, strings=STRINGS)
    f.run_http()
    assert f.log_messages()[-3:] == ["0", "1", "0"]
    assert f.grpc_calls[0].cancelled and f.grpc_calls[1].half_closed


FOREIGN = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  ;; (a results pointer of 0 would mean "no results wanted")
  (call $say_int (call $proxy_call_foreign_function <<name>> <<args>> (i32.const 16) (i32.const 20)))
  (call $say_out (i32.const 16) (i32.const 20))
  (call $say_int (call $proxy_call_foreign_function <<unknown>> <<args>> (i32.const 0) (i32.const 4)))
  (i32.const 0))
(func (export "proxy_on_foreign_function") (param $root i32) (param $id i32) (param $size i32)
  (call $say_int (local.get $id))
  (drop (call $proxy_get_buffer_bytes (i32.const 8) (i32.const 0) (local.get $size) (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4)))
"""


def test_foreign_functions_both_ways() -> None:
    f = load(FOREIGN, strings={"name": "compress", "args": "aaaa", "unknown": "nope"})
    f.foreign_functions["compress"] = lambda data: b"4a" if data == b"aaaa" else b"?"
    f.http_stream().send_request_headers()
    assert f.log_messages() == ["0", "4a", "1"]
    f.call_foreign_function(9, "payload")
    assert f.log_messages()[3:] == ["9", "payload"]
