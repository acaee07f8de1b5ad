"""The manual clock and ticks; log levels and proxy_get_log_level."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load, wat_filter
from wasmbuild.testing import ManualClock, load_filter

TICKS = HELPERS + """
(global $ticks (mut i32) (i32.const 0))
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1))
(func (export "proxy_on_tick") (param $root i32)
  (global.set $ticks (i32.add (global.get $ticks) (i32.const 1)))
  (drop (call $proxy_get_current_time_nanoseconds (i32.const 0)))
  (call $say_int (i32.div_u (i64.load (i32.const 0)) (i32.const 1)))
  ;; after the third tick, slow down to one a second; after the fifth, stop
  (if (i32.eq (global.get $ticks) (i32.const 3))
    (then (drop (call $proxy_set_tick_period_milliseconds (i32.const 1000)))))
  (if (i32.eq (global.get $ticks) (i32.const 5))
    (then (drop (call $proxy_set_tick_period_milliseconds (i32.const 0))))))
""".replace("(i32.div_u (i64.load (i32.const 0)) (i32.const 1))",
            "(i32.wrap_i64 (i64.div_u (i64.load (i32.const 0)) (i64.const 1000000)))")


def test_ticks_fire_as_the_manual_clock_advances() -> None:
    clock = ManualClock(realtime_ns=0)
    f = load(TICKS, clock=clock)
    assert f.tick_period_ms == 100
    assert f.advance(ms=99) == 0
    assert f.advance(ms=1) == 1
    assert f.advance(ms=250) == 2  # at 200 and 300 ms; the third tick sets the period to 1 s
    assert f.advance(seconds=5) == 2  # at 1.3 s and 2.3 s, then the fifth tick stops them
    assert f.log_messages() == ["100", "200", "300", "1300", "2300"]  # proxy_get_current_time_nanoseconds, in ms
    assert clock.realtime_ns == 5_350_000_000
    assert f.tick_period_ms == 0


LOGS = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (drop (call $proxy_log (i32.const 0) <<trace>>))
  (drop (call $proxy_log (i32.const 1) <<debug>>))
  (drop (call $proxy_log (i32.const 3) <<warn>>))
  (drop (call $proxy_log (i32.const 4) <<error>>))
  (drop (call $proxy_log (i32.const 5) <<critical>>))
  (i32.store (i32.const 0) (call $proxy_log (i32.const 6) <<trace>>))
  (i32.store (i32.const 4) (call $proxy_get_log_level (i32.const 8)))
  (drop (call $proxy_log (i32.const 5) (i32.add (i32.const 48) (i32.load (i32.const 0))) (i32.const 1)))
  (drop (call $proxy_log (i32.const 5) (i32.add (i32.const 48) (i32.load (i32.const 8))) (i32.const 1)))
  (i32.const 0))
(data (i32.const 48) "0123456789")
"""
LEVELS = {name: f"at {name}" for name in ("trace", "debug", "warn", "error", "critical")}


def test_every_log_level_and_a_bad_one() -> None:
    f = load(LOGS, strings=LEVELS)
    f.http_stream().send_request_headers()
    assert [(r.level, r.message) for r in f.logs] == [
        ("trace", "at trace"), ("debug", "at debug"), ("warn", "at warn"), ("error", "at error"),
        ("critical", "at critical"), ("critical", "2"), ("critical", "0")]  # BAD_ARGUMENT; level trace
    assert all(r.context_id == 2 for r in f.logs)


@pytest.mark.parametrize("level, kept, reported", [("warn", ["warn", "error", "critical"], "3"),
                                                   ("debug", ["debug", "warn", "error", "critical"], "1")])
def test_the_host_log_level_filters_and_is_reported(level: str, kept: list[str], reported: str) -> None:
    f = load(LOGS, strings=LEVELS, log_level=level)
    f.http_stream().send_request_headers()
    assert [r.level for r in f.logs][:len(kept)] == kept
    assert f.log_messages()[-1] == reported


def test_get_log_level_is_0_2_1_only() -> None:
    from wasmbuild.errors import FilterFailure

    data = wat_filter(LOGS, abi="0.2.0", strings=LEVELS,
                      raw_imports='(import "env" "proxy_get_log_level" '
                                  '(func $proxy_get_log_level (param i32) (result i32)))')
    with pytest.raises(FilterFailure, match=r"proxy_get_log_level, which exists only in ABI 0\.2\.1"):
        load_filter(data)
