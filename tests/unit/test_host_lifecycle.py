"""The call sequence Envoy runs: entry points, root context bring-up, streams, end-of-stream order."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load
from wasmbuild.testing import CallbackFailure, ConfigurationRejected

# Every callback logs "<name> <context id>" so the test can read the sequence back.
TRACE = HELPERS + """
(func $trace (param $p i32) (param $n i32) (param $ctx i32)
  (call $say (local.get $p) (local.get $n)) (call $say_int (local.get $ctx)))
(func (export "proxy_on_context_create") (param $ctx i32) (param $parent i32)
  (call $trace <<create>> (local.get $ctx)) (call $say_int (local.get $parent)))
(func (export "proxy_on_vm_start") (param $ctx i32) (param $size i32) (result i32)
  (call $trace <<vm_start>> (local.get $ctx)) (i32.const 1))
(func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
  (call $trace <<configure>> (local.get $ctx)) (i32.const 1))
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
  (call $trace <<request>> (local.get $ctx)) (i32.const 0))
(func (export "proxy_on_response_headers") (param $ctx i32) (param i32 i32) (result i32)
  (call $trace <<response>> (local.get $ctx)) (i32.const 0))
(func (export "proxy_on_log") (param $ctx i32) (call $trace <<log>> (local.get $ctx)))
(func (export "proxy_on_done") (param $ctx i32) (result i32) (call $trace <<done>> (local.get $ctx)) (i32.const 1))
(func (export "proxy_on_delete") (param $ctx i32) (call $trace <<delete>> (local.get $ctx)))
"""
NAMES = {n: n for n in ("create", "vm_start", "configure", "request", "response", "log", "done", "delete",
                        "initialize", "main", "start", "main_void")}


def pairs_of(messages: list[str]) -> list[str]:
    out = []
    for name, value in zip(messages[::2], messages[1::2], strict=False):
        out.append(f"{name} {value}")
    return out


def test_bring_up_then_a_stream_in_envoys_order() -> None:
    f = load(TRACE, strings=NAMES)
    f.run_http()
    f.close()
    log = f.log_messages()
    # context_create logs an extra line: the parent id
    assert log[:3] == ["create", "1", "0"]
    assert pairs_of(log[3:7]) == ["vm_start 1", "configure 1"]
    assert log[7:10] == ["create", "2", "1"]
    assert pairs_of(log[10:]) == ["request 2", "response 2", "log 2", "done 2", "delete 2", "done 1", "delete 1"]


def test_spec_order_is_done_log_delete() -> None:
    f = load(TRACE, strings=NAMES, stream_end_order="spec")
    f.run_http()
    assert pairs_of(f.log_messages()[10:]) == ["request 2", "response 2", "done 2", "log 2", "delete 2"]


PENDING_DONE = TRACE.replace(
    '(func (export "proxy_on_done") (param $ctx i32) (result i32) '
    '(call $trace <<done>> (local.get $ctx)) (i32.const 1))',
    """(func (export "proxy_on_done") (param $ctx i32) (result i32)
         (call $trace <<done>> (local.get $ctx)) (i32.store (i32.const 100) (local.get $ctx)) (i32.const 0))
       (func (export "proxy_on_tick") (param $root i32)
         (call $say_int (call $proxy_set_effective_context (i32.load (i32.const 100))))
         (call $say_int (call $proxy_done))
         (call $say_int (call $proxy_done)))""").replace(
    "(call $trace <<vm_start>> (local.get $ctx)) (i32.const 1)",
    "(call $trace <<vm_start>> (local.get $ctx)) (drop (call $proxy_set_tick_period_milliseconds (i32.const 1000)))"
    " (i32.const 1)")


def test_spec_order_waits_for_proxy_done_when_on_done_returns_false() -> None:
    f = load(PENDING_DONE, strings=NAMES, stream_end_order="spec")
    f.run_http()
    assert pairs_of(f.log_messages()[-2:]) == ["done 2"]
    assert f.advance(seconds=1) == 1
    # set_effective_context OK, proxy_done OK, a second proxy_done NOT_FOUND; then log and delete
    assert f.log_messages()[-7:] == ["0", "0", "1", "log", "2", "delete", "2"]


@pytest.mark.parametrize("entry, expected", [
    ('(func (export "_initialize") (call $say <<initialize>>))'
     '(func (export "main") (param i32 i32) (result i32) (call $say <<main>>) (i32.const 0))',
     ["initialize", "main"]),
    ('(func (export "_initialize") (call $say <<initialize>>))'
     '(func (export "__main_void") (result i32) (call $say <<main_void>>) (i32.const 0))',
     ["initialize", "main_void"]),
    ('(func (export "_start") (call $say <<start>>))', ["start"]),
    ('(func (export "_initialize") (call $say <<initialize>>)) (func (export "_start") (call $say <<start>>))',
     ["initialize"]),
])
def test_entry_points_run_first_as_cpp_host_picks_them(entry: str, expected: list[str]) -> None:
    f = load(TRACE + entry, strings=NAMES)
    assert f.log_messages()[:len(expected) + 1] == [*expected, "create"]


def test_vm_start_returning_false_fails_the_filter() -> None:
    body = TRACE.replace("(call $trace <<vm_start>> (local.get $ctx)) (i32.const 1)",
                         "(call $trace <<vm_start>> (local.get $ctx)) (i32.const 0)")
    with pytest.raises(CallbackFailure, match="proxy_on_vm_start returned false") as caught:
        load(body, strings=NAMES)
    assert caught.value.reason == "start-failed"
    assert caught.value.exit_code == 1


CONFIG = HELPERS + """
(func (export "proxy_on_vm_start") (param $ctx i32) (param $size i32) (result i32)
  (call $say_int (local.get $size))
  (call $say_int (call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (local.get $size)
                                               (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  ;; the plugin configuration is only readable during proxy_on_configure (Envoy)
  (call $say_int (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100)
                                               (i32.const 0) (i32.const 4)))
  (i32.const 1))
(func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
  (call $say_int (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (local.get $size)
                                               (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  ;; accept only a configuration that starts with "{"
  (if (result i32) (i32.eq (i32.load8_u (i32.load (i32.const 0))) (i32.const 123))
    (then (i32.const 1))
    (else (drop (call $proxy_log (i32.const 3) <<bad>>)) (i32.const 0))))
"""


def test_configuration_buffers_and_a_rejected_configuration() -> None:
    f = load(CONFIG, strings={"bad": "invalid configuration"}, vm_config="vm-conf", plugin_config={"name": "x"})
    assert f.log_messages() == ["7", "0", "vm-conf", "1", "0", '{"name": "x"}']
    assert f.configure("{}") is True
    assert f.configure("nope") is False
    with pytest.raises(ConfigurationRejected, match=r"rejected its plugin configuration.*invalid configuration") \
            as caught:
        load(CONFIG, strings={"bad": "invalid configuration"}, plugin_config="nope")
    assert [r.level for r in caught.value.logs][-1] == "warn"


def test_0_1_0_reads_configuration_with_proxy_get_configuration() -> None:
    body = HELPERS + """
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (call $say_int (call $proxy_get_configuration (i32.const 0) (i32.const 4)))
      (call $say_out (i32.const 0) (i32.const 4)) (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (call $say_int (call $proxy_get_configuration (i32.const 0) (i32.const 4)))
      (call $say_out (i32.const 0) (i32.const 4)) (i32.const 1))
    """
    f = load(body, abi="0.1.0", vm_config="the vm", plugin_config="the plugin")
    assert f.log_messages() == ["0", "the vm", "0", "the plugin"]


def test_filter_fixture_style_context_manager_closes_the_root() -> None:
    with load(TRACE, strings=NAMES) as f, f.http_stream() as stream:
        stream.send_request_headers()
    assert pairs_of(f.log_messages()[-2:]) == ["delete 1"]
