"""Every way a filter can fail under the host becomes a FilterFailure naming the callback: never a
Python traceback, never a hang."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import wasmtime

from tests.fixtures.common import run_cli
from tests.fixtures.host import HELPERS, load, wat_filter
from wasmbuild.errors import FilterFailure
from wasmbuild.testing import CallbackFailure, load_filter

TRAP = """
(func $check_limits (param $n i32) (if (i32.gt_u (local.get $n) (i32.const 3)) (then unreachable)))
(func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param i32) (result i32)
  (call $check_limits (local.get $n)) (i32.const 0))
"""


def test_a_trap_names_the_callback_and_carries_the_wasm_backtrace() -> None:
    f = load(TRAP)
    stream = f.http_stream()
    with pytest.raises(CallbackFailure) as caught:
        stream.send_request_headers()
    failure = caught.value
    assert failure.reason == "trap"
    assert failure.callback == "proxy_on_request_headers (context 2)"
    assert "trapped: wasm `unreachable` instruction executed" in failure.message
    assert "check_limits" in failure.backtrace[0]
    assert "proxy_on_request_headers" in failure.backtrace[1]  # named from the export section
    assert "wasm backtrace:" in str(failure)
    assert failure.exit_code == 1


def test_after_a_failure_the_vm_takes_no_more_calls() -> None:
    f = load(TRAP)
    with pytest.raises(CallbackFailure):
        f.http_stream().send_request_headers()
    with pytest.raises(CallbackFailure, match="already failed") as caught:
        f.http_stream()
    assert caught.value.reason == "failed-earlier"


def test_an_endless_loop_runs_out_of_its_budget() -> None:
    body = ('(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) '
            '(loop $forever (br $forever)) (i32.const 0))')
    f = load(body, budget=2_000_000)
    with pytest.raises(CallbackFailure, match="ran out of its budget of 2,000,000 instructions") as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "budget"


def test_the_default_budget_also_stops_an_endless_loop() -> None:
    body = ('(func (export "proxy_on_vm_start") (param i32 i32) (result i32) '
            '(loop $forever (br $forever)) (i32.const 1))')
    with pytest.raises(CallbackFailure) as caught:
        load(body)
    assert caught.value.reason == "budget"
    assert caught.value.callback == "proxy_on_vm_start (context 1)"


def test_memory_exhaustion_hits_the_limit() -> None:
    body = """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (loop $grow
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow))
      (i32.const 0))
    """
    f = load(body, memory_limit=4 * 1024 * 1024)
    with pytest.raises(CallbackFailure, match="memory at the host's limit of 4 MiB") as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "memory"


def test_a_module_whose_initial_memory_is_over_the_limit_does_not_load() -> None:
    data = wat_filter("", memory_pages=100)
    with pytest.raises(CallbackFailure, match="over the host's limit of 1 MiB") as caught:
        load_filter(data, memory_limit=1024 * 1024)
    assert caught.value.reason == "memory"


def test_a_bad_pointer_to_a_host_call_fails_the_filter() -> None:
    body = """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_log (i32.const 2) (i32.const 0xfffff000) (i32.const 16)))
      (i32.const 0))
    """
    f = load(body)
    with pytest.raises(CallbackFailure, match=r"handed a bad pointer to env.proxy_log: the range 0xfffff000\+16") \
            as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "bad-pointer"
    assert caught.value.backtrace


def test_a_bad_return_pointer_is_caught_too() -> None:
    body = """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 200000) (i32.const 4)))
      (i32.const 0))
    """
    f = load(body)
    with pytest.raises(CallbackFailure, match="proxy_get_header_map_pairs") as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "bad-pointer"


def test_a_trapping_allocator_is_reported_as_such() -> None:
    data = wat_filter(
        """(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
             (drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const 0) (i32.const 4))) (i32.const 0))""",
        allocator="", extra='(func (export "malloc") (param i32) (result i32) unreachable)')
    f = load_filter(data)
    with pytest.raises(CallbackFailure, match="malloc trapped while the host copied data") as caught:
        f.http_stream().send_request_headers()
    assert "malloc" in caught.value.backtrace[0]


def test_missing_abi_marker() -> None:
    with pytest.raises(FilterFailure, match="no proxy-wasm ABI marker") as caught:
        load_filter(wat_filter("", marker=False))
    assert caught.value.hint


def test_missing_allocator() -> None:
    with pytest.raises(FilterFailure, match="missing malloc"):
        load_filter(wat_filter("", allocator=""))


def test_proxy_on_memory_allocate_is_an_allocator_too() -> None:
    body = HELPERS + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_get_header_map_value (i32.const 0) <<path>> (i32.const 0) (i32.const 4)))
      (call $say_out (i32.const 0) (i32.const 4)) (i32.const 0))
    """
    f = load_filter(wat_filter(body, allocator="proxy_on_memory_allocate", strings={"path": ":path"}))
    f.run_http()
    assert f.log_messages() == ["/"]


@pytest.mark.parametrize("abi, name, only_in", [
    ("0.2.1", "proxy_continue_request", "0.1.0"),
    ("0.2.0", "proxy_get_configuration", "0.1.0"),
    ("0.1.0", "proxy_continue_stream", "0.2.0, 0.2.1"),
    ("0.2.0", "proxy_get_log_level", "0.2.1"),
])
def test_imports_of_another_abi_version_are_not_linked(abi: str, name: str, only_in: str) -> None:
    from wasmbuild.host import tables

    spec = next(f for v in tables.ABI_VERSIONS for f in tables.host_functions(v) if f.name == name)
    params = " ".join(spec.signature.params)
    module = f"""(module
      (import "env" "{name}" (func (param {params}) (result i32)))
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 0))
      (func (export "proxy_abi_version_{abi.replace('.', '_')}")))""".replace("(param )", "")
    with pytest.raises(FilterFailure, match=re.escape(f"imports env.{name}, which exists only in ABI {only_in}, "
                                                      f"but its marker declares ABI {abi}")):
        load_filter(bytes(wasmtime.wat2wasm(module)))


def test_an_unknown_import_names_itself_with_a_hint() -> None:
    data = wat_filter("", raw_imports='(func $abort (import "env" "abort") (param i32 i32 i32 i32))')
    with pytest.raises(FilterFailure, match=r"imports env\.abort, which no proxy-wasm host provides") as caught:
        load_filter(data)
    assert "abort=abort_proc_exit" in (caught.value.hint or "")


def test_an_import_with_the_wrong_type_is_refused() -> None:
    data = wat_filter("", raw_imports='(func $log (import "env" "proxy_log") (param i32 i32) (result i32))')
    with pytest.raises(FilterFailure, match=r"imports env.proxy_log with type \(i32, i32\) -> \(i32\), but the "
                                            r"host provides \(i32, i32, i32\) -> \(i32\)"):
        load_filter(data)


def test_restricted_calls_during_start_up_trap_like_v8() -> None:
    body = '(func (export "_initialize") (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))))'
    with pytest.raises(CallbackFailure, match=r"called env\.proxy_set_tick_period_milliseconds during start-up") \
            as caught:
        load(body)
    assert caught.value.reason == "restricted-call"
    assert caught.value.callback == "_initialize"
    assert load(body, enforce_restrictions=False).abi == "0.2.1"  # Envoy on wasmtime does not enforce it


def test_proc_exit_stops_the_filter_but_exit_0_ends_start_up_cleanly() -> None:
    exit_in_start = '(func (export "_start") (call $proc_exit (i32.const 0)))'
    with pytest.raises(CallbackFailure, match="proc_exit during start-up"):
        load(exit_in_start)  # V8 does not allow proc_exit there
    load(exit_in_start, enforce_restrictions=False)
    f = load('(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) '
             '(call $proc_exit (i32.const 3)) (i32.const 0))')
    with pytest.raises(CallbackFailure, match=r"called proc_exit\(3\)") as caught:
        f.http_stream().send_request_headers()
    assert caught.value.reason == "proc-exit"


def test_stack_overflow_is_a_trap_not_a_crash() -> None:
    body = """
    (func $recurse (param $n i32) (result i32) (call $recurse (i32.add (local.get $n) (i32.const 1))))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $recurse (i32.const 0)))
    """
    with pytest.raises(CallbackFailure, match="call stack exhausted"):
        load(body).http_stream().send_request_headers()


def test_not_a_wasm_file_at_all() -> None:
    with pytest.raises(FilterFailure, match="not a WebAssembly module: this is a native ELF binary"):
        load_filter(b"\x7fELF not wasm")


def test_a_corrupt_module_is_a_failure_not_a_crash() -> None:
    data = wat_filter(HELPERS)
    with pytest.raises(FilterFailure, match=r"not a valid WebAssembly module|malformed"):
        load_filter(data[: len(data) // 2])


def test_the_cli_reports_a_trap_in_one_line_plus_backtrace(tmp_path: Path) -> None:
    module = tmp_path / "trap.wasm"
    module.write_bytes(wat_filter(TRAP))
    result = run_cli("run", str(module))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: proxy_on_request_headers (context 2) trapped")
    assert "wasm backtrace:" in result.stderr
    assert "request (" not in result.stdout


def test_the_cli_never_hangs_on_an_endless_loop(tmp_path: Path) -> None:
    module = tmp_path / "loop.wasm"
    module.write_bytes(wat_filter(
        '(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) '
        '(loop $l (br $l)) (i32.const 0))'))
    result = run_cli("run", str(module), "--budget", "5000000", "--json", timeout=60)
    assert result.returncode == 1
    import json

    report = json.loads(result.stdout)
    assert report["error"]["reason"] == "budget"
    assert report["request"]["action"] == "continue"
    assert "ran out of its budget" in result.stderr
