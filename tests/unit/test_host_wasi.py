"""The WASI preview1 subset, under both import module names."""

from __future__ import annotations

import pytest

from tests.fixtures.host import HELPERS, load
from wasmbuild.testing import CallbackFailure, ManualClock

MODULES = ["wasi_snapshot_preview1", "wasi_unstable"]

FD_WRITE = HELPERS + """
(func $write (param $fd i32) (result i32)
  ;; two iovecs: "hello " and "world\\n"
  (i32.store (i32.const 100) <<hello.ptr>>) (i32.store (i32.const 104) <<hello.len>>)
  (i32.store (i32.const 108) <<world.ptr>>) (i32.store (i32.const 112) <<world.len>>)
  (call $fd_write (local.get $fd) (i32.const 100) (i32.const 2) (i32.const 120)))
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $write (i32.const 1)))
  (call $say_int (i32.load (i32.const 120)))
  (call $say_int (call $write (i32.const 2)))
  (call $say_int (call $write (i32.const 3)))
  (call $say_int (call $fd_fdstat_get (i32.const 1) (i32.const 200)))
  (call $say_int (i32.load8_u (i32.const 208)))
  (call $say_int (call $fd_read (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 120)))
  (call $say_int (call $path_open (i32.const 3) (i32.const 0) <<hello>> (i32.const 0) (i64.const 0) (i64.const 0)
                                  (i32.const 0) (i32.const 120)))
  (call $say_int (call $fd_prestat_get (i32.const 3) (i32.const 120)))
  (call $say_int (call $sched_yield))
  (i32.const 0))
"""


@pytest.mark.parametrize("module", MODULES)
def test_stdout_and_stderr_go_to_the_log(module: str) -> None:
    f = load(FD_WRITE, strings={"hello": "hello ", "world": "world\n"}, wasi_module=module)
    f.http_stream().send_request_headers()
    records = [(r.level, r.message) for r in f.logs]
    assert records[0] == ("info", "hello world")
    assert records[3] == ("error", "hello world")
    # fd_write OK, 12 bytes written; stderr OK; fd 3 BADF; fdstat OK with FD_WRITE rights;
    # fd_read NOSYS; path_open NOENT; no preopens (BADF); sched_yield OK
    assert [m for lvl, m in records if lvl == "info"] == ["hello world", "0", "12", "0", "8", "0", "64", "52", "44",
                                                           "8", "0"]


CLOCK_AND_RANDOM = HELPERS + """
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $say_int (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 0)))
  (call $say_int (i32.wrap_i64 (i64.div_u (i64.load (i32.const 0)) (i64.const 1000000))))
  (call $say_int (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0)))
  (call $say_int (i32.wrap_i64 (i64.div_u (i64.load (i32.const 0)) (i64.const 1000000))))
  (call $say_int (call $clock_time_get (i32.const 2) (i64.const 1) (i32.const 0)))
  (call $say_int (call $clock_res_get (i32.const 1) (i32.const 0)))
  (call $say_int (call $random_get (i32.const 300) (i32.const 64)))
  (call $say_int (call $random_get (i32.const 300) (i32.const 65537)))
  (call $say_int (call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8)))
  (i32.const 0))
"""


@pytest.mark.parametrize("module", MODULES)
def test_clocks_are_the_manual_clock_and_random_is_bounded(module: str) -> None:
    f = load(CLOCK_AND_RANDOM, wasi_module=module, clock=ManualClock(realtime_ns=5_000_000, monotonic_ns=7_000_000))
    f.advance(ms=1)
    f.http_stream().send_request_headers()
    # realtime 6 ms, monotonic 8 ms, cputime NOTSUP, resolution OK, random OK, too much INVAL
    assert f.log_messages() == ["0", "6", "0", "8", "58", "0", "0", "28", "0"]
    assert f.vm.memory.read(300, 64) != bytes(64)


ENVIRON = HELPERS + """
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (call $say_int (call $environ_sizes_get (i32.const 0) (i32.const 4)))
  (call $say_int (i32.load (i32.const 0)))
  (call $say_int (i32.load (i32.const 4)))
  (call $say_int (call $environ_get (i32.const 100) (i32.const 200)))
  (call $say (i32.load (i32.const 104)) (i32.const 9))
  (call $say_int (call $args_sizes_get (i32.const 0) (i32.const 4)))
  (call $say_int (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))
  (call $say_int (call $args_get (i32.const 100) (i32.const 200)))
  (i32.const 1))
"""


@pytest.mark.parametrize("module", MODULES)
def test_environ_is_the_configured_one_and_args_are_empty(module: str) -> None:
    f = load(ENVIRON, wasi_module=module, environ={"A": "1", "COLOR": "red"})
    assert f.log_messages() == ["0", "2", "14", "0", "COLOR=red", "0", "0", "0"]


@pytest.mark.parametrize("module", MODULES)
def test_proc_exit_in_a_callback_fails_the_filter(module: str) -> None:
    f = load('(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) '
             '(call $proc_exit (i32.const 2)) (i32.const 0))', wasi_module=module)
    with pytest.raises(CallbackFailure, match=r"proc_exit\(2\)"):
        f.http_stream().send_request_headers()


def test_wasi_calls_allowed_during_start_up_work_there() -> None:
    body = HELPERS + """
    (func (export "_initialize")
      (i32.store (i32.const 100) <<hi.ptr>>) (i32.store (i32.const 104) <<hi.len>>)
      (drop (call $fd_write (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 120)))
      (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 0)))
      (drop (call $environ_sizes_get (i32.const 0) (i32.const 4))))
    """
    f = load(body, strings={"hi": "started\n"})
    assert f.log_messages() == ["started"]
