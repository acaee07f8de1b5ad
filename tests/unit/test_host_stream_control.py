"""Local responses, continue and close: proxy_continue_stream (0.2.x) vs proxy_continue_request/
response (0.1.0), and pausing a request until an HTTP call answers."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load
from wasmbuild.host import pairs
from wasmbuild.testing import HttpCallResponse

LOCAL = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $proxy_send_local_response (i32.const 429) <<details>> <<body>> <<headers>> (i32.const 8)))
  ;; even a Continue is turned into a stop once a local response was sent
  (i32.const 0))
"""
LOCAL_STRINGS = {"details": "rate_limited", "body": "slow down", "headers": pairs.serialize([(b"Retry-After", b"60")])}


def test_send_local_response_records_it_and_stops_the_stream() -> None:
    f = load(LOCAL, strings=LOCAL_STRINGS)
    stream = f.run_http()
    local = stream.local_response
    assert local is not None
    assert (local.status, local.body, local.details, local.grpc_status) == (429, b"slow down", "rate_limited", 8)
    assert local.headers == ((b"retry-after", b"60"),)
    assert stream.request_action == "pause"
    assert stream.response_action is None  # the response phase never ran
    assert f.log_messages() == ["0"]


def test_grpc_status_minus_one_means_none() -> None:
    f = load(LOCAL.replace("(i32.const 8)))", "(i32.const -1)))"), strings=LOCAL_STRINGS)
    local = f.run_http().local_response
    assert local is not None and local.grpc_status is None


CALL_THEN_CONTINUE = HELPERS + """
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32) {eos} (result i32)
  (i32.store (i32.const 100) (local.get $ctx))
  (call $say_int (call $proxy_http_call <<cluster>> <<call_headers>> <<call_body>> (i32.const 0) (i32.const 0)
                                         (i32.const 5000) (i32.const 104)))
  (i32.const 1))
(func (export "proxy_on_http_call_response") (param $root i32) (param $token i32) (param $headers i32)
                                             (param $body i32) (param $trailers i32)
  (call $say_int (local.get $root)) (call $say_int (local.get $token)) (call $say_int (local.get $headers))
  (call $say_int (local.get $body))
  (drop (call $proxy_get_header_map_value (i32.const 6) <<status>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (drop (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (local.get $body) (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (call $say_int (call $proxy_set_effective_context (i32.load (i32.const 100))))
  (call $say_int {resume}))
"""
CALL_STRINGS = {
    "cluster": "auth", "call_body": "who?", "status": ":status",
    "call_headers": pairs.serialize([(b":method", b"POST"), (b":path", b"/auth"), (b":authority", b"auth.local")]),
}


@pytest.mark.parametrize("abi, resume", [
    ("0.2.1", "(call $proxy_continue_stream (i32.const 0))"),
    ("0.2.0", "(call $proxy_continue_stream (i32.const 0))"),
    ("0.1.0", "(call $proxy_continue_request)"),
])
def test_a_paused_request_resumes_when_the_http_call_answers(abi: str, resume: str) -> None:
    body = CALL_THEN_CONTINUE.format(eos="" if abi == "0.1.0" else "(param i32)", resume=resume)
    f = load(body, abi=abi, strings=CALL_STRINGS)
    stream = f.http_stream()
    assert stream.send_request_headers() == "pause"
    assert stream.request_action == "pause"
    [call] = f.pending_http_calls
    assert (call.upstream, call.body, call.timeout_ms, call.context_id, call.root_context_id) == \
        ("auth", b"who?", 5000, 2, 1)
    assert dict(call.headers)[b":path"] == b"/auth"
    f.respond_http_call(call, status=200, headers={"x-user": "alice"}, body="alice")
    assert stream.request_action == "continue"
    # call ok; root 1, token 1, 2 headers (:status added), 5 bytes; :status, body; effective ctx; resumed
    assert f.log_messages() == ["0", "1", "1", "2", "5", "200", "alice", "0", "0"]
    assert not f.pending_http_calls


def test_scripted_http_responses_answer_after_the_callback() -> None:
    body = CALL_THEN_CONTINUE.format(eos="(param i32)", resume="(call $proxy_continue_stream (i32.const 0))")
    f = load(body, strings=CALL_STRINGS)
    f.http_responses["auth"] = HttpCallResponse(status=403, body=b"no")
    stream = f.http_stream()
    assert stream.send_request_headers() == "pause"  # what the callback returned
    assert stream.request_action == "continue"  # what happened once the scripted answer came
    assert f.log_messages()[5:7] == ["403", "no"]


def test_a_failed_http_call_has_no_headers() -> None:
    body = CALL_THEN_CONTINUE.format(eos="(param i32)", resume="(call $proxy_continue_stream (i32.const 0))")
    f = load(body, strings=CALL_STRINGS)
    f.http_stream().send_request_headers()
    f.fail_http_call()
    assert f.log_messages()[1:5] == ["1", "1", "0", "0"]


def test_http_call_without_authority_is_refused() -> None:
    strings = dict(CALL_STRINGS, call_headers=pairs.serialize([(b":method", b"GET"), (b":path", b"/")]))
    body = CALL_THEN_CONTINUE.format(eos="(param i32)", resume="(i32.const 0)")
    f = load(body, strings=strings)
    f.http_stream().send_request_headers()
    assert f.log_messages() == ["2"]
    assert not f.http_calls
    assert "lacks one of :method, :path, :authority" in f.notes[0]


@pytest.mark.parametrize("kind, expected", [(0, "0"), (1, "0"), (2, "12"), (3, "12"), (4, "2")])
def test_continue_and_close_stream_statuses(kind: int, expected: str) -> None:
    body = HELPERS + f"""
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (call $say_int (call $proxy_continue_stream (i32.const {kind})))
      (call $say_int (call $proxy_close_stream (i32.const {kind})))
      (i32.const 1))
    """
    f = load(body)
    stream = f.run_http()
    assert f.log_messages() == [expected, expected]
    if kind < 2:
        assert stream.closed == {["request", "response"][kind]}


def test_0_1_0_continue_response_and_clear_route_cache() -> None:
    body = HELPERS + """
    (func (export "proxy_on_response_headers") (param i32 i32) (result i32)
      (call $say_int (call $proxy_clear_route_cache))
      (call $say_int (call $proxy_continue_response))
      (i32.const 1))
    """
    f = load(body, abi="0.1.0")
    stream = f.run_http()
    assert f.log_messages() == ["0", "0"]
    assert stream.response_action == "continue"
